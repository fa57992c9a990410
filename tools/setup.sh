#!/usr/bin/env bash
# Installs what floe needs on Debian 12 (apt-get when root; otherwise prints the exact command
# and exits non-zero), then configures and builds.
#   tools/setup.sh           the normal build (gcc, -O2 -g) in build/
#   tools/setup.sh --asan    also the ASan+UBSan build (clang, -O0) in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ clang libclang-rt-14-dev clang-format clang-tidy cmake meson ninja-build pkg-config
  python3 valgrind git
  parallel libxml2-utils
  libboost-context-dev librocksdb-dev libcli11-dev libfmt-dev doctest-dev nlohmann-json3-dev
  libjemalloc-dev
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} > 0)); then
  install="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "floe: missing packages: ${missing[*]}" >&2
    echo "floe: install them as root with:" >&2
    echo "  $install" >&2
    exit 1
  fi
  echo "floe: installing ${missing[*]}" >&2
  bash -c "$install" >/dev/null
fi

configure() {  # configure DIR [meson options...] with CXX from the environment
  local dir=$1
  shift
  if [[ ! -f $dir/build.ninja ]]; then
    meson setup "$dir" "$@" >/dev/null
  fi
}

configure build
meson compile -C build >/dev/null
if [[ ${1:-} == --asan ]]; then
  # clang for the sanitizer build: the suite then also checks that gcc and clang agree on
  # every trace hash.
  CXX=clang++ configure build-asan -Db_sanitize=address,undefined -Dbuildtype=debug -Db_lundef=false
  meson compile -C build-asan >/dev/null
fi
