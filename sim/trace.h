#pragma once
// The run's fingerprint. Every scheduler decision (fiber resumed, timer fired, callback run,
// message sent/delivered/dropped, fail point hit, host killed/restarted, each RNG draw) folds
// into one running 64-bit hash. Two runs with the same seed must end with the same hash on every
// build; the first place they differ is found by diffing the optional text trace, which writes
// the same decisions one per line: virtual time, host, fiber, kind, details.

#include <cstdint>
#include <cstdio>
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
    mark,  // free-form event a scenario or model wants in the trace
};

std::string_view trace_kind_name(TraceKind kind);

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
        // Two words for the common events (resumes and timers carry no detail): the time, and
        // kind | host | fiber packed (fiber ids past 2^32 wrap, which only changes the mixing).
        fold(static_cast<uint64_t>(now.ns()));
        fold(static_cast<uint64_t>(kind) | (static_cast<uint64_t>(host) << 8) | (fiber << 32));
        if (detail != 0) {
            fold(detail);
        }
        ++events_;
        if (text_ != nullptr) [[unlikely]] {
            write_line(kind, now, host, fiber, text());
        }
    }
    void event(TraceKind kind, Instant now, uint32_t host, uint64_t fiber, uint64_t detail) {
        event(kind, now, host, fiber, detail, [] { return std::string(); });
    }

    // Opens a text trace. Returns an error message (empty on success); never throws.
    std::string open_text(const std::string& path);
    void close_text();
    bool text_enabled() const { return text_ != nullptr; }
    // Host names for the text trace; index = host id.
    void set_host_name(uint32_t host, std::string name);

    // After the run ends, shutdown unwinding must not change the result.
    void stop_folding() { folding_ = false; }

    uint64_t hash() const { return hash_; }
    uint64_t events() const { return events_; }
    uint64_t rng_draws() const { return rng_draws_; }

private:
    void write_line(TraceKind kind, Instant now, uint32_t host, uint64_t fiber,
                    const std::string& details);

    uint64_t hash_ = 0x243f6a8885a308d3ULL;  // pi: any fixed non-zero start
    uint64_t events_ = 0;
    uint64_t rng_draws_ = 0;
    bool folding_ = true;
    std::FILE* text_ = nullptr;
    std::string text_buffer_;
    std::vector<std::string> host_names_;
};

}  // namespace sim
