// The HTML report's timeline (tools/html_report.cpp embeds this file at build time as kScript).
// Draws the timeline from the embedded data. Plain ES2017, no libraries: the file must open
// offline. All drawing is string-built SVG, redrawn for the visible time range on zoom or pan,
// so the DOM only ever holds what is on screen.
(function () {
'use strict';
const status = document.getElementById('tl-status');
try {
  main();
  status.remove();
} catch (err) {
  status.className = 'report-error';
  status.textContent = 'The timeline could not be drawn: ' + err;
}

function main() {
const D = JSON.parse(document.getElementById('floe-data').textContent);
const S = D.strings;
const END = Math.max(D.end, 1);
const failed = !!(D.run && !D.run.passed);
// Labels are placed and cut to fit by their width: the average character width of the labels'
// font, measured once (a fixed guess where there is no canvas).
const CHAR_W = (() => {
  const sample = 'abcdefghijklmnopqrstuvwxyz 0123456789=-_ABCDEFG';
  try {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = '11px ' + getComputedStyle(document.body).fontFamily;
    return Math.max(4, ctx.measureText(sample).width / sample.length) + 0.3;
  } catch (e) { return 6.5; }
})();
const LABEL_W = 190, RIGHT_PAD = 18, MIN_VIEW = 1000;
const LANE_H = {events: 14, 'node-status': 18, host: 7, state: 14, shard: 10, work: 12};
const LANE_GAP = 2, HEAD_H = 18, GROUP_GAP = 6, COMPACT_WORK_H = 60;
const MAX_MARK_ROWS = 4, MARK_ROW_H = 14, EPOCH_ROW_H = 15, AXIS_H = 22;
const FIXED = {
  'node-status': {Standby: '#a3acb9', Active: '#2f9e55', RecoverMetadata: '#8e5cc9',
                  RecoveryCatchUp: '#e8912d', RecoveryInProgress: '#d64545'},
  shard: {None: '#e6e9ed', Active: '#66bb7a', ActiveSync: '#3c87d0', ActiveRecover: '#f0a43a',
          LockedToMove: '#b34fa5'},
  host: {up: '#cfe8d5', down: '#6b6f76'},
  work: {'blob-sync': '#2aa198', 'shard-sync': '#4a6fd1', 'shard-sync-attempt': '#93a9e8',
         recovery: '#9c5fc7'},
};
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1',
                 '#ff9da7', '#9c755f', '#7f8c9a'];
const MARK_COLOUR = {crash: '#d62728', restart: '#2ca02c', 'fail-point': '#f08c00',
                     mark: '#1f5fbf', failure: '#c62828'};

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;',
                                                 '"': '&quot;', "'": '&#39;'})[c]);
}
function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}
function isShard(track) { return /^shard-\d+$/.test(track); }
// "RecoveryInProgress (5)" is coloured, and listed in the legend, as "RecoveryInProgress".
function valueKey(v) { const i = v.indexOf(' ('); return i > 0 ? v.slice(0, i) : v; }
function colour(fam, v) {
  if (fam === 'epoch') return (parseInt(v, 10) % 2) ? '#dfe6ee' : '#c7d2e0';
  const m = FIXED[fam], k = valueKey(v);
  return (m && m[k]) || PALETTE[hash(fam + '/' + k) % PALETTE.length];
}
function isDark(hex) {
  const n = parseInt(hex.slice(1), 16);
  return 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) < 150;
}
// Virtual time exactly as the text trace prints it: "12.345678901s".
function fmtT(ns) {
  const s = Math.floor(ns / 1e9);
  return s + '.' + String(ns - s * 1e9).padStart(9, '0') + 's';
}
function fmtD(ns) {
  if (ns < 1e3) return ns + 'ns';
  if (ns < 1e6) return (ns / 1e3).toFixed(3) + 'us';
  if (ns < 1e9) return (ns / 1e6).toFixed(3) + 'ms';
  return (ns / 1e9).toFixed(3) + 's';
}
function laneKind(l) {
  if (l.kind !== 'state') return l.kind;
  if (l.track === 'node-status' || l.track === 'host') return l.track;
  return isShard(l.track) ? 'shard' : 'state';
}
function laneLabel(l) {
  if (l.kind === 'work') return l.row !== 0 ? '' : (l.rows > 1 ? 'work (' + l.rows + ' rows)' : 'work');
  return l.track;
}

