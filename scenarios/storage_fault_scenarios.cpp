// Storage-fault scenarios (issue 16): power losses on the simulated disk (SimFs) during node
// recovery, during a shard sync and between the epoch-change finisher's steps, and failed
// fsyncs and renames at RocksDB's MANIFEST / CURRENT / OPTIONS writes. Walrus writes with the WAL
// on and without sync (SUI_DB_SYNC_TO_DISK unset; docs/design/issue16-storage-faults-research.md
// §3), so a power loss rolls a node's whole database back to its last WAL sync: the event
// cursor goes back with the blob info it covers, the #3407 checkpoint with the slivers it
// vouches for, shard-sync progress with the slivers it counts. What these scenarios ask is that
// the node then recovers correctly. Every power loss here is within the data-loss budget.
#include <fmt/ranges.h>

#include <algorithm>

#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

std::vector<ParamSpec> storage_params() {
    return {
        // No "off": these scenarios are storage faults.
        ParamSpec::choice("storage-faults", "bounded", {"bounded", "unbounded"},
                          "bounded (data loss within the budget) or unbounded (no budget; "
                          "safety checks only)"),
        ParamSpec::boolean("torn-writes", true,
                           "a power loss may keep a sector-aligned prefix of unsynced tails"),
        ParamSpec::integer("sector-bytes", 4096, 512, 1 << 20,
                           "a torn write keeps whole sectors of this many bytes"),
        ParamSpec::boolean("sync-writes", false,
                           "fsync the WAL on every write (Walrus's SUI_DB_SYNC_TO_DISK=1)"),
    };
}

void storage_build(const Params& params, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.node.sync_writes = params.flag("sync-writes");
    config.sector_bytes = static_cast<uint64_t>(params.integer("sector-bytes"));
}

// As checkpoint-resume: a checkpoint after every settled blob, one recovery sync at a time.
void checkpoint_storage_build(const Params& params, sim::Rng& rng, ClusterConfig& config) {
    storage_build(params, rng, config);
    config.node.node_recovery.checkpoint_persist_interval = 1;
    config.node.node_recovery.max_concurrent_blob_syncs_during_recovery = 1;
}

// Whether this power loss tears unsynced tails (drawn, when the scenario allows tears).
bool draw_tear(Scenario& s) {
    return s.flag("torn-writes") && s.chance(50);
}

bool wait_fired(Scenario& s, const std::shared_ptr<bool>& fired, const std::string& what,
                sim::Duration deadline) {
    return s.wait_until(what, deadline, [&] { return *fired; });
}

// Arms scan-read-eio once at `node`, at a step of its next scan labelled `label` that hands its
// read errors to its caller (Disk::scan_label: "certified blobs", "blob info", "gc blob info",
// "shard sync blobs", "direct recovery blobs", "pending recover").
// The flag it returns turns true when the error is injected.
std::shared_ptr<bool> arm_scan_read_error(Scenario& s, NodeIndex node, std::string_view label) {
    walrus::Disk& disk = s.disk(node);
    auto fired = std::make_shared<bool>(false);
    s.mark(fmt::format("arm scan-read-eio at a step of node {}'s next {} scan", node, label));
    s.arm("scan-read-eio",
          sim::FailPointAction::inject_error()
              .once()
              .only_on(s.cluster().host(node))
              .only_when([&disk, fired, label] {
                  if (!disk.in_scan_with_errors_to_caller || disk.scan_label != label) {
                      return false;
                  }
                  *fired = true;
                  return true;
              }));
    return fired;
}

// --- power-loss-during-recovery -----------------------------------------------------------------

