#!/usr/bin/env bash
# tools/sweep_shard.sh picks its shard right under every engine. Each engine numbers its workers
# its own way (Kubernetes' JOB_COMPLETION_INDEX and Slurm's SLURM_ARRAY_TASK_ID from 0, GNU
# parallel's PARALLEL_SEQ from 1, --index from 0); an off-by-one there silently drops one shard
# and runs another twice, and the merged summary would still look complete. So, with
# `floe sweep --all --seeds 1..50 --dry-run` (which lists the runs a shard would make, one
# "SCENARIO SEED" line each, and runs nothing), for each engine's numbering and shard count N:
# the N workers together list every (scenario, seed) of the unsharded sweep exactly once, and
# worker I lists the same runs whatever engine numbered it. --index is checked for every N in
# 1..64, the engines' variables for N in {1, 2, 3, 7, 64}. Then, with a stand-in floe that
# prints its arguments: the exact floe command line and file names, the order in which the
# sources of the index win, exit codes passed through, and bad indices or counts rejected with
# a one-line error and exit 2 before floe runs.
#
# Usage: tools/check_shard_env.sh   (FLOE=path overrides build/tools/floe)
# Exit:  0 all holds, 1 something does not (each failure printed).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
worker=$repo/tools/sweep_shard.sh
floe=${FLOE:-build/tools/floe}
[[ $floe == /* ]] || floe=$repo/$floe
sweep_args=(--all --seeds 1..50)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {  # a failure, printed and counted (in a file: some checks run in background jobs)
  echo "FAIL: $*" | tee -a "$tmp/failures"
}

if ! "$floe" sweep --help 2>/dev/null | grep -q -- '--dry-run'; then
  echo "FAIL: $floe sweep --help shows no --dry-run"
  exit 1
fi

# The whole sweep, unsharded: the reference every set of shards must add up to.
"$floe" sweep "${sweep_args[@]}" --dry-run >"$tmp/all.raw" || {
  echo "FAIL: floe sweep ${sweep_args[*]} --dry-run exited $?"
  exit 1
}
if grep -qvE '^[A-Za-z0-9_.-]+ [0-9]+$' "$tmp/all.raw"; then
  echo "FAIL: floe sweep --dry-run printed a line that is not 'SCENARIO SEED':"
  grep -vE '^[A-Za-z0-9_.-]+ [0-9]+$' "$tmp/all.raw" | head -3
  exit 1
fi
sort "$tmp/all.raw" >"$tmp/all"
runs=$(wc -l <"$tmp/all")
if ((runs == 0)) || [[ -n $(uniq -d "$tmp/all") ]]; then
  echo "FAIL: the unsharded --dry-run lists no runs, or a run twice"
  exit 1
fi

# shard ENGINE N I: the runs of 0-based shard I of N, the index given as ENGINE gives it. The
# other engines' variables are removed, in case this check itself runs under one of them.
shard() {
  local engine=$1 n=$2 i=$3
  local clean=(env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID -u PARALLEL_SEQ FLOE="$floe")
  local common=(--count "$n" --out-dir "$tmp/out" -- "${sweep_args[@]}" --dry-run)
  case $engine in
    --index) "${clean[@]}" "$worker" --index "$i" "${common[@]}" ;;
    JOB_COMPLETION_INDEX) "${clean[@]}" JOB_COMPLETION_INDEX="$i" "$worker" "${common[@]}" ;;
    SLURM_ARRAY_TASK_ID) "${clean[@]}" SLURM_ARRAY_TASK_ID="$i" "$worker" "${common[@]}" ;;
    PARALLEL_SEQ) "${clean[@]}" PARALLEL_SEQ="$((i + 1))" "$worker" "${common[@]}" ;;
  esac
}

# check_partition ENGINE N: the N shards list every run exactly once; with a reference (the
# --index files of the same N), each shard lists what the same --index shard lists.
check_partition() {
  local engine=$1 n=$2 i status
  local dir=$tmp/$engine/$n
  mkdir -p "$dir"
  for ((i = 0; i < n; i++)); do
    status=0
    shard "$engine" "$n" "$i" >"$dir/$i" 2>"$dir/$i.err" || status=$?
    if ((status != 0)); then
      fail "$engine shard index $i of $n exited $status: $(head -1 "$dir/$i.err")"
      return
    fi
    if [[ $engine != --index ]] && ! cmp -s "$dir/$i" "$tmp/--index/$n/$i"; then
      fail "$engine: worker $i of $n does not list the runs of --index $i"
    fi
  done
  local union=$dir/union
  for ((i = 0; i < n; i++)); do cat "$dir/$i"; done | sort >"$union"
  if ! cmp -s "$union" "$tmp/all"; then
    local twice missing extra
    twice=$(uniq -d "$union" | wc -l)
    missing=$(comm -23 "$tmp/all" <(sort -u "$union") | wc -l)
    extra=$(comm -13 "$tmp/all" <(sort -u "$union") | wc -l)
    fail "$engine, N=$n: $twice runs in more than one shard, $missing in none, $extra not in the sweep"
  fi
}

# --index for every N, the odd N and the even N in two background jobs (the machine has 2
# cores); each leaves a mark when it got to the end.
index_loop() {  # index_loop FIRST: N = FIRST, FIRST+2, ... 64
  local n
  for ((n = $1; n <= 64; n += 2)); do check_partition --index "$n"; done
  touch "$tmp/index-loop-$1.done"
}
index_loop 1 &
index_loop 2 &
wait
for first in 1 2; do
  [[ -f $tmp/index-loop-$first.done ]] || fail "the --index loop from N=$first stopped early"
done
for engine in JOB_COMPLETION_INDEX SLURM_ARRAY_TASK_ID PARALLEL_SEQ; do
  for n in 1 2 3 7 64; do check_partition "$engine" "$n"; done
done
partitions_checked=$((64 + 3 * 5))

# The shard of a run does not depend on which scenarios or which seeds are swept with it:
# shard 3 of 7 of one scenario on seeds 20..30 is exactly those runs of shard 3 of 7 of --all
# on seeds 1..50.
scenario=$(head -1 "$tmp/all.raw" | cut -d' ' -f1)
env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID -u PARALLEL_SEQ FLOE="$floe" \
  "$worker" --index 2 --count 7 --out-dir "$tmp/out" -- "$scenario" --seeds 20..30 \
  --dry-run | sort >"$tmp/narrow" || fail "the narrow dry run of $scenario failed"
awk -v s="$scenario" '$1 == s && $2 >= 20 && $2 <= 30' "$tmp/--index/7/2" | sort >"$tmp/narrow.expected"
if ! cmp -s "$tmp/narrow" "$tmp/narrow.expected"; then
  fail "shard 3/7 of $scenario on seeds 20..30 is not the same runs as in shard 3/7 of --all on 1..50"
fi

# A stand-in floe: prints its arguments one per line into $FAKE_LOG and exits $FAKE_EXIT.
fake=$tmp/fake-floe
cat >"$fake" <<'EOF'
#!/usr/bin/env bash
printf '%s\n' "$@" >"$FAKE_LOG"
exit "${FAKE_EXIT:-0}"
EOF
chmod +x "$fake"
fake_run() {  # fake_run [VAR=VALUE...] -- WORKER-ARGS...: the worker with the stand-in floe
  local vars=()
  while [[ $1 != -- ]]; do
    vars+=("$1")
    shift
  done
  shift
  rm -f "$tmp/fake.log"
  env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID -u PARALLEL_SEQ FLOE="$fake" \
    FAKE_LOG="$tmp/fake.log" "${vars[@]}" "$worker" "$@"
}

# The exact command line, and floe's exit code passed through.
for code in 0 1 2; do
  status=0
  fake_run FAKE_EXIT=$code -- --index 4 --count 9 --out-dir "$tmp/o" -- a b --seeds 3..8 \
    2>/dev/null || status=$?
  expected=$(printf '%s\n' sweep a b --seeds 3..8 --shard 5/9 --out "$tmp/o/shard-5-of-9.jsonl" \
    --junit "$tmp/o/shard-5-of-9.xml")
  if [[ $(cat "$tmp/fake.log" 2>/dev/null) != "$expected" ]]; then
    fail "--index 4 --count 9 ran floe with: $(tr '\n' ' ' <"$tmp/fake.log" 2>/dev/null)"
  fi
  ((status == code)) || fail "floe exited $code, the worker exited $status"
done
[[ -d $tmp/o ]] || fail "the worker did not create its --out-dir"
fake_run -- --index 0 --count 2 --out-dir "$tmp/dry" -- a --seeds 1..2 --dry-run ||
  fail "a --dry-run through the stand-in exited $?"
if [[ $(tr '\n' ' ' <"$tmp/fake.log") != "sweep a --seeds 1..2 --dry-run --shard 1/2 " ]]; then
  fail "--dry-run ran floe with: $(tr '\n' ' ' <"$tmp/fake.log") (no --out or --junit expected)"
fi

# Which source of the index wins: --index, then JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID,
# PARALLEL_SEQ (1-based).
expect_shard() {  # expect_shard K/N [VAR=VALUE...] -- WORKER-ARGS...
  local want=$1
  shift
  if ! fake_run "$@" 2>/dev/null || ! grep -qx -- "$want" "$tmp/fake.log"; then
    fail "expected --shard $want from: $*"
  fi
}
all_vars=(JOB_COMPLETION_INDEX=1 SLURM_ARRAY_TASK_ID=2 PARALLEL_SEQ=4)
expect_shard 1/5 "${all_vars[@]}" -- --index 0 --count 5 --out-dir "$tmp/o" -- a
expect_shard 2/5 "${all_vars[@]}" -- --count 5 --out-dir "$tmp/o" -- a
expect_shard 3/5 SLURM_ARRAY_TASK_ID=2 PARALLEL_SEQ=4 -- --count 5 --out-dir "$tmp/o" -- a
expect_shard 4/5 PARALLEL_SEQ=4 -- --count 5 --out-dir "$tmp/o" -- a
expect_shard 5/5 PARALLEL_SEQ=5 -- --count 5 --out-dir "$tmp/o" -- a
expect_shard 10/12 -- --index 09 --count 12 --out-dir "$tmp/o" -- a # decimal, not octal
expect_shard 1/1 -- --index=0 --count=1 --out-dir="$tmp/o" -- a

# Bad input: exit 2, one line on stderr, and floe never started.
bad_cases=0
expect_usage() {  # expect_usage [VAR=VALUE...] -- WORKER-ARGS...
  local err status=0
  bad_cases=$((bad_cases + 1))
  err=$(fake_run "$@" 2>&1 >/dev/null) || status=$?
  if ((status != 2)); then
    fail "exit $status, not 2, for: $*"
  elif [[ $(wc -l <<<"$err") -ne 1 || -z $err ]]; then
    fail "not a one-line error for: $* -> $err"
  elif [[ -e $tmp/fake.log ]]; then
    fail "floe ran anyway for: $*"
  fi
}
ok=(--count 4 --out-dir "$tmp/o" -- a --seeds 1..3)
expect_usage -- "${ok[@]}"                        # no index from anywhere
expect_usage JOB_COMPLETION_INDEX=abc -- "${ok[@]}"
expect_usage JOB_COMPLETION_INDEX=4 -- "${ok[@]}"
expect_usage JOB_COMPLETION_INDEX=-1 -- "${ok[@]}"
expect_usage SLURM_ARRAY_TASK_ID=4 -- "${ok[@]}" # an --array=1-4 mistake
expect_usage SLURM_ARRAY_TASK_ID=1.5 -- "${ok[@]}"
expect_usage PARALLEL_SEQ=0 -- "${ok[@]}"
expect_usage PARALLEL_SEQ=5 -- "${ok[@]}"
expect_usage PARALLEL_SEQ=x -- "${ok[@]}"
expect_usage -- --index 4 "${ok[@]}"
expect_usage -- --index -1 "${ok[@]}"
expect_usage -- --index '' "${ok[@]}"
expect_usage -- --index ' 1' "${ok[@]}"
expect_usage -- --index 99999999999999999999 "${ok[@]}"
expect_usage -- --index
expect_usage -- --index 0 --count 0 --out-dir "$tmp/o" -- a
expect_usage -- --index 0 --count x --out-dir "$tmp/o" -- a
expect_usage -- --index 0 --out-dir "$tmp/o" -- a
expect_usage -- --index 0 --count 2 -- a
expect_usage -- --index 0 --count 2 --out-dir "$tmp/o" --
expect_usage -- --index 0 --count 2 --out-dir "$tmp/o" -- a --shard 1/2
expect_usage -- --index 0 --count 2 --out-dir "$tmp/o" -- a --out x.jsonl
expect_usage -- --index 0 --count 2 --out-dir "$tmp/o" --bogus -- a
expect_usage -- --index 0 --count 2 --out-dir "$tmp/o" a # sweep arguments without --

failures=0
if [[ -f $tmp/failures ]]; then failures=$(wc -l <"$tmp/failures"); fi
if ((failures > 0)); then
  echo "check_shard_env: $failures failures"
  exit 1
fi
echo "check_shard_env: ok: $partitions_checked shard counts ($runs runs each) partitioned by" \
  "--index, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID and PARALLEL_SEQ; command line, precedence," \
  "exit codes and $bad_cases bad inputs checked"
