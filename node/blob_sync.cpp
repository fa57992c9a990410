#include "node/blob_sync.h"
#include "node/sites.h"

#include <fmt/format.h>

namespace walrus {

const char* sync_outcome_name(SyncOutcome outcome) {
    switch (outcome) {
        case SyncOutcome::success: return "Success";
        case SyncOutcome::cancelled: return "Cancelled";
        case SyncOutcome::skipped: return "Skipped";
    }
    FLOE_UNREACHABLE();
}

std::optional<SyncOutcome> SyncWaiter::wait(sim::Duration timeout) {
    if (shared_ != nullptr) {
        if (shared_->permit) {
            shared_->permit = false;
            return shared_->outcome;
        }
        if (!shared_->notify.wait(timeout)) {
            return std::nullopt;
        }
        return shared_->outcome;
    }
    FLOE_ASSERT(watch_.has_value(), "waiting on an empty sync waiter");
    auto status = watch_->wait_for([](const SyncStatus& s) { return s.done; }, timeout);
    if (status.ok()) {
        return status.value().outcome;
    }
    if (status.error() == sim::WatchError::timeout) {
        return std::nullopt;
    }
    return SyncOutcome::cancelled;
}

BlobSyncHandler::BlobSyncHandler(sim::Runtime& rt, BlobSyncEnv& env,
                                 const BlobRecoveryConfig& config, bool notify_one_waiter)
    : rt_(rt),
      env_(env),
      notify_one_waiter_(notify_one_waiter),
      blob_permits_(config.max_concurrent_blob_syncs, "blob-sync-permits"),
      sliver_permits_(config.max_concurrent_sliver_syncs, "sliver-sync-permits") {}

BlobSyncHandler::~BlobSyncHandler() {
    // Shutdown or crash: the tasks borrow this handler, so none may outlive it. On a crash the
    // kernel has unwound them already (children before the frame that owns the handler).
    FLOE_ASSERT(in_progress_.empty(), "{} blob syncs outlive their handler", in_progress_.size());
}

SyncWaiter BlobSyncHandler::subscribe(Entry& entry) const {
    SyncWaiter waiter;
    if (entry.shared != nullptr) {
        waiter.shared_ = entry.shared;
    } else {
        waiter.watch_ = entry.status.subscribe();
    }
    return waiter;
}

SyncWaiter BlobSyncHandler::start_sync(const BlobId& blob, Epoch certified_epoch,
                                       std::optional<EventHandle> handle) {
    auto existing = in_progress_.find(blob);
    if (existing != in_progress_.end()) {
        if (handle.has_value()) {
            handle->complete();
        }
        return subscribe(existing->second);
    }
    const uint64_t generation = next_generation_++;
    auto channel = sim::watch_channel(SyncStatus::pending(), "blob-sync " + blob.short_hex());
    Entry& entry =
        in_progress_
            .emplace(blob,
                     Entry{generation, std::move(channel.first), nullptr, std::move(handle), {}})
            .first->second;
    if (notify_one_waiter_) {
        entry.shared =
            std::make_shared<SyncWaiter::SharedNotify>("blob-sync-notify " + blob.short_hex());
    }
    // The guard rides in the task's captures, so it dies with the task's body whether the body
    // ran to the end, was unwound, or never started (a task aborted or killed before its first
    // run is dropped without running). Its cleanup writes nothing, so it is safe in a
    // destructor during a crash.
    auto guard = std::make_shared<SyncGuard>(this, blob, generation);
    entry.task = rt_.spawn("blob-sync " + blob.short_hex(),
                           [this, blob, certified_epoch, guard = std::move(guard)] {
                               run_sync(blob, certified_epoch, *guard);
                           });
    return subscribe(entry);
}

BlobSyncHandler::SyncGuard::~SyncGuard() {
    if (!finished) {
        handler->finish(blob, generation, SyncOutcome::cancelled);
    }
}

// §6.3 sync_blob_for_all_shards.
void BlobSyncHandler::run_sync(const BlobId& blob, Epoch certified_epoch, SyncGuard& guard) {
    FLOE_ASSERT(running_.insert(blob).second,
                "two syncs of blob {} run at once (invariant 7: at most one in progress)",
                blob.short_hex());
    struct Running {
        std::set<BlobId>& running;
        BlobId blob;
        ~Running() { running.erase(blob); }
    } running{running_, blob};
    const sim::TraceSpan span = rt_.span(
        "blob-sync", fmt::format("blob={}{}", blob.short_hex(),
                                 has_event_handle(blob, guard.generation) ? "" : " recovery"));
    // Race fix #2216: a sync dispatched just before entering catch-up must not run.
    if (env_.node_status().kind == NodeStatus::Kind::recovery_catch_up) {
        FLOE_REACHABLE(rt_, site::blob_sync_skipped_in_catch_up);
        guard.finished = true;
        finish(blob, guard.generation, SyncOutcome::skipped);
        return;
    }
    if (!has_event_handle(blob, guard.generation) &&
        rt_.fail_point(site::fail_point_recovery_blob_sync_cancelled) ==
            sim::FailPointOutcome::inject_error) {
        // floe's fault, on syncs started by node recovery only (no event handle): the sync ends
        // Cancelled while its blob is still certified and unstored, the case PR #3407 retries.
        guard.finished = true;
        finish(blob, guard.generation, SyncOutcome::cancelled);
        return;
    }
    sim::Permit permit = blob_permits_.acquire();
    env_.synchronize_blob(blob, certified_epoch, sliver_permits_);
    // Completing the event writes the cursor, where a crash fail point may strike: this must
    // happen here, not in a destructor.
    guard.finished = true;
    finish(blob, guard.generation, SyncOutcome::success);
}

void BlobSyncHandler::finish(const BlobId& blob, uint64_t generation, SyncOutcome outcome) {
    auto it = in_progress_.find(blob);
    if (it == in_progress_.end() || it->second.generation != generation) {
        return;
    }
    Entry entry = std::move(it->second);
    in_progress_.erase(it);
    // Invariant 7: one terminal outcome per sync, which every subscriber reads from the channel.
    FLOE_ASSERT(!entry.status.borrow().done, "blob {}'s sync finished twice (invariant 7)",
                blob.short_hex());
    if (outcome != SyncOutcome::cancelled && entry.handle.has_value()) {
        entry.handle->complete();  // may write the cursor (a fail point may crash us here)
    }
    entry.status.send(SyncStatus::finished(outcome));
    if (entry.shared != nullptr) {
        // Before #3412: notify_one. The first waiter wakes (or a permit is kept for the next
        // one to arrive); any further waiter stays blocked.
        entry.shared->outcome = outcome;
        if (!entry.shared->notify.notify_one()) {
            entry.shared->permit = true;
        }
    }
}

bool BlobSyncHandler::has_event_handle(const BlobId& blob, uint64_t generation) const {
    auto it = in_progress_.find(blob);
    return it != in_progress_.end() && it->second.generation == generation &&
           it->second.handle.has_value();
}

void BlobSyncHandler::cancel_sync_and_mark_event_complete(const BlobId& blob) {
    auto it = in_progress_.find(blob);
    if (it == in_progress_.end()) {
        return;
    }
    Entry& entry = it->second;
    sim::JoinHandle<sim::Unit> task = entry.task;
    if (!entry.handle.has_value()) {
        task.abort();  // unwinds at its next suspension; its guard publishes Cancelled
        return;
    }
    EventHandle handle = std::move(*entry.handle);
    entry.handle.reset();
    task.abort();
    handle.complete();
}

void BlobSyncHandler::cancel_all_syncs_and_mark_events_completed() {
    cancel_syncs_where_not([](const BlobId&) { return false; });
}

}  // namespace walrus
