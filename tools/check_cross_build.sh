#!/usr/bin/env bash
# The same seeds must give the same trace hashes in the gcc -O2 build and the clang -O0
# ASan+UBSan build (determinism across compilers, optimisation levels and sanitizers): the
# kernel demo; the Walrus cluster with its RocksDB databases under random crashes, and a node
# recovery with a crash and a resume from its checkpoint; scenarios on the simulated disk with
# power losses, torn writes and failed renames (issue 16); and the schedule strategies pct and
# starve.
set -euo pipefail
cd "$(dirname "$0")/.."
hashes() {  # BINARY ARGS...: "seed outcome hash" per seed row
  local binary=$1
  shift
  # (mawk has no {16} intervals: a hash is a 16-character hex word; "none" if a row has none)
  "$binary" "$@" | awk '$1 ~ /^[0-9]+$/ && $2 != "seeds:" {
    hash = "none"
    for (i = 3; i <= NF; i++) if (length($i) == 16 && $i ~ /^[0-9a-f]+$/) hash = $i
    print $1, $2, hash
  }'
}
status=0
for command in "demo --seeds 1..4 --seconds 20"; do
  # shellcheck disable=SC2086
  gcc_o2=$(hashes build/tools/floe $command)
  # shellcheck disable=SC2086
  clang_asan=$(hashes build-asan/tools/floe $command)
  echo "floe $command"
  echo "  gcc -O2:              $(tr '\n' ' ' <<<"$gcc_o2")"
  echo "  clang -O0 ASan+UBSan: $(tr '\n' ' ' <<<"$clang_asan")"
  if [[ -z $gcc_o2 || $gcc_o2 == *none* || $gcc_o2 != "$clang_asan" ]]; then
    echo "  MISMATCH (or a row without a trace hash)"
    status=1
  fi
done
run_hash() {  # BINARY ARGS...: the run's trace hash
  local binary=$1
  shift
  "$binary" run "$@" | awk '$1 == "trace" && $2 == "hash" { print $3 }'
}
for scenario in "random-crashes --seed 1 --set epochs=2" "random-crashes --seed 2 --set epochs=2" \
  "checkpoint-resume --seed 1" \
  "power-loss-during-recovery --seed 3" "fsync-and-rename-failures --seed 4" \
  "swarm --seed 5" "swarm --seed 5 --sched pct:3" "joins-committee --seed 2 --sched starve"; do
  # shellcheck disable=SC2086
  gcc_o2=$(run_hash build/tools/floe $scenario)
  # shellcheck disable=SC2086
  clang_asan=$(run_hash build-asan/tools/floe $scenario)
  echo "floe run $scenario"
  echo "  gcc -O2: $gcc_o2  clang -O0 ASan+UBSan: $clang_asan"
  if [[ -z $gcc_o2 || $gcc_o2 != "$clang_asan" ]]; then
    echo "  MISMATCH"
    status=1
  fi
done
exit $status
