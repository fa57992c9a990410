#include "tools/bench_scenarios.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include <stdlib.h>

#include "node/store/store_ops.h"
#include "scenarios/scenario.h"
#include "sim/timeline.h"
#include "tools/bench_kernel.h"
#include "tools/bench_scale.h"
#include "tools/child_output.h"
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
    double floor_mean = 0;     // CPU per seed of its RocksDB calls made again alone (floor_of)
    uint64_t aborted = 0;      // seeds whose process died (a failed assertion): not timed
};

enum class TraceMode { off, unhashed, all_outputs };

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One seed with every visual output on, as `floe run --trace --perfetto --report` writes them.
double run_traced(const scenarios::ScenarioSpec& spec, uint64_t seed,
                  const std::vector<std::string>& sets, const std::string& dir) {
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.sets = sets;
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

// A run of `seed` with `sets` and storage faults turned off, for a run that needs a disk that
// never fails (RocksDB's memory Env, a replay); nullopt for a scenario that is storage faults, or
// sets that asked for them.
std::optional<scenarios::ScenarioRunOptions> faultless_run(const scenarios::ScenarioSpec& spec,
                                                           uint64_t seed,
                                                           const std::vector<std::string>& sets) {
    bool has_param = false;
    if (!can_turn_storage_faults_off(spec, has_param)) {
        return std::nullopt;
    }
    const bool faults_set = std::any_of(sets.begin(), sets.end(), [](const std::string& set) {
        return set.starts_with("storage-faults=");
    });
    if (faults_set && std::find(sets.begin(), sets.end(), "storage-faults=off") == sets.end()) {
        return std::nullopt;
    }
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.sets = sets;
    if (has_param && !faults_set) {
        options.sets.emplace_back("storage-faults=off");
    }
    return options;
}

// One seed on the medium before issue 16 (RocksDB's memory Env, its thread pools), storage
// faults off: what the simulated disk and its lock-step background jobs cost. 0 for a scenario
// that is storage faults (it cannot run there).
double run_on_memenv(const scenarios::ScenarioSpec& spec, uint64_t seed,
                     const std::vector<std::string>& sets) {
    auto faultless = faultless_run(spec, seed, sets);
    if (!faultless.has_value()) {
        return 0;
    }
    scenarios::ScenarioRunOptions& options = *faultless;
    options.rocksdb_memory_env = true;
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    (void)scenarios::run_scenario(spec, options, error);
    return error.empty() ? seconds_since(start) : 0;
}

double cpu_seconds() {
    rusage usage{};
    (void)getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The RocksDB floor under a seed (node/store/store_ops.h): the seed runs once more with its
// stores' calls recorded, then the same calls are made again against RocksDB alone, on its
// memory Env, with floe's options; their CPU time (this process's, RocksDB's flush and
// compaction threads included) is what Walrus's storage calls cost with no simulator around
// them. 0 when the run cannot be replayed faithfully (storage faults on).
double floor_of(const scenarios::ScenarioSpec& spec, uint64_t seed,
                const std::vector<std::string>& sets) {
    auto faultless = faultless_run(spec, seed, sets);
    if (!faultless.has_value()) {
        return 0;
    }
    const scenarios::ScenarioRunOptions& options = *faultless;
    walrus::StoreOpLog log;
    std::string error;
    {
        walrus::StoreOpRecording recording(log);
        (void)scenarios::run_scenario(spec, options, error);
    }
    if (!error.empty()) {
        return 0;
    }
    const double start = cpu_seconds();
    (void)walrus::replay_store_ops(log);
    return cpu_seconds() - start;
}

double run_untraced(const scenarios::ScenarioSpec& spec, uint64_t seed,
                    const std::vector<std::string>& sets) {
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.sets = sets;
    options.fold_trace = false;
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    (void)scenarios::run_scenario(spec, options, error);
    return seconds_since(start);
}

// What one seed measured, in the child process that ran it.
struct SeedSample {
    bool passed = false;
    double wall = 0;
    double virtual_seconds = 0;
    double steps = 0;
    double unhashed = 0;
    double traced = 0;
    double memenv = 0;
    double floor = 0;
};

constexpr std::string_view sample_tag = "floe-bench-seed";

// The child's side: one seed, every timing asked for, printed as one tagged line.
int bench_one_seed(const scenarios::ScenarioSpec& spec, uint64_t seed, bool trace_cost,
                   const std::vector<std::string>& sets) {
    SeedSample sample;
    if (trace_cost) {
        char pattern[] = "/tmp/floe-bench-XXXXXX";
        if (mkdtemp(pattern) == nullptr) {
            fmt::print(stderr, "floe: cannot create a temporary directory for the trace files\n");
            return exit_usage;
        }
        sample.unhashed = run_untraced(spec, seed, sets);
        sample.traced = run_traced(spec, seed, sets, pattern);
        std::error_code ec;
        std::filesystem::remove_all(pattern, ec);
    }
    sample.memenv = run_on_memenv(spec, seed, sets);
    sample.floor = floor_of(spec, seed, sets);
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.sets = sets;
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    const auto result = scenarios::run_scenario(spec, options, error);
    sample.wall = seconds_since(start);
    sample.passed = result.result.passed();
    sample.virtual_seconds = static_cast<double>(result.result.end_time.ns()) / 1e9;
    sample.steps = static_cast<double>(result.result.steps);
    fmt::print("{} {} {:.9f} {:.9f} {:.0f} {:.9f} {:.9f} {:.9f} {:.9f}\n", sample_tag,
               sample.passed ? 1 : 0, sample.wall, sample.virtual_seconds, sample.steps,
               sample.unhashed, sample.traced, sample.memenv, sample.floor);
    return exit_pass;
}

std::optional<SeedSample> parse_sample(const std::string& text) {
    std::istringstream in(text);
    std::string tag;
    int passed = 0;
    SeedSample sample;
    in >> tag >> passed >> sample.wall >> sample.virtual_seconds >> sample.steps >>
        sample.unhashed >> sample.traced >> sample.memenv >> sample.floor;
    if (!in || tag != sample_tag) {
        return std::nullopt;
    }
    sample.passed = passed == 1;
    return sample;
}

// A seed that aborts (a failed assertion is a bug, and some scenarios reach one as Walrus is,
// FINDINGS F5) must not take the bench with it: each seed runs in its own process, its stdout
// read back, its stderr kept to say why it died. Only the seed's runs are timed, not the spawn.
struct SeedOutcome {
    std::optional<SeedSample> sample;
    std::string died;  // why the child gave no sample: its first stderr line, or its exit
};

SeedOutcome run_seed_child(const std::string& self, const std::string& scenario, uint64_t seed,
                           const ScenarioBenchOptions& bench) {
    std::vector<std::string> args = {self,     "bench",      "scenarios",
                                     scenario, "--one-seed", std::to_string(seed)};
    if (!bench.trace_cost) {
        args.emplace_back("--no-trace-cost");
    }
    for (const std::string& set : bench.sets) {
        args.emplace_back("--set");
        args.push_back(set);
    }
    const ChildOutput child = run_child(args);
    SeedOutcome outcome;
    outcome.sample = parse_sample(child.out);
    if (!outcome.sample.has_value()) {
        const std::string first = child.err.substr(0, child.err.find('\n'));
        outcome.died = !first.empty() ? first : fmt::format("the child {}", child.how_it_ended);
    }
    return outcome;
}

ScenarioRow bench_one(const std::string& self, const scenarios::ScenarioSpec& spec,
                      const ScenarioBenchOptions& bench, std::vector<std::string>& deaths) {
    const uint64_t seeds = bench.seeds;
    ScenarioRow row{spec.name};
    double wall = 0;
    double virtual_seconds = 0;
    double steps = 0;
    for (uint64_t seed = 1; seed <= seeds; ++seed) {
        const SeedOutcome outcome = run_seed_child(self, spec.name, seed, bench);
        if (!outcome.sample.has_value()) {
            ++row.aborted;
            deaths.push_back(fmt::format("{} seed {}: {}", spec.name, seed, outcome.died));
            continue;
        }
        const SeedSample& sample = *outcome.sample;
        row.passed += sample.passed ? 1 : 0;
        wall += sample.wall;
        row.wall_max = std::max(row.wall_max, sample.wall);
        virtual_seconds += sample.virtual_seconds;
        steps += sample.steps;
        row.unhashed_mean += sample.unhashed;
        row.traced_mean += sample.traced;
        row.memenv_mean += sample.memenv;
        row.floor_mean += sample.floor;
    }
    const auto timed = static_cast<double>(seeds - row.aborted);
    if (timed > 0) {
        row.wall_mean = wall / timed;
        row.virtual_mean = virtual_seconds / timed;
        row.unhashed_mean /= timed;
        row.traced_mean /= timed;
        row.memenv_mean /= timed;
        row.floor_mean /= timed;
    }
    row.events_per_s = wall > 0 ? steps / wall : 0;
    return row;
}

// Issue 18's target: a simtest seed at most this many raw-loop events (wall x the limit).
constexpr double seed_cost_target = 1e6;

bool is_simtest(const scenarios::ScenarioSpec& spec) {
    return spec.mirrors.starts_with("simtest ");
}

// A simtest's cost of a seed and the RocksDB floor under it, in raw-loop events.
struct SimtestCost {
    std::string name;
    double cost = 0;
    double floor = 0;
};

// The verdict on the target, from the simtests measured (none: no verdict), and where the
// RocksDB floor puts it.
void print_seed_cost_verdict(const std::vector<SimtestCost>& simtests,
                             const std::vector<std::string>& unmeasured) {
    if (!unmeasured.empty()) {
        fmt::print("\nseed cost of the simtests: NOT measured, a seed of {} died\n",
                   fmt::join(unmeasured, ", "));
        return;
    }
    if (simtests.empty()) {
        return;
    }
    const auto worst =
        std::max_element(simtests.begin(), simtests.end(),
                         [](const auto& a, const auto& b) { return a.cost < b.cost; });
    fmt::print(
        "\nseed cost of the simtests: worst {:.2f} M raw-loop events ({}), target <= {:.1f} M: "
        "{}\n",
        worst->cost / 1e6, worst->name, seed_cost_target / 1e6,
        worst->cost <= seed_cost_target ? "met" : "NOT met");
    const auto highest_floor =
        std::max_element(simtests.begin(), simtests.end(),
                         [](const auto& a, const auto& b) { return a.floor < b.floor; });
    if (highest_floor->floor <= 0) {
        return;
    }
    fmt::print(
        "RocksDB floor of the simtests (their stores' calls made again, RocksDB alone): "
        "highest {:.2f} M raw-loop events ({}), {} the target; above it, {:.2f} M of the worst "
        "seed is floe's\n",
        highest_floor->floor / 1e6, highest_floor->name,
        highest_floor->floor <= seed_cost_target ? "below" : "ABOVE",
        (worst->cost - worst->floor) / 1e6);
    // What floe adds to RocksDB, as a ratio that holds across machines and sizes.
    const SimtestCost* heaviest = nullptr;
    for (const SimtestCost& simtest : simtests) {
        if (simtest.floor > 0 && (heaviest == nullptr || simtest.cost / simtest.floor >
                                                             heaviest->cost / heaviest->floor)) {
            heaviest = &simtest;
        }
    }
    fmt::print("seed cost / RocksDB floor of the simtests: highest {:.2f}x ({})\n",
               heaviest->cost / heaviest->floor, heaviest->name);
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

int bench_scenarios_command(const std::string& self, const ScenarioBenchOptions& options) {
    if (options.one_seed != 0) {
        if (options.scenarios.size() != 1 || check_scenario_name(options.scenarios[0]) != "") {
            fmt::print(stderr, "floe: bench scenarios --one-seed takes exactly one scenario\n");
            return exit_usage;
        }
        const scenarios::ScenarioSpec& spec = *scenarios::find_scenario(options.scenarios[0]);
        if (options.floor_only) {
            fmt::print("{} {:.9f}\n", floor_tag, floor_of(spec, options.one_seed, options.sets));
            return exit_pass;
        }
        return bench_one_seed(spec, options.one_seed, options.trace_cost, options.sets);
    }
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
    for (const auto* spec : specs) {
        if (auto error = check_sets(spec->name, options.sets); !error.empty()) {
            fmt::print(stderr, "floe: bench scenarios: {}: {}\n", spec->name, error);
            return exit_usage;
        }
    }
    const double raw = raw_events_per_second();
    fmt::print(
        "floe bench scenarios: seeds 1..{} per scenario, one core, each seed in its own "
        "process{}\n",
        options.seeds,
        options.sets.empty() ? "" : fmt::format(", --set {}", fmt::join(options.sets, " --set ")));
    fmt::print(
        "physical limit (raw timer + fiber switch loop, measured now): {:.2f} M events/s\n"
        "cost of a seed: its wall time x the limit's events per second, in raw-loop events\n"
        "(a figure that holds across machines); target <= {:.1f} M per seed for the four "
        "simtests\n"
        "RocksDB floor: the CPU time of a seed's storage calls made again against RocksDB alone\n"
        "(its memory Env, floe's options, no simulator), storage faults off, in raw-loop events\n"
        "disk cost: wall on the simulated disk / wall on RocksDB's memory Env (the medium before\n"
        "issue 16), storage faults off; target <= 1.3 for the four simtests\n\n",
        raw / 1e6, seed_cost_target / 1e6);
    if (options.trace_cost) {
        fmt::print(
            "trace cost: 'off' is a normal run (the hash only); 'unhashed' stops the trace at\n"
            "the first event; 'on' writes the text trace, the Perfetto file and the HTML report\n"
            "(target: on/off <= 2.0; off/unhashed ~ 1.0)\n\n");
    }
    fmt::print("  {:<50} {:>6} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9} {:>11} {:>11} {:>9}",
               "scenario", "passed", "virtual s", "wall s", "max wall", "speedup", "M events/s",
               "of limit", "M raw/seed", "M raw floor", "disk cost");
    if (options.trace_cost) {
        fmt::print(" {:>9} {:>12} {:>7}", "on wall s", "off/unhashed", "on/off");
    }
    fmt::print("\n");
    std::vector<SimtestCost> simtests;
    std::vector<std::string> deaths;               // seeds whose process died
    std::vector<std::string> unmeasured_simtests;  // simtests with a seed that died
    for (const auto* spec : specs) {
        std::fprintf(stderr, "  running %s ...\r", spec->name.c_str());
        const ScenarioRow row = bench_one(self, *spec, options, deaths);
        if (is_simtest(*spec) && row.aborted > 0) {
            unmeasured_simtests.push_back(spec->name);
        }
        if (row.aborted == options.seeds) {
            fmt::print("  {:<50} {:>3}/{:<2} every seed's process died (below)\n", row.name, 0,
                       options.seeds);
            continue;
        }
        fmt::print("  {:<50} {:>3}/{:<2} {:>10.1f} {:>9.3f} {:>9.3f} {:>8.0f}x {:>10.2f} {:>8.1f}%",
                   row.name, row.passed, options.seeds, row.virtual_mean, row.wall_mean,
                   row.wall_max, row.wall_mean > 0 ? row.virtual_mean / row.wall_mean : 0,
                   row.events_per_s / 1e6, raw > 0 ? 100 * row.events_per_s / raw : 0);
        const double cost = row.wall_mean * raw;    // raw-loop events one seed costs
        const double floor = row.floor_mean * raw;  // the same for its RocksDB calls alone
        fmt::print(" {:>11.2f}", cost / 1e6);
        if (floor > 0) {
            fmt::print(" {:>11.2f}", floor / 1e6);
        } else {
            fmt::print(" {:>11}", "n/a");  // storage faults: not replayed faithfully
        }
        if (is_simtest(*spec) && row.aborted == 0) {
            simtests.push_back({spec->name, cost, floor});
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
    if (!deaths.empty()) {
        fmt::print("\nseeds whose process died (counted as not passed, not timed):\n");
        for (const std::string& death : deaths) {
            fmt::print("  {}\n", death);
        }
    }
    print_seed_cost_verdict(simtests, unmeasured_simtests);
    return exit_pass;
}

}  // namespace floe::tools
