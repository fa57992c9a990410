#!/usr/bin/env python3
"""The catalog of fail points and probes (node/sites.def) against the model's code.

Checks, over node/:
  1. no string literal at a site call (fail_point, fail_point_async, fail_point_arg, injected,
     probe, FLOE_REACHABLE, FLOE_SOMETIMES): every site goes through its catalog constant;
  2. every catalog entry is used in the code (site::ID appears outside the catalog's own files);
  3. names and ids are unique;
  4. a probe is only passed to FLOE_REACHABLE / FLOE_SOMETIMES (never to a fail-point call, where
     the kernel would take it for a fail point), and those macros take only probes (also a
     static_assert).

  tools/check_catalog.py              check the tree, exit 1 with one line per violation
  tools/check_catalog.py --self-test  check that each rule catches what it should
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CATALOG_FILES = {"node/sites.def", "node/sites.h", "node/sites.cpp"}
SITE_LINE = re.compile(r'^FLOE_SITE\((\w+), "([^"]+)", (\w+), (\w+), "(.*)"\)\s*$')
LITERAL_CALL = re.compile(
    r'\b(fail_point|fail_point_async|fail_point_arg|injected|probe|FLOE_REACHABLE|FLOE_SOMETIMES)'
    r'\s*\(([^()]*?)"')
FAIL_POINT_CALL = re.compile(r'\b(?:fail_point|fail_point_async|fail_point_arg|injected)\s*\([^)]*?site::(\w+)')
PROBE_CALL = re.compile(r'\bFLOE_(?:REACHABLE|SOMETIMES)\s*\(\s*\w+\s*,\s*site::(\w+)')
USE = re.compile(r'\bsite::(\w+)')


def parse_catalog(text):
    sites, errors = {}, []
    names = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("FLOE_SITE("):
            continue
        match = SITE_LINE.match(line)
        if not match:
            errors.append(f"node/sites.def:{number}: not a FLOE_SITE(id, \"name\", kind, fits, \"what\") line")
            continue
        ident, name, kind = match.group(1), match.group(2), match.group(3)
        if ident in sites:
            errors.append(f"node/sites.def:{number}: id '{ident}' declared twice")
        if name in names:
            errors.append(f"node/sites.def:{number}: name '{name}' declared twice")
        sites[ident] = kind
        names.add(name)
    return sites, errors


def check(catalog_text, sources):
    """sources: {relative path: text}. Returns the violations, one line each."""
    sites, errors = parse_catalog(catalog_text)
    used = set()
    for path, text in sorted(sources.items()):
        if path in CATALOG_FILES:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split("//", 1)[0]
            if LITERAL_CALL.search(code):
                errors.append(f"{path}:{number}: a site named by a string literal; use its "
                              f"constant from node/sites.def")
            for ident in FAIL_POINT_CALL.findall(code):
                if sites.get(ident) == "probe":
                    errors.append(f"{path}:{number}: probe '{ident}' passed to a fail-point "
                                  f"call; use FLOE_REACHABLE or FLOE_SOMETIMES")
            for ident in PROBE_CALL.findall(code):
                if ident in sites and sites[ident] != "probe":
                    errors.append(f"{path}:{number}: fail point '{ident}' passed to a probe macro")
            for ident in USE.findall(code):
                if ident not in sites and ident not in ("Site", "Kind", "all", "find", "kind_name",
                                                       "names_where", "reachable", "sometimes"):
                    errors.append(f"{path}:{number}: site::{ident} is not in node/sites.def")
                used.add(ident)
    for ident in sites:
        if ident not in used:
            errors.append(f"node/sites.def: '{ident}' is never used in node/")
    return errors


def tree_sources():
    out = {}
    for path in sorted((ROOT / "node").rglob("*")):
        if path.suffix in (".cpp", ".h"):
            out[str(path.relative_to(ROOT))] = path.read_text()
    return out


def self_test():
    catalog = ('FLOE_SITE(a_point, "a-point", point, fit_crash, "x")\n'
               'FLOE_SITE(a_probe, "a_probe", probe, fit_none, "y")\n')
    good = {"node/x.cpp": "rt_.fail_point(site::a_point);\nFLOE_REACHABLE(rt_, site::a_probe);\n"}
    cases = {
        "clean tree": (catalog, good, 0),
        "literal at a call": (catalog, {"node/x.cpp": good["node/x.cpp"] + 'rt_.fail_point("a-point");\n'}, 1),
        "literal at injected": (catalog, {"node/x.cpp": good["node/x.cpp"] + 'injected(rt_, "a-point")\n'}, 1),
        "unused entry": (catalog + 'FLOE_SITE(b, "b", point, fit_none, "z")\n', good, 1),
        "duplicate name": (catalog + 'FLOE_SITE(b, "a-point", point, fit_none, "z")\n',
                           {"node/x.cpp": good["node/x.cpp"] + "site::b;\n"}, 1),
        "probe at a fail point": (catalog, {"node/x.cpp": good["node/x.cpp"] + "rt_.fail_point(site::a_probe);\n"}, 1),
        "fail point at a probe macro": (catalog, {"node/x.cpp": good["node/x.cpp"] + "FLOE_REACHABLE(rt_, site::a_point);\n"}, 1),
        "unknown constant": (catalog, {"node/x.cpp": good["node/x.cpp"] + "rt_.fail_point(site::nope);\n"}, 1),
        "comment is not code": (catalog, {"node/x.cpp": good["node/x.cpp"] + '// rt_.fail_point("a-point")\n'}, 0),
    }
    failed = 0
    for name, (cat, sources, expected) in cases.items():
        got = check(cat, sources)
        if len(got) != expected:
            failed += 1
            print(f"self-test '{name}': expected {expected} violation(s), got {got}")
    print(f"check_catalog self-test: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    errors = check((ROOT / "node/sites.def").read_text(), tree_sources())
    for error in errors:
        print(error)
    sites, _ = parse_catalog((ROOT / "node/sites.def").read_text())
    print(f"catalog: {len(sites)} sites, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
