#!/usr/bin/env bash
# README command 1: set up, build, and run the main job with a readable summary: every shipped
# scenario (the four simtests, the recovery scenarios, swarm) on three seeds, each seed in its
# own process, ending in a table per scenario; then the Walrus cluster scenario with random
# crashes on five seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build/tools/floe sweep --all --seeds 1..3 "$@"
echo
exec build/tools/floe cluster --seeds 1..5
