#pragma once
// The kernel demo: the main job until the Walrus scenarios exist. A few hosts keep versioned
// counters and replicate them to each other over RPC on a lossy, long-tailed network, while the
// driver crashes and restarts hosts, partitions the network and heals it, and a fail point
// crashes hosts at random. A checker verifies, as the run goes, that no host ever sees a peer's
// version move backwards within one incarnation.

#include <cstdint>
#include <string>

#include "sim/simulation.h"

namespace floe::tools {

struct DemoOptions {
    uint64_t seed = 1;
    int hosts = 5;
    sim::Duration duration = sim::Duration::seconds(60);
    std::string trace_path;  // empty: no text trace
};

struct DemoReport {
    sim::RunResult result;
    uint64_t rpc_ok = 0;
    uint64_t rpc_failed = 0;
    uint64_t crashes = 0;
    uint64_t fail_point_fires = 0;
};

// Returns an error message in `error` (and a default report) if the options are unusable.
DemoReport run_kernel_demo(const DemoOptions& options, std::string& error);

}  // namespace floe::tools
