// Node-recovery scenarios beyond the four simtests: the #3407 checkpoint (resume, discard,
// retry of a cancelled sync), #3412's shared sync waiter, #3453's readiness window, the
// shard-sync fallback, WAL-1271, and leaving catch-up outside or newly inside the committee
// (walrus-recovery-spec.md §2.2, §7.3, §8, §9.3, §9.5, §16). Each mirrors a fixed bug or a
// transition; those listed with `catches` fail with the matching old-behaviour switch on.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

void simtest_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
}

// #3407's configuration for a deterministic crash mid-pass: a checkpoint after every settled
// blob, one sync at a time, so the 3rd start_sync comes after two settled, persisted blobs.
void checkpoint_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.node.node_recovery.checkpoint_persist_interval = 1;
    config.node.node_recovery.max_concurrent_blob_syncs_during_recovery = 1;
}

void one_sync_at_a_time_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.node.node_recovery.max_concurrent_blob_syncs_during_recovery = 1;
}

// Node 0 goes down at its next crash point after 60 s of workload for `down` (100 s: three
// epoch changes), so it comes back lagging (§2.2).
bool take_node0_down(Scenario& s, sim::Duration down = 100_s) {
    s.sleep(60_s);
    return crash_at_crash_point_and_wait(s, 0, down);
}

bool wait_recovering(Scenario& s) {
    return s.wait_until("node 0 is RecoveryInProgress", 240_s,
                        [&] { return s.status_starts_with(0, "RecoveryInProgress"); });
}

bool wait_node0_recovered(Scenario& s) {
    const bool ok = wait_recovered(s, 0, 400_s);
    report_node0_recovery(s);
    return ok;
}

int64_t hits(Scenario& s, const char* fail_point, NodeIndex node = 0) {
    return static_cast<int64_t>(hits_on(s, fail_point, node));
}

// --- #3407 ---------------------------------------------------------------------------------------

void checkpoint_resume(Scenario& s) {
    if (!take_node0_down(s)) {
        return;
    }
    crash_at_nth_recovery_sync(s, 0, 3, 5_s);
    if (!wait_node0_recovered(s)) {
        return;
    }
    // The node itself asserts that no blob at or below the checkpoint is synced again.
    s.check(hits(s, "fail_point_node_recovery_resumed_from_checkpoint") > 0,
            "node 0's restarted recovery never resumed from its checkpoint (a full rescan)");
    finish_with_convergence(s);
}

void checkpoint_discarded_on_shard_change(Scenario& s) {
    s.sleep(1_s);
    const size_t initial = owned_shard_count(s, 0);
    if (!take_node0_down(s)) {
        return;
    }
    // At the crash, a stake gives node 0 shards; the restarted task is held until the epoch
    // change while recovering (§7.6) ran, so it compares a different owned-shard set.
    crash_at_nth_recovery_sync(s, 0, 3, 5_s, [&s] {
        s.stake(0, 3);
        s.arm("start_node_recovery_entry",
              sim::FailPointAction::hold_until(
                  [&s] {
                      return hits(s, "fail_point_shard_changes_in_new_epoch_while_recovering") > 0;
                  },
                  1_s)
                  .only_on(s.cluster().host(0)));
    });
    if (!wait_node0_recovered(s)) {
        return;
    }
    s.check(hits(s, "node_recovery_checkpoint_discarded") > 0,
            "node 0 kept a checkpoint taken under other owned shards (invariant 20)");
    const size_t owned = owned_shard_count(s, 0);
    s.report("initial_shards", static_cast<int64_t>(initial));
    s.report("owned_shards", static_cast<int64_t>(owned));
    s.check(owned > initial, "node 0 gained no shard");
    finish_with_convergence(s);
}