// Vertical layout: zooming only changes the x axis. A burst of concurrent syncs can give a node
// dozens of work rows; compact mode squeezes them into a fixed height (tooltips still tell each
// span apart), expanded mode gives each row room for its label.
let expandWork = false, BODY_H = 30;
function layout() {
  let y = 0;
  for (const g of D.groups) {
    const workRows = g.lanes.filter((l) => l.kind === 'work').length;
    const workH = expandWork || workRows <= 4 ? LANE_H.work
                                              : Math.max(4, Math.floor(COMPACT_WORK_H / workRows));
    g.y0 = y;
    y += HEAD_H;
    for (const l of g.lanes) {
      l.k = laneKind(l);
      l.fam = l.kind === 'work' ? 'work' : (isShard(l.track) ? 'shard' : l.track);
      l.y = y;
      l.h = l.k === 'work' ? workH : LANE_H[l.k];
      l.rows = workRows;
      y += l.h + (l.h < 8 ? 1 : LANE_GAP);
    }
    g.y1 = y;
    y += GROUP_GAP;
  }
  BODY_H = Math.max(y, 30);
}
layout();

const head = document.getElementById('tl-head'), body = document.getElementById('tl-body');
const bodyWrap = document.getElementById('tl-body-wrap'), tipEl = document.getElementById('tl-tip');
let v0 = 0, v1 = END, W = 1000, plotW = 800, tips = [];
const X = (t) => LABEL_W + (t - v0) * plotW / (v1 - v0);
const T = (x) => v0 + (x - LABEL_W) * (v1 - v0) / plotW;
// Clamped to just outside the plot, so a deep zoom never makes huge coordinates.
const cx = (x) => Math.max(LABEL_W - 2, Math.min(LABEL_W + plotW + 2, x));
const r1 = (x) => Math.round(x * 10) / 10;
function tip(t) { tips.push(t); return tips.length - 1; }
const visible = (b, e) => e >= v0 && b <= v1;

function niceTicks() {
  const want = Math.max(2, plotW / 110), raw = (v1 - v0) / want;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const ticks = [];
  for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) ticks.push(t);
  const decimals = Math.max(0, Math.ceil(-Math.log10(step / 1e9) - 1e-9));
  return {ticks, label: (t) => (t / 1e9).toFixed(Math.min(decimals, 9)) + 's'};
}

function segText(text, x0, w, yy, h, fill) {
  const room = Math.floor((w - 6) / CHAR_W);
  if (h < 12 || room < 3) return '';
  const s = text.length > room ? text.slice(0, room - 1) + '\u2026' : text;
  return '<text class="seg-label' + (isDark(fill) ? ' on-dark' : '') + '" x="' + r1(x0 + 3) +
         '" y="' + (yy + h / 2 + 4) + '">' + esc(s) + '</text>';
}
function cutTail(x1, w, yy, h) {
  const tw = Math.min(6, w);
  return '<rect class="cut-tail" x="' + r1(x1 - tw) + '" y="' + yy + '" width="' + r1(tw) +
         '" height="' + h + '" fill="url(#p-cut)"/>';
}

function drawLane(out, g, l) {
  out.push('<g class="lane" data-host="' + esc(g.host) + '" data-track="' + esc(l.track) + '"' +
           (l.kind === 'work' ? ' data-row="' + l.row + '"' : '') + ' data-kind="' + l.kind +
           '">');
  const small = l.h < 12;
  out.push('<text class="lane-label' + (small ? ' small' : '') + '" x="14" y="' +
           (l.y + (small ? Math.max(l.h, 8) - 1 : l.h / 2 + 4)) + '">' + esc(laneLabel(l)) +
           '</text>');
  if (l.kind === 'events') drawEvents(out, g, l);
  else drawIntervals(out, g, l);
  out.push('</g>');
}