void power_loss_during_recovery(Scenario& s) {
    s.sleep(60_s);
    if (!crash_at_crash_point_and_wait(s, 0, 100_s)) {
        return;
    }
    // First at a checkpoint write: everything the checkpoint vouches for must survive with it.
    // Armed before the recovery starts, so it counts the pass's writes from the first: armed once
    // a status poll saw RecoveryInProgress, it missed a short pass's writes (a PCT schedule,
    // seed 5074, wrote 26 before that poll and none after).
    const uint64_t nth = 2 + s.rng().below(5);
    auto count = std::make_shared<uint64_t>(0);
    s.mark(fmt::format("power loss at node 0's checkpoint write #{}", nth));
    auto at_checkpoint = s.power_loss_at("node_recovery_checkpoint_persisted", 0, 5_s, draw_tear(s),
                                         [count, nth] { return ++*count == nth; });
    if (!wait_fired(s, at_checkpoint, "node 0 lost power at a recovery checkpoint", 540_s)) {
        return;
    }
    // Then at a random WAL write of the resumed recovery.
    const uint64_t write = 1 + s.rng().below(100);
    s.mark(fmt::format("power loss at node 0's WAL write #{} after its restart", write));
    s.sleep(6_s);
    auto mid_write =
        power_loss_at_nth_wal_write(s, 0, write, 5_s, draw_tear(s), [] { return true; });
    s.wait_until_or_timeout(300_s, [&] { return *mid_write; });
    s.disarm("fs-write-eio");
    const bool recovered = wait_recovered(s, 0, 400_s);
    report_node0_recovery(s);
    if (!recovered) {
        return;
    }
    s.report("power_loss_mid_write", *mid_write ? 1 : 0);
    // The node itself asserts, at every resume, that each blob at or below the checkpoint is
    // stored at its owned shards (check_checkpoint_sound); convergence checks the rest.
    finish_with_convergence(s);
}

// --- power-loss-during-shard-sync ---------------------------------------------------------------

void power_loss_during_shard_sync(Scenario& s) {
    s.sleep(1_s);
    const size_t initial = owned_shard_count(s, 0);
    s.sleep(64_s);
    const Epoch gain = s.next_shapeable_epoch();
    const Counter started = s.counter("fail_point_shard_sync_task_started", 0);
    const Counter finished = s.counter("fail_point_shard_sync_task_finished", 0);
    s.stake(0, 3);
    const auto syncing = [started, finished] { return started.value() > finished.value(); };
    // Mid transfer: at a random WAL write while a shard sync runs.
    const uint64_t write = 1 + s.rng().below(40);
    s.mark(fmt::format("power loss at node 0's WAL write #{} during a shard sync", write));
    auto mid_sync = power_loss_at_nth_wal_write(s, 0, write, 5_s, draw_tear(s), syncing);
    if (!wait_fired(s, mid_sync, "node 0 lost power during a shard sync", 300_s)) {
        return;
    }
    s.disarm("fs-write-eio");
    // Then just after a shard sync finished (its shard's Active status not yet durable), at the
    // node's next WAL write, if the budget allows another loss this epoch. (Not at
    // fail_point_shard_sync_task_finished itself: it is hit in a destructor, where no crash
    // may unwind.)
    std::shared_ptr<bool> at_finish;
    if (s.may_lose_data(0)) {
        const uint64_t done = finished.value();
        at_finish = power_loss_at_nth_wal_write(
            s, 0, 1, 5_s, draw_tear(s), [finished, done] { return finished.value() > done; });
    }
    if (!s.wait_until("node 0 owns more shards, all Ready", 400_s,
                      [&] { return owned_shard_count(s, 0) > initial && s.all_shards_ready(0); })) {
        return;
    }
    s.disarm("fs-write-eio");
    s.report("power_loss_at_sync_finish", at_finish != nullptr && *at_finish ? 1 : 0);
    s.check(s.epoch() >= gain, "node 0 gained shards before the epoch it was staked for");
    // A shard marked Ready with a blob missing fails here: every certified blob stored at every
    // shard of its owner.
    finish_with_convergence(s);
}

// --- power-loss-at-epoch-change -----------------------------------------------------------------

