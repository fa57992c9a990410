#pragma once
// `floe sweep`, `floe check-determinism`, `floe gate` and `floe diff`: many runs, each seed in
// its own child process (`floe run ... --json`), so an abort or a crash of one seed is a failed
// seed, not a dead sweep.

#include <cstdint>
#include <string>
#include <vector>

#include "tools/scenario_commands.h"

namespace floe::tools {

struct SweepArgs {
    std::vector<std::string> scenarios;  // empty with all = true: every scenario
    bool all = false;
    std::string seeds;  // required unless summarizing
    unsigned jobs = 1;
    std::string shard;  // "K/N": this process runs the seeds whose index % N == K - 1
    std::string out_path;
    std::vector<std::string> sets;
    std::vector<std::string> old_behaviours;
    std::string sched = "random";  // --sched, passed to every run
};

// `self` is the path of the floe executable (argv[0] resolved), exec'd for each seed.
int sweep_command(const std::string& self, const SweepArgs& args);
int check_determinism_command(const std::string& self, const std::string& scenario, uint64_t seed,
                              const std::vector<std::string>& sets,
                              const std::vector<std::string>& old_behaviours,
                              const std::string& sched = "random");
// Runs the checks of `list_path` (only those of kind `only` when it is not empty), then, for a
// whole gate, checks the sites its runs reached against the reach file next to the list
// (tools/gate_reached.h); `write_reached` rewrites that file instead.
int gate_command(const std::string& self, const std::string& list_path, unsigned jobs,
                 const std::string& only = {}, bool write_reached = false);
// `floe sweep --explain results.jsonl`: each failed seed that reached the condition of a Walrus
// finding (docs/FINDINGS.md) is run again with that finding's fix switch; a seed that then
// passes is explained by the finding. Exit 0 when every failure is explained.
int explain_command(const std::string& self, const std::string& results_path, unsigned jobs);
int diff_command(const std::string& left, const std::string& right);

}  // namespace floe::tools
