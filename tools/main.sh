#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on a few seeds with a readable summary.
# Until the Walrus scenarios land this is the kernel demo world.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
exec build/tools/floe demo --seeds 1..5 "$@"
