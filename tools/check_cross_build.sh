#!/usr/bin/env bash
# The same seeds must give the same trace hashes in the gcc -O2 build and the clang -O0
# ASan+UBSan build (determinism across compilers, optimisation levels and sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."
hashes() {
  "$1" demo --seeds 1..4 --seconds 20 | awk '$1 ~ /^[0-9]+$/ && $2 != "seeds:" { print $1, $2, $NF }'
}
gcc_o2=$(hashes build/tools/floe)
clang_asan=$(hashes build-asan/tools/floe)
echo "gcc -O2:"; echo "$gcc_o2"
echo "clang -O0 ASan+UBSan:"; echo "$clang_asan"
[[ -n $gcc_o2 && $gcc_o2 == "$clang_asan" ]]
