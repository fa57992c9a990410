#include "scenarios/cluster_scenario.h"

#include <memory>
#include <sstream>

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

const char* recovery_case_name(RecoveryCase recovery) {
    switch (recovery) {
        case RecoveryCase::none: return "none";
        case RecoveryCase::long_down: return "long-down";
        case RecoveryCase::crash_during_recovery: return "crash-during-recovery";
        case RecoveryCase::shard_change_discards: return "shard-change-discards";
        case RecoveryCase::gain_while_recovering: return "gain-while-recovering";
        case RecoveryCase::shared_sync_waiter: return "shared-sync-waiter";
        case RecoveryCase::readiness_window: return "readiness-window";
        case RecoveryCase::leaves_committee: return "leaves-committee";
        case RecoveryCase::joins_committee: return "joins-committee";
        case RecoveryCase::shard_sync_fails: return "shard-sync-fails";
    }
    FLOE_UNREACHABLE();
}

const std::vector<RecoveryCase>& all_recovery_cases() {
    static const std::vector<RecoveryCase> cases = {
        RecoveryCase::none,
        RecoveryCase::long_down,
        RecoveryCase::crash_during_recovery,
        RecoveryCase::shard_change_discards,
        RecoveryCase::gain_while_recovering,
        RecoveryCase::shared_sync_waiter,
        RecoveryCase::readiness_window,
        RecoveryCase::leaves_committee,
        RecoveryCase::joins_committee,
        RecoveryCase::shard_sync_fails,
    };
    return cases;
}