function drawIntervals(out, g, l) {
  const work = l.kind === 'work';
  let last = -1;
  for (const it of l.items) {
    if (!visible(it[0], it[1])) continue;
    const x0 = cx(X(it[0])), x1 = cx(X(it[1])), w = Math.max(x1 - x0, 1);
    // Runs of sub-pixel items draw as one pixel, not thousands of overlapping rects.
    if (x1 - x0 < 1 && x0 < last) continue;
    last = x0 + w;
    const flags = work ? it[4] : it[3];
    const value = S[it[2]], fill = colour(l.fam, value);
    const k = tip({t: work ? 'span' : 'state', g, l, it});
    let cls = work ? 'span' : 'seg';
    if (flags & 1) cls += ' cut';
    if (flags & 2) cls += ' open';
    out.push('<rect class="' + cls + '" ' + (work ? 'data-name' : 'data-value') + '="' +
             esc(value) + '" data-tip="' + k + '" x="' + r1(x0) + '" y="' + l.y + '" width="' +
             r1(w) + '" height="' + l.h + '" fill="' + fill + '"' +
             (flags & 2 ? ' stroke="' + fill + '"' : '') + '/>');
    if (flags & 1 && it[1] <= v1) out.push(cutTail(x0 + w, w, l.y, l.h));
    const text = work ? value + ' ' + S[it[3]] : (l.fam === 'epoch' ? 'epoch ' + value : value);
    out.push(segText(text, x0, w, l.y, l.h, fill));
  }
}

function markerShape(kind) {
  const c = MARK_COLOUR[kind] || '#555';
  switch (kind) {
    case 'failure':
    case 'crash': return '<path d="M-4,-4L4,4M-4,4L4,-4" stroke="' + c + '" stroke-width="2.4"/>';
    case 'restart': return '<path d="M0,-5L5,4H-5Z" fill="' + c + '"/>';
    case 'fail-point': return '<path d="M0,-5L5,0L0,5L-5,0Z" fill="' + c + '"/>';
    default: return '<rect x="-1" y="-5" width="2.5" height="10" fill="' + c + '"/>';
  }
}
function marker(kind, host, x, yc, k) {
  return '<g class="marker ' + esc(kind) + '" data-host="' + esc(host) + '" data-tip="' + k +
         '" transform="translate(' + r1(x) + ',' + yc + ')"><circle r="6" fill="transparent"/>' +
         markerShape(kind) + '</g>';
}

// Armed fail points can fire thousands of times: fires of one kind closer than a few pixels draw
// as one marker, whose tooltip counts them. Crashes and restarts are drawn last, on top.
const EVENT_ORDER = ['mark', 'fail-point', 'restart', 'crash'];
function drawEvents(out, g, l) {
  const byKind = new Map();
  for (const it of l.items) {
    if (!visible(it[1], it[1])) continue;
    if (!byKind.has(it[0])) byKind.set(it[0], []);
    byKind.get(it[0]).push(it);
  }
  const kinds = [...byKind.keys()].sort((a, b) => EVENT_ORDER.indexOf(a) - EVENT_ORDER.indexOf(b));
  for (const kind of kinds) {
    let cluster = null;
    const flush = () => {
      if (cluster) {
        out.push(marker(kind, g.host, cluster.x, l.y + l.h / 2,
                        tip({t: 'marker', host: g.host, it: cluster.items[0], all: cluster.items})));
      }
    };
    for (const it of byKind.get(kind)) {
      const x = X(it[1]);
      if (cluster && x - cluster.x < 4) { cluster.items.push(it); continue; }
      flush();
      cluster = {x, items: [it]};
    }
    flush();
  }
}

// Crashes and restarts cut through all of the host's lanes, so their effect on each shard and
// sync lines up by eye.
function drawHostLines(out, g) {
  for (const l of g.lanes) {
    if (l.kind !== 'events') continue;
    for (const it of l.items) {
      if ((it[0] !== 'crash' && it[0] !== 'restart') || !visible(it[1], it[1])) continue;
      const x = r1(X(it[1]));
      out.push('<line class="' + it[0] + '-line" x1="' + x + '" x2="' + x + '" y1="' +
               (g.y0 + HEAD_H) + '" y2="' + g.y1 + '"/>');
    }
  }
}

function groupInfo(g) {
  const counts = {};
  for (const l of g.lanes) {
    if (l.kind === 'events') for (const it of l.items) counts[it[0]] = (counts[it[0]] || 0) + 1;
  }
  const parts = [];
  const say = (n, one, many) => { if (n) parts.push(n + ' ' + (n > 1 ? many : one)); };
  say(counts.crash, 'crash', 'crashes');
  say(counts.restart, 'restart', 'restarts');
  say(counts['fail-point'], 'fail-point fire', 'fail-point fires');
  say(counts.mark, 'mark', 'marks');
  const work = g.lanes.reduce((n, l) => n + (l.kind === 'work' ? l.items.length : 0), 0);
  say(work, 'span of work', 'spans of work');
  return parts.join(' \u00b7 ');
}

