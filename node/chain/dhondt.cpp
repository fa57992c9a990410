#include "node/chain/dhondt.h"

#include <cstddef>

#include "sim/assert.h"

namespace walrus {

namespace {

__extension__ typedef unsigned __int128 u128;

// Shard limits of §18 step 2 (`SHARDS_LIMIT_DENOMINATOR`, `MIN_NODES_FOR_SHARDS_LIMIT`).
constexpr uint32_t shards_limit_denominator = 10;
constexpr uint32_t min_nodes_for_shards_limit = 20;

// True if quotient a = stake_a / (shards_a + 1) is strictly greater than b's. Exact: the
// cross products of a u64 stake and a u32 + 1 divisor fit in 128 bits, so unlike the
// contract's uq64_64 fixed point no two distinct quotients can compare equal (§18 step 4).
bool quotient_greater(uint64_t stake_a, uint32_t shards_a, uint64_t stake_b, uint32_t shards_b) {
    const u128 lhs = static_cast<u128>(stake_a) * (static_cast<u128>(shards_b) + 1);
    const u128 rhs = static_cast<u128>(stake_b) * (static_cast<u128>(shards_a) + 1);
    return lhs > rhs;
}

}  // namespace

uint32_t max_shards_per_node(uint32_t n_nodes, uint32_t n_shards) {
    FLOE_ASSERT(n_nodes > 0, "max_shards_per_node with an empty active set");
    if (n_nodes >= min_nodes_for_shards_limit) {
        return n_shards / shards_limit_denominator;
    }
    // ceil(n_shards * 20 / (n_nodes * 10)), in 64 bits so a large n_shards cannot overflow.
    const uint64_t numerator = uint64_t{n_shards} * min_nodes_for_shards_limit;
    const uint64_t denominator = uint64_t{n_nodes} * shards_limit_denominator;
    return static_cast<uint32_t>((numerator + denominator - 1) / denominator);
}

std::vector<uint32_t> dhondt_shard_counts(const std::vector<uint64_t>& stakes, uint32_t n_shards) {
    // §18 step 1. A 128-bit total: the sum of u64 stakes may not fit in 64 bits.
    u128 total = 0;
    uint32_t n_active = 0;
    for (uint64_t stake : stakes) {
        total += stake;
        if (stake > 0) {
            ++n_active;
        }
    }
    FLOE_ASSERT(total > 0, "no stake to apportion {} shards over {} nodes", n_shards,
                stakes.size());

    // §18 step 2. Only the active set (nodes with stake) counts: in the contract a node without
    // stake is not in the active set at all.
    const uint32_t max_shards = max_shards_per_node(n_active, n_shards);

    // §18 step 3: Hagenbach-Bischoff. A node holding the "distribution number"
    // total / (n_shards + 1) + 1 of stake is guaranteed a shard, so stake / distribution is a
    // lower bound on its final count.
    const u128 distribution = total / (u128{n_shards} + 1) + 1;
    std::vector<uint32_t> shards(stakes.size(), 0);
    uint64_t distributed = 0;
    for (size_t i = 0; i < stakes.size(); ++i) {
        const u128 lower_bound = stakes[i] / distribution;
        shards[i] = lower_bound < max_shards ? static_cast<uint32_t>(lower_bound) : max_shards;
        distributed += shards[i];
    }
    FLOE_ASSERT(distributed <= n_shards, "Hagenbach-Bischoff gave {} of {} shards", distributed,
                n_shards);

    // §18 step 4. The contract keeps a priority queue; a linear scan in node order picks the same
    // node: the largest quotient, and on a tie the earlier node (priority n_nodes - i). Nodes at
    // the cap and nodes without stake are not candidates.
    while (distributed < n_shards) {
        bool found = false;
        size_t best = 0;
        for (size_t i = 0; i < stakes.size(); ++i) {
            if (stakes[i] == 0 || shards[i] >= max_shards) {
                continue;
            }
            if (!found || quotient_greater(stakes[i], shards[i], stakes[best], shards[best])) {
                best = i;
                found = true;
            }
        }
        // The contract relies on n_active * max_shards >= n_shards; it fails only for fewer than
        // 10 shards over 20 or more nodes (a cap of 0).
        FLOE_ASSERT(found, "every node is at the cap of {} shards with {} of {} distributed",
                    max_shards, distributed, n_shards);
        ++shards[best];
        ++distributed;
    }
    return shards;
}

}  // namespace walrus
