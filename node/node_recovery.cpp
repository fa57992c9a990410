#include "node/node_recovery.h"

#include <fmt/format.h>

#include "node/backoff.h"
#include "node/recovery_cursor.h"
#include "node/sites.h"

namespace walrus {

namespace {

std::vector<ShardIndex> as_vector(const std::set<ShardIndex>& shards) {
    return {shards.begin(), shards.end()};
}

}  // namespace

// The syncs a pass is waiting for. Each started sync gets a small waiter fiber that forwards
// the outcome into one channel, so the pass can wait for "the next completion or the next retry
// deadline" (§9.3 step 4f). The waiters die with the pass (abort by an epoch change, a crash):
// the syncs themselves keep running, as in Walrus, where aborting recovery drops only the
// receivers.
class NodeRecoveryHandler::Pass {
public:
    explicit Pass(sim::Runtime& rt) : rt_(rt), outcomes_(1u << 20, "recovery-outcomes") {}
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() {
        for (auto& waiter : waiters_) {
            waiter.abort();
        }
    }

    void watch(const BlobId& blob, SyncWaiter waiter) {
        ++ongoing_;
        waiters_.push_back(rt_.spawn(
            "recovery-wait " + blob.short_hex(),
            [this, blob, waiter = std::move(waiter)]() mutable {
                const auto outcome = waiter.wait();
                (void)outcomes_.try_send(Outcome{blob, outcome.value_or(SyncOutcome::cancelled)});
            }));
        // Finished waiters are dropped now and then, so a long pass does not keep every handle.
        if (waiters_.size() > 2 * ongoing_ + 64) {
            std::erase_if(waiters_, [](const auto& w) { return w.is_finished(); });
        }
    }
    std::optional<Outcome> try_next() { return take(outcomes_.try_recv()); }
    std::optional<Outcome> next(sim::Duration timeout) { return take(outcomes_.recv(timeout)); }
    size_t ongoing() const { return ongoing_; }

private:
    std::optional<Outcome> take(sim::Result<Outcome, sim::RecvError> received) {
        if (!received.ok()) {
            return std::nullopt;
        }
        FLOE_ASSERT(ongoing_ > 0, "a recovery outcome nobody waited for");
        --ongoing_;
        return std::move(received).value();
    }