function drawGroup(out, g) {
  out.push('<g class="host-group" data-host="' + esc(g.host) + '">');
  out.push('<rect class="group-bg" x="0" y="' + g.y0 + '" width="' + W + '" height="' +
           (g.y1 - g.y0) + '"/>');
  out.push('<line class="group-rule" x1="0" x2="' + W + '" y1="' + (g.y0 + 0.5) + '" y2="' +
           (g.y0 + 0.5) + '"/>');
  out.push('<text class="group-name" x="6" y="' + (g.y0 + 13) + '">' + esc(g.host) + '</text>');
  out.push('<text class="group-info" x="' + (LABEL_W + 6) + '" y="' + (g.y0 + 13) + '">' +
           esc(groupInfo(g)) + '</text>');
  for (const l of g.lanes) {
    if (l.kind === 'events') continue;
    out.push('<rect class="lane-bg" x="' + LABEL_W + '" y="' + l.y + '" width="' + plotW +
             '" height="' + l.h + '"/>');
  }
  for (const d of g.down) {
    if (!visible(d[0], d[1])) continue;
    const x0 = cx(X(d[0])), x1 = cx(X(d[1]));
    out.push('<rect class="down" data-tip="' + tip({t: 'down', host: g.host, d}) + '" x="' +
             r1(x0) + '" y="' + (g.y0 + HEAD_H) + '" width="' + r1(Math.max(x1 - x0, 1)) +
             '" height="' + (g.y1 - g.y0 - HEAD_H) + '" fill="url(#p-down)" opacity=".55"/>');
  }
  for (const l of g.lanes) drawLane(out, g, l);
  drawHostLines(out, g);
  out.push('</g>');
}

const DEFS = '<defs>' +
  '<pattern id="p-down" width="6" height="6" patternUnits="userSpaceOnUse" ' +
  'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e4e6ea"/>' +
  '<rect width="3" height="6" fill="#b9bec7"/></pattern>' +
  '<pattern id="p-cut" width="4" height="4" patternUnits="userSpaceOnUse" ' +
  'patternTransform="rotate(45)"><rect width="4" height="4" fill="#fff"/>' +
  '<rect width="2" height="4" fill="#d62728"/></pattern></defs>';

function renderBody(ticks) {
  const out = [DEFS, '<g class="grid">'];
  for (const t of ticks.ticks) {
    const x = r1(X(t));
    out.push('<line x1="' + x + '" x2="' + x + '" y1="0" y2="' + BODY_H + '"/>');
  }
  out.push('</g>');
  for (const g of D.groups) drawGroup(out, g);
  out.push('<g class="epochs">');
  for (const e of D.epochs) {
    if (!visible(e[0], e[0])) continue;
    const x = r1(X(e[0]));
    out.push('<line class="epoch-line" data-epoch="' + esc(e[1]) + '" x1="' + x + '" x2="' + x +
             '" y1="0" y2="' + BODY_H + '"/>');
  }
  out.push('</g>');
  if (failed && END <= v1) {
    const x = r1(X(END));
    out.push('<line class="failure-line" x1="' + x + '" x2="' + x + '" y1="0" y2="' + BODY_H +
             '"/>');
  }
  out.push('<line class="label-rule" x1="' + LABEL_W + '" x2="' + LABEL_W + '" y1="0" y2="' +
           BODY_H + '"/><line class="cursor" id="cursor-body" y1="0" y2="' + BODY_H +
           '" visibility="hidden"/>');
  if (!D.groups.length) {
    out.push('<text class="lane-label" x="' + (LABEL_W + 10) + '" y="20">no hosts reported ' +
             'anything</text>');
  }
  body.setAttribute('width', W);
  body.setAttribute('height', BODY_H);
  body.innerHTML = out.join('');
}

// The scenario's marks: labels packed into a few rows, so neighbours do not overprint; a mark
// with no room left keeps its tick and tooltip.
// The scenario's marks along the top; a failed run ends where the failure was found, so its
// outcome goes there too, as the last mark.
const TOP = failed ? D.top.concat([['failure', END, (D.run.outcome || 'FAIL') +
                                                        (D.run.failure ? ': ' + D.run.failure : '')]])
                   : D.top;
