// The four simtests of walrus-recovery-spec.md §13 ([#3464] versions), asserting what they
// assert. Where a simtest sleeps a fixed time and then asserts, floe waits up to that time
// (and fails as a liveness failure if the state is not reached): same property, no wasted
// virtual time, and the failure names what did not happen.
#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

// §13.1 and §13.4 step 1: in 20 % of runs a restrictive recovery concurrency of 1-3.
void maybe_restrict_recovery_concurrency(const Params& params, sim::Rng& rng,
                                         ClusterConfig& config) {
    if (rng.below(100) < static_cast<uint64_t>(params.integer("restrictive-concurrency-pct"))) {
        config.node.node_recovery.max_concurrent_blob_syncs_during_recovery =
            1 + static_cast<uint32_t>(rng.below(3));
    }
}

ParamSpec restrictive_concurrency_param() {
    return ParamSpec::integer("restrictive-concurrency-pct", 20, 0, 100,
                              "percent of seeds run with max_concurrent_blob_syncs_during_"
                              "recovery drawn from 1..3 (else 1000)");
}

// §13.1 steps 5-6, §13.2 step 5: node 0 Active with every owned shard Ready. The simtests sleep
// 180 s and then assert; floe checks the same state at the same deadline but stops waiting as
// soon as it holds.
bool expect_node0_recovered(Scenario& s, sim::Duration deadline) {
    const bool ok = wait_recovered(s, 0, deadline);
    report_node0_recovery(s);
    return ok;
}

// §13.1 test_long_node_recovery.
void long_node_recovery(Scenario& s) {
    s.sleep(60_s);
    // Step 3: the first recovery start anywhere sleeps (recovery longer than an epoch).
    s.arm("start_node_recovery_entry",
          sim::FailPointAction::sleep(s.duration("recovery-delay")).once());
    if (!crash_at_crash_point_and_wait(s, 0, s.duration("down")) ||
        !expect_node0_recovered(s, s.duration("deadline"))) {
        return;
    }
    finish_with_convergence(s);
}

// §13.2 test_recovery_in_progress_with_node_restart.
void recovery_in_progress_with_node_restart(Scenario& s) {
    s.sleep(60_s);
    s.arm("start_node_recovery_entry",
          sim::FailPointAction::sleep(s.duration("recovery-delay")).once());
    auto crashed = std::make_shared<bool>(false);
    const sim::HostId node0 = s.cluster().host(0);
    const sim::Duration down = s.duration("down");
    s.arm("fail_point_process_event", sim::FailPointAction::call([&s, crashed, node0, down] {
                                          if (!*crashed) {
                                              *crashed = true;
                                              s.sim().restart(node0, down);
                                          }
                                      }).only_on(node0));
    if (!s.wait_until("node 0 crashed at fail_point_process_event", 20_s,
                      [&] { return *crashed; })) {
        return;
    }
    s.disarm("fail_point_process_event");
    // Step 4: repeated crashes while the node catches up and recovers.
    s.crash_repeatedly(0, s.now() + s.duration("crash-window"), 1_s, 3_s, 5_s, 40_s);
    s.sleep(s.duration("crash-window"));
    s.disarm_crash_points();
    if (!expect_node0_recovered(s, s.duration("deadline"))) {
        return;
    }
    finish_with_convergence(s);
}

// §13.3 test_node_recovery_across_epoch_change_with_shard_gain, with its counters.
void recovery_across_epoch_change_with_shard_gain(Scenario& s) {
    s.sleep(60_s);
    const size_t initial_shards = owned_shard_count(s, 0);
    ShardSyncWatch syncs = watch_shard_syncs(s, 0);
    Counter recovering_path =
        s.counter("fail_point_shard_changes_in_new_epoch_while_recovering", 0);
    auto hold = hold_recovery(s, 0);
    if (!crash_at_crash_point_and_wait(s, 0, 60_s)) {
        return;
    }
    if (!s.wait_until("node 0 is RecoveryInProgress", 240_s,
                      [&] { return s.status_starts_with(0, "RecoveryInProgress"); })) {
        return;
    }
    s.stake(0, 3);
    if (!s.wait_until("node 0 started a shard sync for its gained shards", 240_s,
                      [&] { return syncs.started.value() > 0; })) {
        return;
    }
    *hold = false;
    s.mark("recovery released");
    if (!s.wait_until("node 0 is Active", 240_s, [&] { return s.status(0) == "Active"; })) {
        return;
    }
    s.report("shard_syncs_started", static_cast<int64_t>(syncs.started.value()));
    s.report("recovering_path_hits", static_cast<int64_t>(recovering_path.value()));
    s.check(recovering_path.value() > 0,
            "the epoch change while recovering (§7.6) never ran on node 0");
    s.check(*syncs.ordering_violation == 0,
            "node 0 started a recovery blob sync while a shard sync ran (§9.5 ordering)");
    s.check(owned_shard_count(s, 0) > initial_shards, "node 0 gained no shard");
    s.check(s.all_shards_ready(0), "a shard of node 0 is not Ready");
    finish_with_convergence(s);
}