std::optional<RecoveryCase> parse_recovery_case(std::string_view name) {
    for (RecoveryCase c : all_recovery_cases()) {
        if (name == recovery_case_name(c)) {
            return c;
        }
    }
    return std::nullopt;
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

// The recovery cases' driver, on the world host. Node 0 crashes at its next crash fail point
// after 60 s of workload and stays down for 100 s (three epoch changes at 30 s epochs), so it
// restarts lagging (§2.2) and goes RecoveryCatchUp → RecoveryInProgress(E) → Active.
class RecoveryDriver {
public:
    RecoveryDriver(sim::Simulation& sim, Cluster& cluster, RecoveryCase recovery,
                   ClusterScenarioReport& report)
        : sim_(sim), cluster_(cluster), recovery_(recovery), report_(report) {}

    void run(sim::Runtime& world) {
        if (recovery_ == RecoveryCase::shard_sync_fails) {
            shard_sync_fails(world);
            return;
        }
        if (recovery_ == RecoveryCase::joins_committee) {
            joins_committee(world);
            return;
        }
        world.sleep(60_s);
        if (recovery_ == RecoveryCase::leaves_committee) {
            cluster_.chain_service().withdraw_stake(0, cluster_.chain().stake(0));
        }
        if (auto health = cluster_.health(world, 0)) {
            report_.node0_initial_shards = health->owned_shards.size();
        }
        count_shard_syncs();
        if (recovery_ == RecoveryCase::long_down) {
            // §13.1: the first recovery start anywhere sleeps 60 s (longer than an epoch).
            sim_.fail_points().arm("start_node_recovery_entry",
                                   sim::FailPointAction::sleep(60_s).once());
        }
        if (recovery_ == RecoveryCase::crash_during_recovery ||
            recovery_ == RecoveryCase::shard_change_discards) {
            arm_crash_at_third_recovery_sync();
        }
        if (recovery_ == RecoveryCase::gain_while_recovering ||
            recovery_ == RecoveryCase::shared_sync_waiter ||
            recovery_ == RecoveryCase::readiness_window) {
            hold_recovery_ = true;
            sim_.fail_points().arm(
                "start_node_recovery_entry",
                sim::FailPointAction::hold_until([this] { return !hold_recovery_; }, 1_s)
                    .only_on(node0()));
        }
        crash_node0_once(100_s);
        if (recovery_ == RecoveryCase::gain_while_recovering) {
            gain_while_recovering(world);
        }
        if (recovery_ == RecoveryCase::shared_sync_waiter) {
            shared_sync_waiter(world);
        }
        if (recovery_ == RecoveryCase::readiness_window) {
            readiness_window(world);
        }
    }

    // What the node-side assertion of WAL-1271 guards, seen from the chain: did node 0 attest an
    // epoch that started after its shard sync failed?
    void record_attestations_after_failure() {
        const auto& chain = cluster_.chain();
        for (Epoch epoch = failure_epoch_ + 1; epoch <= chain.current_epoch(); ++epoch) {
            report_.node0_attested_after_failure =
                report_.node0_attested_after_failure || chain.has_attested(0, epoch);
        }
    }

private:
    sim::HostId node0() const { return cluster_.host(0); }

    void crash_node0_once(sim::Duration down) {
        auto fired = std::make_shared<bool>(false);
        for (const std::string& name : crash_node_fail_points) {
            sim_.fail_points().arm(name, sim::FailPointAction::call([this, fired, down] {
                                             if (!*fired) {
                                                 *fired = true;
                                                 sim_.restart(node0(), down);
                                             }
                                         }).only_on(node0()));
        }
    }

    // §13.3's counter on node 0: shard syncs started after the stake. (Its ordering check, a
    // recovery start_sync while a shard sync runs, is the node's own invariant-15 assertion.)
    void count_shard_syncs() {
        sim_.fail_points().arm("fail_point_shard_sync_task_started",
                               sim::FailPointAction::call([this] {
                                   if (staked_) {
                                       ++report_.node0_shard_syncs_started;
                                   }
                               }).only_on(node0()));
    }

    // §13.4 (#3407), made deterministic: the crash strikes at the 3rd recovery start_sync of
    // node 0, after two blobs settled and were persisted (interval 1, one sync at a time).
    void arm_crash_at_third_recovery_sync() {
        sim_.fail_points().arm("fail_point_node_recovery_start_sync",
                               sim::FailPointAction::call([this] {
                                   if (++recovery_syncs_ != 3) {
                                       return;
                                   }
                                   if (recovery_ == RecoveryCase::shard_change_discards) {
                                       stake_and_hold_restart();
                                   }
                                   sim_.restart(node0(), 5_s);
                               }).only_on(node0()));
    }

    // The stake gives node 0 shards at a later committee; its restarted recovery task is held
    // until the epoch change while recovering (§7.6) ran, so it compares a different owned set.
    void stake_and_hold_restart() {
        cluster_.chain_service().add_stake(0, 3);
        staked_ = true;
        sim_.fail_points().arm("start_node_recovery_entry",
                               sim::FailPointAction::hold_until(
                                   [this] {
                                       return sim_.fail_points().hits(
                                                  "fail_point_shard_changes_in_new_epoch_"
                                                  "while_recovering",
                                                  node0()) > 0;
                                   },
                                   1_s)
                                   .only_on(node0()));
    }

    template <class Predicate>
    static bool wait_until(sim::Runtime& world, Predicate predicate) {
        const sim::Instant deadline = world.now() + 240_s;
        while (!predicate() && world.now() < deadline) {
            world.sleep(1_s);
        }
        return predicate();
    }
    bool wait_until_recovering(sim::Runtime& world) {
        const bool recovering = wait_until(world, [&] {
            auto health = cluster_.health(world, 0);
            return health.has_value() && health->node_status.rfind("RecoveryInProgress", 0) == 0;
        });
        if (!recovering) {
            sim_.fail(sim::FailureClass::liveness, "node 0 never reached RecoveryInProgress");
        }
        return recovering;
    }
    // The next committee a stake move made now can shape (§1.1: before voting_end of the
    // current epoch it is the next one, otherwise the one after).
    Epoch stake_for_gain() {
        const auto& chain = cluster_.chain();
        const Epoch gain =
            chain.current_epoch() + (chain.state() == walrus::EpochState::change_sync ||
                                             chain.state() == walrus::EpochState::change_done
                                         ? 1
                                         : 2);
        cluster_.chain_service().add_stake(0, 3);
        staked_ = true;
        return gain;
    }

    // #3412: extend the newest non-deletable blob certified while node 0 was down (it lacks
    // it); node 0's event path syncs it, slowly (every sliver put sleeps 20 s for a while), and
    // the released recovery task subscribes to that same sync.
    void shared_sync_waiter(sim::Runtime& world) {
        if (!wait_until_recovering(world)) {
            return;
        }
        sim_.fail_points().arm("fail_point_recover_sliver_before_put_sliver",
                               sim::FailPointAction::sleep(20_s).only_on(node0()));
        const std::optional<walrus::BlobId> target =
            extend_recently_certified_blob(cluster_.chain());
        if (!target.has_value()) {
            sim_.fail(sim::FailureClass::liveness, "no blob to extend for the shared waiter");
            return;
        }
        world.sleep(2_s);  // node 0's event path starts its sync and sleeps before the put
        hold_recovery_ = false;
        world.sleep(10_s);
        sim_.fail_points().disarm("fail_point_recover_sliver_before_put_sliver");
        // The sync ended about 20 s after the extension. A recovery waiter of that blob still
        // blocked now is a lost wake-up (unless an epoch change restarted the task meanwhile).
        world.sleep(15_s);
        const std::string needle = "'recovery-wait " + target->short_hex() + "'";
        std::istringstream blocked(sim_.scheduler().describe_blocked_fibers());
        for (std::string line; std::getline(blocked, line);) {
            if (line.find(needle) != std::string::npos &&
                line.find("on host node0") != std::string::npos) {
                report_.stuck_sync_waiters.push_back(line);
            }
        }
    }

    // #3453: node 0 is recovering (held) when a stake gives it shards at epoch G. It goes down
    // 10 s into epoch G-1 for 25 s, so it restarts with the latest committee at G, one epoch
    // behind (not lagging), and processes EpochChangeStart(G) 20 s late. Meanwhile its released
    // recovery task sees owned shards that do not exist yet.
    void readiness_window(sim::Runtime& world) {
        if (!wait_until_recovering(world)) {
            return;
        }
        const Epoch gain = stake_for_gain();
        const auto& chain = cluster_.chain();
        if (!wait_until(world, [&] { return chain.current_epoch() + 1 >= gain; })) {
            sim_.fail(sim::FailureClass::liveness, "the chain never reached the gain epoch");
            return;
        }
        world.sleep(10_s);
        sim_.fail_points().arm("epoch_change_start_entry",
                               sim::FailPointAction::sleep(20_s).once().only_on(node0()));
        hold_recovery_ = false;
        sim_.restart(node0(), 25_s);
    }

    // T5: node 0 leaves the committee at epoch 2 (withdrawn before voting_end of epoch 1) and
    // runs as Standby; it is killed at its first crash point after 60 s (epoch K) and staked
    // again at K+1. It starts again once the epoch G >= K+2 that gives it a shard is current:
    // lagging, it catches up to G, where it is a member and was not one at G-1.
    void joins_committee(sim::Runtime& world) {
        cluster_.chain_service().withdraw_stake(0, cluster_.chain().stake(0));
        world.sleep(60_s);
        auto killed_in = std::make_shared<Epoch>(0);
        for (const std::string& name : crash_node_fail_points) {
            sim_.fail_points().arm(name, sim::FailPointAction::call([this, killed_in] {
                                             if (*killed_in == 0) {
                                                 *killed_in = cluster_.chain().current_epoch();
                                                 sim_.kill(node0());
                                             }
                                         }).only_on(node0()));
        }
        if (!wait_until(world, [&] { return *killed_in != 0; })) {
            sim_.fail(sim::FailureClass::liveness, "node 0 never reached a crash point");
            return;
        }
        for (const std::string& name : crash_node_fail_points) {
            sim_.fail_points().disarm(name);
        }
        // Staked one epoch change after the kill, the first committee with node 0 is at least
        // two epochs past the one it was killed in.
        const auto& chain = cluster_.chain();
        if (!wait_until(world, [&] { return chain.current_epoch() > *killed_in; })) {
            sim_.fail(sim::FailureClass::liveness, "no epoch change after node 0 was killed");
            return;
        }
        cluster_.chain_service().add_stake(0, 1);
        if (!wait_until(world, [&] { return chain.current_committee().contains(0); })) {
            sim_.fail(sim::FailureClass::liveness, "node 0 never got its shard back");
            return;
        }
        sim_.start(node0());
    }

    // WAL-1271: the first transfer batch of node 0's gained shards fails and the sync gives up.
    void shard_sync_fails(sim::Runtime& world) {
        arm_terminal_shard_sync_failure(sim_, node0());
        world.sleep(65_s);
        (void)stake_for_gain();
        while (sim_.fail_points().fires("fail_point_after_start_recovery") == 0) {
            world.sleep(1_s);
        }
        failure_epoch_ = cluster_.chain().current_epoch();
    }

    // §13.3 steps 5-9.
    void gain_while_recovering(sim::Runtime& world) {
        if (!wait_until_recovering(world)) {
            return;
        }
        (void)stake_for_gain();
        if (!wait_until(world, [&] { return report_.node0_shard_syncs_started > 0; })) {
            sim_.fail(sim::FailureClass::liveness, "node 0 never started a shard sync");
            return;
        }
        hold_recovery_ = false;
    }

    sim::Simulation& sim_;
    Cluster& cluster_;
    RecoveryCase recovery_;
    ClusterScenarioReport& report_;
    int recovery_syncs_ = 0;
    bool hold_recovery_ = false;
    bool staked_ = false;
    Epoch failure_epoch_ = 0;

public:
    void finish(sim::Runtime& world) {
        if (recovery_ == RecoveryCase::shard_sync_fails) {
            record_attestations_after_failure();
            if (auto health = cluster_.health(world, 0)) {
                for (const auto& shard : health->owned_shards) {
                    report_.node0_shard_api_status.push_back(shard.api_status);
                }
            }
        }
    }
};

void count_recovery(sim::Simulation& sim, sim::HostId node0, ClusterScenarioReport& report) {
    sim::FailPoints& points = sim.fail_points();
    report.entered_catch_up = points.hits("fail-point-enter-recovery-mode", node0);
    report.recovery_task_starts = points.hits("start_node_recovery_entry", node0);
    report.recovery_syncs_started = points.hits("fail_point_node_recovery_start_sync", node0);
    report.recovery_blobs_scanned = points.hits("node_recovery_scan_blob", node0);
    report.resumed_from_checkpoint =
        points.hits("fail_point_node_recovery_resumed_from_checkpoint", node0);
    report.checkpoints_discarded = points.hits("node_recovery_checkpoint_discarded", node0);
    report.recovering_path_hits =
        points.hits("fail_point_shard_changes_in_new_epoch_while_recovering", node0);
    report.readiness_waits = points.hits("node_recovery_shard_not_ready", node0);
    report.catch_up_exits_not_member = points.hits("catch_up_exit_not_member", node0);
    report.catch_up_exits_new_member = points.hits("catch_up_exit_new_member", node0);
    report.catch_up_exits_continuing = points.hits("catch_up_exit_continuing_member", node0);
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
    cluster_config.node.old = options.old;
    if (options.recovery == RecoveryCase::crash_during_recovery ||
        options.recovery == RecoveryCase::shard_change_discards) {
        // #3407's version of §13.4: persist after every settled blob; one sync at a time, so
        // the 3rd start_sync comes after two settled blobs.
        cluster_config.node.node_recovery.checkpoint_persist_interval = 1;
        cluster_config.node.node_recovery.max_concurrent_blob_syncs_during_recovery = 1;
    }
    if (options.shard_gain != ShardGain::none || options.recovery != RecoveryCase::none) {
        // The simtests' shard-sync overrides (§14): retry backoff 1-3 s; and a short no-progress
        // interval so a dead source switches the sync to direct recovery within the run.
        cluster_config.node.shard_sync.retry_min_backoff = 1_s;
        cluster_config.node.shard_sync.retry_max_backoff = 3_s;
        cluster_config.node.shard_sync.retry_switch_to_recovery_interval = 20_s;
        cluster_config.node.shard_sync.sliver_count_per_sync_request = 8;
    }
    Cluster cluster(sim, cluster_config);
    auto gain_epoch = std::make_shared<walrus::Epoch>(0);
    RecoveryDriver recovery(sim, cluster, options.recovery, report);
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
        if (options.recovery != RecoveryCase::none) {
            world.spawn("node-recovery-case", [&world, &recovery] { recovery.run(world); });
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
        if (options.recovery == RecoveryCase::shard_sync_fails) {
            // The failed shard stays InTransfer for good (§16 item 4): no convergence to wait
            // for. What must hold is that node 0 stops attesting.
            world.sleep(60_s);
            recovery.finish(world);
        } else {
            cluster.check_converged(world, 300_s);
        }
        const bool faults = options.crashes || options.shard_gain == ShardGain::source_crashed ||
                            options.shard_gain == ShardGain::gainer_crashed ||
                            options.recovery != RecoveryCase::none;
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
            report.node0_status = health->node_status;
        }
    });
    report.resumed_from_progress =
        sim.fail_points().hits("fail_point_shard_sync_resumed_from_progress");
    report.shard_sync_tasks_started = sim.fail_points().hits("fail_point_shard_sync_task_started");
    count_recovery(sim, cluster.host(0), report);
    uint64_t restarts = 0;
    for (NodeIndex node = 0; node < cluster.size(); ++node) {
        // Each crash = one kill and one restart, two incarnation steps after the first boot.
        restarts += (sim.scheduler().incarnation(cluster.host(node)) - 1) / 2;
    }
    report.crashes = restarts;
    return report;
}

}  // namespace floe::scenarios
