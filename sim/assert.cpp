#include "sim/assert.h"

#include <cstdio>
#include <cstdlib>
#include <functional>

namespace sim {
namespace {
// Process-wide on purpose: an assertion can fire anywhere, and the only thing it needs is what
// to print before the process dies. Nothing here feeds a simulation decision.
std::string g_repro_command;
std::string (*g_now_text)() = nullptr;
std::function<void(const std::string&)> g_failure_hook;
std::string g_failed_at;
std::string g_failed_when;
}  // namespace

std::string source_location_text(const char* file, int line) {
    std::string_view path = file;
    while (path.starts_with("../")) {
        path.remove_prefix(3);
    }
    return fmt::format("{}:{}", path, line);
}

const std::string& failed_assertion_location() {
    return g_failed_at;
}

const std::string& failed_assertion_time() {
    return g_failed_when;
}

void set_failure_hook(std::function<void(const std::string&)> hook) {
    g_failure_hook = std::move(hook);
}

void set_repro_context(std::string repro_command) {
    g_repro_command = std::move(repro_command);
}

void set_repro_time_source(std::string (*now_text)()) {
    g_now_text = now_text;
}

void assertion_failed(std::string_view condition, std::string_view message, const char* file,
                      int line) {
    std::string when = g_now_text != nullptr ? g_now_text() : std::string("-");
    std::fprintf(stderr, "floe: assertion failed: %.*s%s%.*s\n  at %s:%d, virtual time %s\n",
                 static_cast<int>(condition.size()), condition.data(), message.empty() ? "" : ": ",
                 static_cast<int>(message.size()), message.data(), file, line, when.c_str());
    if (!g_repro_command.empty()) {
        std::fprintf(stderr, "  reproduce: %s\n", g_repro_command.c_str());
    }
    std::fflush(stderr);
    g_failed_at = source_location_text(file, line);
    g_failed_when = when;
    if (g_failure_hook) {
        // Once: an assertion inside the hook must not recurse into it.
        auto hook = std::move(g_failure_hook);
        g_failure_hook = nullptr;
        hook(fmt::format("assertion failed: {}{}{} at virtual time {}", condition,
                         message.empty() ? "" : ": ", message, when));
    }
    std::fflush(nullptr);  // the text trace's tail, and anything else buffered
    std::abort();
}

}  // namespace sim
