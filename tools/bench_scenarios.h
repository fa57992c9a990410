#pragma once
// `floe bench scenarios`: wall time per seed and virtual/wall ratio of each shipped scenario at
// the simtests' scale, on one core, beside the physical limit measured in the same run (the raw
// fiber-switch loop of `floe bench kernel`): how many scheduler events per second a scenario
// sustains against what the machine can do at all.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace floe::tools {

struct ScenarioBenchOptions {
    std::vector<std::string> scenarios;  // empty: every shipped scenario
    uint64_t seeds = 5;                  // seeds 1..seeds per scenario
};

int bench_scenarios_command(const ScenarioBenchOptions& options);

}  // namespace floe::tools
