#include "sim/trace.h"

#include "sim/assert.h"

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
    }
    FLOE_UNREACHABLE("trace kind {}", static_cast<int>(kind));
}

Trace::~Trace() {
    close_text();
}

std::string Trace::open_text(const std::string& path) {
    close_text();
    text_ = std::fopen(path.c_str(), "w");
    if (text_ == nullptr) {
        return fmt::format("cannot write trace file '{}': {}", path, std::strerror(errno));
    }
    return {};
}

void Trace::close_text() {
    if (text_ != nullptr) {
        std::fclose(text_);
        text_ = nullptr;
    }
}

void Trace::set_host_name(uint32_t host, std::string name) {
    if (host_names_.size() <= host) {
        host_names_.resize(host + 1);
    }
    host_names_[host] = std::move(name);
}

void Trace::write_line(TraceKind kind, Instant now, uint32_t host, uint64_t fiber,
                       const std::string& details) {
    const std::string_view host_name = host < host_names_.size() && !host_names_[host].empty()
                                           ? std::string_view(host_names_[host])
                                           : std::string_view("?");
    text_buffer_.clear();
    fmt::format_to(std::back_inserter(text_buffer_), "{} {} f{} {}", now.to_string(), host_name,
                   fiber, trace_kind_name(kind));
    if (!details.empty()) {
        text_buffer_.push_back(' ');
        text_buffer_ += details;
    }
    text_buffer_.push_back('\n');
    std::fwrite(text_buffer_.data(), 1, text_buffer_.size(), text_);
}

}  // namespace sim
