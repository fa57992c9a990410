#pragma once
// Parsing of seed ranges given on the command line: "7" or "1..20" (inclusive).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace floe::tools {

struct SeedRange {
    uint64_t first = 1;
    uint64_t last = 1;
    uint64_t count() const { return last - first + 1; }
};

// Returns the range, or nullopt with a one-line explanation in `error`.
std::optional<SeedRange> parse_seed_range(std::string_view text, std::string& error);

}  // namespace floe::tools
