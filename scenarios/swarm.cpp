// swarm: the seed draws the cluster (size, weights, shards, epoch length), the workload pace and
// a fault mix (crashes at the crash fail points or at once, partitions, message loss, latency
// spikes, stake moves that gain and lose shards), kept within the fault budget: at most f
// shards' worth of nodes down or cut off at once (f = (n_shards - 1) / 3). Then a liveness
// phase heals every fault and every node must converge within a virtual deadline. Every
// checker is on throughout (swarm testing: a different mix per seed finds what one fixed mix
// never does).
#include <algorithm>
#include <array>
#include <cmath>

#include "scenarios/buggify.h"
#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

struct FaultMix {
    bool crashes = false;
    bool storage = false;  // some crashes are storage faults (drawn from "storage-faults")
    bool partitions = false;
    bool loss = false;
    bool latency = false;
    bool stake_moves = false;
};

// The workload's mix (§4.1): permanent or deletable, how many epochs ahead a blob is paid for,
// extensions, deletions, and inconsistently encoded blobs that nodes must invalidate.
void draw_workload_mix(sim::Rng& rng, walrus::ClientConfig& client) {
    constexpr std::array<double, 4> deletable_shares = {0.0, 0.25, 0.5, 0.9};
    constexpr std::array<double, 3> op_probabilities = {0.0, 0.1, 0.3};
    constexpr std::array<double, 3> invalid_shares = {0.0, 0.02, 0.05};
    client.deletable_share = deletable_shares[rng.below(deletable_shares.size())];
    client.extend_probability = op_probabilities[rng.below(op_probabilities.size())];
    client.delete_probability = op_probabilities[rng.below(op_probabilities.size())];
    client.max_lifetime = 1 + static_cast<walrus::Epoch>(rng.below(8));
    client.invalid_share = invalid_shares[rng.below(invalid_shares.size())];
}

void swarm_build(const Params&, sim::Rng& rng, ClusterConfig& config) {
    const size_t nodes = 4 + rng.below(4);  // 4..7
    config.weights.clear();
    for (size_t i = 0; i < nodes; ++i) {
        config.weights.push_back(1 + rng.below(5));
    }
    config.n_shards = static_cast<uint32_t>(std::max<uint64_t>(nodes, 10 + rng.below(11)));
    config.epoch_duration = sim::Duration::seconds(static_cast<int64_t>(20 + rng.below(41)));
    config.client.pace = sim::Duration::millis(static_cast<int64_t>(100 + rng.below(900)));
    config.node.blob_recovery.monitor_interval = 5_s;
    config.node.shard_sync.retry_min_backoff = 1_s;
    config.node.shard_sync.retry_max_backoff = 3_s;
    config.node.shard_sync.retry_switch_to_recovery_interval = 20_s;
    config.node.shard_sync.sliver_count_per_sync_request = 8;
    if (rng.below(5) == 0) {
        config.node.node_recovery.max_concurrent_blob_syncs_during_recovery =
            1 + static_cast<uint32_t>(rng.below(3));
    }
    if (rng.below(2) == 0) {
        config.node.node_recovery.checkpoint_persist_interval =
            1 + static_cast<uint32_t>(rng.below(10));
    }
    draw_workload_mix(rng, config.client);
}

class Swarm {
public:
    explicit Swarm(Scenario& s) : s_(s), default_link_(s.sim().net().default_link()) {
        sim::Rng& rng = s_.rng();
        mix_.crashes = rng.below(100) < 85;
        mix_.partitions = rng.below(100) < 40;
        mix_.loss = rng.below(100) < 30;
        mix_.latency = rng.below(100) < 30;
        mix_.stake_moves = rng.below(100) < 50;
        // Storage faults draw from a stream of their own, so that storage-faults=off runs the
        // very swarm of earlier floe versions, seed for seed.
        if (s_.cluster().storage_faults() != StorageFaultMode::off) {
            mix_.storage = s_.stream("storage-faults").below(100) < 70;
            s_.report("mix_storage", mix_.storage);
        }
        s_.report("nodes", static_cast<int64_t>(s_.cluster().size()));
        s_.report("shards", s_.cluster().n_shards());
        s_.report("mix_crashes", mix_.crashes);
        s_.report("mix_partitions", mix_.partitions);
        s_.report("mix_loss", mix_.loss);
        s_.report("mix_latency", mix_.latency);
        s_.report("mix_stake_moves", mix_.stake_moves);
        const walrus::ClientConfig& client = s_.cluster().config().client;
        constexpr double percent = 100.0;
        s_.report("mix_deletable_pct", std::lround(client.deletable_share * percent));
        s_.report("mix_extend_pct", std::lround(client.extend_probability * percent));
        s_.report("mix_delete_pct", std::lround(client.delete_probability * percent));
        s_.report("mix_max_lifetime", client.max_lifetime);
        s_.report("mix_invalid_pct", std::lround(client.invalid_share * percent));
    }

