#pragma once
// The run as a timeline: what each host was (its named states over time), what it did (spans of
// work), and what happened to it (crashes, restarts, fail-point fires, marks). A TraceSink that
// keeps only these events — not the scheduler's resumes and messages — so it stays small enough
// to hold in memory for a whole run; the Perfetto writer and the HTML report render from it.
//
// A crash ends every open state and span of the host at the crash instant (its fibers are
// unwound; their own span ends, if any arrive, are ignored), and its states start again when the
// restarted host reports them.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/time.h"
#include "sim/trace.h"

namespace sim {

struct TimelineState {  // one value of one named state, over [begin, end)
    uint32_t host = 0;
    std::string track;  // e.g. "node-status", "shard-17", "epoch"
    std::string value;  // e.g. "RecoveryCatchUp"
    Instant begin;
    Instant end;
    bool cut_by_crash = false;  // ended because the host crashed, not by a new value
};

struct TimelineSpan {  // one unit of work, over [begin, end)
    uint32_t host = 0;
    uint64_t id = 0;
    std::string name;     // e.g. "blob-sync", "shard-sync", "recovery-pass"
    std::string details;  // e.g. "blob=ab12cd34ef56"
    Instant begin;
    Instant end;
    bool cut_by_crash = false;
    bool open_at_end = false;  // still running when the run ended
};

struct TimelineInstant {
    enum class Kind : uint8_t { crash, restart, fail_point, mark };
    uint32_t host = 0;
    Kind kind = Kind::mark;
    std::string text;  // the fail point's name, the mark's text; "" for crash and restart
    Instant at;
};

std::string_view timeline_instant_kind_name(TimelineInstant::Kind kind);

struct Timeline {
    std::vector<std::string> hosts;         // index = host id; "world" is host 0
    std::vector<TimelineState> states;      // in end order
    std::vector<TimelineSpan> spans;        // in end order
    std::vector<TimelineInstant> instants;  // in time order
    Instant end;                            // when the run ended
};

class TimelineRecorder final : public TraceSink {
public:
    uint32_t wanted_kinds() const override;
    void record(const TraceRecord& record) override;

    // Closes what is still open at `end` and hands over the timeline. Call once.
    Timeline finish(Instant end);
    // The time of the last event recorded (where a run cut short by an assertion stopped).
    Instant last_event() const { return last_event_; }

private:
    struct OpenState {
        std::string value;
        Instant begin;
    };
    void note_host(uint32_t host, std::string_view name);
    void crash(uint32_t host, Instant at);
    void close_state(uint32_t host, const std::string& track, Instant at, bool by_crash);

    Timeline timeline_;
    Instant last_event_;
    // Keyed by (host, track) and span id: ordered maps, so closing all of a host's entries at a
    // crash walks them in a fixed order.
    std::map<std::pair<uint32_t, std::string>, OpenState> open_states_;
    std::map<uint64_t, TimelineSpan> open_spans_;
};

}  // namespace sim