void power_loss_at_epoch_change(Scenario& s) {
    s.sleep(65_s);
    const Epoch change = s.next_shapeable_epoch();
    s.stake(0, 3);     // node 0 gains shards at `change`
    s.withdraw(4, 2);  // node 4 loses some
    // Node 0 loses power at its k-th crash point after entering that epoch change: between two
    // of the finisher's steps (status writes, column families created, the event completed).
    const uint64_t nth = 1 + s.rng().below(12);
    s.mark(fmt::format("power loss at node 0's crash point #{} of epoch change {}", nth, change));
    struct State {
        bool entered = false;
        uint64_t count = 0;
        bool fired = false;
    };
    auto state = std::make_shared<State>();
    const sim::HostId node0 = s.cluster().host(0);
    s.arm("epoch_change_start_entry", sim::FailPointAction::call([&s, state, change] {
                                          if (s.chain().current_epoch() >= change) {
                                              state->entered = true;
                                          }
                                      }).only_on(node0));
    const bool tear = draw_tear(s);
    for (const std::string& point : crash_node_fail_points) {
        s.arm(point, sim::FailPointAction::call([&s, state, nth, tear, node0] {
                         if (state->entered && !state->fired && ++state->count == nth) {
                             state->fired = true;
                             s.cluster().cut_power(0, tear);
                             s.sim().restart(node0, 5_s);
                         }
                     }).only_on(node0));
    }
    const bool fired =
        s.wait_until("node 0 lost power in the epoch change", 300_s, [&] { return state->fired; });
    s.disarm_crash_points();
    s.disarm("epoch_change_start_entry");
    if (!fired || !wait_recovered(s, 0, 400_s)) {
        return;
    }
    s.check(s.epoch() >= change, "the epoch change never happened");
    finish_with_convergence(s);
}

// --- fsync-and-rename-failures ------------------------------------------------------------------

bool is_metadata_file(walrus::FileKind kind) {
    using walrus::FileKind;
    return kind == FileKind::manifest || kind == FileKind::current || kind == FileKind::temp ||
           kind == FileKind::options;
}

// Arms one fault of `point` at node 0's next operation on a MANIFEST, CURRENT or OPTIONS file
// (or their temp files), or its next directory fsync; the flag turns true when it fired, `exits`
// counts the node's process exits that followed (the host's incarnation moved on at that instant).
struct MetadataFault {
    std::shared_ptr<bool> fired = std::make_shared<bool>(false);
    std::shared_ptr<uint64_t> incarnation = std::make_shared<uint64_t>(0);
};

MetadataFault arm_metadata_fault(Scenario& s, const std::string& point) {
    MetadataFault fault;
    walrus::Disk& disk = s.disk(0);
    sim::Scheduler& scheduler = s.sim().scheduler();
    const sim::HostId node0 = s.cluster().host(0);
    s.mark(fmt::format("arm {} at node 0's next metadata file operation", point));
    s.arm(point, sim::FailPointAction::inject_error().once().only_on(node0).only_when(
                     [&disk, &scheduler, fault, node0] {
                         if (disk.current_fs_op.op != walrus::FsOp::dir_sync &&
                             !is_metadata_file(disk.current_fs_op.kind)) {
                             return false;
                         }
                         *fault.fired = true;
                         *fault.incarnation = scheduler.incarnation(node0);
                         return true;
                     }));
    return fault;
}

// The node stopped at the fault (it did not run on with a database that failed) and came back.
bool stopped_and_came_back(Scenario& s, const MetadataFault& fault, const std::string& what) {
    if (!s.wait_until(what + " fired", 300_s, [&] { return *fault.fired; })) {
        return false;
    }
    const sim::HostId node0 = s.cluster().host(0);
    s.check(s.sim().scheduler().incarnation(node0) > *fault.incarnation,
            "node 0 ran on after " + what + " failed (its process did not exit)");
    return wait_recovered(s, 0, 400_s);
}

