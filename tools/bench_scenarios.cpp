#include "tools/bench_scenarios.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "scenarios/scenario.h"
#include "tools/bench_kernel.h"
#include "tools/scenario_commands.h"

namespace floe::tools {

namespace {

struct ScenarioRow {
    std::string name;
    uint64_t passed = 0;
    double wall_mean = 0;
    double wall_max = 0;
    double virtual_mean = 0;
    double events_per_s = 0;  // scheduler steps per wall second
};

ScenarioRow bench_one(const scenarios::ScenarioSpec& spec, uint64_t seeds) {
    ScenarioRow row{spec.name};
    double wall = 0;
    double virtual_seconds = 0;
    double steps = 0;
    for (uint64_t seed = 1; seed <= seeds; ++seed) {
        scenarios::ScenarioRunOptions options;
        options.seed = seed;
        std::string error;
        const auto start = std::chrono::steady_clock::now();
        const auto result = scenarios::run_scenario(spec, options, error);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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
            specs.push_back(&spec);
        }
    }
    const double raw = raw_events_per_second();
    fmt::print("floe bench scenarios: seeds 1..{} per scenario, one core, in process\n",
               options.seeds);
    fmt::print(
        "physical limit (raw timer + fiber switch loop, measured now): {:.2f} M events/s\n"
        "target: <= 0.5 s wall per seed for the four simtests\n\n",
        raw / 1e6);
    fmt::print("  {:<50} {:>6} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9}\n", "scenario", "passed",
               "virtual s", "wall s", "max wall", "speedup", "M events/s", "of limit");
    for (const auto* spec : specs) {
        std::fprintf(stderr, "  running %s ...\r", spec->name.c_str());
        const ScenarioRow row = bench_one(*spec, options.seeds);
        fmt::print(
            "  {:<50} {:>3}/{:<2} {:>10.1f} {:>9.3f} {:>9.3f} {:>8.0f}x {:>10.2f} {:>8.1f}%\n",
            row.name, row.passed, options.seeds, row.virtual_mean, row.wall_mean, row.wall_max,
            row.wall_mean > 0 ? row.virtual_mean / row.wall_mean : 0, row.events_per_s / 1e6,
            raw > 0 ? 100 * row.events_per_s / raw : 0);
        std::fflush(stdout);
    }
    return exit_pass;
}

}  // namespace floe::tools
