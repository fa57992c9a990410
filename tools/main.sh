#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on a few seeds with a readable summary:
# the Walrus cluster scenario (workload, random crashes, convergence, all checkers).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
exec build/tools/floe cluster --seeds 1..5 "$@"
