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

// One seed: an unsigned decimal that fits 64 bits ("-1" and overflowing numbers are errors, not
// wrapped), or nullopt with a one-line explanation in `error`.
std::optional<uint64_t> parse_one_seed(std::string_view text, std::string& error);

// Returns the range, or nullopt with a one-line explanation in `error`.
std::optional<SeedRange> parse_seed_range(std::string_view text, std::string& error);

}  // namespace floe::tools
