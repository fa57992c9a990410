#!/usr/bin/env bash
# `floe hunt` and `floe promote` end to end (issue 19): a short hunt over a scenario that fails as
# Walrus is (finding F1) and one that passes; the hunt writes every run as it goes, runs the
# seeds of its plan (each scenario from --from upward), groups the failures by signature with
# the fastest seed, and exits 1; a failure promoted into a gate list gives a line the gate
# runs green (the F1 seed passes with its fix); a passing seed cannot be promoted.
set -euo pipefail
cd "$(dirname "$0")/.."
floe=$PWD/build/tools/floe
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

status=0
"$floe" hunt checkpoint-survives-catch-up long-node-recovery --for 4s --jobs 2 --from 500 \
  --out "$dir/h.jsonl" >"$dir/out" 2>"$dir/err" || status=$?
((status == 1)) || fail "the hunt exited $status, not 1 (checkpoint-survives-catch-up fails as Walrus)"
grep -q 'this hunt again: floe hunt checkpoint-survives-catch-up long-node-recovery --for 4s --from 500' "$dir/err" ||
  fail "the hunt does not print how to run it again"
runs=$(grep -oE '^floe hunt: [0-9]+ runs' "$dir/out" | grep -oE '[0-9]+')
[[ -n $runs ]] || fail "no closing line: $(cat "$dir/out")"
(($(wc -l <"$dir/h.jsonl") == runs)) || fail "$runs runs but $(wc -l <"$dir/h.jsonl") records"
grep -q 'failures by signature: ' "$dir/out" || fail "no failure groups"
grep -qE '^ +[0-9]+ seeds? +invariant at scenarios/[a-z_]+\.cpp:[0-9]+: certified blob # missing' "$dir/out" ||
  fail "the F1 failures are not one masked group: $(cat "$dir/out")"
grep -q 'fastest: checkpoint-survives-catch-up seed ' "$dir/out" || fail "no fastest seed"

# --sched: every run of the hunt uses the schedule, and its repro and the hunt's own command say
# so in the short form (the horizon K at its default is left out), so a failure replays.
"$floe" hunt long-node-recovery --for 2s --jobs 1 --from 40 --sched pct:3:30000 \
  --out "$dir/pct.jsonl" >"$dir/pct.out" 2>"$dir/pct.err" || fail "the PCT hunt failed: $(cat "$dir/pct.out")"
grep -q 'this hunt again: floe hunt long-node-recovery --for 2s --from 40 --sched pct:3$' "$dir/pct.err" ||
  fail "the PCT hunt's command lost its schedule: $(cat "$dir/pct.err")"
python3 - "$dir/pct.jsonl" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
assert records, "the PCT hunt ran no seed"
for r in records:
    assert r["sched"] == "pct:3", r["sched"]
    assert r["repro"] == f"floe run long-node-recovery --seed {r['seed']} --sched pct:3", r["repro"]
