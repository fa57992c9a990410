// The `floe` command line. The only translation unit that includes CLI11 (it costs ~4 s to
// compile); everything a command does lives in its own file.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <thread>

#include "scenarios/cluster.h"  // the fail-point lists of `sweep --summary`
#include "sim/assert.h"
#include "tools/bench_kernel.h"
#include "tools/bench_scale.h"
#include "tools/bench_scenarios.h"
#include "tools/bench_search.h"
#include "tools/child_sweep.h"
#include "tools/hunt_commands.h"
#include "tools/kernel_demo.h"
#include "tools/scenario_commands.h"
#include "tools/seed_range.h"
#include "tools/shrink_command.h"
#include "tools/sweep_commands.h"
#include "tools/sweep_summary.h"

namespace {

using floe::tools::DemoOptions;

int fail_usage(const std::string& message) {
    fmt::print(stderr, "floe: {}\n", message);
    return 2;
}

std::string hex(uint64_t value) {
    return fmt::format("{:016x}", value);
}

// Parses --seeds; a text trace only makes sense for one seed.
std::optional<floe::tools::SeedRange> seeds_for(const std::string& seeds_text,
                                                const std::string& trace_path, std::string& error) {
    auto seeds = floe::tools::parse_seed_range(seeds_text, error);
    if (seeds && !trace_path.empty() && seeds->count() != 1) {
        error = "--trace needs a single seed";
        return std::nullopt;
    }
    return seeds;
}

// Runs every seed of `seeds`: sets the repro command a failed assertion prints, times the run,
// prints one row, and for a failed seed its message and the command that reproduces it.
// `run(seed, error)` returns a report with a `result`; `row(seed, report, wall_ms)` formats it.
template <class Run, class Row>
int run_seeds(const floe::tools::SeedRange& seeds,
              const std::function<std::string(uint64_t)>& repro_for, Run run, Row row) {
    uint64_t failed = 0;
    for (uint64_t seed = seeds.first; seed <= seeds.last; ++seed) {
        const std::string repro = repro_for(seed);
        sim::set_repro_context(repro);
        std::string error;
        const auto start = std::chrono::steady_clock::now();
        const auto report = run(seed, error);
        if (!error.empty()) {
            return fail_usage(error);
        }
        const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
        fmt::print("{}\n", row(seed, report, wall_ms));
        if (!report.result.passed()) {
            ++failed;
            fmt::print("          {}\n          reproduce: {}\n", report.result.message, repro);
        }
        std::fflush(stdout);
    }
    fmt::print("\n{} seeds: {} passed, {} failed\n", seeds.count(), seeds.count() - failed, failed);
    return failed == 0 ? 0 : 1;
}

int run_demo(const std::string& seeds_text, DemoOptions options) {
    std::string error;
    const auto seeds = seeds_for(seeds_text, options.trace_path, error);
    if (!seeds) {
        return fail_usage(error);
    }
    const int64_t seconds = options.duration.ns() / 1'000'000'000;
    fmt::print(
        "floe demo: kernel demo, {} hosts replicating counters under crashes, partitions "
        "and a crash fail point; {} s virtual per seed\n\n",
        options.hosts, seconds);
    fmt::print("  {:>6}  {:<9}  {:>12}  {:>9}  {:>8}  {:>7}  {:>7}  {:>8}  {:<16}\n", "seed",
               "outcome", "virtual", "events", "rpc ok", "failed", "crashes", "wall ms",
               "trace hash");
    return run_seeds(
        *seeds,
        [&](uint64_t seed) {
            return fmt::format("floe demo --seed {} --hosts {} --seconds {}", seed, options.hosts,
                               seconds);
        },
        [&](uint64_t seed, std::string& run_error) {
            options.seed = seed;
            return floe::tools::run_kernel_demo(options, run_error);
        },
        [](uint64_t seed, const floe::tools::DemoReport& report, int64_t wall_ms) {
            const auto& r = report.result;
            return fmt::format("  {:>6}  {:<9}  {:>12}  {:>9}  {:>8}  {:>7}  {:>7}  {:>8}  {:<16}",
                               seed, r.outcome(), r.end_time.to_string(), r.trace_events,
                               report.rpc_ok, report.rpc_failed,
                               report.crashes + report.fail_point_fires, wall_ms,
                               hex(r.trace_hash));
        });
}

// The running executable, so sweep children run exactly this build, pinned (pin_executable): a
// relink under a long hunt made hundreds of its children fail to exec, and one that succeeded
// would have mixed two builds in one results file.
std::string self_path(const char* argv0) {
    const std::string pinned = floe::tools::pin_executable("/proc/self/exe");
    return pinned == "/proc/self/exe" ? floe::tools::pin_executable(argv0) : pinned;
}

std::vector<std::string> known_fail_points() {
    std::vector<std::string> out = floe::scenarios::crash_node_fail_points;
    out.insert(out.end(), floe::scenarios::model_fail_points.begin(),
               floe::scenarios::model_fail_points.end());
    out.insert(out.end(), floe::scenarios::fs_fail_points.begin(),
               floe::scenarios::fs_fail_points.end());
    return out;
}

int run_bench_kernel(floe::tools::KernelBenchOptions options) {
    const auto report = floe::tools::run_kernel_bench(options, stderr);
    floe::tools::print_kernel_bench(options, report, stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"floe: a deterministic simulator for Walrus-style storage nodes"};
    app.require_subcommand(1);

    std::string seeds_text = "1";
    DemoOptions demo;
    int64_t demo_seconds = 60;
    auto* demo_cmd = app.add_subcommand("demo", "run the kernel demo world on one or more seeds");
    demo_cmd->add_option("--seed,--seeds", seeds_text, "a seed N or an inclusive range A..B");
    demo_cmd->add_option("--hosts", demo.hosts, "number of hosts (2..1000)");
    demo_cmd->add_option("--seconds", demo_seconds, "virtual seconds per seed")
        ->check(CLI::Range(int64_t{1}, int64_t{86'400}));
    demo_cmd->add_option("--trace", demo.trace_path, "write a text trace (single seed)");

    auto* list_cmd = app.add_subcommand(
        "list", "scenarios with descriptions and parameters; fail points; probes; behaviours");
    bool list_probes = false;
    bool list_fail_points = false;
    list_cmd->add_flag("--probes", list_probes,
                       "only the probes of the catalog (node/sites.def), with what each means");
    list_cmd->add_flag("--fail-points", list_fail_points,
                       "only the fail points of the catalog, with their kind and meaning");

    const std::string sched_help =
        "the order of same-instant events: random (default), pct:D[:K] (PCT, depth D, change "
        "points among the first K choice points, K default 30000), starve[:P] (one host's "
        "entries wait; the starvation ends with probability P per choice point, default 0.2)";

    floe::tools::RunArgs run_args;
    // Seeds are read as text: CLI11 would wrap "-1" to 2^64-1 and saturate an overflow.
    std::string run_seed;
    auto* run_cmd = app.add_subcommand("run", "run one scenario on one seed, with a summary");
    run_cmd->add_option("scenario", run_args.scenario, "scenario name (floe list)")->required();
    auto* run_seed_opt =
        run_cmd->add_option("--seed", run_seed, "the seed (default: drawn at random, printed)");
    run_cmd->add_option("--set", run_args.sets, "override a parameter: key=value (repeatable)");
    std::vector<std::string> run_old;
    std::vector<std::string> run_new;
    run_cmd->add_option("--old-behaviour", run_old,
                        "switch an old Walrus behaviour back on (repeatable)");
    run_cmd->add_option("--new-behaviour", run_new,
                        "switch on a fix of a Walrus finding (repeatable; docs/FINDINGS.md)");
    run_cmd->add_option("--trace", run_args.trace_path, "write the text trace to this file");
    run_cmd->add_option("--perfetto", run_args.perfetto_path,
                        "write a Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing)");
    run_cmd->add_option("--report", run_args.report_path,
                        "write a self-contained HTML timeline of the run");
    run_cmd->add_option("--data-dir", run_args.data_dir,
                        "each node's RocksDB under this new or empty directory (default: memory)");
    run_cmd->add_option("--sched", run_args.sched, sched_help);
    run_cmd->add_flag("--json", run_args.json, "print one JSON object instead of a summary");
    run_cmd->add_option("--record-faults", run_args.record_faults,
                        "write the run's fault schedule (JSON) to this file, also when it fails");
    run_cmd->add_option("--faults", run_args.faults,
                        "replay the fault schedule of this file (floe shrink writes them); the "
                        "seed still drives everything else");

    floe::tools::SweepArgs sweep;
    sweep.jobs = std::max(1u, std::thread::hardware_concurrency());
    auto* sweep_cmd = app.add_subcommand(
        "sweep", "run scenarios over a seed range, each seed in its own process");
    sweep_cmd->add_option("scenarios", sweep.scenarios, "scenario names (or --all)");
    sweep_cmd->add_flag("--all", sweep.all, "every scenario");
    sweep_cmd->add_option("--seeds", sweep.seeds, "an inclusive seed range A..B (or one seed)");
    std::vector<std::string> summary_paths;
    sweep_cmd->add_option("--summary", summary_paths,
                          "summarize results files (JSON Lines from --out; several merge, a seed "
                          "recorded twice keeps its latest record) instead of running");
    bool summary_no_times = false;
    sweep_cmd->add_flag("--no-times", summary_no_times,
                        "with --summary: leave out wall-clock figures, so summaries of the same "
                        "seeds compare equal");
    std::string explain_path;
    sweep_cmd->add_option("--explain", explain_path,
                          "re-run each failed seed of a results file that reached a Walrus "
                          "finding's condition with its fix; list what stays unexplained");
    sweep_cmd->add_option("--jobs,-j", sweep.jobs, "seeds running at once (default: cores)");
    sweep_cmd->add_option("--shard", sweep.shard,
                          "K/N: run only the runs of shard K of N (a run's shard depends on its "
                          "scenario and seed only; docs/distributed.md)");
    sweep_cmd->add_flag("--dry-run", sweep.dry_run,
                        "print 'SCENARIO SEED' for each run this sweep (shard) would make; run "
                        "nothing");
    sweep_cmd->add_option("--out", sweep.out_path, "append one JSON object per seed here");
    sweep_cmd->add_option("--junit", sweep.junit_path,
                          "write a JUnit XML report (one testsuite per scenario, one testcase "
                          "per seed)");
    sweep_cmd->add_option("--set", sweep.sets, "override a parameter (one scenario only)");
    std::vector<std::string> sweep_old;
    std::vector<std::string> sweep_new;
    sweep_cmd->add_option("--old-behaviour", sweep_old, "switch an old behaviour on");
    sweep_cmd->add_option("--new-behaviour", sweep_new, "switch a fix of a Walrus finding on");
    sweep_cmd->add_option("--sched", sweep.sched, sched_help);

    floe::tools::HuntArgs hunt;
    hunt.jobs = std::max(1u, std::thread::hardware_concurrency());
    auto* hunt_cmd = app.add_subcommand(
        "hunt",
        "run fresh seeds until the time is up, each in its own process, writing JSON Lines as "
        "it goes; end with the failures grouped by signature");
    hunt_cmd->add_option("scenarios", hunt.scenarios,
                         "scenario names (default: every scenario sweep --all runs)");
    hunt_cmd->add_option("--for", hunt.duration, "how long: 30s, 10m, 8h")->required();
    hunt_cmd->add_option("--jobs,-j", hunt.jobs, "seeds running at once (default: cores)");
    hunt_cmd->add_option("--out", hunt.out_path,
                         "append one JSON object per seed here (default floe-hunt-SEED.jsonl)");
    std::string hunt_from;
    auto* hunt_from_opt = hunt_cmd->add_option(
        "--from", hunt_from, "the first seed (default: drawn at random, printed)");
    hunt_cmd->add_option("--set", hunt.sets, "override a parameter (one scenario only)");
    hunt_cmd->add_option("--sched", hunt.sched, sched_help);
    std::vector<std::string> hunt_old;
    std::vector<std::string> hunt_new;
    hunt_cmd->add_option("--old-behaviour", hunt_old, "switch an old behaviour on");
    hunt_cmd->add_option("--new-behaviour", hunt_new, "switch a fix of a Walrus finding on");

    floe::tools::PromoteArgs promote;
    std::string promote_seed;
    auto* promote_cmd = app.add_subcommand(
        "promote",
        "keep a failed run of a results file in the regression gate: append its gate line to "
        "tools/gate.txt");
    promote_cmd->add_option("results", promote.results, "JSON Lines files (hunt or sweep)")
        ->required();
    promote_cmd->add_option("--scenario", promote.scenario, "the failed run's scenario")
        ->required();
    promote_cmd->add_option("--seed", promote_seed, "the failed run's seed")->required();
    promote_cmd->add_option("--list", promote.list_path, "the gate list (default tools/gate.txt)");
    promote_cmd->add_option("--note", promote.note,
                            "why the seed is kept (default: its failure signature)");

    std::string det_scenario;
    std::string det_seed;
    std::vector<std::string> det_sets;
    std::vector<std::string> det_old;
    auto* det_cmd = app.add_subcommand(
        "check-determinism", "run a seed twice in separate processes and compare the traces");
    det_cmd->add_option("scenario", det_scenario, "scenario name")->required();
    det_cmd->add_option("--seed", det_seed, "the seed")->required();
    det_cmd->add_option("--set", det_sets, "override a parameter: key=value");
    std::vector<std::string> det_new;
    det_cmd->add_option("--old-behaviour", det_old, "switch an old behaviour on");
    det_cmd->add_option("--new-behaviour", det_new, "switch a fix of a Walrus finding on");
    std::string det_sched = "random";
    det_cmd->add_option("--sched", det_sched, sched_help);

    floe::tools::ShrinkArgs shrink;
    std::string shrink_seed;
    std::vector<std::string> shrink_sets;
    std::vector<std::string> shrink_old;
    std::vector<std::string> shrink_new;
    auto* shrink_cmd = app.add_subcommand(
        "shrink",
        "from a failing run to a minimal repro: record its fault schedule, then cut it down "
        "(ddmin) and shorten it while the run fails the same way");
    shrink_cmd->add_option("scenario", shrink.scenario, "scenario name (floe list)")->required();
    shrink_cmd->add_option("--seed", shrink_seed, "the failing seed")->required();
    shrink_cmd->add_option("--set", shrink_sets, "a parameter of the failing run (repeatable)");
    shrink_cmd->add_option("--old-behaviour", shrink_old, "an old behaviour of the failing run");
    shrink_cmd->add_option("--new-behaviour", shrink_new, "a new behaviour of the failing run");
    std::string shrink_sched;
    shrink_cmd->add_option("--sched", shrink_sched, sched_help);
    shrink_cmd->add_option("--jobs,-j", shrink.jobs, "runs at once (default 1)")
        ->check(CLI::Range(1u, 256u));
    shrink_cmd->add_option("--out", shrink.out_path,
                           "the minimal schedule (default floe-shrink-SCENARIO-SEED.json)");
    shrink_cmd->add_option("--max-runs", shrink.max_runs, "stop cutting after this many runs")
        ->check(CLI::Range(uint64_t{1}, uint64_t{100000}));

    floe::tools::GateArgs gate;
    gate.jobs = std::max(1u, std::thread::hardware_concurrency());
    auto* gate_cmd = app.add_subcommand(
        "gate",
        "the regression gate: the checked-in (scenario, seeds) list, determinism, and "
        "every negative scenario failing with its switch on");
    gate_cmd->add_option("--list", gate.list_path, "the gate list (default tools/gate.txt)");
    gate_cmd->add_option("--only", gate.only, "run only the checks of this kind")
        ->check(CLI::IsMember({"pass", "fail", "walrus", "fixed", "determinism"}));
    gate_cmd->add_option("--jobs,-j", gate.jobs, "seeds running at once (default: cores)")
        ->check(CLI::Range(1u, 256u));
    gate_cmd->add_option("--junit", gate.junit_path,
                         "write a JUnit XML report (one testsuite per scenario, one testcase per "
                         "gate line)");
    gate_cmd->add_flag("--write-reached", gate.write_reached,
                       "rewrite the reach file (tools/gate.reached) from this run's sites "
                       "instead of checking it");

    std::string diff_left;
    std::string diff_right;
    auto* diff_cmd =
        app.add_subcommand("diff", "the first differing event of two text traces (--trace)");
    diff_cmd->add_option("left", diff_left, "a text trace")->required();
    diff_cmd->add_option("right", diff_right, "another text trace")->required();

    auto* bench_cmd = app.add_subcommand("bench", "benchmarks against measured physical limits");
    bench_cmd->require_subcommand(1);
    floe::tools::KernelBenchOptions bench;
    auto* bench_kernel = bench_cmd->add_subcommand("kernel", "scheduler events/s vs a raw loop");
    bench_kernel->add_option("--events", bench.events, "events per measurement")
        ->check(CLI::Range(uint64_t{1'000}, uint64_t{1'000'000'000}));
    bench_kernel->add_option("--repetitions", bench.repetitions, "measurements per row (median)")
        ->check(CLI::Range(1, 100));

    floe::tools::ScenarioBenchOptions bench_sc;
    auto* bench_scenarios = bench_cmd->add_subcommand(
        "scenarios", "wall time per seed and virtual/wall ratio of each scenario, one core");
    bench_scenarios->add_option("names", bench_sc.scenarios, "scenarios (default: all)");
    bench_scenarios->add_option("--seeds", bench_sc.seeds, "seeds 1..N per scenario")
        ->check(CLI::Range(uint64_t{1}, uint64_t{10'000}));
    bool no_trace_cost = false;
    bench_scenarios->add_flag("--no-trace-cost", no_trace_cost,
                              "skip the trace-off and trace-on timings (a third of the time)");
    bench_scenarios->add_option("--set", bench_sc.sets,
                                "key=value for every scenario benched (a shape, "
                                "column-families=batched, ...)");
    bench_scenarios->add_option("--one-seed", bench_sc.one_seed)
        ->group("")  // internal: the child process that times one seed
        ->check(CLI::Range(uint64_t{1}, std::numeric_limits<uint64_t>::max()));
    bench_scenarios->add_flag("--floor-only", bench_sc.floor_only)
        ->group("");  // internal: with --one-seed, only the RocksDB floor (floe bench scale)

    floe::tools::ScaleBenchOptions scale;
    auto* bench_scale = bench_cmd->add_subcommand(
        "scale",
        "wall time and peak memory of mainnet-shape as nodes, shards and blobs grow one at a "
        "time, with each one's growth exponent and the memory per node and per blob");
    struct SizeOption {
        const char* flag;
        uint64_t* value;
        const char* help;
    };
    for (const SizeOption& option :
         {SizeOption{"--base-nodes", &scale.base.nodes, "nodes at the base (default 10)"},
          SizeOption{"--base-shards", &scale.base.shards, "shards at the base (default 100)"},
          SizeOption{"--base-blobs", &scale.base.blobs, "blobs at the base (default 100)"},
          SizeOption{"--max-nodes", &scale.max.nodes, "the most nodes (default 100)"},
          SizeOption{"--max-shards", &scale.max.shards, "the most shards (default 1000)"},
          SizeOption{"--max-blobs", &scale.max.blobs, "the most blobs (default 10000)"}}) {
        bench_scale->add_option(option.flag, *option.value, option.help)
            ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
    }
    bench_scale->add_option("--points", scale.points, "points per size (default 4)")
        ->check(CLI::Range(uint64_t{2}, uint64_t{20}));
    bench_scale->add_option("--seed", scale.seed, "the seed of every point (default 1)");

    floe::tools::SearchOptions search;
    search.jobs = std::max(1u, std::thread::hardware_concurrency());
    auto* bench_search = bench_cmd->add_subcommand(
        "search",
        "seeds to the first failure of each old-behaviour switch in the swarm, per search "
        "strategy: the median over starting seeds, and the ratio to uniform random");
    bench_search->add_option("--strategies", search.strategies,
                             "a,b: random, buggify, pct, starve (default: all)");
    bench_search->add_option("--targets", search.targets,
                             "a,b: old-behaviour switches (default: all; floe list)");
    bench_search->add_option("--epochs", search.epochs, "the swarm's epochs (default 8)")
        ->check(CLI::Range(1u, 200u));
    bench_search->add_option("--starts", search.starts, "starting seeds 1, 1001, ... (default 3)")
        ->check(CLI::Range(1u, 100u));
    bench_search->add_option("--max-seeds", search.max_seeds, "seeds per search (default 100)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1'000}));
    bench_search->add_option("--jobs,-j", search.jobs, "seeds running at once (default: cores)")
        ->check(CLI::Range(1u, 256u));
    bench_search->add_option("--json", search.json_path, "write the raw numbers to this file");
    bool search_with_fixes = false;
    bench_search->add_flag("--with-fixes", search_with_fixes,
                           "run every search with the fixes of the known Walrus findings on "
                           "(docs/FINDINGS.md), so a strategy that reaches one first does not "
                           "hide the planted bug");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        return app.exit(help);
    } catch (const CLI::CallForAllHelp& help) {
        return app.exit(help);
    } catch (const CLI::ParseError& error) {
        // One line, so scripts and people see exactly what was wrong.
        fmt::print(stderr, "floe: {} (see floe --help)\n", error.what());
        return floe::tools::exit_usage;
    }
    if (demo_cmd->parsed()) {
        demo.duration = sim::Duration::seconds(demo_seconds);
        return run_demo(seeds_text, demo);
    }
    if (list_cmd->parsed()) {
        if (list_probes || list_fail_points) {
            if (list_fail_points) {
                floe::tools::list_sites(stdout, false);
            }
            if (list_probes) {
                floe::tools::list_sites(stdout, true);
            }
            return 0;
        }
        return floe::tools::list_command(stdout);
    }
    if (run_cmd->parsed()) {
        if (auto error = floe::tools::collect_behaviours(run_old, run_new, run_args.old_behaviours);
            !error.empty()) {
            return fail_usage(error);
        }
        if (run_seed_opt->count() > 0) {
            std::string error;
            const auto seed = floe::tools::parse_one_seed(run_seed, error);
            if (!seed) {
                return fail_usage(error);
            }
            run_args.seed = *seed;
        }
        return floe::tools::run_command(run_args);
    }
    const std::string self = self_path(argv[0]);
    if (sweep_cmd->parsed() && !explain_path.empty()) {
        return floe::tools::explain_command(self, explain_path, sweep.jobs);
    }
    if (sweep_cmd->parsed() && !summary_paths.empty()) {
        return floe::tools::sweep_summary_command(summary_paths, known_fail_points(), stdout,
                                                  floe::scenarios::model_probes,
                                                  {.times = !summary_no_times});
    }
    if (hunt_cmd->parsed()) {
        if (hunt_from_opt->count() > 0) {
            std::string error;
            const auto seed = floe::tools::parse_one_seed(hunt_from, error);
            if (!seed) {
                return fail_usage(error);
            }
            hunt.first_seed = *seed;
        }
        if (auto error = floe::tools::collect_behaviours(hunt_old, hunt_new, hunt.behaviours);
            !error.empty()) {
            return fail_usage(error);
        }
        return floe::tools::hunt_command(self, hunt);
    }
    if (promote_cmd->parsed()) {
        std::string error;
        const auto seed = floe::tools::parse_one_seed(promote_seed, error);
        if (!seed) {
            return fail_usage(error);
        }
        promote.seed = *seed;
        return floe::tools::promote_command(self, promote);
    }
    if (sweep_cmd->parsed()) {
        if (auto error =
                floe::tools::collect_behaviours(sweep_old, sweep_new, sweep.old_behaviours);
            !error.empty()) {
            return fail_usage(error);
        }
        return floe::tools::sweep_command(self, sweep);
    }
    if (det_cmd->parsed()) {
        std::string error;
        const auto seed = floe::tools::parse_one_seed(det_seed, error);
        if (!seed) {
            return fail_usage(error);
        }
        std::vector<std::string> det_switches;
        if (error = floe::tools::collect_behaviours(det_old, det_new, det_switches);
            !error.empty()) {
            return fail_usage(error);
        }
        return floe::tools::check_determinism_command(self, det_scenario, *seed, det_sets,
                                                      det_switches, det_sched);
    }
    if (shrink_cmd->parsed()) {
        std::string error;
        const auto seed = floe::tools::parse_one_seed(shrink_seed, error);
        if (!seed) {
            return fail_usage(error);
        }
        shrink.seed = *seed;
        if (error = floe::tools::check_scenario_name(shrink.scenario); !error.empty()) {
            return fail_usage(error);
        }
        for (const std::string& set : shrink_sets) {
            shrink.run_options.insert(shrink.run_options.end(), {"--set", set});
        }
        for (const std::string& name : shrink_old) {
            shrink.run_options.insert(shrink.run_options.end(), {"--old-behaviour", name});
        }
        for (const std::string& name : shrink_new) {
            shrink.run_options.insert(shrink.run_options.end(), {"--new-behaviour", name});
        }
        if (!shrink_sched.empty()) {
            if (!floe::tools::parse_sched(shrink_sched, error)) {
                return fail_usage(error);
            }
            shrink.run_options.insert(shrink.run_options.end(), {"--sched", shrink_sched});
        }
        return floe::tools::shrink_command(self, shrink);
    }
    if (gate_cmd->parsed()) {
        return floe::tools::gate_command(self, gate);
    }
    if (diff_cmd->parsed()) {
        return floe::tools::diff_command(diff_left, diff_right);
    }
    if (bench_scenarios->parsed()) {
        bench_sc.trace_cost = !no_trace_cost;
        return floe::tools::bench_scenarios_command(self, bench_sc);
    }
    if (bench_scale->parsed()) {
        if (scale.max.nodes < scale.base.nodes || scale.max.shards < scale.base.shards ||
            scale.max.blobs < scale.base.blobs) {
            fmt::print(stderr, "floe: bench scale: every --max-* must be at least its --base-*\n");
            return 2;
        }
        return floe::tools::bench_scale_command(self, scale);
    }
    if (bench_search->parsed()) {
        std::vector<std::string> switches;
        for (const auto& info : walrus::behaviour_switches()) {
            if (info.kind == walrus::BehaviourKind::old_behaviour) {
                switches.emplace_back(info.name);
            }
        }
        if (search_with_fixes) {
            for (const auto& info : walrus::behaviour_switches()) {
                if (info.kind == walrus::BehaviourKind::new_behaviour &&
                    info.condition != nullptr) {
                    search.always.emplace_back(info.name);
                }
            }
        }
        return floe::tools::bench_search_command(self, search, switches);
    }
    if (bench_kernel->parsed()) {
        return run_bench_kernel(bench);
    }
    return fail_usage("unknown command");
}
