#pragma once
// `floe list` and `floe run`: the shipped scenarios, one run with a one-screen summary (or one
// JSON object for a sweep's child), and the exit codes every floe command shares.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace floe::tools {

// Documented in README.md ("Exit codes"). A node-side assertion aborts the process (SIGABRT,
// shell status 134) after printing the seed and the repro command.
enum ExitCode : int {
    exit_pass = 0,
    exit_seeds_failed = 1,  // sweep / gate: some seed or check failed
    exit_usage = 2,
    exit_invariant = 3,
    exit_deadlock = 4,
    exit_liveness = 5,
    exit_nondeterminism = 6,
};
int exit_code_for(sim::FailureClass failure);

struct RunArgs {
    std::string scenario;
    std::optional<uint64_t> seed;  // none: drawn at random and printed
    std::vector<std::string> sets;
    std::vector<std::string> old_behaviours;  // switch names of both kinds (node/behaviours.h)
    std::string trace_path;
    std::string perfetto_path;  // Chrome trace-event JSON for ui.perfetto.dev
    std::string report_path;    // the self-contained HTML timeline
    std::string data_dir;
    std::string sched = "random";  // --sched: random | pct:D[:K] | starve[:P]
    bool json = false;  // print one JSON object (the sweep's child protocol) instead of a summary
    std::string record_faults;  // write the run's fault schedule here (also when it aborts)
    std::string faults;         // replay the fault schedule of this file
};

int list_command(std::FILE* out);
// `floe list --probes` / `--fail-points`: the catalog's sites of that sort, one per line.
void list_sites(std::FILE* out, bool probes);
int run_command(const RunArgs& args);

// Usage checks shared by the commands; each returns "" or a one-line error.
std::string check_scenario_name(const std::string& name);
std::string check_behaviours(const std::vector<std::string>& names);  // every name a known switch
// Every `key=value` applies to the scenario's parameters (a known scenario, keys, types, ranges).
std::string check_sets(const std::string& scenario, const std::vector<std::string>& sets);
// Appends the switches named with --old-behaviour and --new-behaviour to `out`, each checked to
// be of its flag's kind.
std::string collect_behaviours(const std::vector<std::string>& old_names,
                               const std::vector<std::string>& new_names,
                               std::vector<std::string>& out);
std::string check_output_file(const std::string& path);  // its directory exists and is writable
std::string check_data_dir(const std::string& path);     // missing, or an empty writable directory
// A --sched value: its strategy, or nullopt and a one-line `error`.
std::optional<sim::SchedStrategy> parse_sched(const std::string& text, std::string& error);
// Builds validated run options (the --set values are checked against the scenario).
std::optional<scenarios::ScenarioRunOptions> run_options(const RunArgs& args, uint64_t seed,
                                                         std::string& error);

}  // namespace floe::tools
