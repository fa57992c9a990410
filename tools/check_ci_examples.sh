#!/usr/bin/env bash
# Every command the example pipelines and the distributed-sweep docs run exists. Those files are
# copied and run elsewhere (GitHub, GitLab, a cluster) and never by this repository's CI, so a
# renamed script or a dropped option would only show on someone else's machine. Read are
# docs/ci/*.yml, docs/distributed/* (whole files, comments included) and docs/distributed.md
# (its code blocks and `inline code`). In them:
#   - each tools/NAME.sh must exist and be executable;
#   - each `floe SUB [SUB2] --option` (the word `floe`, or a path ending in tools/floe, followed
#     by a lowercase word) must name a floe subcommand (`floe SUB --help` exits 0) and only
#     options that its --help lists;
#   - each tools/sweep_shard.sh use may only give options its --help lists before `--`, and
#     after `--` only options of `floe sweep`.
# A command ends at |, ||, &&, ;, :::, a # comment or the end of the line (a line ending in \
# goes on). YAML flow lists (["a", "b"]) are read as the words they hold. So in these files,
# "floe WORD" is read as a command: write "floe's" or rephrase in prose comments.
#
# Usage: tools/check_ci_examples.sh [--self-test] [FILE...]
#        (FLOE=path overrides build/tools/floe; FILEs replace the default set)
#   --self-test  feeds the check made-up files (an unknown option, subcommand, script, and a
#                good file) and expects it to fail on each bad one and pass the good one.
# Exit:  0 all exist, 1 something does not (each printed), 2 usage.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
floe=${FLOE:-build/tools/floe}
[[ $floe == /* ]] || floe=$repo/$floe

# check ROOT FILE...: the check itself; ROOT is where tools/*.sh paths are looked up.
check() {
  FLOE_BIN=$floe python3 - "$@" <<'EOF'
import os
import re
import subprocess
import sys

root, files = sys.argv[1], sys.argv[2:]
floe = os.environ["FLOE_BIN"]
errors = []
counts = {"scripts": 0, "floe": 0, "options": 0}
STOP = {"|", "||", "&&", ";", ":::", "::::", "&", "(", ")", "{", "}", "then", "do"}
OPTION = re.compile(r"--[A-Za-z][A-Za-z0-9-]*")
help_cache = {}


def run_help(argv):
    key = tuple(argv)
    if key not in help_cache:
        try:
            p = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
            help_cache[key] = (p.returncode, p.stdout + p.stderr)
        except OSError as e:
            help_cache[key] = (127, str(e))
    return help_cache[key]


def listed(option, help_text):
    return re.search(r"(?<![A-Za-z0-9-])" + re.escape(option) + r"(?![A-Za-z0-9-])", help_text)


def subcommands(help_text):
    names, inside = set(), False
    for line in help_text.splitlines():
        if line.strip().lower().startswith("subcommands:"):
            inside = True
        elif inside and re.match(r"^\s+[a-z][a-z0-9-]*(\s|$)", line):
            names.add(line.split()[0])
        elif inside and line.strip():
            inside = False
    return names


def option_name(word):
    m = OPTION.fullmatch(word.split("=", 1)[0])
    return m.group(0) if m else None


def snippets(path, text):
    """The parts of a file that are commands: a whole YAML/shell/Containerfile; in Markdown the
    fenced code blocks and the `inline code` outside them."""
    if not path.endswith(".md"):
        return [text]
    parts, prose, block, fence = [], [], None, None
    for line in text.splitlines():
        m = re.match(r"^\s*(```+|~~~+)", line)
        if block is None and m:
            block, fence = [], m.group(1)
        elif block is not None and line.strip().startswith(fence):
            parts.append("\n".join(block))
            block = None
        elif block is not None:
            block.append(line)
        else:
            prose.append(line)
    parts += re.findall(r"`([^`\n]+)`", "\n".join(prose))
    return parts


def words(line):
    # YAML flow lists and quotes: keep the words. A # starting a word starts a comment: the
    # comment is prose, but its commands are read too (they are what readers copy).
    line = re.sub(r"""(?<![A-Za-z])['"]|['"](?![A-Za-z])|[\[\],]""", " ", line)
    line = line.replace("${{", " ").replace("}}", " ")
    out = []
    for w in line.split():
        if w.startswith("#"):
            out.append("#")
            if len(w) > 1:
                out.append(w[1:])
        elif w.endswith(";") and w != ";":
            out += [w[:-1], ";"]
        else:
            out.append(w)
    return out


def check_floe(where, argv):
    """argv: the words after `floe`, up to the end of the command."""
    counts["floe"] += 1
    sub, rest = [argv[0]], argv[1:]
    # floe WORD --help exits 0 for any WORD (CLI11 prints the top-level help), so WORD must also
    # be listed among floe's subcommands.
    top_code, top = run_help([floe])
    if top_code != 0 or not subcommands(top):
        errors.append(f"{where}: floe --help exited {top_code} or lists no subcommands")
        return
    code, text = run_help([floe] + sub)
    if sub[0] not in subcommands(top) or code != 0:
        errors.append(f"{where}: `floe {sub[0]}` is not a floe subcommand (floe --help lists "
                      f"{', '.join(sorted(subcommands(top)))})")
        return
    # A nested subcommand (floe bench scenarios ...).
    while rest and rest[0] in subcommands(text):
        sub.append(rest.pop(0))
        code, text = run_help([floe] + sub)
        if code != 0:
            errors.append(f"{where}: floe {' '.join(sub)} --help exited {code}")
            return
    for w in rest:
        name = option_name(w)
        if name:
            counts["options"] += 1
            if not listed(name, text):
                errors.append(f"{where}: floe {' '.join(sub)} has no option {name} "
                              f"(not in its --help)")


def check_worker(where, script, argv):
    """tools/sweep_shard.sh [its options] -- floe sweep's arguments."""
    code, text = run_help([script])
    if code != 0:
        errors.append(f"{where}: {script} --help exited {code}")
        return
    if "--" in argv:
        own, sweep = argv[: argv.index("--")], argv[argv.index("--") + 1:]
    else:
        own, sweep = argv, []
    for w in own:
        name = option_name(w)
        if name:
            counts["options"] += 1
            if not listed(name, text):
                errors.append(f"{where}: tools/sweep_shard.sh has no option {name}")
    if sweep:
        check_floe(where, ["sweep"] + sweep)


for path in files:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        errors.append(f"{path}: cannot read: {e.strerror}")
        continue
    for part in snippets(path, text):
        part = re.sub(r"\\\n", " ", part)  # continuation lines
        for n, line in enumerate(part.splitlines(), 1):
            where = f"{path}: {line.strip()[:70]}"
            for script in re.findall(r"(?<![A-Za-z0-9_.-])tools/[A-Za-z0-9_.-]+\.sh\b", line):
                counts["scripts"] += 1
                full = os.path.join(root, script)
                if not os.path.isfile(full):
                    errors.append(f"{where}: {script} does not exist")
                elif not os.access(full, os.X_OK):
                    errors.append(f"{where}: {script} is not executable")
            ws = words(line)
            for i, w in enumerate(ws):
                end = next((j for j in range(i + 1, len(ws)) if ws[j] in STOP or ws[j] == "#"),
                           len(ws))
                if (w == "floe" or w.endswith("tools/floe")) and i + 1 < len(ws) and \
                        re.fullmatch(r"[a-z][a-z0-9-]*", ws[i + 1]):
                    check_floe(where, ws[i + 1:end])
                elif re.search(r"(^|/)tools/sweep_shard\.sh$", w):
                    full = os.path.join(root, "tools/sweep_shard.sh")
                    if os.access(full, os.X_OK):
                        check_worker(where, full, ws[i + 1:end])

for e in errors:
    print(f"FAIL: {e}")
summary = (f"{len(files)} files, {counts['scripts']} script paths, {counts['floe']} floe "
           f"commands, {counts['options']} options")
if errors:
    print(f"check_ci_examples: {len(errors)} problems in {summary}")
    sys.exit(1)
print(f"check_ci_examples: ok: {summary} checked")
EOF
}

if [[ ${1:-} == --self-test ]]; then
  shift
  (($# == 0)) || { echo "usage: $0 [--self-test] [FILE...]" >&2; exit 2; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # A root of its own: a script that is not executable must be one of its tools/.
  mkdir -p "$tmp/root/tools"
  cp tools/sweep_shard.sh tools/test.sh "$tmp/root/tools/"
  echo '# not executable' >"$tmp/root/tools/not_executable.sh"
  status=0
  expect() {  # expect pass|fail NAME CONTENT [PATTERN]: the check on one made-up file
    local want=$1 name=$2 content=$3 pattern=${4:-}
    local out code=0
    printf '%s\n' "$content" >"$tmp/$name"
    out=$(check "$tmp/root" "$tmp/$name" 2>&1) || code=$?
    if [[ $want == pass && $code -ne 0 ]] || [[ $want == fail && $code -ne 1 ]]; then
      echo "FAIL self-test: $name: expected to $want, exit $code:"
      echo "    ${out//$'\n'/$'\n'    }"
      status=1
    elif [[ -n $pattern ]] && ! grep -qE -- "$pattern" <<<"$out"; then
      echo "FAIL self-test: $name: the output does not name '$pattern':"
      echo "    ${out//$'\n'/$'\n'    }"
      status=1
    else
      echo "ok: $name ($want): $(tail -1 <<<"$out")"
    fi
  }
  expect pass good.yml 'steps:
  - run: build/tools/floe sweep --all --seeds 1..2 --jobs 2 && tools/test.sh
  - run: tools/sweep_shard.sh --index 0 --count 2 --out-dir r -- long-node-recovery --seeds 1..4
  - run: parallel -N0 --workdir /srv/floe --return r/x tools/sweep_shard.sh --count 2 --out-dir r -- --all ::: 1 2
  - run: build/tools/floe bench scenarios --seeds 2 --no-trace-cost
# merge: floe sweep --summary r/*.jsonl; floe'"'"'s own --help is not read as a command'
  expect fail option.yml '  - run: build/tools/floe sweep --no-such-option' '--no-such-option'
  expect fail subcommand.yml 'script:
  - floe no-such-subcommand --seeds 1..2' 'no-such-subcommand'
  expect fail nested.yml '  - run: build/tools/floe bench scenarios --no-such-bench-option' \
    'no-such-bench-option'
  # shellcheck disable=SC2016 # the backquotes are the check's own
  expect fail prose_in_comment.yml '# An image with floe built in it' '`floe built` is not'
  expect fail script.yml '  - run: tools/no_such_script.sh --fast' 'no_such_script.sh does not exist'
  expect fail not_executable.sh 'tools/not_executable.sh' 'not executable'
  expect fail worker_option.yaml 'command: ["tools/sweep_shard.sh", "--count", "2", "--out-dir", "/r", "--", "--all", "--no-such-sweep-option"]' \
    'no-such-sweep-option'
  expect fail worker_own_option.sh 'exec tools/sweep_shard.sh --counts 16 --out-dir results -- \
  --all --seeds 1..2' '--counts'
  expect fail continued.md 'Merge:

```sh
build/tools/floe sweep --summary results/*.jsonl \
    --no-such-option
```'  '--no-such-option'
  # shellcheck disable=SC2016 # the backquotes are Markdown's
  expect fail inline.md 'Run `floe sweep --all --seeds 1..9 --no-such-inline-option` by hand.' \
    'no-such-inline-option'
  expect pass prose.md 'In prose, floe runs whatever it likes: only code is read.'
  if ((status != 0)); then
    echo "check_ci_examples self-test: FAILED"
    exit 1
  fi
  echo "check_ci_examples self-test: ok: every made-up command or option failed the check"
  exit 0
fi

if (($# > 0)); then
  files=("$@")
else
  shopt -s nullglob
  files=(docs/ci/*.yml docs/distributed/* docs/distributed.md)
  shopt -u nullglob
fi
check "$repo" "${files[@]}"