    void run(sim::Instant until) {
        if (const FaultSchedule* schedule = s_.replay()) {
            play(*schedule, until);
            return;
        }
        while (s_.now() < until) {
            s_.sleep(s_.rng().uniform(5_s, 30_s));
            end_expired_faults();
            inject_one();
        }
        s_.report("faults", faults_);
    }

    // Replays a fault schedule (scenarios/fault_schedule.h): no draws, no fault of the swarm's
    // own; each event again at its time, through the same code. The fail-point swarm's choices
    // were installed by start_buggify.
    void play(const FaultSchedule& schedule, sim::Instant until) {
        for (const FaultEvent& event : schedule.events) {
            if (event.kind == "buggify") {
                continue;
            }
            if (event.at > s_.now()) {
                s_.sleep(event.at - s_.now());
            }
            s_.record_replayed(event);
            apply(event);
        }
        if (until > s_.now()) {
            s_.sleep(until - s_.now());
        }
        s_.report("faults", faults_);
    }

    // The liveness phase: every fault healed, every node up.
    void heal_everything() {
        stop_buggify(s_);
        s_.disarm_crash_points();
        end_network_faults();
        for (NodeIndex node : s_.all_nodes()) {
            s_.restart(node);
        }
    }

private:
    // A fault the swarm injects now: recorded (when the run records), then applied.
    void inject(FaultEvent event) {
        (void)s_.admit(event);
        apply(event);
    }

    void apply(const FaultEvent& event) {
        const Scenario::DriverInjecting driver(s_);
        const auto node = static_cast<NodeIndex>(event.node.value_or(0));
        if (event.kind != "heal") {
            ++faults_;
        }
        if (event.kind == "crash") {
            s_.crash(node, event.down);
        } else if (event.kind == "crash_at_crash_point") {
            // At the node's next DB write or event: crash consistency (§11).
            auto fired = s_.crash_at_next_crash_point(node, event.down);
            s_.wait_until_or_timeout(10_s, [&] { return *fired; });
            s_.disarm_crash_points();
        } else if (event.kind == "power_loss") {
            s_.power_loss(node, event.down, event.tear);
        } else if (event.kind == "power_loss_at_crash_point") {
            wait_then_disarm(s_.power_loss_at_next_crash_point(node, event.down, event.tear), {});
        } else if (event.kind == "power_loss_at_wal_write") {
            s_.mark(fmt::format("power loss at node{}'s WAL write #{}", node, event.nth));
            wait_then_disarm(power_loss_at_nth_wal_write(s_, node, event.nth, event.down,
                                                         event.tear, [] { return true; }),
                             "fs-write-eio");
        } else if (event.kind == "io_error") {
            io_error(node, event.point);
        } else if (event.kind == "lying_disk") {
            lying_disk_then_power_loss(node, event.down, event.tear);
        } else if (event.kind == "partition") {
            isolated_node_ = node;
            s_.set_isolated(node);
            network_fault_ends_ = s_.now() + event.length;
            s_.partition({node});
        } else if (event.kind == "degrade") {
            degrade(event);
        } else if (event.kind == "stake") {
            s_.stake(node, event.amount);
        } else if (event.kind == "withdraw") {
            s_.withdraw(node, event.amount);
        } else if (event.kind == "heal") {
            end_network_faults();
        } else {
            FLOE_UNREACHABLE("the swarm cannot replay a '{}' fault", event.kind);
        }
    }

