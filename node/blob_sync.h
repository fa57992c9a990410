#pragma once
// The blob sync handler (walrus-recovery-spec.md §6). It runs at most one sync per blob id; each
// caller of start_sync gets its own receiver on the sync's watch channel, so every subscriber
// sees the terminal outcome (invariant 8: no lost wake-up — the bug PR #3412 fixed).
//
// Cancellation aborts the sync task, which unwinds at its next suspension point; its guard
// publishes Done(Cancelled) and removes the entry. The canceller marks the event complete.

#include <map>
#include <memory>
#include <optional>
#include <set>

#include "node/config.h"
#include "node/event_handle.h"
#include "node/status.h"
#include "node/types.h"
#include "sim/runtime.h"

namespace walrus {

enum class SyncOutcome : uint8_t { success, cancelled, skipped };
const char* sync_outcome_name(SyncOutcome outcome);

struct SyncStatus {
    bool done = false;
    SyncOutcome outcome = SyncOutcome::success;  // meaningful when done
    static SyncStatus pending() { return {false, SyncOutcome::success}; }
    static SyncStatus finished(SyncOutcome outcome) { return {true, outcome}; }
    bool operator==(const SyncStatus&) const = default;
};

// What a caller of start_sync waits on (§6.2). Since #3412 every caller holds its own receiver on
// the sync's watch channel and sees the terminal outcome (invariant 8). With the old behaviour
// `notify-one-sync-waiter` all callers share one notify, woken once with notify_one when the
// sync ends (a notification with nobody waiting is kept as one permit, as tokio's Notify does):
// a second waiter on the same blob blocks forever.
class SyncWaiter {
public:
    // The terminal outcome; nullopt on timeout. A sync whose handler vanished counts as
    // Cancelled (§9.3 step 5: "also used when all senders dropped").
    std::optional<SyncOutcome> wait(sim::Duration timeout = sim::Duration::forever());

private:
    friend class BlobSyncHandler;
    struct SharedNotify {
        explicit SharedNotify(std::string name) : notify(std::move(name)) {}
        sim::Notify notify;
        bool permit = false;
        SyncOutcome outcome = SyncOutcome::cancelled;
    };
    std::optional<sim::WatchReceiver<SyncStatus>> watch_;
    std::shared_ptr<SharedNotify> shared_;
};

// What a blob sync needs from its node.
class BlobSyncEnv {
public:
    virtual ~BlobSyncEnv() = default;
    virtual NodeStatus node_status() = 0;
    // BlobSynchronizer::run (§6.4): returns once the blob is stored at every shard owned at the
    // event epoch (or was already). Suspends; may be aborted at any suspension.
    virtual void synchronize_blob(const BlobId& blob, Epoch certified_epoch,
                                  sim::Semaphore& sliver_permits) = 0;
    // The InvalidBlobId event of a blob this node proved inconsistent was processed.
    virtual void proof_invalidated(const BlobId& blob) = 0;
};

class BlobSyncHandler {
public:
    BlobSyncHandler(sim::Runtime& rt, BlobSyncEnv& env, const BlobRecoveryConfig& config,
                    bool notify_one_waiter);
    BlobSyncHandler(const BlobSyncHandler&) = delete;
    BlobSyncHandler& operator=(const BlobSyncHandler&) = delete;
    ~BlobSyncHandler();

    // §6.2. If a sync for `blob` runs already, the new handle is completed at once (the older
    // sync still pins an earlier cursor position) and the caller subscribes to it.
    SyncWaiter start_sync(const BlobId& blob, Epoch certified_epoch,
                          std::optional<EventHandle> handle);

    // §6.3 cancellation sources. Each completes the cancelled syncs' event handles.
    void cancel_sync_and_mark_event_complete(const BlobId& blob);
    template <class StillNeeded>
    size_t cancel_syncs_where_not(StillNeeded still_needed) {
        std::vector<BlobId> victims;
        for (const auto& [blob, entry] : in_progress_) {
            if (!still_needed(blob)) {
                victims.push_back(blob);
            }
        }
        for (const BlobId& blob : victims) {
            cancel_sync_and_mark_event_complete(blob);
        }
        return victims.size();
    }
    void cancel_all_syncs_and_mark_events_completed();

    bool is_in_progress(const BlobId& blob) const { return in_progress_.contains(blob); }
    size_t in_progress_count() const { return in_progress_.size(); }

    // Blobs this node proved inconsistent (a sync or shard sync filed the proof) whose
    // InvalidBlobId event it has not processed yet: certified in its blob info, and never to be
    // stored. In memory, like the in-progress set; F9's fix also persists them (BlobRecovery),
    // since a restart need not replay the certify event whose sync found the proof (swarm
    // 24704). Finding F9 (docs/FINDINGS.md).
    void note_proven_inconsistent(const BlobId& blob) { proven_inconsistent_.insert(blob); }
    void forget_proven_inconsistent(const BlobId& blob) {
        if (proven_inconsistent_.erase(blob) > 0) {
            env_.proof_invalidated(blob);
        }
    }
    bool awaits_invalidation(const BlobId& blob) const {
        return proven_inconsistent_.contains(blob);
    }

private:
    struct Entry {
        uint64_t generation = 0;
        sim::WatchSender<SyncStatus> status;
        std::shared_ptr<SyncWaiter::SharedNotify> shared;  // notify-one-sync-waiter only
        std::optional<EventHandle> handle;
        sim::JoinHandle<sim::Unit> task;
    };
    struct SyncGuard {
        SyncGuard(BlobSyncHandler* h, const BlobId& b, uint64_t g)
            : handler(h), blob(b), generation(g) {}
        SyncGuard(const SyncGuard&) = delete;
        SyncGuard& operator=(const SyncGuard&) = delete;
        ~SyncGuard();
        BlobSyncHandler* handler;
        BlobId blob;
        uint64_t generation;
        bool finished = false;  // finish() was called explicitly (success or skip)
    };
    void run_sync(const BlobId& blob, Epoch certified_epoch, SyncGuard& guard);
    bool has_event_handle(const BlobId& blob, uint64_t generation) const;
    void finish(const BlobId& blob, uint64_t generation, SyncOutcome outcome);
    SyncWaiter subscribe(Entry& entry) const;

    sim::Runtime& rt_;
    BlobSyncEnv& env_;
    bool notify_one_waiter_;
    sim::Semaphore blob_permits_;
    sim::Semaphore sliver_permits_;
    std::map<BlobId, Entry> in_progress_;  // INV (7): at most one sync per blob id
    // Invariant 7, checked as the run goes: the blobs whose synchronizer body is running. A
    // second body for the same blob while one runs would be two in-progress syncs of a blob.
    std::set<BlobId> running_;
    std::set<BlobId> proven_inconsistent_;
    uint64_t next_generation_ = 1;
};

}  // namespace walrus