// Finding F1 (docs/FINDINGS.md): node 0 recovers with a checkpoint after every settled blob,
// crashes at its 20th recovery sync (the checkpoint well into the blob-id space) and stays down
// 100 s, three epoch changes. Blobs certified meanwhile reach it only as replayed events while it
// catches up, which start no sync (§5, blob_event_processor.rs); leaving catch-up (T6) restarts
// recovery, and #3407 resumes the checkpoint because the owned shards did not change. Blobs of the
// downtime with ids below the checkpoint are never scanned: node 0 goes Active without them.
// Fails on Walrus's #3407 branch; passes with --new-behaviour clear-checkpoint-on-catch-up-exit.
void checkpoint_survives_catch_up(Scenario& s) {
    if (!take_node0_down(s)) {
        return;
    }
    const auto crashed = crash_at_nth_recovery_sync(s, 0, 20, 100_s);
    if (!wait_node0_recovered(s)) {
        return;
    }
    s.report("resumed_from_checkpoint",
             hits(s, "fail_point_node_recovery_resumed_from_checkpoint"));
    // A cluster with fewer blobs to recover (another shape) may end the pass before its 20th
    // sync: then the checkpoint never outlived a catch-up, and passing would prove nothing.
    if (!s.check(*crashed,
                 "node 0's recovery ended before its 20th sync: the crash that leaves "
                 "a checkpoint behind never struck")) {
        return;
    }
    finish_with_convergence(s);
}

// Node 0 down 100 s comes back into node recovery with every recovered sliver held `per_sliver`
// before it is stored (so, one sync at a time, the pass lasts minutes), and the pass is 5 s under
// way; false if the run failed first.
bool node0_in_slow_recovery_pass(Scenario& s, sim::Duration per_sliver) {
    if (!take_node0_down(s)) {
        return false;
    }
    s.arm("fail_point_recover_sliver_before_put_sliver",
          sim::FailPointAction::sleep(per_sliver).only_on(s.cluster().host(0)));
    if (!wait_recovering(s)) {
        return false;
    }
    s.sleep(5_s);
    return true;
}

// T3 (b) while the #3407 pass runs: node 0 comes back into node recovery, one sync at a time and
// each recovered sliver held 2 s before it is stored, so the pass lasts minutes; then its event
// processing stalls at one event for three epochs. When it goes on, the chain is past the next
// EpochChangeStart (begin_committee_change: EpochIsLess) and the node enters RecoveryCatchUp,
// cancelling every blob sync, while the pass still runs. The pass must stop issuing (step g, or
// a sync dispatched after the switch ends Skipped), persist only what settled, and a later
// recovery must finish: node 0 Active, the cluster converged (spec §2.1 T3, §9.3 steps 5 and g).
void recovery_overtaken_by_catch_up(Scenario& s) {
    if (!node0_in_slow_recovery_pass(s, 2_s)) {
        return;
    }
    const sim::HostId node0 = s.cluster().host(0);
    const Epoch stalled_in = s.epoch();
    s.mark("node 0's event processing stalls for three epochs");
    s.arm("before-process-event-impl",
          sim::FailPointAction::sleep(s.cluster().epoch_duration() * 3).once().only_on(node0));
    const auto overtaken = [&] {
        return hits(s, "recovery_pass_overtaken_by_catch_up") +
               hits(s, "recovery_pass_aborted_by_skipped_sync");
    };
    if (!s.wait_until("node 0's recovery pass was overtaken by catch-up", 400_s,
                      [&] { return overtaken() > 0; })) {
        return;
    }
    s.disarm("fail_point_recover_sliver_before_put_sliver");
    s.report("passes_overtaken", hits(s, "recovery_pass_overtaken_by_catch_up"));
    s.report("passes_aborted_by_skipped", hits(s, "recovery_pass_aborted_by_skipped_sync"));
    s.check(s.epoch() >= stalled_in + 2, "node 0 entered catch-up without falling behind");
    if (!wait_node0_recovered(s)) {
        return;
    }
    finish_with_convergence(s);
}

