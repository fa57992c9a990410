// `floe sweep --shard K/N`'s slicing (tools/shard.h): every run in exactly one shard, whatever
// the scenarios' order, and shards of even size.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tools/shard.h"

using floe::tools::shard_of;

namespace {

const std::vector<std::string> kScenarios = {"long-node-recovery", "swarm", "checkpoint-resume",
                                             "mainnet-shape",      "a",     ""};

}  // namespace

TEST_CASE("shard: every (scenario, seed) is in exactly one shard, for N = 1..64") {
    for (uint64_t n = 1; n <= 64; ++n) {
        for (const std::string& scenario : kScenarios) {
            for (uint64_t seed = 0; seed < 300; ++seed) {
                int owners = 0;
                for (uint64_t k = 0; k < n; ++k) {
                    owners += shard_of(scenario, seed, n) == k ? 1 : 0;
                }
                REQUIRE(owners == 1);
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

TEST_CASE("shard: a run's shard depends on its scenario and seed only") {
    // Fixed values: a change to the hash would move seeds between machines' shards, which
    // breaks re-running one shard from an older sweep's command.
    CHECK(floe::tools::fnv1a64("") == 0xcbf29ce484222325ULL);
    CHECK(floe::tools::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
    CHECK(shard_of("swarm", 17, 1) == 0);
    // The same pair always lands in the same shard, listed in any order.
    std::vector<std::string> order = kScenarios;
    std::map<std::pair<std::string, uint64_t>, uint64_t> first;
    for (const std::string& scenario : order) {
        for (uint64_t seed = 1; seed <= 50; ++seed) {
            first[{scenario, seed}] = shard_of(scenario, seed, 7);
        }
    }
    std::reverse(order.begin(), order.end());
    for (const std::string& scenario : order) {
        for (uint64_t seed = 50; seed >= 1; --seed) {
            CHECK(shard_of(scenario, seed, 7) == first.at({scenario, seed}));
        }
    }
    // Different scenarios start at different shards (not every seed 1 on shard 1).
    CHECK(shard_of("swarm", 1, 64) != shard_of("long-node-recovery", 1, 64));
}