    sim::Runtime& rt_;
    sim::Channel<Outcome> outcomes_;
    std::vector<sim::JoinHandle<sim::Unit>> waiters_;
    size_t ongoing_ = 0;
};

NodeRecoveryHandler::NodeRecoveryHandler(sim::Runtime& rt, NodeStorage& storage,
                                         BlobSyncHandler& blob_sync, ShardSyncHandler& shard_sync,
                                         NodeRecoveryEnv& env, RecoveryAttester& attester,
                                         const NodeRecoveryConfig& config, const Behaviours& old)
    : rt_(rt),
      storage_(storage),
      blob_sync_(blob_sync),
      shard_sync_(shard_sync),
      env_(env),
      attester_(attester),
      config_(config),
      old_(old) {}

NodeRecoveryHandler::~NodeRecoveryHandler() {
    if (task_.has_value()) {
        task_->abort();  // on a crash the kernel has unwound it already
    }
}

bool NodeRecoveryHandler::is_running() const {
    return task_.has_value() && !task_->is_finished();
}

void NodeRecoveryHandler::start_node_recovery(Epoch epoch) {
    // A recovery still running when an epoch change starts the next one (§7.6, #3464).
    FLOE_SOMETIMES(rt_, site::recovery_restarted_by_epoch_change, is_running());
    if (task_spinning_) {
        // F11: tokio's abort takes effect at the task's next await, which a task spinning in
        // its scan never reaches, so `old_task.await` (node_recovery.rs l.73-78 at fb097a2262)
        // never returns, and neither does the epoch change that restarts recovery.
        rt_.mark("restarting node recovery waits forever for the spinning task (F11)");
        spin_forever();
    }
    if (task_.has_value()) {
        task_->abort();
        (void)task_->join();  // §9.1 step 1: the old task is gone before the new one starts
        task_.reset();
    }
    ++stats_.tasks_started;
    target_ = epoch;
    task_resumed_at_startup_ = false;
    task_ = rt_.spawn(fmt::format("node-recovery {}", epoch), [this, epoch] { run(epoch); });
}

void NodeRecoveryHandler::restart_recovery() {
    const NodeStatus status = storage_.status();
    if (status.is_recovering()) {
        FLOE_REACHABLE(rt_, site::recovery_resumed_at_startup);
        start_node_recovery(status.recovery_epoch);
        task_resumed_at_startup_ = true;
    }
}

void NodeRecoveryHandler::run(Epoch epoch) {
    const sim::TraceSpan span = rt_.span("recovery", fmt::format("epoch={}", epoch));
    env_.wait_for_event_epoch();                                  // §9.1 step a
    (void)rt_.fail_point_async(site::start_node_recovery_entry);  // §11: tests delay or hold it
    if (old_.rescan_recovery) {
        rescan_passes(epoch);
    } else if (!checkpointed_passes(epoch)) {
        return;  // aborted (catching up, or a Skipped sync): no completion
    }
    if (storage_.status().is_catching_up()) {
        return;
    }
    wait_for_shard_syncs();  // §9.1 step d
    complete(epoch);
}

// §9.1 step i (#3453 + #3464). False: the node is catching up, the task exits.
bool NodeRecoveryHandler::wait_until_ready_to_scan() {
    ExponentialBackoff backoff(config_.shard_not_created_backoff_min,
                               config_.shard_not_created_backoff_max);
    while (true) {
        wait_for_shard_syncs();
        if (storage_.status().is_catching_up()) {
            return false;
        }
        if (old_.no_shard_readiness_wait || all_owned_shards_exist()) {
            return true;
        }
        ++stats_.readiness_waits;
        FLOE_REACHABLE(rt_, site::node_recovery_shard_not_ready);  // floe: counts readiness waits
        rt_.sleep(backoff.next(rt_.rng("recovery-readiness")));
    }
}

bool NodeRecoveryHandler::all_owned_shards_exist() {
    for (ShardIndex shard : env_.owned_shards_at_latest()) {
        if (!storage_.has_shard(shard)) {
            return false;
        }
    }
    return true;
}

void NodeRecoveryHandler::wait_for_shard_syncs() {
    if (old_.force_active_gained_shards) {
        return;  // before #3464 recovery did not know about shard sync (§9.2)
    }
    (void)shard_sync_.wait_until_no_sync_in_progress(sim::Duration::forever());
}

void NodeRecoveryHandler::record_retry(const BlobId& blob, sim::Duration delay) {
    ++stats_.retries;
    if (stats_.retry_delays.size() < NodeRecoveryStats::max_retry_delays) {
        stats_.retry_delays.push_back({blob.short_hex(), delay, stats_.passes});
    }
}

bool NodeRecoveryHandler::still_needed(const BlobId& blob, const std::vector<ShardIndex>& owned) {
    const auto info = storage_.blob_info(blob);
    if (!info.has_value() || !info->is_certified(env_.current_committee_epoch())) {
        return false;
    }
    if (config_.thread_pool_existence_checks) {
        // Walrus's production builds run is_stored_at_specific_shards's reads on a thread pool
        // (node.rs first_shard_failing_storage_check, not msim): the task is suspended there,
        // and whatever else is ready runs, the event loop included.
        (void)rt_.fail_point_async(site::recovery_existence_check_hop);
        rt_.yield();
    }
    return !storage_.is_stored_at_shards(blob, owned);
}

// Checkpointed passes until one finishes (true) or aborts (false); a pass stopped by a read
// error of its scan is followed by another after a backoff (HEAD), or never ends (F11).
bool NodeRecoveryHandler::checkpointed_passes(Epoch epoch) {
    ExponentialBackoff backoff(config_.scan_read_error_backoff_min,
                               config_.scan_read_error_backoff_max);
    while (true) {
        switch (checkpointed_pass(epoch)) {
            case PassEnd::finished: return true;
            case PassEnd::aborted: return false;
            case PassEnd::read_failed: after_scan_read_error(backoff); break;
        }
    }
}

// Finding F11 (docs/FINDINGS.md): a read error in the recovery scan. #3464's and #3407's scans
// drop the errors the certified-blob iterator yields (`filter_map`: logged, skipped;
// node_recovery.rs l.119-128 at fb097a2262, l.261-267 at 286125678c), and once RocksDB's
// iterator has failed, typed-store's SafeIter yields that error again on every call
// (safe_iter.rs l.81-108 at fb097a2262: it only advances a valid iterator). The filter never
// ends: the task spins in it, starts no sync and never completes, and an abort cannot reach it.
// HEAD (#3645) fails the pass and retries it after an exponential backoff of 1 s to 60 s.
void NodeRecoveryHandler::after_scan_read_error(ExponentialBackoff& backoff) {
    FLOE_REACHABLE(rt_, site::walrus_finding_f11_recovery_scan_spins_on_read_error);
    if (!old_.recovery_scan_read_error_fails_pass) {
        task_spinning_ = true;
        rt_.mark("node recovery spins on a read error of its scan (F11)");
        spin_forever();
    }
    rt_.sleep(backoff.next(rt_.rng("recovery-scan-retry")));
}

// A fiber that never does anything again: the thread of a task spinning without an await. Only
// a crash of the process ends it.
void NodeRecoveryHandler::spin_forever() {
    while (true) {
        rt_.sleep(sim::Duration::minutes(60));
    }
}

// §9.3: one pass from the checkpoint (if the owned shards did not change) to the end, with the
// settle cursor of recovery_cursor.h.
NodeRecoveryHandler::PassEnd NodeRecoveryHandler::checkpointed_pass(Epoch epoch) {
    if (!wait_until_ready_to_scan()) {
        return PassEnd::aborted;
    }
    ++stats_.passes;
    const sim::TraceSpan span =
        rt_.span("recovery-pass", fmt::format("pass={} checkpointed", stats_.passes));
    const std::vector<ShardIndex> owned_now = env_.owned_shards_at_latest();
    const std::set<ShardIndex> owned(owned_now.begin(), owned_now.end());
    const std::vector<ShardIndex> owned_list = as_vector(owned);
    const ResumeDecision decision = resume_decision(storage_.recovery_progress(), owned);
    BlobBound bound = BlobBound::unbounded();
    std::optional<BlobId> resumed;
    switch (decision.kind) {
        case ResumeDecision::Kind::start_fresh: break;
        case ResumeDecision::Kind::discard_and_start_fresh:
            ++stats_.checkpoints_discarded;
            FLOE_REACHABLE(rt_, site::node_recovery_checkpoint_discarded);  // floe: counts discards
            FLOE_ASSERT(storage_.clear_recovery_progress().ok(), "clear recovery checkpoint");
            break;
        case ResumeDecision::Kind::resume:
            // Invariant 20, where the checkpoint is used: it was written for these shards.
            FLOE_ASSERT(storage_.recovery_progress()->owned_shards == owned,
                        "recovery resumes a checkpoint written for other shards (invariant 20)");
            FLOE_REACHABLE(rt_, site::fail_point_node_recovery_resumed_from_checkpoint);
            ++stats_.resumed;
            check_checkpoint_sound(epoch, owned, decision.resume_after);
            bound = BlobBound::excluded(decision.resume_after);
            resumed = decision.resume_after;
            break;
    }
    SettleCursor cursor(
        resumed, config_.checkpoint_persist_interval,
        RecoveryBackoff{config_.retry_backoff_initial, config_.retry_backoff_max},
        old_.checkpoint_every_n_settled ? CheckpointRule::settled_count : CheckpointRule::pr_3407);
    auto persist = [&](const std::optional<BlobId>& checkpoint) {
        if (!checkpoint.has_value()) {
            return;
        }
        // Invariant 17 holds for what is persisted (the cursor asserts it); 18: monotone.
        FLOE_ASSERT(
            storage_.set_recovery_progress(NodeRecoveryProgress{epoch, owned, *checkpoint}).ok(),
            "persist recovery checkpoint");
        ++stats_.checkpoints_persisted;
        (void)rt_.fail_point(site::node_recovery_checkpoint_persisted);  // floe: a power-loss site
    };
    Pass pass(rt_);
    auto launch = [&](const BlobId& blob, const BlobInfo& info) {
        FLOE_ASSERT(!resumed.has_value() || *resumed < blob,
                    "recovery re-syncs blob {} at or below its checkpoint {}", blob.short_hex(),
                    resumed->short_hex());
        check_no_shard_sync_running(blob);
        cursor.start(blob);
        ++stats_.syncs_started;
        pass.watch(blob, blob_sync_.start_sync(blob, *info.initial_certified_epoch, std::nullopt));
        (void)rt_.fail_point(site::fail_point_node_recovery_start_sync);  // §11, after start_sync
    };
    bool aborted = false;
    // Invariant 21, checked as the pass goes against the cursor's own schedule: each blob's
    // retry delays run initial, 2x, 4x ... up to the cap, and start over once the blob settles.
    std::map<BlobId, sim::Duration> last_delay;
    auto check_backoff = [&](const BlobId& blob, sim::Duration delay) {
        auto previous = last_delay.find(blob);
        const sim::Duration expected =
            previous == last_delay.end()
                ? config_.retry_backoff_initial
                : std::min(previous->second * 2, config_.retry_backoff_max);
        FLOE_ASSERT(delay == expected,
                    "blob {} retried after {} instead of {} (invariant 21: 1, 2, 4 ... 30 s)",
                    blob.short_hex(), delay.to_string(), expected.to_string());
        last_delay[blob] = delay;
    };
    auto handle = [&](const Outcome& result) {
        switch (result.outcome) {
            case SyncOutcome::success:
                cursor.succeeded(result.blob);
                last_delay.erase(result.blob);
                break;
            case SyncOutcome::cancelled:
                if (auto due = cursor.cancelled(result.blob, still_needed(result.blob, owned_list),
                                                rt_.now())) {
                    check_backoff(result.blob, *due - rt_.now());
                    FLOE_SOMETIMES(rt_, site::recovery_retry_at_backoff_cap,
                                   *due - rt_.now() == config_.retry_backoff_max);
                    record_retry(result.blob, *due - rt_.now());
                } else {
                    last_delay.erase(result.blob);
                }
                break;
            case SyncOutcome::skipped:
                FLOE_REACHABLE(rt_, site::recovery_pass_aborted_by_skipped_sync);
                cursor.abandon(result.blob);
                aborted = true;  // the node went to RecoveryCatchUp
                break;
        }
    };
    auto blobs = storage_.certified_before_epoch(epoch, bound, ReadErrors::to_caller);
    bool scan_done = false;
    bool read_failed = false;
    while (!aborted) {
        while (!aborted) {  // step a; #3407 stops draining at the first Skipped
            auto result = pass.try_next();
            if (!result.has_value()) {
                break;
            }
            handle(*result);
        }
        if (aborted) {
            break;  // nothing more is issued
        }
        for (const BlobId& blob : cursor.take_due_retries(rt_.now())) {  // step b
            const auto info = storage_.blob_info(blob);
            if (!info.has_value() || !info->initial_certified_epoch.has_value()) {
                cursor.forget(blob);
            } else if (!still_needed(blob, owned_list)) {
                cursor.settle(blob);
                last_delay.erase(blob);
            } else {
                launch(blob, *info);
            }
        }
        while (!scan_done &&
               pass.ongoing() < config_.max_concurrent_blob_syncs_during_recovery) {  // step c
            auto next = blobs.next();
            if (!next.has_value() && blobs.read_failed()) {
                read_failed = true;
                aborted = true;
                break;
            }
            if (!next.has_value()) {
                scan_done = true;
                break;
            }
            ++stats_.blobs_scanned;
            FLOE_REACHABLE(rt_, site::node_recovery_scan_blob);  // floe: counts scanned blobs
            cursor.scanned(next->first);
            if (!still_needed(next->first, owned_list)) {
                cursor.settle(next->first);
            } else {
                launch(next->first, next->second);
            }
        }
        if (read_failed) {
            break;  // F11: nothing more is issued; what settled is persisted below
        }
        const auto checkpoint = cursor.take_checkpoint_to_persist();  // step d
        persist(checkpoint);
        if (cursor.done(scan_done)) {  // step e
            break;
        }
        const auto deadline = cursor.next_retry_deadline();  // step f
        const sim::Duration timeout = deadline.has_value()
                                          ? std::max(*deadline - rt_.now(), sim::Duration::zero())
                                          : sim::Duration::forever();
        if (auto result = pass.next(timeout)) {
            handle(*result);
        }
        if (storage_.status().is_catching_up()) {  // step g
            FLOE_REACHABLE(rt_, site::recovery_pass_overtaken_by_catch_up);
            aborted = true;
        }
    }
    persist(cursor.take_final_checkpoint());  // §9.3 step 9: finalize
    FLOE_ASSERT(aborted || cursor.done(scan_done),
                "recovery pass ended with blobs unfinished (invariant 22)");
    if (read_failed) {
        return PassEnd::read_failed;
    }
    return aborted ? PassEnd::aborted : PassEnd::finished;
}

// Invariant 15 (#3464; the simtest's "ordering violation"): recovery waits for shard syncs
// before it scans, and an epoch change that starts one restarts the task.
void NodeRecoveryHandler::check_no_shard_sync_running(const BlobId& blob) {
    FLOE_ASSERT(!shard_sync_.has_sync_in_progress(),
                "recovery starts a sync of blob {} while {} shard-sync tasks run (invariant 15: "
                "ordering violation)",
                blob.short_hex(), shard_sync_.running_tasks());
}

// Invariant 19, checked where it matters: a resumed pass trusts that every certified blob at or
// below the checkpoint is stored at the owned shards (or no longer certified). Blobs certified
// at or after the checkpoint's epoch belong to the event path and are not covered.
void NodeRecoveryHandler::check_checkpoint_sound(Epoch epoch, const std::set<ShardIndex>& owned,
                                                 const BlobId& checkpoint) {
    const auto progress = storage_.recovery_progress();
    const Epoch covered = std::min(epoch, progress.has_value() ? progress->epoch : epoch);
    const std::vector<ShardIndex> shards = as_vector(owned);
    auto blobs = storage_.certified_before_epoch(covered, BlobBound::unbounded());
    while (auto next = blobs.next()) {
        if (checkpoint < next->first) {
            break;
        }
        if (!next->second.is_certified(env_.current_committee_epoch())) {
            continue;
        }
        // A blob whose certify event the cursor has not passed is the event path's, which syncs
        // it when the event is replayed (Walrus's checkpoint doc, node_recovery.rs l.101-113;
        // swarm 9765 with buggify=on, issue 17: a crash took the event path's sync with it).
        const BlobInfo& info = next->second;
        if (info.latest_certify_event.has_value() &&
            *info.latest_certify_event >= storage_.event_cursor()) {
            continue;
        }
        // An inconsistently encoded blob is owed to no shard: its slivers never verify, and its
        // InvalidBlobId event may not be processed yet (swarm 22761 with buggify=on: a gained
        // shard's sync proved a blob inconsistent that the checkpoint had covered while only the
        // old shards were owned). Asked of the blob id, the simulation's truth, not of the
        // node's memory of its proofs, which a restart drops (as invariant 13's check in
        // shard_sync, swarm 24956).
        if (next->first.has_inconsistent_encoding()) {
            continue;
        }
        // A read error cannot tell (this check is floe's, not a read Walrus makes): skipped.
        const auto stored = storage_.check_stored_at_shards(next->first, shards);
        FLOE_ASSERT(!stored.ok() || stored.value() || blob_sync_.is_in_progress(next->first),
                    "blob {} at or below the recovery checkpoint {} is not stored at the owned "
                    "shards (invariant 19)",
                    next->first.short_hex(), checkpoint.short_hex());
    }
}

// Before #3407 (§9.1 step c with #3464's waits): passes over every blob certified before E until
// one finds nothing to sync; the outcomes are not trusted, so a pass that synced anything is
// followed by another whole pass (WAL-669). Nothing is persisted.
void NodeRecoveryHandler::rescan_passes(Epoch epoch) {
    ExponentialBackoff backoff(config_.scan_read_error_backoff_min,
                               config_.scan_read_error_backoff_max);
    while (true) {
        if (!wait_until_ready_to_scan()) {
            return;
        }
        ++stats_.passes;
        const sim::TraceSpan span =
            rt_.span("recovery-pass", fmt::format("pass={} rescan", stats_.passes));
        Pass pass(rt_);
        bool has_more = false;
        auto blobs =
            storage_.certified_before_epoch(epoch, BlobBound::unbounded(), ReadErrors::to_caller);
        while (auto next = blobs.next()) {
            ++stats_.blobs_scanned;
            FLOE_REACHABLE(rt_, site::node_recovery_scan_blob);
            const std::vector<ShardIndex> owned = env_.owned_shards_at_latest();
            if (!still_needed(next->first, owned)) {
                continue;
            }
            has_more = true;
            while (pass.ongoing() >= config_.max_concurrent_blob_syncs_during_recovery) {
                (void)pass.next(sim::Duration::forever());
            }
            const auto info = storage_.blob_info(next->first);
            if (!info.has_value() || !info->is_certified(env_.current_committee_epoch())) {
                continue;
            }
            check_no_shard_sync_running(next->first);
            ++stats_.syncs_started;
            pass.watch(next->first, blob_sync_.start_sync(
                                        next->first, *info->initial_certified_epoch, std::nullopt));
            (void)rt_.fail_point(site::fail_point_node_recovery_start_sync);
        }
        const bool read_failed = blobs.read_failed();
        if (!has_more && !read_failed) {
            return;
        }
        if (read_failed) {
            after_scan_read_error(backoff);  // F11: as Walrus, never returns
        } else {
            backoff.reset();  // HEAD: a clean pass starts a fresh backoff episode
        }
        while (pass.ongoing() > 0) {
            (void)pass.next(sim::Duration::forever());
        }
    }
}

// §9.1 step e / §9.3 step 9 (invariants 3, 16, 22): Active only from exactly
// RecoveryInProgress(E), and the checkpoint goes with it.
void NodeRecoveryHandler::complete(Epoch epoch) {
    // §9.1 step 1: a task is aborted and awaited before its successor starts, so only the task
    // started last gets here; a superseded one (invariant 3) must never set Active or attest.
    FLOE_ASSERT(epoch == target_,
                "a superseded recovery task for epoch {} completes while the task for epoch {} "
                "runs (invariant 3)",
                epoch, target_);
    const NodeStatus status = storage_.status();
    if (!(status == NodeStatus::recovery_in_progress(epoch))) {
        FLOE_REACHABLE(rt_, site::recovery_completion_preempted);
        return;  // a newer epoch change, a drop from the committee, or catch-up took over
    }
    FLOE_ASSERT(!shard_sync_.has_sync_in_progress(),
                "recovery for epoch {} completes while {} shard-sync tasks run (invariant 16)",
                epoch, shard_sync_.running_tasks());
    FLOE_ASSERT(storage_.set_status(NodeStatus::active()).ok(), "status write");  // T8
    FLOE_ASSERT(storage_.clear_recovery_progress().ok(), "clear recovery checkpoint");
    ++stats_.completed;
    FLOE_REACHABLE(rt_, site::recovery_completed);
    attester_.attest_recovered(epoch, task_resumed_at_startup_);
}

}  // namespace walrus