void fsync_and_rename_failures(Scenario& s) {
    const std::vector<std::string> points = {"fs-fsync-fail", "fs-rename-fail",
                                             "fs-dir-fsync-fail"};
    s.sleep(40_s);
    // At a reboot: DB::Open writes a new MANIFEST, renames CURRENT, writes OPTIONS.
    const std::string at_open = points[s.rng().below(points.size())];
    const MetadataFault open_fault = arm_metadata_fault(s, at_open);
    s.crash(0, 5_s);
    if (!stopped_and_came_back(s, open_fault, at_open + " at open")) {
        return;
    }
    s.disarm(at_open);
    // At an epoch change: creating the gained shards' column families edits the MANIFEST and
    // rewrites OPTIONS (temp file, rename, directory fsync).
    const std::string at_change = points[s.rng().below(points.size())];
    const MetadataFault change_fault = arm_metadata_fault(s, at_change);
    s.stake(0, 3);
    if (!stopped_and_came_back(s, change_fault, at_change + " at an epoch change")) {
        return;
    }
    s.disarm(at_change);
    s.report("io_faults", 2);
    finish_with_convergence(s);
}

// --- read-error-in-recovery-scan -----------------------------------------------------------------

// Finding F11: node 0 comes back from 100 s down into node recovery, and a step of its recovery
// scan (the certified blobs in blob info) fails once with EIO (scan-read-eio: fs-read-eio rarely
// reaches a scan, whose blocks the node's earlier reads have put in the block cache). Walrus
// (#3464, #3407) skips the error, and the iterator yields it again on every call: the task
// spins, node 0 never becomes Active. HEAD retries the pass after a backoff.
void read_error_in_recovery_scan(Scenario& s) {
    s.sleep(60_s);
    if (!crash_at_crash_point_and_wait(s, 0, 100_s)) {
        return;
    }
    const auto fired = arm_scan_read_error(s, 0, "certified blobs");
    if (!wait_fired(s, fired, "a step of node 0's recovery scan failed", 400_s)) {
        return;
    }
    const bool recovered = wait_recovered(s, 0, 400_s);
    report_node0_recovery(s);
    if (!recovered) {
        return;
    }
    finish_with_convergence(s);
}

// --- read-error-in-consistency-check ------------------------------------------------------------

// Node 0 is Active; a step of its next consistency check's scan of blob info fails once with
// EIO (scan-read-eio). Walrus's check runs in the background and logs the error: no digest for
// that epoch, and the node goes on (consistency_check.rs l.355-363, 470-476). It must not exit
// (before 1 December 2026 floe's model stopped the process at that error, as at most others),
// and it must report the next epoch's check as usual.
void read_error_in_consistency_check(Scenario& s) {
    s.sleep(40_s);
    const sim::HostId host = s.cluster().host(0);
    const auto fired = arm_scan_read_error(s, 0, "blob info");
    if (!wait_fired(s, fired, "a step of node 0's consistency check failed", 200_s)) {
        return;
    }
    const Epoch failed_at = s.epoch();
    if (!s.wait_until("two more epochs", 200_s, [&] { return s.epoch() >= failed_at + 2; })) {
        return;
    }
    const auto probes = s.sim().fail_points().hits("consistency_check_read_error", host);
    const auto exits = s.sim().fail_points().hits("node_exits_on_io_error", host);
    s.report("consistency_check_read_errors", static_cast<int64_t>(probes));
    s.check(probes == 1, "node 0's consistency check did not end at the read error");
    s.check(exits == 0, "node 0 exited at a read error of its consistency check (Walrus logs it)");
    s.check(s.status(0) == "Active", "node 0 is no longer Active");
    finish_with_convergence(s);
}

// --- read-error-in-gc-scan ----------------------------------------------------------------------

// As gc-during-recovery's workload: blobs that live two epochs and are often deleted.
void gc_storage_build(const Params& params, sim::Rng& rng, ClusterConfig& config) {
    storage_build(params, rng, config);
    config.client.max_lifetime = 1;
    config.client.deletable_share = 0.5;
    config.client.delete_probability = 0.3;
}

