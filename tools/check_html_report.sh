#!/usr/bin/env bash
# The HTML run report renders: `floe run --report` on a scenario that crashes and restarts a
# node, then headless Chromium loads the file (offline, JavaScript on) and the check reads the
# DOM it drew — a node-status lane per node, shard lanes, crash markers, epoch lines, the
# summary table — and takes a screenshot that must not be blank.
#
# Usage: tools/check_html_report.sh BUILD_DIR
#        (KEEP_REPORT_SCREENSHOT=/path/shot.png also keeps the screenshot, and the report beside
#        it as /path/shot.html, to look at.)
# Exit:  0 ok, 1 the report is wrong or missing, 2 usage, 77 skipped (no Chromium to be had).
set -uo pipefail

if (($# != 1)); then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
floe=$1/tools/floe
scenario=recovery-in-progress-with-node-restart
if [[ ! -x $floe ]]; then
  echo "FAIL html report: no floe binary at $floe"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

skip() {
  echo "SKIP: html report render check: $*"
  exit 77
}

find_chromium() {
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

# CI runs as root on a fresh Debian 12: install Chromium there rather than skip the check.
chromium=$(find_chromium)
if [[ -z $chromium ]]; then
  if ((EUID != 0)) || ! command -v apt-get >/dev/null 2>&1; then
    skip "no chromium, chromium-browser or google-chrome on PATH (and cannot apt-get install)"
  fi
  log=$tmp/apt.log
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; } \
    >"$log" 2>&1; then
    skip "no Chromium, and 'apt-get install chromium' failed: $(tail -n 1 "$log")"
  fi
  chromium=$(find_chromium) || skip "apt-get installed chromium, but it is not on PATH"
fi

# A run that fails its scenario (exit 3..6) still writes its report — that is when one is most
# wanted — so only a missing report fails this check, not the run's own outcome.
report=$tmp/run.html
"$floe" run "$scenario" --seed 1 --report "$report" >"$tmp/run.log" 2>&1
run_code=$?
if [[ ! -s $report ]]; then
  echo "FAIL html report: floe run $scenario --seed 1 --report exited with $run_code and" \
    "wrote no report:"
  tail -n 5 "$tmp/run.log"
  exit 1
fi
run_outcome=$(sed -n 's/^  outcome *//p' "$tmp/run.log" | head -n 1)

# A private profile, no network services, a software renderer: nothing here may reach out.
chrome_flags=(--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage
  --no-first-run --no-default-browser-check --disable-extensions --disable-sync
  --disable-background-networking --user-data-dir="$tmp/profile"
  --virtual-time-budget=5000 "--window-size=1600,1200")
timeout 120 "$chromium" "${chrome_flags[@]}" --dump-dom "file://$report" \
  >"$tmp/dom.html" 2>"$tmp/chromium.log"
code=$?
if ((code != 0)) || [[ ! -s $tmp/dom.html ]]; then
  echo "FAIL html report: $chromium --dump-dom exited with $code:"
  grep -v '^\s*$' "$tmp/chromium.log" | tail -n 5
  exit 1
fi

# Look only at what the script drew, not at the script's own source (which names the classes).
dom=$tmp/drawn.html
perl -0pe 's/<script\b.*?<\/script>//gs' "$tmp/dom.html" >"$dom"
problems=()
has() { grep -qF -- "$1" "$dom"; }
for node in node0 node1 node2 node3 node4; do
  has "class=\"lane\" data-host=\"$node\" data-track=\"node-status\"" ||
    problems+=("no node-status lane for $node")
done
grep -qE 'class="lane" data-host="node[0-9]+" data-track="shard-[0-9]+"' "$dom" ||
  problems+=("no shard lanes")
has 'class="marker crash"' || problems+=("no crash markers")
has 'class="marker restart"' || problems+=("no restart markers")
has 'class="epoch-line"' || problems+=("no epoch lines")
has 'class="seg" data-value="Active"' || problems+=("no Active status segments")
has 'class="span' || problems+=("no work spans")
has 'id="summary"' && has '<th>outcome</th>' || problems+=("no summary table with an outcome")
if has 'class="report-error"'; then
  problems+=("the script failed: $(grep -o 'could not be drawn[^<]*' "$dom")")
elif has 'id="tl-status"'; then
  problems+=("the script never finished drawing")
fi

# A blank page compresses to a few kilobytes, a drawn timeline to far more.
shot=$tmp/shot.png
timeout 120 "$chromium" "${chrome_flags[@]}" --screenshot="$shot" "file://$report" \
  >/dev/null 2>>"$tmp/chromium.log"
shot_bytes=$(stat -c %s "$shot" 2>/dev/null || echo 0)
if ((shot_bytes < 30000)); then
  problems+=("the screenshot is blank or missing (${shot_bytes} bytes)")
fi
if [[ -n ${KEEP_REPORT_SCREENSHOT:-} ]]; then
  cp "$shot" "$KEEP_REPORT_SCREENSHOT" 2>/dev/null
  cp "$report" "${KEEP_REPORT_SCREENSHOT%.png}.html" 2>/dev/null
fi

if ((${#problems[@]})); then
  joined=$(printf '%s; ' "${problems[@]}")
  echo "FAIL html report: ${joined%; }"
  exit 1
fi
lanes=$(grep -o 'class="lane"' "$dom" | wc -l)
crashes=$(grep -o 'class="marker crash"' "$dom" | wc -l)
epochs=$(grep -o 'class="epoch-line" data-epoch' "$dom" | wc -l)
echo "ok  html report renders: $scenario --seed 1 (${run_outcome:-exit $run_code})," \
  "$(stat -c %s "$report") bytes, $lanes lanes, $crashes crash markers, $epochs epoch lines," \
  "screenshot $shot_bytes bytes"
