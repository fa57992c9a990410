#include "node/attestation.h"
#include "node/sites.h"

#include <exception>
#include <string_view>

namespace walrus {

AttestationToken::AttestationToken(AttestationToken&& other) noexcept
    : epoch_(other.epoch_), component_(other.component_), spent_(other.spent_) {
    other.spent_ = true;  // a moved-from token has nothing left to spend
}

AttestationToken::~AttestationToken() {
    FLOE_ASSERT(spent_ || std::uncaught_exceptions() > 0,
                "{}'s attestation of epoch {} was claimed but never sent", component_, epoch_);
}

Epoch AttestationToken::spend() {
    FLOE_ASSERT(!spent_, "{}'s attestation of epoch {} spent twice", component_, epoch_);
    spent_ = true;
    return epoch_;
}

Attester::Attester(sim::Runtime& rt, const NodeContext& context, CommitteeService& committees,
                   NodeStorage& storage)
    : rt_(rt), context_(context), committees_(committees), storage_(storage) {}

bool Attester::all_owned_shards_active(Epoch epoch) {
    return first_owned_shard_not_active(epoch).empty();
}

std::string Attester::first_owned_shard_not_active(Epoch epoch) {
    // The shards' statuses as the attester decided on them: the committee lookup below may wait
    // for the chain (after a restart), and other tasks run meanwhile (swarm 9715 with
    // buggify=on, issue 17: a re-sync started in that window). Walrus decides and sends from one
    // snapshot (shard_sync.rs l.500-528).
    std::map<ShardIndex, ShardStatus> statuses;
    for (ShardIndex shard : storage_.existing_shards()) {
        statuses.emplace(shard, storage_.shard_status(shard));
    }
    for (ShardIndex shard : committees_.owned_shards_at(epoch)) {
        const auto it = statuses.find(shard);
        if (it == statuses.end()) {
            return fmt::format("shard {} has no storage", shard);
        }
        if (it->second != ShardStatus::active) {
            return fmt::format("shard {} is {}", shard, shard_status_name(it->second));
        }
    }
    return {};
}

AttestationToken Attester::claim(Epoch epoch, const char* component, bool resumed_at_startup) {
    // A false epoch_sync_done (WAL-1271): the node attests that it holds its shards of E while
    // one of them is not filled. #3464 gets here (finding F5); the condition fail point lets
    // `floe sweep --explain` re-run the seed with HEAD's rules.
    const std::string not_active = first_owned_shard_not_active(epoch);
    if (!not_active.empty()) {
        FLOE_REACHABLE(rt_, site::walrus_false_sync_done_attested);
    }
    FLOE_ASSERT(not_active.empty(),
                "node {}: {} attests epoch {} while a shard it owns is not Active (false "
                "epoch_sync_done, WAL-1271): {}",
                context_.index, component, epoch, not_active);
    const bool in_round = !resumed_at_startup && epoch_change_started_.contains(epoch);
    const auto claimed = attester_of_.emplace(std::pair{epoch, in_round}, component);
    FLOE_ASSERT(claimed.second || std::string_view(claimed.first->second) == component,
                "node {}: both {} and {} attest epoch {} (§7.8: exactly one attester)",
                context_.index, claimed.first->second, component, epoch);
    return AttestationToken(epoch, component);
}

void Attester::queue(AttestationToken token) {
    to_attest_.push_back(token.spend());
    attest_wakeup_.notify_all();
}

void Attester::submit(AttestationToken token) {
    submit_attestation(token.spend());
}

// §1.1 contract service: retries with backoff 1 s → 1 h; a stale attestation (the chain has
// moved on) is dropped; a duplicate counts as done (a restarted node replays its epoch changes).
void Attester::attester_loop() {
    while (true) {
        if (to_attest_.empty()) {
            (void)attest_wakeup_.wait(sim::Duration::forever());
            continue;
        }
        submit_attestation(to_attest_.front());
        to_attest_.erase(to_attest_.begin());
    }
}

void Attester::submit_attestation(Epoch epoch) {
    const RetryPolicy policy{context_.config.contract.sync_done_backoff_min,
                             context_.config.contract.sync_done_backoff_max, "attest-retry"};
    (void)retry_with_backoff(rt_, policy, [&]() -> std::optional<bool> {
        auto reply = rt_.call<SyncDoneReply>(context_.directory.chain, method::sync_done,
                                             SyncDoneRequest{context_.index, epoch},
                                             context_.config.events.chain_request_timeout);
        if (!reply.ok()) {
            return std::nullopt;
        }
        const SyncDoneReply& r = reply.value();
        const bool done = !r.error.has_value() || r.error == SyncDoneError::duplicate_sync_done ||
                          r.error == SyncDoneError::not_in_committee || r.chain_epoch > epoch;
        if (done) {
            return true;
        }
        FLOE_ASSERT(r.chain_epoch == epoch, "attesting epoch {} while the chain is behind, at {}",
                    epoch, r.chain_epoch);
        return std::nullopt;
    });
}

}  // namespace walrus
