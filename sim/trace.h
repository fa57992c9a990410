#pragma once
// The run's fingerprint. Every scheduler decision (fiber resumed, timer fired, callback run,
// message sent/delivered/dropped, fail point hit, host killed/restarted, each RNG draw) folds
// into one running 64-bit hash. Two runs with the same seed must end with the same hash on every
// build; the first place they differ is found by diffing the optional text trace, which writes
// the same decisions one per line: virtual time, host, fiber, kind, details.
//
// Besides scheduler decisions, hosts report what they are doing (Runtime::state and
// Runtime::span): a named state that changed ("node-status" = "RecoveryCatchUp", "shard-17" =
// "ActiveSync") and spans of work with a begin and an end (a blob sync, a recovery pass). These
// fold into the hash like everything else, and TraceSinks — the text file, the timeline behind
// the Perfetto file and the HTML report — receive the events they ask for. With no sink
// attached, an event costs the folding and one test of a bit mask.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/time.h"

namespace sim {

enum class TraceKind : uint8_t {
    fiber_spawned,
    fiber_resumed,
    fiber_finished,
    timer_fired,
    callback,
    host_started,
    host_killed,
    host_restarted,
    message_sent,
    message_delivered,
    message_dropped,
    fail_point_hit,
    mark,        // free-form event a scenario or model wants in the trace
    state,       // a host's named state took a new value
    span_begin,  // a host started a unit of work
    span_end,    // ... and finished it (or its fiber was unwound by a crash)
};
inline constexpr int trace_kind_count = static_cast<int>(TraceKind::span_end) + 1;

std::string_view trace_kind_name(TraceKind kind);

constexpr uint32_t trace_kind_bit(TraceKind kind) {
    return 1u << static_cast<uint32_t>(kind);
}
inline constexpr uint32_t all_trace_kinds = (1u << trace_kind_count) - 1;

// One event as a sink sees it. `details` is the text-trace detail; for state and span events
// the structured parts are also given: `name` (the state's track or the span's name), `value`
// (the state's new value or the span's details) and `span` (the span id).
struct TraceRecord {
    TraceKind kind;
    Instant time;
    uint32_t host;
    std::string_view host_name;
    uint64_t fiber;
    std::string_view details;
    std::string_view name;
    std::string_view value;
    uint64_t span = 0;
};

class TraceSink {
public:
    virtual ~TraceSink() = default;
    // The kinds this sink receives, as trace_kind_bit()s. Read once, when the sink is attached.
    virtual uint32_t wanted_kinds() const = 0;
    virtual void record(const TraceRecord& record) = 0;
};

class Trace {
public:
    Trace() = default;
    Trace(const Trace&) = delete;
    Trace& operator=(const Trace&) = delete;
    ~Trace();

    // Folding uses a multiply-xorshift mixer: order-sensitive and cheap (a few ns per word).
    void fold(uint64_t word) {
        hash_ = (hash_ ^ word) * 0x9e3779b97f4a7c15ULL;
        hash_ ^= hash_ >> 29;
    }
    void fold_rng_draw(uint64_t stream_id, uint64_t value) {
        if (!folding_) {
            return;
        }
        fold(stream_id);
        fold(value);
        ++rng_draws_;
    }

    // One scheduler decision. `detail` is folded into the hash; `text` is only called (and the
    // line only written) when a text trace is open, so tracing off costs no formatting.
    template <class TextFn>
    void event(TraceKind kind, Instant now, uint32_t host, uint64_t fiber, uint64_t detail,
               TextFn&& text) {
        if (!folding_) {
            return;
        }
        fold_event(kind, now, host, fiber);
        if (detail != 0) {
            fold(detail);
        }
        if ((wanted_ & trace_kind_bit(kind)) != 0) [[unlikely]] {
            const std::string details = text();
            dispatch(TraceRecord{kind, now, host, host_name(host), fiber, details, {}, {}, 0});
        }
    }
    void event(TraceKind kind, Instant now, uint32_t host, uint64_t fiber, uint64_t detail) {
        event(kind, now, host, fiber, detail, [] { return std::string(); });
    }

    // A host's named state changed ("node-status" -> "Active").
    void state(Instant now, uint32_t host, uint64_t fiber, std::string_view track,
               std::string_view value);
    // A unit of work began; returns its id (run-wide, in begin order) for span_end.
    uint64_t span_begin(Instant now, uint32_t host, uint64_t fiber, std::string_view name,
                        std::string_view details);
    void span_end(Instant now, uint32_t host, uint64_t fiber, uint64_t span, std::string_view name);

    // Sinks are not owned; they must outlive the run or be detached first.
    void attach(TraceSink& sink);
    void detach(TraceSink& sink);

    // Opens a text trace (a sink owned by the trace). Returns an error message (empty on
    // success); never throws.
    std::string open_text(const std::string& path);
    void close_text();
    // Host names for the sinks; index = host id.
    void set_host_name(uint32_t host, std::string name);
    std::string_view host_name(uint32_t host) const;

    // After the run ends, shutdown unwinding must not change the result.
    void stop_folding() { folding_ = false; }

    uint64_t hash() const { return hash_; }
    uint64_t events() const { return events_; }
    uint64_t rng_draws() const { return rng_draws_; }

private:
    // Every event starts with two words (resumes and timers carry nothing more): the time, and
    // kind | host | fiber packed (fiber ids past 2^32 wrap, which only changes the mixing).
    void fold_event(TraceKind kind, Instant now, uint32_t host, uint64_t fiber) {
        fold(static_cast<uint64_t>(now.ns()));
        fold(static_cast<uint64_t>(kind) | (static_cast<uint64_t>(host) << 8) | (fiber << 32));
        ++events_;
    }
    void dispatch(const TraceRecord& record);
    void recompute_wanted();

    uint64_t hash_ = 0x243f6a8885a308d3ULL;  // pi: any fixed non-zero start
    uint64_t events_ = 0;
    uint64_t rng_draws_ = 0;
    bool folding_ = true;
    uint32_t wanted_ = 0;  // union of the sinks' wanted kinds
    uint64_t next_span_ = 1;
    std::vector<TraceSink*> sinks_;
    std::unique_ptr<TraceSink> text_;
    std::vector<std::string> host_names_;
};

}  // namespace sim
