#!/usr/bin/env bash
# tools/check_junit.sh FILE [EXPECTED_TESTS EXPECTED_FAILURES]
#
# A JUnit report as a CI reads it: valid against the Jenkins xunit plugin's junit-10.xsd
# (tests/tools/junit.xsd), and with counts that agree with its elements: each testsuite's tests and
# failures equal its <testcase> and <failure> children, the root's totals their sums. A report
# whose counts lie shows CI a green run with red cases in it. With EXPECTED_* the totals must also
# be those. Prints "junit ok: FILE: N testcases in M suites, F failures", or one line and exit 1.
set -euo pipefail

fail() {
    echo "check_junit: $*" >&2
    exit 1
}

if [[ $# -ne 1 && $# -ne 3 ]]; then
    fail "usage: tools/check_junit.sh FILE [EXPECTED_TESTS EXPECTED_FAILURES]"
fi
file=$1
for expected in "${@:2}"; do
    [[ $expected =~ ^[0-9]+$ ]] || fail "expected counts are numbers, not '$expected'"
done
schema="$(dirname "$0")/../tests/tools/junit.xsd"
[[ -r $file ]] || fail "$file: cannot read"
[[ -r $schema ]] || fail "$schema: cannot read the schema"
command -v xmllint >/dev/null || fail "xmllint not found (Debian: libxml2-utils)"

# xmllint prints each error on its own lines; the first one says what is wrong.
if ! errors=$(xmllint --noout --schema "$schema" "$file" 2>&1); then
    fail "$file does not validate against junit.xsd: $(head -n 1 <<<"$errors")"
fi

python3 - "$file" "${2:-}" "${3:-}" <<'PY'
import sys
import xml.etree.ElementTree as ET

path, want_tests, want_failures = sys.argv[1:4]

def fail(message):
    print(f"check_junit: {path}: {message}", file=sys.stderr)
    sys.exit(1)

def count_attr(element, name):
    value = element.get(name)
    if value is None or not value.isdigit():
        fail(f"<{element.tag} name={element.get('name')!r}> has {name}={value!r}, not a count")
    return int(value)

root = ET.parse(path).getroot()
if root.tag != "testsuites":
    fail(f"the root is <{root.tag}>, not <testsuites>")
suites = root.findall("testsuite")
total_tests = total_failures = 0
for suite in suites:
    cases = suite.findall("testcase")
    failures = sum(len(case.findall("failure")) for case in cases)
    for attr, actual in (("tests", len(cases)), ("failures", failures)):
        if count_attr(suite, attr) != actual:
            fail(f"testsuite {suite.get('name')!r} says {attr}={suite.get(attr)}, "
                 f"its children say {actual}")
    total_tests += len(cases)
    total_failures += failures
for attr, actual in (("tests", total_tests), ("failures", total_failures)):
    if count_attr(root, attr) != actual:
        fail(f"<testsuites> says {attr}={root.get(attr)}, its suites sum to {actual}")
for attr, want, actual in (("testcases", want_tests, total_tests),
                           ("failures", want_failures, total_failures)):
    if want != "" and int(want) != actual:
        fail(f"expected {want} {attr}, found {actual}")
print(f"junit ok: {path}: {total_tests} testcases in {len(suites)} suites, "
      f"{total_failures} failures")
PY
