#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on a few seeds with a readable summary:
# the Walrus cluster scenario (workload, random crashes, convergence, all checkers), then node 0
# down for three epoch changes and back through catch-up and a recovery that crashes and resumes
# from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build/tools/floe cluster --seeds 1..5 "$@"
echo
exec build/tools/floe cluster --seeds 1..3 --epochs 10 --no-crashes --recovery crash-during-recovery
