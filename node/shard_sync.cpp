#include "node/shard_sync.h"

#include <fmt/format.h>

#include <exception>

#include "node/backoff.h"
#include "node/sites.h"
#include "node/spawn_blocking.h"
#include "node/walrus_panic.h"

namespace walrus {

ShardSyncHandler::ShardSyncHandler(sim::Runtime& rt, NodeStorage& storage,
                                   ShardSyncCommittees& committees,
                                   ShardSyncRecovery& blob_recovery, ShardSyncAttester& attester,
                                   NodeIndex self, uint32_t n_shards, const Directory& directory,
                                   const ShardSyncConfig& config, const Behaviours& behaviours,
                                   SpawnBlockingModel spawn_blocking)
    : rt_(rt),
      storage_(storage),
      committees_(committees),
      blob_recovery_(blob_recovery),
      attester_(attester),
      self_(self),
      n_shards_(n_shards),
      directory_(directory),
      config_(config),
      behaviours_(behaviours),
      spawn_blocking_(spawn_blocking),
      semaphore_(config.shard_sync_concurrency, "shard-sync"),
      count_(sim::watch_channel<size_t>(0, "shard-sync-count").first),
      count_rx_(count_.subscribe()) {}

ShardSyncHandler::~ShardSyncHandler() {
    // Tasks borrow the handler; the kernel unwinds them first (they are newer fibers).
    FLOE_ASSERT(count_.borrow() == 0, "{} shard-sync tasks outlive their handler", count_.borrow());
}

// --- §8.2 the running-sync counter
// -----------------------------------------------------------------

ShardSyncHandler::CountGuard::CountGuard(ShardSyncHandler& handler) : handler_(handler) {
    handler_.count_.send_modify([](size_t& count) { ++count; });
    try {
        (void)handler_.rt_.fail_point(site::fail_point_shard_sync_task_started);
    } catch (...) {
        // A crash armed here unwinds out of the constructor, and a guard never constructed is
        // never destroyed: give its count back, or the dying handler finds a task outliving it.
        handler_.count_.send_modify([](size_t& count) { --count; });
        throw;
    }
}

ShardSyncHandler::CountGuard::~CountGuard() {
    // Invariant 11: never negative; decremented on every end, abort and crash unwind included.
    FLOE_ASSERT(handler_.count_.borrow() > 0, "shard-sync task count below zero");
    handler_.count_.send_modify([](size_t& count) { --count; });
    if (std::uncaught_exceptions() == 0) {
        // Not while unwinding: a fail point armed with a crash would throw from a destructor.
        FLOE_REACHABLE(handler_.rt_, site::fail_point_shard_sync_task_finished);
    }
}

bool ShardSyncHandler::wait_until_no_sync_in_progress(sim::Duration timeout) {
    const bool none = count_rx_.wait_for([](size_t count) { return count == 0; }, timeout).ok();
    // Invariant 12: a waiter never observes zero while a launcher still has per-shard tasks to
    // spawn (its own guard, taken before it is spawned, holds the count up).
    FLOE_ASSERT(!none || !launcher_pending_.has_value(),
                "a waiter saw no shard sync in progress while launcher {} had syncs to start "
                "(invariant 12)",
                launcher_pending_.value_or(0));
    return none;
}

// --- §8.3 launcher
// ---------------------------------------------------------------------------------

void ShardSyncHandler::start_sync_shards(std::vector<ShardIndex> shards, bool resumed_at_startup) {
    if (launcher_.has_value()) {
        launcher_->abort();  // safe: its work is derived from persisted state
    }
    // Invariant 12: the guard exists before the launcher is spawned, so nobody can observe zero
    // running syncs between "shards gained" and "per-shard tasks spawned".
    auto guard = std::make_shared<CountGuard>(*this);
    const uint64_t id = ++launchers_;
    launcher_pending_ = id;
    launcher_ =
        rt_.spawn("shard-sync-launcher", [this, id, shards = std::move(shards), resumed_at_startup,
                                          guard = std::move(guard)]() mutable {
            // Ended, normally or by an abort: nothing more to spawn (unless a newer one took over).
            struct Ended {
                ShardSyncHandler& handler;
                uint64_t id;
                ~Ended() {
                    if (handler.launcher_pending_ == id) {
                        handler.launcher_pending_.reset();
                    }
                }
            } ended{*this, id};
            launcher(std::move(shards), resumed_at_startup);
        });
}

void ShardSyncHandler::launcher(std::vector<ShardIndex> shards, bool resumed_at_startup) {
    if (storage_.status().kind == NodeStatus::Kind::recover_metadata) {
        if (!sync_all_metadata()) {
            // sync_shards_task: an error ends the task; the node stays RecoverMetadata and the
            // next restart (restart_syncs) or start_sync_shards tries again.
            return;
        }
        // #3462: a new member syncs every existing shard it owns now, not only the caller's.
        shards.clear();
        const Epoch epoch = committees_.current_committee_epoch();
        for (ShardIndex shard : committees_.committee_at(epoch).shards_of(self_)) {
            if (storage_.has_shard(shard)) {
                shards.push_back(shard);
            }
        }
    }
    for (ShardIndex shard : shards) {
        start_new_shard_sync(shard);
        if (resumed_at_startup && in_progress_.contains(shard)) {
            // Swarm 20260 (buggify=on, every fix): the replayed EpochChangeStart began its round
            // while these syncs ran, and the finisher attested after them; Walrus sends both and
            // the chain drops the second (FINDINGS G).
            resumed_at_startup_.insert(shard);
        }
    }
    if (storage_.status().kind == NodeStatus::Kind::recover_metadata) {
        FLOE_ASSERT(storage_.set_status(NodeStatus::active()).ok(), "status write");  // T10
    }
}

// RecoverMetadata (shard_sync.rs sync_certified_blob_metadata): the metadata of every blob
// certified before the committee epoch. The §11 points of msim builds: an Internal error before
// the fetch, a pause, and an error once the `trigger_at`-th blob was scanned (argument
// {trigger_at}). False on such an error.
bool ShardSyncHandler::sync_all_metadata() {
    const Epoch epoch = committees_.current_committee_epoch();
    auto blobs = storage_.certified_before_epoch(epoch, BlobBound::unbounded());
    if (rt_.fail_point(site::fail_point_shard_sync_recovery_metadata_error_before_fetch) ==
        sim::FailPointOutcome::inject_error) {
        return false;
    }
    (void)rt_.fail_point_async(site::fail_point_shard_sync_recovery_metadata_pause);
    uint64_t scan_count = 0;
    while (auto next = blobs.next()) {
        ++scan_count;
        if (const auto args = rt_.fail_point_arg(
                site::fail_point_shard_sync_recovery_metadata_error_during_fetch);
            args.has_value() && (args->empty() || (*args)[0] == scan_count)) {
            return false;
        }
        if (!next->second.is_metadata_stored) {
            // sync_single_blob_metadata runs under execute_with_retirement_check: a blob deleted,
            // expired or invalidated since the scan's snapshot is skipped (its data may be gone
            // everywhere).
            // It stores the metadata it recovers.
            (void)get_or_recover_blob_metadata(next->first, *next->second.initial_certified_epoch);
        }
    }
    return true;
}

void ShardSyncHandler::start_new_shard_sync(ShardIndex shard) {
    // Finding F10: the shard was lost (LockedToMove) while a sync resumed at startup ran, and is
    // gained again before that sync ends. #3464 skips it ("shard is already being synced",
    // shard_sync.rs l.324-335 at fb097a2262), and the old sync's end leaves a LockedToMove shard
    // as it is (storage/shard.rs l.938-948): the shard never turns Active, and the node attests
    // without it. HEAD quiesces every sync at an epoch change (shard_sync.rs l.440-441).
    if (in_progress_.contains(shard) && storage_.has_shard(shard) &&
        storage_.shard_status(shard) == ShardStatus::locked_to_move) {
        FLOE_REACHABLE(rt_, site::walrus_finding_f10_regained_locked_shard_sync_skipped);
        if (behaviours_.restart_sync_of_regained_locked_shard) {
            in_progress_.at(shard).abort();  // unwinds at its next suspension, attesting nothing
            in_progress_.erase(shard);
        }
    }
    if (in_progress_.contains(shard) || !storage_.has_shard(shard) ||
        storage_.shard_status(shard) == ShardStatus::active) {
        return;
    }
    FLOE_ASSERT(storage_.start_shard_sync(shard).ok(), "record_start_shard_sync");
    start_shard_sync_impl(shard);
}

// --- §8.4 per-shard task
// ---------------------------------------------------------------------------

void ShardSyncHandler::start_shard_sync_impl(ShardIndex shard) {
    FLOE_ASSERT(!in_progress_.contains(shard), "two syncs of shard {}", shard);
    resumed_at_startup_.erase(shard);  // restart_syncs marks its own after this
    const Epoch epoch = committees_.current_committee_epoch();
    auto guard = std::make_shared<CountGuard>(*this);
    in_progress_.emplace(shard, rt_.spawn(fmt::format("shard-sync {}", shard),
                                          [this, shard, epoch, guard = std::move(guard)] {
                                              per_shard_task(shard, epoch);
                                          }));
}

void ShardSyncHandler::per_shard_task(ShardIndex shard, Epoch epoch) {
    const sim::TraceSpan span =
        rt_.span("shard-sync", fmt::format("shard={} epoch={}", shard, epoch));
    ExponentialBackoff backoff(config_.retry_min_backoff, config_.retry_max_backoff);
    bool directly_recover = false;
    sim::Instant last_progress = rt_.now();
    while (true) {
        const AttemptResult result = sync_shard_impl(shard, epoch, directly_recover);
        if (result.outcome == Attempt::success) {
            break;
        }
        if (result.outcome == Attempt::failed) {
            FLOE_SOMETIMES(rt_, site::shard_sync_shard_removed_under_it,
                           !storage_.has_shard(shard));
            if (!storage_.has_shard(shard)) {
                in_progress_.erase(shard);  // removed meanwhile: nothing left to sync
            }
            return;  // otherwise left in the map: nothing attests until a restart (§8.4)
        }
        // sync_shard_impl (msim builds): the fail point turns any error into Success, "to
        // simulate a reboot": the entry leaves the map and the last one out attests, while
        // the shard stays ActiveSync/ActiveRecover until restart_syncs resumes it.
        if (rt_.fail_point(site::fail_point_shard_sync_no_retry) ==
            sim::FailPointOutcome::inject_error) {
            ++stats_.no_retry_exits;
            break;
        }
        // handle_sync_error: a non-retryable error during direct recovery ends the sync for
        // good (Failed): its entry stays in the map and its shard keeps its status (§8.4).
        if (result.outcome == Attempt::retry_force_recovery && directly_recover) {
            FLOE_REACHABLE(rt_, site::shard_sync_failed_for_good);
            ++stats_.terminal_failures;
            if (!behaviours_.retry_stopped_shard_sync) {
                return;
            }
            // F12's fix: after the maximum backoff, another direct recovery.
            rt_.sleep(config_.retry_max_backoff);
            continue;
        }
        ++stats_.retries;
        rt_.sleep(backoff.next(rt_.rng(fmt::format("shard-sync-{}", shard))));
        if (result.made_progress) {
            last_progress = rt_.now();
        }
        if (!directly_recover &&
            (result.outcome == Attempt::retry_force_recovery ||
             rt_.now() - last_progress > config_.retry_switch_to_recovery_interval)) {
            // Forced by the reply, or no progress for retry_switch_to_recovery_interval (§8.4).
            FLOE_SOMETIMES(rt_, site::shard_sync_forced_to_direct_recovery,
                           result.outcome == Attempt::retry_force_recovery);
            FLOE_SOMETIMES(rt_, site::shard_sync_direct_recovery_after_no_progress,
                           result.outcome != Attempt::retry_force_recovery);
            directly_recover = true;
            ++stats_.direct_recoveries;
        }
    }
    in_progress_.erase(shard);
    attest_if_last(epoch, shard);
}

// §7.8: the task whose success empties the map attests, unless the node is recovering, where
// only the recovery task attests (#3464). #3464's task attests the epoch it was spawned for
// (start_shard_sync_impl: current_committee_epoch at spawn). The new behaviour
// head-attestation-rules attests the current epoch instead, and not while catching up: under
// HEAD's plan the finisher of any later epoch change left its attestation to this task.
void ShardSyncHandler::attest_if_last(Epoch epoch, ShardIndex shard) {
    const bool resumed_at_startup = resumed_at_startup_.contains(shard);
    const NodeStatus status = storage_.status();
    if (!in_progress_.empty() || status.is_recovering()) {
        return;
    }
    if (!behaviours_.head_attestation_rules) {
        if (status.is_catching_up()) {
            // #3464 checks only is_recovering(): a node still catching up attests, and node
            // recovery attests the same epoch again once it completes (finding F5).
            FLOE_REACHABLE(rt_, site::walrus_false_sync_done_attested);
        }
        attester_.attest(epoch, resumed_at_startup);
    } else if (!status.is_catching_up()) {
        const Epoch target = std::max(epoch, committees_.current_committee_epoch());
        // HEAD attests only once its token's pending set is empty (shard_sync.rs l.880-902; at
        // startup the set is every owned shard not Active, one without storage included,
        // epoch_change.rs l.455-484): a shard still to be created or filled waits for the sync
        // that fills it, which attests then (swarm 9548 and 9812, issue 17: syncs resumed after
        // a restart emptied the map before the replayed epoch change created a gained shard).
        if (attester_.all_owned_shards_active(target)) {
            attester_.attest(target, resumed_at_startup);
        }
    }
}

// --- §8.5 the sync itself
// --------------------------------------------------------------------------

ShardSyncHandler::AttemptResult ShardSyncHandler::sync_shard_impl(ShardIndex shard, Epoch epoch,
                                                                  bool directly_recover) {
    sim::Permit permit = semaphore_.acquire();
    const sim::TraceSpan span = rt_.span(
        "shard-sync-attempt", fmt::format("shard={}{}", shard, directly_recover ? " direct" : ""));
    if (!storage_.has_shard(shard)) {
        return {Attempt::failed, false};  // removed meanwhile
    }
    // The cursor this attempt starts from, for invariant 13's message. Like Walrus's
    // ShardSyncProgress it carries no epoch: after a restart at a later committee epoch the
    // transfer resumes from it, and blobs certified meanwhile below it are left to their events
    // (docs/FINDINGS.md, class A).
    const auto resumed_from = storage_.sync_progress(shard);
    if (directly_recover) {
        (void)rt_.fail_point(site::fail_point_direct_shard_sync_recovery);  // §11
    }
    const ShardStatus status = storage_.shard_status(shard);
    if (status == ShardStatus::active && behaviours_.active_shard_sync_is_success) {
        // §7.5 force-set it Active (the node left catch-up): node recovery fills it now.
        return {Attempt::success, false};
    }
    if (status != ShardStatus::active_sync && status != ShardStatus::active_recover &&
        status != ShardStatus::locked_to_move) {
        FLOE_REACHABLE(rt_, site::walrus_panic_active_shard_sync);
        WALRUS_PANIC("storage/shard.rs start_sync_shard_before_epoch_impl, WAL-903",
                     "unexpected shard status at the beginning of a shard sync: shard {} is {}",
                     shard, shard_status_name(status));
    }
    bool made_progress = false;
    if (status != ShardStatus::active_recover) {
        // get_last_sync_status (storage/shard.rs l.960-988): ActiveRecover skips to the pending
        // slivers; otherwise both kinds of attempt resume from the progress, a direct recovery
        // too (it queues what a transfer would have fetched).
        const auto progress_or_error = storage_.sync_progress_or_read_error(shard);
        if (!progress_or_error.ok()) {
            return read_error(made_progress);
        }
        const auto& progress = progress_or_error.value();
        if (progress.has_value()) {
            FLOE_REACHABLE(rt_, site::fail_point_shard_sync_resumed_from_progress);  // §8.6
        }
        for (SliverType type : {SliverType::primary, SliverType::secondary}) {
            if (progress.has_value() && progress->type > type) {
                continue;  // that phase is done
            }
            std::optional<BlobId> after;
            if (progress.has_value() && progress->type == type) {
                after = progress->last_synced;
            }
            const AttemptResult phase = directly_recover
                                            ? queue_for_direct_recovery(shard, epoch, type, after)
                                            : transfer_phase(shard, epoch, type, after);
            made_progress = made_progress || phase.made_progress;
            if (phase.outcome != Attempt::success) {
                return {phase.outcome, made_progress};
            }
        }
    }
    const PendingResult pending = recover_pending(shard);
    if (pending == PendingResult::injected_error) {
        return {Attempt::retry_force_recovery, made_progress};
    }
    if (pending == PendingResult::read_error) {
        return read_error(made_progress);
    }
    if (pending == PendingResult::shard_removed || !storage_.has_shard(shard)) {
        return {Attempt::failed, false};  // the shard was removed under the sync
    }
    check_filled(shard, epoch, resumed_from);
    FLOE_ASSERT(storage_.finish_shard_sync(shard).ok(), "finish shard sync");
    return {Attempt::success, true};
}

// One phase: batches of `sliver_count_per_sync_request` from the owner in committee epoch-1.
// Local certified blobs the source skipped, or that are left when it returns nothing more, go
// to pending recovery.
ShardSyncHandler::AttemptResult ShardSyncHandler::transfer_phase(ShardIndex shard, Epoch epoch,
                                                                 SliverType type,
                                                                 std::optional<BlobId> after) {
    auto blobs = storage_.certified_before_epoch(
        epoch, after.has_value() ? BlobBound::excluded(*after) : BlobBound::unbounded(),
        ReadErrors::to_caller, "shard sync blobs");
    auto next = blobs.next();
    bool made_progress = false;
    // `blob_info_iter.next().transpose()?`: a read error ends the attempt at once, before the
    // batch it would have gone into is written.
    const auto read_failed = [&] { return !next.has_value() && blobs.read_failed(); };
    if (read_failed()) {
        return read_error(made_progress);
    }
    uint64_t scan_count = 0;  // slivers fetched in this phase of this attempt (msim only)
    while (next.has_value()) {
        const NodeIndex source = committees_.committee_at(epoch - 1).owner_of(shard);
        auto reply =
            rt_.call<SyncShardReply>(directory_.nodes[source], method::sync_shard,
                                     SyncShardRequest{self_, shard, type, next->first,
                                                      config_.sliver_count_per_sync_request, epoch},
                                     sim::Duration::seconds(45));
        if (!reply.ok()) {
            return {Attempt::retry, made_progress};  // network error: plain retry (§8.4)
        }
        const SyncShardReply& answer = reply.value();
        if (answer.error.has_value()) {
            const bool source_behind =
                *answer.error == SyncShardError::invalid_epoch && answer.server_epoch < epoch;
            // handle_sync_error: only a source behind, Unauthorized and network errors are
            // retried plainly; anything else (an Internal error included) forces recovery.
            const bool plain = source_behind || *answer.error == SyncShardError::unauthorized;
            return {plain ? Attempt::retry : Attempt::retry_force_recovery, made_progress};
        }
        if (answer.slivers.empty()) {
            break;
        }
        scan_count += answer.slivers.size();
        if (const auto injected = fetch_sliver_failure(type, scan_count)) {
            return {*injected, made_progress};  // the fetched batch is not written
        }
        std::vector<std::pair<BlobId, Sliver>> slivers;
        std::vector<BlobId> pending;
        for (const auto& [blob, sliver] : answer.slivers) {
            while (next.has_value() && next->first < blob) {
                pending.push_back(next->first);  // the source did not return it
                next = blobs.next();
            }
            if (next.has_value() && next->first == blob) {
                next = blobs.next();
            }
            if (read_failed()) {
                return read_error(made_progress);
            }
            slivers.emplace_back(blob, sliver);
        }
        auto written = storage_.write_transfer_batch(
            shard, slivers, pending, type, NodeStorage::SyncProgress{type, slivers.back().first});
        if (!written.ok()) {
            FLOE_ASSERT(written.error() == StoreError::no_such_shard, "transfer batch: {}",
                        store_error_name(written.error()));
            return {Attempt::failed, made_progress};  // removed meanwhile
        }
        stats_.transferred_slivers += slivers.size();
        made_progress = true;
    }
    std::vector<BlobId> rest;
    while (next.has_value()) {
        rest.push_back(next->first);
        next = blobs.next();
    }
    if (read_failed()) {
        return read_error(made_progress);
    }
    if (!rest.empty() && !storage_.write_transfer_batch(shard, {}, rest, type, std::nullopt).ok()) {
        return {Attempt::failed, made_progress};  // removed meanwhile
    }
    return {Attempt::success, made_progress};
}

// storage/shard.rs inject_failure, after each fetched batch: the fail point's argument
// (sliver type, trigger_at, retryable) fails the phase of that type once `trigger_at` slivers
// were fetched, with "fetch_sliver simulated sync failure, retryable: X" — a retryable one is
// retried plainly (handle_sync_error), another forces direct recovery. Armed as a plain error,
// the point fails this batch, retryably. Args: {0 primary | 1 secondary, trigger_at, 0 | 1}.
std::optional<ShardSyncHandler::Attempt> ShardSyncHandler::fetch_sliver_failure(
    SliverType type, uint64_t scan_count) {
    const auto args = rt_.fail_point_arg(site::fail_point_fetch_sliver);
    if (!args.has_value()) {
        return std::nullopt;
    }
    if (args->empty()) {
        return Attempt::retry;
    }
    FLOE_ASSERT(args->size() == 3, "fail_point_fetch_sliver takes (type, trigger_at, retryable)");
    const SliverType trigger_type = (*args)[0] == 0 ? SliverType::primary : SliverType::secondary;
    if (trigger_type != type || (*args)[1] > scan_count) {
        return std::nullopt;
    }
    return (*args)[2] != 0 ? Attempt::retry : Attempt::retry_force_recovery;
}

// A direct recovery's phase (sync_shard_before_epoch_internal with directly_recover_shard,
// storage/shard.rs l.1126-1138): every certified blob after `after` goes to pending recovery in
// one batch, unread. recover_pending then reads each entry's sliver and drops the stored ones
// (recover_missing_blobs, l.1468-1476), so a shard whose slivers are all there still goes
// ActiveRecover when any certified blob exists, and meets the recovery fail points.
ShardSyncHandler::AttemptResult ShardSyncHandler::queue_for_direct_recovery(
    ShardIndex shard, Epoch epoch, SliverType type, std::optional<BlobId> after) {
    auto blobs = storage_.certified_before_epoch(
        epoch, after.has_value() ? BlobBound::excluded(*after) : BlobBound::unbounded(),
        ReadErrors::to_caller, "direct recovery blobs");
    std::vector<BlobId> all;
    while (auto next = blobs.next()) {
        all.push_back(next->first);
    }
    if (blobs.read_failed()) {
        return read_error(false);  // `blob_info_iter.next().transpose()?`
    }
    if (!all.empty() && !storage_.write_transfer_batch(shard, {}, all, type, std::nullopt).ok()) {
        return {Attempt::failed, false};  // removed meanwhile
    }
    return {Attempt::success, false};
}

// A storage read error of the attempt (SyncShardClientError::StorageError): handle_sync_error
// classes it with the non-retryable errors, so the next attempt is a direct recovery, and one
// during a direct recovery ends the sync for good (shard_sync.rs l.595-683). Walrus logs it and
// the node goes on; floe stopped the node's process at it until 1 December 2026.
ShardSyncHandler::AttemptResult ShardSyncHandler::read_error(bool made_progress) {
    FLOE_REACHABLE(rt_, site::shard_sync_read_error);
    ++stats_.read_errors;
    return {Attempt::retry_force_recovery, made_progress};
}

// §8.5 step 4, recovery_any_missing_slivers: nothing to do when nothing is pending; otherwise
// fail_point_shard_sync_recovery, the shard goes ActiveRecover, fail_point_after_start_recovery
// may fail the attempt, and rounds of recover_missing_blobs run until nothing is pending.
//
// Within a round the pending slivers are recovered concurrently, at most
// `max_concurrent_blob_recovery_during_shard_recovery` at a time (storage/shard.rs,
// recover_missing_blobs). This matters beyond speed: a primary sliver of a blob held at exactly
// n-f shards cannot be decoded after one holder is lost until a secondary sliver of the same
// blob is recovered somewhere, so a one-at-a-time loop that starts with the primaries never
// ends (docs/FINDINGS.md, class C).
ShardSyncHandler::PendingResult ShardSyncHandler::recover_pending(ShardIndex shard) {
    bool first_round = true;
    while (true) {
        if (!storage_.has_shard(shard)) {
            return PendingResult::shard_removed;
        }
        const auto pending_or_error = storage_.pending_recover(shard);
        if (!pending_or_error.ok()) {
            return PendingResult::read_error;  // `pending_recover_slivers.safe_iter()?`
        }
        const auto& pending = pending_or_error.value();
        if (pending.empty()) {
            return PendingResult::done;
        }
        if (first_round) {
            (void)rt_.fail_point(site::fail_point_shard_sync_recovery);  // §11
        }
        if (storage_.shard_status(shard) == ShardStatus::active_sync &&
            !storage_.set_shard_status(shard, ShardStatus::active_recover).ok()) {
            return PendingResult::shard_removed;
        }
        // §11 (msim builds): "sync shard simulated sync failure after start recovery", an
        // Internal error: handle_sync_error forces direct recovery, or gives up if direct.
        if (first_round && rt_.fail_point(site::fail_point_after_start_recovery) ==
                               sim::FailPointOutcome::inject_error) {
            return PendingResult::injected_error;
        }
        first_round = false;
        const Epoch epoch = committees_.current_committee_epoch();
        // Shared with the children: none may borrow this frame, which an unwind may end first.
        auto permits = std::make_shared<sim::Semaphore>(
            config_.max_concurrent_blob_recovery_during_shard_recovery, "shard-recovery");
        sim::TaskGroup<PendingOutcome> round;
        for (const auto& entry : pending) {
            // Named copies: a lambda cannot capture structured bindings before C++20's P1091,
            // which clang 14 lacks.
            const SliverType type = entry.first;
            const BlobId blob = entry.second;
            round.add(rt_.spawn(fmt::format("recover-pending {}", blob.short_hex()),
                                [this, permits, shard, type, blob, epoch] {
                                    sim::Permit permit = permits->acquire();
                                    return recover_one_pending(shard, type, blob, epoch);
                                }));
        }
        // Walrus keeps an entry whose recovery errs for the next round, a minute later
        // (`recovery_round_sleep`); floe's sliver recovery retries until it decodes or the blob
        // retires, so every entry of a round ends recovered or dropped.
        bool read_failed = false;
        for (const PendingOutcome outcome : round.join_all()) {
            if (outcome == PendingOutcome::shard_removed) {
                return PendingResult::shard_removed;
            }
            read_failed = read_failed || outcome == PendingOutcome::read_error;
        }
        if (read_failed) {
            return PendingResult::read_error;
        }
    }
}

// recover_blob: an entry already stored or no longer certified is dropped ("already_stored",
// "not_certified"); a blob retired while its sliver is being recovered is dropped too
// ("blob_retired"); a recovered sliver is stored and its entry removed.
ShardSyncHandler::PendingOutcome ShardSyncHandler::recover_one_pending(ShardIndex shard,
                                                                       SliverType type,
                                                                       const BlobId& blob,
                                                                       Epoch epoch) {
    // Walrus reads these two in recover_missing_blobs's loop, with `?`: a read error ends the
    // round's loop and the attempt. Here each entry's task reads them, so the entries already
    // started finish first; the entry stays pending for the next attempt.
    const auto stored_or_error = storage_.check_sliver(shard, type, blob);
    if (!stored_or_error.ok()) {
        return PendingOutcome::read_error;
    }
    const bool stored = stored_or_error.value();
    std::optional<BlobInfo> info;  // read only for a sliver not stored, as Walrus's loop does
    if (!stored) {
        auto info_or_error = storage_.blob_info_or_read_error(blob);
        if (!info_or_error.ok()) {
            return PendingOutcome::read_error;
        }
        info = std::move(info_or_error).value();
    }
    PendingOutcome outcome = PendingOutcome::dropped;
    // §11 shard_recovery_skip_initial_blob_certification_check: recover without asking whether
    // the blob is still certified.
    const bool skip_certified_check =
        rt_.fail_point(site::shard_recovery_skip_initial_blob_certification_check) ==
        sim::FailPointOutcome::inject_error;
    if (!stored && info.has_value() && (skip_certified_check || info->is_certified(epoch))) {
        (void)rt_.fail_point(site::fail_point_shard_sync_recover_blob);
        // recover_blob (storage/shard.rs l.1559-1640 at fb097a2262): the metadata (stored if
        // recovered) and the sliver each under execute_with_retirement_check.
        const auto metadata = get_or_recover_blob_metadata(blob, *info->initial_certified_epoch);
        const uint32_t pair = pair_index(shard, n_shards_, blob);
        auto recovered = metadata.has_value()
                             ? blob_recovery_.recover_sliver_unless_retired(
                                   *metadata, pair, type, *info->initial_certified_epoch)
                             : std::nullopt;
        if (const auto* proof =
                recovered ? std::get_if<InconsistencyProof>(&*recovered) : nullptr) {
            // handle_inconsistency: the blob is invalidated; its entry goes like a retired one.
            blob_recovery_.file_inconsistency_proof(*proof);
            ++stats_.inconsistency_proofs;
        } else if (recovered.has_value()) {
            // handle_successful_recovery: put_sliver's insert in spawn_blocking (storage/shard.rs
            // l.450-470), which lands even if this sync is aborted while it waits.
            auto put = spawn_blocking(
                rt_, blocking_calls_as_tasks(), "put_sliver",
                [this, shard, blob, sliver = std::get<Sliver>(std::move(*recovered))] {
                    return storage_.put_sliver(shard, blob, sliver);
                });
            if (!put.ok()) {
                return PendingOutcome::shard_removed;
            }
            ++stats_.recovered_slivers;
            outcome = PendingOutcome::recovered;
        }
    }
    if (!storage_.remove_pending_recover(shard, type, blob).ok()) {
        return PendingOutcome::shard_removed;
    }
    return outcome;
}

// get_or_recover_blob_metadata (node.rs l.3302-3330 at fb097a2262), which shard sync runs under
// execute_with_retirement_check: the local metadata, read in spawn_blocking, or else the
// committee's, which it stores (put_verified_metadata: the metadata and the blob info's
// metadata-stored flag in one batch, written in spawn_blocking) before returning it. Local
// metadata is returned as it is, whatever the blob info's flag says. nullopt once the blob is
// retired.
std::optional<BlobMetadata> ShardSyncHandler::get_or_recover_blob_metadata(const BlobId& blob,
                                                                           Epoch certified_epoch) {
    auto local = spawn_blocking(rt_, blocking_calls_as_tasks(), "get_metadata",
                                [this, blob] { return storage_.metadata(blob); });
    if (local.has_value()) {
        return local;
    }
    auto recovered = blob_recovery_.recover_metadata_unless_retired(blob, certified_epoch);
    if (recovered.has_value()) {
        auto put = spawn_blocking(
            rt_, blocking_calls_as_tasks(), "put_metadata",
            [this, metadata = *recovered] { return storage_.put_metadata(metadata); });
        FLOE_ASSERT(put.ok(), "metadata write: {}", store_error_name(put.error()));
    }
    return recovered;
}

// The event path still owes a blob whose latest BlobCertified event is not complete at this node:
// its blob sync runs, or the event is replayed after a restart (§5), and it fills every shard
// owned at the event epoch. Walrus relies on this: a sync resumed after a crash targets the new
// committee epoch but keeps its transfer cursor (storage/shard.rs, get_last_sync_status: the
// progress carries no epoch), so blobs certified meanwhile with ids below the cursor are left
// to their events (docs/FINDINGS.md, class A).
bool ShardSyncHandler::owed_by_event_path(const BlobInfo& info) const {
    return info.latest_certify_event.has_value() &&
           *info.latest_certify_event >= storage_.event_cursor();
}

// Invariant 13: a shard becomes Active only once every blob certified before the sync epoch
// (and still certified) is stored at it or owed by the event path. Walrus does not check this;
// it flips the shard Active after the transfer and the pending recoveries (storage/shard.rs,
// start_sync_shard_before_epoch_impl).
void ShardSyncHandler::check_filled(ShardIndex shard, Epoch epoch,
                                    const std::optional<NodeStorage::SyncProgress>& resumed_from) {
    const ShardStatus status =
        storage_.has_shard(shard) ? storage_.shard_status(shard) : ShardStatus::none;
    if (status != ShardStatus::active_sync && status != ShardStatus::active_recover) {
        // Removed, moved out (LockedToMove) or force-set Active by the full-recovery path (§7.5)
        // meanwhile: this sync does not make the shard Active (§3.2), node recovery fills it.
        return;
    }
    const NodeStatus node_status = storage_.status();
    if (node_status.is_catching_up() || node_status.is_recovering()) {
        // The shard flips Active all the same (Walrus does not stop shard syncs on entering
        // catch-up), but node recovery now owns every certified blob of every owned shard: it
        // scans them once the shard syncs are done (§7.5, §9.1 steps i and ii).
        return;
    }
    if (node_status.kind == NodeStatus::Kind::standby) {
        // Out of the committee: the shard is not this node's to fill. Walrus resumes every
        // syncing shard at startup without an ownership check (shard_sync.rs l.370-399) and a
        // catch-up exit outside the committee leaves it running (node.rs l.2212-2221); blobs
        // certified since belong to the new owner (swarm 9711 with buggify=on, issue 17).
        return;
    }
    const Epoch now = committees_.current_committee_epoch();
    auto blobs = storage_.certified_before_epoch(epoch, BlobBound::unbounded());
    while (auto next = blobs.next()) {
        const BlobInfo& info = next->second;
        // An inconsistently encoded blob is owed to no shard: its slivers never verify, and it
        // is invalid on chain once a proof is filed, whose InvalidBlobId event this node may not
        // have processed yet. Who proved it may be this shard sync, a blob sync of the event
        // path (swarm 24903 with buggify=on), or this node before a restart that took the proof
        // with it (swarm 24956): the check asks the blob id (the simulation's truth), not the
        // node's memory.
        if (!info.is_certified(now)) {
            continue;
        }
        // A read error cannot tell (this check is floe's, not a read Walrus makes): skipped.
        const auto stored = storage_.check_stored_at_shards(next->first, {shard});
        if (!stored.ok() || stored.value() || owed_by_event_path(info) ||
            next->first.has_inconsistent_encoding()) {
            continue;
        }
        const BlobId& blob = next->first;
        FLOE_FAIL(
            "shard {} about to become Active without blob {} (invariant 13): certified at epoch "
            "{} by event {} (complete: the node's event cursor is at {}), the sync targets epoch "
            "{}{}",
            shard, blob.short_hex(), *info.initial_certified_epoch,
            info.latest_certify_event.value_or(0), storage_.event_cursor(), epoch,
            resumed_from.has_value() ? fmt::format(", resumed its {} transfer after blob {}",
                                                   sliver_type_name(resumed_from->type),
                                                   resumed_from->last_synced.short_hex())
                                     : std::string());
    }
}

// --- §8.6 restart
// ----------------------------------------------------------------------------------

void ShardSyncHandler::restart_syncs() {
    if (storage_.status().kind == NodeStatus::Kind::recover_metadata) {
        start_sync_shards({}, /*resumed_at_startup=*/true);
        return;
    }
    for (ShardIndex shard : storage_.existing_shards()) {
        ShardStatus status = storage_.shard_status(shard);
        if (status == ShardStatus::active_recover &&
            config_.restart_shard_sync_always_retry_transfer_first) {
            FLOE_ASSERT(storage_.set_shard_status(shard, ShardStatus::active_sync).ok(), "status");
            FLOE_REACHABLE(rt_, site::shard_sync_recover_reset_to_transfer_at_restart);
            status = ShardStatus::active_sync;
        }
        if (status == ShardStatus::active_sync || status == ShardStatus::active_recover) {
            FLOE_REACHABLE(rt_, site::shard_sync_resumed_at_startup);
            start_shard_sync_impl(shard);
            resumed_at_startup_.insert(shard);
        } else if (status == ShardStatus::none) {
            // A shard created for a gain whose sync start was never recorded (finding F4):
            // restart_syncs leaves it to the replayed EpochChangeStart, if any is replayed.
            FLOE_REACHABLE(rt_, site::walrus_finding_f4_gained_shard_without_sync_status);
        }
    }
}

}  // namespace walrus
