#include "node/epoch_change.h"

#include <algorithm>
#include <memory>

#include "node/backoff.h"
#include "node/must.h"
#include "node/sites.h"

namespace walrus {

namespace {

bool contains(const std::vector<ShardIndex>& shards, ShardIndex shard) {
    return std::find(shards.begin(), shards.end(), shard) != shards.end();
}

std::vector<ShardIndex> existing_only(const std::vector<ShardIndex>& shards,
                                      const std::vector<ShardIndex>& existing) {
    std::vector<ShardIndex> out;
    for (ShardIndex shard : shards) {
        if (contains(existing, shard)) {
            out.push_back(shard);
        }
    }
    return out;
}

std::vector<ShardIndex> missing_only(const std::vector<ShardIndex>& shards,
                                     const std::vector<ShardIndex>& existing) {
    std::vector<ShardIndex> out;
    for (ShardIndex shard : shards) {
        if (!contains(existing, shard)) {
            out.push_back(shard);
        }
    }
    return out;
}

bool is_catch_up_route(EpochChangeRoute route) {
    return route != EpochChangeRoute::in_sync;
}

// The three catch-up exits (scenarios check which one a run took). Leaving the committee is a
// fail point (a scenario stakes the node back in there); the two others are probes.
void mark_catch_up_exit(sim::Runtime& rt, EpochChangePath path) {
    switch (path) {
        case EpochChangePath::leave_committee:
            (void)rt.fail_point(site::catch_up_exit_not_member);
            return;
        case EpochChangePath::join_as_new_member:
            FLOE_REACHABLE(rt, site::catch_up_exit_new_member);
            return;
        case EpochChangePath::recover_continuing_member:
            FLOE_REACHABLE(rt, site::catch_up_exit_continuing_member);
            return;
        default: return;
    }
}

// §7.3 execute_epoch_change_while_catching_up: old epoch changes are only marked complete; at
// the current one the node leaves catch-up (T4, T5, T6).
StatusPlan plan_catch_up_exit(const StatusInputs& in) {
    StatusPlan plan;
    if (in.epoch < in.chain_epoch.value()) {
        plan.path = EpochChangePath::backlog;
        return plan;
    }
    plan.begin_committee_change = true;
    if (!in.member_now.value()) {
        plan.path = EpochChangePath::leave_committee;
        plan.set_standby = true;  // T4
        return plan;
    }
    if (!in.member_before.value()) {
        plan.path = EpochChangePath::join_as_new_member;  // T5
        plan.joining = true;
        return plan;
    }
    plan.path = EpochChangePath::recover_continuing_member;  // T6
    // The #3407 checkpoint outlived a catch-up, whose event replay started no sync.
    plan.checkpoint_outlived_catch_up = in.has_recovery_checkpoint;
    // F1's fix. A crash after this write leaves the node in catch-up, so T6 runs again.
    plan.clear_recovery_checkpoint = in.behaviours.clear_checkpoint_on_catch_up_exit;
    // F8's fix defers the status write until the shards exist and are Active (WAL-1273).
    plan.defer_recovery_in_progress = in.behaviours.recovery_status_after_shard_storage;
    plan.set_recovery_in_progress = !plan.defer_recovery_in_progress;
    return plan;
}

// §7.3 execute_epoch_change_when_node_is_in_sync (after its expired syncs were cancelled).
StatusPlan plan_in_sync(const StatusInputs& in) {
    StatusPlan plan;
    const bool member = in.member_now.value();
    const bool standby = in.status.kind == NodeStatus::Kind::standby;
    plan.joining = standby && member;
    plan.set_standby = !member && !standby;  // T11
    // Read after the Standby write, which ends a recovery.
    const bool recovering = !plan.set_standby && in.status.is_recovering();
    if (!recovering) {
        plan.path = EpochChangePath::in_sync;
        return plan;
    }
    // §7.6 (#3464): the target moves first (the restarted task must attest the newest epoch; an
    // older attestation would be dropped as stale). Before #3464, §7.5's path.
    plan.path = in.behaviours.force_active_gained_shards
                    ? EpochChangePath::force_active_while_recovering
                    : EpochChangePath::while_recovering;
    plan.set_recovery_in_progress = true;  // T7
    return plan;
}

// §7.4 create_new_shards_and_start_sync and §7.8's attester for the in-sync path.
void plan_gained_shards(ShardPlan& plan, const ShardDiff& diff, bool joining,
                        const ShardInputs& in) {
    if (diff.gained.empty()) {
        return;
    }
    plan.create = missing_only(diff.gained, in.existing);
    plan.set_recover_metadata = joining;  // T9 / T5
    // #3464 records the sync's start (ActiveSync) in the launcher task (shard_sync.rs,
    // start_new_shard_sync), which may run after the finisher completed the event; a crash in
    // between leaves a gained shard that restart_syncs never resumes. The new behaviour records
    // it here, before the finisher exists.
    // A gained shard can already exist Active. Walrus takes it as synced (shard_sync.rs,
    // start_new_shard_sync: "shard has already been synced; skipping sync"). That is right for a
    // shard this epoch's own (resumed) sync just finished, and finding F2 when a joining node
    // kept it since it left the committee through catch-up (T4 touches no shard): only then
    // does F2's fix sync it again (swarm 9715 with buggify=on, issue 17: a continuing member's
    // freshly synced shard was re-synced).
    for (ShardIndex shard : diff.gained) {
        const auto status = in.status_of_existing.find(shard);
        const bool active =
            status != in.status_of_existing.end() && status->second == ShardStatus::active;
        const bool regained = active && joining;
        const bool record = active ? regained && in.behaviours.resync_regained_active_shards
                                   : in.behaviours.record_shard_sync_before_finisher;
        plan.gained.push_back({shard, regained, record && !contains(in.syncing, shard)});
    }
    plan.start_shard_sync = true;
}

// §7.5 steps 6-7 and §7.6 steps 5-6: recovery (re)starts for E and owns the attestation; the
// finisher, if shards are to be removed, only removes them.
void plan_recovery_and_finish(ShardPlan& plan, const ShardDiff& diff) {
    plan.start_recovery = true;
    plan.attester = AttestationOwner::recovery_task;
    if (!diff.to_remove.empty()) {
        plan.finisher = FinisherPlan{diff.to_remove, true, true, {}};
    }
}

}  // namespace

const char* epoch_change_path_name(EpochChangePath path) {
    switch (path) {
        case EpochChangePath::backlog: return "backlog";
        case EpochChangePath::leave_committee: return "leave-committee";
        case EpochChangePath::join_as_new_member: return "join-as-new-member";
        case EpochChangePath::recover_continuing_member: return "recover-continuing-member";
        case EpochChangePath::in_sync: return "in-sync";
        case EpochChangePath::while_recovering: return "while-recovering";
        case EpochChangePath::force_active_while_recovering: return "force-active-while-recovering";
    }
    FLOE_UNREACHABLE();
}

const char* attestation_owner_name(AttestationOwner owner) {
    switch (owner) {
        case AttestationOwner::nobody: return "nobody";
        case AttestationOwner::finisher: return "finisher";
        case AttestationOwner::shard_sync: return "shard-sync";
        case AttestationOwner::recovery_task: return "recovery-task";
    }
    FLOE_UNREACHABLE();
}

// --- the plan ------------------------------------------------------------------------------------

// begin_committee_change(E) (committee_service.rs): E equal to the tracked committee epoch is
// EpochIsTheSameAsCurrent, executed without asking the chain (a node restarted at E whose cursor
// is before EpochChangeStart(E)).
bool route_asks_chain(const RouteInputs& in) {
    return !in.catching_up && in.epoch != in.committee_epoch;
}

// §7.3. EpochIsLess when the chain is already past E: this node no longer knows what happened in
// between (T3 b).
EpochChangeRoute plan_route(const RouteInputs& in) {
    if (in.catching_up) {
        return EpochChangeRoute::catch_up;
    }
    if (route_asks_chain(in) && in.epoch < in.chain_epoch.value()) {
        return EpochChangeRoute::enter_recovery_and_catch_up;
    }
    return EpochChangeRoute::in_sync;
}

StatusPlan plan_status(EpochChangeRoute route, const StatusInputs& in) {
    return is_catch_up_route(route) ? plan_catch_up_exit(in) : plan_in_sync(in);
}

bool changes_shards(EpochChangePath path) {
    return path != EpochChangePath::backlog && path != EpochChangePath::leave_committee;
}

// §7.4-§7.6: gained shards are created and filled by shard sync from their previous owners (or,
// leaving catch-up, every owned shard is force-set Active and filled by node recovery); lost
// shards are locked (read-only sync sources); shards unowned for two epochs are removed by the
// finisher, which completes the event.
ShardPlan plan_shard_changes(EpochChangePath path, bool joining, const ShardInputs& in) {
    const ShardDiff diff = ShardDiff::compute(in.owned_before, in.owned_now, in.existing);
    ShardPlan plan;
    plan.lock = existing_only(diff.to_lock, in.existing);
    switch (path) {
        case EpochChangePath::in_sync:
        case EpochChangePath::join_as_new_member: {
            plan_gained_shards(plan, diff, joining, in);
            // §7.8: #3464 leaves the attestation to shard sync when shards were gained; HEAD
            // also while any older shard sync still runs.
            const bool ongoing = !diff.gained.empty() || (in.behaviours.head_attestation_rules &&
                                                          in.shard_sync_in_progress);
            plan.finisher = FinisherPlan{diff.to_remove, ongoing, in.member_now, diff.gained};
            plan.attester = !in.member_now ? AttestationOwner::nobody
                            : ongoing      ? AttestationOwner::shard_sync
                                           : AttestationOwner::finisher;
            return plan;
        }
        case EpochChangePath::while_recovering:
            // §7.6 (#3464): gained shards are shard-synced from their previous owners (not
            // forced Active), and recovery restarts for the new target.
            plan_gained_shards(plan, diff, /*joining=*/false, in);
            plan_recovery_and_finish(plan, diff);
            return plan;
        case EpochChangePath::recover_continuing_member:
        case EpochChangePath::force_active_while_recovering:
            // §7.5: leaving catch-up as a continuing member (or, before #3464, an epoch change
            // while recovering). The shard history in between is lost, so every owned shard is
            // created if missing and force-set Active, and node recovery fills them per blob.
            // Attestation is the recovery task's.
            for (ShardIndex shard : diff.all_owned) {
                plan.force_active.push_back({shard, !contains(in.existing, shard)});
            }
            plan_recovery_and_finish(plan, diff);
            return plan;
        case EpochChangePath::backlog:
        case EpochChangePath::leave_committee: break;
    }
    FLOE_UNREACHABLE("{} changes no shards", epoch_change_path_name(path));
}

EpochChangePlan plan(const EpochChangeInputs& in) {
    EpochChangePlan out;
    out.route = plan_route(in.route);
    out.status = plan_status(out.route, in.status);
    if (changes_shards(out.status.path)) {
        out.shards = plan_shard_changes(out.status.path, out.status.joining, in.shards);
    }
    return out;
}

// --- applying it ---------------------------------------------------------------------------------

EpochChange::EpochChange(sim::Runtime& rt, const NodeContext& context, const Parts& parts)
    : rt_(rt),
      context_(context),
      parts_(parts),
      storage_(parts.storage),
      committees_(parts.committees) {}

// §7.2: EpochChangeStart(E). The previous finisher ends first (a re-gained shard must not be
// removed and re-created concurrently); then §7.3 routes by status and by how far the chain is.
// The genesis epoch is no special case: no blob is certified before epoch 1, so its shard syncs
// finish at once.
void EpochChange::process_epoch_change_start(const ChainEvent& event, Epoch epoch,
                                             EventHandle handle) {
    (void)rt_.fail_point_async(site::epoch_change_start_entry);
    FLOE_ASSERT(epoch != 0, "EpochChangeStart(0)");
    parts_.attester.begin_round(epoch);  // invariant 4: a new attestation round for `epoch`
    if (finisher_.has_value()) {
        (void)finisher_->join();  // §7.2 step 3: the previous shard removal finishes first
        finisher_.reset();
    }
    // §7.2 step 4: the blob events before this one have been processed by their workers (their
    // syncs started, not finished).
    parts_.blob_events.wait_for_all_events_to_be_processed();
    // Garbage collection of epoch E, before any committee or shard change, in every status
    // (node.rs start_garbage_collection_task): phase 1 now, phase 2 scheduled.
    parts_.gc.start(epoch, committees_.epoch_start(epoch));
    execute_epoch_change(epoch, std::move(handle));
    committees_.set_event_epoch(epoch);  // §7.2 step 9: blob syncs now target the shards owned at E
    // §7.2 step 10: not when reprocessing. A blob event after this one already applied means
    // the blob info is ahead of this point in the history.
    if (!storage_.blob_event_applied(event.index)) {
        report_consistency(epoch);
    }
}

// §7.3, in three stages, each planned on what was read after the previous one took effect.
void EpochChange::execute_epoch_change(Epoch epoch, EventHandle handle) {
    RouteInputs route_inputs{epoch, storage_.status().is_catching_up(), 0, std::nullopt};
    if (!route_inputs.catching_up) {
        route_inputs.committee_epoch = committees_.current_committee_epoch();
    }
    if (route_asks_chain(route_inputs)) {
        route_inputs.chain_epoch = committees_.latest_chain_epoch();
    }
    const EpochChangeRoute route = plan_route(route_inputs);
    apply_route(route, epoch);
    const StatusPlan status = plan_status(route, read_status_inputs(route, epoch));
    apply_status(status, epoch);
    if (!changes_shards(status.path)) {
        handle.complete();
        return;
    }
    const ShardInputs inputs = read_shard_inputs(epoch);
    if (status.path == EpochChangePath::while_recovering) {
        check_shard_storage_while_recovering(inputs);
    }
    const ShardPlan shards = plan_shard_changes(status.path, status.joining, inputs);
    apply_shard_changes(shards, epoch, std::move(handle), status.defer_recovery_in_progress);
}

void EpochChange::check_shard_storage_while_recovering(const ShardInputs& in) {
    // #3464's T7 creates only gained shards: a shard owned at E-1 and at E without storage never
    // gets any (WAL-1273). Read from what the plan already read: a probe adds no I/O.
    for (ShardIndex shard : in.owned_now) {
        if (contains(in.owned_before, shard) && !contains(in.existing, shard)) {
            FLOE_REACHABLE(rt_, site::walrus_finding_f8_recovery_without_shard_storage);
            return;
        }
    }
}

void EpochChange::apply_route(EpochChangeRoute route, Epoch epoch) {
    switch (route) {
        case EpochChangeRoute::catch_up: return;
        case EpochChangeRoute::enter_recovery_and_catch_up:
            FLOE_REACHABLE(rt_, site::fail_point_enter_recovery_mode);
            enter_recovery_mode();
            return;
        case EpochChangeRoute::in_sync:
            committees_.begin_committee_change(epoch);
            // §6.3: syncs of blobs no longer certified at the new epoch are cancelled.
            parts_.blob_sync.cancel_syncs_where_not([&](const BlobId& blob) {
                const auto info = storage_.blob_info(blob);
                return info.has_value() && info->is_certified(epoch);
            });
            return;
    }
}

// T3 (node.rs enter_recovery_mode): RecoveryCatchUp, and every blob sync cancelled with its
// event marked complete (#2567); a recovery task notices and exits.
void EpochChange::enter_recovery_mode() {
    must(storage_.set_status(NodeStatus::recovery_catch_up()), "status");
    parts_.blob_sync.cancel_all_syncs_and_mark_events_completed();
}

// Read in Walrus's order; what a path does not need is not asked (a committee fetch is an RPC).
StatusInputs EpochChange::read_status_inputs(EpochChangeRoute route, Epoch epoch) {
    StatusInputs in;
    in.epoch = epoch;
    in.behaviours = context_.config.old;
    if (!is_catch_up_route(route)) {
        in.member_now = committees_.is_member(epoch);
        in.status = storage_.status();
        return in;
    }
    in.chain_epoch = committees_.latest_chain_epoch();
    if (epoch < *in.chain_epoch) {
        return in;  // a backlog
    }
    in.member_now = committees_.is_member(epoch);
    if (*in.member_now) {
        in.member_before = epoch > 1 && committees_.is_member(epoch - 1);
    }
    in.status = storage_.status();
    in.has_recovery_checkpoint = storage_.recovery_progress().has_value();
    return in;
}

void EpochChange::apply_status(const StatusPlan& plan, Epoch epoch) {
    if (plan.begin_committee_change) {
        committees_.begin_committee_change(epoch);
    }
    mark_catch_up_exit(rt_, plan.path);
    if (plan.set_standby) {
        must(storage_.set_status(NodeStatus::standby()), "status");  // T4 / T11
    }
    if (plan.checkpoint_outlived_catch_up) {
        FLOE_REACHABLE(rt_, site::walrus_finding_f1_checkpoint_across_catch_up);
    }
    if (plan.clear_recovery_checkpoint) {
        must(storage_.clear_recovery_progress(), "clear recovery checkpoint");
    }
    if (plan.set_recovery_in_progress) {
        must(storage_.set_status(NodeStatus::recovery_in_progress(epoch)), "status");  // T6 / T7
    }
    if (plan.path == EpochChangePath::while_recovering) {
        FLOE_REACHABLE(rt_, site::fail_point_shard_changes_in_new_epoch_while_recovering);
    }
}

// The diff's committees in diff_at's order (the previous one first), then the shards' states.
ShardInputs EpochChange::read_shard_inputs(Epoch epoch) {
    ShardInputs in;
    if (epoch > 1) {
        in.owned_before = committees_.committee(epoch - 1).shards_of(context_.index);
    }
    in.owned_now = committees_.committee(epoch).shards_of(context_.index);
    in.existing = storage_.existing_shards();
    for (ShardIndex shard : in.existing) {
        in.status_of_existing[shard] = storage_.shard_status(shard);
    }
    for (ShardIndex shard : in.owned_now) {
        if (parts_.shard_sync.is_syncing(shard)) {
            in.syncing.push_back(shard);
        }
    }
    in.shard_sync_in_progress = parts_.shard_sync.has_sync_in_progress();
    in.member_now = committees_.is_member(epoch);
    in.behaviours = context_.config.old;
    return in;
}

void EpochChange::apply_shard_changes(const ShardPlan& plan, Epoch epoch, EventHandle handle,
                                      bool set_recovery_in_progress_after) {
    create_new_shards_and_start_sync(plan);
    force_shards_active(plan.force_active);
    if (set_recovery_in_progress_after) {
        // F8's fix (HEAD's TODO(WAL-1273)): only now, with every owned shard in place.
        must(storage_.set_status(NodeStatus::recovery_in_progress(epoch)), "status");  // T6
    }
    lock_shards(plan.lock);
    if (plan.start_recovery) {
        parts_.recovery.start_node_recovery(epoch);
    }
    if (plan.finisher.has_value()) {
        start_finisher(std::move(handle), epoch, *plan.finisher);
    } else {
        handle.complete();
    }
}

// §7.4 step 2 create_new_shards_and_start_sync.
void EpochChange::create_new_shards_and_start_sync(const ShardPlan& plan) {
    must(storage_.create_shards(plan.create, ShardStatus::none), "create shard");
    if (plan.set_recover_metadata) {
        must(storage_.set_status(NodeStatus::recover_metadata()), "status");  // T9 / T5
    }
    std::vector<ShardIndex> gained;
    for (const GainedShard& shard : plan.gained) {
        if (shard.regained_active) {
            FLOE_REACHABLE(rt_, site::walrus_finding_f2_regained_shard_active);
        }
        if (shard.record_sync_start) {
            must(storage_.start_shard_sync(shard.shard), "record_start_shard_sync");
        }
        gained.push_back(shard.shard);
    }
    if (plan.start_shard_sync) {
        parts_.shard_sync.start_sync_shards(gained);
    }
}

// §7.5 steps 3-4.
void EpochChange::force_shards_active(const std::vector<ForcedShard>& shards) {
    for (const ForcedShard& shard : shards) {
        if (shard.create) {
            must(storage_.create_shard(shard.shard, ShardStatus::none), "create shard");
        }
        must(storage_.set_shard_status(shard.shard, ShardStatus::active), "force shard active");
    }
}

void EpochChange::lock_shards(const std::vector<ShardIndex>& to_lock) {
    for (ShardIndex shard : to_lock) {
        must(storage_.set_shard_status(shard, ShardStatus::locked_to_move), "lock shard");
    }
}

// §7.7: one at a time. Attests when nobody else will (§7.8: in sync, no gained shards, a
// member), removes the shards unowned for two epochs, and only then completes the event, so the
// cursor cannot pass EpochChangeStart before the removal is durable.
void EpochChange::start_finisher(EventHandle handle, Epoch epoch, FinisherPlan plan) {
    auto shared_handle = std::make_shared<EventHandle>(std::move(handle));
    // start_epoch_change_finisher.rs captures the committees when it is started.
    const Epoch committee_epoch = committees_.current_committee_epoch();
    finisher_ = rt_.spawn("epoch-change-finisher", [this, shared_handle, epoch, committee_epoch,
                                                    plan = std::move(plan)] {
        (void)rt_.fail_point_async(site::blocking_finishing_epoch_change_start);
        if (!plan.ongoing_shard_sync && plan.member && committee_epoch == epoch &&
            finisher_may_attest(epoch)) {
            // Submitted before the event completes (§7.7): once the cursor passes
            // EpochChangeStart nothing would replay it, so a queued attestation lost in a
            // crash would be lost for good.
            parts_.attester.submit(parts_.attester.claim(epoch, "finisher"));
        }
        // §7.7: retried forever with backoff 10 s → 5 min (an injected write error, say).
        ExponentialBackoff backoff(context_.config.epoch_change.finisher_backoff_min,
                                   context_.config.epoch_change.finisher_backoff_max);
        for (ShardIndex shard : plan.to_remove) {
            while (!storage_.remove_shard(shard).ok()) {
                rt_.sleep(backoff.next(rt_.rng("finisher-retry")));
            }
        }
        note_unrecorded_gained_shards(plan.gained);
        shared_handle->complete();
    });
}

// #3464's finisher checks only `!gained && member && committee epoch == E`. HEAD's plan (the
// new behaviour) also waits for the node to be Active with every owned shard Active: a
// terminally failed shard sync leaves its shard ActiveSync with no task running (WAL-1271),
// and an older shard sync may still run.
bool EpochChange::finisher_may_attest(Epoch epoch) {
    return !context_.config.old.head_attestation_rules ||
           (storage_.status().is_active() && parts_.attester.all_owned_shards_active(epoch));
}

// The race of record-shard-sync-before-finisher: the event completes while a gained shard has
// no sync status yet, so a crash from here on leaves it to nobody (restart_syncs resumes only
// ActiveSync/ActiveRecover shards).
void EpochChange::note_unrecorded_gained_shards(const std::vector<ShardIndex>& gained) {
    for (ShardIndex shard : gained) {
        if (storage_.has_shard(shard) && storage_.shard_status(shard) == ShardStatus::none) {
            FLOE_REACHABLE(rt_, site::walrus_finding_f4_gained_shard_without_sync_status);
            return;
        }
    }
}

// Finding F9: Walrus's existence check skips only blobs with a sync in progress
// (consistency_check.rs, blob_sync_in_progress). A blob this node proved inconsistent stays
// certified in its blob info until the InvalidBlobId event, which may come after this
// EpochChangeStart in the stream; it is counted as not stored. The new behaviour skips the
// blobs whose proofs it persisted. The condition probe asks the blob id (the simulation's
// truth) whether anyone could store it, since as Walrus is a restart drops the node's memory
// of its proof (swarm 24704).
bool EpochChange::skips_proven_inconsistent(const BlobId& blob) {
    if (blob.has_inconsistent_encoding()) {
        FLOE_REACHABLE(rt_, site::walrus_finding_f9_existence_check_counts_proven_inconsistent);
    }
    return context_.config.old.existence_check_skips_proven_inconsistent &&
           parts_.blob_sync.awaits_invalidation(blob);
}

// §12 BlobInfoConsistencyCheck, from the node's side.
void EpochChange::report_consistency(Epoch epoch) {
    ConsistencyReport report;
    report.epoch = epoch;
    report.was_active = storage_.status().is_active();
    std::vector<ShardIndex> active_shards;
    for (ShardIndex shard : committees_.owned_shards_at(epoch)) {
        if (storage_.shard_status(shard) == ShardStatus::active) {
            active_shards.push_back(shard);
        }
    }
    // A read error ends the check: Walrus logs it and records no digest for the epoch
    // (consistency_check.rs l.355-363 and 470-476); the node goes on.
    const auto infos = storage_.all_blob_info_or_read_error();
    if (!infos.has_value()) {
        FLOE_REACHABLE(rt_, site::consistency_check_read_error);
        return;
    }
    BlobIdDigest digest;
    for (const auto& [blob, info] : *infos) {
        if (!certified_before_epoch(info, epoch)) {
            continue;
        }
        digest.add(blob);
        if (report.was_active && !parts_.blob_sync.is_in_progress(blob)) {
            const auto checked = storage_.check_stored_at_shards(blob, active_shards);
            if (!checked.ok()) {
                // handle_existence_check_result (l.220-233): scanned, neither fully stored nor
                // missing; the check goes on.
                FLOE_REACHABLE(rt_, site::existence_check_read_error);
                ++report.checked;
                ++report.errors;
                continue;
            }
            const bool stored = checked.value();
            if (!stored && skips_proven_inconsistent(blob)) {
                continue;
            }
            ++report.checked;
            report.stored += stored ? 1 : 0;
        }
    }
    report.certified_digest = digest.value;
    report.certified_count = digest.count;
    consistency_[epoch] = report;
}

}  // namespace walrus