    static FaultEvent event_of(std::string kind, std::optional<NodeIndex> node,
                               sim::Duration down = {}) {
        FaultEvent event;
        event.kind = std::move(kind);
        if (node.has_value()) {
            event.node = static_cast<uint32_t>(*node);
        }
        event.down = down;
        return event;
    }

    bool is_isolated(NodeIndex node) const { return s_.is_isolated(node); }
    bool within_budget(NodeIndex candidate) { return s_.within_fault_budget(candidate); }

    void inject_one() {
        sim::Rng& rng = s_.rng();
        switch (rng.below(5)) {
            case 0:
            case 1: crash(rng); break;
            case 2: partition(rng); break;
            case 3: network(rng); break;
            default: move_stake(rng); break;
        }
    }

    void crash(sim::Rng& rng) {
        if (!mix_.crashes) {
            return;
        }
        const NodeIndex node = s_.random_node();
        if (!s_.is_up(node) || is_isolated(node) || !within_budget(node)) {
            return;
        }
        const sim::Duration down = rng.uniform(1_s, 40_s);
        const bool at_once = rng.below(2) == 0;
        if (storage_fault_instead(node, down, at_once)) {
            return;
        }
        inject(event_of(at_once ? "crash" : "crash_at_crash_point", node, down));
    }

    // Instead of a crash, maybe a storage fault: a power loss (now, at the next crash point, or
    // in the middle of a WAL write; within the data-loss budget), or an I/O error that stops the
    // node's process (it restarts 10 s later). Unbounded runs also get lying fsyncs.
    bool storage_fault_instead(NodeIndex node, sim::Duration down, bool at_once) {
        if (!mix_.storage) {
            return false;
        }
        sim::Rng& rng = s_.stream("storage-faults");
        const bool unbounded = s_.cluster().storage_faults() == StorageFaultMode::unbounded;
        const uint64_t kind = rng.below(unbounded ? 5 : 4);
        if (kind == 0 || ((kind == 1 || kind == 2 || kind == 4) && !s_.may_lose_data(node))) {
            return false;  // a plain crash
        }
        const bool tear = rng.below(2) == 0;
        FaultEvent event = event_of("", node, down);
        event.tear = tear;
        switch (kind) {
            case 1: event.kind = at_once ? "power_loss" : "power_loss_at_crash_point"; break;
            case 2:
                event.kind = "power_loss_at_wal_write";
                event.nth = 1 + rng.below(50);
                break;
            case 3:
                event.kind = "io_error";
                event.point = io_error_points()[rng.below(io_error_points().size())];
                break;
            default: event.kind = "lying_disk"; break;
        }
        inject(event);
        return true;
    }

    void wait_then_disarm(const std::shared_ptr<bool>& fired, const std::string& point) {
        s_.wait_until_or_timeout(20_s, [&] { return *fired; });
        if (point.empty()) {
            s_.disarm_crash_points();
        } else {
            s_.disarm(point);
        }
    }

    static const std::vector<std::string>& io_error_points() {
        static const std::vector<std::string> points = {"fs-write-eio",      "fs-fsync-fail",
                                                        "fs-dir-fsync-fail", "fs-rename-fail",
                                                        "fs-no-space",       "fs-read-eio"};
        return points;
    }

    void io_error(NodeIndex node, const std::string& point) {
        s_.mark(fmt::format("{} armed on node{}", point, node));
        const uint64_t before = s_.sim().fail_points().fires(point);
        s_.arm(point, sim::FailPointAction::inject_error()
                          .once()
                          .only_on(s_.cluster().host(node))
                          .with_probability(0.05));
        s_.wait_until_or_timeout(20_s,
                                 [&] { return s_.sim().fail_points().fires(point) > before; });
        s_.disarm(point);
    }

    // The lying disk (unbounded only): fsyncs that keep nothing for a while, then a power loss.
    void lying_disk_then_power_loss(NodeIndex node, sim::Duration down, bool tear) {
        s_.mark(fmt::format("node{}'s disk lies about fsyncs", node));
        s_.arm("fs-fsync-lie", sim::FailPointAction::inject_error()
                                   .only_on(s_.cluster().host(node))
                                   .with_probability(0.5));
        s_.sleep(10_s);
        s_.disarm("fs-fsync-lie");
        if (s_.is_up(node)) {
            s_.power_loss(node, down, tear);
        }
    }

