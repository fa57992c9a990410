#include "scenarios/storage_faults.h"

#include <algorithm>

#include "node/chain/chain.h"
#include "node/sites.h"
#include "sim/assert.h"

namespace floe::scenarios {

const std::vector<std::string>& storage_fault_mode_names() {
    static const std::vector<std::string> names = {"off", "bounded", "unbounded"};
    return names;
}

StorageFaultMode parse_storage_fault_mode(std::string_view name) {
    const auto& names = storage_fault_mode_names();
    const auto it = std::find(names.begin(), names.end(), name);
    FLOE_ASSERT(it != names.end(), "unknown storage-faults mode '{}'", name);
    return static_cast<StorageFaultMode>(it - names.begin());
}

const std::vector<std::string> fs_fail_points = walrus::site::names_where(
    [](const walrus::site::Site& site) { return site.kind == walrus::site::Kind::fs_fault; });

bool fs_fault_loses_data(std::string_view fail_point) {
    return fail_point == walrus::site::fs_fsync_lie.name;
}

namespace {

uint32_t shards_held(const walrus::Committee& committee, const std::set<NodeIndex>& nodes) {
    uint32_t shards = 0;
    for (NodeIndex node : nodes) {
        shards += static_cast<uint32_t>(committee.shards_of(node).size());
    }
    return shards;
}

}  // namespace

bool DataLossBudget::allows(
    const walrus::Chain& chain, uint32_t n_shards, NodeIndex node,
    const std::function<uint32_t(const std::set<NodeIndex>&)>& unfilled) const {
    std::set<NodeIndex> nodes{node};
    if (auto it = lost_.find(chain.current_epoch()); it != lost_.end()) {
        nodes.insert(it->second.begin(), it->second.end());
    }
    for (const auto& [lost_node, epoch] : unhealed_) {
        nodes.insert(lost_node);
    }
    const uint32_t f = (n_shards - 1) / 3;
    uint32_t held = shards_held(chain.current_committee(), nodes);
    // The previous committee's shards too: a shard that moved at the last epoch change is
    // LockedToMove at its old owner, the only copy of the blobs certified before the change
    // until the new owner's shard sync has read them (swarm 21976 with buggify=on: node 2 held
    // 5 of 14 shards in epoch 17, 4 in epoch 18, and a power loss in epoch 18 took the blobs
    // certified in 17 down to 5 holders, fewer than the 6 a secondary sliver needs).
    if (auto previous = chain.previous_committee()) {
        held = std::max(held, shards_held(*previous, nodes));
    }
    if (auto next = chain.next_committee()) {
        held = std::max(held, shards_held(*next, nodes));
    }
    if (unfilled) {
        held += unfilled(nodes);
    }
    return held <= f;
}

void DataLossBudget::record(Epoch epoch, NodeIndex node) {
    lost_[epoch].insert(node);
    unhealed_[node] = epoch;
    ++losses_;
}

void DataLossBudget::healed(NodeIndex node, Epoch epoch) {
    if (auto it = unhealed_.find(node); it != unhealed_.end() && it->second < epoch) {
        unhealed_.erase(it);
    }
}

}  // namespace floe::scenarios
