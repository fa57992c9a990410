#pragma once
// `floe run --report run.html`: one self-contained HTML file (no network, no external assets)
// that shows a run as a timeline — per-node swimlanes of node status and shard statuses over
// virtual time, crashes and restarts, epoch boundaries, fail-point fires, blob/shard syncs and
// recovery spans, the scenario's own marks — with the run summary beside it.
//
// The page is split in two: the summary is plain server-side HTML (so it shows without
// JavaScript), and the timeline is data — laid out here into lanes, embedded once as JSON — that
// inline JavaScript draws into SVG, so zooming only redraws and the file stays small.

#include <string>
#include <utility>
#include <vector>

#include "sim/timeline.h"

namespace floe::tools {

struct ReportSummary {
    std::string title;  // e.g. "swarm --seed 28"
    bool passed = true;
    // Shown in order, as a two-column table: ("outcome", "FAIL (invariant)"), ("failure", ...),
    // ("virtual time", ...), ("trace hash", ...), ("reproduce", "floe run ...") ...
    std::vector<std::pair<std::string, std::string>> rows;
};

// Writes the report. Returns "" on success, else a one-line error (e.g. "cannot write report
// 'x.html': No such file or directory"); never throws.
std::string write_html_report(const sim::Timeline& timeline, const ReportSummary& summary,
                              const std::string& path);

// The pieces, for tests.
//
// The timeline as the page's JSON data:
//   {"version": 1, "end": ns, "hosts": [name...], "strings": [text...],
//    "top":    [[kind, at, text]...]             the world host's instants (the scenario's marks)
//    "epochs": [[at, "epoch"]...]                where the chain's epoch changes
//    "groups": [{"host": name, "id": host id, "down": [[begin, end]...], "lanes": [lane...]}]}
// A lane is {"track", "kind", "items"}: kind "events" has [kind, at, text] items; kind "state"
// (track "node-status", "host", "shard-17", ...) has [begin, end, value, flags]; kind "work"
// (track "work", plus "row": 0, 1, ...) has [begin, end, name, details, flags], where value,
// name and details index "strings" and flags is 1 for cut by a crash, 2 for open at the end.
// Times are virtual nanoseconds. The page's copy also has "run": {"passed", "outcome",
// "failure"} from the summary, to mark where a failed run stopped.
std::string html_report_data(const sim::Timeline& timeline);

// The whole document.
std::string html_report(const sim::Timeline& timeline, const ReportSummary& summary);

}  // namespace floe::tools