PY
seed40=$(python3 -c 'import json,sys; print(next(r["trace_hash"] for r in map(json.loads, open(sys.argv[1])) if r["seed"] == 40))' "$dir/pct.jsonl")
[[ $("$floe" run long-node-recovery --seed 40 --sched pct:3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["trace_hash"])') == "$seed40" ]] ||
  fail "the PCT hunt's seed 40 does not replay from its repro"

# The plan: each scenario's seeds are 500, 501, ... with none missing (seeds finish out of order).
python3 - "$dir/h.jsonl" <<'PY'
import json, sys
seeds = {}
for line in open(sys.argv[1]):
    record = json.loads(line)
    seeds.setdefault(record["scenario"], []).append(record["seed"])
assert set(seeds) == {"checkpoint-survives-catch-up", "long-node-recovery"}, seeds
for scenario, got in seeds.items():
    assert sorted(got) == list(range(500, 500 + len(got))), (scenario, sorted(got))
PY

# Promote the fastest seed of the F1 group into an empty gate list: a `walrus` line (fails as
# Walrus is, passes with the fix), which the gate runs green.
seed=$(grep -A1 -E '^ +[0-9]+ seeds? +invariant at .*certified blob # missing' "$dir/out" |
  grep -oE 'fastest: checkpoint-survives-catch-up seed [0-9]+' | grep -oE '[0-9]+$' || true)
[[ -n $seed ]] || fail "no fastest seed in the F1 group: $(cat "$dir/out")"
: >"$dir/gate.txt"
"$floe" promote "$dir/h.jsonl" --scenario checkpoint-survives-catch-up --seed "$seed" \
  --list "$dir/gate.txt" >"$dir/promoted" || fail "promote failed: $(cat "$dir/promoted")"
grep -qE "^walrus +checkpoint-survives-catch-up +$seed\.\.$seed +.*clear-checkpoint-on-catch-up-exit" "$dir/gate.txt" ||
  fail "promoted line: $(cat "$dir/gate.txt")"
grep -q '^# Promoted by floe promote on ' "$dir/gate.txt" || fail "no comment above the promoted line"
"$floe" gate --list "$dir/gate.txt" --junit "$dir/gate.xml" >"$dir/gate.out" ||
  fail "the promoted line does not pass: $(cat "$dir/gate.out")"
tools/check_junit.sh "$dir/gate.xml" 2 0 >/dev/null || fail "the gate's JUnit report is invalid"

# Promoting it again adds nothing: the line already keeps it.
before=$(md5sum <"$dir/gate.txt")
"$floe" promote "$dir/h.jsonl" --scenario checkpoint-survives-catch-up --seed "$seed" \
  --list "$dir/gate.txt" >"$dir/again" || fail "promoting twice failed: $(cat "$dir/again")"
grep -q '^already kept by ' "$dir/again" || fail "promoting twice did not say so: $(cat "$dir/again")"
[[ $(md5sum <"$dir/gate.txt") == "$before" ]] || fail "promoting twice changed the list"

# A passing seed is not a failure to keep; the list is left as it was.
passed=$(python3 -c 'import json,sys; print(next((r["seed"] for r in map(json.loads, open(sys.argv[1])) if r["outcome"] == "pass"), ""))' "$dir/h.jsonl")
[[ -n $passed ]] || fail "no seed of long-node-recovery passed"
if "$floe" promote "$dir/h.jsonl" --scenario long-node-recovery --seed "$passed" --list "$dir/gate.txt" 2>/dev/null; then
  fail "promoting a passing seed succeeded"
fi
[[ $(md5sum <"$dir/gate.txt") == "$before" ]] || fail "a refused promotion changed the list"
# Records written by hand: the gate line keeps parameters and new behaviours; runs a gate line
# cannot express (an old behaviour, another schedule) are refused with the reason.
record() {  # record SEED REPRO
  printf '{"scenario":"swarm","seed":%s,"outcome":"fail","failure_class":"invariant","message":"x 12","repro":"%s"}\n' "$1" "$2"
}
{
  record 7 "floe run swarm --seed 7 --set epochs=20 --set deadline=20m --new-behaviour head-attestation-rules"
  record 8 "floe run swarm --seed 8 --old-behaviour rescan-recovery"
  record 9 "floe run swarm --seed 9 --sched pct:3"
} >"$dir/hand.jsonl"
: >"$dir/hand.txt"
"$floe" promote "$dir/hand.jsonl" --scenario swarm --seed 7 --list "$dir/hand.txt" --note "kept by hand" >/dev/null ||
  fail "promoting a record with parameters failed"
grep -qE '^fixed +swarm +7\.\.7 +head-attestation-rules +epochs=20 +deadline=20m$' "$dir/hand.txt" ||
  fail "the line lost its parameters or switches: $(cat "$dir/hand.txt")"
grep -q '^# Promoted by floe promote on .*: kept by hand$' "$dir/hand.txt" || fail "--note not in the comment"
for refused in 8 9; do
  if err=$("$floe" promote "$dir/hand.jsonl" --scenario swarm --seed $refused --list "$dir/hand.txt" 2>&1); then
    fail "promoting seed $refused (old behaviour or schedule) succeeded"
  fi
  grep -qE 'fails by design|default schedule' <<<"$err" || fail "seed $refused refused without the reason: $err"
done

echo "ok: hunt ran $runs seeds, grouped the failures, and seed $seed was promoted into a green gate line"
