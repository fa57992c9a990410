// mainnet-shape (issue 18): Walrus mainnet's shape rather than the simtests' five nodes. 100
// storage nodes with a Zipf-like stake spread (node i weighs 1000 / (i + 1), at least 1), 1,000
// shards, 10,000 certified blobs written before anything fails, 5-minute epochs. Then the node
// of median stake among the shard owners goes down for two epoch changes while more blobs are
// written, comes back through catch-up into node recovery (held at its start), and gains shards
// while recovering: its stake is doubled, so the next committee moves shards to it, which it fills
// by shard sync before recovery goes on (§9.5, the simtest of §13.3 at mainnet's shape). It must
// end Active with every shard Ready, and the whole cluster must converge. Every size is a parameter
// (`nodes`, `weights`, `shards`, `epoch`, and `blobs`), so `floe bench scale` grows one at a
// time.
#include <fmt/format.h>

#include <algorithm>

#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

constexpr int64_t default_nodes = 100;
constexpr uint32_t default_shards = 1000;
constexpr size_t writers = 64;  // blobs written at once by the world

// Zipf-like stakes: a few large operators and a long tail, node 0 the largest.
std::vector<uint64_t> zipf_weights(size_t nodes) {
    std::vector<uint64_t> weights;
    weights.reserve(nodes);
    for (size_t i = 0; i < nodes; ++i) {
        weights.push_back(std::max<uint64_t>(1, 1000 / (i + 1)));
    }
    return weights;
}

// The build knows `nodes` (the shape applies it after, onto weights of that size), so the
// stake spread is Zipf-like at every size.
void mainnet_build(const Params& params, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    const auto nodes = params.is_set("nodes") ? params.integer("nodes") : default_nodes;
    config.weights = zipf_weights(static_cast<size_t>(nodes));
    config.n_shards = default_shards;
    config.epoch_duration = 300_s;
    config.workload = false;  // the script writes the blobs: a known number, at full speed
    // Node 0 holds a fifth of the shards: created one column family per RocksDB call, as Walrus
    // does, its genesis alone rewrites an OPTIONS file of up to a thousand column families a
    // thousand times (ARCHITECTURE.md, "How cost grows with the cluster").
    config.node.batch_column_families = true;
    // Every node stores every blob's metadata, 16 bytes a shard: at mainnet's shape 1.6 MB a
    // blob across the cluster, held twice until a flush.
    config.node.compact_metadata = true;
    // Every node checks every certified blob's slivers at its shards when the blob is certified
    // and at every epoch's consistency report: about 10,000 RocksDB reads a blob at mainnet's
    // shape, half of the run. The index answers them from memory.
    config.node.index_sliver_existence = true;
}

// Writes `count` permanent blobs from `writers` world fibers at once; waits until every writer
// is done. Returns how many were certified.
uint64_t write_blobs(Scenario& s, uint64_t count, uint64_t first_id, Epoch lifetime) {
    auto certified = std::make_shared<uint64_t>(0);
    auto done = std::make_shared<size_t>(0);
    const size_t fibers = std::min<size_t>(writers, std::max<uint64_t>(count, 1));
    for (size_t w = 0; w < fibers; ++w) {
        s.spawn(fmt::format("writer-{}", w),
                [&s, certified, done, w, fibers, count, first_id, lifetime] {
                    for (uint64_t i = w; i < count; i += fibers) {
                        const auto blob = walrus::BlobId::from_u64(first_id + i);
                        if (s.write_blob(blob, lifetime).has_value() && ++*certified % 1000 == 0) {
                            s.mark(fmt::format("{} blobs certified", *certified));
                        }
                    }
                    ++*done;
                });
    }
    (void)s.wait_until_or_timeout(sim::Duration::minutes(24 * 60), [&] { return *done == fibers; });
    return *certified;
}

// The node of median stake among those that own a shard (with few shards the Zipf tail owns
// none, and a node without shards is no committee member to recover): neither one of the few
// that hold most shards nor one that holds nothing.
NodeIndex median_node(Scenario& s) {
    const walrus::Committee& committee = s.chain().current_committee();
    std::vector<NodeIndex> owners;
    for (NodeIndex node : s.all_nodes()) {
        if (!committee.shards_of(node).empty()) {
            owners.push_back(node);
        }
    }
    return owners.empty() ? 0 : owners[owners.size() / 2];
}

void mainnet_shape(Scenario& s) {
    const auto blobs = static_cast<uint64_t>(s.integer("blobs"));
    const sim::Duration epoch = s.cluster().epoch_duration();
    const uint64_t written = write_blobs(s, blobs, 1, 40);
    s.report("blobs_certified", static_cast<int64_t>(written));
    if (!s.check(written == blobs, fmt::format("{} of {} blobs certified", written, blobs))) {
        return;
    }
    const NodeIndex node = median_node(s);
    s.report("recovering_node", node);
    const size_t initial_shards = owned_shard_count(s, node);
    ShardSyncWatch syncs = watch_shard_syncs(s, node);
    auto hold = hold_recovery(s, node);
    // Down for two epoch changes while a tenth more blobs are written: back, it is behind.
    const Epoch down_at = s.epoch();
    s.kill(node);
    const uint64_t more = std::max<uint64_t>(1, blobs / 10);
    const uint64_t written_down = write_blobs(s, more, blobs + 1, 40);
    s.report("blobs_while_down", static_cast<int64_t>(written_down));
    if (!s.wait_until("two epoch changes while the node is down", epoch * 3,
                      [&] { return s.epoch() >= down_at + 2; })) {
        return;
    }
    s.restart(node);
    if (!s.wait_until("the node is RecoveryInProgress", epoch * 2,
                      [&] { return s.status_starts_with(node, "RecoveryInProgress"); })) {
        return;
    }
    // Doubling its stake moves shards to it at the next committee it can still shape.
    s.stake(node, s.cluster().config().weights[node]);
    if (!s.wait_until("the node started a shard sync for its gained shards", epoch * 3,
                      [&] { return syncs.started.value() > 0; })) {
        return;
    }
    *hold = false;
    s.mark("recovery released");
    if (!s.wait_until("the node is Active with every shard Ready", epoch * 3,
                      [&] { return s.status(node) == "Active" && s.all_shards_ready(node); })) {
        return;
    }
    s.report("initial_shards", static_cast<int64_t>(initial_shards));
    s.report("final_shards", static_cast<int64_t>(owned_shard_count(s, node)));
    s.check(owned_shard_count(s, node) > initial_shards, "the recovering node gained no shard");
    s.check(*syncs.ordering_violation == 0,
            "a recovery blob sync started while a shard sync ran (§9.5 ordering)");
    finish_with_convergence(s, epoch * 2);
}

}  // namespace

ScenarioSpec mainnet_shape_scenario() {
    ScenarioSpec spec = scripted_spec(
        "mainnet-shape",
        "Walrus mainnet's shape: 100 nodes with a Zipf-like stake spread, 1,000 shards, 10,000 "
        "certified blobs; the median-stake node goes down for two epoch changes, recovers and "
        "gains shards while recovering; it ends Active with every shard Ready and the cluster "
        "converges",
        "spec §9.5 and the simtest of §13.3 (test_node_recovery_across_epoch_change_with_"
        "shard_gain) at mainnet's size; issue 18",
        mainnet_build, mainnet_shape,
        {ParamSpec::integer("blobs", 10'000, 1, 1'000'000,
                            "certified blobs written before the node goes down (a tenth more "
                            "while it is down)")});
    spec.heavy = true;
    spec.time_limit = sim::Duration::minutes(48 * 60);
    return spec;
}

}  // namespace floe::scenarios
