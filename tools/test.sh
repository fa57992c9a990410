#!/usr/bin/env bash
# README command 2: set up, build (normal and ASan+UBSan), run every test, and end with one line
# "N passed, N failed" counted from the real results.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --asan || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=()
failures=()

count() {  # count SUITE PASSED FAILED
  passed=$((passed + $2))
  failed=$((failed + $3))
  if (($3 > 0)); then failures+=("$1"); fi
  printf '  %-38s %5d passed, %d failed\n' "$1" "$2" "$3"
}

log_file() { echo "$log_dir/$(tr -c 'A-Za-z0-9_.-' '_' <<<"$1").log"; }

check() {  # check NAME COMMAND...: one test that passes when COMMAND exits 0
  local name=$1
  shift
  local out
  out=$(log_file "$name")
  if "$@" >"$out" 2>&1; then
    count "$name" 1 0
  else
    count "$name" 0 1
    sed 's/^/      /' "$out" | tail -20
  fi
}

check_or_skip() {  # like check, but exit code 77 is a skip, reported with its reason
  local name=$1
  shift
  local out
  out=$(log_file "$name")
  "$@" >"$out" 2>&1
  local status=$?
  if ((status == 77)); then
    skipped+=("$name: $(grep -m1 'SKIP' "$out")")
    printf '  %-38s skipped: %s\n' "$name" "$(grep -m1 'SKIP' "$out")"
  elif ((status == 0)); then
    count "$name" 1 0
  else
    count "$name" 0 1
    sed 's/^/      /' "$out" | tail -20
  fi
}

