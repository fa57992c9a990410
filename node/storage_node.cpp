#include "node/storage_node.h"

#include <algorithm>

#include "node/backoff.h"
#include "node/chain/events.h"
#include "node/must.h"
#include "node/overloaded.h"
#include "node/shard_diff.h"

namespace walrus {

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
      sequencer_(storage_.event_cursor()),
      complete_fn_([this](EventIndex index) { complete_event(index); }),
      committees_(rt, context_),
      attester_(rt, context_, committees_, storage_),
      blob_recovery_(rt, context_, storage_, committees_),
      shard_sync_(rt, storage_, committees_, blob_recovery_, attester_, context.index,
                  context.n_shards, context.directory, context.config.shard_sync,
                  context.config.old),
      recovery_(rt, storage_, blob_recovery_.syncs(), shard_sync_, committees_, attester_,
                context.config.node_recovery, context.config.old),
      blob_events_(rt, storage_, committees_, blob_recovery_.syncs()),
      rpc_(rt, context_,
           RpcHandlerParts{storage_, committees_, blob_recovery_.syncs(), shard_sync_, recovery_,
                           blob_events_, consistency_}) {}

StorageNode::~StorageNode() {
    // Our fibers borrow this object; the kernel unwinds them (newest first) before the frame
    // that owns the node, so none is left here.
    for (auto& task : tasks_) {
        task.abort();
    }
}

void StorageNode::run() {
    rpc_.serve();
    // §8.6 startup order: shard syncs resume from their persisted progress before any event.
    (void)committees_
        .current_committee_epoch();  // §2.2 step 1: start at the latest on-chain committee
    shard_sync_.restart_syncs();
    recovery_.restart_recovery();  // §2.2 item 7 (#2291): the task waits for the first event
    tasks_.push_back(rt_.spawn("events", [this] { event_loop(); }));
    tasks_.push_back(rt_.spawn("blob-sync-monitor", [this] { blob_recovery_.monitor_loop(); }));
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
                   [&](const auto&) { blob_events_.process_blob_event(event, std::move(handle)); },
               },
               event.body);
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
    blob_recovery_.syncs().cancel_all_syncs_and_mark_events_completed();
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
    blob_recovery_.syncs().cancel_syncs_where_not([&](const BlobId& blob) {
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
        if (report.was_active && !blob_recovery_.syncs().is_in_progress(blob)) {
            ++report.checked;
            report.stored += storage_.is_stored_at_shards(blob, active_shards) ? 1 : 0;
        }
    }
    report.certified_digest = digest.value;
    report.certified_count = digest.count;
    consistency_[epoch] = report;
}

}  // namespace walrus