// §13.4 test_lagging_node_recovery, #3407 version, made deterministic (the §13.4 caveat): the
// crash during recovery strikes at the 3rd recovery start_sync, after two blobs settled and
// were persisted (interval 1, one sync at a time), so the restarted task always finds a
// checkpoint to resume from.
void lagging_node_recovery(Scenario& s) {
    s.sleep(60_s);
    if (!crash_at_crash_point_and_wait(s, 0, s.duration("down"))) {
        return;
    }
    s.stake(0, 3);
    crash_at_nth_recovery_sync(s, 0, 3, 5_s);
    Counter resumed = s.counter("fail_point_node_recovery_resumed_from_checkpoint", 0);
    if (!expect_node0_recovered(s, s.duration("deadline"))) {
        return;
    }
    s.check(resumed.value() > 0, "node 0's recovery never resumed from its checkpoint");
    check_sole_owner_of_its_shards(s, 0);
    finish_with_convergence(s);
}

void checkpoint_every_blob(const Params&, sim::Rng&, ClusterConfig& config) {
    simtest_cluster(config);
    config.node.node_recovery.checkpoint_persist_interval = 1;
    config.node.node_recovery.max_concurrent_blob_syncs_during_recovery = 1;
}

}  // namespace

std::vector<ScenarioSpec> simtest_scenarios() {
    std::vector<ScenarioSpec> out;
    out.push_back(ScenarioSpec{
        .name = "long-node-recovery",
        .description = "node 0 crashes at its next DB write after 60 s and stays down 60 s; the "
                       "first recovery start sleeps 60 s, so an epoch change restarts it; node 0 "
                       "must come back Active with every shard Ready",
        .mirrors = "simtest test_long_node_recovery (spec §13.1)",
        .params = {restrictive_concurrency_param(),
                   ParamSpec::duration("down", 60_s, 1_s, 1800_s, "how long node 0 stays down"),
                   ParamSpec::duration("recovery-delay", 60_s, 0_s, 1800_s,
                                       "sleep at the first start_node_recovery_entry"),
                   ParamSpec::duration("deadline", 180_s, 10_s, 7200_s,
                                       "time after the crash for node 0 to be Active")},
        .catches = {},
        .fixed_by = {},
        .build =
            [](const Params& params, sim::Rng& rng, ClusterConfig& config) {
                simtest_cluster(config);
                maybe_restrict_recovery_concurrency(params, rng, config);
            },
        .script = long_node_recovery,
    });
    out.push_back(ScenarioSpec{
        .name = "recovery-in-progress-with-node-restart",
        .description = "node 0 crashes at fail_point_process_event for 60 s, then crashes again "
                       "and again (down 1-3 s, up 5-40 s) for 2 minutes while it catches up and "
                       "recovers; it must not get stuck",
        .mirrors = "simtest test_recovery_in_progress_with_node_restart (spec §13.2)",
        .params = {ParamSpec::duration("down", 60_s, 1_s, 1800_s, "the first crash's downtime"),
                   ParamSpec::duration("recovery-delay", 60_s, 0_s, 1800_s,
                                       "sleep at the first start_node_recovery_entry"),
                   ParamSpec::duration("crash-window", 120_s, 0_s, 3600_s,
                                       "how long the repeated crashes go on"),
                   ParamSpec::duration("deadline", 180_s, 10_s, 7200_s,
                                       "time after the crash window for node 0 to be Active")},
        .catches = {},
        .fixed_by = {},
        .build = [](const Params&, sim::Rng&, ClusterConfig& config) { simtest_cluster(config); },
        .script = recovery_in_progress_with_node_restart,
    });
    out.push_back(ScenarioSpec{
        .name = "node-recovery-across-epoch-change-with-shard-gain",
        .description = "node 0 recovers with its recovery task held; a stake move gives it "
                       "shards at an epoch change it processes while recovering: they must be "
                       "shard-synced from their previous owners (recovering path hit) and no "
                       "recovery blob sync may start while a shard sync runs",
        .mirrors = "simtest test_node_recovery_across_epoch_change_with_shard_gain (spec §13.3, "
                   "PR #3464)",
        .params = {},
        .catches = {"force-active-gained-shards"},
        .fixed_by = {},
        .build = [](const Params&, sim::Rng&, ClusterConfig& config) { simtest_cluster(config); },
        .script = recovery_across_epoch_change_with_shard_gain,
    });
    out.push_back(ScenarioSpec{
        .name = "lagging-node-recovery",
        .description = "node 0 down 120 s while a stake move gives it shards; it crashes again "
                       "at its 3rd recovery blob sync and must resume from its checkpoint; it "
                       "ends Active and the sole owner of its shards",
        .mirrors = "simtest test_lagging_node_recovery (spec §13.4, PR #3407), deterministic",
        .params = {ParamSpec::duration("down", 120_s, 1_s, 1800_s, "how long node 0 stays down"),
                   ParamSpec::duration("deadline", 300_s, 10_s, 7200_s,
                                       "time after the stake for node 0 to be Active")},
        .catches = {"rescan-recovery"},
        .fixed_by = {},
        .build = checkpoint_every_blob,
        .script = lagging_node_recovery,
    });
    return out;
}

}  // namespace floe::scenarios