doctest_suite() {  # doctest_suite NAME BINARY [-tc=...|-tce=...] [ENV...]: each case counts
  local name=$1 binary=$2
  shift 2
  local filters=()
  while (($# > 0)) && [[ $1 == -* ]]; do
    filters+=("$1")
    shift
  done
  local out
  out=$(log_file "$name")
  env "$@" "$binary" --no-colors=true "${filters[@]}" >"$out" 2>&1
  local status=$?
  local summary
  summary=$(grep -E '^\[doctest\] test cases:' "$out" | tail -1)
  local ok bad
  ok=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$summary")
  bad=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$summary")
  if [[ -z $summary ]]; then ok=0; bad=1; fi          # crashed before its summary
  if ((status != 0 && bad == 0)); then bad=1; fi      # e.g. a sanitizer report at exit
  count "$name" "$ok" "$bad"
  if ((bad > 0)); then tail -40 "$out" | sed 's/^/      /'; fi
}

unittest_suite() {  # unittest_suite NAME SCRIPT: python unittest, each test counts
  local name=$1 script=$2
  local out
  out=$(log_file "$name")
  python3 "$script" >"$out" 2>&1
  local status=$?
  local total bad
  total=$(grep -oE '^Ran [0-9]+ test' "$out" | grep -oE '[0-9]+' || echo 0)
  bad=0
  for n in $(grep -oE '(failures|errors)=[0-9]+' "$out" | grep -oE '[0-9]+'); do
    bad=$((bad + n))
  done
  if ((status != 0 && bad == 0)); then bad=1; fi
  count "$name" $((total - bad)) "$bad"
  if ((bad > 0)); then tail -30 "$out" | sed 's/^/      /'; fi
}

gate_suite() {  # gate_suite NAME: floe gate; each line of tools/gate.txt counts
  local name=$1
  local out
  out=$(log_file "$name")
  build/tools/floe gate --junit "$junit_dir/gate.xml" >"$out" 2>&1
  local status=$?
  local ok bad
  ok=$(grep -cE '^  ok  ' "$out")
  bad=$(grep -cE '^  FAIL' "$out")
  if ((status != 0 && bad == 0)); then bad=1; fi
  count "$name" "$ok" "$bad"
  if ((bad > 0)); then grep -vE '^  ok  ' "$out" | tail -40 | sed 's/^/      /'; fi
}

log_dir=$(mktemp -d)
# JUnit XML reports for a CI to publish (docs/ci/): the gate's, and the main job's sweep.
junit_dir=build/junit
mkdir -p "$junit_dir"
rm -f "$junit_dir"/*.xml  # never publish an earlier run's report
echo "floe tests (logs in $log_dir, JUnit reports in $junit_dir)"

doctest_suite "kernel (gcc -O2)" build/tests/kernel_tests
doctest_suite "kernel (clang -O0, ASan+UBSan)" build-asan/tests/kernel_tests \
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
doctest_suite "walrus model (gcc -O2)" build/tests/node/node_tests
# Under ASan at -O0 a node-recovery case (a scenario run of several epochs) takes minutes and gigabytes, so
# the recovery cases, the scenario runs and the sweeps run in the gcc build only; check_cross_build.sh runs one
# recovery with a crash and a resume from its checkpoint in the ASan build.
doctest_suite "walrus model (clang -O0, ASan+UBSan)" build-asan/tests/node/node_tests \
  -tce="*sweep*,node recovery*,old behaviour*,scenarios: one seed*,scenario *,buggify: a run*,fault schedule: the swarm*,fault schedule: a scripted*,site catalog: a run*,scenarios: a schedule strategy*,buggify: finds*" \
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
doctest_suite "sweep runner and trace diff (gcc -O2)" build/tests/tools/tools_tests
doctest_suite "html report and Perfetto JSON (gcc -O2)" build/tests/report/report_tests
check "kernel under valgrind memcheck" \
  valgrind --error-exitcode=1 -q build/tests/kernel_tests --no-colors=true \
  -tce="*many fibers*,*loss drops*,*unguarded slab stack*"
unittest_suite "determinism lint self-test" tools/lint_determinism_test.py
check "determinism lint on sim/ node/ scenarios/" python3 tools/lint_determinism.py
check "clang-format clean" tools/check_format.sh
check "layering rules" tools/check_layering.sh
check "layering self-test" tools/check_layering.sh --self-test
check "site catalog: node/sites.def against node/" python3 tools/check_catalog.py
check "site catalog self-test" python3 tools/check_catalog.py --self-test
# The bench's per-seed cost and the verdict on its target (the figures themselves are not tested:
# they depend on the machine).
check "bench: a simtest seed's cost, the target and the RocksDB floor" bash -c \
  "out=\$(build/tools/floe bench scenarios long-node-recovery --seeds 1 --no-trace-cost) && grep -qE \
  'seed cost of the simtests: worst [0-9.]+ M raw-loop events \(long-node-recovery\), target <= 1.0 M: (met|NOT met)' \
  <<<\"\$out\" && grep -qE '^  long-node-recovery +1/1 .* [0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9.]+x' <<<\"\$out\" \
  && grep -qE 'RocksDB floor of the simtests .*: highest [0-9.]+ M raw-loop events \(long-node-recovery\), (below|ABOVE) the target' \
  <<<\"\$out\" && grep -qE '^seed cost / RocksDB floor of the simtests: highest [0-9]+\.[0-9]{2}x \(long-node-recovery\)$' \
  <<<\"\$out\""
# shard-sync-fails fails an assertion on every seed as Walrus is (FINDINGS F5): the bench must
# report it and go on to the next scenario, not die with it.
check "bench: a seed that fails an assertion is reported, the bench goes on" bash -c \
  "out=\$(build/tools/floe bench scenarios shard-sync-fails long-node-recovery --seeds 1 \
  --no-trace-cost 2>/dev/null) && grep -q 'shard-sync-fails seed 1: floe: assertion failed' <<<\"\$out\" \
  && grep -qE '^  long-node-recovery +1/1' <<<\"\$out\" \
  && grep -qE 'seed cost of the simtests: worst [0-9.]+ M raw-loop events \\(long-node-recovery\\)' \
  <<<\"\$out\""
check "bench: mainnet-shape grown a little, fitted, the full shape measured" bash -c \
  "out=\$(build/tools/floe bench scale --base-nodes 5 --base-shards 13 --base-blobs 20 \
  --max-nodes 7 --max-shards 20 --max-blobs 40 --points 2) && grep -qE \
  '^  blobs +wall ~ blobs\^-?[0-9.]+, memory ~ blobs\^-?[0-9.]+, -?[0-9.]+ MiB per blob' \
  <<<\"\$out\" && grep -qE '^measured at 40 blobs: [0-9]+ s wall, [0-9]+ MiB peak' <<<\"\$out\" \
  && grep -qE '^RocksDB floor at 40 blobs \(.*\): [0-9.]+ s of CPU, [0-9]+ % of the run' <<<\"\$out\" \
  && grep -q 'target: no verdict, the full shape is not mainnet' <<<\"\$out\""
check "same trace hashes: gcc -O2 vs clang ASan" tools/check_cross_build.sh
check "main job: floe sweep random-crashes on 2 seeds" build/tools/floe sweep random-crashes --seeds 1..2 --set epochs=3 \
  --junit "$junit_dir/sweep-random-crashes.xml"
check "junit: the sweep's report is valid JUnit" tools/check_junit.sh "$junit_dir/sweep-random-crashes.xml" 2 0
check "hunt, failure groups and promote" tools/check_hunt.sh
# Sweeps on many machines (docs/distributed.md): GNU parallel's shards merge to the one-machine
# summary; every engine's shard index covers each run once; the CI examples run real commands.
check_or_skip "distributed: GNU parallel shards = one machine" tools/check_parallel_sweep.sh
check "distributed: shard index per engine" tools/check_shard_env.sh
check "distributed: CI examples' commands exist" tools/check_ci_examples.sh
check "distributed: CI examples check self-test" tools/check_ci_examples.sh --self-test
# The regression gate: every scenario on 100 seeds, the negative scenarios, determinism.
gate_suite "floe gate (tools/gate.txt)"
check "junit: the gate's report is valid JUnit" tools/check_junit.sh "$junit_dir/gate.xml"
check "cli: bad input is a one-line error" tools/check_cli_errors.sh
# The HTML report opened in headless Chromium (Debian's package; installed by the check when
# missing, skipped with the reason if it cannot be).
check_or_skip "html report renders in Chromium" tools/check_html_report.sh build

echo
if ((failed > 0)); then echo "failed: ${failures[*]}"; fi
for skip in "${skipped[@]}"; do echo "skipped (not counted as passed): $skip"; done
echo "$passed passed, $failed failed"
((failed == 0))