// A step of node 1's GC phase 2 scan of blob info fails once with EIO (scan-read-eio). Walrus
// logs it and its next batch reads again after the last blob processed (storage.rs
// iterate_and_delete_expired_blob_data): phase 2 goes on and completes, and the node does not
// exit (before 1 December 2026 floe's model stopped the process there).
void read_error_in_gc_scan(Scenario& s) {
    const NodeIndex node = 1;
    const sim::HostId host = s.cluster().host(node);
    const auto fired = arm_scan_read_error(s, node, "gc blob info");
    if (!wait_fired(s, fired, "a step of node 1's GC phase 2 scan failed", 300_s)) {
        return;
    }
    const uint64_t completed_before =
        s.sim().fail_points().hits("gc_set_last_completed_epoch", host);
    if (!s.wait_until("node 1's GC phase 2 completed after the error", 200_s, [&] {
            return s.sim().fail_points().hits("gc_set_last_completed_epoch", host) >
                   completed_before;
        })) {
        return;
    }
    const auto retries = s.sim().fail_points().hits("gc_phase2_scan_read_error", host);
    s.report("gc_scan_read_errors", static_cast<int64_t>(retries));
    s.check(retries == 1, "node 1's GC phase 2 did not read again after the read error");
    s.check(s.sim().fail_points().hits("node_exits_on_io_error", host) == 0,
            "node 1 exited at a read error of its GC phase 2 scan (Walrus logs it)");
    finish_with_convergence(s);
}

// --- read errors in a shard sync ------------------------------------------------------------

// Node 0 will gain shards: its stake is tripled for the next shapeable epoch, which this returns.
Epoch gain_shards_for_node0(Scenario& s, size_t& initial) {
    s.sleep(1_s);
    initial = owned_shard_count(s, 0);
    s.sleep(64_s);
    const Epoch gain = s.next_shapeable_epoch();
    s.stake(0, 3);
    return gain;
}

// Waits until node 0 owns more shards than `initial`, every one Ready.
bool wait_gained_shards_ready(Scenario& s, size_t initial, const std::string& what) {
    return s.wait_until(what, 400_s,
                        [&] { return owned_shard_count(s, 0) > initial && s.all_shards_ready(0); });
}

// Arms scan-read-eio at node 0 for its shard sync: a step of its transfer scans ("shard sync
// blobs") fails until an attempt has seen a read error (probe shard_sync_read_error). An iterator
// yields its error only when it is read again and an attempt can end before that (a source
// behind the epoch is retried plainly, with a new scan), so an error no attempt saw is injected
// again in the next scan; the gained shards' syncs start together, so several may meet one.
// With `in_direct_recovery`, a step of one direct recovery's scan ("direct recovery blobs")
// fails too.
void arm_shard_sync_read_errors(Scenario& s, bool in_direct_recovery) {
    walrus::Disk& disk = s.disk(0);
    s.mark(fmt::format("arm scan-read-eio at a step of node 0's shard-sync transfer scans{}",
                       in_direct_recovery ? ", then of one of its direct recoveries" : ""));
    auto direct_failed = std::make_shared<bool>(!in_direct_recovery);
    s.arm("scan-read-eio",
          sim::FailPointAction::inject_error()
              .only_on(s.cluster().host(0))
              .only_when([&s, &disk, direct_failed] {
                  if (!disk.in_scan_with_errors_to_caller) {
                      return false;
                  }
                  if (disk.scan_label == "shard sync blobs") {
                      return hits_on(s, "shard_sync_read_error", 0) == 0;
                  }
                  if (disk.scan_label == "direct recovery blobs" && !*direct_failed) {
                      *direct_failed = true;
                      return true;
                  }
                  return false;
              }));
}

