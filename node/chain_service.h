#pragma once
// The chain as a simulated host (walrus-recovery-spec.md §1.1). It is always up and not under
// test: it serves the contract's calls over RPC (with the network's latency to it) and drives
// the epoch state machine's time-driven transitions (voting_end at t + d/2, the epoch change at
// t + d). Scenarios and checkers on the world side read and poke the Chain directly.

#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "node/chain/chain.h"
#include "node/messages.h"
#include "sim/runtime.h"

namespace walrus {

class ChainService {
public:
    ChainService(ChainConfig config, std::vector<uint64_t> initial_stakes);

    // The chain host's boot function.
    void boot(sim::Runtime& rt);

    Chain& chain() { return chain_; }
    const Chain& chain() const { return chain_; }
    // Attestation attempts the chain refused as duplicates, by (epoch, node): a restarted node
    // that replays its epoch change may legitimately repeat one; a healthy one never does.
    const std::map<std::pair<Epoch, NodeIndex>, uint64_t>& duplicate_attestations() const {
        return duplicates_;
    }
    // Stake moves from the world side (a scenario's "stake to a node").
    void add_stake(NodeIndex node, uint64_t amount);
    void withdraw_stake(NodeIndex node, uint64_t amount);

private:
    void drive(sim::Runtime& rt);
    void report_epoch(sim::Runtime& rt, std::optional<std::pair<Epoch, EpochState>>& reported);
    BlobOpReply blob_op(const BlobOp& op);

    Chain chain_;
    std::map<std::pair<Epoch, NodeIndex>, uint64_t> duplicates_;
    sim::Notify changed_{"chain-changed"};
};

}  // namespace walrus
