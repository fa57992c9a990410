#include "tools/seed_range.h"

#include <fmt/format.h>

#include <charconv>

namespace floe::tools {
namespace {

std::optional<uint64_t> parse_seed(std::string_view text) {
    uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<uint64_t> parse_one_seed(std::string_view text, std::string& error) {
    auto seed = parse_seed(text);
    if (!seed) {
        error = fmt::format("bad seed '{}': expected an unsigned integer below 2^64", text);
    }
    return seed;
}

std::optional<SeedRange> parse_seed_range(std::string_view text, std::string& error) {
    const size_t dots = text.find("..");
    const std::string_view first_text =
        dots == std::string_view::npos ? text : text.substr(0, dots);
    const std::string_view last_text =
        dots == std::string_view::npos ? text : text.substr(dots + 2);
    const auto first = parse_seed(first_text);
    const auto last = parse_seed(last_text);
    if (!first || !last) {
        error = fmt::format(
            "bad seed range '{}': expected N or A..B with unsigned integers below 2^64", text);
        return std::nullopt;
    }
    if (*first > *last) {
        error = fmt::format("bad seed range '{}': {} is after {}", text, *first, *last);
        return std::nullopt;
    }
    if (*last - *first >= 10'000'000) {
        error = fmt::format("bad seed range '{}': more than 10,000,000 seeds", text);
        return std::nullopt;
    }
    return SeedRange{*first, *last};
}

}  // namespace floe::tools
