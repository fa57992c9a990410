#include "node/chain/chain.h"

#include <limits>
#include <utility>

#include "node/chain/committee_selection.h"
#include "node/chain/dhondt.h"
#include "sim/assert.h"

namespace walrus {

const char* epoch_state_name(EpochState state) {
    switch (state) {
        case EpochState::change_sync: return "change_sync";
        case EpochState::change_done: return "change_done";
        case EpochState::next_params_selected: return "next_params_selected";
    }
    FLOE_UNREACHABLE();
}

const char* sync_done_error_name(SyncDoneError error) {
    switch (error) {
        case SyncDoneError::invalid_sync_epoch: return "invalid_sync_epoch";
        case SyncDoneError::duplicate_sync_done: return "duplicate_sync_done";
        case SyncDoneError::not_in_committee: return "not_in_committee";
    }
    FLOE_UNREACHABLE();
}

const char* blob_error_name(BlobError error) {
    switch (error) {
        case BlobError::unknown_object: return "unknown_object";
        case BlobError::already_certified: return "already_certified";
        case BlobError::not_certified: return "not_certified";
        case BlobError::expired: return "expired";
        case BlobError::not_deletable: return "not_deletable";
        case BlobError::not_permanent: return "not_permanent";
        case BlobError::bad_end_epoch: return "bad_end_epoch";
        case BlobError::invalid_blob: return "invalid_blob";
        case BlobError::invalid_id_epoch: return "invalid_id_epoch";
        case BlobError::not_enough_weight: return "not_enough_weight";
    }
    FLOE_UNREACHABLE();
}

Chain::Chain(ChainConfig config, std::vector<uint64_t> initial_stakes)
    : config_(config), stakes_(std::move(initial_stakes)) {
    FLOE_ASSERT(config_.n_shards > 0, "a chain needs shards");
    FLOE_ASSERT(config_.epoch_duration > sim::Duration::zero(), "epoch duration {}",
                config_.epoch_duration.to_string());
    FLOE_ASSERT(!stakes_.empty(), "a chain needs storage nodes");
    // Genesis epoch 0 has no committee (§1); the first selection uses `committee::initialize`.
    committees_.emplace(epoch_, initial_committee(epoch_, select_counts(), config_.n_shards));
    emit(EpochChangeStart{.epoch = epoch_});
}

// --- Epochs --------------------------------------------------------------------------------------

sim::Instant Chain::epoch_change_done_time() const {
    FLOE_ASSERT(state_ != EpochState::change_sync, "epoch {} has no quorum of attestations yet",
                epoch_);
    return change_done_time_;
}

bool Chain::has_attested(NodeIndex node, Epoch epoch) const {
    return attestations_.contains({epoch, node});
}

sim::Result<sim::Unit, SyncDoneError> Chain::epoch_sync_done(NodeIndex node, Epoch epoch,
                                                             sim::Instant now) {
    FLOE_ASSERT(node < n_nodes(), "epoch_sync_done by unknown node {}", node);
    advance_time(now);
    // §1.1: the contract's checks, in its order. An abort reverts the transaction, so a failed
    // attestation records nothing.
    if (epoch != epoch_) {
        return sim::Err{SyncDoneError::invalid_sync_epoch};
    }
    if (has_attested(node, epoch)) {
        return sim::Err{SyncDoneError::duplicate_sync_done};
    }
    const CommitteeMember* member = current_committee().member(node);
    if (member == nullptr) {
        return sim::Err{SyncDoneError::not_in_committee};
    }
    attestations_.insert({epoch, node});
    attested_weight_ += static_cast<uint32_t>(member->shards.size());
    // Only change_sync counts toward the quorum; later attestations are recorded and still emit
    // ShardsReceived. Event order as in `staking_inner.move::epoch_sync_done`: EpochChangeDone
    // first, then ShardsReceived.
    if (state_ == EpochState::change_sync && is_quorum(attested_weight_, config_.n_shards)) {
        state_ = EpochState::change_done;
        change_done_time_ = now;  // §1.1 (c): the epoch duration runs from here
        emit(EpochChangeDone{.epoch = epoch_});
    }
    emit(ShardsReceived{.epoch = epoch_, .node = node, .shards = member->shards});
    return sim::Unit{};
}

void Chain::advance_time(sim::Instant now) {
    FLOE_ASSERT(now >= now_, "chain time goes backwards: {} after {}", now.to_string(),
                now_.to_string());
    now_ = now;
    // One call may cross both deadlines (or none).
    while (next_deadline() <= now_) {
        switch (state_) {
            case EpochState::change_sync: FLOE_UNREACHABLE("change_sync has no deadline");
            case EpochState::change_done: voting_end(); break;
            case EpochState::next_params_selected: advance_epoch(); break;
        }
    }
}

sim::Instant Chain::next_deadline() const {
    switch (state_) {
        case EpochState::change_sync: return sim::Instant::never();
        case EpochState::change_done: return change_done_time_ + config_.epoch_duration / 2;
        case EpochState::next_params_selected: return change_done_time_ + config_.epoch_duration;
    }
    FLOE_UNREACHABLE();
}

void Chain::voting_end() {
    FLOE_ASSERT(state_ == EpochState::change_done, "voting_end in {}", epoch_state_name(state_));
    // The stake snapshot of this instant decides the next committee (§1.1 consequence b).
    const Epoch next = epoch_ + 1;
    committees_.emplace(next, transition_committee(current_committee(), select_counts(), next));
    state_ = EpochState::next_params_selected;  // t stays the EpochChangeDone time
    emit(EpochParametersSelected{.next_epoch = next});
}

void Chain::advance_epoch() {
    FLOE_ASSERT(state_ == EpochState::next_params_selected, "advance_epoch in {}",
                epoch_state_name(state_));
    FLOE_ASSERT(committees_.contains(epoch_ + 1), "no committee selected for epoch {}", epoch_ + 1);
    ++epoch_;
    state_ = EpochState::change_sync;
    attested_weight_ = 0;
    emit(EpochChangeStart{.epoch = epoch_});
}

// --- Stake and committees ----------------------------------------------------------------------

std::vector<uint32_t> Chain::select_counts() const {
    return dhondt_shard_counts(stakes_, config_.n_shards);
}

void Chain::add_stake(NodeIndex node, uint64_t amount) {
    FLOE_ASSERT(node < n_nodes(), "stake for unknown node {}", node);
    FLOE_ASSERT(stakes_[node] <= std::numeric_limits<uint64_t>::max() - amount,
                "stake of node {} overflows", node);
    stakes_[node] += amount;
}

void Chain::withdraw_stake(NodeIndex node, uint64_t amount) {
    FLOE_ASSERT(node < n_nodes(), "stake for unknown node {}", node);
    FLOE_ASSERT(amount <= stakes_[node], "node {} has stake {}, cannot withdraw {}", node,
                stakes_[node], amount);
    uint64_t total = 0;
    for (uint64_t stake : stakes_) {
        total += stake;
    }
    FLOE_ASSERT(total > amount, "withdrawing {} from node {} leaves no stake at all", amount, node);
    stakes_[node] -= amount;
}

uint64_t Chain::stake(NodeIndex node) const {
    FLOE_ASSERT(node < n_nodes(), "stake of unknown node {}", node);
    return stakes_[node];
}

const Committee& Chain::current_committee() const {
    return committees_.at(epoch_);
}

std::optional<Committee> Chain::previous_committee() const {
    return committee_at(epoch_ - 1);
}

std::optional<Committee> Chain::next_committee() const {
    return committee_at(epoch_ + 1);
}

std::optional<Committee> Chain::committee_at(Epoch epoch) const {
    const auto it = committees_.find(epoch);
    if (it == committees_.end()) {
        return std::nullopt;
    }
    return it->second;
}

// --- Blob objects --------------------------------------------------------------------------------

sim::Result<uint64_t, BlobError> Chain::register_blob(BlobId blob_id, bool deletable,
                                                      Epoch end_epoch) {
    if (is_invalid(blob_id)) {
        return sim::Err{BlobError::invalid_blob};
    }
    // `blob.move::new`: registered_epoch < storage.end_epoch.
    if (end_epoch <= epoch_) {
        return sim::Err{BlobError::bad_end_epoch};
    }
    const uint64_t object_id = next_object_id_++;
    objects_.emplace(object_id, BlobObject{.object_id = object_id,
                                           .blob_id = blob_id,
                                           .deletable = deletable,
                                           .registered_epoch = epoch_,
                                           .end_epoch = end_epoch,
                                           .certified_epoch = std::nullopt});
    emit(BlobRegistered{.blob_id = blob_id,
                        .object_id = object_id,
                        .deletable = deletable,
                        .end_epoch = end_epoch});
    return object_id;
}

sim::Result<sim::Unit, BlobError> Chain::certify_blob(uint64_t object_id) {
    const auto it = objects_.find(object_id);
    if (it == objects_.end()) {
        return sim::Err{BlobError::unknown_object};
    }
    BlobObject& blob = it->second;
    // `blob.move::certify_with_certified_msg` order: already certified, then resource bounds.
    if (blob.certified_epoch.has_value()) {
        return sim::Err{BlobError::already_certified};
    }
    if (blob.end_epoch <= epoch_) {
        return sim::Err{BlobError::expired};
    }
    blob.certified_epoch = epoch_;
    emit(BlobCertified{.blob_id = blob.blob_id,
                       .object_id = object_id,
                       .deletable = blob.deletable,
                       .end_epoch = blob.end_epoch,
                       .is_extension = false,
                       .certified_epoch = epoch_});
    return sim::Unit{};
}

sim::Result<sim::Unit, BlobError> Chain::extend_blob(uint64_t object_id, Epoch new_end_epoch) {
    const auto it = objects_.find(object_id);
    if (it == objects_.end()) {
        return sim::Err{BlobError::unknown_object};
    }
    BlobObject& blob = it->second;
    if (blob.deletable) {
        return sim::Err{BlobError::not_permanent};
    }
    // `blob.move::extend_with_resource`: certified and not expired, then a later end.
    if (!blob.certified_epoch.has_value()) {
        return sim::Err{BlobError::not_certified};
    }
    if (blob.end_epoch <= epoch_) {
        return sim::Err{BlobError::expired};
    }
    if (new_end_epoch <= blob.end_epoch) {
        return sim::Err{BlobError::bad_end_epoch};
    }
    blob.end_epoch = new_end_epoch;
    emit(BlobCertified{.blob_id = blob.blob_id,
                       .object_id = object_id,
                       .deletable = false,
                       .end_epoch = new_end_epoch,
                       .is_extension = true,
                       .certified_epoch = *blob.certified_epoch});
    return sim::Unit{};
}

sim::Result<sim::Unit, BlobError> Chain::delete_blob(uint64_t object_id) {
    const auto it = objects_.find(object_id);
    if (it == objects_.end()) {
        return sim::Err{BlobError::unknown_object};
    }
    const BlobObject blob = it->second;
    if (!blob.deletable) {
        return sim::Err{BlobError::not_deletable};
    }
    // `blob.move::delete`: storage.end_epoch > epoch.
    if (blob.end_epoch <= epoch_) {
        return sim::Err{BlobError::expired};
    }
    objects_.erase(it);
    emit(BlobDeleted{.blob_id = blob.blob_id,
                     .object_id = object_id,
                     .end_epoch = blob.end_epoch,
                     .was_certified = blob.certified_epoch.has_value()});
    return sim::Unit{};
}

sim::Result<sim::Unit, BlobError> Chain::invalidate_blob(BlobId blob_id, Epoch cert_epoch,
                                                         uint32_t cert_weight) {
    if (cert_epoch != epoch_) {
        return sim::Err{BlobError::invalid_id_epoch};
    }
    if (3 * cert_weight < config_.n_shards + 1) {
        return sim::Err{BlobError::not_enough_weight};
    }
    invalid_blobs_.insert(blob_id);
    emit(InvalidBlobId{.blob_id = blob_id});
    return sim::Unit{};
}

std::optional<BlobObject> Chain::object(uint64_t object_id) const {
    const auto it = objects_.find(object_id);
    if (it == objects_.end()) {
        return std::nullopt;
    }
    return it->second;
}

// --- Events --------------------------------------------------------------------------------------

void Chain::emit(ChainEventBody body) {
    events_.push_back(
        ChainEvent{.index = next_event_index(), .epoch = epoch_, .body = std::move(body)});
}

}  // namespace walrus