function markLabel(it) {
  const label = it[0] === 'mark' || it[0] === 'failure' ? it[2] : it[0] + (it[2] ? ': ' + it[2] : '');
  const max = it[0] === 'failure' ? 100 : 60;
  return label.length > max ? label.slice(0, max - 1) + '\u2026' : label;
}
// Where a mark's label goes: right of its tick, or left of it near the end of the plot.
function markSpan(x, label) {
  const w = 8 + label.length * CHAR_W, right = x + w > LABEL_W + plotW;
  return {lo: right ? x - w : x, hi: right ? x : x + w, right};
}
// How many label rows the marks need when the whole run is shown (zooming in only spreads them).
function markRowsNeeded() {
  const rowEnd = [];
  for (const it of TOP) {
    const span = markSpan(X(it[1]), markLabel(it));
    const row = rowEnd.findIndex((e) => e + 6 <= span.lo);
    if (row < 0) rowEnd.push(span.hi); else rowEnd[row] = span.hi;
  }
  return Math.max(1, Math.min(MAX_MARK_ROWS, rowEnd.length));
}
function drawTopMarks(out) {
  const world = D.hosts[0] || 'world';
  const rowEnd = new Array(MARK_ROWS).fill(-Infinity);
  out.push('<g class="lane" data-host="' + esc(world) + '" data-track="marks" data-kind="events">');
  for (const it of TOP) {
    if (!visible(it[1], it[1])) continue;
    const x = X(it[1]);
    const short = markLabel(it), span = markSpan(x, short);
    const row = rowEnd.findIndex((e) => e + 6 <= span.lo);
    const yy = (row < 0 ? MARK_ROWS - 1 : row) * MARK_ROW_H;
    const failure = it[0] === 'failure';
    out.push('<line class="' + (failure ? 'failure-line' : 'mark-line') + '" x1="' + r1(x) +
             '" x2="' + r1(x) + '" y1="' + (yy + 2) + '" y2="' + HEADER_H + '"/>');
    out.push(marker(it[0], world, x, yy + 7,
                    tip(failure ? {t: 'failure'} : {t: 'marker', host: world, it})));
    if (row >= 0) {
      rowEnd[row] = span.hi;
      out.push('<text class="' + (failure ? 'failure-label' : 'mark-label') + '" x="' +
               r1(span.right ? x - 6 : x + 6) + '" y="' +
               (yy + 11) + '"' + (span.right ? ' text-anchor="end"' : '') + '>' + esc(short) +
               '</text>');
    }
  }
  out.push('</g>');
}

function drawEpochLabels(out) {
  let lastEnd = -Infinity;
  out.push('<g class="epoch-labels">');
  for (const e of D.epochs) {
    if (!visible(e[0], e[0])) continue;
    const x = X(e[0]), text = 'epoch ' + e[1], short = e[1];
    const k = tip({t: 'epoch', e});
    out.push('<line class="epoch-line" x1="' + r1(x) + '" x2="' + r1(x) + '" y1="' + MARKS_H +
             '" y2="' + HEADER_H + '"/>');
    const label = x - lastEnd > 4 + text.length * CHAR_W ? text : (x - lastEnd > 4 + short.length * CHAR_W
                                                              ? short : '');
    if (label) {
      out.push('<text class="epoch-label" data-tip="' + k + '" x="' + r1(x + 3) + '" y="' +
               (MARKS_H + 11) + '">' + esc(label) + '</text>');
      lastEnd = x + 3 + label.length * CHAR_W;
    }
  }
  out.push('</g>');
}

