#include "node/recovery_cursor.h"

#include <algorithm>

#include "sim/assert.h"

namespace walrus {

ResumeDecision resume_decision(const std::optional<NodeRecoveryProgress>& checkpoint,
                               const std::set<ShardIndex>& owned_shards) {
    if (!checkpoint.has_value()) {
        return {ResumeDecision::Kind::start_fresh, {}};
    }
    if (checkpoint->owned_shards != owned_shards) {
        // Invariant 20: a gain or a loss of shards means settled blobs may be missing from a new
        // shard: the checkpoint says nothing any more.
        return {ResumeDecision::Kind::discard_and_start_fresh, {}};
    }
    return {ResumeDecision::Kind::resume, checkpoint->last_settled};
}

uint64_t blob_id_distance(const BlobId& a, const BlobId& b) {
    auto prefix = [](const BlobId& id) {
        uint64_t value = 0;
        for (size_t i = 0; i < 8; ++i) {
            value = (value << 8U) | id.bytes[i];
        }
        return value;
    };
    const uint64_t from = prefix(a);
    const uint64_t to = prefix(b);
    return to > from ? to - from : 0;
}

SettleCursor::SettleCursor(std::optional<BlobId> resumed_from, uint32_t persist_interval,
                           RecoveryBackoff backoff, CheckpointRule rule)
    : persist_interval_(persist_interval),
      backoff_(backoff),
      rule_(rule),
      last_settled_(resumed_from),
      last_persisted_(resumed_from),
      scan_pos_(resumed_from) {
    FLOE_ASSERT(persist_interval_ > 0, "persist interval of zero");
}

void SettleCursor::scanned(const BlobId& blob) {
    FLOE_ASSERT(!scan_pos_.has_value() || *scan_pos_ < blob, "the scan went back to {}",
                blob.short_hex());
    scan_pos_ = blob;
}

std::optional<BlobId> SettleCursor::lowest_unfinished() const {
    std::optional<BlobId> lowest;
    if (!in_flight_.empty()) {
        lowest = *in_flight_.begin();
    }
    if (!retry_pending_.empty() && (!lowest || retry_pending_.begin()->first < *lowest)) {
        lowest = retry_pending_.begin()->first;
    }
    for (const std::set<BlobId>* set : {&abandoned_, &due_}) {
        if (!set->empty() && (!lowest || *set->begin() < *lowest)) {
            lowest = *set->begin();
        }
    }
    return lowest;
}

// §9.3 step 6: the cursor moves to `blob` unless an unfinished blob lies below it.
void SettleCursor::advance_settled(const BlobId& blob) {
    ++settled_since_persist_;
    const auto blocker = lowest_unfinished();
    if (blocker.has_value() && *blocker < blob) {
        return;
    }
    if (!last_settled_.has_value() || *last_settled_ < blob) {
        last_settled_ = blob;
    }
    check_invariants();
}

void SettleCursor::settle(const BlobId& blob) {
    FLOE_ASSERT(!in_flight_.contains(blob) && !retry_pending_.contains(blob),
                "blob {} settled while unfinished", blob.short_hex());
    due_.erase(blob);
    retry_backoff_.erase(blob);
    advance_settled(blob);
}

void SettleCursor::start(const BlobId& blob) {
    FLOE_ASSERT(!retry_pending_.contains(blob), "blob {} started while waiting for a retry",
                blob.short_hex());
    due_.erase(blob);
    const bool inserted = in_flight_.insert(blob).second;
    FLOE_ASSERT(inserted, "blob {} started twice", blob.short_hex());
    check_invariants();
}

void SettleCursor::succeeded(const BlobId& blob) {
    const bool erased = in_flight_.erase(blob) == 1;
    FLOE_ASSERT(erased, "outcome of blob {} that is not in flight", blob.short_hex());
    retry_backoff_.erase(blob);
    advance_settled(blob);
}

std::optional<sim::Instant> SettleCursor::cancelled(const BlobId& blob, bool still_needed,
                                                    sim::Instant now) {
    const bool erased = in_flight_.erase(blob) == 1;
    FLOE_ASSERT(erased, "outcome of blob {} that is not in flight", blob.short_hex());
    if (!still_needed) {
        retry_backoff_.erase(blob);
        advance_settled(blob);
        return std::nullopt;
    }
    auto previous = retry_backoff_.find(blob);
    const sim::Duration delay = previous == retry_backoff_.end()
                                    ? backoff_.initial
                                    : std::min(previous->second * 2, backoff_.max);
    retry_backoff_[blob] = delay;
    retry_pending_[blob] = now + delay;
    check_invariants();
    return now + delay;
}

void SettleCursor::abandon(const BlobId& blob) {
    const bool erased = in_flight_.erase(blob) == 1;
    FLOE_ASSERT(erased, "outcome of blob {} that is not in flight", blob.short_hex());
    if (rule_ == CheckpointRule::settled_count) {
        abandoned_.insert(blob);
    }
}

std::vector<BlobId> SettleCursor::take_due_retries(sim::Instant now) {
    std::vector<BlobId> due;
    for (auto it = retry_pending_.begin(); it != retry_pending_.end();) {
        if (it->second <= now) {
            due.push_back(it->first);
            due_.insert(it->first);
            it = retry_pending_.erase(it);
        } else {
            ++it;
        }
    }
    return due;
}

std::optional<sim::Instant> SettleCursor::next_retry_deadline() const {
    std::optional<sim::Instant> earliest;
    for (const auto& [blob, deadline] : retry_pending_) {
        if (!earliest || deadline < *earliest) {
            earliest = deadline;
        }
    }
    return earliest;
}

std::optional<sim::Duration> SettleCursor::backoff_of(const BlobId& blob) const {
    auto it = retry_backoff_.find(blob);
    return it == retry_backoff_.end() ? std::nullopt : std::optional<sim::Duration>(it->second);
}

// §9.3 step 7: with nothing unfinished, everything scanned is settled.
std::optional<BlobId> SettleCursor::eligible_checkpoint() const {
    if (!in_flight_.empty() || !retry_pending_.empty() || !abandoned_.empty() || !due_.empty()) {
        return last_settled_;
    }
    return scan_pos_.has_value() ? scan_pos_ : last_settled_;
}

std::optional<BlobId> SettleCursor::take_checkpoint_to_persist() {
    const auto candidate = eligible_checkpoint();
    if (!candidate.has_value()) {
        return std::nullopt;
    }
    const bool first = !last_persisted_.has_value();
    const bool forward = first || *last_persisted_ < *candidate;
    if (!forward) {
        return std::nullopt;
    }
    const uint64_t advanced = first ? UINT64_MAX
                              : rule_ == CheckpointRule::pr_3407
                                  ? blob_id_distance(*last_persisted_, *candidate)
                                  : settled_since_persist_;
    if (advanced < persist_interval_) {
        return std::nullopt;
    }
    last_persisted_ = candidate;
    settled_since_persist_ = 0;
    check_invariants();
    return candidate;
}

std::optional<BlobId> SettleCursor::take_final_checkpoint() {
    const auto candidate = eligible_checkpoint();
    if (!candidate.has_value() ||
        (last_persisted_.has_value() && !(*last_persisted_ < *candidate))) {
        return std::nullopt;
    }
    last_persisted_ = candidate;
    settled_since_persist_ = 0;
    return candidate;
}

void SettleCursor::check_invariants() const {
    // Invariant 17: the settled cursor, and what is persisted, stay strictly below every
    // unfinished blob.
    const auto blocker = lowest_unfinished();
    if (blocker.has_value()) {
        FLOE_ASSERT(!last_settled_.has_value() || *last_settled_ < *blocker,
                    "settled cursor {} reached unfinished blob {} (invariant 17)",
                    last_settled_->short_hex(), blocker->short_hex());
        FLOE_ASSERT(!last_persisted_.has_value() || *last_persisted_ < *blocker,
                    "persisted checkpoint {} reached unfinished blob {} (invariant 17)",
                    last_persisted_->short_hex(), blocker->short_hex());
    }
}

}  // namespace walrus
