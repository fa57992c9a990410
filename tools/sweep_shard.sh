#!/usr/bin/env bash
# One shard of a floe sweep: the worker every engine calls (GNU parallel, a Kubernetes Indexed
# Job, a Slurm job array, a CI matrix, a shell loop). It works out which shard it is, runs
# `floe sweep ... --shard K/N` on it and writes the shard's JSON Lines and JUnit report under
# names that never collide, so the results of all shards can be merged afterwards with
# `floe sweep --summary DIR/*.jsonl`. docs/distributed.md explains the whole setup.
#
# Usage: tools/sweep_shard.sh [--index I] --count N --out-dir DIR -- FLOE-SWEEP-ARGS...
#
# The 0-based shard index I comes from, in this order:
#   --index I                 given by hand (0-based)
#   $JOB_COMPLETION_INDEX     Kubernetes Indexed Job (0-based)
#   $SLURM_ARRAY_TASK_ID      Slurm job array (0-based: submit it with --array=0-(N-1))
#   $PARALLEL_SEQ             GNU parallel's job number (1-based: I = PARALLEL_SEQ - 1)
# It then runs
#   ${FLOE:-<repo>/build/tools/floe} sweep FLOE-SWEEP-ARGS... --shard I+1/N \
#       --out DIR/shard-(I+1)-of-N.jsonl --junit DIR/shard-(I+1)-of-N.xml
# and exits with floe's code: 0 every seed passed, 1 some seed failed, 2 usage error. A missing,
# non-numeric or out-of-range index (or count) is a one-line error and exit 2, before floe runs.
# With --dry-run among FLOE-SWEEP-ARGS, floe only lists the shard's runs ("SCENARIO SEED" lines),
# so no --out or --junit is passed and nothing is written.
set -euo pipefail

me=$(basename "$0")

die() {  # die MESSAGE: a usage error, one line, exit 2
  echo "$me: $*" >&2
  exit 2
}

usage() {
  echo "usage: $me [--index I] --count N --out-dir DIR -- FLOE-SWEEP-ARGS..."
}

help() {
  usage
  cat <<'EOF'
Runs shard I+1 of N of a floe sweep: floe sweep FLOE-SWEEP-ARGS... --shard I+1/N
  --out DIR/shard-(I+1)-of-N.jsonl --junit DIR/shard-(I+1)-of-N.xml
  --index I      the 0-based shard index; without it, the first of these that is set:
                 JOB_COMPLETION_INDEX (Kubernetes Indexed Job, 0-based),
                 SLURM_ARRAY_TASK_ID (Slurm, 0-based: --array=0-(N-1)),
                 PARALLEL_SEQ (GNU parallel, 1-based)
  --count N      the number of shards (the same on every worker)
  --out-dir DIR  where the shard's files go (created if missing)
  -h, --help     this text
FLOE=path overrides the floe binary (default: build/tools/floe beside this script).
With --dry-run among FLOE-SWEEP-ARGS, only the shard's runs are listed; nothing is written.
Exit: floe's (0 all passed, 1 a seed failed, 2 usage); 2 for a bad index, count or option.
EOF
}

index=""
index_from=""
count=""
out_dir=""
while (($# > 0)); do
  case $1 in
    --index | --count | --out-dir)
      (($# >= 2)) || die "$1 needs a value"
      case $1 in
        --index) index=$2 index_from="--index" ;;
        --count) count=$2 ;;
        --out-dir) out_dir=$2 ;;
      esac
      shift 2
      ;;
    --index=*) index=${1#*=} index_from="--index" && shift ;;
    --count=*) count=${1#*=} && shift ;;
    --out-dir=*) out_dir=${1#*=} && shift ;;
    -h | --help)
      help
      exit 0
      ;;
    --)
      shift
      break
      ;;
    *) die "unknown option '$1' (floe sweep's own arguments go after --); $(usage)" ;;
  esac
done
sweep_args=("$@")

# Numbers are decimal digits only, at most 9 of them (no sign, no octal surprise from a leading
# 0, no overflow); 10# reads "08" as eight.
is_number() { [[ $1 =~ ^[0-9]{1,9}$ ]]; }

[[ -n $count ]] || die "--count N is required (the number of shards)"
is_number "$count" || die "--count '$count' is not a non-negative integer"
count=$((10#$count))
((count >= 1)) || die "--count must be at least 1"
[[ -n $out_dir ]] || die "--out-dir DIR is required"
((${#sweep_args[@]} > 0)) || die "no floe sweep arguments after -- (e.g. -- --all --seeds 1..100)"
for arg in "${sweep_args[@]}"; do
  case $arg in
    --shard | --shard=* | --out | --out=* | --junit | --junit=*)
      die "$arg is set by $me itself; leave it out of the floe sweep arguments" ;;
  esac
done

# The shard index, from the first source that is set. Each engine's variable keeps its own base.
if [[ -n $index_from ]]; then
  raw=$index base=0
elif [[ -n ${JOB_COMPLETION_INDEX:-} ]]; then
  raw=$JOB_COMPLETION_INDEX base=0 index_from=JOB_COMPLETION_INDEX
elif [[ -n ${SLURM_ARRAY_TASK_ID:-} ]]; then
  raw=$SLURM_ARRAY_TASK_ID base=0 index_from=SLURM_ARRAY_TASK_ID
elif [[ -n ${PARALLEL_SEQ:-} ]]; then
  raw=$PARALLEL_SEQ base=1 index_from=PARALLEL_SEQ
else
  die "no shard index: give --index I or set JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or PARALLEL_SEQ"
fi
is_number "$raw" || die "shard index '$raw' (from $index_from) is not a non-negative integer"
index=$((10#$raw - base))
if ((index < 0 || index >= count)); then
  die "shard index $raw (from $index_from) is out of range $base..$((count - 1 + base)) for --count $count"
fi

floe=${FLOE:-$(dirname "$0")/../build/tools/floe}
[[ -x $floe ]] || die "no floe binary at $floe (build it with tools/setup.sh, or set FLOE)"

shard="$((index + 1))/$count"
name="shard-$((index + 1))-of-$count"
dry_run=false
for arg in "${sweep_args[@]}"; do
  if [[ $arg == --dry-run ]]; then dry_run=true; fi
done
if $dry_run; then
  exec "$floe" sweep "${sweep_args[@]}" --shard "$shard"
fi
mkdir -p -- "$out_dir" 2>/dev/null || die "cannot create --out-dir $out_dir"
echo "$me: shard $shard (index $index from $index_from) -> $out_dir/$name.jsonl" >&2
exec "$floe" sweep "${sweep_args[@]}" --shard "$shard" \
  --out "$out_dir/$name.jsonl" --junit "$out_dir/$name.xml"
