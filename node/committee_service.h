#pragma once
// The node's committee service (walrus-recovery-spec.md §5; Walrus's committee_service.rs and
// active_committees.rs): the committees it fetched from the chain, the epoch it tracks (the
// latest EpochChangeStart, or the latest on-chain committee at startup), whether it is still
// transitioning to that epoch, and the event epoch (latest_event_epoch) that blob syncs target.
//
// It also holds the one retry loop the node uses for calls that must eventually succeed (the
// chain's committees and attestations, a blob's metadata and slivers from its peers).

#include <map>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "node/backoff.h"
#include "node/node_context.h"
#include "node/node_recovery.h"
#include "node/shard_sync.h"
#include "sim/runtime.h"

namespace walrus {

// How a call is retried: ExponentialBackoff(min, max) with its jitter drawn from the named random
// stream (the name keeps each caller's draws apart, so it is part of the trace).
struct RetryPolicy {
    sim::Duration min;
    sim::Duration max;
    const char* rng_stream;
};

// Calls `attempt` until it returns a value and returns that value; after every failed attempt
// sleeps the next backoff delay. `attempt` returns a std::optional.
template <class Attempt>
auto retry_with_backoff(sim::Runtime& rt, const RetryPolicy& policy, Attempt attempt) ->
    typename std::invoke_result_t<Attempt&>::value_type {
    ExponentialBackoff backoff(policy.min, policy.max);
    while (true) {
        auto result = attempt();
        if (result.has_value()) {
            return std::move(*result);
        }
        rt.sleep(backoff.next(rt.rng(policy.rng_stream)));
    }
}

class CommitteeService final : public ShardSyncCommittees, public NodeRecoveryEnv {
public:
    CommitteeService(sim::Runtime& rt, const NodeContext& context);
    CommitteeService(const CommitteeService&) = delete;
    CommitteeService& operator=(const CommitteeService&) = delete;

    // The retry policy of the committee service's own calls, with the caller's stream.
    RetryPolicy retry_policy(const char* rng_stream) const;

    // --- committees ---
    const Committee& committee(Epoch epoch);  // waits until the chain knows it
    const Committee& committee_at(Epoch epoch) override { return committee(epoch); }
    bool is_member(Epoch epoch) { return committee(epoch).contains(context_.index); }
    std::vector<ShardIndex> owned_shards_at(Epoch epoch);  // ascending
    std::vector<ShardIndex> owned_shards_at_latest() override {
        return owned_shards_at(current_committee_epoch());
    }
    bool shard_assignment_known(Epoch epoch);
    std::vector<ShardIndex> shards_for_blob_sync(Epoch event_epoch);

    // --- the committee epoch ---
    Epoch current_committee_epoch() override;
    // begin_committee_change_to_latest_committee: asks the chain for its latest committee.
    Epoch latest_chain_epoch();
    // The tracked epoch as it is now, without asking the chain (0 before the first answer).
    Epoch tracked_epoch() const { return committee_epoch_; }
    // begin_committee_change(E): the service tracks E from now on (never moves back).
    void begin_committee_change(Epoch epoch) {
        committee_epoch_ = std::max(committee_epoch_, epoch);
    }
    // The chain's start of `epoch` while it is still that epoch (nullopt while transitioning).
    std::optional<sim::Instant> epoch_start(Epoch epoch);
    // end_committee_change: EpochChangeDone(E).
    void end_committee_change(Epoch epoch);
    Epoch read_committee_epoch(Epoch certified_epoch);

    // --- the event epoch (latest_event_epoch, §5) ---
    std::optional<Epoch> event_epoch() const { return event_epoch_; }
    void set_event_epoch(Epoch epoch);
    void wait_for_event_epoch() override;

private:
    CommitteesReply latest_committees();

    sim::Runtime& rt_;
    const NodeContext& context_;
    std::map<Epoch, Committee> committees_;
    Epoch committee_epoch_ = 0;  // the committee service's epoch (§5): latest EpochChangeStart
    // The committee service's ActiveCommittees::is_transitioning: between its move to an epoch
    // and that epoch's EpochChangeDone; blobs certified before it are read from the previous
    // committee meanwhile (read_committee).
    bool transitioning_ = false;
    std::optional<Epoch> event_epoch_;  // latest_event_epoch (§5); unset until known
    sim::Event event_epoch_known_{"event-epoch"};
};

}  // namespace walrus