// #2216's race inside node recovery, as Walrus's production builds can meet it (spec §6.3 step
// 1, §9.3; PR #3407's Skipped result). With existence-checks=thread-pool the pass's existence
// check waits for a thread pool; node 0's next one is held there while its event processing
// stalls for three epochs, and released once the node has entered RecoveryCatchUp. The pass
// then launches the sync it checked for, with no status check in between; the sync reads
// RecoveryCatchUp first and ends Skipped, and the pass must abort on it with what settled
// persisted. A later recovery must finish: node 0 Active, the cluster converged. As Walrus, the
// recovery after catch-up resumes the checkpoint past blobs certified meanwhile (finding F1),
// on most seeds; clear-checkpoint-on-catch-up-exit fixes it.
void skipped_sync_aborts_recovery_pass(Scenario& s) {
    if (!node0_in_slow_recovery_pass(s, 2_s)) {
        return;
    }
    const sim::HostId node0 = s.cluster().host(0);
    const auto entered_catch_up = [&s] {
        return hits(s, "fail-point-enter-recovery-mode") +
               hits(s, "lag_check_sends_node_to_catch_up");
    };
    const int64_t before = entered_catch_up();
    s.arm("recovery_existence_check_hop",
          sim::FailPointAction::hold_until(
              [entered_catch_up, before] { return entered_catch_up() > before; }, 1_ms)
              .only_on(node0));
    const Epoch stalled_in = s.epoch();
    s.mark("node 0's event processing stalls for three epochs");
    s.arm("before-process-event-impl",
          sim::FailPointAction::sleep(s.cluster().epoch_duration() * 3).once().only_on(node0));
    if (!s.wait_until("node 0's recovery pass aborted on a Skipped sync", 400_s,
                      [&] { return hits(s, "recovery_pass_aborted_by_skipped_sync") > 0; })) {
        return;
    }
    s.disarm("recovery_existence_check_hop");
    s.disarm("fail_point_recover_sliver_before_put_sliver");
    s.report("passes_aborted_by_skipped", hits(s, "recovery_pass_aborted_by_skipped_sync"));
    s.check(s.epoch() >= stalled_in + 2, "node 0 entered catch-up without falling behind");
    if (!wait_node0_recovered(s)) {
        return;
    }
    finish_with_convergence(s);
}

void thread_pool_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.node.node_recovery.max_concurrent_blob_syncs_during_recovery = 1;
    config.node.node_recovery.thread_pool_existence_checks = true;
}

void cancelled_sync_retried(Scenario& s) {
    if (!take_node0_down(s)) {
        return;
    }
    // Most recovery syncs are cancelled (one at a time), so a blob is often cancelled several
    // times in a row and its retries walk the backoff up to the cap.
    s.arm("fail_point_recovery_blob_sync_cancelled",
          sim::FailPointAction::inject_error()
              .with_probability(static_cast<double>(s.integer("cancel-pct")) / 100.0)
              .at_most(static_cast<uint64_t>(s.integer("cancellations")))
              .only_on(s.cluster().host(0)));
    if (!wait_node0_recovered(s)) {
        return;
    }
    auto info = s.health(0);
    if (!s.check(info.has_value(), "node 0 does not answer")) {
        return;
    }
    s.check(info->recovery.retries > 0, "no cancelled recovery sync was retried");
    check_retry_backoff(s, info->recovery, walrus::NodeRecoveryConfig{});
    finish_with_convergence(s);
}

// --- #3412: two waiters on one blob sync ---------------------------------------------------------

// Extends the newest live, non-deletable blob certified while node 0 was down (it lacks it), so
// node 0's event path starts a sync of it. Returns its blob id.
std::optional<walrus::BlobId> extend_a_blob_node0_lacks(Scenario& s) {
    auto blob = extend_recently_certified_blob(s.cluster().chain());
    if (blob.has_value()) {
        s.mark(fmt::format("extend blob {}", blob->short_hex()));
    }
    return blob;
}

