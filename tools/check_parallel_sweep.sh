#!/usr/bin/env bash
# A sweep split over "hosts" with GNU parallel gives the same results as the sweep on one
# machine: what docs/distributed.md promises. The same small sweep runs twice: once as one
# `floe sweep --out single.jsonl`, once as three shards, each a tools/sweep_shard.sh started by
# `parallel --sshlogin 3/:` (":" is this machine: parallel runs the jobs here, without ssh, as
# it would on a host of the list) and writing its own JSON Lines and JUnit files. Then:
#   - every (scenario, seed) of the sweep is in exactly one shard file;
#   - `floe sweep --summary shards/*.jsonl --no-times` is identical (diff) to the summary of
#     single.jsonl, but for its first line, which names the files read (--no-times leaves out
#     the wall-clock figures, the only other part that may differ);
#   - the worst shard's exit code is the one-machine sweep's (1 when a seed failed);
#   - each shard wrote a JUnit file with one testcase per run.
#
# Usage: tools/check_parallel_sweep.sh   (FLOE=path overrides build/tools/floe)
# Exit:  0 all holds, 1 it does not, 77 skipped: GNU parallel is missing and cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
floe=${FLOE:-build/tools/floe}
[[ $floe == /* ]] || floe=$repo/$floe
export FLOE=$floe
# lagging-node-recovery fails some seeds (finding F3, a race Walrus's own test loses), so the
# failure sections of the summaries and the exit codes are compared too.
scenarios=(long-node-recovery checkpoint-resume lagging-node-recovery)
seeds=1..6
shards=3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: check_parallel_sweep: $*"
  exit 1
}

# GNU parallel: installed when missing and root on Debian (as CI runs); otherwise a skip.
if ! command -v parallel >/dev/null 2>&1; then
  if ((EUID != 0)) || ! command -v apt-get >/dev/null 2>&1; then
    echo "SKIP: check_parallel_sweep: GNU parallel is not installed (and cannot apt-get install it)"
    exit 77
  fi
  if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends parallel ||
    { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends parallel; }; } \
    >"$tmp/apt.log" 2>&1; then
    echo "SKIP: check_parallel_sweep: no GNU parallel, and 'apt-get install parallel' failed:" \
      "$(tail -n 1 "$tmp/apt.log")"
    exit 77
  fi
fi
# GNU parallel asks once per user to be cited; --will-cite and this file keep it quiet.
{ mkdir -p "$HOME/.parallel" && touch "$HOME/.parallel/will-cite"; } 2>/dev/null || true

for option in --no-times --junit; do
  "$floe" sweep --help | grep -q -- "$option" || fail "$floe sweep --help shows no $option"
done

# (a) One machine.
single_exit=0
"$floe" sweep "${scenarios[@]}" --seeds "$seeds" --jobs 2 --out "$tmp/single.jsonl" \
  >"$tmp/single.log" 2>&1 || single_exit=$?
((single_exit <= 1)) || fail "floe sweep on one machine exited $single_exit: $(tail -1 "$tmp/single.log")"

# (b) Three shards over three "hosts", one seed at a time each (the machine has 2 cores).
mkdir "$tmp/shards"
mapfile -t indices < <(seq 0 $((shards - 1)))
status=0
parallel --will-cite --sshlogin "$shards/:" --joblog "$tmp/joblog" \
  "$repo/tools/sweep_shard.sh" --index '{}' --count "$shards" --out-dir "$tmp/shards" -- \
  "${scenarios[@]}" --seeds "$seeds" --jobs 1 \
  ::: "${indices[@]}" >"$tmp/parallel.log" 2>&1 || status=$?
# parallel's own exit code is the number of failed jobs; a shard with a failed seed exits 1,
# which is the sweep's verdict and not this check's concern (the summaries are compared).
jobs_done=$(awk 'NR > 1' "$tmp/joblog" | wc -l)
bad_jobs=$(awk 'NR > 1 && $7 != 0 && $7 != 1' "$tmp/joblog" | wc -l)
if ((jobs_done != shards || bad_jobs > 0)); then
  cat "$tmp/joblog" "$tmp/parallel.log"
  fail "parallel ran $jobs_done of $shards shards, $bad_jobs exited neither 0 nor 1 (parallel: $status)"
fi
for ((k = 1; k <= shards; k++)); do
  [[ -f $tmp/shards/shard-$k-of-$shards.jsonl ]] || fail "no shard-$k-of-$shards.jsonl"
done
# The verdict: some shard exits 1 exactly when the one-machine sweep does.
shards_exit=$(awk 'NR > 1 && $7 > worst { worst = $7 } END { print worst + 0 }' "$tmp/joblog")
((shards_exit == single_exit)) ||
  fail "the one-machine sweep exited $single_exit, the worst shard $shards_exit"

# Every (scenario, seed) in exactly one shard file, and the same set as the single sweep.
# partition_check SINGLE SHARD...: prints "RUNS FAILED" of the single sweep when all holds.
partition_check() {
  python3 - "$@" <<'EOF'
import json
import sys

def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]

def runs(path):
    return [(r["scenario"], r["seed"]) for r in records(path)]

single = runs(sys.argv[1])
failed = sum(1 for r in records(sys.argv[1]) if r.get("outcome") != "pass")
where = {}
for path in sys.argv[2:]:
    for run in runs(path):
        where.setdefault(run, []).append(path.rsplit("/", 1)[-1])
problems = [f"{s} seed {n} in {len(files)} shard files ({', '.join(files)})"
            for (s, n), files in sorted(where.items()) if len(files) != 1]
if len(set(single)) != len(single):
    problems.append("single.jsonl records a run twice")
if set(where) != set(single):
    problems.append(f"{len(set(single) - set(where))} runs of the single sweep in no shard, "
                    f"{len(set(where) - set(single))} shard runs not in the single sweep")
for problem in problems:
    print(f"FAIL: check_parallel_sweep: {problem}")
if problems:
    sys.exit(1)
print(len(single), failed)
EOF
}
counts=$(partition_check "$tmp/single.jsonl" "$tmp/shards"/*.jsonl) || { echo "$counts"; exit 1; }
read -r runs failed <<<"$counts"

# Each shard's JUnit report: well-formed, one testcase per run of its JSON Lines.
for ((k = 1; k <= shards; k++)); do
  name=$tmp/shards/shard-$k-of-$shards
  python3 - "$name.xml" "$name.jsonl" <<'EOF' || fail "shard $k's JUnit report: see above"
import sys
import xml.etree.ElementTree as ET

cases = len(ET.parse(sys.argv[1]).getroot().findall(".//testcase"))
with open(sys.argv[2]) as f:
    records = sum(1 for line in f if line.strip())
if cases != records:
    print(f"FAIL: check_parallel_sweep: {sys.argv[1]} has {cases} testcases, {sys.argv[2]} {records} runs")
    sys.exit(1)
EOF
done

# The merged summary and the single one, wall-clock figures left out: identical.
summary() {  # summary OUT FILES...: floe sweep --summary --no-times into OUT; sets summary_status
  local out=$1
  shift
  summary_status=0
  "$floe" sweep --summary "$@" --no-times >"$out" 2>&1 || summary_status=$?
  # 0 and 1 are verdicts (all passed, some failed); anything else is an error.
  ((summary_status <= 1)) || fail "floe sweep --summary $* exited $summary_status: $(tail -1 "$out")"
}
summary "$tmp/single.txt" "$tmp/single.jsonl"
single_status=$summary_status
summary "$tmp/merged.txt" "$tmp/shards"/*.jsonl
merged_status=$summary_status
# The summary names the files it read; only that line may differ.
if ! diff -u -I '^sweep summary:' "$tmp/single.txt" "$tmp/merged.txt" >"$tmp/diff"; then
  head -40 "$tmp/diff"
  fail "the merged summary of $shards shards differs from the one-machine summary"
fi
((single_status == merged_status)) ||
  fail "summary exit codes differ: one machine $single_status, merged $merged_status"

echo "check_parallel_sweep: ok: ${scenarios[*]} seeds $seeds, $runs runs ($failed failed):" \
  "$shards shards via parallel --sshlogin $shards/: each ran its own runs once, the merged" \
  "summary equals the one-machine summary (--no-times), same verdict (exit $single_exit), JUnit per shard"
