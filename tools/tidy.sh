#!/usr/bin/env bash
# clang-tidy over the given files (default: every .cpp in sim/ node/ scenarios/ tools/), using
# build/compile_commands.json. Slow (~4 s a file), so it is a developer command, not part of
# tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
if (($# == 0)); then
  mapfile -t files < <(git ls-files 'sim/*.cpp' 'node/*.cpp' 'scenarios/*.cpp' 'tools/*.cpp')
else
  files=("$@")
fi
clang-tidy -p build --quiet "${files[@]}"
