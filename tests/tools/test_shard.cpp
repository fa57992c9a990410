// `floe sweep --shard K/N`'s slicing (tools/shard.h): shard indexes in range, shards of even
// size, and the hash pinned.

#include <doctest/doctest.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "tools/shard.h"

using floe::tools::shard_of;

namespace {

const std::vector<std::string> kScenarios = {"long-node-recovery", "swarm", "checkpoint-resume",
                                             "mainnet-shape",      "a",     ""};

}  // namespace

TEST_CASE("shard: every run's shard is in 0..N-1, up to the largest seed, for N = 1..64") {
    for (uint64_t n = 1; n <= 64; ++n) {
        for (const std::string& scenario : kScenarios) {
            for (const uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 62,
                                        std::numeric_limits<uint64_t>::max()}) {
                REQUIRE(shard_of(scenario, seed, n) < n);
            }
        }
    }
}

TEST_CASE("shard: consecutive seeds of one scenario spread evenly over the shards") {
    for (uint64_t n = 1; n <= 64; ++n) {
        for (const std::string& scenario : kScenarios) {
            std::map<uint64_t, uint64_t> sizes;
            for (uint64_t seed = 1000; seed < 1000 + 10 * n; ++seed) {
                ++sizes[shard_of(scenario, seed, n)];
            }
            REQUIRE(sizes.size() == n);
            for (const auto& entry : sizes) {
                CHECK(entry.second == 10);
            }
        }
    }
}

TEST_CASE("shard: the slicing is pinned, so an older sweep's shard command re-runs its seeds") {
    // Fixed values: a change to the hash would move seeds between machines' shards, which
    // breaks re-running one shard from an older sweep's command. (That a run lands in one shard
    // whatever the order of the scenarios is tools/check_shard_env.sh's, through --dry-run.)
    CHECK(floe::tools::fnv1a64("") == 0xcbf29ce484222325ULL);
    CHECK(floe::tools::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
    CHECK(shard_of("swarm", 17, 1) == 0);
    CHECK(shard_of("swarm", 17, 7) == 4);
    CHECK(shard_of("long-node-recovery", 1, 64) == 35);
    CHECK(shard_of("checkpoint-resume", 12345, 3) == 1);
    CHECK(shard_of("swarm", std::numeric_limits<uint64_t>::max(), 10) == 8);  // wraps
    // Different scenarios start at different shards (not every seed 1 on shard 1).
    CHECK(shard_of("swarm", 1, 64) != shard_of("long-node-recovery", 1, 64));
}
