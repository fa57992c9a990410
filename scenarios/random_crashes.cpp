// random-crashes: issue 3's cluster (the simtests' weights [1,2,3,3,4], 13 shards, 30 s epochs)
// under the writer workload for a number of epochs, with random crashes at the crash fail points,
// one node at a time (Scenario::crash_randomly), then the liveness phase: the workload stops and
// every node must converge. The consistency checker runs throughout. Optionally node 0 is staked
// 3 units more after 65 s, so it gains shards 12, 8 and 5 from nodes 4, 3 and 2 (§18) by shard
// sync while the crashes go on, with every source up or with the source of its highest gained shard
// (node 4) down for 90 s. Without any fault every member must also attest every finished epoch
// exactly once (§7.8).
#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

constexpr int64_t max_epochs = 200;

// Issue 3's configuration: the cluster's defaults with the §14 blob-recovery monitor of 5 s; a
// shard gain adds the shard-sync overrides (retry backoff 1-3 s, a dead source left after 20 s
// without progress, 8 slivers per transfer request).
void random_crashes_build(const Params& params, sim::Rng&, ClusterConfig& config) {
    config.node.blob_recovery.monitor_interval = 5_s;
    if (params.choice("shard-gain") != "none") {
        config.node.shard_sync.retry_min_backoff = 1_s;
        config.node.shard_sync.retry_max_backoff = 3_s;
        config.node.shard_sync.retry_switch_to_recovery_interval = 20_s;
        config.node.shard_sync.sliver_count_per_sync_request = 8;
    }
}

// What the script and its stake fiber share about a shard gain.
struct ShardGain {
    bool source_down = false;  // shard-gain=source-crashed
    std::shared_ptr<bool> source_crashed = std::make_shared<bool>(false);
};

// The stake move, in a fiber of its own so that the random crashes go on meanwhile.
void start_shard_gain(Scenario& s, const std::shared_ptr<ShardGain>& gain) {
    s.spawn("stake", [&s, gain] {
        s.sleep(65_s);
        const Epoch epoch = s.next_shapeable_epoch();
        s.stake(0, 3);
        if (gain->source_down) {
            gain->source_crashed = crash_source_when_transfer_starts(s, 0, epoch, 90_s);
        }
    });
}

// Node 0 at the end of a shard-gain run: what it owns and how it filled it. It must own more
// shards than at genesis and, with a source down, that source must have gone down.
void check_shard_gain(Scenario& s, const ShardGain& gain) {
    auto info = s.health(0);
    if (!s.check(info.has_value(), "node 0 does not answer")) {
        return;
    }
    s.report("node0_shard_mask", shard_mask(info->owned_shards));
    s.report("transferred_slivers", static_cast<int64_t>(info->transferred_slivers));
    s.report("recovered_slivers", static_cast<int64_t>(info->recovered_slivers));
    s.report("direct_recoveries", static_cast<int64_t>(info->direct_recoveries));
    const auto genesis = s.chain().committee_at(1);
    const size_t initial = genesis.has_value() ? genesis->shards_of(0).size() : 0;
    s.check(info->owned_shards.size() > initial, "node 0 gained no shard");
    if (gain.source_down) {
        s.check(*gain.source_crashed,
                "the gained shard's source was never crashed during the transfer");
    }
}

// Every node's kills and restarts, two incarnation steps a crash after the first boot.
int64_t crashes_so_far(Scenario& s) {
    uint64_t crashes = 0;
    for (NodeIndex node : s.all_nodes()) {
        crashes += (s.sim().scheduler().incarnation(s.cluster().host(node)) - 1) / 2;
    }
    return static_cast<int64_t>(crashes);
}

void random_crashes(Scenario& s) {
    const std::string& mode = s.params().choice("shard-gain");
    auto gain = std::make_shared<ShardGain>();
    gain->source_down = mode == "source-crashed";
    // The fail-point swarm (buggify=on) injects faults of its own; it stops at the liveness phase.
    const bool faults =
        s.flag("crashes") || gain->source_down || s.sim().fail_points().has_background();
    if (mode != "none") {
        start_shard_gain(s, gain);
    }
    const sim::Instant end = s.now() + s.cluster().epoch_duration() * s.integer("epochs");
    if (s.flag("crashes")) {
        s.crash_randomly(end);
    }
    if (s.now() < end) {
        s.sleep(end - s.now());
    }
    const walrus::ClientStats& client = s.cluster().client()->stats();
    s.report("blobs_written", static_cast<int64_t>(client.written));
    s.report("blobs_read", static_cast<int64_t>(client.read));
    s.report("client_retries", static_cast<int64_t>(client.retries));
    s.mark("liveness phase");
    finish_with_convergence(s);
    s.report("crashes", crashes_so_far(s));
    if (!faults) {
        s.cluster().check_attestations_without_faults();
    }
    if (mode != "none") {
        check_shard_gain(s, *gain);
    }
}

}  // namespace

ScenarioSpec random_crashes_scenario() {
    ScenarioSpec spec = scripted_spec(
        "random-crashes",
        "the writer workload for some epochs while nodes crash one at a time at random crash "
        "fail points (p = 0.01 a hit, down 1-10 s, up 5-20 s before the next); then every node "
        "must converge. Optionally node 0 gains shards meanwhile, its sources up or one down",
        "issue 3's cluster test (Walrus's simtests' crash_node fail points, spec §11, §12); with "
        "shard-gain, issue 4's shard move (§8, §18)",
        random_crashes_build, random_crashes,
        {ParamSpec::integer("epochs", 5, 1, max_epochs, "epochs of workload and crashes"),
         ParamSpec::boolean("crashes", true,
                            "the random crashes; without any fault (no crashes, no source "
                            "down, buggify off) every member must also attest every finished "
                            "epoch exactly once"),
         ParamSpec::choice("shard-gain", "none", {"none", "sources-up", "source-crashed"},
                           "node 0 staked 3 units more after 65 s gains shards 12, 8, 5 by "
                           "shard sync: every source up, or the source of the highest (node 4) "
                           "down 90 s once the transfer "
                           "starts")});
    // The most epochs of 30 s, and an hour to spare (convergence takes 5 minutes at most).
    spec.time_limit = sim::Duration::minutes(60) + 30_s * max_epochs;
    return spec;
}

}  // namespace floe::scenarios
