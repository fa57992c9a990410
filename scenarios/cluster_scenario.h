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

struct ClusterScenarioOptions {
    uint64_t seed = 1;
    int epochs = 5;
    bool crashes = true;
    std::string trace_path;
    std::string data_dir;
};

struct ClusterScenarioReport {
    sim::RunResult result;
    walrus::Epoch final_epoch = 0;
    uint64_t blobs_written = 0;
    uint64_t blobs_read = 0;
    uint64_t crashes = 0;
    uint64_t client_retries = 0;
};

// Returns the report; `error` is set (and nothing runs) for unusable options.
ClusterScenarioReport run_cluster_scenario(const ClusterScenarioOptions& options,
                                           std::string& error);

}  // namespace floe::scenarios
