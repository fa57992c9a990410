#include "tools/perfetto.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

namespace floe::tools {
namespace {

using sim::Timeline;
using sim::timeline_instant_kind_name;
using sim::TimelineInstant;
using sim::TimelineSpan;
using sim::TimelineState;

// A JSON string literal. Marks and details are free text: invalid UTF-8 is replaced, not
// passed through into a file the viewers would refuse.
std::string json_string(std::string_view text) {
    return nlohmann::json(std::string(text))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Virtual microseconds, exact to the nanosecond.
std::string micros(int64_t ns) {
    return fmt::format("{}.{:03}", ns / 1000, ns % 1000);
}

// Tracks sort with their numbers as numbers ("shard-2" before "shard-10"); "host" and
// "node-status" first, as the rows an engineer reads first.
struct TrackOrder {
    static std::pair<int, std::pair<std::string, long>> key(const std::string& track) {
        if (track == "host") {
            return {0, {"", 0}};
        }
        if (track == "node-status") {
            return {1, {"", 0}};
        }
        const auto dash = track.rfind('-');
        if (dash != std::string::npos && dash + 1 < track.size() &&
            std::all_of(track.begin() + static_cast<long>(dash) + 1, track.end(),
                        [](char c) { return c >= '0' && c <= '9'; })) {
            return {2, {track.substr(0, dash), std::stol(track.substr(dash + 1))}};
        }
        return {2, {track, -1}};
    }
    bool operator()(const std::string& a, const std::string& b) const { return key(a) < key(b); }
};

constexpr int events_tid = 1;  // crashes, restarts, fail points, marks
constexpr int work_tid = 2;    // async spans hang off this thread in the viewers

class PerfettoWriter {
public:
    explicit PerfettoWriter(const Timeline& timeline) : timeline_(timeline) {
        for (const TimelineState& state : timeline.states) {
            tracks_[state.host].insert(state.track);
        }
        for (const auto& [host, tracks] : tracks_) {
            int tid = work_tid + 1;
            for (const std::string& track : tracks) {
                tids_[{host, track}] = tid++;
            }
        }
    }

    std::string write() {
        out_ = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
        metadata();
        states();
        spans();
        instants();
        epochs();
        if (out_.ends_with(",\n")) {
            out_.resize(out_.size() - 2);  // JSON allows no trailing comma
        }
        out_ += "\n]}\n";
        return std::move(out_);
    }

private:
    static int pid(uint32_t host) { return static_cast<int>(host) + 1; }

    void add(const std::string& event) {
        out_ += event;
        out_ += ",\n";
    }

    void metadata() {
        for (uint32_t host = 0; host < timeline_.hosts.size(); ++host) {
            const std::string& name = timeline_.hosts[host];
            if (name.empty()) {
                continue;
            }
            add(fmt::format(R"({{"ph":"M","pid":{},"name":"process_name","args":{{"name":{}}}}})",
                            pid(host), json_string(name)));
            add(fmt::format(
                R"({{"ph":"M","pid":{},"name":"process_sort_index","args":{{"sort_index":{}}}}})",
                pid(host), host));
            thread_name(host, events_tid, "events", 0);
            thread_name(host, work_tid, "work", 1);
        }
        for (const auto& [key, tid] : tids_) {
            thread_name(key.first, tid, key.second, tid);
        }
    }

    void thread_name(uint32_t host, int tid, std::string_view name, int sort) {
        add(fmt::format(
            R"({{"ph":"M","pid":{},"tid":{},"name":"thread_name","args":{{"name":{}}}}})",
            pid(host), tid, json_string(name)));
        add(fmt::format(
            R"({{"ph":"M","pid":{},"tid":{},"name":"thread_sort_index","args":{{"sort_index":{}}}}})",
            pid(host), tid, sort));
    }

    void states() {
        for (const TimelineState& s : timeline_.states) {
            add(fmt::format(
                R"({{"ph":"X","pid":{},"tid":{},"ts":{},"dur":{},"name":{},"cat":{},"args":{{"cut_by_crash":{}}}}})",
                pid(s.host), tids_.at({s.host, s.track}), micros(s.begin.ns()),
                micros((s.end - s.begin).ns()), json_string(s.value), json_string(s.track),
                s.cut_by_crash));
        }
    }

    void spans() {
        for (const TimelineSpan& s : timeline_.spans) {
            const std::string name = json_string(s.name);
            const std::string label =
                json_string(s.details.empty() ? s.name : s.name + " " + s.details);
            add(fmt::format(
                R"({{"ph":"b","pid":{},"tid":{},"ts":{},"id":{},"cat":{},"name":{},"args":{{"details":{}}}}})",
                pid(s.host), work_tid, micros(s.begin.ns()), s.id, name, label,
                json_string(s.details)));
            const char* how = s.cut_by_crash  ? "cut by crash"
                              : s.open_at_end ? "open at end"
                                              : "done";
            add(fmt::format(
                R"({{"ph":"e","pid":{},"tid":{},"ts":{},"id":{},"cat":{},"name":{},"args":{{"end":"{}"}}}})",
                pid(s.host), work_tid, micros(s.end.ns()), s.id, name, label, how));
        }
    }

    void instants() {
        for (const TimelineInstant& i : timeline_.instants) {
            const std::string_view kind = timeline_instant_kind_name(i.kind);
            const std::string name =
                i.text.empty() ? std::string(kind) : fmt::format("{}: {}", kind, i.text);
            // Crashes and restarts matter to every lane of the host: process-scoped.
            const bool process_wide =
                i.kind == TimelineInstant::Kind::crash || i.kind == TimelineInstant::Kind::restart;
            add(fmt::format(
                R"({{"ph":"i","pid":{},"tid":{},"ts":{},"s":"{}","name":{},"cat":"{}"}})",
                pid(i.host), events_tid, micros(i.at.ns()), process_wide ? "p" : "t",
                json_string(name), kind));
        }
    }

    // An epoch change is a global instant: a line across every process in the viewers.
    void epochs() {
        std::vector<const TimelineState*> epochs;
        for (const TimelineState& s : timeline_.states) {
            if (s.track == "epoch") {
                epochs.push_back(&s);
            }
        }
        std::sort(epochs.begin(), epochs.end(), [](const TimelineState* a, const TimelineState* b) {
            return a->begin < b->begin;
        });
        for (const TimelineState* s : epochs) {
            add(fmt::format(
                R"({{"ph":"i","pid":{},"tid":{},"ts":{},"s":"g","name":{},"cat":"epoch"}})",
                pid(s->host), events_tid, micros(s->begin.ns()), json_string("epoch " + s->value)));
        }
    }

    const Timeline& timeline_;
    std::map<uint32_t, std::set<std::string, TrackOrder>> tracks_;
    std::map<std::pair<uint32_t, std::string>, int> tids_;
    std::string out_;
};

}  // namespace

std::string perfetto_json(const Timeline& timeline) {
    return PerfettoWriter(timeline).write();
}

std::string write_perfetto_json(const Timeline& timeline, const std::string& path) {
    const std::string json = perfetto_json(timeline);
    const std::string tmp = path + ".tmp";
    std::FILE* file = std::fopen(tmp.c_str(), "w");
    if (file == nullptr) {
        return fmt::format("cannot write Perfetto trace '{}': {}", path, std::strerror(errno));
    }
    const bool written = std::fwrite(json.data(), 1, json.size(), file) == json.size();
    const bool closed = std::fclose(file) == 0;
    if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::string error =
            fmt::format("cannot write Perfetto trace '{}': {}", path, std::strerror(errno));
        std::remove(tmp.c_str());
        return error;
    }
    return {};
}

}  // namespace floe::tools
