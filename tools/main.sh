#!/usr/bin/env bash
# README command 1: set up, build, and run the main job with a readable summary: every shipped
# scenario (the four simtests, the recovery scenarios, swarm) on three seeds, each seed in its
# own process, ending in a table per scenario; the sweep's results read back (failure classes,
# fail-point coverage, slowest seeds); every failed seed explained by a Walrus finding; the known
# Walrus failures; then random-crashes (the Walrus cluster with random crashes) on five seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
results=$(mktemp -d)/results.jsonl
status=0
# Walrus as it is fails some seeds (docs/FINDINGS.md): --explain below judges every failure.
build/tools/floe sweep --all --seeds 1..3 --out "$results" "$@" || true
echo
build/tools/floe sweep --summary "$results" || true
echo
# Every failed seed must be a documented Walrus finding: re-run with its fix, or named by the
# Walrus test assertion it mirrors. An unexplained failure fails the job.
build/tools/floe sweep --explain "$results" || status=$?
echo
# The known failures of Walrus itself (docs/FINDINGS.md): each must still fail as Walrus is and
# pass with the switch that fixes it.
build/tools/floe gate --only walrus || status=$?
echo
build/tools/floe sweep random-crashes --seeds 1..5 || status=$?
exit $status
