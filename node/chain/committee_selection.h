#pragma once
// Shard counts to shard indices (walrus-recovery-spec.md §18 "Indices", `committee.move`):
// the first committee hands indices out in order; later committees move as few shards as
// possible.

#include <cstdint>
#include <vector>

#include "node/types.h"

namespace walrus {

// `committee::initialize`: nodes in index order, shards handed out sequentially (node A gets
// 0..a-1, node B a..a+b-1, ...). `counts` is indexed by node and must sum to `n_shards`.
Committee initial_committee(Epoch epoch, const std::vector<uint32_t>& counts, uint32_t n_shards);

// `committee::transition`: the committee of `epoch` given the new `counts` (indexed by node; a
// node beyond its end gets 0). Nodes that leave or shrink give up their last shards, which the
// nodes that grow or join then pop off a stack. Asserts the total shard count is unchanged.
Committee transition_committee(const Committee& previous, const std::vector<uint32_t>& counts,
                               Epoch epoch);

}  // namespace walrus
