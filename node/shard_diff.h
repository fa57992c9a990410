#pragma once
// The shard diff at an epoch change (walrus-recovery-spec.md §3.3, ShardDiffCalculator): from
// the node's shards in the previous and current committees and the shards it has locally.

#include <algorithm>
#include <vector>

#include "node/types.h"

namespace walrus {

struct ShardDiff {
    std::vector<ShardIndex> all_owned;  // cur
    std::vector<ShardIndex> gained;     // cur \ prev: filled by shard sync
    std::vector<ShardIndex> to_lock;    // prev \ cur: lost now, kept as a sync source
    std::vector<ShardIndex> to_remove;  // exist \ (prev ∪ cur): unowned for two epochs

    static ShardDiff compute(std::vector<ShardIndex> previous, std::vector<ShardIndex> current,
                             std::vector<ShardIndex> existing) {
        auto sort = [](std::vector<ShardIndex>& v) { std::sort(v.begin(), v.end()); };
        sort(previous);
        sort(current);
        sort(existing);
        auto minus = [](const std::vector<ShardIndex>& a, const std::vector<ShardIndex>& b) {
            std::vector<ShardIndex> out;
            std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
            return out;
        };
        std::vector<ShardIndex> either;
        std::set_union(previous.begin(), previous.end(), current.begin(), current.end(),
                       std::back_inserter(either));
        return ShardDiff{current, minus(current, previous), minus(previous, current),
                         minus(existing, either)};
    }
};

}  // namespace walrus
