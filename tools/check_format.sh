#!/usr/bin/env bash
# Every C++ file is formatted with the checked-in .clang-format (fix with: tools/format.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.h' '*.cpp' | grep -v '^tools/lint_fixtures/' | xargs clang-format --dry-run -Werror
