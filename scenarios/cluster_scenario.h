#pragma once
// The issue-3 cluster scenario, shared by the test suite and `floe cluster`: the simtests'
// cluster (weights [1,2,3,3,4], 13 shards, 30 s epochs) under the writer workload for a number
// of epochs, optionally with random crashes at the crash fail points (one node at a time), then
// a liveness phase: the workload stops and every node must converge — Active, every shard
// Ready, every certified blob stored everywhere — within a virtual deadline. The consistency
// checker runs throughout.

#include <cstdint>
#include <string>

#include "scenarios/cluster.h"

namespace floe::scenarios {

// Issue 4: node 0 is staked 3 units more, so at the next committee it gains shards 12, 8 and 5
// from nodes 4, 3 and 2 (§18) and fills them by shard sync.
enum class ShardGain : uint8_t {
    none,
    sources_up,      // every previous owner answers: transfer only, no per-blob recovery
    source_crashed,  // node 4 (source of shard 12) is down for 90 s once the transfer starts:
                     // no progress for the switch interval → direct recovery
    gainer_crashed,  // node 0 crashes at its 12th batch request (every gained shard has
                     // progress on disk by then) and resumes from its progress
};
const char* shard_gain_name(ShardGain gain);

struct ClusterScenarioOptions {
    uint64_t seed = 1;
    int epochs = 5;
    bool crashes = true;
    std::string trace_path;
    std::string data_dir;
    ShardGain shard_gain = ShardGain::none;
    sim::Duration stake_at = sim::Duration::seconds(65);
};

struct ClusterScenarioReport {
    sim::RunResult result;
    walrus::Epoch final_epoch = 0;
    uint64_t blobs_written = 0;
    uint64_t blobs_read = 0;
    uint64_t crashes = 0;
    uint64_t client_retries = 0;
    // Node 0 at the end (shard-gain scenarios).
    std::vector<walrus::ShardIndex> node0_shards;
    uint64_t node0_transferred = 0;
    uint64_t node0_recovered = 0;
    uint64_t node0_direct_recoveries = 0;
    uint64_t resumed_from_progress = 0;
    uint64_t shard_sync_tasks_started = 0;
};

// Returns the report; `error` is set (and nothing runs) for unusable options.
ClusterScenarioReport run_cluster_scenario(const ClusterScenarioOptions& options,
                                           std::string& error);

}  // namespace floe::scenarios
