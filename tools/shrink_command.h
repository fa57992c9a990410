#pragma once
// `floe shrink SCENARIO --seed N [run options]`: from a failing run to a minimal repro. Records
// the run's fault schedule (floe run --record-faults), checks that replaying it (--faults) fails
// the same way, cuts it down with ddmin (each candidate a child `floe run --faults`, kept only
// when it fails with the same signature: class and message with ids masked), then halves the
// down times and durations that can be halved. Writes the smallest schedule and prints
// `faults: 16 -> 2` and the command that reproduces the failure from it.

#include <cstdint>
#include <string>
#include <vector>

namespace floe::tools {

struct ShrinkArgs {
    std::string scenario;
    uint64_t seed = 0;
    std::vector<std::string> run_options;  // passed to every `floe run` as given (--set, ...)
    unsigned jobs = 1;
    std::string out_path;  // default floe-shrink-SCENARIO-SEED.json
    uint64_t max_runs = 400;
};

// `self`: this executable, run for each candidate. Exit 0 when a schedule was written, 1 when
// the failure does not replay from its schedule, 2 on bad input or a run that passes.
int shrink_command(const std::string& self, const ShrinkArgs& args);

}  // namespace floe::tools
