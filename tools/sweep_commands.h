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
    std::string shard;  // "K/N": this process runs the runs of shard K (tools/shard.h)
    std::string out_path;
    std::string junit_path;  // a JUnit XML report of the runs; "" = none
    bool dry_run = false;    // print "SCENARIO SEED" per run this shard would make, run nothing
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
struct GateArgs {
    std::string list_path = "tools/gate.txt";
    unsigned jobs = 1;
    std::string only;  // run only the checks of this kind
    bool write_reached = false;
    std::string junit_path;  // a JUnit XML report, one testcase per gate line; "" = none
};
int gate_command(const std::string& self, const GateArgs& args);
// `floe sweep --explain results.jsonl`: each failed seed that reached the condition of a Walrus
// finding (docs/FINDINGS.md) is run again with that finding's fix switch; a seed that then
// passes is explained by the finding. Exit 0 when every failure is explained.
int explain_command(const std::string& self, const std::string& results_path, unsigned jobs);
int diff_command(const std::string& left, const std::string& right);

// --- shared with `floe hunt` and `floe promote`
// ----------------------------------------------------

// The exit code of a sweep that ran: a failed seed is 1 even when a file could not be written
// (the error is printed, on one line); a write error alone is 2.
int finish_with(const std::string& error, uint64_t failed);
// "" unless a scenario is named twice (it would run every seed twice).
std::string check_distinct(const std::vector<std::string>& names);
// "" when a gate line of the list at `path` already keeps the seed of `line` (same kind,
// scenario, switches and parameters, its seed in range); else that line's text.
std::string gate_line_covering(const std::string& path, const std::string& line);

// "" when the gate list at `path` parses, else its one-line error.
std::string check_gate_list(const std::string& path);
// The scenarios `floe sweep --all` runs: every one but the known Walrus failures and the heavy.
std::vector<std::string> sweepable_scenarios();

// The argv of a child `floe run SCENARIO --seed N --json ...` and the one-line command that
// reproduces it (without --json). `sched` is a strategy's name; "random" is left out.
std::vector<std::string> run_argv(const std::string& self, const std::string& scenario,
                                  uint64_t seed, const std::vector<std::string>& sets,
                                  const std::vector<std::string>& old_behaviours,
                                  const std::string& sched = "random");
std::string repro_of(const std::string& scenario, uint64_t seed,
                     const std::vector<std::string>& sets,
                     const std::vector<std::string>& old_behaviours,
                     const std::string& sched = "random");
// The --sched value in the form repro_command prints ("pct:3:30000" -> "pct:3"), so the
// parent's repro and the child's record say the same; "" when it does not parse.
std::string sched_name(const std::string& text);
// " --sched NAME" for a strategy's name (sched_name), "" for "random": left out, as in
// scenarios::repro_command, so a random run's command is the one it always was.
std::string sched_suffix(const std::string& sched);
// A record's repro command as the argv of a child run, with --json and `fixes` added.
std::vector<std::string> rerun_argv(const std::string& self, const std::string& repro,
                                    const std::vector<std::string>& fixes);
std::string with_fixes(const std::string& repro, const std::vector<std::string>& fixes);
// The fixes of the Walrus findings whose conditions `reached` names and `fixes` lacks.
std::vector<std::string> new_fixes(const std::vector<std::string>& reached,
                                   const std::vector<std::string>& fixes);

}  // namespace floe::tools
