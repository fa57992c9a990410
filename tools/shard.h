#pragma once
// How `floe sweep --shard K/N` slices a sweep over machines. A run (scenario, seed) belongs to
// exactly one of N shards, decided by the pair alone: not by the order of the scenarios on the
// command line, nor by the seed range, nor by which other scenarios run. So re-running shard K
// (on any machine, with the scenarios in any order) reproduces exactly its runs, and a sweep
// widened to more seeds keeps every old seed in its old shard.
//
// The scenario's name is hashed (FNV-1a, 64 bits: fixed, no library or platform in it) and the
// seed added, so consecutive seeds of one scenario go round the shards in turn (every shard gets
// its share of each scenario, cheap or costly), and scenarios start at different shards.

#include <cstdint>
#include <string_view>

namespace floe::tools {

constexpr uint64_t fnv1a64(std::string_view text) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

// The 0-based shard of (scenario, seed) among `shards` (>= 1). Wraps on overflow, on purpose.
constexpr uint64_t shard_of(std::string_view scenario, uint64_t seed, uint64_t shards) {
    return (fnv1a64(scenario) + seed) % shards;
}

}  // namespace floe::tools
