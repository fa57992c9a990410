#!/usr/bin/env bash
# Bad user input gets a clear one-line error and a non-zero exit, never a crash; a good run
# reproduces exactly.
set -uo pipefail
cd "$(dirname "$0")/.."
floe=build/tools/floe
status=0

expect_error() {  # expect_error PATTERN ARGS...: non-zero exit (not a signal), one line matching
  local pattern=$1
  shift
  local err code
  err=$("$floe" "$@" 2>&1 >/dev/null)
  code=$?
  if ((code == 0 || code >= 128)); then
    echo "FAIL: floe $* exited with $code"; status=1; return
  fi
  if [[ $(wc -l <<<"$err") -ne 1 ]] || ! grep -qE -- "$pattern" <<<"$err"; then
    echo "FAIL: floe $* printed: $err"; status=1; return
  fi
  echo "ok: floe $* -> $err"
}

expect_error "bad seed range '5\.\.1'" demo --seeds 5..1
expect_error "bad seed range 'abc'" demo --seeds abc
expect_error "bad seed range '-3'" demo --seed -3
expect_error "cannot write trace file '/nonexistent-dir/t.log'" demo --seed 1 --trace /nonexistent-dir/t.log
expect_error "--trace needs a single seed" demo --seeds 1..2 --trace /tmp/t.log
expect_error "hosts must be between 2 and 1000" demo --hosts 1
expect_error "subcommand|nosuch" nosuch
expect_error "epochs must be between 1 and 1000" cluster --epochs 0
expect_error "bad seed range '3\.\.1'" cluster --seeds 3..1
expect_error "cannot write trace file" cluster --seed 1 --trace /nonexistent-dir/c.log
expect_error "--seconds" demo --seconds 0

first=$("$floe" demo --seed 9 --seconds 5 | grep -E '^ +9 ')
second=$("$floe" demo --seed 9 --seconds 5 | grep -E '^ +9 ')
strip_wall() { awk '{ $(NF-1) = ""; print }' <<<"$1"; }
if [[ -z $first || $(strip_wall "$first") != $(strip_wall "$second") ]]; then
  echo "FAIL: two runs of seed 9 differ:"; echo "$first"; echo "$second"; status=1
else
  echo "ok: seed 9 reproduces: $first"
fi
exit $status
