#pragma once
// Behaviour switches. floe's default is Walrus as it is: PRs #3407 + #3464
// (walrus-recovery-spec.md §9.5), bugs included. Two kinds of switch, all off by default:
//  - old behaviours (--old-behaviour): the node behaves as Walrus did before a fix, so a scenario
//    can reproduce the bug that fix removed;
//  - new behaviours (--new-behaviour): a fix Walrus does not have, for a Walrus bug floe found
//    (docs/FINDINGS.md), so a Walrus engineer can watch the fix make the failing seed pass.
// A safer model never goes in the default path: it would hide the bugs floe exists to find.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace walrus {

namespace site {
struct Site;
}

struct Behaviours {
    // --- old behaviours ---
    // Before #3407: no checkpoint; every (re)start of recovery scans from the first blob id and
    // repeats whole verification passes until one finds nothing to sync (TODO WAL-669, §9.1 c.iii).
    bool rescan_recovery = false;
    // Before #3412: a finished blob sync wakes only one waiter (an Arc<Notify> with notify_one);
    // a second waiter on the same blob blocks forever (§6.2).
    bool notify_one_sync_waiter = false;
    // Before #3464: an epoch change while recovering reuses the full-recovery path (§7.5):
    // gained shards are force-set Active and filled by per-blob recovery instead of shard sync,
    // and the recovery task does not wait for running shard syncs (§9.2).
    bool force_active_gained_shards = false;
    // Before #3453: recovery scans while a shard owned at the latest committee does not exist
    // locally yet (§9.1 step i, §15 #3430/#3431).
    bool no_shard_readiness_wait = false;
    // A planted bug, in no Walrus version, that only storage faults expose: recovered slivers are
    // written with the WAL off and the recovery checkpoint with an fsync. A process crash loses
    // nothing (closing the database flushes memtables that hold unlogged writes); a power loss
    // keeps the checkpoint and loses the slivers below it (issue 16's negative scenario).
    bool unlogged_sliver_writes = false;
    // --- new behaviours (fixes of docs/FINDINGS.md) ---
    // Finding F1 (#3407): leaving catch-up as a continuing member (T6) clears the recovery
    // checkpoint. #3407 resumes any checkpoint whose owned shards match, whatever its epoch,
    // trusting the event path with every blob certified since; catch-up skips those syncs.
    bool clear_checkpoint_on_catch_up_exit = false;
    // Finding F2: a gained shard that exists locally with status Active (kept from before the
    // node left the committee through catch-up, T4, which neither locks nor removes shards) is
    // synced again (ActiveSync, progress cleared) instead of being taken as synced.
    bool resync_regained_active_shards = false;
    // Finding F8 (WAL-1273, a TODO at Walrus HEAD, epoch_change.rs l.767-780): leaving catch-up as
    // a continuing member (T6) writes RecoveryInProgress(E) after every owned shard was created
    // and set Active, not before; a crash in between leaves the node in catch-up, so the replayed
    // event runs T6 again instead of the epoch-change-while-recovering path, which creates only
    // gained shards.
    bool recovery_status_after_shard_storage = false;

    // --- new behaviours: floe's earlier, safer-than-#3464 model, kept so a run can compare ---
    // HEAD's attestation owner (epoch_change/plan.rs) plus floe's WAL-1271 guard: the finisher
    // leaves the attestation to shard sync while any shard sync runs, attests only with every
    // owned shard Active and the node Active; the shard-sync task attests the current committee
    // epoch and not while catching up. #3464: the finisher attests when no shard was gained
    // (`!gained && member && committee epoch == E`), the shard-sync task attests its spawn epoch.
    bool head_attestation_rules = false;
    // Gained shards are recorded ActiveSync before the finisher can complete EpochChangeStart.
    // #3464 records them in the launcher task (start_new_shard_sync), which can run after the
    // finisher completed the event: a crash in between leaves a gained shard with no status
    // that restart_syncs never resumes.
    bool record_shard_sync_before_finisher = false;
    // A shard sync that finds its shard Active counts as a success. #3464 asserts (WAL-903,
    // storage/shard.rs start_sync_shard_before_epoch_impl) and the node panics.
    bool active_shard_sync_is_success = false;
    // A blob sync skips owned shards that do not exist locally. #3464 panics ("shard is managed
    // by this node", blob_sync.rs recover_sliver).
    bool blob_sync_skips_missing_shards = false;
    // Shard assignment is known at any epoch. #3464's owned_shards_at_epoch only knows the
    // committee epoch and the one before; a blob sync asking for another panics (#2216, #2567).
    bool any_epoch_shard_assignment = false;
    // The #3407 checkpoint is persisted every N settled blobs and a Skipped blob stays a
    // blocker. #3407 persists when the settled prefix advanced by N blob ids (spec §16.1) and
    // drops Skipped blobs from the blockers.
    bool checkpoint_every_n_settled = false;
    // Fix of the suspected finding F7 (docs/FINDINGS.md): an inconsistency proof's certificate is
    // given up once the blob is retired (invalid or no longer certified); #3464's shard recovery
    // asks for it forever.
    bool retire_inconsistency_filing = false;
    // Fix of finding F9: the consistency check's existence check (§12) skips a blob this node
    // proved inconsistent and whose InvalidBlobId event it has not processed yet, as it skips
    // blobs with a sync in progress. Walrus counts it as not stored.
    bool existence_check_skips_proven_inconsistent = false;
    // Fix of finding F10: a gained shard that is LockedToMove while a shard sync started before
    // it was lost still runs gets a sync of its own (the old task is aborted, the sync recorded
    // and started afresh). #3464 skips it as "already being synced", and that sync leaves a
    // LockedToMove shard as it is; HEAD quiesces every shard sync at an epoch change.
    bool restart_sync_of_regained_locked_shard = false;
    // Fix of finding F11: a read error in the recovery scan fails the pass, which is retried
    // after an exponential backoff of 1 s to 60 s (HEAD, #3645). #3464 and #3407 drop the
    // error and ask the iterator again, which yields it again forever: the task spins.
    bool recovery_scan_read_error_fails_pass = false;
    // Fix of finding F12: a shard sync whose direct recovery fails too (handle_sync_error:
    // Failed) is retried after the maximum backoff, still as a direct recovery. Walrus (#3464
    // and HEAD) stops it until the node restarts ("restart node to retry shard sync"), so two
    // transient read errors leave the shard unsynced for good.
    bool retry_stopped_shard_sync = false;

    // Sets the switch called `name` (the names of behaviour_switches()); false if unknown.
    bool set(std::string_view name, bool on = true);
    std::vector<std::string> enabled() const;
    bool operator==(const Behaviours&) const = default;
};

enum class BehaviourKind : uint8_t { old_behaviour, new_behaviour };

struct BehaviourInfo {
    const char* name;
    BehaviourKind kind;
    bool Behaviours::*member;
    const char* description;
    // New behaviours: the probe the model reaches where the finding's condition arises, so a
    // failed seed that reached it can be re-run with the fix (`floe sweep --explain`).
    const site::Site* condition = nullptr;
};
const std::vector<BehaviourInfo>& behaviour_switches();
// The kind of the switch called `name`; nullopt if there is none.
std::optional<BehaviourKind> behaviour_kind(std::string_view name);
// "--old-behaviour" or "--new-behaviour": how a command line names the switch.
const char* behaviour_flag(std::string_view name);

}  // namespace walrus
