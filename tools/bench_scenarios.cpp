#include "tools/bench_scenarios.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <stdlib.h>

#include "scenarios/scenario.h"
#include "sim/timeline.h"
#include "tools/bench_kernel.h"
#include "tools/html_report.h"
#include "tools/perfetto.h"
#include "tools/scenario_commands.h"

namespace floe::tools {

namespace {

struct ScenarioRow {
    std::string name;
    uint64_t passed = 0;
    double wall_mean = 0;
    double wall_max = 0;
    double virtual_mean = 0;
    double events_per_s = 0;   // scheduler steps per wall second
    double unhashed_mean = 0;  // wall per seed with the trace stopped (no fingerprint at all)
    double traced_mean = 0;    // wall per seed writing the text trace, Perfetto file and report
    double memenv_mean = 0;    // wall per seed on RocksDB's memory Env (the disk before issue 16)
};

enum class TraceMode { off, unhashed, all_outputs };

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One seed with every visual output on, as `floe run --trace --perfetto --report` writes them.
double run_traced(const scenarios::ScenarioSpec& spec, uint64_t seed, const std::string& dir) {
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.trace_path = dir + "/run.log";
    sim::TimelineRecorder recorder;
    options.timeline = &recorder;
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    const auto result = scenarios::run_scenario(spec, options, error);
    const sim::Timeline timeline = recorder.finish(result.result.end_time);
    ReportSummary summary;
    summary.title = spec.name;
    summary.passed = result.result.passed();
    (void)write_perfetto_json(timeline, dir + "/run.json");
    (void)write_html_report(timeline, summary, dir + "/run.html");
    return seconds_since(start);
}

// Whether a scenario runs without storage faults (the only way it runs on the old medium).
bool can_turn_storage_faults_off(const scenarios::ScenarioSpec& spec, bool& has_param) {
    has_param = false;
    for (const scenarios::ParamSpec& param : spec.params) {
        if (param.name == "storage-faults") {
            has_param = true;
            return std::find(param.choices.begin(), param.choices.end(), "off") !=
                   param.choices.end();
        }
    }
    return true;
}

// One seed on the medium before issue 16 (RocksDB's memory Env, its thread pools), storage
// faults off: what the simulated disk and its lock-step background jobs cost. 0 for a scenario
// that is storage faults (it cannot run there).
double run_on_memenv(const scenarios::ScenarioSpec& spec, uint64_t seed) {
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.rocksdb_memory_env = true;
    bool has_param = false;
    if (!can_turn_storage_faults_off(spec, has_param)) {
        return 0;
    }
    if (has_param) {
        options.sets = {"storage-faults=off"};
    }
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    (void)scenarios::run_scenario(spec, options, error);
    return error.empty() ? seconds_since(start) : 0;
}

double run_untraced(const scenarios::ScenarioSpec& spec, uint64_t seed) {
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.fold_trace = false;
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    (void)scenarios::run_scenario(spec, options, error);
    return seconds_since(start);
}

ScenarioRow bench_one(const scenarios::ScenarioSpec& spec, uint64_t seeds,
                      const std::string& trace_dir) {
    ScenarioRow row{spec.name};
    double wall = 0;
    double virtual_seconds = 0;
    double steps = 0;
    for (uint64_t seed = 1; seed <= seeds; ++seed) {
        if (!trace_dir.empty()) {
            row.unhashed_mean += run_untraced(spec, seed) / static_cast<double>(seeds);
            row.traced_mean += run_traced(spec, seed, trace_dir) / static_cast<double>(seeds);
        }
        row.memenv_mean += run_on_memenv(spec, seed) / static_cast<double>(seeds);
        scenarios::ScenarioRunOptions options;
        options.seed = seed;
        std::string error;
        const auto start = std::chrono::steady_clock::now();
        const auto result = scenarios::run_scenario(spec, options, error);
        const double seconds = seconds_since(start);
        row.passed += result.result.passed() ? 1 : 0;
        wall += seconds;
        row.wall_max = std::max(row.wall_max, seconds);
        virtual_seconds += static_cast<double>(result.result.end_time.ns()) / 1e9;
        steps += static_cast<double>(result.result.steps);
    }
    row.wall_mean = wall / static_cast<double>(seeds);
    row.virtual_mean = virtual_seconds / static_cast<double>(seeds);
    row.events_per_s = wall > 0 ? steps / wall : 0;
    return row;
}

// Issue 18's target: a simtest seed at most this many raw-loop events (wall x the limit).
constexpr double seed_cost_target = 1e6;

bool is_simtest(const scenarios::ScenarioSpec& spec) {
    return spec.mirrors.starts_with("simtest ");
}

// The verdict on the target, from the simtests measured (none: no verdict).
void print_seed_cost_verdict(const std::vector<std::pair<std::string, double>>& simtests) {
    if (simtests.empty()) {
        return;
    }
    const auto worst =
        std::max_element(simtests.begin(), simtests.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    fmt::print(
        "\nseed cost of the simtests: worst {:.2f} M raw-loop events ({}), target <= {:.1f} M: "
        "{}\n",
        worst->second / 1e6, worst->first, seed_cost_target / 1e6,
        worst->second <= seed_cost_target ? "met" : "NOT met");
}

// The machine's limit for this workload's unit of work: one timer wake-up and fiber switch.
double raw_events_per_second() {
    KernelBenchOptions options;
    options.fiber_counts = {1000};
    options.events = 1'000'000;
    options.repetitions = 3;
    return run_kernel_bench(options, nullptr).rows.front().raw_events_per_s;
}

}  // namespace

int bench_scenarios_command(const ScenarioBenchOptions& options) {
    std::vector<const scenarios::ScenarioSpec*> specs;
    for (const std::string& name : options.scenarios) {
        if (auto error = check_scenario_name(name); !error.empty()) {
            fmt::print(stderr, "floe: {}\n", error);
            return exit_usage;
        }
        specs.push_back(scenarios::find_scenario(name));
    }
    if (specs.empty()) {
        for (const auto& spec : scenarios::all_scenarios()) {
            if (!spec.heavy) {  // floe bench scale times it
                specs.push_back(&spec);
            }
        }
    }
    const double raw = raw_events_per_second();
    std::string trace_dir;
    if (options.trace_cost) {
        char pattern[] = "/tmp/floe-bench-XXXXXX";
        if (mkdtemp(pattern) == nullptr) {
            fmt::print(stderr, "floe: cannot create a temporary directory for the trace files\n");
            return exit_usage;
        }
        trace_dir = pattern;
    }
    fmt::print("floe bench scenarios: seeds 1..{} per scenario, one core, in process\n",
               options.seeds);
    fmt::print(
        "physical limit (raw timer + fiber switch loop, measured now): {:.2f} M events/s\n"
        "cost of a seed: its wall time x the limit's events per second, in raw-loop events\n"
        "(a figure that holds across machines); target <= {:.1f} M per seed for the four "
        "simtests\n"
        "disk cost: wall on the simulated disk / wall on RocksDB's memory Env (the medium before\n"
        "issue 16), storage faults off; target <= 1.3 for the four simtests\n\n",
        raw / 1e6, seed_cost_target / 1e6);
    if (options.trace_cost) {
        fmt::print(
            "trace cost: 'off' is a normal run (the hash only); 'unhashed' stops the trace at\n"
            "the first event; 'on' writes the text trace, the Perfetto file and the HTML report\n"
            "(target: on/off <= 2.0; off/unhashed ~ 1.0)\n\n");
    }
    fmt::print("  {:<50} {:>6} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9} {:>11} {:>9}", "scenario",
               "passed", "virtual s", "wall s", "max wall", "speedup", "M events/s", "of limit",
               "M raw/seed", "disk cost");
    if (options.trace_cost) {
        fmt::print(" {:>9} {:>12} {:>7}", "on wall s", "off/unhashed", "on/off");
    }
    fmt::print("\n");
    std::vector<std::pair<std::string, double>> simtests;  // name, raw-loop events per seed
    for (const auto* spec : specs) {
        std::fprintf(stderr, "  running %s ...\r", spec->name.c_str());
        const ScenarioRow row = bench_one(*spec, options.seeds, trace_dir);
        fmt::print("  {:<50} {:>3}/{:<2} {:>10.1f} {:>9.3f} {:>9.3f} {:>8.0f}x {:>10.2f} {:>8.1f}%",
                   row.name, row.passed, options.seeds, row.virtual_mean, row.wall_mean,
                   row.wall_max, row.wall_mean > 0 ? row.virtual_mean / row.wall_mean : 0,
                   row.events_per_s / 1e6, raw > 0 ? 100 * row.events_per_s / raw : 0);
        const double cost = row.wall_mean * raw;  // raw-loop events one seed costs
        fmt::print(" {:>11.2f}", cost / 1e6);
        if (is_simtest(*spec)) {
            simtests.push_back({spec->name, cost});
        }
        if (row.memenv_mean > 0) {
            fmt::print(" {:>8.2f}x", row.wall_mean / row.memenv_mean);
        } else {
            fmt::print(" {:>9}", "n/a");  // a storage-fault scenario: no run without the disk
        }
        if (options.trace_cost) {
            fmt::print(" {:>9.3f} {:>12.2f} {:>7.2f}", row.traced_mean,
                       row.unhashed_mean > 0 ? row.wall_mean / row.unhashed_mean : 0,
                       row.wall_mean > 0 ? row.traced_mean / row.wall_mean : 0);
        }
        fmt::print("\n");
        std::fflush(stdout);
    }
    print_seed_cost_verdict(simtests);
    if (!trace_dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(trace_dir, ec);
    }
    return exit_pass;
}

}  // namespace floe::tools
