#include "scenarios/cluster_scenario.h"

namespace floe::scenarios {

using namespace sim::time_literals;

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
    Cluster cluster(sim, cluster_config);
    report.result = sim.run([&](sim::Runtime& world) {
        cluster.start();
        cluster.start_consistency_checker(world);
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
        report.final_epoch = cluster.chain().current_epoch();
    });
    uint64_t restarts = 0;
    for (NodeIndex node = 0; node < cluster.size(); ++node) {
        // Each crash = one kill and one restart, two incarnation steps after the first boot.
        restarts += (sim.scheduler().incarnation(cluster.host(node)) - 1) / 2;
    }
    report.crashes = restarts;
    return report;
}

}  // namespace floe::scenarios
