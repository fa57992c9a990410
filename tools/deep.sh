#!/usr/bin/env bash
# The deep tier, run by hand before a release and before resolving an issue that touches the
# model (not part of CI's time): swarm at 20 epochs on 1,000 seeds and every scenario on 250
# seeds outside the gate's 1..100, each seed in its own process on every core; then the known
# Walrus failures. Every failure must be fixed or be a documented finding (docs/FINDINGS.md).
#
#   tools/deep.sh                   seeds 5000..5999 (swarm) and 1000..1249 (every scenario)
#   tools/deep.sh --start N         swarm N..N+999 and every scenario N..N+249 (fresh seeds)
#   tools/deep.sh --swarm-seeds K   fewer swarm seeds (a quicker look)
# Results (JSON Lines), the summaries and the explanation of every failed seed
# (`floe sweep --explain`) go to build/deep/; the last line is
# "deep: R runs, F failed, U unexplained". It exits non-zero if anything is unexplained.
set -euo pipefail
cd "$(dirname "$0")/.."
swarm_start=5000
all_start=1000
swarm_count=1000
all_count=250
while (($# > 0)); do
  case $1 in
    --start) swarm_start=$2; all_start=$2; shift 2 ;;
    --swarm-seeds) swarm_count=$2; shift 2 ;;
    *) echo "deep.sh: unknown argument $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
done
tools/setup.sh
out=build/deep
mkdir -p "$out"
rm -f "$out"/swarm.jsonl "$out"/all.jsonl
jobs=$(nproc)
status=0
start=$(date +%s)
echo "deep: swarm --set epochs=20 --set deadline=20m --set fault-budget=strict on $swarm_start..$((swarm_start + swarm_count - 1)), $jobs at a time"
# The strict fault budget keeps the swarm inside Walrus's fault model (docs/FINDINGS.md,
# "Swarm 16232"): the loose one can take a blob below its decoding thresholds.
build/tools/floe sweep swarm --seeds "$swarm_start..$((swarm_start + swarm_count - 1))" \
  --set epochs=20 --set deadline=20m --set fault-budget=strict --jobs "$jobs" --out "$out/swarm.jsonl" || true  # failures are judged by --explain below
echo "deep: every scenario on $all_start..$((all_start + all_count - 1)), $jobs at a time"
build/tools/floe sweep --all --seeds "$all_start..$((all_start + all_count - 1))" \
  --jobs "$jobs" --out "$out/all.jsonl" || true
build/tools/floe sweep --summary "$out/swarm.jsonl" >"$out/swarm-summary.txt" || true
build/tools/floe sweep --summary "$out/all.jsonl" >"$out/all-summary.txt" || true
build/tools/floe gate --only walrus || status=$?
# Every failed seed must be explained: one that reached a Walrus finding's condition and passes
# with its fix is that finding; anything else is a bug to triage.
cat "$out"/swarm.jsonl "$out"/all.jsonl >"$out"/deep.jsonl
build/tools/floe sweep --explain "$out"/deep.jsonl --jobs "$jobs" | tee "$out"/explain.txt || status=$?
counts=$(python3 - "$out"/swarm.jsonl "$out"/all.jsonl <<'PY'
import json, sys
last = {}
for path in sys.argv[1:]:
    for line in open(path):
        record = json.loads(line)
        last[(path, record.get("scenario"), record.get("seed"))] = record.get("outcome") == "pass"
print(len(last), sum(1 for ok in last.values() if not ok))
PY
)
runs=${counts% *}
failed=${counts#* }
echo "deep: summaries in $out/swarm-summary.txt and $out/all-summary.txt; $(( $(date +%s) - start )) s wall on $jobs cores"
unexplained=$(sed -n 's/^explain: .* \([0-9]*\) unexplained$/\1/p' "$out"/explain.txt)
echo "deep: $runs runs, $failed failed, ${unexplained:-?} unexplained"
exit $status
