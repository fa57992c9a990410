// Node recovery in the cluster (issue 5, walrus-recovery-spec.md §2.2, §7.5, §7.6, §9.5): node 0
// is down for three epoch changes and must come back through catch-up and recovery to Active
// with every shard Ready, under every checker.
#include <doctest/doctest.h>

#include "scenarios/cluster_scenario.h"

using floe::scenarios::ClusterScenarioReport;
using floe::scenarios::RecoveryCase;

namespace {

ClusterScenarioReport recover(RecoveryCase recovery, uint64_t seed,
                              walrus::OldBehaviours old = {}) {
    floe::scenarios::ClusterScenarioOptions options;
    options.seed = seed;
    options.epochs = 10;
    options.crashes = false;
    options.recovery = recovery;
    options.old = old;
    std::string error;
    auto report = floe::scenarios::run_cluster_scenario(options, error);
    REQUIRE(error.empty());
    return report;
}

}  // namespace

TEST_CASE("node recovery: down three epoch changes, back through catch-up and recovery") {
    const auto report = recover(RecoveryCase::long_down, 1);
    INFO(report.result.message);
    REQUIRE(report.result.passed());
    CHECK(report.node0_status == "Active");
    CHECK(report.recovery_task_starts >= 2);  // the delayed task was restarted by an epoch change
    CHECK(report.recovery_syncs_started > 0);
    CHECK(report.resumed_from_checkpoint == 0);
}

TEST_CASE("node recovery: a crash mid-recovery resumes from the checkpoint") {
    const auto report = recover(RecoveryCase::crash_during_recovery, 1);
    INFO(report.result.message);
    REQUIRE(report.result.passed());
    CHECK(report.node0_status == "Active");
    CHECK(report.resumed_from_checkpoint >= 1);
    CHECK(report.checkpoints_discarded == 0);
}

TEST_CASE("node recovery: a change of owned shards discards the checkpoint") {
    const auto report = recover(RecoveryCase::shard_change_discards, 1);
    INFO(report.result.message);
    REQUIRE(report.result.passed());
    CHECK(report.node0_status == "Active");
    CHECK(report.checkpoints_discarded >= 1);
    CHECK(report.recovering_path_hits >= 1);
    CHECK(report.node0_shards.size() > report.node0_initial_shards);
}

TEST_CASE("node recovery: shards gained while recovering are filled by shard sync") {
    const auto report = recover(RecoveryCase::gain_while_recovering, 1);
    INFO(report.result.message);
    REQUIRE(report.result.passed());
    CHECK(report.node0_status == "Active");
    CHECK(report.recovering_path_hits >= 1);
    CHECK(report.node0_shard_syncs_started > 0);
    CHECK(report.node0_shards.size() > report.node0_initial_shards);
}