function renderHead(ticks) {
  const out = ['<rect x="0" y="0" width="' + W + '" height="' + HEADER_H + '" fill="#fff"/>'];
  out.push('<text class="lane-label" x="6" y="12">scenario marks</text>');
  out.push('<text class="lane-label" x="6" y="' + (MARKS_H + 11) + '">epochs</text>');
  out.push('<text class="lane-label" x="6" y="' + (HEADER_H - 6) + '">virtual time</text>');
  drawTopMarks(out);
  drawEpochLabels(out);
  const axisY = HEADER_H - AXIS_H;
  out.push('<g class="axis"><line class="axis-rule" x1="' + LABEL_W + '" x2="' +
           (LABEL_W + plotW) + '" y1="' + (HEADER_H - 0.5) + '" y2="' + (HEADER_H - 0.5) + '"/>');
  for (const t of ticks.ticks) {
    const x = r1(X(t));
    out.push('<line class="axis-rule" x1="' + x + '" x2="' + x + '" y1="' + (HEADER_H - 5) +
             '" y2="' + HEADER_H + '"/><text class="axis-label" x="' + x + '" y="' +
             (axisY + 12) + '" text-anchor="middle">' + ticks.label(t) + '</text>');
  }
  out.push('</g><line class="label-rule" x1="' + LABEL_W + '" x2="' + LABEL_W + '" y1="0" y2="' +
           HEADER_H + '"/><line class="cursor" id="cursor-head" y1="0" y2="' + HEADER_H +
           '" visibility="hidden"/><rect class="brush" id="brush" y="0" height="' + HEADER_H +
           '" width="0" visibility="hidden"/>');
  head.setAttribute('width', W);
  head.setAttribute('height', HEADER_H);
  head.innerHTML = out.join('');
}

function measure() {
  W = Math.max(640, bodyWrap.clientWidth);
  plotW = W - LABEL_W - RIGHT_PAD;
}
function render() {
  measure();
  tips = [];
  const ticks = niceTicks();
  renderHead(ticks);
  renderBody(ticks);
  document.getElementById('tl-range').textContent =
      'showing ' + fmtT(Math.round(v0)) + ' \u2013 ' + fmtT(Math.round(v1)) + ' of ' + fmtT(END);
}

let pending = false;
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}
function setView(a, b) {
  let span = Math.min(Math.max(b - a, MIN_VIEW), END);
  a = Math.max(0, Math.min(a, END - span));
  v0 = a;
  v1 = a + span;
  // The view goes in the address (#view=12.5,14), so a reload or a shared link shows the same.
  const whole = v0 === 0 && v1 === END;
  try {
    history.replaceState(null, '', whole ? location.pathname + location.search
                                         : '#view=' + (v0 / 1e9).toFixed(9) + ',' +
                                               (v1 / 1e9).toFixed(9));
  } catch (e) { /* some file:// contexts refuse; the view still changes */ }
  schedule();
}
function viewFromHash() {
  const m = /^#view=([0-9.]+),([0-9.]+)$/.exec(location.hash);
  if (!m) return;
  const a = parseFloat(m[1]) * 1e9, b = parseFloat(m[2]) * 1e9;
  if (b > a) {
    const span = Math.min(Math.max(b - a, MIN_VIEW), END);
    v0 = Math.max(0, Math.min(a, END - span));
    v1 = v0 + span;
  }
}
function zoom(tc, factor) {
  const span = Math.min(Math.max((v1 - v0) * factor, MIN_VIEW), END);
  const a = tc - (tc - v0) * span / (v1 - v0);
  setView(a, a + span);
}
const pan = (frac) => setView(v0 + frac * (v1 - v0), v1 + frac * (v1 - v0));

