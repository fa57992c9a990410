#pragma once
// The pure core of PR #3407's checkpointed recovery pass (walrus-recovery-spec.md §9.3), kept
// apart from fibers and storage so that its rules can be tested exhaustively:
//
//  - the resume decision: a persisted checkpoint is used only if the owned shards are still
//    exactly the same (invariant 20); the epoch is deliberately not compared;
//  - the settle cursor: the highest blob id below which every certified-before-E blob is known to
//    be stored at all owned shards or no longer certified. It never reaches or passes a blob that
//    is in flight or waiting for a retry (invariant 17), and what is persisted only moves forward
//    (invariant 18);
//  - the retry backoff of a Cancelled-but-still-needed blob: 1, 2, 4, 8, 16, 30, 30 … s, reset
//    when the blob settles (invariant 21).
//
// Persisting (§16 item 1): #3407 persists when the candidate's blob-id prefix advanced by at least
// `persist_interval` past the last persisted one (the first 8 bytes of each id as a big-endian
// integer, saturating difference: node_recovery.rs blob_id_distance). That distance depends on
// how ids happen to be spread: with random 256-bit ids and an interval far below 2^64 it is
// almost always met, so #3407 persists at nearly every step. floe's earlier rule, kept as the new
// behaviour checkpoint-every-n-settled, counts settled blobs instead.
//
// Skipped (§9.3 step 5): #3407 drops the blob from in_flight and aborts; finalize then persists
// the eligible checkpoint, which may lie past the skipped blob. The new behaviour keeps it as a
// blocker.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "node/types.h"
#include "sim/time.h"

namespace walrus {

struct NodeRecoveryProgress {
    Epoch epoch = 0;
    std::set<ShardIndex> owned_shards;
    BlobId last_settled;
    bool operator==(const NodeRecoveryProgress&) const = default;
};

struct ResumeDecision {
    enum class Kind : uint8_t { start_fresh, discard_and_start_fresh, resume };
    Kind kind = Kind::start_fresh;
    BlobId resume_after;  // resume: scan from Excluded(resume_after)
    bool operator==(const ResumeDecision&) const = default;
};

ResumeDecision resume_decision(const std::optional<NodeRecoveryProgress>& checkpoint,
                               const std::set<ShardIndex>& owned_shards);

enum class CheckpointRule : uint8_t {
    pr_3407,        // prefix distance >= interval; a Skipped blob stops blocking
    settled_count,  // >= interval settled blobs since the last persist; Skipped still blocks
};

// node_recovery.rs blob_id_distance: prefix(b) - prefix(a), saturating at zero.
uint64_t blob_id_distance(const BlobId& a, const BlobId& b);

struct RecoveryBackoff {
    sim::Duration initial = sim::Duration::seconds(1);
    sim::Duration max = sim::Duration::seconds(30);
};

class SettleCursor {
public:
    // `resumed_from`: the checkpoint the pass resumed from (everything up to it is settled).
    SettleCursor(std::optional<BlobId> resumed_from, uint32_t persist_interval,
                 RecoveryBackoff backoff = {}, CheckpointRule rule = CheckpointRule::settled_count);

    // The scan reached `blob` (ascending order).
    void scanned(const BlobId& blob);
    // The scanned blob needs nothing (stored, or not certified any more).
    void settle(const BlobId& blob);
    // A sync for the scanned blob was started.
    void start(const BlobId& blob);
    // Outcomes of a started sync.
    void succeeded(const BlobId& blob);
    // Cancelled: if the blob is still certified and unstored it is retried after its backoff;
    // returns the retry deadline, or nullopt if it settled.
    std::optional<sim::Instant> cancelled(const BlobId& blob, bool still_needed, sim::Instant now);
    // Retries whose deadline passed, in blob-id order; they leave retry_pending but stay
    // unfinished until each is settle()d, start()ed again or forget()-ten.
    std::vector<BlobId> take_due_retries(sim::Instant now);
    // A due retry whose blob info vanished: dropped without settling (§9.3 step 4b).
    void forget(const BlobId& blob) {
        due_.erase(blob);
        retry_backoff_.erase(blob);
    }
    // A sync ended Skipped: the pass aborts (§9.3 step 5). Under the PR's rule the blob simply
    // leaves in_flight, after which eligible_checkpoint() may return a scan position past a blob
    // that was never synced, and a later resume skips it for good; under settled_count it stays
    // unfinished for the checkpoint.
    void abandon(const BlobId& blob);
    std::optional<sim::Instant> next_retry_deadline() const;

    // §9.3 step 7: what may be persisted now.
    std::optional<BlobId> eligible_checkpoint() const;
    // Whether to persist now (the first time, then by the rule's interval); marks it persisted
    // when true.
    std::optional<BlobId> take_checkpoint_to_persist();
    // At the end of a pass (or an abort): persist whatever is eligible, regardless of interval.
    std::optional<BlobId> take_final_checkpoint();

    bool done(bool scan_finished) const {
        return scan_finished && in_flight_.empty() && retry_pending_.empty() && due_.empty();
    }
    const std::optional<BlobId>& last_settled() const { return last_settled_; }
    const std::optional<BlobId>& last_persisted() const { return last_persisted_; }
    size_t in_flight() const { return in_flight_.size(); }
    size_t retry_pending() const { return retry_pending_.size(); }
    std::optional<sim::Duration> backoff_of(const BlobId& blob) const;

private:
    void advance_settled(const BlobId& blob);
    std::optional<BlobId> lowest_unfinished() const;
    void check_invariants() const;

    uint32_t persist_interval_;
    RecoveryBackoff backoff_;
    CheckpointRule rule_;
    std::set<BlobId> in_flight_;
    std::set<BlobId> abandoned_;  // Skipped: never settled in this pass
    std::set<BlobId> due_;        // taken from retry_pending, not yet re-issued or settled
    std::map<BlobId, sim::Instant> retry_pending_;
    std::map<BlobId, sim::Duration> retry_backoff_;
    std::optional<BlobId> last_settled_;
    std::optional<BlobId> last_persisted_;
    std::optional<BlobId> scan_pos_;
    uint64_t settled_since_persist_ = 0;
};

}  // namespace walrus
