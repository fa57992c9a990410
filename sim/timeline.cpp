#include "sim/timeline.h"

#include <fmt/format.h>

#include "sim/assert.h"

namespace sim {

std::string_view timeline_instant_kind_name(TimelineInstant::Kind kind) {
    switch (kind) {
        case TimelineInstant::Kind::crash: return "crash";
        case TimelineInstant::Kind::restart: return "restart";
        case TimelineInstant::Kind::fail_point: return "fail-point";
        case TimelineInstant::Kind::mark: return "mark";
    }
    FLOE_UNREACHABLE("timeline instant kind {}", static_cast<int>(kind));
}

uint32_t TimelineRecorder::wanted_kinds() const {
    return trace_kind_bit(TraceKind::host_started) | trace_kind_bit(TraceKind::host_killed) |
           trace_kind_bit(TraceKind::host_restarted) | trace_kind_bit(TraceKind::fail_point_hit) |
           trace_kind_bit(TraceKind::mark) | trace_kind_bit(TraceKind::state) |
           trace_kind_bit(TraceKind::span_begin) | trace_kind_bit(TraceKind::span_end);
}

void TimelineRecorder::note_host(uint32_t host, std::string_view name) {
    if (timeline_.hosts.size() <= host) {
        timeline_.hosts.resize(host + 1);
    }
    if (timeline_.hosts[host].empty()) {
        timeline_.hosts[host] = std::string(name);
    }
}

void TimelineRecorder::record(const TraceRecord& r) {
    note_host(r.host, r.host_name);
    last_event_ = r.time;
    switch (r.kind) {
        case TraceKind::host_started: {
            const bool first_boot = r.details == "incarnation=1";
            if (!first_boot) {
                timeline_.instants.push_back(
                    {r.host, TimelineInstant::Kind::restart, std::string(r.details), r.time});
            }
            close_state(r.host, "host", r.time, false);
            open_states_[{r.host, "host"}] = OpenState{"up", r.time};
            return;
        }
        case TraceKind::host_killed: crash(r.host, r.time); return;
        case TraceKind::host_restarted:
            // The restart is scheduled at the crash instant: say when it comes back.
            if (!timeline_.instants.empty() &&
                timeline_.instants.back().kind == TimelineInstant::Kind::crash &&
                timeline_.instants.back().host == r.host) {
                timeline_.instants.back().text =
                    fmt::format("restart after {}", r.details.substr(r.details.find('=') + 1));
            }
            return;
        case TraceKind::fail_point_hit:
            timeline_.instants.push_back(
                {r.host, TimelineInstant::Kind::fail_point, std::string(r.details), r.time});
            return;
        case TraceKind::mark:
            timeline_.instants.push_back(
                {r.host, TimelineInstant::Kind::mark, std::string(r.details), r.time});
            return;
        case TraceKind::state: {
            const std::string track(r.name);
            close_state(r.host, track, r.time, false);
            if (!r.value.empty()) {  // an empty value ends the state without a new one
                open_states_[{r.host, track}] = OpenState{std::string(r.value), r.time};
            }
            return;
        }
        case TraceKind::span_begin:
            open_spans_[r.span] = TimelineSpan{
                r.host, r.span, std::string(r.name), std::string(r.value), r.time, r.time,
                false,  false};
            return;
        case TraceKind::span_end: {
            auto it = open_spans_.find(r.span);
            if (it == open_spans_.end()) {
                return;  // already cut by a crash
            }
            it->second.end = r.time;
            timeline_.spans.push_back(std::move(it->second));
            open_spans_.erase(it);
            return;
        }
        default:
            FLOE_UNREACHABLE("timeline got an unwanted trace kind {}", trace_kind_name(r.kind));
    }
}

void TimelineRecorder::close_state(uint32_t host, const std::string& track, Instant at,
                                   bool by_crash) {
    auto it = open_states_.find({host, track});
    if (it == open_states_.end()) {
        return;
    }
    timeline_.states.push_back(
        TimelineState{host, track, std::move(it->second.value), it->second.begin, at, by_crash});
    open_states_.erase(it);
}

void TimelineRecorder::crash(uint32_t host, Instant at) {
    timeline_.instants.push_back({host, TimelineInstant::Kind::crash, "", at});
    std::vector<std::string> tracks;
    for (auto it = open_states_.lower_bound({host, std::string()});
         it != open_states_.end() && it->first.first == host; ++it) {
        tracks.push_back(it->first.second);
    }
    for (const std::string& track : tracks) {
        close_state(host, track, at, true);
    }
    open_states_[{host, "host"}] = OpenState{"down", at};
    for (auto it = open_spans_.begin(); it != open_spans_.end();) {
        if (it->second.host != host) {
            ++it;
            continue;
        }
        it->second.end = at;
        it->second.cut_by_crash = true;
        timeline_.spans.push_back(std::move(it->second));
        it = open_spans_.erase(it);
    }
}

Timeline TimelineRecorder::finish(Instant end) {
    for (auto& [key, open] : open_states_) {
        timeline_.states.push_back(
            TimelineState{key.first, key.second, std::move(open.value), open.begin, end, false});
    }
    open_states_.clear();
    for (auto& [id, span] : open_spans_) {
        span.end = end;
        span.open_at_end = true;
        timeline_.spans.push_back(std::move(span));
    }
    open_spans_.clear();
    timeline_.end = end;
    return std::move(timeline_);
}

}  // namespace sim