void shared_sync_waiter(Scenario& s) {
    auto hold = hold_recovery(s, 0);
    if (!take_node0_down(s)) {
        return;
    }
    if (!wait_recovering(s)) {
        return;
    }
    // The event path's sync of the extended blob is slow (every sliver put sleeps 20 s), so the
    // released recovery task subscribes to that same sync: two waiters on one sync.
    s.arm("fail_point_recover_sliver_before_put_sliver",
          sim::FailPointAction::sleep(20_s).only_on(s.cluster().host(0)));
    const auto target = extend_a_blob_node0_lacks(s);
    if (!target.has_value()) {
        s.fail(sim::FailureClass::liveness, "no blob to extend for the shared waiter");
        return;
    }
    s.sleep(2_s);
    *hold = false;
    s.mark("recovery released");
    s.sleep(10_s);
    s.disarm("fail_point_recover_sliver_before_put_sliver");
    // The sync ended about 20 s after the extension; a recovery waiter still blocked on it is
    // a lost wake-up.
    s.sleep(15_s);
    const auto stuck = s.blocked_fibers(0, "'recovery-wait " + target->short_hex() + "'");
    s.report("stuck_sync_waiters", static_cast<int64_t>(stuck.size()));
    if (!stuck.empty()) {
        s.fail(sim::FailureClass::deadlock,
               fmt::format("a finished blob sync left its waiter blocked: {}", stuck.front()));
        return;
    }
    if (!wait_node0_recovered(s)) {
        return;
    }
    finish_with_convergence(s);
}

// --- #3453: owned shards not created yet ---------------------------------------------------------

void readiness_window(Scenario& s) {
    auto hold = hold_recovery(s, 0);
    if (!take_node0_down(s)) {
        return;
    }
    if (!wait_recovering(s)) {
        return;
    }
    const Epoch gain = s.next_shapeable_epoch();
    s.stake(0, 3);
    if (!s.wait_until("the epoch before the gain", 240_s, [&] { return s.epoch() + 1 >= gain; })) {
        return;
    }
    // Node 0 goes down in epoch G-1 and is back once G is current: one epoch behind (not
    // lagging), its latest committee owns shards it has not created, and it processes
    // EpochChangeStart(G) 20 s late.
    s.sleep(10_s);
    s.kill(0);
    if (!s.wait_until("the gain epoch", 240_s, [&] { return s.epoch() >= gain; })) {
        return;
    }
    s.arm("epoch_change_start_entry",
          sim::FailPointAction::sleep(20_s).once().only_on(s.cluster().host(0)));
    // §9.1 step i: no recovery blob sync may start before the gained shards exist. Shards are
    // created (create-cf-before) only when node 0 processes EpochChangeStart(G).
    Counter created = s.counter("create-cf-before", 0);
    auto early_syncs = std::make_shared<int64_t>(0);
    s.arm("fail_point_node_recovery_start_sync", sim::FailPointAction::call([created, early_syncs] {
                                                     if (created.value() == 0) {
                                                         ++*early_syncs;
                                                     }
                                                 }).only_on(s.cluster().host(0)));
    *hold = false;
    s.mark("recovery released");
    s.restart(0);
    const bool recovered = wait_node0_recovered(s);
    s.report("syncs_before_shards_existed", *early_syncs);
    if (!s.check(*early_syncs == 0,
                 fmt::format("node 0's recovery started {} blob syncs while a shard it owns did "
                             "not exist yet (#3453)",
                             *early_syncs)) ||
        !recovered) {
        return;
    }
    finish_with_convergence(s);
}

// --- shard sync: fallback and terminal failure
// -----------------------------------------------------

void shard_sync_source_crashed(Scenario& s) {
    s.sleep(1_s);
    const size_t initial = owned_shard_count(s, 0);
    s.sleep(64_s);
    const Epoch gain = s.next_shapeable_epoch();
    s.stake(0, 3);
    // The source of node 0's highest gained shard (the simtest cluster: node 4, shard 12) goes
    // down for 90 s once node 0 starts the transfer.
    auto fired = crash_source_when_transfer_starts(s, 0, gain, 90_s);
    if (!s.wait_until("node 0 owns more shards, all Ready", 400_s,
                      [&] { return owned_shard_count(s, 0) > initial && s.all_shards_ready(0); })) {
        return;
    }
    auto info = s.health(0);
    const uint64_t direct = info.has_value() ? info->direct_recoveries : 0;
    s.report("direct_recoveries", static_cast<int64_t>(direct));
    if (info.has_value()) {
        s.report("node0_shard_mask", shard_mask(info->owned_shards));
        s.report("recovered_slivers", static_cast<int64_t>(info->recovered_slivers));
    }
    s.check(*fired, "the gained shard's source was never crashed during the transfer");
    s.check(direct > 0, "node 0 never fell back to per-blob recovery with its source down");
    finish_with_convergence(s);
}

