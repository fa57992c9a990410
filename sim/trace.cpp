#include "sim/trace.h"

#include "sim/assert.h"
#include "sim/rng.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace sim {

std::string_view trace_kind_name(TraceKind kind) {
    switch (kind) {
        case TraceKind::fiber_spawned: return "spawn";
        case TraceKind::fiber_resumed: return "resume";
        case TraceKind::fiber_finished: return "finish";
        case TraceKind::timer_fired: return "timer";
        case TraceKind::callback: return "callback";
        case TraceKind::host_started: return "host-start";
        case TraceKind::host_killed: return "host-kill";
        case TraceKind::host_restarted: return "host-restart";
        case TraceKind::message_sent: return "msg-send";
        case TraceKind::message_delivered: return "msg-deliver";
        case TraceKind::message_dropped: return "msg-drop";
        case TraceKind::fail_point_hit: return "failpoint";
        case TraceKind::mark: return "mark";
        case TraceKind::state: return "state";
        case TraceKind::span_begin: return "span-begin";
        case TraceKind::span_end: return "span-end";
    }
    FLOE_UNREACHABLE("trace kind {}", static_cast<int>(kind));
}

namespace {

// The text trace: one line per event, "time host fiber kind details".
class TextFileSink final : public TraceSink {
public:
    explicit TextFileSink(std::FILE* file) : file_(file) {}
    TextFileSink(const TextFileSink&) = delete;
    TextFileSink& operator=(const TextFileSink&) = delete;
    ~TextFileSink() override { std::fclose(file_); }

    uint32_t wanted_kinds() const override { return all_trace_kinds; }
    void record(const TraceRecord& r) override {
        buffer_.clear();
        fmt::format_to(std::back_inserter(buffer_), "{} {} f{} {}", r.time.to_string(), r.host_name,
                       r.fiber, trace_kind_name(r.kind));
        if (!r.details.empty()) {
            buffer_.push_back(' ');
            buffer_ += r.details;
        }
        buffer_.push_back('\n');
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
    }

private:
    std::FILE* file_;
    std::string buffer_;
};

}  // namespace

Trace::~Trace() {
    close_text();
}

void Trace::state(Instant now, uint32_t host, uint64_t fiber, std::string_view track,
                  std::string_view value) {
    if (!folding_) {
        return;
    }
    fold_event(TraceKind::state, now, host, fiber);
    fold(stable_hash(track));
    fold(stable_hash(value));
    if ((wanted_ & trace_kind_bit(TraceKind::state)) != 0) [[unlikely]] {
        const std::string details = fmt::format("{} {}", track, value);
        dispatch(TraceRecord{TraceKind::state, now, host, host_name(host), fiber, details, track,
                             value, 0});
    }
}

uint64_t Trace::span_begin(Instant now, uint32_t host, uint64_t fiber, std::string_view name,
                           std::string_view details) {
    if (!folding_) {
        return 0;
    }
    const uint64_t id = next_span_++;
    fold_event(TraceKind::span_begin, now, host, fiber);
    fold(stable_hash(name));
    fold(stable_hash(details));
    if ((wanted_ & trace_kind_bit(TraceKind::span_begin)) != 0) [[unlikely]] {
        const std::string text = details.empty() ? fmt::format("#{} {}", id, name)
                                                 : fmt::format("#{} {} {}", id, name, details);
        dispatch(TraceRecord{TraceKind::span_begin, now, host, host_name(host), fiber, text, name,
                             details, id});
    }
    return id;
}

void Trace::span_end(Instant now, uint32_t host, uint64_t fiber, uint64_t span,
                     std::string_view name) {
    if (!folding_ || span == 0) {
        return;
    }
    fold_event(TraceKind::span_end, now, host, fiber);
    fold(span);
    if ((wanted_ & trace_kind_bit(TraceKind::span_end)) != 0) [[unlikely]] {
        const std::string text = fmt::format("#{} {}", span, name);
        dispatch(TraceRecord{
            TraceKind::span_end, now, host, host_name(host), fiber, text, name, {}, span});
    }
}

void Trace::attach(TraceSink& sink) {
    sinks_.push_back(&sink);
    recompute_wanted();
}

void Trace::detach(TraceSink& sink) {
    std::erase(sinks_, &sink);
    recompute_wanted();
}

void Trace::recompute_wanted() {
    wanted_ = 0;
    for (const TraceSink* sink : sinks_) {
        wanted_ |= sink->wanted_kinds();
    }
}

void Trace::dispatch(const TraceRecord& record) {
    for (TraceSink* sink : sinks_) {
        if ((sink->wanted_kinds() & trace_kind_bit(record.kind)) != 0) {
            sink->record(record);
        }
    }
}

std::string Trace::open_text(const std::string& path) {
    close_text();
    std::FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) {
        return fmt::format("cannot write trace file '{}': {}", path, std::strerror(errno));
    }
    text_ = std::make_unique<TextFileSink>(file);
    attach(*text_);
    return {};
}

void Trace::close_text() {
    if (text_ != nullptr) {
        detach(*text_);
        text_.reset();
    }
}

void Trace::set_host_name(uint32_t host, std::string name) {
    if (host_names_.size() <= host) {
        host_names_.resize(host + 1);
    }
    host_names_[host] = std::move(name);
}

std::string_view Trace::host_name(uint32_t host) const {
    return host < host_names_.size() && !host_names_[host].empty()
               ? std::string_view(host_names_[host])
               : std::string_view("?");
}

}  // namespace sim
