#pragma once
// Always-on assertions. NDEBUG never removes them: a simulator that skips its checks in an
// optimised build would pass seeds it should fail. A failed assertion is a bug, so it aborts the
// process after printing the message, the virtual time and the one-line repro command of the
// run in progress (see set_repro_context).

#include <fmt/format.h>

#include <functional>
#include <string>
#include <string_view>

namespace sim {

// Called by the runner before a run so that a failed assertion can name the seed and the exact
// command that reproduces it. The kernel fills the virtual time itself.
void set_repro_context(std::string repro_command);
void set_repro_time_source(std::string (*now_text)());
// Runs once when an assertion fails, after the message is printed and before the abort, with
// a one-line description of the failure: the runner uses it to write the Perfetto file and the
// HTML report of the run so far. Buffered output (the text trace) is flushed after it.
void set_failure_hook(std::function<void(const std::string&)> hook);

// "file:line" of a call site, with the build directory's "../" prefixes dropped so that it reads
// the same from every build directory.
std::string source_location_text(const char* file, int line);
// The location of the assertion that failed ("" before one has) and the virtual time it failed
// at ("162.410863840s"; "-" outside a run): the failure hook reads them.
const std::string& failed_assertion_location();
const std::string& failed_assertion_time();

[[noreturn]] void assertion_failed(std::string_view condition, std::string_view message,
                                   const char* file, int line);

}  // namespace sim

// FLOE_ASSERT(cond) or FLOE_ASSERT(cond, "fmt {}", args...). The message is only formatted on
// failure, so dense assertions cost one branch each.
#define FLOE_ASSERT(cond, ...)                                                                   \
    do {                                                                                         \
        if (!(cond)) [[unlikely]] {                                                              \
            ::sim::assertion_failed(#cond, ::sim::detail::assert_message(__VA_ARGS__), __FILE__, \
                                    __LINE__);                                                   \
        }                                                                                        \
    } while (false)

#define FLOE_UNREACHABLE(...)                                                                    \
    ::sim::assertion_failed("unreachable", ::sim::detail::assert_message(__VA_ARGS__), __FILE__, \
                            __LINE__)

// A check written as a branch: the model found a violation and says which, in full.
#define FLOE_FAIL(...)                                                                            \
    ::sim::assertion_failed("check failed", ::sim::detail::assert_message(__VA_ARGS__), __FILE__, \
                            __LINE__)

namespace sim::detail {
inline std::string assert_message() {
    return {};
}
template <class... Args>
std::string assert_message(fmt::format_string<Args...> format, Args&&... args) {
    return fmt::format(format, std::forward<Args>(args)...);
}
}  // namespace sim::detail
