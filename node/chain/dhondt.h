#pragma once
// Shard counts from stake: the contract's D'Hondt (Jefferson) apportionment
// (walrus-recovery-spec.md §18 "Counts", `staking_inner.move::dhondt`).

#include <cstdint>
#include <vector>

namespace walrus {

// §18 step 2: the cap on shards per node. `n_nodes` is the size of the active set (nodes with
// stake), so it is at least 1.
uint32_t max_shards_per_node(uint32_t n_nodes, uint32_t n_shards);

// Shard count of every node, indexed like `stakes` (index = node index; a lower index wins ties).
// A node with 0 stake gets 0 and is not part of the active set. The counts sum to `n_shards`.
// Asserts that some stake exists (the contract aborts with ENoStake).
std::vector<uint32_t> dhondt_shard_counts(const std::vector<uint64_t>& stakes, uint32_t n_shards);

}  // namespace walrus