// A step of node 0's transfer scan of a gained shard fails with EIO (scan-read-eio). In
// Walrus the iterator's error returns from the attempt as a storage error, which
// handle_sync_error sends to direct recovery (shard_sync.rs l.595-683): the shard is filled
// from the committee, and the node neither exits nor stops the sync (before 1 December 2026
// floe's model stopped the process there).
void read_error_in_shard_sync(Scenario& s) {
    size_t initial = 0;
    const Epoch gain = gain_shards_for_node0(s, initial);
    arm_shard_sync_read_errors(s, false);
    if (!s.wait_until("a read error ended an attempt of node 0's shard sync", 300_s,
                      [&] { return hits_on(s, "shard_sync_read_error", 0) > 0; })) {
        return;
    }
    if (!wait_gained_shards_ready(s, initial, "node 0 owns more shards, all Ready")) {
        return;
    }
    const uint64_t errors = hits_on(s, "shard_sync_read_error", 0);
    s.disarm("scan-read-eio");
    s.report("shard_sync_read_errors", static_cast<int64_t>(errors));
    const auto info = s.health(0);
    const uint64_t direct = info.has_value() ? info->direct_recoveries : 0;
    s.report("direct_recoveries", static_cast<int64_t>(direct));
    s.check(direct >= errors,
            "a shard sync of node 0 did not go on by direct recovery after a read error");
    s.check(hits_on(s, "node_exits_on_io_error", 0) == 0,
            "node 0 exited at a read error of its shard sync (Walrus logs it)");
    s.check(s.epoch() >= gain, "node 0 gained shards before the epoch it was staked for");
    finish_with_convergence(s);
}

// As read-error-in-shard-sync, and the direct recovery that follows meets a read error too (its
// scan of certified blobs). Walrus's handle_sync_error gives up then: "shard recovery also
// failed; stop shard sync", and the task ends with its entry left in the map (shard_sync.rs
// l.454-460, 669-678). The shard stays unsynced and the node attests nothing until it is
// restarted ("restart node to retry shard sync"), though both errors were transient and the
// node kept running (finding F12). The script checks exactly that, then restarts node 0 as an
// operator would: restart_syncs resumes the sync, and the cluster converges. With F12's fix
// (retry-stopped-shard-sync) the sync is retried and converges without a restart.
void read_errors_stop_shard_sync(Scenario& s) {
    size_t initial = 0;
    const Epoch gain = gain_shards_for_node0(s, initial);
    arm_shard_sync_read_errors(s, true);
    if (!s.wait_until("node 0's shard sync stopped for good after read errors", 300_s,
                      [&] { return hits_on(s, "shard_sync_failed_for_good", 0) > 0; })) {
        return;
    }
    s.disarm("scan-read-eio");
    if (s.cluster().config().node.old.retry_stopped_shard_sync) {
        // F12's fix: the stopped sync is retried after the maximum backoff, without a restart.
        if (!wait_gained_shards_ready(s, initial,
                                      "node 0 owns more shards, all Ready, with no restart")) {
            return;
        }
        finish_with_convergence(s);
        return;
    }
    s.sleep(120_s);  // Walrus waits for an operator; nothing retries meanwhile
    const auto statuses = s.shard_statuses(0);
    const auto unsynced = std::count_if(statuses.begin(), statuses.end(), [](const auto& st) {
        return st.ends_with(":InTransfer") || st.ends_with(":InRecovery");
    });
    s.report("shards_left_unsynced", static_cast<int64_t>(unsynced));
    s.check(unsynced > 0, "node 0 has no shard left unsynced after its shard sync stopped");
    s.check(!s.chain().has_attested(0, gain),
            fmt::format("node 0 attested epoch {} with a shard sync stopped", gain));
    s.check(hits_on(s, "node_exits_on_io_error", 0) == 0,
            "node 0 exited at a read error of its shard sync (Walrus logs it)");
    s.mark("an operator restarts node 0 ('restart node to retry shard sync')");
    s.sim().restart(s.cluster().host(0), 5_s);
    if (!wait_gained_shards_ready(s, initial,
                                  "node 0 owns more shards, all Ready, after the restart")) {
        return;
    }
    finish_with_convergence(s);
}

ScenarioSpec spec(std::string name, std::string description, std::string mirrors,
                  std::vector<std::string> catches,
                  std::function<void(const Params&, sim::Rng&, ClusterConfig&)> build,
                  std::function<void(Scenario&)> script, std::vector<std::string> fixed_by = {}) {
    return scripted_spec(std::move(name), std::move(description), std::move(mirrors),
                         std::move(build), std::move(script), storage_params(), std::move(catches),
                         std::move(fixed_by));
}

}  // namespace