void shard_sync_fails(Scenario& s) {
    arm_terminal_shard_sync_failure(s.sim(), s.cluster().host(0));
    s.sleep(65_s);
    s.stake(0, 3);
    if (!s.wait_until("node 0's shard sync failed for good", 240_s, [&] {
            return s.sim().fail_points().fires("fail_point_after_start_recovery") > 0;
        })) {
        return;
    }
    if (s.cluster().config().node.old.retry_stopped_shard_sync) {
        // F12's fix: the stopped sync is retried after the maximum backoff and fills the shard.
        if (!s.wait_until("node 0's shards all Ready after the retried sync", 300_s,
                          [&] { return s.all_shards_ready(0); })) {
            return;
        }
        finish_with_convergence(s);
        return;
    }
    const Epoch failed_in = s.epoch();
    if (!s.wait_until("three more epochs", 300_s, [&] { return s.epoch() >= failed_in + 3; })) {
        return;
    }
    // WAL-1271: the shard stays unsynced for good (§16 item 4: ActiveRecover, the direct
    // recovery having failed, "InRecovery"), so node 0 must never again claim it holds all its
    // data. (As #3464 is, the node's own check aborts at the finisher's false attestation.)
    for (Epoch epoch = failed_in + 1; epoch <= s.epoch(); ++epoch) {
        s.check(!s.chain().has_attested(0, epoch),
                fmt::format("node 0 attested epoch {} with a shard sync failed (WAL-1271)", epoch));
    }
    const auto statuses = s.shard_statuses(0);
    const auto count_ending = [&statuses](std::string_view suffix) {
        return static_cast<int64_t>(
            std::count_if(statuses.begin(), statuses.end(),
                          [suffix](const std::string& st) { return st.ends_with(suffix); }));
    };
    s.report("shards_in_transfer", count_ending(":InTransfer"));
    s.report("shards_in_recovery", count_ending(":InRecovery"));
    s.check(std::any_of(statuses.begin(), statuses.end(),
                        [](const std::string& st) {
                            return st.ends_with(":InTransfer") || st.ends_with(":InRecovery");
                        }),
            "node 0 has no shard left InTransfer or InRecovery after a terminal shard-sync "
            "failure");
    s.stop_workload();
}

// --- leaving catch-up outside, or newly inside, the committee
// -------------------------------------

// Kills node 0 (no restart) at its next crash point; the epoch it was killed in, or 0 (the run
// failed) if that did not happen within a minute.
Epoch kill_node0_at_crash_point(Scenario& s) {
    auto killed_in = std::make_shared<Epoch>(0);
    for (const std::string& name : crash_node_fail_points) {
        s.arm(name, sim::FailPointAction::call([&s, killed_in] {
                        if (*killed_in == 0) {
                            *killed_in = s.cluster().chain().current_epoch();
                            s.sim().kill(s.cluster().host(0));
                        }
                    }).only_on(s.cluster().host(0)));
    }
    if (!s.wait_until("node 0 killed at a crash point", 60_s, [&] { return *killed_in != 0; })) {
        return 0;
    }
    for (const std::string& name : crash_node_fail_points) {
        s.disarm(name);
    }
    return *killed_in;
}

// Waits (400 s at most) until node 0's status is `status`, and reports how many shards node 0
// listed in that same health reply.
bool wait_status_and_report_shards(Scenario& s, const std::string& status) {
    std::optional<walrus::HealthInfo> info;
    const bool reached = s.wait_until("node 0 is " + status, 400_s, [&] {
        info = s.health(0);
        return info.has_value() && info->node_status == status;
    });
    if (reached) {
        s.report("owned_shards", static_cast<int64_t>(info->owned_shards.size()));
    }
    return reached;
}

void leaves_committee(Scenario& s) {
    s.sleep(60_s);
    s.withdraw(0, s.chain().stake(0));
    s.crash_at_next_crash_point(0, 100_s);
    if (!wait_status_and_report_shards(s, "Standby")) {
        return;
    }
    report_node0_recovery(s);
    s.check(hits(s, "catch_up_exit_not_member") == 1,
            "node 0 did not leave catch-up as a non-member (T4)");
    s.check(hits(s, "start_node_recovery_entry") == 0, "a non-member started node recovery");
    finish_with_convergence(s);
}

