#pragma once
// `floe hunt` and `floe promote`: the nightly loop of a team that hunts rare bugs. A hunt runs
// fresh seeds until its time is up, one process per seed, writing JSON Lines as it goes, and ends
// with the failures grouped by signature (one entry per distinct bug, with its count and its
// fastest-failing seed). `floe promote` turns one found failure into a line of the regression
// gate (tools/gate.txt), so the seed is kept once the bug is fixed.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace floe::tools {

struct HuntArgs {
    std::vector<std::string> scenarios;  // empty: every scenario `sweep --all` runs
    std::string duration;                // --for: "30s", "10m", "8h"
    unsigned jobs = 1;
    std::string out_path;                 // "" = floe-hunt-<first seed>.jsonl
    std::optional<uint64_t> first_seed;   // --from; else drawn at random and printed
    std::vector<std::string> sets;        // one scenario only, as in a sweep
    std::vector<std::string> behaviours;  // switches, resolved by collect_behaviours
    std::string sched = "random";         // --sched, passed to every run (and its repro)
};

// The seeds a hunt runs: scenario i % S with seed first + i / S, for i = 0, 1, ...: every
// scenario gets the same fresh seeds, and the same --from gives the same runs in the same order.
struct HuntPlan {
    std::vector<std::string> scenarios;
    uint64_t first_seed = 0;
    uint64_t runs_started = 0;

    std::string scenario_of(uint64_t run) const { return scenarios[run % scenarios.size()]; }
    uint64_t seed_of(uint64_t run) const { return first_seed + run / scenarios.size(); }
};

int hunt_command(const std::string& self, const HuntArgs& args);

struct PromoteArgs {
    std::vector<std::string> results;  // JSON Lines files (a hunt's or a sweep's)
    std::string scenario;
    uint64_t seed = 0;
    std::string list_path = "tools/gate.txt";
    std::string note;  // why the seed is kept; default: its failure signature
};

// The gate line that keeps a failed run, from its record's repro command: `pass` (or `fixed`
// with the run's own new behaviours) with its parameters, so the gate fails until the bug is
// fixed. With `fixes` (the run reached a Walrus finding's condition and passes with its fix) the
// line is `walrus` with those fixes (a known Walrus failure; docs/FINDINGS.md), or `fixed` with
// the run's own and those when it had some. "" or an error (old behaviours and other schedules
// cannot be gate lines).
std::string gate_line_for(const std::string& repro, const std::vector<std::string>& fixes,
                          std::string& line);

int promote_command(const std::string& self, const PromoteArgs& args);

}  // namespace floe::tools
