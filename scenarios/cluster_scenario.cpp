#include "scenarios/cluster_scenario.h"

#include <memory>

namespace floe::scenarios {

using namespace sim::time_literals;

const char* shard_gain_name(ShardGain gain) {
    switch (gain) {
        case ShardGain::none: return "none";
        case ShardGain::sources_up: return "sources-up";
        case ShardGain::source_crashed: return "source-crashed";
        case ShardGain::gainer_crashed: return "gainer-crashed";
    }
    FLOE_UNREACHABLE();
}

namespace {

// Arms the faults of a shard-gain variant; they fire only once node 0 syncs the gained shards
// (after the stake's committee took effect), never during the genesis syncs.
void arm_shard_gain_faults(sim::Simulation& sim, Cluster& cluster, ShardGain gain,
                           const std::shared_ptr<walrus::Epoch>& gain_epoch) {
    const sim::HostId gainer = cluster.host(0);
    if (gain == ShardGain::source_crashed) {
        auto fired = std::make_shared<bool>(false);
        sim.fail_points().arm(
            "fail_point_shard_sync_task_started",
            sim::FailPointAction::call([&sim, &cluster, fired, gain_epoch] {
                if (!*fired && *gain_epoch != 0 && cluster.chain().current_epoch() >= *gain_epoch) {
                    *fired = true;
                    sim.restart(cluster.host(4), sim::Duration::seconds(90));
                }
            }).only_on(gainer));
    }
    if (gain == ShardGain::gainer_crashed) {
        auto batches = std::make_shared<int>(0);
        sim.fail_points().arm(
            "fail_point_fetch_sliver",
            sim::FailPointAction::call([&sim, gainer, batches, gain_epoch, &cluster] {
                if (*gain_epoch != 0 && cluster.chain().current_epoch() >= *gain_epoch &&
                    ++*batches == 12) {
                    sim.restart(gainer, sim::Duration::seconds(5));
                }
            }).only_on(gainer));
    }
}

}  // namespace

ClusterScenarioReport run_cluster_scenario(const ClusterScenarioOptions& options,
                                           std::string& error) {
    ClusterScenarioReport report;
    if (options.epochs < 1 || options.epochs > 1000) {
        error = "epochs must be between 1 and 1000";
        return report;
    }
    sim::SimulationConfig config;
    config.seed = options.seed;
    config.time_limit = sim::Instant::zero() + sim::Duration::minutes(60 + options.epochs);
    sim::Simulation sim(config);
    if (!options.trace_path.empty()) {
        error = sim.trace().open_text(options.trace_path);
        if (!error.empty()) {
            return report;
        }
    }
    ClusterConfig cluster_config;
    cluster_config.node.blob_recovery.monitor_interval = 5_s;  // §14 test override
    cluster_config.data_dir = options.data_dir;
    if (options.shard_gain != ShardGain::none) {
        // The simtests' shard-sync overrides (§14): retry backoff 1-3 s; and a short no-progress
        // interval so a dead source switches the sync to direct recovery within the run.
        cluster_config.node.shard_sync.retry_min_backoff = 1_s;
        cluster_config.node.shard_sync.retry_max_backoff = 3_s;
        cluster_config.node.shard_sync.retry_switch_to_recovery_interval = 20_s;
        cluster_config.node.shard_sync.sliver_count_per_sync_request = 8;
    }
    Cluster cluster(sim, cluster_config);
    auto gain_epoch = std::make_shared<walrus::Epoch>(0);
    report.result = sim.run([&](sim::Runtime& world) {
        cluster.start();
        cluster.start_consistency_checker(world);
        if (options.shard_gain != ShardGain::none) {
            arm_shard_gain_faults(sim, cluster, options.shard_gain, gain_epoch);
            world.spawn("stake", [&world, &cluster, &options, gain_epoch] {
                world.sleep(options.stake_at);
                // Before voting_end of the current epoch the stake shapes the next committee,
                // otherwise the one after (§1.1).
                const auto& chain = cluster.chain();
                *gain_epoch = chain.current_epoch() +
                              (chain.state() == walrus::EpochState::change_sync ||
                                       chain.state() == walrus::EpochState::change_done
                                   ? 1
                                   : 2);
                cluster.chain_service().add_stake(0, 3);
            });
        }
        const sim::Instant end = world.now() + cluster_config.epoch_duration * options.epochs;
        if (options.crashes) {
            cluster.crash_nodes_randomly(world, end, CrashConfig{});
        }
        world.sleep_until(end);
        report.blobs_written = cluster.client()->stats().written;
        report.blobs_read = cluster.client()->stats().read;
        report.client_retries = cluster.client()->stats().retries;
        cluster.stop_workload();
        cluster.check_committees();
        cluster.check_converged(world, 300_s);
        const bool faults = options.crashes || options.shard_gain == ShardGain::source_crashed ||
                            options.shard_gain == ShardGain::gainer_crashed;
        if (!faults) {
            cluster.check_attestations_without_faults();
        }
        report.final_epoch = cluster.chain().current_epoch();
        if (auto health = cluster.health(world, 0)) {
            for (const auto& shard : health->owned_shards) {
                report.node0_shards.push_back(shard.shard);
            }
            report.node0_transferred = health->transferred_slivers;
            report.node0_recovered = health->recovered_slivers;
            report.node0_direct_recoveries = health->direct_recoveries;
        }
    });
    report.resumed_from_progress =
        sim.fail_points().hits("fail_point_shard_sync_resumed_from_progress");
    report.shard_sync_tasks_started = sim.fail_points().hits("fail_point_shard_sync_task_started");
    uint64_t restarts = 0;
    for (NodeIndex node = 0; node < cluster.size(); ++node) {
        // Each crash = one kill and one restart, two incarnation steps after the first boot.
        restarts += (sim.scheduler().incarnation(cluster.host(node)) - 1) / 2;
    }
    report.crashes = restarts;
    return report;
}

}  // namespace floe::scenarios
