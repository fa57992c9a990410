#include "node/storage_node.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <set>

#include "node/backoff.h"
#include "node/chain/events.h"
#include "node/overloaded.h"
#include "node/shard_diff.h"
#include "node/walrus_panic.h"

namespace walrus {

using namespace sim::time_literals;

namespace {

// A write to the node's own database that fails without a crash is an injected fault; the
// model has no way to continue consistently, so it is treated like a crash of the operation:
// the event stays incomplete and is replayed after the next restart. For now this is a bug.
template <class T>
void must(const sim::Result<T, StoreError>& result, const char* what) {
    FLOE_ASSERT(result.ok(), "{} failed: {}", what, store_error_name(result.error()));
}

}  // namespace

void run_storage_node(sim::Runtime& rt, const NodeContext& context) {
    FLOE_ASSERT(context.disk != nullptr, "node {} has no disk", context.index);
    auto store = NodeStore::open(rt, *context.disk);
    FLOE_ASSERT(store.ok(), "node {} cannot open its database: {}", context.index,
                store_error_name(store.error()));
    StorageNode node(rt, context, std::move(store).value());
    node.run();
}

StorageNode::StorageNode(sim::Runtime& rt, const NodeContext& context,
                         std::unique_ptr<NodeStore> store)
    : rt_(rt),
      context_(context),
      storage_(std::move(store)),
      params_{context.n_shards},
      sequencer_(storage_.event_cursor()),
      complete_fn_([this](EventIndex index) { complete_event(index); }),
      committees_(rt, context_),
      attester_(rt, context_, committees_, storage_),
      blob_sync_(rt, *this, context.config.blob_recovery,
                 context.config.old.notify_one_sync_waiter),
      shard_sync_(rt, storage_, committees_, *this, attester_, context.index, context.n_shards,
                  context.directory, context.config.shard_sync, context.config.old),
      recovery_(rt, storage_, blob_sync_, shard_sync_, committees_, attester_,
                context.config.node_recovery, context.config.old) {}

StorageNode::~StorageNode() {
    // Our fibers borrow this object; the kernel unwinds them (newest first) before the frame
    // that owns the node, so none is left here.
    for (auto& task : tasks_) {
        task.abort();
    }
}

void StorageNode::run() {
    serve();
    // §8.6 startup order: shard syncs resume from their persisted progress before any event.
    (void)committees_
        .current_committee_epoch();  // §2.2 step 1: start at the latest on-chain committee
    shard_sync_.restart_syncs();
    recovery_.restart_recovery();  // §2.2 item 7 (#2291): the task waits for the first event
    tasks_.push_back(rt_.spawn("events", [this] { event_loop(); }));
    tasks_.push_back(rt_.spawn("blob-sync-monitor", [this] { monitor_loop(); }));
    tasks_.push_back(rt_.spawn("attester", [this] { attester_.attester_loop(); }));
    for (auto& task : tasks_) {
        (void)task.join();
    }
}

// --- events --------------------------------------------------------------------------------------

void StorageNode::event_loop() {
    event_task_ = rt_.current_task();
    // Invariant 2: Active is entered only by recovery completion (T8) and metadata recovery
    // (T10), never by the epoch-change handler, which runs on this task.
    storage_.set_status_write_check([this](const NodeStatus& next) {
        FLOE_ASSERT(!next.is_active() || rt_.current_task() != event_task_,
                    "node {}: the event-processing task sets the node Active (invariant 2: only "
                    "T8 and T10 may)",
                    context_.index);
    });
    // Replay everything after the persisted cursor; §11 storage_node_initial_cursor
    // (get_storage_node_cursor in msim builds) lets a test start elsewhere.
    EventIndex next = storage_.event_cursor();
    if (const auto args = rt_.fail_point_arg("storage_node_initial_cursor");
        args.has_value() && !args->empty()) {
        next = (*args)[0];
        sequencer_ = EventSequencer(next);
    }
    while (true) {
        std::vector<ChainEvent> events = read_events(next);
        if (events.empty()) {
            rt_.sleep(context_.config.events.poll_interval);
            continue;
        }
        for (const ChainEvent& event : events) {
            FLOE_ASSERT(event.index == next, "event {} arrived while expecting {}", event.index,
                        next);
            (void)rt_.fail_point("process-event-before");
            process_event(event);
            (void)rt_.fail_point("process-event-after");
            ++next;
        }
    }
}

std::vector<ChainEvent> StorageNode::read_events(EventIndex from) {
    auto reply =
        rt_.call<std::vector<ChainEvent>>(context_.directory.chain, method::read_events,
                                          ReadEvents{from, context_.config.events.events_per_poll},
                                          context_.config.events.chain_request_timeout);
    return reply.ok() ? std::move(reply).value() : std::vector<ChainEvent>{};
}

void StorageNode::complete_event(EventIndex index) {
    if (!sequencer_.complete(index)) {
        return;
    }
    (void)rt_.fail_point("write-event-before");
    must(storage_.set_event_cursor(sequencer_.cursor()), "persist event cursor");
    (void)rt_.fail_point("write-event-after");
}

void StorageNode::process_event(const ChainEvent& event) {
    (void)rt_.fail_point("fail_point_process_event");         // §11: first crash of restart tests
    (void)rt_.fail_point_async("before-process-event-impl");  // §11: slow event processing
    EventHandle handle(event.index, &complete_fn_);
    check_if_lagging(event);
    if (!committees_.event_epoch().has_value() &&
        !std::holds_alternative<EpochChangeStart>(event.body)) {
        // §5: at startup, the first non-EpochChangeStart event.
        committees_.set_event_epoch(event.epoch);
    }
    std::visit(Overloaded{
                   [&](const EpochChangeStart& start) {
                       process_epoch_change_start(event, start.epoch, std::move(handle));
                   },
                   [&](const EpochParametersSelected&) { handle.complete(); },
                   [&](const EpochChangeDone& done) {
                       // end_committee_change: the transition to the tracked epoch is over; an
                       // older one (a backlog) changes nothing.
                       committees_.end_committee_change(done.epoch);
                       handle.complete();
                   },
                   [&](const ShardsReceived&) { handle.complete(); },
                   [&](const auto&) { process_blob_event(event, std::move(handle)); },
               },
               event.body);
}

// Writes a blob event's merge operand (§4.1), once: a replayed event finds its update already
// written and only redoes the rest (syncs, cancellations). Returns the blob info after it.
BlobInfo StorageNode::update_blob_info(const ChainEvent& event, const BlobId& blob,
                                       const BlobInfoMergeOperand& operand) {
    if (!storage_.blob_event_applied(event.index)) {
        must(storage_.apply_blob_event(event.index, blob, operand), "blob info");
    }
    return storage_.blob_info(blob).value_or(BlobInfo{});
}

void StorageNode::process_blob_event(const ChainEvent& event, EventHandle handle) {
    std::visit(Overloaded{
                   [&](const BlobRegistered& registered) {
                       (void)update_blob_info(event, registered.blob_id,
                                              BlobInfoMergeOperand::register_blob(
                                                  registered.deletable, registered.end_epoch));
                       handle.complete();
                   },
                   [&](const BlobCertified& certified) {
                       process_certified(event, certified, std::move(handle));
                   },
                   [&](const BlobDeleted& deleted) {
                       const BlobInfo info = update_blob_info(
                           event, deleted.blob_id,
                           BlobInfoMergeOperand::delete_blob(deleted.was_certified));
                       // process_blob_deleted_event: not certified at the committee epoch.
                       if (!info.is_certified(committees_.current_committee_epoch())) {
                           blob_sync_.cancel_sync_and_mark_event_complete(deleted.blob_id);
                       }
                       handle.complete();
                   },
                   [&](const InvalidBlobId& invalid) {
                       (void)update_blob_info(event, invalid.blob_id,
                                              BlobInfoMergeOperand::mark_invalid(event.epoch));
                       blob_sync_.cancel_sync_and_mark_event_complete(invalid.blob_id);
                       handle.complete();
                   },
                   [&](const auto&) { FLOE_UNREACHABLE("not a blob event"); },
               },
               event.body);
}

// blob_event_processor.rs process_blob_certified_event: skipped when the blob is not certified at
// the committee epoch, the node catches up, or the blob is stored at every shard owned at the
// event epoch (not checked while the event epoch is unknown, just after a start); otherwise a
// blob sync for the event's epoch. The §11 jitter point comes after those checks.
void StorageNode::process_certified(const ChainEvent& event, const BlobCertified& certified,
                                    EventHandle handle) {
    const BlobInfo info = update_blob_info(
        event, certified.blob_id,
        BlobInfoMergeOperand::certify(certified.certified_epoch, certified.deletable,
                                      certified.end_epoch, certified.is_extension, event.index));
    const bool skip = rt_.fail_point("skip_non_extension_certified_event_triggered_blob_sync") ==
                          sim::FailPointOutcome::inject_error &&
                      !certified.is_extension;
    if (skip || !info.is_certified(committees_.current_committee_epoch()) ||
        storage_.status().is_catching_up() ||
        (committees_.event_epoch().has_value() &&
         storage_.is_stored_at_shards(certified.blob_id,
                                      committees_.owned_shards_at(*committees_.event_epoch())))) {
        handle.complete();
        return;
    }
    (void)rt_.fail_point_async("fail_point_process_blob_certified_event");  // §11: jitter
    watch_event_sync(
        certified.blob_id,
        blob_sync_.start_sync(certified.blob_id, certified.certified_epoch, std::move(handle)));
}

// The event path subscribes to the sync it started or joined and counts its outcome (health
// info). It is the first waiter of a blob an extension re-certified while recovery also needs it:
// the two waiters of #3412 (§6.2).
void StorageNode::watch_event_sync(const BlobId& blob, SyncWaiter waiter) {
    (void)rt_.spawn("blob-event-waiter " + blob.short_hex(),
                    [this, waiter = std::move(waiter)]() mutable {
                        const auto outcome = waiter.wait();
                        ++event_sync_outcomes_[outcome.value_or(SyncOutcome::cancelled)];
                    });
}

// §7.2: EpochChangeStart(E). The previous finisher ends first (a re-gained shard must not be
// removed and re-created concurrently); then §7.3 routes by status and by how far the chain is.
// The genesis epoch is no special case: no blob is certified before epoch 1, so its shard syncs
// finish at once.
void StorageNode::process_epoch_change_start(const ChainEvent& event, Epoch epoch,
                                             EventHandle handle) {
    (void)rt_.fail_point_async("epoch_change_start_entry");
    FLOE_ASSERT(epoch != 0, "EpochChangeStart(0)");
    attester_.begin_round(epoch);  // invariant 4: a new attestation round for `epoch`
    if (finisher_.has_value()) {
        (void)finisher_->join();  // §7.2 step 3: the previous shard removal finishes first
        finisher_.reset();
    }
    if (storage_.status().is_catching_up()) {
        execute_while_catching_up(epoch, std::move(handle));
    } else if (epoch != committees_.current_committee_epoch() &&
               epoch < committees_.latest_chain_epoch()) {
        // begin_committee_change(E) (committee_service.rs): E equal to the tracked committee
        // epoch is EpochIsTheSameAsCurrent, executed without asking the chain (a node restarted
        // at E whose cursor is before EpochChangeStart(E)); otherwise EpochIsLess when the
        // chain is already past E: this node no longer knows what happened in between (T3 b).
        (void)rt_.fail_point("fail-point-enter-recovery-mode");
        enter_recovery_mode();
        execute_while_catching_up(epoch, std::move(handle));
    } else {
        committees_.begin_committee_change(epoch);
        execute_in_sync(epoch, std::move(handle));
    }
    committees_.set_event_epoch(epoch);  // §7.2 step 9: blob syncs now target the shards owned at E
    // §7.2 step 10: not when reprocessing. A blob event after this one already applied means
    // the blob info is ahead of this point in the history.
    if (!storage_.blob_event_applied(event.index)) {
        report_consistency(epoch);
    }
}

// §2.2 item 2: on the first event of an incarnation, a node that missed two or more epoch
// changes no longer knows the shard assignment of its event epoch: it catches up (T3 a).
void StorageNode::check_if_lagging(const ChainEvent& event) {
    if (lag_checked_) {
        return;
    }
    lag_checked_ = true;
    // §11 event_processing_epoch_check (node.rs process_events): a test's epoch in place of the
    // first event's.
    Epoch epoch_at_start = event.epoch;
    if (const auto args = rt_.fail_point_arg("event_processing_epoch_check");
        args.has_value() && !args->empty()) {
        epoch_at_start = (*args)[0];
    }
    if (epoch_at_start + 1 < committees_.current_committee_epoch() &&
        !storage_.status().is_catching_up()) {
        enter_recovery_mode();
    }
}

// T3 (node.rs enter_recovery_mode): RecoveryCatchUp, and every blob sync cancelled with its
// event marked complete (#2567); a recovery task notices and exits.
void StorageNode::enter_recovery_mode() {
    must(storage_.set_status(NodeStatus::recovery_catch_up()), "status");
    blob_sync_.cancel_all_syncs_and_mark_events_completed();
}

// §7.3 execute_epoch_change_while_catching_up: old epoch changes are only marked complete; at
// the current one the node leaves catch-up (T4, T5, T6).
void StorageNode::execute_while_catching_up(Epoch epoch, EventHandle handle) {
    const Epoch latest = committees_.latest_chain_epoch();
    if (epoch < latest) {
        handle.complete();  // backlog
        return;
    }
    committees_.begin_committee_change(epoch);
    // floe's counters of the three exits (scenarios check which one a run took).
    if (!committees_.committee(epoch).contains(context_.index)) {
        (void)rt_.fail_point("catch_up_exit_not_member");
        must(storage_.set_status(NodeStatus::standby()), "status");  // T4
        handle.complete();
        return;
    }
    const bool in_previous = epoch > 1 && committees_.committee(epoch - 1).contains(context_.index);
    if (!in_previous) {
        (void)rt_.fail_point("catch_up_exit_new_member");
        shard_changes_in_sync(epoch, std::move(handle), /*joining=*/true);  // T5
        return;
    }
    (void)rt_.fail_point("catch_up_exit_continuing_member");
    if (storage_.recovery_progress().has_value()) {
        // The #3407 checkpoint outlived a catch-up, whose event replay started no sync.
        (void)rt_.fail_point("walrus_finding_f1_checkpoint_across_catch_up");
    }
    if (context_.config.old.clear_checkpoint_on_catch_up_exit) {
        // F1's fix. A crash after this write leaves the node in catch-up, so T6 runs again.
        must(storage_.clear_recovery_progress(), "clear recovery checkpoint");
    }
    shard_changes_and_start_recovery(epoch, std::move(handle));  // T6
}

// §7.3 execute_epoch_change_when_node_is_in_sync.
void StorageNode::execute_in_sync(Epoch epoch, EventHandle handle) {
    // §6.3: syncs of blobs no longer certified at the new epoch are cancelled.
    blob_sync_.cancel_syncs_where_not([&](const BlobId& blob) {
        const auto info = storage_.blob_info(blob);
        return info.has_value() && info->is_certified(epoch);
    });
    const bool member = committees_.committee(epoch).contains(context_.index);
    const bool joining = storage_.status().kind == NodeStatus::Kind::standby && member;
    if (!member && storage_.status().kind != NodeStatus::Kind::standby) {
        must(storage_.set_status(NodeStatus::standby()), "status");  // T11
    }
    if (storage_.status().is_recovering()) {
        shard_changes_while_recovering(epoch, std::move(handle));  // T7
        return;
    }
    shard_changes_in_sync(epoch, std::move(handle), joining);
}

ShardDiff StorageNode::diff_at(Epoch epoch) {
    const std::vector<ShardIndex> before =
        epoch > 1 ? committees_.committee(epoch - 1).shards_of(context_.index)
                  : std::vector<ShardIndex>{};
    return ShardDiff::compute(before, committees_.committee(epoch).shards_of(context_.index),
                              storage_.existing_shards());
}

// §7.4 step 2 create_new_shards_and_start_sync.
void StorageNode::create_new_shards_and_start_sync(const std::vector<ShardIndex>& gained,
                                                   bool joining) {
    if (gained.empty()) {
        return;
    }
    for (ShardIndex shard : gained) {
        if (!storage_.has_shard(shard)) {
            must(storage_.create_shard(shard, ShardStatus::none), "create shard");
        }
    }
    if (joining) {
        must(storage_.set_status(NodeStatus::recover_metadata()), "status");  // T9 / T5
    }
    // #3464 records the sync's start (ActiveSync) in the launcher task (shard_sync.rs,
    // start_new_shard_sync), which may run after the finisher completed the event; a crash in
    // between leaves a gained shard that restart_syncs never resumes. The new behaviour records
    // it here, before the finisher exists.
    // A gained shard can already exist Active: one kept since the node left the committee
    // through catch-up (T4 touches no shard). Walrus takes it as synced (shard_sync.rs,
    // start_new_shard_sync: "shard has already been synced; skipping sync"), finding F2.
    const Behaviours& behaviours = context_.config.old;
    for (ShardIndex shard : gained) {
        const bool active = storage_.shard_status(shard) == ShardStatus::active;
        if (active) {
            (void)rt_.fail_point("walrus_finding_f2_regained_shard_active");
        }
        const bool record = active ? behaviours.resync_regained_active_shards
                                   : behaviours.record_shard_sync_before_finisher;
        if (record && !shard_sync_.is_syncing(shard)) {
            must(storage_.start_shard_sync(shard), "record_start_shard_sync");
        }
    }
    shard_sync_.start_sync_shards(gained);
}

void StorageNode::lock_shards(const std::vector<ShardIndex>& to_lock) {
    for (ShardIndex shard : to_lock) {
        if (storage_.has_shard(shard)) {
            must(storage_.set_shard_status(shard, ShardStatus::locked_to_move), "lock shard");
        }
    }
}

// §7.4: gained shards are created and filled by shard sync from their previous owners; lost
// shards are locked (read-only sync sources); shards unowned for two epochs are removed by the
// finisher, which completes the event.
void StorageNode::shard_changes_in_sync(Epoch epoch, EventHandle handle, bool joining) {
    const ShardDiff diff = diff_at(epoch);
    create_new_shards_and_start_sync(diff.gained, joining);
    lock_shards(diff.to_lock);
    // §7.8: #3464 leaves the attestation to shard sync when shards were gained; HEAD also while
    // any older shard sync still runs.
    const bool head_rules = context_.config.old.head_attestation_rules;
    start_finisher(std::move(handle), epoch, diff.to_remove,
                   !diff.gained.empty() || (head_rules && shard_sync_.has_sync_in_progress()),
                   committees_.committee(epoch).contains(context_.index), diff.gained);
}

// §7.5: leaving catch-up as a continuing member. The shard history in between is lost, so every
// owned shard is created if missing and force-set Active, and node recovery fills them per blob.
// Attestation is the recovery task's.
void StorageNode::shard_changes_and_start_recovery(Epoch epoch, EventHandle handle) {
    must(storage_.set_status(NodeStatus::recovery_in_progress(epoch)), "status");  // T6 / T7
    const ShardDiff diff = diff_at(epoch);
    for (ShardIndex shard : diff.all_owned) {
        if (!storage_.has_shard(shard)) {
            must(storage_.create_shard(shard, ShardStatus::none), "create shard");
        }
        must(storage_.set_shard_status(shard, ShardStatus::active), "force shard active");
    }
    lock_shards(diff.to_lock);
    restart_recovery_and_finish(epoch, std::move(handle), diff.to_remove);
}

// §7.5 steps 6-7 and §7.6 steps 5-6: recovery (re)starts for E and owns the attestation; the
// finisher, if shards are to be removed, only removes them.
void StorageNode::restart_recovery_and_finish(Epoch epoch, EventHandle handle,
                                              const std::vector<ShardIndex>& to_remove) {
    recovery_.start_node_recovery(epoch);
    if (!to_remove.empty()) {
        start_finisher(std::move(handle), epoch, to_remove, true, true, {});
    } else {
        handle.complete();
    }
}

// §7.6 (#3464): an epoch change while recovering. The target moves first (the restarted task
// must attest the newest epoch; an older attestation would be dropped as stale), gained shards
// are shard-synced from their previous owners, and recovery restarts for the new target.
void StorageNode::shard_changes_while_recovering(Epoch epoch, EventHandle handle) {
    if (context_.config.old.force_active_gained_shards) {
        shard_changes_and_start_recovery(epoch, std::move(handle));  // before #3464
        return;
    }
    must(storage_.set_status(NodeStatus::recovery_in_progress(epoch)), "status");  // T7
    (void)rt_.fail_point("fail_point_shard_changes_in_new_epoch_while_recovering");
    const ShardDiff diff = diff_at(epoch);
    create_new_shards_and_start_sync(diff.gained, /*joining=*/false);
    lock_shards(diff.to_lock);
    restart_recovery_and_finish(epoch, std::move(handle), diff.to_remove);
}

// §7.7: one at a time. Attests when nobody else will (§7.8: in sync, no gained shards, a
// member), removes the shards unowned for two epochs, and only then completes the event, so the
// cursor cannot pass EpochChangeStart before the removal is durable.
void StorageNode::start_finisher(EventHandle handle, Epoch epoch, std::vector<ShardIndex> to_remove,
                                 bool ongoing_shard_sync, bool member,
                                 std::vector<ShardIndex> gained) {
    auto shared_handle = std::make_shared<EventHandle>(std::move(handle));
    // start_epoch_change_finisher.rs captures the committees when it is started.
    const Epoch committee_epoch = committees_.current_committee_epoch();
    finisher_ =
        rt_.spawn("epoch-change-finisher",
                  [this, shared_handle, epoch, member, ongoing_shard_sync, committee_epoch,
                   to_remove = std::move(to_remove), gained = std::move(gained)] {
                      (void)rt_.fail_point_async("blocking_finishing_epoch_change_start");
                      if (!ongoing_shard_sync && member && committee_epoch == epoch &&
                          finisher_may_attest(epoch)) {
                          // Submitted before the event completes (§7.7): once the cursor passes
                          // EpochChangeStart nothing would replay it, so a queued attestation lost
                          // in a crash would be lost for good.
                          attester_.submit(attester_.claim(epoch, "finisher"));
                      }
                      // §7.7: retried forever with backoff 10 s → 5 min (an injected write error,
                      // say).
                      ExponentialBackoff backoff(context_.config.epoch_change.finisher_backoff_min,
                                                 context_.config.epoch_change.finisher_backoff_max);
                      for (ShardIndex shard : to_remove) {
                          while (!storage_.remove_shard(shard).ok()) {
                              rt_.sleep(backoff.next(rt_.rng("finisher-retry")));
                          }
                      }
                      note_unrecorded_gained_shards(gained);
                      shared_handle->complete();
                  });
}

// #3464's finisher checks only `!gained && member && committee epoch == E`. HEAD's plan (the
// new behaviour) also waits for the node to be Active with every owned shard Active: a
// terminally failed shard sync leaves its shard ActiveSync with no task running (WAL-1271),
// and an older shard sync may still run.
bool StorageNode::finisher_may_attest(Epoch epoch) {
    return !context_.config.old.head_attestation_rules ||
           (storage_.status().is_active() && attester_.all_owned_shards_active(epoch));
}

// The race of record-shard-sync-before-finisher: the event completes while a gained shard has
// no sync status yet, so a crash from here on leaves it to nobody (restart_syncs resumes only
// ActiveSync/ActiveRecover shards).
void StorageNode::note_unrecorded_gained_shards(const std::vector<ShardIndex>& gained) {
    for (ShardIndex shard : gained) {
        if (storage_.has_shard(shard) && storage_.shard_status(shard) == ShardStatus::none) {
            (void)rt_.fail_point("walrus_finding_f4_gained_shard_without_sync_status");
            return;
        }
    }
}

// §12 BlobInfoConsistencyCheck, from the node's side.
void StorageNode::report_consistency(Epoch epoch) {
    ConsistencyReport report;
    report.epoch = epoch;
    report.was_active = storage_.status().is_active();
    std::vector<ShardIndex> active_shards;
    for (ShardIndex shard : committees_.owned_shards_at(epoch)) {
        if (storage_.shard_status(shard) == ShardStatus::active) {
            active_shards.push_back(shard);
        }
    }
    BlobIdDigest digest;
    for (const auto& [blob, info] : storage_.all_blob_info()) {
        if (!certified_before_epoch(info, epoch)) {
            continue;
        }
        digest.add(blob);
        if (report.was_active && !blob_sync_.is_in_progress(blob)) {
            ++report.checked;
            report.stored += storage_.is_stored_at_shards(blob, active_shards) ? 1 : 0;
        }
    }
    report.certified_digest = digest.value;
    report.certified_count = digest.count;
    consistency_[epoch] = report;
}

// --- committees ----------------------------------------------------------------------------------

// --- attestation ---------------------------------------------------------------------------------

BlobMetadata StorageNode::get_or_recover_metadata(const BlobId& blob, Epoch certified_epoch) {
    auto local = storage_.metadata(blob);
    if (local.has_value()) {
        return *local;
    }
    return recover_metadata(blob, certified_epoch);
}

// --- blob recovery -------------------------------------------------------------------------------

void StorageNode::monitor_loop() {
    while (true) {
        rt_.sleep(context_.config.blob_recovery.monitor_interval);
        // cancel_all_expired_syncs_and_mark_events_completed: is_blob_certified at the committee
        // epoch.
        const Epoch epoch = committees_.current_committee_epoch();
        blob_sync_.cancel_syncs_where_not([&](const BlobId& blob) {
            const auto info = storage_.blob_info(blob);
            return info.has_value() && info->is_certified(epoch);
        });
    }
}

// §6.4 BlobSynchronizer::run. The shard set is recomputed from the event epoch on every pass
// (recover_blob_slivers); a shard removed while its sliver is being written (Walrus's
// UnregisteredColumn) makes the pass retry. A shard owned at the event epoch that does not exist
// when its sliver recovery starts makes Walrus panic (blob_sync.rs recover_sliver); the new
// behaviour blob-sync-skips-missing-shards skips it instead.
void StorageNode::synchronize_blob(const BlobId& blob, Epoch certified_epoch,
                                   sim::Semaphore& sliver_permits) {
    FLOE_ASSERT(committees_.event_epoch().has_value(), "blob sync before the event epoch is known");
    // Invariant 9: no blob sync runs while catching up (entering catch-up cancels them all, and
    // one dispatched later ends Skipped before it gets here).
    FLOE_ASSERT(!storage_.status().is_catching_up(),
                "blob {} synced while catching up (invariant 9)", blob.short_hex());
    const bool skip_missing = context_.config.old.blob_sync_skips_missing_shards;
    auto shards_now = [&] {
        std::vector<ShardIndex> shards;
        for (ShardIndex shard : committees_.shards_for_blob_sync(*committees_.event_epoch())) {
            if (!skip_missing || storage_.has_shard(shard)) {
                shards.push_back(shard);
            }
        }
        return shards;
    };
    // Step 1: an unknown shard assignment only logs here (is_stored_at_all_shards_at_epoch's
    // error); a missing shard is "not stored".
    if (committees_.shard_assignment_known(*committees_.event_epoch()) &&
        storage_.is_stored_at_shards(blob,
                                     committees_.owned_shards_at(*committees_.event_epoch()))) {
        return;
    }
    BlobMetadata metadata = storage_.metadata(blob).value_or(BlobMetadata{});
    if (metadata.n_shards == 0) {
        metadata = recover_metadata(blob, certified_epoch);
        must(storage_.put_metadata(metadata), "metadata");
    }
    while (true) {
        // recover_blob_slivers (blob_sync.rs): every shard at once, each under one sliver-pair
        // permit, its primary and secondary sliver at once (try_join). A sliver that cannot be
        // decoded yet must not hold back the other type, whose recovery may be what makes it
        // decodable (docs/FINDINGS.md, class C).
        sim::TaskGroup<bool> shards;
        const Epoch pass_epoch = *committees_.event_epoch();
        for (ShardIndex shard : shards_now()) {
            shards.add(
                rt_.spawn(fmt::format("recover-slivers {}", shard),
                          [this, &sliver_permits, metadata, shard, pass_epoch, certified_epoch] {
                              sim::Permit permit = sliver_permits.acquire();
                              return recover_pair(metadata, shard, pass_epoch, certified_epoch);
                          }));
        }
        const std::vector<bool> removed = shards.join_all();
        if (std::find(removed.begin(), removed.end(), true) == removed.end()) {
            return;
        }
        rt_.sleep(context_.config.blob_sync_db_error_retry);  // §6.4 step 3: then recompute
    }
}

// One shard's sliver pair of a blob sync; true if the shard was removed meanwhile (Walrus's
// UnregisteredColumn).
bool StorageNode::recover_pair(const BlobMetadata& metadata, ShardIndex shard, Epoch pass_epoch,
                               Epoch certified_epoch) {
    const BlobId& blob = metadata.blob_id;
    if (!storage_.has_shard(shard) && !context_.config.old.blob_sync_skips_missing_shards) {
        (void)rt_.fail_point("walrus_panic_blob_sync_missing_shard");
        WALRUS_PANIC("blob_sync.rs recover_sliver",
                     "node {}: shard {} is managed by this node (owned at event epoch {}) but has "
                     "no storage; blob {}",
                     context_.index, shard, committees_.event_epoch().value_or(0),
                     blob.short_hex());
    }
    const uint32_t pair = pair_index(shard, context_.n_shards, blob);
    sim::TaskGroup<bool> types;
    for (SliverType type : {SliverType::primary, SliverType::secondary}) {
        if (!storage_.has_shard(shard) || storage_.sliver(shard, type, blob).has_value()) {
            continue;
        }
        types.add(rt_.spawn(
            fmt::format("recover-sliver {}", sliver_type_name(type)),
            [this, metadata, shard, pair, type, pass_epoch, certified_epoch] {
                // Bounded by the sync's cancellation (§16 item 11), not by
                // retirement.
                const Sliver sliver =
                    *recover_sliver(metadata, pair, type, certified_epoch, [] { return false; });
                (void)rt_.fail_point_async("fail_point_recover_sliver_before_put_sliver");
                check_blob_sync_target(metadata.blob_id, shard, pass_epoch);
                auto put = storage_.put_sliver(shard, metadata.blob_id, sliver);
                FLOE_ASSERT(put.ok() || put.error() == StoreError::no_such_shard, "put sliver: {}",
                            store_error_name(put.error()));
                return !put.ok();
            }));
    }
    const std::vector<bool> removed = types.join_all();
    return std::find(removed.begin(), removed.end(), true) != removed.end();
}

// Invariant 10: a blob sync writes slivers only for shards owned at the event epoch its pass
// took the shard set from (§6.4: the event epoch, not the committee epoch, whose new shards
// may not exist yet), and that epoch is the node's event epoch or the one before.
void StorageNode::check_blob_sync_target(const BlobId& blob, ShardIndex shard, Epoch pass_epoch) {
    const std::vector<ShardIndex> owned = committees_.owned_shards_at(pass_epoch);
    FLOE_ASSERT(std::find(owned.begin(), owned.end(), shard) != owned.end(),
                "node {}: blob sync of {} writes shard {}, not owned at event epoch {} "
                "(invariant 10)",
                context_.index, blob.short_hex(), shard, pass_epoch);
    FLOE_ASSERT(committees_.event_epoch().has_value() && pass_epoch <= *committees_.event_epoch(),
                "node {}: blob sync of {} targets epoch {} ahead of the event epoch (invariant 10)",
                context_.index, blob.short_hex(), pass_epoch);
}

// Walrus notifies retirement on BlobDeleted and InvalidBlobId events and at every epoch change
// (blob_retirement_notifier.rs); a blob is retired when it is no longer certified at the
// committee epoch. floe reads the blob info before each attempt instead of interrupting one.
bool StorageNode::is_retired(const BlobId& blob) {
    const auto info = storage_.blob_info(blob);
    return !info.has_value() || !info->is_certified(committees_.current_committee_epoch());
}

std::optional<Sliver> StorageNode::recover_sliver_unless_retired(const BlobMetadata& metadata,
                                                                 uint32_t pair, SliverType type,
                                                                 Epoch certified_epoch) {
    return recover_sliver(metadata, pair, type, certified_epoch,
                          [this, blob = metadata.blob_id] { return is_retired(blob); });
}

BlobMetadata StorageNode::recover_metadata(const BlobId& blob, Epoch certified_epoch) {
    return retry_with_backoff(rt_, committees_.retry_policy("metadata-retry"),
                              [&]() -> std::optional<BlobMetadata> {
                                  return metadata_from_peers(blob, certified_epoch);
                              });
}

// One round of recover_metadata: each other member of the read committee, in random order,
// until one returns metadata that verifies.
std::optional<BlobMetadata> StorageNode::metadata_from_peers(const BlobId& blob,
                                                             Epoch certified_epoch) {
    const Committee& current =
        committees_.committee(committees_.read_committee_epoch(certified_epoch));
    std::vector<NodeIndex> members;
    for (const CommitteeMember& member : current.members) {
        if (member.node != context_.index) {
            members.push_back(member.node);
        }
    }
    rt_.rng("metadata-peers").shuffle(members);
    for (NodeIndex peer : members) {
        auto reply = rt_.call<std::optional<BlobMetadata>>(
            context_.directory.nodes[peer], method::get_metadata, GetMetadata{blob},
            context_.config.committee.metadata_request_timeout);
        if (reply.ok() && reply.value().has_value() &&
            *reply.value() == BlobMetadata::compute(blob, context_.n_shards)) {
            return *reply.value();
        }
    }
    return std::nullopt;
}

// Collects recovery symbols from every committee member in parallel until enough distinct
// shards answered, decodes, and checks the result against the metadata (§6.4). Retries with
// backoff while too few peers answer.
std::optional<Sliver> StorageNode::recover_sliver(const BlobMetadata& metadata, uint32_t pair,
                                                  SliverType type, Epoch certified_epoch,
                                                  const std::function<bool()>& retired) {
    // The outer optional: the attempt ended (a sliver, or nothing once retired).
    return retry_with_backoff(
        rt_, committees_.retry_policy("sliver-retry"),
        [&]() -> std::optional<std::optional<Sliver>> {
            if (retired()) {
                return std::optional<Sliver>();
            }
            std::optional<Sliver> sliver =
                sliver_from_committee(metadata, pair, type, certified_epoch);
            if (!sliver.has_value()) {
                return std::nullopt;  // too few symbols, or a result that does not verify
            }
            return std::optional<std::optional<Sliver>>(std::in_place, std::move(sliver));
        });
}

// One round of recover_sliver: the decoded sliver if it verifies against the metadata.
std::optional<Sliver> StorageNode::sliver_from_committee(const BlobMetadata& metadata,
                                                         uint32_t pair, SliverType type,
                                                         Epoch certified_epoch) {
    const Committee& current =
        committees_.committee(committees_.read_committee_epoch(certified_epoch));
    std::vector<sim::JoinHandle<std::vector<RecoverySymbol>>> requests;
    for (const CommitteeMember& member : current.members) {
        const sim::HostId host = context_.directory.nodes[member.node];
        requests.push_back(rt_.spawn("symbols", [this, host, blob = metadata.blob_id, pair, type] {
            auto reply = rt_.call<std::vector<RecoverySymbol>>(
                host, method::recovery_symbols, RecoverySymbolsRequest{blob, pair, type},
                context_.config.committee.sliver_request_timeout);
            return reply.ok() ? std::move(reply).value() : std::vector<RecoverySymbol>{};
        }));
    }
    std::vector<RecoverySymbol> symbols;
    for (auto& request : requests) {
        auto answer = request.join();
        if (answer.ok()) {
            symbols.insert(symbols.end(), answer.value().begin(), answer.value().end());
        }
    }
    const auto sliver = decode_sliver(metadata.blob_id, pair, type, params_, symbols);
    if (sliver.has_value() && metadata.verifies(*sliver)) {
        return *sliver;
    }
    return std::nullopt;
}

// --- RPC handlers --------------------------------------------------------------------------------

void StorageNode::serve() {
    rt_.serve<StoreBlobRequest, StoreBlobReply>(method::store_blob,
                                                [this](sim::HostId, StoreBlobRequest request) {
                                                    return handle_store_blob(std::move(request));
                                                });
    rt_.serve<GetMetadata, std::optional<BlobMetadata>>(
        method::get_metadata, [this](sim::HostId, GetMetadata request) {
            // §11 (retrieve_metadata): the node answers Unavailable.
            if (rt_.fail_point("get_metadata_return_unavailable") ==
                sim::FailPointOutcome::inject_error) {
                return std::optional<BlobMetadata>();
            }
            return storage_.metadata(request.blob_id);
        });
    rt_.serve<GetSliver, std::optional<Sliver>>(
        method::get_sliver, [this](sim::HostId, GetSliver request) {
            return storage_.sliver(request.shard, request.type, request.blob_id);
        });
    rt_.serve<MissingSlivers, std::vector<MissingSliver>>(
        method::missing_slivers, [this](sim::HostId, const MissingSlivers& request) {
            std::vector<MissingSliver> missing;
            for (const BlobId& blob : request.blobs) {
                for (ShardIndex shard : request.shards) {
                    for (SliverType type : {SliverType::primary, SliverType::secondary}) {
                        if (!storage_.sliver(shard, type, blob).has_value()) {
                            missing.push_back({blob, shard, type});
                        }
                    }
                }
            }
            return missing;
        });
    rt_.serve<RecoverySymbolsRequest, std::vector<RecoverySymbol>>(
        method::recovery_symbols, [this](sim::HostId, RecoverySymbolsRequest request) {
            return handle_recovery_symbols(request);
        });
    rt_.serve<SyncShardRequest, SyncShardReply>(
        method::sync_shard,
        [this](sim::HostId, SyncShardRequest request) { return handle_sync_shard(request); });
    rt_.serve<HealthRequest, HealthInfo>(
        method::health, [this](sim::HostId, HealthRequest) { return handle_health(); });
    rt_.serve<ConsistencyRequest, ConsistencyReply>(
        method::consistency, [this](sim::HostId, ConsistencyRequest request) {
            auto it = consistency_.find(request.epoch);
            return ConsistencyReply{it != consistency_.end()
                                        ? std::optional<ConsistencyReport>(it->second)
                                        : std::nullopt};
        });
}

StoreBlobReply StorageNode::handle_store_blob(StoreBlobRequest request) {
    const BlobId& blob = request.metadata.blob_id;
    StoreBlobReply reply;
    if (!committees_.event_epoch().has_value()) {
        reply.error = StoreBlobError::not_registered;
        return reply;
    }
    const Epoch epoch = *committees_.event_epoch();
    const auto info = storage_.blob_info(blob);
    if (info.has_value() && info->invalid) {
        reply.error = StoreBlobError::invalid_blob;
        return reply;
    }
    if (!info.has_value() || !info->is_registered(epoch)) {
        reply.error = StoreBlobError::not_registered;
        return reply;
    }
    if (!(request.metadata == BlobMetadata::compute(blob, context_.n_shards))) {
        reply.error = StoreBlobError::bad_sliver;
        return reply;
    }
    const std::vector<ShardIndex> owned = committees_.owned_shards_at(epoch);
    std::vector<std::pair<ShardIndex, std::pair<Sliver, Sliver>>> slivers;
    for (const auto& part : request.slivers) {
        if (std::find(owned.begin(), owned.end(), part.shard) == owned.end() ||
            !storage_.has_shard(part.shard)) {
            reply.error = StoreBlobError::not_owner;
            return reply;
        }
        const uint32_t pair = pair_index(part.shard, context_.n_shards, blob);
        if (part.primary.pair != pair || part.secondary.pair != pair ||
            !request.metadata.verifies(part.primary) ||
            !request.metadata.verifies(part.secondary)) {
            reply.error = StoreBlobError::bad_sliver;
            return reply;
        }
        slivers.push_back({part.shard, {part.primary, part.secondary}});
    }
    if (!storage_.put_blob(request.metadata, slivers).ok()) {
        reply.error = StoreBlobError::storage;
        return reply;
    }
    for (const auto& part : request.slivers) {
        reply.stored_shards.push_back(part.shard);
    }
    return reply;
}

std::vector<RecoverySymbol> StorageNode::handle_recovery_symbols(
    const RecoverySymbolsRequest& request) {
    const SliverType source_type =
        request.target_type == SliverType::primary ? SliverType::secondary : SliverType::primary;
    std::vector<RecoverySymbol> symbols;
    for (ShardIndex shard : storage_.existing_shards()) {
        const auto source = storage_.sliver(shard, source_type, request.blob_id);
        if (source.has_value()) {
            symbols.push_back(make_recovery_symbol(request.blob_id, request.target_pair,
                                                   request.target_type, shard, *source));
        }
    }
    return symbols;
}

// §8.5 server side (node.rs sync_shard). Requests are checked against the committee service's
// epoch: the latest chain epoch at startup, moved at the start of each EpochChangeStart's
// processing (§7.2) — not the event epoch, so a restarted or busy source still serves. A
// LockedToMove shard still serves: it is the sync source for the node that gained it.
SyncShardReply StorageNode::handle_sync_shard(const SyncShardRequest& request) {
    SyncShardReply reply;
    reply.server_epoch = committees_.current_committee_epoch();
    if (request.epoch != reply.server_epoch) {
        reply.error = SyncShardError::invalid_epoch;
        return reply;
    }
    const Committee& current = committees_.committee(request.epoch);
    const auto owned = current.shards_of(request.requester);
    if (std::find(owned.begin(), owned.end(), request.shard) == owned.end()) {
        reply.error = SyncShardError::unauthorized;  // #3420
        return reply;
    }
    // storage.rs handle_sync_shard_request, after the request was validated: an Internal error,
    // which the requester answers with direct recovery (handle_sync_error).
    if (rt_.fail_point("fail_point_sync_shard_return_error") ==
        sim::FailPointOutcome::inject_error) {
        reply.error = SyncShardError::injected;
        return reply;
    }
    if (request.count > context_.config.shard_sync.max_sliver_count_per_sync_request) {
        reply.error = SyncShardError::too_many_slivers;
        return reply;
    }
    if (!storage_.has_shard(request.shard)) {
        reply.error = SyncShardError::shard_not_assigned;
        return reply;
    }
    if (rt_.fail_point("fail_point_sync_shard_return_empty") ==
        sim::FailPointOutcome::inject_error) {
        return reply;
    }
    reply.slivers = storage_.slivers_for_sync(request.shard, request.type, request.start,
                                              request.count, request.epoch);
    return reply;
}

HealthInfo StorageNode::handle_health() {
    HealthInfo info;
    info.status = storage_.status();
    info.node_status = info.status.to_string();
    info.event_epoch = committees_.event_epoch();
    info.persisted_cursor = storage_.event_cursor();
    info.blob_syncs_in_progress = blob_sync_.in_progress_count();
    info.shard_syncs_running = shard_sync_.running_tasks();
    info.transferred_slivers = shard_sync_.stats().transferred_slivers;
    info.recovered_slivers = shard_sync_.stats().recovered_slivers;
    info.direct_recoveries = shard_sync_.stats().direct_recoveries;
    info.recovery = recovery_.stats();
    info.recovery_running = recovery_.is_running();
    info.existing_shards = storage_.existing_shards();
    for (const auto& [outcome, count] : event_sync_outcomes_) {
        (outcome == SyncOutcome::success     ? info.event_syncs_succeeded
         : outcome == SyncOutcome::cancelled ? info.event_syncs_cancelled
                                             : info.event_syncs_skipped) += count;
    }
    // health_info's shard_detail.owned: the shards of the latest committee.
    for (ShardIndex shard : committees_.owned_shards_at(committees_.current_committee_epoch())) {
        const ShardStatus status = storage_.shard_status(shard);
        info.owned_shards.push_back(ShardHealth{shard, status, shard_api_status(status)});
    }
    return info;
}

}  // namespace walrus