// A recovering node dropped from the committee (spec §2.1 T11 while RecoveryInProgress): node
// 0 comes back into a slow recovery pass (one sync at a time, each recovered sliver held 2 s)
// and its stake is withdrawn. The in-sync epoch change that leaves it out sets Standby and goes
// on as for a node in sync (node.rs l.2280-2321 at fb097a2262): nothing restarts or aborts the
// recovery task, whose pass runs on and then finds the status no longer RecoveryInProgress
// (node_recovery.rs l.259-286: "skip setting node status to active"). It must leave node 0
// Standby, attesting nothing, and the rest of the cluster must converge. With `rejoin`, the
// task's checkpoint, which only a completion clears, is resumed by a later recovery: Walrus
// finding F1 (docs/FINDINGS.md), fixed by clear-checkpoint-on-catch-up-exit.
void leaves_committee_while_recovering(Scenario& s) {
    if (!node0_in_slow_recovery_pass(s, 10_s)) {
        return;
    }
    s.mark("node 0's stake is withdrawn while its recovery pass runs");
    const uint64_t stake = s.chain().stake(0);
    s.withdraw(0, stake);
    if (!s.wait_until("node 0 is Standby", 240_s, [&] { return s.status(0) == "Standby"; })) {
        return;
    }
    s.check(hits(s, "recovery_completed") == 0,
            "node 0's recovery went Active before node 0 left the committee: the pass was too "
            "short to outlive the epoch change (a longer one is needed)");
    s.disarm("fail_point_recover_sliver_before_put_sliver");
    if (!s.wait_until("node 0's recovery task finished after node 0 left the committee", 400_s,
                      [&] { return hits(s, "recovery_completion_preempted") > 0; })) {
        return;
    }
    report_node0_recovery(s);
    s.check(s.status(0) == "Standby",
            "node 0's recovery task set " + s.status(0) + " after node 0 left the committee");
    if (s.flag("rejoin")) {
        // The task left its #3407 checkpoint behind (only a completion clears it). Staked back,
        // node 0 rejoins as a new member; then it goes down long enough to lag and recovers as a
        // continuing member, which resumes whatever checkpoint it finds.
        s.stake(0, stake);
        if (!s.wait_until("node 0 is Active again", 400_s,
                          [&] { return s.status(0) == "Active"; })) {
            return;
        }
        s.sleep(30_s);
        if (!crash_at_crash_point_and_wait(s, 0, 100_s) || !wait_recovering(s) ||
            !wait_node0_recovered(s)) {
            return;
        }
        finish_with_convergence(s);
        return;
    }
    finish_with_convergence(s);
    s.check(s.status(0) == "Standby", "node 0 ended " + s.status(0) + ", not Standby");
}

void joins_committee(Scenario& s) {
    s.withdraw(0, s.chain().stake(0));  // out of the committee from epoch 2: Standby
    s.sleep(60_s);
    const Epoch killed_in = kill_node0_at_crash_point(s);
    if (killed_in == 0) {
        return;
    }
    // Staked one epoch change after the kill, node 0's first committee is at least two epochs
    // past the one it was killed in: back then, it is lagging, and a member it was not before.
    if (!s.wait_until("an epoch change", 120_s, [&] { return s.epoch() > killed_in; })) {
        return;
    }
    s.stake(0, 1);
    if (!s.wait_until("node 0 in the committee", 240_s,
                      [&] { return s.chain().current_committee().contains(0); })) {
        return;
    }
    s.restart(0);
    if (!wait_status_and_report_shards(s, "Active")) {
        return;
    }
    report_node0_recovery(s);
    s.report("shard_syncs_started", hits(s, "fail_point_shard_sync_task_started"));
    s.check(hits(s, "catch_up_exit_new_member") == 1,
            "node 0 did not leave catch-up as a new member (T5)");
    finish_with_convergence(s);
}