// Tooltips.
function row(k, v) { return '<div><span class="k">' + esc(k) + '</span> ' + esc(v) + '</div>'; }
function when(b, e) { return fmtT(b) + ' \u2192 ' + fmtT(e) + '  (' + fmtD(e - b) + ')'; }
function tipHtml(t) {
  if (t.t === 'state' || t.t === 'span') {
    const it = t.it, work = t.t === 'span', flags = work ? it[4] : it[3];
    let h = '<b>' + esc(S[it[2]]) + '</b>' + (work && S[it[3]] ? ' ' + esc(S[it[3]]) : '');
    h += row('host', t.g.host) + row(work ? 'lane' : 'track', work ? 'work ' + (t.l.row + 1)
                                                                    : t.l.track);
    h += row('time', when(it[0], it[1]));
    if (flags & 1) h += '<div class="flag">cut by a crash</div>';
    if (flags & 2) h += '<div class="flag">still running when the run ended</div>';
    return h;
  }
  if (t.t === 'marker' && t.all && t.all.length > 1) {
    const all = t.all, counts = new Map();
    for (const it of all) counts.set(it[2], (counts.get(it[2]) || 0) + 1);
    const names = [...counts].sort((a, b) => b[1] - a[1]);
    let h = '<b>' + all.length + ' \u00d7 ' + esc(t.it[0]) + '</b>' + row('host', t.host) +
            row('time', when(all[0][1], all[all.length - 1][1]));
    for (const [name, n] of names.slice(0, 8)) h += row(n + ' \u00d7', name || '(no text)');
    if (names.length > 8) h += '<div class="k">and ' + (names.length - 8) + ' more</div>';
    return h;
  }
  if (t.t === 'marker') {
    const it = t.it;
    return '<b>' + esc(it[0]) + '</b>' + (it[2] ? ' ' + esc(it[2]) : '') + row('host', t.host) +
           row('at', fmtT(it[1]));
  }
  if (t.t === 'down') return '<b>down</b>' + row('host', t.host) + row('time', when(t.d[0], t.d[1]));
  if (t.t === 'failure') {
    return '<b>' + esc(D.run.outcome || 'FAIL') + '</b>' +
           (D.run.failure ? '<div>' + esc(D.run.failure) + '</div>' : '') + row('at', fmtT(END));
  }
  if (t.t === 'epoch') return '<b>epoch ' + esc(t.e[1]) + '</b>' + row('from', fmtT(t.e[0]));
  return '';
}
function onMove(ev) {
  const svg = ev.currentTarget, x = ev.clientX - svg.getBoundingClientRect().left;
  const inPlot = x >= LABEL_W && x <= LABEL_W + plotW;
  for (const id of ['cursor-body', 'cursor-head']) {
    const c = document.getElementById(id);
    if (!c) continue;
    c.setAttribute('x1', x);
    c.setAttribute('x2', x);
    c.setAttribute('visibility', inPlot ? 'visible' : 'hidden');
  }
  document.getElementById('tl-cursor').textContent = inPlot ? 'cursor ' + fmtT(Math.round(T(x)))
                                                            : '';
  const target = ev.target.closest ? ev.target.closest('[data-tip]') : null;
  if (!target || drag) { tipEl.hidden = true; return; }
  tipEl.innerHTML = tipHtml(tips[+target.getAttribute('data-tip')]);
  tipEl.hidden = false;
  const tw = tipEl.offsetWidth, th = tipEl.offsetHeight;
  let left = ev.clientX + 14, top = ev.clientY + 14;
  if (left + tw > window.innerWidth - 4) left = Math.max(4, ev.clientX - tw - 14);
  if (top + th > window.innerHeight - 4) top = Math.max(4, ev.clientY - th - 14);
  tipEl.style.left = left + 'px';
  tipEl.style.top = top + 'px';
}
function onLeave() {
  tipEl.hidden = true;
  for (const id of ['cursor-body', 'cursor-head']) {
    const c = document.getElementById(id);
    if (c) c.setAttribute('visibility', 'hidden');
  }
  document.getElementById('tl-cursor').textContent = '';
}

// Ctrl+wheel (or any wheel over the axis) zooms at the pointer; shift+wheel pans; drag pans the
// lanes; drag across the axis zooms to that range; double-click shows everything.
function onWheel(ev, overHead) {
  const x = ev.clientX - ev.currentTarget.getBoundingClientRect().left;
  if (x < LABEL_W) return;
  const sideways = Math.abs(ev.deltaX) > Math.abs(ev.deltaY);
  if (ev.ctrlKey || ev.metaKey || (overHead && !sideways && !ev.shiftKey)) {
    ev.preventDefault();
    zoom(T(x), ev.deltaY > 0 ? 1.25 : 0.8);
  } else if (ev.shiftKey || sideways) {
    ev.preventDefault();
    pan(((sideways ? ev.deltaX : ev.deltaY) > 0 ? 1 : -1) * 0.1);
  }
}
let drag = null;
function onDown(ev, overHead) {
  const x = ev.clientX - ev.currentTarget.getBoundingClientRect().left;
  if (ev.button !== 0 || x < LABEL_W) return;
  drag = {x, a: v0, b: v1, head: overHead, svg: ev.currentTarget};
  ev.currentTarget.setPointerCapture(ev.pointerId);
  tipEl.hidden = true;
}
function onDrag(ev) {
  if (!drag) return;
  const x = ev.clientX - drag.svg.getBoundingClientRect().left;
  if (drag.head) {
    const brush = document.getElementById('brush');
    brush.setAttribute('x', Math.min(x, drag.x));
    brush.setAttribute('width', Math.abs(x - drag.x));
    brush.setAttribute('visibility', 'visible');
    return;
  }
  const shift = (x - drag.x) * (drag.b - drag.a) / plotW;
  setView(drag.a - shift, drag.b - shift);
}
function onUp(ev) {
  if (!drag) return;
  const x = ev.clientX - drag.svg.getBoundingClientRect().left;
  if (drag.head) {
    document.getElementById('brush').setAttribute('visibility', 'hidden');
    if (Math.abs(x - drag.x) > 4) setView(T(Math.min(x, drag.x)), T(Math.max(x, drag.x)));
  }
  drag = null;
}
for (const [svg, overHead] of [[head, true], [body, false]]) {
  svg.addEventListener('mousemove', onMove);
  svg.addEventListener('mouseleave', onLeave);
  svg.addEventListener('wheel', (ev) => onWheel(ev, overHead), {passive: false});
  svg.addEventListener('pointerdown', (ev) => onDown(ev, overHead));
  svg.addEventListener('pointermove', onDrag);
  svg.addEventListener('pointerup', onUp);
  svg.addEventListener('pointercancel', onUp);
  svg.addEventListener('dblclick', () => setView(0, END));
}
const buttons = {'tl-in': () => zoom((v0 + v1) / 2, 0.5), 'tl-out': () => zoom((v0 + v1) / 2, 2),
                 'tl-fit': () => setView(0, END), 'tl-left': () => pan(-0.25),
                 'tl-right': () => pan(0.25), 'tl-work': toggleWork};
