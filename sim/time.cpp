#include "sim/time.h"

#include <fmt/format.h>

namespace sim {

std::string Duration::to_string() const {
    if (is_forever()) {
        return "forever";
    }
    const int64_t abs_ns = ns_ < 0 ? -ns_ : ns_;
    const char* sign = ns_ < 0 ? "-" : "";
    if (abs_ns < 1'000) {
        return fmt::format("{}{}ns", sign, abs_ns);
    }
    if (abs_ns < 1'000'000) {
        return fmt::format("{}{}.{:03}us", sign, abs_ns / 1'000, abs_ns % 1'000);
    }
    if (abs_ns < 1'000'000'000) {
        return fmt::format("{}{}.{:03}ms", sign, abs_ns / 1'000'000, (abs_ns / 1'000) % 1'000);
    }
    return fmt::format("{}{}.{:03}s", sign, abs_ns / 1'000'000'000, (abs_ns / 1'000'000) % 1'000);
}

std::string Instant::to_string() const {
    if (is_never()) {
        return "never";
    }
    return fmt::format("{}.{:09}s", ns_ / 1'000'000'000, ns_ % 1'000'000'000);
}

}  // namespace sim