// Finding F2 (docs/FINDINGS.md): node 0's stake is withdrawn and it is killed; it restarts at the
// start of an epoch two or more past the one it was killed in, catches up and leaves catch-up
// outside the committee (T4: Standby, its shards untouched). Staked back at once, it rejoins at
// the very next epoch change and gains its old shard again: the shard exists and is Active, so
// Walrus neither recreates nor syncs it, and every blob certified while node 0 was out is missing.
// Passes with --new-behaviour resync-regained-active-shards.
void rejoin_keeps_stale_shard(Scenario& s) {
    s.sleep(60_s);
    const uint64_t stake = s.chain().stake(0);
    s.withdraw(0, stake);
    const Epoch killed_in = kill_node0_at_crash_point(s);
    if (killed_in == 0) {
        return;
    }
    // Two epoch changes later node 0 lags and is out of the committee; it restarts as the next
    // epoch starts, so it leaves catch-up before that epoch selects the next committee.
    if (!s.wait_until("two epoch changes", 240_s, [&] { return s.epoch() >= killed_in + 2; })) {
        return;
    }
    const Epoch restart_at = s.epoch() + 1;
    if (!s.wait_until("an epoch starts", 120_s, [&] { return s.epoch() >= restart_at; })) {
        return;
    }
    s.arm("catch_up_exit_not_member", sim::FailPointAction::call([&s, stake] {
                                          s.stake(0, stake);
                                      }).only_on(s.cluster().host(0)));
    s.restart(0);
    if (!s.wait_until("node 0 left catch-up as a non-member (T4)", 60_s,
                      [&] { return s.status(0) == "Standby"; }) ||
        !s.wait_until("node 0 is Active again", 400_s, [&] { return s.status(0) == "Active"; })) {
        return;
    }
    finish_with_convergence(s);
}

ScenarioSpec spec(std::string name, std::string description, std::string mirrors,
                  std::vector<std::string> catches,
                  std::function<void(const Params&, sim::Rng&, ClusterConfig&)> build,
                  std::function<void(Scenario&)> script, std::vector<ParamSpec> params = {},
                  std::vector<std::string> fixed_by = {}) {
    return scripted_spec(std::move(name), std::move(description), std::move(mirrors),
                         std::move(build), std::move(script), std::move(params), std::move(catches),
                         std::move(fixed_by));
}

}  // namespace

