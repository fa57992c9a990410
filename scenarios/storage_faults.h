#pragma once
// Storage faults in scenarios: the modes, the fs-* fail points of the simulated disk (SimFs,
// through NodeStore's fault hook), and the data-loss budget that keeps a failure meaningful.
//
// The budget is TigerBeetle's fault atlas applied to Walrus: the nodes whose disks lost data (a
// power loss, a lying fsync) in this epoch, or earlier and not yet back to holding every
// certified blob, hold at most f = (n_shards - 1) / 3 shards of the current or next committee,
// so every certified blob keeps a quorum of honest copies and a failure means a bug, not bad
// luck. (Before issue 17 only the current epoch's losses counted: three nodes that lost
// everything in three epochs in a row, each still recovering, lost a blob: swarm 9626.)
// `storage-faults=unbounded` lifts the budget and, since a cluster may then really lose blobs,
// checks safety only: liveness waits and the final convergence check do not fail the run.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node/types.h"

namespace walrus {
class Chain;
}

namespace floe::scenarios {

using walrus::Epoch;
using walrus::NodeIndex;

enum class StorageFaultMode : uint8_t { off, bounded, unbounded };
const std::vector<std::string>& storage_fault_mode_names();  // "off", "bounded", "unbounded"
StorageFaultMode parse_storage_fault_mode(std::string_view name);

// The simulated disk's fail points (NodeStore's fault hook hits them on every operation of the
// node's fiber; see node/store/node_store.cpp fault_for).
extern const std::vector<std::string> fs_fail_points;
// Those whose firing loses data (the budget counts them) rather than stopping the process.
bool fs_fault_loses_data(std::string_view fail_point);

class DataLossBudget {
public:
    // Whether `node` may lose data now: with the nodes that already did this epoch or are not
    // healed yet, it holds at most (n_shards - 1) / 3 shards of the previous, the current or
    // the next committee.
    // `unfilled` counts more shards that hold no data now, given the nodes the budget counts
    // (the strict fault budget: shards not yet filled at an owner outside that set).
    bool allows(const walrus::Chain& chain, uint32_t n_shards, NodeIndex node,
                const std::function<uint32_t(const std::set<NodeIndex>&)>& unfilled = {}) const;
    void record(Epoch epoch, NodeIndex node);
    // `node` reported, Active, every certified blob stored at its shards for `epoch`: a loss
    // before that epoch is healed.
    void healed(NodeIndex node, Epoch epoch);
    uint64_t losses() const { return losses_; }

private:
    std::map<Epoch, std::set<NodeIndex>> lost_;
    std::map<NodeIndex, Epoch> unhealed_;  // node -> the epoch of its last loss
    uint64_t losses_ = 0;
};

}  // namespace floe::scenarios