function toggleWork() {
  expandWork = !expandWork;
  document.getElementById('tl-work').textContent = expandWork ? 'compact work rows'
                                                               : 'expand work rows';
  layout();
  render();
}
for (const id in buttons) document.getElementById(id).addEventListener('click', buttons[id]);
window.addEventListener('resize', schedule);

// The legend lists only what occurs in this run.
function legend() {
  const seen = {};
  const note = (fam, v) => { (seen[fam] = seen[fam] || new Set()).add(valueKey(v)); };
  for (const g of D.groups) {
    for (const l of g.lanes) {
      if (l.kind === 'events') continue;
      for (const it of l.items) note(isShard(l.track) || l.kind === 'work' ? l.fam : l.track,
                                     S[it[2]]);
    }
  }
  const names = {'node-status': 'node status', shard: 'shard', host: 'host', work: 'work'};
  const order = ['node-status', 'shard', 'host'].concat(
      Object.keys(seen).filter((f) => !(f in names)).sort(), ['work']);
  let h = '';
  for (const fam of order) {
    if (!seen[fam] || fam === 'epoch') continue;
    const known = Object.keys(FIXED[fam] || {});
    const values = known.filter((v) => seen[fam].has(v)).concat(
        [...seen[fam]].filter((v) => !known.includes(v)).sort());
    h += '<div class="sec"><b>' + esc(names[fam] || fam) + '</b>';
    for (const v of values.slice(0, 16)) {
      const shown = v === 'RecoveryInProgress' ? 'RecoveryInProgress (E)' : v;
      h += '<span class="item"><span class="sw" style="background:' + colour(fam, v) +
           '"></span>' + esc(shown) + '</span>';
    }
    h += '</div>';
  }
  h += '<div class="sec"><b>markers</b>' +
       '<span class="item"><span class="sym" style="color:#d62728">\u2715</span>crash</span>' +
       '<span class="item"><span class="sym" style="color:#2ca02c">\u25B2</span>restart</span>' +
       '<span class="item"><span class="sym" style="color:#f08c00">\u25C6</span>fail point</span>' +
       '<span class="item"><span class="sym" style="color:#1f5fbf">|</span>mark</span>' +
       '<span class="item"><span class="sym" style="color:#3a5a8c">\u254E</span>epoch</span>' +
       '<span class="item"><span class="sw down"></span>host down</span>' +
       '<span class="item"><span class="sw cut"></span>cut by crash</span>' +
       '<span class="item"><span class="sw open"></span>running at end</span></div>';
  document.getElementById('legend').innerHTML = h;
}

legend();
measure();
const MARK_ROWS = markRowsNeeded(), MARKS_H = MARK_ROWS * MARK_ROW_H;
const HEADER_H = MARKS_H + EPOCH_ROW_H + AXIS_H;
viewFromHash();
render();
}
})();
