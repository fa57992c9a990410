#pragma once
// `floe bench scenarios`: wall time per seed and virtual/wall ratio of each shipped scenario at
// the simtests' scale, on one core, beside the physical limit measured in the same run (the raw
// fiber-switch loop of `floe bench kernel`): how many scheduler events per second a scenario
// sustains against what the machine can do at all. With the trace cost on, each seed also runs
// with its trace stopped (what the fingerprint costs when no output is asked for) and with the
// text trace, the Perfetto file and the HTML report written (what seeing a run costs).

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace floe::tools {

struct ScenarioBenchOptions {
    std::vector<std::string> scenarios;  // empty: every shipped scenario
    uint64_t seeds = 5;                  // seeds 1..seeds per scenario
    bool trace_cost = true;  // also time each seed with the trace stopped and with every output
    std::vector<std::string> sets;  // key=value for every scenario (a shape, an economy)
    // Internal: the child that times one seed (every seed runs in its own process, so that one
    // that fails an assertion cannot end the bench) prints its numbers as one line. 0: the bench.
    uint64_t one_seed = 0;
    // Internal, with one_seed: the child measures and prints only the seed's RocksDB floor.
    bool floor_only = false;
};

// `self` is this executable: each seed runs in a child process of it.
int bench_scenarios_command(const std::string& self, const ScenarioBenchOptions& options);

}  // namespace floe::tools
