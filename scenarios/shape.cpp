#include "scenarios/shape.h"

#include <fmt/format.h>

namespace floe::scenarios {

namespace {

using namespace sim::time_literals;

constexpr int64_t max_nodes = 1000;
constexpr int64_t max_shards = 10'000;

// `nodes` without `weights`: the scenario's own weights, repeated (a simtest node 0 of weight 1
// stays the lightest, and the roles scenarios give nodes by weight keep their order).
std::vector<uint64_t> repeat_weights(const std::vector<uint64_t>& own, size_t nodes) {
    std::vector<uint64_t> out;
    out.reserve(nodes);
    for (size_t i = 0; i < nodes; ++i) {
        out.push_back(own[i % own.size()]);
    }
    return out;
}

std::string apply_nodes_and_weights(const Params& params, ClusterConfig& config) {
    if (params.is_set("weights")) {
        const std::vector<int64_t>& weights = params.list("weights");
        if (params.is_set("nodes") &&
            static_cast<size_t>(params.integer("nodes")) != weights.size()) {
            return fmt::format("nodes={} but weights has {} entries", params.integer("nodes"),
                               weights.size());
        }
        config.weights.assign(weights.begin(), weights.end());
    } else if (params.is_set("nodes")) {
        config.weights =
            repeat_weights(config.weights, static_cast<size_t>(params.integer("nodes")));
    }
    return {};
}

template <class T>
void set_if(const Params& params, std::string_view name, T& field) {
    if (params.is_set(name)) {
        field = static_cast<T>(params.integer(name));
    }
}

}  // namespace

std::vector<ParamSpec> shape_params() {
    return {
        ParamSpec::optional_integer("nodes", "scenario's", 1, max_nodes,
                                    "storage nodes (without weights: the scenario's weights, "
                                    "repeated)"),
        ParamSpec::optional_list("weights", "scenario's", 1, 1'000'000, max_nodes,
                                 "each node's stake weight, node 0 first (sets nodes)"),
        ParamSpec::optional_integer("shards", "scenario's", 1, max_shards, "shards"),
        ParamSpec::optional_duration("epoch", "scenario's", 5_s, 86400_s, "epoch duration"),
        ParamSpec::optional_duration("blob-pace", "scenario's", 1_ms, 3600_s,
                                     "the writer workload's pause between operations"),
        ParamSpec::optional_integer("max-concurrent-blob-syncs-during-recovery", "scenario's", 1,
                                    100'000, "node recovery's blob syncs at once (§14)"),
        ParamSpec::optional_integer("sliver-count-per-sync-request", "scenario's", 1, 100'000,
                                    "slivers per shard-sync transfer request (§14)"),
        ParamSpec::optional_integer("checkpoint-interval", "scenario's", 1, 1'000'000,
                                    "settled blobs per persisted recovery checkpoint (#3407, §14)"),
        ParamSpec::optional_integer("max-concurrent-blob-syncs", "scenario's", 1, 100'000,
                                    "blob syncs at once (§14 blob_recovery)"),
        ParamSpec::optional_integer("shard-sync-concurrency", "scenario's", 1, 10'000,
                                    "shard syncs at once (§14)"),
        ParamSpec::optional_choice(
            "column-families", "scenario's: walrus; mainnet-shape: batched", {"walrus", "batched"},
            "how an epoch change creates its shards' column families: one RocksDB call each, "
            "as Walrus (walrus), or all in one call (batched: much faster with many shards a "
            "node, without the crash points between them)"),
        ParamSpec::optional_choice(
            "fault-budget", "scenario's: strict", {"loose", "strict"},
            "what the swarm's and buggify's fault budgets count against f: nodes down, isolated "
            "or with unhealed data loss (loose), or also shards that hold no data yet, at a node "
            "not Active or not Active themselves (strict; docs/FINDINGS.md, swarm 16232)"),
        ParamSpec::optional_choice(
            "sliver-existence", "scenario's: walrus; mainnet-shape: indexed", {"walrus", "indexed"},
            "how a node answers whether it stores a sliver: a RocksDB read, as Walrus (walrus), "
            "or from an in-memory index of its sliver keys, filled at every open (indexed: the "
            "same answers, far faster with many blobs; no read faults on those reads)"),
        ParamSpec::optional_choice(
            "existence-checks", "scenario's: inline", {"inline", "thread-pool"},
            "how node recovery's pass checks whether a blob is stored: inline, as Walrus's msim "
            "builds (inline), or after a wait for a thread pool, as its production builds, "
            "during which the node may enter catch-up (thread-pool)"),
        ParamSpec::optional_choice(
            "spawn-blocking", "scenario's: task", {"inline", "events", "task"},
            "how a node makes the calls Walrus puts in spawn_blocking (the blob event "
            "processor's reads of a blob's info, the blob sync's metadata read and write and its "
            "sliver existence reads and writes, shard sync's metadata read and write and its "
            "recovered slivers' writes, the RPC handlers' metadata and sliver reads): inline in "
            "the caller (inline, floe's model until "
            "1 December 2026), the event processor's reads with a yield before and after and "
            "the rest inline (events, the model of 1 December 2026), or as msim runs them, each "
            "a task of its own the caller joins, which a cancelled caller leaves running (task)"),
        ParamSpec::optional_choice(
            "metadata", "scenario's: walrus; mainnet-shape: compact", {"walrus", "compact"},
            "how a node stores blob metadata: every sliver's digest, as Walrus (walrus), or 40 "
            "bytes that stand for the computed metadata (compact: far less memory with many "
            "shards; other bytes on disk)"),
    };
}

std::string apply_shape(const Params& params, ClusterConfig& config) {
    if (std::string error = apply_nodes_and_weights(params, config); !error.empty()) {
        return error;
    }
    set_if(params, "shards", config.n_shards);
    if (params.is_set("epoch")) {
        config.epoch_duration = params.duration("epoch");
    }
    if (params.is_set("blob-pace")) {
        config.client.pace = params.duration("blob-pace");
    }
    set_if(params, "max-concurrent-blob-syncs-during-recovery",
           config.node.node_recovery.max_concurrent_blob_syncs_during_recovery);
    set_if(params, "sliver-count-per-sync-request",
           config.node.shard_sync.sliver_count_per_sync_request);
    set_if(params, "checkpoint-interval", config.node.node_recovery.checkpoint_persist_interval);
    set_if(params, "max-concurrent-blob-syncs",
           config.node.blob_recovery.max_concurrent_blob_syncs);
    set_if(params, "shard-sync-concurrency", config.node.shard_sync.shard_sync_concurrency);
    if (params.is_set("column-families")) {
        config.node.batch_column_families = params.choice("column-families") == "batched";
    }
    if (params.is_set("fault-budget")) {
        config.strict_fault_budget = params.choice("fault-budget") == "strict";
    }
    if (params.is_set("metadata")) {
        config.node.compact_metadata = params.choice("metadata") == "compact";
    }
    if (params.is_set("existence-checks")) {
        config.node.node_recovery.thread_pool_existence_checks =
            params.choice("existence-checks") == "thread-pool";
    }
    if (params.is_set("spawn-blocking")) {
        const std::string model = params.choice("spawn-blocking");
        config.node.spawn_blocking = model == "inline"   ? walrus::SpawnBlockingModel::inline_calls
                                     : model == "events" ? walrus::SpawnBlockingModel::event_reads
                                                         : walrus::SpawnBlockingModel::tasks;
    }
    if (params.is_set("sliver-existence")) {
        config.node.index_sliver_existence = params.choice("sliver-existence") == "indexed";
    }
    return {};
}

}  // namespace floe::scenarios
