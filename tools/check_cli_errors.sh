#!/usr/bin/env bash
# Bad user input gets a clear one-line error and a non-zero exit, never a crash; a good run
# reproduces exactly.
set -uo pipefail
cd "$(dirname "$0")/.."
floe=build/tools/floe
status=0

expect_error() {  # expect_error PATTERN ARGS...: exit code 2 (usage), one line on stderr matching
  local pattern=$1
  shift
  local err code
  err=$("$floe" "$@" 2>&1 >/dev/null)
  code=$?
  if ((code != 2)); then
    echo "FAIL: floe $* exited with $code, not 2"; status=1; return
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
expect_error "epochs=0 is not an integer in 1\.\.200" run random-crashes --seed 1 --set epochs=0
expect_error "bad seed range '3\.\.1'" sweep random-crashes --seeds 3..1
expect_error "directory /nonexistent-dir does not exist" run random-crashes --seed 1 --trace /nonexistent-dir/c.log
expect_error "--seconds" demo --seconds 0

# The scenario commands.
nonempty=$(mktemp -d)
touch "$nonempty/keep"
expect_error "unknown scenario 'nosuch'" run nosuch --seed 1
expect_error "unknown parameter 'nokey'" run swarm --seed 1 --set nokey=1
expect_error "epochs=abc is not an integer in 1\.\.200" run swarm --seed 1 --set epochs=abc
expect_error "epochs=0 is not an integer in 1\.\.200" run swarm --seed 1 --set epochs=0
expect_error "deadline=5 is not a duration" run swarm --seed 1 --set deadline=5
expect_error "--set takes key=value" run swarm --seed 1 --set epochs
expect_error "unknown old behaviour 'nosuch'" run swarm --seed 1 --old-behaviour nosuch
expect_error "bad seed 'abc'" run swarm --seed abc
expect_error "bad seed '-1'" run swarm --seed -1
expect_error "bad seed '99999999999999999999999'" run swarm --seed 99999999999999999999999
expect_error "bad seed '-1'" check-determinism swarm --seed -1
expect_error "--set epochs given twice" run swarm --seed 1 --set epochs=2 --set epochs=3
expect_error "every --max-\* must be at least its --base-\*" bench scale --base-nodes 10 --max-nodes 5
expect_error "bench scenarios: long-node-recovery: column-families=some is not one of walrus\|batched" bench scenarios long-node-recovery --set column-families=some
expect_error "bench scenarios: long-node-recovery: unknown parameter 'epochs'" bench scenarios long-node-recovery --set epochs=3
expect_error "--one-seed takes exactly one scenario" bench scenarios --one-seed 3
# The cluster's shape (scenarios/shape.h).
expect_error "weights=1,x is not a list of" run long-node-recovery --seed 1 --set weights=1,x
expect_error "shards=0 is not an integer in 1\.\.10000" run long-node-recovery --seed 1 --set shards=0
expect_error "nodes=3 but weights has 2 entries" run long-node-recovery --seed 1 --set nodes=3 --set weights=1,2
expect_error "storage-faults=sometimes is not one of off\|bounded\|unbounded" run swarm --seed 1 --set storage-faults=sometimes
expect_error "storage-faults=off is not one of bounded\|unbounded" run power-loss-during-recovery --seed 1 --set storage-faults=off
expect_error "--sched pct:0: the depth D of pct:D\[:K\] must be an integer in 1\.\.1000" run swarm --seed 1 --sched pct:0
expect_error "--sched pct:x: the depth D" run swarm --seed 1 --sched pct:x
expect_error "--sched pct:3:1x: the horizon K" run swarm --seed 1 --sched pct:3:1x
expect_error "--sched pct: pct needs a depth" run swarm --seed 1 --sched pct
expect_error "--sched foo: expected random, pct:D\[:K\] or starve\[:P\]" run swarm --seed 1 --sched foo
expect_error "--sched starve:2: the P of starve:P must be a decimal in \(0, 1\]" run swarm --seed 1 --sched starve:2
expect_error "--sched foo: expected random" sweep swarm --seeds 1..2 --sched foo
expect_error "--sched pct:0: the depth" check-determinism swarm --seed 1 --sched pct:0
expect_error "directory /nonexistent-dir does not exist" run swarm --seed 1 --trace /nonexistent-dir/t.log
expect_error "directory /nonexistent-dir does not exist" run swarm --seed 1 --perfetto /nonexistent-dir/p.json
expect_error "directory /nonexistent-dir does not exist" run swarm --seed 1 --report /nonexistent-dir/r.html
expect_error "cannot read results file '/nonexistent-dir/r.jsonl'" sweep --summary /nonexistent-dir/r.jsonl
expect_error "--seeds A\.\.B is required" sweep swarm
expect_error "is not empty" run swarm --seed 1 --data-dir "$nonempty"
expect_error "cannot read the fault schedule /nonexistent-dir/f.json" run swarm --seed 1 --faults /nonexistent-dir/f.json
expect_error "directory /nonexistent-dir does not exist" run swarm --seed 1 --record-faults /nonexistent-dir/f.json
expect_error "choice|buggify" run swarm --seed 1 --set buggify=maybe
expect_error "unknown scenario 'nosuch'" shrink nosuch --seed 1
expect_error "bad seed" shrink swarm --seed x
expect_error "passes: nothing to shrink" shrink checkpoint-resume --seed 1 --out /tmp/floe-cli-shrink.json
expect_error "bad seed range '5\.\.1'" sweep swarm --seeds 5..1
expect_error "cannot write results to /nonexistent-dir/r.jsonl" sweep swarm --seeds 1..2 --out /nonexistent-dir/r.jsonl
expect_error "--shard 3/2 is not K/N" sweep swarm --seeds 1..2 --shard 3/2
expect_error "either scenario names or --all" sweep --seeds 1..2
expect_error "--set needs exactly one scenario" sweep swarm long-node-recovery --seeds 1..2 --set epochs=2
expect_error "unknown scenario 'nosuch'" check-determinism nosuch --seed 1
expect_error "cannot read the gate list /nonexistent-dir/gate.txt" gate --list /nonexistent-dir/gate.txt
bad_gate=$(mktemp)
echo "walrus swarm 1..2 rescan-recovery" >"$bad_gate"  # an old behaviour cannot fix a finding
expect_error "$bad_gate:1: expected 'pass SCENARIO" gate --list "$bad_gate"
echo "fixed swarm 1..2 head-attestation-rules,nosuch" >"$bad_gate"  # every listed fix must exist
expect_error "$bad_gate:1: expected 'pass SCENARIO" gate --list "$bad_gate"
echo "fail swarm 1..2 rescan-recovery,notify-one-sync-waiter" >"$bad_gate"  # one switch per fail line
expect_error "$bad_gate:1: expected 'pass SCENARIO" gate --list "$bad_gate"
echo "determinism long-node-recovery 1..1 shards=0" >"$bad_gate"  # a determinism line's sets are checked
expect_error "$bad_gate:1: expected 'pass SCENARIO" gate --list "$bad_gate"
rm -f "$bad_gate"
expect_error "cannot read /nonexistent-dir/a.log" diff /nonexistent-dir/a.log /nonexistent-dir/b.log
expect_error "--strategies random,fast: unknown name 'fast' \(one of random, buggify, pct, starve\)" bench search --strategies random,fast
expect_error "--strategies pct,pct: 'pct' given twice" bench search --strategies pct,pct
expect_error "--targets nosuch: unknown name 'nosuch' \(one of rescan-recovery, " bench search --targets nosuch
expect_error "--targets head-attestation-rules: unknown name" bench search --targets head-attestation-rules  # a fix, not a planted bug
expect_error "--max-seeds" bench search --max-seeds 0
expect_error "--max-seeds" bench search --max-seeds 1001  # the searches would overlap the next starting seed
expect_error "--epochs" bench search --epochs 0
expect_error "cannot write results to /nonexistent-dir/s.json" bench search --json /nonexistent-dir/s.json
if [[ -e /nonexistent-dir ]]; then echo "FAIL: a bad path was created"; status=1; fi
rm -rf "$nonempty"

# An interrupted sweep keeps the seeds it finished: results are appended as seeds end.
out=$(mktemp -d)
"$floe" sweep joins-committee --seeds 1..50 --jobs 1 --out "$out/r.jsonl" >/dev/null 2>&1 &
sweep_pid=$!
for _ in $(seq 100); do
  [[ -s $out/r.jsonl ]] && break
  sleep 0.1
done
kill -TERM "$sweep_pid" 2>/dev/null
wait "$sweep_pid" 2>/dev/null
kept=$(grep -c '"outcome":"pass"' "$out/r.jsonl" 2>/dev/null || echo 0)
if ((kept >= 1 && kept < 50)); then
  echo "ok: an interrupted sweep kept $kept finished seeds"
else
  echo "FAIL: an interrupted sweep kept $kept seeds"; status=1
fi
# ... and its summary reads them back.
summary=$("$floe" sweep --summary "$out/r.jsonl")
if [[ $? -eq 0 && $summary == *"joins-committee"* && $summary == *"never reached"* ]]; then
  echo "ok: sweep --summary reads the interrupted sweep's results"
else
  echo "FAIL: sweep --summary printed: $summary"; status=1
fi
rm -rf "$out"

# A failing seed turns into a text trace, a Perfetto file and an HTML report that show it.
out=$(mktemp -d)
"$floe" run shared-sync-waiter --seed 2 --old-behaviour notify-one-sync-waiter \
  --trace "$out/run.log" --perfetto "$out/run.json" --report "$out/run.html" >/dev/null
code=$?
if ((code != 4)); then
  echo "FAIL: the traced failing run exited with $code, not 4"; status=1
elif ! grep -qE ' state node-status ' "$out/run.log" || ! grep -qE ' span-begin #[0-9]+ blob-sync ' "$out/run.log"; then
  echo "FAIL: the text trace has no node-status states or blob-sync spans"; status=1
elif ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["traceEvents"]; assert any(x.get("ph")=="X" and x.get("cat")=="node-status" for x in e); assert any(x.get("ph")=="b" for x in e)' "$out/run.json"; then
  echo "FAIL: the Perfetto file does not parse or lacks node-status spans"; status=1
elif ! grep -q 'FAIL (deadlock)' "$out/run.html"; then
  echo "FAIL: the HTML report does not show the failure"; status=1
else
  echo "ok: a failing seed gives a text trace, a Perfetto file and an HTML report"
fi
rm -rf "$out"

# A run that aborts on a node-side assertion still writes its report, its Perfetto file and its
# whole text trace (up to the assertion).
out=$(mktemp -d)
"$floe" run shard-sync-fails --seed 1 \
  --trace "$out/run.log" --perfetto "$out/run.json" --report "$out/run.html" >/dev/null 2>"$out/err"
code=$?
abort_time=$(grep -oE 'virtual time [0-9.]+s' "$out/err" | awk '{print $3}')
if ((code != 134)); then
  echo "FAIL: the aborting run exited with $code, not 134"; status=1
elif ! grep -q 'FAIL (bug: the run aborted)' "$out/run.html" || ! grep -q 'WAL-1271' "$out/run.html"; then
  echo "FAIL: the aborted run's report does not show the assertion"; status=1
elif ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/run.json"; then
  echo "FAIL: the aborted run's Perfetto file does not parse"; status=1
elif [[ -z $abort_time || $(tail -1 "$out/run.log" | cut -d' ' -f1) != "$abort_time" ]]; then
  echo "FAIL: the aborted run's text trace lost its tail: $(tail -1 "$out/run.log")"; status=1
else
  echo "ok: an aborted run still writes its report, Perfetto file and whole text trace"
fi
rm -rf "$out"

# floe bench search runs its children and prints its table (two seeds of one epoch: seconds).
out=$(mktemp -d)
table=$("$floe" bench search --targets notify-one-sync-waiter --strategies random --max-seeds 2 \
  --starts 1 --epochs 1 --json "$out/s.json" 2>"$out/err")
code=$?
if ((code != 0)); then
  echo "FAIL: bench search exited with $code: $(cat "$out/err")"; status=1
elif ! grep -qE '^  notify-one-sync-waiter +(>2|[12]) *$' <<<"$table" || ! grep -q '^hard cases' <<<"$table"; then
  echo "FAIL: bench search printed: $table"; status=1
elif ! grep -q 'search: notify-one-sync-waiter / random / from seed 1: ' "$out/err"; then
  echo "FAIL: bench search printed no progress: $(cat "$out/err")"; status=1
elif ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["targets"][0]["strategies"]["random"]; assert r["runs"][0]["seeds_run"] in (1, 2), r' "$out/s.json"; then
  echo "FAIL: bench search's --json file: $(cat "$out/s.json")"; status=1
else
  echo "ok: bench search prints its table: $(grep -E '^  notify-one-sync-waiter' <<<"$table")"
fi
# ... and a strategy this floe cannot run is n/a, not a failure (before --sched exists).
table=$("$floe" bench search --targets notify-one-sync-waiter --strategies pct --max-seeds 1 \
  --starts 1 --epochs 1 2>/dev/null)
code=$?
if ((code != 0)); then
  echo "FAIL: bench search --strategies pct exited with $code"; status=1
elif ! grep -qE '^  notify-one-sync-waiter +(n/a|>1|1) *$' <<<"$table"; then
  echo "FAIL: bench search --strategies pct printed: $table"; status=1
elif grep -q ' n/a ' <<<"$table" && ! grep -q 'pct: n/a: this floe has no --sched' <<<"$table"; then
  echo "FAIL: bench search --strategies pct is n/a without the reason: $table"; status=1
else
  echo "ok: bench search --strategies pct: $(grep -E '^  notify-one-sync-waiter' <<<"$table")"
fi
rm -rf "$out"

# A failing run prints the command that reproduces it, and that command fails the same way.
fail_line=$("$floe" run shared-sync-waiter --seed 2 --old-behaviour notify-one-sync-waiter | grep reproduce)
if [[ $fail_line != *"floe run shared-sync-waiter --seed 2 --old-behaviour notify-one-sync-waiter"* ]]; then
  echo "FAIL: no repro command in: $fail_line"; status=1
else
  echo "ok: $fail_line"
fi
"$floe" run shared-sync-waiter --seed 2 --old-behaviour notify-one-sync-waiter >/dev/null
code=$?
if ((code != 4)); then echo "FAIL: a deadlock exited with $code, not 4"; status=1; else echo "ok: deadlock exit code 4"; fi

# floe shrink end to end: the planted bug of power-loss-during-recovery needs its two faults;
# the minimal schedule written reproduces the failure.
shrunk=$(mktemp)
if "$floe" shrink power-loss-during-recovery --seed 1 --old-behaviour unlogged-sliver-writes \
    --out "$shrunk" >/dev/null && grep -q '"faults": 2' "$shrunk" &&
  ! "$floe" run power-loss-during-recovery --seed 1 --old-behaviour unlogged-sliver-writes \
    --faults "$shrunk" >/dev/null; then
  echo "ok: floe shrink power-loss-during-recovery --seed 1: 2 faults, and they reproduce"
else
  echo "FAIL: floe shrink of power-loss-during-recovery --seed 1"; status=1
fi
rm -f "$shrunk"
# A schedule strategy is in the repro command and the JSON record, a sweep passes it to its
# runs, and the run reproduces its hash.
out=$(mktemp -d)
"$floe" sweep joins-committee --seeds 1..2 --jobs 1 --sched pct:3:30000 --out "$out/r.jsonl" >/dev/null 2>&1
again=$("$floe" run joins-committee --seed 2 --sched pct:3 --json)
if ! python3 - "$out/r.jsonl" "$again" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
again = json.loads(sys.argv[2])
assert len(records) == 2, records
for r in records:
    assert r["sched"] == "pct:3", r["sched"]
    assert r["repro"] == f"floe run joins-committee --seed {r['seed']} --sched pct:3", r["repro"]
assert records[1]["trace_hash"] == again["trace_hash"], (records[1]["trace_hash"], again["trace_hash"])
PY
then
  echo "FAIL: a pct sweep's records lack the strategy or do not reproduce"; status=1
else
  echo "ok: a pct sweep records --sched pct:3 and its runs reproduce"
fi
if [[ $("$floe" run joins-committee --seed 2 --json) != *'"sched":"random"'* ]]; then
  echo "FAIL: a random run's JSON record does not say sched random"; status=1
fi
rm -rf "$out"

# Hunts, promotions and reports (issue 19).
expect_error "--for 5 is not a duration" hunt long-node-recovery --for 5
expect_error "--for 0s is not a duration" hunt long-node-recovery --for 0s
expect_error "--for 9999h is not a duration" hunt long-node-recovery --for 9999h
expect_error "unknown scenario 'nosuch'" hunt nosuch --for 1s
expect_error "cannot write results to /nonexistent-dir/h.jsonl" hunt long-node-recovery --for 1s --out /nonexistent-dir/h.jsonl
expect_error "--set needs exactly one scenario" hunt long-node-recovery swarm --for 1s --set epochs=3
expect_error "bad seed 'x'" hunt long-node-recovery --for 1s --from x
expect_error "--from 18446744073709551615 is too large" hunt long-node-recovery --for 1s --from 18446744073709551615
expect_error "--sched pct:0: the depth D of pct:D\\[:K\\] must be an integer in 1\\.\\.1000" hunt long-node-recovery --for 1s --sched pct:0
expect_error "cannot read results file '/nonexistent-dir/r.jsonl'" promote /nonexistent-dir/r.jsonl --scenario swarm --seed 1
expect_error "cannot write JUnit report to /nonexistent-dir/j.xml" sweep random-crashes --seeds 1 --junit /nonexistent-dir/j.xml
expect_error "cannot write JUnit report to /nonexistent-dir/j.xml" gate --only pass --junit /nonexistent-dir/j.xml
expect_error "--shard 3/2 is not K/N" sweep random-crashes --seeds 1..4 --shard 3/2
expect_error "cannot read results file '/nonexistent-dir/b.jsonl'" sweep --summary "$0" /nonexistent-dir/b.jsonl

first=$("$floe" demo --seed 9 --seconds 5 | grep -E '^ +9 ')
second=$("$floe" demo --seed 9 --seconds 5 | grep -E '^ +9 ')
strip_wall() { awk '{ $(NF-1) = ""; print }' <<<"$1"; }
if [[ -z $first || $(strip_wall "$first") != $(strip_wall "$second") ]]; then
  echo "FAIL: two runs of seed 9 differ:"; echo "$first"; echo "$second"; status=1
else
  echo "ok: seed 9 reproduces: $first"
fi
exit $status
