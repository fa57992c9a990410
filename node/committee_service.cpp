#include "node/committee_service.h"

#include <algorithm>

#include "node/sites.h"
#include "node/walrus_panic.h"

namespace walrus {

CommitteeService::CommitteeService(sim::Runtime& rt, const NodeContext& context)
    : rt_(rt), context_(context) {}

RetryPolicy CommitteeService::retry_policy(const char* rng_stream) const {
    return RetryPolicy{context_.config.committee.retry_interval_min,
                       context_.config.committee.retry_interval_max, rng_stream};
}

// --- committees ----------------------------------------------------------------------------------

const Committee& CommitteeService::committee(Epoch epoch) {
    auto cached = committees_.find(epoch);
    if (cached != committees_.end()) {
        return cached->second;
    }
    Committee fetched =
        retry_with_backoff(rt_, retry_policy("committee-retry"), [&]() -> std::optional<Committee> {
            auto reply = rt_.call<CommitteesReply>(context_.directory.chain, method::committees,
                                                   CommitteesRequest{epoch},
                                                   context_.config.events.chain_request_timeout);
            if (!reply.ok()) {
                return std::nullopt;
            }
            return reply.value().committee;
        });
    return committees_.emplace(epoch, std::move(fetched)).first->second;
}

// owned_shards_at_epoch (node.rs) knows the committee epoch and the one before it only.
bool CommitteeService::shard_assignment_known(Epoch epoch) {
    const Epoch committee_epoch = current_committee_epoch();
    return context_.config.old.any_epoch_shard_assignment || epoch == committee_epoch ||
           epoch + 1 == committee_epoch;
}

// recover_blob_slivers: owned_shards_at_epoch(event epoch), or a panic ("shard assignment must
// be found at the certified epoch"): why a node two epochs behind must cancel its syncs.
std::vector<ShardIndex> CommitteeService::shards_for_blob_sync(Epoch event_epoch) {
    if (!shard_assignment_known(event_epoch)) {
        FLOE_REACHABLE(rt_, site::walrus_panic_unknown_shard_assignment_epoch);
        WALRUS_PANIC("blob_sync.rs recover_blob_slivers",
                     "node {}: shard assignment must be found at epoch {} (committee epoch {})",
                     context_.index, event_epoch, current_committee_epoch());
    }
    return owned_shards_at(event_epoch);
}

std::vector<ShardIndex> CommitteeService::owned_shards_at(Epoch epoch) {
    std::vector<ShardIndex> shards = committee(epoch).shards_of(context_.index);
    std::sort(shards.begin(), shards.end());
    return shards;
}

// --- the committee epoch -------------------------------------------------------------------------

Epoch CommitteeService::current_committee_epoch() {
    if (committee_epoch_ == 0) {
        // At startup, before any EpochChangeStart: the committee service starts at the latest
        // on-chain committee (§2.2 step 1).
        (void)latest_chain_epoch();
    }
    return committee_epoch_;
}

// The chain's latest committees, asked until it answers.
CommitteesReply CommitteeService::latest_committees() {
    return retry_with_backoff(
        rt_, retry_policy("committee-retry"), [&]() -> std::optional<CommitteesReply> {
            auto reply = rt_.call<CommitteesReply>(context_.directory.chain, method::committees,
                                                   CommitteesRequest{0},
                                                   context_.config.events.chain_request_timeout);
            return reply.ok() ? std::optional(std::move(reply).value()) : std::nullopt;
        });
}

// The committee service asking the chain for its latest committee
// (begin_committee_change_to_latest_committee).
Epoch CommitteeService::latest_chain_epoch() {
    const CommitteesReply latest = latest_committees();
    if (latest.chain_epoch >= committee_epoch_) {
        transitioning_ = latest.transitioning;  // the latest committees as fetched
    }
    committee_epoch_ = std::max(committee_epoch_, latest.chain_epoch);
    return latest.chain_epoch;
}

// contract_service.get_epoch_and_state(): the start of `epoch` if the chain is still in it and
// past its EpochChangeDone (earliest_start_of_current_epoch), else nullopt (GC counts from now).
std::optional<sim::Instant> CommitteeService::epoch_start(Epoch epoch) {
    const CommitteesReply latest = latest_committees();
    return latest.chain_epoch == epoch ? latest.epoch_start : std::nullopt;
}

// end_committee_change: the transition to the tracked epoch is over; an older one (a backlog)
// changes nothing.
void CommitteeService::end_committee_change(Epoch epoch) {
    if (epoch == committee_epoch_) {
        transitioning_ = false;
    }
}

// active_committees.rs read_committee(certified_epoch), which the committee service uses for
// metadata and sliver recovery: while transitioning to epoch E (EpochChangeDone(E) not yet
// processed), a blob certified before E is read from the previous committee, whose members
// still hold it; otherwise from the current one.
Epoch CommitteeService::read_committee_epoch(Epoch certified_epoch) {
    const Epoch current = current_committee_epoch();
    if (!transitioning_ || certified_epoch >= current || current <= 1) {
        return current;
    }
    return current - 1;
}

// --- the event epoch -----------------------------------------------------------------------------

void CommitteeService::set_event_epoch(Epoch epoch) {
    event_epoch_ = epoch;
    event_epoch_known_.set();
}

// current_event_epoch (node.rs) awaits the event epoch's watch channel: the recovery task
// resumes in the same instant the first event sets it.
void CommitteeService::wait_for_event_epoch() {
    (void)event_epoch_known_.wait();
}

}  // namespace walrus
