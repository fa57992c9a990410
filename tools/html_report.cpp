#include "tools/html_report.h"

#include "report_assets.h"  // generated: kStyle, kScript (tools/report/)

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>

namespace floe::tools {
namespace {

using nlohmann::json;

// A node with hundreds of concurrent syncs would otherwise get hundreds of rows; past this many
// its spans share rows (and overlap) instead.
constexpr size_t kMaxWorkRows = 24;

constexpr int kCutByCrash = 1;
constexpr int kOpenAtEnd = 2;

// Values, span names and details repeat thousands of times: the data holds each text once and
// items refer to it by index.
class StringTable {
public:
    size_t intern(const std::string& text) {
        const auto [it, inserted] = index_.try_emplace(text, texts_.size());
        if (inserted) {
            texts_.push_back(text);
        }
        return it->second;
    }
    const std::vector<std::string>& texts() const { return texts_; }

private:
    std::map<std::string, size_t> index_;
    std::vector<std::string> texts_;
};

// One host's part of the timeline.
struct HostItems {
    std::map<std::string, std::vector<const sim::TimelineState*>> tracks;
    std::vector<const sim::TimelineSpan*> spans;
    std::vector<const sim::TimelineInstant*> instants;
};

std::string host_name(const sim::Timeline& timeline, uint32_t host) {
    if (host < timeline.hosts.size() && !timeline.hosts[host].empty()) {
        return timeline.hosts[host];
    }
    return fmt::format("host{}", host);
}

// Every named host gets a group, even one that reported nothing: an empty lane says as much.
std::map<uint32_t, HostItems> items_by_host(const sim::Timeline& timeline) {
    std::map<uint32_t, HostItems> hosts;
    for (uint32_t host = 0; host < timeline.hosts.size(); ++host) {
        hosts[host];
    }
    for (const sim::TimelineState& state : timeline.states) {
        hosts[state.host].tracks[state.track].push_back(&state);
    }
    for (const sim::TimelineSpan& span : timeline.spans) {
        hosts[span.host].spans.push_back(&span);
    }
    for (const sim::TimelineInstant& instant : timeline.instants) {
        hosts[instant.host].instants.push_back(&instant);
    }
    return hosts;
}

std::optional<uint64_t> shard_number(std::string_view track) {
    constexpr std::string_view prefix = "shard-";
    if (!track.starts_with(prefix) || track.size() == prefix.size() ||
        track.size() > prefix.size() + 18) {
        return std::nullopt;
    }
    uint64_t number = 0;
    for (const char c : track.substr(prefix.size())) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        number = number * 10 + static_cast<uint64_t>(c - '0');
    }
    return number;
}

// Lane order within a host: what the node was, whether it was up, any other named state (the
// chain's epoch), then its shards by number (shard-2 before shard-10).
std::tuple<int, uint64_t, std::string> track_rank(const std::string& track) {
    if (track == "node-status") {
        return {0, 0, track};
    }
    if (track == "host") {
        return {1, 0, track};
    }
    if (const auto shard = shard_number(track)) {
        return {3, *shard, track};
    }
    return {2, 0, track};
}

int flags(bool cut_by_crash, bool open_at_end) {
    return (cut_by_crash ? kCutByCrash : 0) | (open_at_end ? kOpenAtEnd : 0);
}

json events_lane(const std::vector<const sim::TimelineInstant*>& instants) {
    json items = json::array();
    for (const sim::TimelineInstant* instant : instants) {
        items.push_back({std::string(sim::timeline_instant_kind_name(instant->kind)),
                         instant->at.ns(), instant->text});
    }
    return {{"track", "events"}, {"kind", "events"}, {"items", std::move(items)}};
}

json state_lane(const std::string& track, std::vector<const sim::TimelineState*> states,
                StringTable& strings) {
    std::stable_sort(states.begin(), states.end(), [](const auto* a, const auto* b) {
        return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
    });
    json items = json::array();
    for (const sim::TimelineState* state : states) {
        items.push_back({state->begin.ns(), state->end.ns(), strings.intern(state->value),
                         flags(state->cut_by_crash, false)});
    }
    return {{"track", track}, {"kind", "state"}, {"items", std::move(items)}};
}

// Greedy interval packing: each span, by start, goes to the first row that is free by then.
// A zero-length span needs a row that ended strictly before it, or it would hide under its
// neighbour's edge.
std::vector<std::vector<const sim::TimelineSpan*>> pack_rows(
    std::vector<const sim::TimelineSpan*> spans) {
    std::stable_sort(spans.begin(), spans.end(), [](const auto* a, const auto* b) {
        return std::tie(a->begin, a->end, a->id) < std::tie(b->begin, b->end, b->id);
    });
    std::vector<std::vector<const sim::TimelineSpan*>> rows;
    std::vector<sim::Instant> row_end;
    for (const sim::TimelineSpan* span : spans) {
        const bool zero = span->begin == span->end;
        size_t row = 0;
        while (row < rows.size() &&
               !(row_end[row] < span->begin || (!zero && row_end[row] == span->begin))) {
            ++row;
        }
        if (row == rows.size() && rows.size() == kMaxWorkRows) {
            row = static_cast<size_t>(std::min_element(row_end.begin(), row_end.end()) -
                                      row_end.begin());
        }
        if (row == rows.size()) {
            rows.emplace_back();
            row_end.push_back(span->end);
        }
        rows[row].push_back(span);
        row_end[row] = std::max(row_end[row], span->end);
    }
    return rows;
}

json work_lane(size_t row, const std::vector<const sim::TimelineSpan*>& spans,
               StringTable& strings) {
    json items = json::array();
    for (const sim::TimelineSpan* span : spans) {
        items.push_back({span->begin.ns(), span->end.ns(), strings.intern(span->name),
                         strings.intern(span->details),
                         flags(span->cut_by_crash, span->open_at_end)});
    }
    return {{"track", "work"}, {"kind", "work"}, {"row", row}, {"items", std::move(items)}};
}

// When the host was down: the page shades those stretches across all of the host's lanes.
json down_intervals(const HostItems& items) {
    json down = json::array();
    const auto host_track = items.tracks.find("host");
    if (host_track == items.tracks.end()) {
        return down;
    }
    for (const sim::TimelineState* state : host_track->second) {
        if (state->value == "down") {
            down.push_back({state->begin.ns(), state->end.ns()});
        }
    }
    return down;
}

json host_group(const sim::Timeline& timeline, uint32_t host, const HostItems& items,
                StringTable& strings) {
    json lanes = json::array();
    if (!items.instants.empty()) {
        lanes.push_back(events_lane(items.instants));
    }
    std::vector<const std::string*> tracks;
    for (const auto& [track, states] : items.tracks) {
        tracks.push_back(&track);
    }
    std::sort(tracks.begin(), tracks.end(),
              [](const auto* a, const auto* b) { return track_rank(*a) < track_rank(*b); });
    for (const std::string* track : tracks) {
        lanes.push_back(state_lane(*track, items.tracks.at(*track), strings));
    }
    const auto rows = pack_rows(items.spans);
    for (size_t row = 0; row < rows.size(); ++row) {
        lanes.push_back(work_lane(row, rows[row], strings));
    }
    return {{"host", host_name(timeline, host)},
            {"id", host},
            {"down", down_intervals(items)},
            {"lanes", std::move(lanes)}};
}

// The chain's "epoch" state changes at each epoch boundary. If no host is called "chain", any
// host's "epoch" track will do; a value equal to the one before (the chain restarted) is not a
// boundary.
json epoch_boundaries(const sim::Timeline& timeline) {
    const bool has_chain =
        std::find(timeline.hosts.begin(), timeline.hosts.end(), "chain") != timeline.hosts.end();
    std::vector<const sim::TimelineState*> epochs;
    for (const sim::TimelineState& state : timeline.states) {
        if (state.track == "epoch" && (!has_chain || host_name(timeline, state.host) == "chain")) {
            epochs.push_back(&state);
        }
    }
    std::stable_sort(epochs.begin(), epochs.end(),
                     [](const auto* a, const auto* b) { return a->begin < b->begin; });
    json out = json::array();
    const std::string* previous = nullptr;
    for (const sim::TimelineState* state : epochs) {
        if (previous == nullptr || *previous != state->value) {
            out.push_back({state->begin.ns(), state->value});
        }
        previous = &state->value;
    }
    return out;
}

json report_data(const sim::Timeline& timeline) {
    StringTable strings;
    json groups = json::array();
    json top = json::array();
    for (const auto& [host, items] : items_by_host(timeline)) {
        if (host == 0) {
            top = events_lane(items.instants)["items"];
            // The world host is the scenario driver: its marks go along the top, and it gets a
            // lane group only if it also reported states or work.
            if (items.tracks.empty() && items.spans.empty()) {
                continue;
            }
            HostItems rest = items;
            rest.instants.clear();
            groups.push_back(host_group(timeline, host, rest, strings));
            continue;
        }
        groups.push_back(host_group(timeline, host, items, strings));
    }
    json hosts = json::array();
    for (uint32_t host = 0; host < timeline.hosts.size(); ++host) {
        hosts.push_back(host_name(timeline, host));
    }
    return {{"version", 1},
            {"end", timeline.end.ns()},
            {"hosts", std::move(hosts)},
            {"strings", strings.texts()},
            {"top", std::move(top)},
            {"epochs", epoch_boundaries(timeline)},
            {"groups", std::move(groups)}};
}

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

// JSON inside <script>: "<" only occurs inside JSON strings, where \u003c means the same, and
// without any "<" the data can never close the element ("</script>") or open a comment ("<!--").
std::string script_safe(const std::string& json_text) {
    std::string out;
    out.reserve(json_text.size());
    for (const char c : json_text) {
        if (c == '<') {
            out += "\\u003c";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string summary_rows(const ReportSummary& summary) {
    std::string out;
    for (const auto& [key, value] : summary.rows) {
        // What went wrong is what a reader looks for first.
        const bool bad = key == "failure" || (!summary.passed && key == "outcome");
        const bool mono = key == "reproduce" || key == "trace hash" || key == "seed";
        out += fmt::format("<tr data-key=\"{}\"{}><th>{}</th><td{}>{}</td></tr>\n",
                           html_escape(key), bad ? " class=\"bad\"" : "", html_escape(key),
                           mono ? " class=\"mono\"" : "", html_escape(value));
    }
    return out;
}

// Mark texts and details come from model code: replace bad UTF-8 rather than throw.
std::string dump(const json& data) {
    return data.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The page marks a failed run's end with its outcome and failure, from the summary's rows.
json with_outcome(json data, const ReportSummary& summary) {
    json run = {{"passed", summary.passed}};
    for (const auto& [key, value] : summary.rows) {
        if ((key == "outcome" || key == "failure") && !run.contains(key)) {
            run[key] = value;
        }
    }
    data["run"] = std::move(run);
    return data;
}

std::string document(const sim::Timeline& timeline, const ReportSummary& summary) {
    const std::string title = html_escape(summary.title);
    std::string out;
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out += "<title>floe run: " + title + "</title>\n<style>";
    out += kStyle;
    out += "</style>\n</head>\n<body>\n";
    out += fmt::format(
        "<header class=\"top\"><h1>floe run: {}</h1><span class=\"badge {}\">{}"
        "</span></header>\n",
        title, summary.passed ? "pass" : "fail", summary.passed ? "PASS" : "FAIL");
    out += fmt::format("<div class=\"overview\">\n<table class=\"summary{}\" id=\"summary\">\n",
                       summary.passed ? "" : " failed");
    out += summary_rows(summary);
    out += "</table>\n<div id=\"legend\"></div>\n</div>\n";
    out +=
        "<noscript><p class=\"note\">The timeline is drawn by JavaScript, which is off: only "
        "the summary is shown. The run's data is in this file, as JSON in the script "
        "element \"floe-data\".</p></noscript>\n";
    out += "<p id=\"tl-status\" class=\"note\">Drawing the timeline&hellip;</p>\n";
    out +=
        "<div id=\"tl-sticky\"><div id=\"tl-controls\">"
        "<button id=\"tl-left\" title=\"pan left\">&#9664;</button>"
        "<button id=\"tl-right\" title=\"pan right\">&#9654;</button>"
        "<button id=\"tl-in\" title=\"zoom in\">+</button>"
        "<button id=\"tl-out\" title=\"zoom out\">&minus;</button>"
        "<button id=\"tl-fit\" title=\"show the whole run\">fit</button>"
        "<button id=\"tl-work\" title=\"give every row of work room for its label\">"
        "expand work rows</button>"
        "<span id=\"tl-range\"></span><span id=\"tl-cursor\"></span>"
        "<span class=\"hint\">ctrl+wheel or wheel on the axis: zoom &middot; drag: pan "
        "&middot; drag on the axis: zoom to range &middot; double-click: fit</span></div>\n"
        "<svg id=\"tl-head\"></svg></div>\n";
    out +=
        "<div id=\"tl-body-wrap\"><svg id=\"tl-body\"></svg>"
        "</div>\n<div id=\"tl-tip\" hidden></div>\n";
    out += "<script type=\"application/json\" id=\"floe-data\">";
    out += script_safe(dump(with_outcome(report_data(timeline), summary)));
    out += "</script>\n<script>";
    out += kScript;
    out += "</script>\n</body>\n</html>\n";
    return out;
}

std::string write_error(const std::string& path, int error) {
    return fmt::format("cannot write report '{}': {}", path, std::strerror(error));
}

// Writes `text` to `path + ".tmp"` and renames it over `path`: a failed write leaves nothing
// half-written behind.
std::string write_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    std::FILE* file = std::fopen(tmp.c_str(), "w");
    if (file == nullptr) {
        return write_error(path, errno);
    }
    const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
    const int write_errno = errno;
    const bool closed = std::fclose(file) == 0;
    if (!written || !closed) {
        std::string error = write_error(path, written ? errno : write_errno);
        std::remove(tmp.c_str());
        return error;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string error = write_error(path, errno);
        std::remove(tmp.c_str());
        return error;
    }
    return {};
}

}  // namespace

std::string html_report_data(const sim::Timeline& timeline) {
    return dump(report_data(timeline));
}

std::string html_report(const sim::Timeline& timeline, const ReportSummary& summary) {
    return document(timeline, summary);
}

std::string write_html_report(const sim::Timeline& timeline, const ReportSummary& summary,
                              const std::string& path) {
    try {
        // Check the directory first: no point building a large document that cannot be written.
        const std::filesystem::path parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (path.empty() || (!parent.empty() && !std::filesystem::exists(parent, ec))) {
            return write_error(path, ENOENT);
        }
        if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
            return write_error(path, ENOTDIR);
        }
        return write_file(path, html_report(timeline, summary));
    } catch (const std::exception& e) {
        return fmt::format("cannot write report '{}': {}", path, e.what());
    }
}

}  // namespace floe::tools
