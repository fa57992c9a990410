#!/usr/bin/env bash
# Layering rules (ARCHITECTURE.md):
#   sim/ never includes node/, scenarios/ or tools/ (the kernel knows nothing of Walrus, nor of
#   the CLI and the viewers' writers: tools/html_report, tools/perfetto);
#   node/ reaches the kernel only through the runtime interface headers below, and never asks
#   whether it is simulated.
# `check_layering.sh --self-test` proves the check catches each kind of violation.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}

RUNTIME_HEADERS='sim/(runtime|sync|task|time|rng|result|assert|function)\.h'

check_tree() {
  local tree=$1 status=0
  if [[ -d $tree/sim ]] && grep -rnE '#include\s+"(node|scenarios|tools)/' "$tree/sim"; then
    echo "layering: sim/ must not include node/, scenarios/ or tools/" >&2
    status=1
  fi
  if [[ -d $tree/node ]]; then
    local bad
    bad=$(grep -rnE '#include\s+"sim/' "$tree/node" | grep -vE "#include\s+\"$RUNTIME_HEADERS\"" || true)
    if [[ -n $bad ]]; then
      echo "$bad"
      echo "layering: node/ may include only the runtime interface (sim/runtime.h and friends)" >&2
      status=1
    fi
    if grep -rnE 'is_simulated|isSimulated|#\s*if(def)?\s+.*SIM' "$tree/node"; then
      echo "layering: node/ must not ask whether it is simulated" >&2
      status=1
    fi
  fi
  return $status
}

if [[ ${1:-} == --self-test ]]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/sim" "$scratch/node"
  echo '#include "sim/runtime.h"' >"$scratch/node/ok.cpp"
  check_tree "$scratch" >/dev/null 2>&1 || { echo "self-test: a clean tree failed"; exit 1; }
  for violation in 'sim/k.cpp:#include "node/storage.h"' 'sim/k.cpp:#include "tools/perfetto.h"' \
                   'node/a.cpp:#include "sim/scheduler.h"' 'node/b.cpp:#ifdef FLOE_SIM'; do
    file=${violation%%:*}
    rm -f "$scratch/sim/k.cpp" "$scratch/node/a.cpp" "$scratch/node/b.cpp"
    echo "${violation#*:}" >"$scratch/$file"
    if check_tree "$scratch" >/dev/null 2>&1; then
      echo "self-test: missed '${violation#*:}' in $file"
      exit 1
    fi
  done
  echo "layering self-test: ok"
  exit 0
fi

check_tree "$root"
echo "layering: ok"
