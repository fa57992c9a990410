#pragma once
// `floe run --perfetto run.json`: the timeline (sim/timeline.h, the recorder the HTML report
// also renders) as Chrome trace-event JSON, which ui.perfetto.dev and chrome://tracing load: a
// process per host (named after it), a thread per named state whose values are complete spans
// ("X"), the host's work as async spans ("b"/"e", which may overlap), crashes, restarts,
// fail-point fires and marks as instant events, and epoch changes as global instants.
// Timestamps are virtual microseconds with nanosecond decimals, so nothing is rounded away.

#include <string>

#include "sim/timeline.h"

namespace floe::tools {

// Returns "" on success, else a one-line error; writes to `path + ".tmp"` and renames, so a
// failure leaves no half-written file.
std::string write_perfetto_json(const sim::Timeline& timeline, const std::string& path);

// The JSON itself (for tests).
std::string perfetto_json(const sim::Timeline& timeline);

}  // namespace floe::tools