    void partition(sim::Rng& rng) {
        if (!mix_.partitions || isolated_node_ != no_node) {
            return;
        }
        const NodeIndex node = s_.random_node();
        if (!s_.is_up(node) || !within_budget(node)) {
            return;
        }
        FaultEvent event = event_of("partition", node);
        event.length = rng.uniform(5_s, 45_s);
        inject(event);
    }

    void network(sim::Rng& rng) {
        if ((!mix_.loss && !mix_.latency) || degraded_) {
            return;
        }
        FaultEvent event = event_of("degrade", std::nullopt);
        event.length = rng.uniform(10_s, 40_s);
        if (mix_.loss) {
            event.loss = 0.02 + 0.08 * rng.uniform01();
        }
        if (mix_.latency) {
            event.latency = rng.uniform(100_ms, 800_ms);
        }
        inject(event);
    }

    void degrade(const FaultEvent& event) {
        degraded_ = true;
        network_fault_ends_ = std::max(network_fault_ends_, s_.now() + event.length);
        sim::LinkConfig link = default_link_;
        if (event.loss > 0) {
            link.loss = event.loss;
        }
        if (event.latency > sim::Duration::zero()) {
            link.latency = sim::LatencyModel::uniform(20_ms, event.latency);
        }
        s_.mark(fmt::format("degrade links: loss {:.3f}", link.loss));
        s_.sim().net().set_default_link(link);
    }

    void move_stake(sim::Rng& rng) {
        if (!mix_.stake_moves) {
            return;
        }
        const NodeIndex node = s_.random_node();
        FaultEvent event = event_of("withdraw", node);
        event.amount = 1;  // never to zero: every node stays a member
        if (rng.below(2) == 0 || s_.chain().stake(node) <= 1) {
            event.kind = "stake";
            event.amount = 1 + rng.below(3);
        }
        inject(event);
    }

    void end_expired_faults() {
        if (s_.now() >= network_fault_ends_ && (isolated_node_ != no_node || degraded_)) {
            inject(event_of("heal", std::nullopt));  // replayed as it happened
        }
    }

    void end_network_faults() {
        if (isolated_node_ != no_node || degraded_) {
            s_.heal();
            s_.sim().net().set_default_link(default_link_);
        }
        isolated_node_ = no_node;
        s_.set_isolated(std::nullopt);
        degraded_ = false;
    }

    Scenario& s_;
    sim::LinkConfig default_link_;
    FaultMix mix_;
    static constexpr NodeIndex no_node = ~NodeIndex{0};
    NodeIndex isolated_node_ = no_node;  // the node cut off by a partition, if any
    bool degraded_ = false;
    sim::Instant network_fault_ends_;
    int64_t faults_ = 0;
};

void swarm(Scenario& s) {
    Swarm swarm(s);
    const sim::Duration epoch = s.cluster().epoch_duration();
    swarm.run(s.now() + epoch * s.integer("epochs"));
    s.mark("liveness phase");
    swarm.heal_everything();
    finish_with_convergence(s, s.duration("deadline"));
}

}  // namespace

ScenarioSpec swarm_scenario() {
    return ScenarioSpec{
        .name = "swarm",
        .description =
            "the seed draws the cluster, workload pace and a fault mix (crashes, "
            "partitions, loss, latency spikes, stake moves) within the fault budget; "
            "then every fault heals and every node must converge",
        .mirrors = "swarm testing (FoundationDB, TigerBeetle VOPR) over the Walrus model",
        .params = {ParamSpec::integer("epochs", 8, 1, 200, "epochs of faults"),
                   ParamSpec::duration("deadline", 600_s, 10_s, 14400_s,
                                       "liveness phase: time for every node to converge"),
                   ParamSpec::choice("storage-faults", "bounded", storage_fault_mode_names(),
                                     "storage faults among the crashes: off, bounded (data "
                                     "loss within the budget), unbounded (safety checks only)")},
        .catches = {},
        .fixed_by = {},
        .build = swarm_build,
        .script = swarm,
    };
}

}  // namespace floe::scenarios