std::vector<ScenarioSpec> storage_fault_scenarios() {
    return {
        spec("power-loss-during-recovery",
             "node 0 down 100 s; its recovery (checkpoint after every blob) loses power at a "
             "checkpoint write, then again mid-write after the restart: every resume must find "
             "the blobs below its checkpoint stored, and node 0 must converge",
             "PR #3407 (spec §9.3) under power loss (issue 16)", {"unlogged-sliver-writes"},
             checkpoint_storage_build, power_loss_during_recovery),
        spec("power-loss-during-shard-sync",
             "node 0 gains shards and loses power mid transfer, then as a shard sync finishes: "
             "no shard may end Ready with a blob missing",
             "spec §8 (shard sync progress) under power loss (issue 16)", {}, storage_build,
             power_loss_during_shard_sync),
        spec("power-loss-at-epoch-change",
             "node 0 gains shards and node 4 loses some; node 0 loses power between two steps "
             "of that epoch change's finisher and must complete it after the restart",
             "spec §7 (epoch change) under power loss (issue 16)", {}, storage_build,
             power_loss_at_epoch_change),
        spec("fsync-and-rename-failures",
             "node 0's MANIFEST / CURRENT / OPTIONS writes fail (fsync, rename, directory "
             "fsync) at a reboot and at an epoch change: the node must stop at once and come "
             "back (Walrus #1172)",
             "Walrus #1172; RocksDB's background-error handling (issue 16)", {}, storage_build,
             fsync_and_rename_failures),
        spec("read-error-in-recovery-scan",
             "node 0 comes back into node recovery and a read of its scan of certified blobs "
             "fails once (EIO): as Walrus (#3464, #3407) the task skips the error the iterator "
             "yields on every later call and spins, node 0 never becomes Active (finding F11); "
             "HEAD retries the pass",
             "Walrus node_recovery.rs (filter_map over certified_blob_info_iter_before_epoch), "
             "typed-store SafeIter; HEAD #3645",
             {}, storage_build, read_error_in_recovery_scan,
             {"recovery-scan-read-error-fails-pass"}),
        spec("read-error-in-consistency-check",
             "a read of Active node 0's consistency-check scan of blob info fails once (EIO): "
             "as Walrus, the check ends with the error logged and no report for the epoch, and "
             "the node goes on without exiting",
             "Walrus consistency_check.rs (certified_blob_consistency_check, "
             "handle_existence_check_result)",
             {}, storage_build, read_error_in_consistency_check),
        spec("read-error-in-gc-scan",
             "a read of node 1's GC phase 2 scan of blob info fails once (EIO): as Walrus, the "
             "error is logged, the scan reads again after the last blob read, phase 2 "
             "completes and the node goes on without exiting",
             "Walrus storage.rs (iterate_and_delete_expired_blob_data)", {}, gc_storage_build,
             read_error_in_gc_scan),
        spec("read-error-in-shard-sync",
             "node 0 gains shards and a read of its shard-sync scan of certified blobs fails "
             "once (EIO): as Walrus, the attempt ends with a storage error, the next is a "
             "direct recovery, the shards fill and the node goes on without exiting",
             "Walrus shard_sync.rs (handle_sync_error), storage/shard.rs "
             "(sync_shard_before_epoch_internal)",
             {}, storage_build, read_error_in_shard_sync),
        spec("read-errors-stop-shard-sync",
             "as read-error-in-shard-sync, and the direct recovery's scan fails once too: as "
             "Walrus, the shard sync stops for good, the shard stays unsynced and node 0 "
             "attests nothing until an operator restarts it; then it converges",
             "Walrus shard_sync.rs (handle_sync_error: Failed, 'restart node to retry shard "
             "sync')",
             {}, storage_build, read_errors_stop_shard_sync,
             {"head-attestation-rules", "retry-stopped-shard-sync"}),
    };
}

}  // namespace floe::scenarios