std::vector<ScenarioSpec> recovery_scenarios() {
    return {
        spec("checkpoint-resume",
             "node 0 down 100 s; its recovery (checkpoint after every blob, one sync at a time) "
             "crashes at the 3rd blob sync and must resume from the checkpoint, syncing no "
             "settled blob again",
             "PR #3407 (spec §9.3, §13.4)", {"rescan-recovery"}, checkpoint_build,
             checkpoint_resume),
        spec("checkpoint-discarded-on-shard-change",
             "as checkpoint-resume, but node 0 gains shards at the crash: the restarted task "
             "finds another owned-shard set and must discard the checkpoint",
             "PR #3407 (spec §9.3, invariant 20)", {}, checkpoint_build,
             checkpoint_discarded_on_shard_change),
        spec("checkpoint-survives-catch-up",
             "as checkpoint-resume, but node 0 crashes at its 20th recovery sync and stays down "
             "100 s: blobs certified meanwhile are replayed during catch-up without a sync, and "
             "the resumed checkpoint skips those below it (Walrus finding F1, #3407)",
             "PR #3407 (spec §9.3 soundness argument, §2.1 T6)", {}, checkpoint_build,
             checkpoint_survives_catch_up, {}, {"clear-checkpoint-on-catch-up-exit"}),
        spec("recovery-overtaken-by-catch-up",
             "node 0 down 100 s comes back into a slow recovery pass; its event processing "
             "stalls for three epochs, so it enters RecoveryCatchUp (EpochIsLess) while the "
             "pass runs: the pass stops with its checkpoint persisted, and the recovery after "
             "catch-up resumes it past blobs certified meanwhile (Walrus finding F1, #3407)",
             "spec §2.1 T3 (b), §9.3 (PR #3407 step g)", {}, one_sync_at_a_time_build,
             recovery_overtaken_by_catch_up, {}, {"clear-checkpoint-on-catch-up-exit"}),
        spec("skipped-sync-aborts-recovery-pass",
             "as recovery-overtaken-by-catch-up, with existence checks on a thread pool (Walrus's "
             "production builds): the pass's check is held until node 0 entered RecoveryCatchUp, "
             "so the sync it then launches ends Skipped and the pass aborts on it (#2216, #3407)",
             "spec §6.3 step 1, §9.3 (PR #3407: BlobSyncResult::Skipped)", {}, thread_pool_build,
             skipped_sync_aborts_recovery_pass, {}, {"clear-checkpoint-on-catch-up-exit"}),
        spec("cancelled-sync-retried",
             "node 0 down 100 s; recovery blob syncs are cancelled while their blob is still "
             "needed: each must be retried with the 1, 2, 4 ... 30 s backoff",
             "PR #3407 (spec §9.3)", {}, one_sync_at_a_time_build, cancelled_sync_retried,
             {ParamSpec::integer("cancellations", 200, 1, 1000,
                                 "at most this many recovery blob syncs cancelled"),
              ParamSpec::integer("cancel-pct", 80, 1, 100,
                                 "percent of recovery blob syncs cancelled")}),
        spec("shared-sync-waiter",
             "recovery and the event path wait on one blob sync of node 0: both must wake",
             "PR #3412", {"notify-one-sync-waiter"}, simtest_build, shared_sync_waiter),
        spec("readiness-window",
             "node 0, recovering, gains shards and processes that epoch change 20 s late: "
             "recovery must not sync blobs before the gained shards exist",
             "PR #3453 (spec §9.1 step i)", {"no-shard-readiness-wait"}, simtest_build,
             readiness_window),
        spec("shard-sync-source-crashed",
             "node 0 gains shards; the source of one is down 90 s, so that shard sync falls "
             "back to per-blob recovery; node 0 still ends Active with every shard Ready",
             "spec §8 (retry_switch_to_recovery_interval)", {}, simtest_build,
             shard_sync_source_crashed),
        spec("shard-sync-fails",
             "node 0 gains shards and one shard sync fails for good: the shard stays "
             "InTransfer and node 0 must never attest again; #3464's finisher attests at the "
             "next epoch change anyway (WAL-1271, a Walrus TODO)",
             "WAL-1271 (spec §15 #3605, §16 item 4)", {}, simtest_build, shard_sync_fails, {},
             {"head-attestation-rules"}),
        spec("leaves-committee",
             "node 0's stake is withdrawn as it goes down for 100 s: it catches up to an epoch "
             "whose committee lacks it and must end Standby",
             "spec §2.1 T4", {}, simtest_build, leaves_committee),
        spec("leaves-committee-while-recovering",
             "node 0 down 100 s comes back into a slow recovery pass and its stake is "
             "withdrawn: the epoch change that leaves it out sets Standby without stopping the "
             "pass, which then finds the status changed and must not set Active",
             "spec §2.1 T11, §9.1 step e (node_recovery.rs: status no longer "
             "RecoveryInProgress)",
             {}, one_sync_at_a_time_build, leaves_committee_while_recovering,
             {ParamSpec::boolean("rejoin", false,
                                 "then stake node 0 back, and once Active take it down 100 s "
                                 "and let it recover again")}),
        spec("rejoin-keeps-stale-shard",
             "node 0 leaves catch-up outside the committee (T4) and is staked back at once: it "
             "rejoins at the next epoch change with its old shard still Active, which Walrus "
             "neither recreates nor syncs (Walrus finding F2)",
             "spec §2.1 T4 and T9, §7.4, §8.3 (start_new_shard_sync skips Active shards)", {},
             simtest_build, rejoin_keeps_stale_shard, {}, {"resync-regained-active-shards"}),
        spec("joins-committee",
             "node 0, outside the committee, is killed, staked while down and started once "
             "its epoch is current: it leaves catch-up as a new member and ends Active",
             "spec §2.1 T5", {}, simtest_build, joins_committee),
    };
}

}  // namespace floe::scenarios
