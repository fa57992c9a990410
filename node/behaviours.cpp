#include "node/behaviours.h"

#include "node/sites.h"

namespace walrus {

const std::vector<BehaviourInfo>& behaviour_switches() {
    using enum BehaviourKind;
    using B = Behaviours;
    static const std::vector<BehaviourInfo> names = {
        {"rescan-recovery", old_behaviour, &B::rescan_recovery,
         "before #3407: no recovery checkpoint; every start rescans from the first blob id and "
         "repeats verification passes (WAL-669)"},
        {"notify-one-sync-waiter", old_behaviour, &B::notify_one_sync_waiter,
         "before #3412: a finished blob sync wakes one waiter; a second waiter blocks forever"},
        {"force-active-gained-shards", old_behaviour, &B::force_active_gained_shards,
         "before #3464: an epoch change while recovering force-sets gained shards Active and "
         "fills them per blob, with no wait for shard syncs"},
        {"no-shard-readiness-wait", old_behaviour, &B::no_shard_readiness_wait,
         "before #3453: recovery scans while an owned shard does not exist yet"},
        {"unlogged-sliver-writes", old_behaviour, &B::unlogged_sliver_writes,
         "planted bug (no Walrus version): recovered slivers skip the WAL and the recovery "
         "checkpoint is fsynced; only a power loss shows it (the checkpoint outlives the slivers "
         "it vouches for)"},
        {"clear-checkpoint-on-catch-up-exit", new_behaviour, &B::clear_checkpoint_on_catch_up_exit,
         "fix of finding F1 (#3407): leaving catch-up clears the recovery checkpoint, whose "
         "blobs certified since were skipped by the catch-up's event replay",
         &site::walrus_finding_f1_checkpoint_across_catch_up},
        {"recovery-status-after-shard-storage", new_behaviour,
         &B::recovery_status_after_shard_storage,
         "fix of finding F8 (WAL-1273): leaving catch-up as a continuing member writes "
         "RecoveryInProgress(E) after its owned shards were created and set Active, so a crash "
         "in between runs the catch-up exit again (#3464 writes the status first: the replay "
         "then creates only gained shards, and a shard owned before never gets storage)",
         &site::walrus_finding_f8_recovery_without_shard_storage},
        {"resync-regained-active-shards", new_behaviour, &B::resync_regained_active_shards,
         "fix of finding F2: a gained shard found Active locally (kept since the node left the "
         "committee through catch-up) is synced again, not taken as synced",
         &site::walrus_finding_f2_regained_shard_active},
        {"head-attestation-rules", new_behaviour, &B::head_attestation_rules,
         "HEAD's attestation owner plus a WAL-1271 guard: no finisher attestation while a shard "
         "sync runs or an owned shard is not Active; the shard-sync task attests the current "
         "epoch (#3464: the finisher attests whenever no shard was gained)",
         &site::walrus_false_sync_done_attested},
        {"record-shard-sync-before-finisher", new_behaviour, &B::record_shard_sync_before_finisher,
         "gained shards are recorded ActiveSync before the finisher may complete the epoch "
         "change (#3464 records them in the launcher task, possibly after)",
         &site::walrus_finding_f4_gained_shard_without_sync_status},
        {"active-shard-sync-is-success", new_behaviour, &B::active_shard_sync_is_success,
         "a shard sync finding its shard Active succeeds (#3464 asserts, WAL-903)",
         &site::walrus_panic_active_shard_sync},
        {"blob-sync-skips-missing-shards", new_behaviour, &B::blob_sync_skips_missing_shards,
         "a blob sync skips owned shards not created locally yet (#3464 panics)",
         &site::walrus_panic_blob_sync_missing_shard},
        {"any-epoch-shard-assignment", new_behaviour, &B::any_epoch_shard_assignment,
         "shard assignment is known at any epoch (#3464's owned_shards_at_epoch knows the "
         "committee epoch and the one before; a blob sync asking for another panics)",
         &site::walrus_panic_unknown_shard_assignment_epoch},
        {"retire-inconsistency-filing", new_behaviour, &B::retire_inconsistency_filing,
         "fix of the suspected finding F7: shard recovery gives up an inconsistency proof's "
         "certificate once the blob is retired (#3464's handle_inconsistency asks forever, and "
         "nodes that dropped an invalid or expired blob cannot sign)",
         &site::walrus_finding_f7_certificate_for_retired_blob},
        {"existence-check-skips-proven-inconsistent", new_behaviour,
         &B::existence_check_skips_proven_inconsistent,
         "fix of finding F9: the consistency check's existence check skips a blob this node "
         "proved inconsistent until its InvalidBlobId event is processed, its proofs persisted "
         "across restarts (Walrus skips only blobs with a sync in progress, and counts the blob "
         "as not stored)",
         &site::walrus_finding_f9_existence_check_counts_proven_inconsistent},
        {"restart-sync-of-regained-locked-shard", new_behaviour,
         &B::restart_sync_of_regained_locked_shard,
         "fix of finding F10: a regained shard still LockedToMove, whose shard sync from before "
         "it was lost still runs, is synced afresh (#3464 skips it as already being synced, "
         "and that sync leaves it LockedToMove: the node attests without it)",
         &site::walrus_finding_f10_regained_locked_shard_sync_skipped},
        {"recovery-scan-read-error-fails-pass", new_behaviour,
         &B::recovery_scan_read_error_fails_pass,
         "fix of finding F11: a read error in node recovery's scan fails the pass, retried after "
         "a backoff of 1 s to 60 s (HEAD, #3645; #3464 and #3407 skip the error, which the "
         "iterator yields again on every call: the task spins and never completes)",
         &site::walrus_finding_f11_recovery_scan_spins_on_read_error},
        {"retry-stopped-shard-sync", new_behaviour, &B::retry_stopped_shard_sync,
         "fix of finding F12: a shard sync whose direct recovery fails too is retried after the "
         "maximum backoff (#3464 and HEAD stop it until the node restarts, 'restart node to "
         "retry shard sync', so two transient storage errors leave the shard unsynced)",
         &site::shard_sync_failed_for_good},
        {"checkpoint-every-n-settled", new_behaviour, &B::checkpoint_every_n_settled,
         "the #3407 checkpoint is persisted every N settled blobs and Skipped blobs stay "
         "blockers (#3407: when the settled prefix advanced by N, Skipped blobs dropped)"},
    };
    return names;
}

std::optional<BehaviourKind> behaviour_kind(std::string_view name) {
    for (const BehaviourInfo& info : behaviour_switches()) {
        if (info.name == name) {
            return info.kind;
        }
    }
    return std::nullopt;
}

const char* behaviour_flag(std::string_view name) {
    return behaviour_kind(name) == BehaviourKind::new_behaviour ? "--new-behaviour"
                                                                : "--old-behaviour";
}

bool Behaviours::set(std::string_view name, bool on) {
    for (const BehaviourInfo& info : behaviour_switches()) {
        if (info.name == name) {
            this->*info.member = on;
            return true;
        }
    }
    return false;
}

std::vector<std::string> Behaviours::enabled() const {
    std::vector<std::string> out;
    for (const BehaviourInfo& info : behaviour_switches()) {
        if (this->*info.member) {
            out.emplace_back(info.name);
        }
    }
    return out;
}

}  // namespace walrus
