#!/usr/bin/env bash
# A floe sweep as a Slurm job array: 16 array tasks, each one shard of `--all --seeds 1..2000`
# on the cores Slurm gave it. docs/distributed.md explains the setup.
#
# Once, on a filesystem every compute node mounts (the repository and results/ must be shared):
#   cd /shared/floe && tools/setup.sh
# Then, from the repository's root:
#   sbatch docs/distributed/slurm-array.sh
#
# Slurm sets SLURM_ARRAY_TASK_ID in each task. tools/sweep_shard.sh reads it as the 0-based
# shard index, so the array must be numbered from 0: --array=0-15 for --count 16 (it refuses
# index 16, so an --array=1-16 shows at once). Change the two together.
#
# Each task writes results/shard-K-of-16.jsonl and results/shard-K-of-16.xml (JUnit). Merge once
# every task has ended (squeue -j JOBID shows none left):
#   build/tools/floe sweep --summary results/*.jsonl
# A task that died with its node can be run again alone (sbatch --array=5 ...): it appends to
# its file, and the merge keeps the latest record of a seed recorded twice.
#
#SBATCH --job-name=floe-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --output=floe-sweep-%A_%a.out
set -euo pipefail

# Slurm runs a copy of this script from its spool directory, so $0 says nothing about where the
# repository is: the task starts in the directory sbatch was called from.
cd "${SLURM_SUBMIT_DIR:-.}"
if [[ -n ${SLURM_ARRAY_TASK_COUNT:-} && $SLURM_ARRAY_TASK_COUNT != 16 ]]; then
  echo "slurm-array.sh: the array has $SLURM_ARRAY_TASK_COUNT tasks, --count is 16" >&2
  exit 2
fi
exec tools/sweep_shard.sh --count 16 --out-dir results -- \
  --all --seeds 1..2000 --jobs "${SLURM_CPUS_PER_TASK:-1}"
