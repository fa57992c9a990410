#include "tools/sweep_commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "node/behaviours.h"
#include "node/sites.h"
#include "tools/child_sweep.h"
#include "tools/gate_reached.h"
#include "tools/junit.h"
#include "tools/seed_range.h"
#include "tools/shard.h"
#include "tools/sweep_summary.h"
#include "tools/trace_diff.h"

namespace floe::tools {

namespace fs = std::filesystem;

namespace {

int usage(const std::string& message) {
    fmt::print(stderr, "floe: {}\n", message);
    return exit_usage;
}

}  // namespace

std::string sched_suffix(const std::string& sched) {
    return sched == "random" ? std::string() : " --sched " + sched;
}

std::vector<std::string> run_argv(const std::string& self, const std::string& scenario,
                                  uint64_t seed, const std::vector<std::string>& sets,
                                  const std::vector<std::string>& old_behaviours,
                                  const std::string& sched) {
    std::vector<std::string> argv = {self,    "run", scenario, "--seed", std::to_string(seed),
                                     "--json"};
    for (const std::string& set : sets) {
        argv.insert(argv.end(), {"--set", set});
    }
    for (const std::string& name : old_behaviours) {
        argv.insert(argv.end(), {walrus::behaviour_flag(name), name});
    }
    if (sched != "random") {
        argv.insert(argv.end(), {"--sched", sched});
    }
    return argv;
}

std::string repro_of(const std::string& scenario, uint64_t seed,
                     const std::vector<std::string>& sets,
                     const std::vector<std::string>& old_behaviours, const std::string& sched) {
    std::string out = fmt::format("floe run {} --seed {}", scenario, seed);
    for (const std::string& set : sets) {
        out += " --set " + set;
    }
    for (const std::string& name : old_behaviours) {
        out += fmt::format(" {} {}", walrus::behaviour_flag(name), name);
    }
    return out + sched_suffix(sched);
}

std::string sched_name(const std::string& text) {
    std::string error;
    const auto strategy = parse_sched(text, error);
    return strategy.has_value() ? sim::sched_strategy_name(*strategy) : std::string();
}

namespace {

// "" when a JUnit report can be written at `path` (checked before anything runs, so a typo
// does not cost a sweep). An existing file is left as it is until the report replaces it.
std::string check_junit_path(const std::string& path) {
    const bool existed = fs::exists(path);
    std::FILE* file = std::fopen(path.c_str(), "a");
    if (file == nullptr) {
        return fmt::format("cannot write JUnit report to {}: {}", path, std::strerror(errno));
    }
    std::fclose(file);
    if (!existed) {
        fs::remove(path);
    }
    return {};
}

// One testcase per run, one testsuite per scenario: "seed N", with the failure's class, first
// line, the whole message and the repro command.
std::vector<JunitCase> sweep_junit_cases(const SweepSummary& summary) {
    std::string lines;
    for (const std::string& text : summary.records) {
        lines += text + "\n";
    }
    std::istringstream in(lines);
    // Sorted by scenario and seed, whatever order the seeds finished in.
    const SweepResults parsed = parse_sweep_results(in, "records", nullptr);
    std::vector<JunitCase> cases;
    for (const SweepRecord& record : parsed.records) {
        JunitCase junit;
        junit.suite = record.scenario.empty() ? "(no scenario)" : record.scenario;
        junit.classname = "floe.sweep." + junit.suite;
        junit.name = record.seed ? fmt::format("seed {}", *record.seed) : "seed ?";
        junit.seconds = record.wall_seconds.value_or(0);
        junit.passed = record.passed;
        if (!record.passed) {
            junit.failure_type = record.failure_class.empty() ? "failure" : record.failure_class;
            junit.failure_message = record.message.substr(0, record.message.find('\n'));
            junit.failure_text =
                fmt::format("{}\n{}reproduce: {}", record.message,
                            record.where.empty() ? "" : "at " + record.where + "\n", record.repro);
        }
        cases.push_back(std::move(junit));
    }
    return cases;
}

}  // namespace

int finish_with(const std::string& error, uint64_t failed) {
    if (!error.empty()) {
        fmt::print(stderr, "floe: {}\n", error);
    }
    if (failed > 0) {
        return exit_seeds_failed;
    }
    return error.empty() ? exit_pass : exit_usage;
}

std::string check_distinct(const std::vector<std::string>& names) {
    std::set<std::string> seen;
    for (const std::string& name : names) {
        if (!seen.insert(name).second) {
            return fmt::format("scenario '{}' is named twice", name);
        }
    }
    return {};
}

namespace {

// Every usage error of a sweep, found before any child runs.
std::string check_sweep_args(const SweepArgs& args) {
    if (args.all == !args.scenarios.empty()) {
        return "give either scenario names or --all";
    }
    for (const std::string& name : args.scenarios) {
        if (auto error = check_scenario_name(name); !error.empty()) {
            return error;
        }
    }
    if (auto error = check_distinct(args.scenarios); !error.empty()) {
        return error;
    }
    if (auto error = check_behaviours(args.old_behaviours); !error.empty()) {
        return error;
    }
    if (std::string error; !parse_sched(args.sched, error).has_value()) {
        return error;
    }
    if (args.jobs < 1 || args.jobs > 256) {
        return fmt::format("--jobs {} is not in 1..256", args.jobs);
    }
    if (!args.sets.empty() && args.scenarios.size() != 1) {
        return "--set needs exactly one scenario (parameters differ between scenarios)";
    }
    if (!args.sets.empty()) {
        RunArgs probe;
        probe.scenario = args.scenarios.front();
        probe.sets = args.sets;
        std::string error;
        (void)run_options(probe, 1, error);
        if (!error.empty()) {
            return error;
        }
    }
    if (!args.junit_path.empty()) {
        if (auto error = check_junit_path(args.junit_path); !error.empty()) {
            return error;
        }
    }
    return args.out_path.empty() ? std::string() : check_out_path(args.out_path);
}

// "K/N" → (K, N) with 1 <= K <= N.
bool parse_shard(const std::string& text, uint64_t& k, uint64_t& n) {
    const size_t slash = text.find('/');
    if (slash == std::string::npos) {
        return false;
    }
    std::string error;
    auto left = parse_seed_range(text.substr(0, slash), error);
    auto right = parse_seed_range(text.substr(slash + 1), error);
    if (!left || !right || left->count() != 1 || right->count() != 1) {
        return false;
    }
    k = left->first;
    n = right->first;
    return k >= 1 && k <= n;
}

std::vector<std::string> scenario_names(const SweepArgs& args) {
    return args.all ? sweepable_scenarios() : args.scenarios;
}

// One row per scenario: seeds, passes, failures, mean virtual time, mean and max wall time per
// seed, and the virtual/wall ratio.
void print_table(const SweepSummary& summary) {
    struct Row {
        uint64_t seeds = 0, passed = 0;
        double virtual_seconds = 0, wall = 0, max_wall = 0;
        uint64_t slowest_seed = 0;
    };
    std::map<std::string, Row> rows;
    std::vector<std::string> order;
    for (const std::string& text : summary.records) {
        const auto record = nlohmann::json::parse(text, nullptr, false);
        if (record.is_discarded()) {
            continue;
        }
        const std::string name = record.value("scenario", std::string("?"));
        if (!rows.contains(name)) {
            order.push_back(name);
        }
        Row& row = rows[name];
        ++row.seeds;
        row.passed += record.value("outcome", std::string()) == "pass" ? 1 : 0;
        row.virtual_seconds += record.value("virtual_seconds", 0.0);
        const double wall = record.value("run_wall_seconds", record.value("wall_seconds", 0.0));
        row.wall += wall;
        if (wall >= row.max_wall) {
            row.max_wall = wall;
            row.slowest_seed = record.value("seed", uint64_t{0});
        }
    }
    std::sort(order.begin(), order.end());
    fmt::print("\n  {:<50} {:>5} {:>6} {:>6} {:>10} {:>9} {:>9} {:>8}\n", "scenario", "seeds",
               "passed", "failed", "virtual s", "wall s", "max wall", "speedup");
    for (const std::string& name : order) {
        const Row& row = rows[name];
        const double n = static_cast<double>(row.seeds);
        fmt::print("  {:<50} {:>5} {:>6} {:>6} {:>10.1f} {:>9.3f} {:>9.3f} {:>7.0f}x\n", name,
                   row.seeds, row.passed, row.seeds - row.passed, row.virtual_seconds / n,
                   row.wall / n, row.max_wall, row.wall > 0 ? row.virtual_seconds / row.wall : 0.0);
    }
    fmt::print("\n");
}

}  // namespace

int sweep_command(const std::string& self, const SweepArgs& args) {
    if (auto error = check_sweep_args(args); !error.empty()) {
        return usage(error);
    }
    if (args.seeds.empty()) {
        return usage("--seeds A..B is required (or --summary FILE to read results)");
    }
    std::string error;
    const auto seeds = parse_seed_range(args.seeds, error);
    if (!seeds) {
        return usage(error);
    }
    uint64_t shard_k = 1;
    uint64_t shard_n = 1;
    if (!args.shard.empty() && !parse_shard(args.shard, shard_k, shard_n)) {
        return usage(fmt::format("--shard {} is not K/N with 1 <= K <= N", args.shard));
    }
    std::vector<SeedJob> jobs;
    const std::string sched = sched_name(args.sched);
    for (const std::string& scenario : scenario_names(args)) {
        for (uint64_t seed = seeds->first; seed <= seeds->last; ++seed) {
            if (shard_of(scenario, seed, shard_n) != shard_k - 1) {
                continue;
            }
            jobs.push_back(
                SeedJob{seed, run_argv(self, scenario, seed, args.sets, args.old_behaviours, sched),
                        repro_of(scenario, seed, args.sets, args.old_behaviours, sched), scenario});
        }
    }
    if (args.dry_run) {
        for (const SeedJob& job : jobs) {
            fmt::print("{} {}\n", job.scenario, job.seed);
        }
        return exit_pass;
    }
    SweepOptions options;
    options.jobs = args.jobs;
    options.out_path = args.out_path;
    options.title = args.all ? "all scenarios" : fmt::format("{}", fmt::join(args.scenarios, ","));
    fmt::print(stderr, "floe sweep: {} runs ({}), {} at a time{}\n", jobs.size(), options.title,
               args.jobs, args.out_path.empty() ? "" : ", results appended to " + args.out_path);
    const SweepSummary summary = run_sweep(jobs, options);
    if (summary.passed + summary.failed == 0 && !summary.error.empty()) {
        return usage(summary.error);
    }
    print_table(summary);
    print_failures(summary, stdout);
    fmt::print("{} runs: {} passed, {} failed ({:.1f} s)\n", summary.passed + summary.failed,
               summary.passed, summary.failed, summary.wall_seconds);
    std::string write_error = summary.error;  // the results file stopped taking records
    if (!args.junit_path.empty()) {
        if (auto failed = write_junit(args.junit_path, sweep_junit_cases(summary), "floe sweep");
            !failed.empty() && write_error.empty()) {
            write_error = failed;
        }
    }
    return finish_with(write_error, summary.failed);
}

// --- check-determinism ---------------------------------------------------------------------------

namespace {

// Two runs of one seed, each in its own process with its own text trace. True when the traces
// are equal; otherwise prints the first differing trace event (or why the traces could not be
// read) and returns false.
bool same_trace_twice(const std::string& self, const std::string& scenario, uint64_t seed,
                      const std::vector<std::string>& sets,
                      const std::vector<std::string>& old_behaviours,
                      const std::string& sched = "random") {
    const fs::path dir = fs::temp_directory_path() /
                         fmt::format("floe-determinism-{}-{}-{}", scenario, seed, getpid());
    fs::create_directories(dir);
    std::vector<SeedJob> jobs;
    for (const char* side : {"a", "b"}) {
        auto argv = run_argv(self, scenario, seed, sets, old_behaviours, sched);
        argv.insert(argv.end(), {"--trace", (dir / (std::string(side) + ".log")).string()});
        jobs.push_back(
            SeedJob{seed, argv, repro_of(scenario, seed, sets, old_behaviours, sched), scenario});
    }
    SweepOptions options;
    options.jobs = 2;
    options.progress = nullptr;
    // A failing run is compared too: a failure must reproduce exactly as well. Equal text
    // traces mean equal trace hashes (the hash folds the same events).
    (void)run_sweep(jobs, options);
    std::string error;
    const auto divergence =
        first_divergence((dir / "a.log").string(), (dir / "b.log").string(), 8, error);
    const bool same = error.empty() && divergence->identical;
    if (!same) {
        fmt::print("NONDETERMINISM: {} --seed {}{} ran differently twice\n", scenario, seed,
                   sched_suffix(sched));
        if (error.empty()) {
            print_divergence(*divergence, "run 1", "run 2", stdout);
        } else {
            fmt::print("{}\n", error);
        }
    }
    fs::remove_all(dir);
    return same;
}

}  // namespace

int check_determinism_command(const std::string& self, const std::string& scenario, uint64_t seed,
                              const std::vector<std::string>& sets,
                              const std::vector<std::string>& old_behaviours,
                              const std::string& sched) {
    RunArgs probe;
    probe.scenario = scenario;
    probe.seed = seed;
    probe.sets = sets;
    probe.old_behaviours = old_behaviours;
    probe.sched = sched;
    probe.json = true;
    std::string error;
    if (!run_options(probe, seed, error)) {
        return usage(error);
    }
    const std::string name = sched_name(sched);
    if (!same_trace_twice(self, scenario, seed, sets, old_behaviours, name)) {
        return exit_nondeterminism;
    }
    fmt::print("deterministic: {} --seed {}{} gave the same trace twice\n", scenario, seed,
               sched_suffix(name));
    return exit_pass;
}

// --- gate ----------------------------------------------------------------------------------------

namespace {

struct GateEntry {
    std::string kind;  // pass | fail | walrus | determinism
    std::string scenario;
    std::string seeds;
    std::string old_behaviour;  // fail: the old behaviour; walrus: the new behaviour that fixes it
    std::vector<std::string> sets;  // pass and walrus: key=value parameters
    int line = 0;
    std::string text;  // the whole line as written, its comment included
};

// "a,b" -> {"a", "b"}; empty names are dropped.
std::vector<std::string> switch_names(const std::string& list) {
    std::vector<std::string> names;
    std::istringstream in(list);
    for (std::string name; std::getline(in, name, ',');) {
        if (!name.empty()) {
            names.push_back(name);
        }
    }
    return names;
}

// One line of a gate list (its comment already cut): false when it is blank, else true with
// `entry` filled and `bad` set when the line does not parse.
bool parse_gate_line(const std::string& line, int number, GateEntry& entry, bool& bad) {
    std::istringstream words(line);
    entry = GateEntry{};
    entry.line = number;
    bad = false;
    if (!(words >> entry.kind)) {
        return false;
    }
    words >> entry.scenario >> entry.seeds;
    const bool switched = entry.kind == "fail" || entry.kind == "walrus" || entry.kind == "fixed";
    if (switched) {
        words >> entry.old_behaviour;
    }
    for (std::string set; words >> set;) {
        entry.sets.push_back(set);
    }
    std::string error;
    const bool known = entry.kind == "pass" || entry.kind == "fail" || entry.kind == "walrus" ||
                       entry.kind == "fixed" || entry.kind == "determinism";
    const auto wanted = entry.kind == "fail" ? walrus::BehaviourKind::old_behaviour
                                             : walrus::BehaviourKind::new_behaviour;
    // A walrus or fixed line may name several fixes, comma-separated: a seed that reaches
    // two findings passes only with both fixed.
    const auto names = switch_names(entry.old_behaviour);
    const bool kinds_ok = !names.empty() && (entry.kind != "fail" || names.size() == 1) &&
                          std::all_of(names.begin(), names.end(), [&](const std::string& name) {
                              return walrus::behaviour_kind(name) == wanted;
                          });
    bad = !known || entry.seeds.empty() || !parse_seed_range(entry.seeds, error) ||
          !check_scenario_name(entry.scenario).empty() || (switched && !kinds_ok) ||
          (entry.kind == "fail" && !entry.sets.empty()) ||
          !check_sets(entry.scenario, entry.sets).empty();
    return true;
}

std::string parse_gate(const std::string& path, std::vector<GateEntry>& entries) {
    std::ifstream in(path);
    if (!in) {
        return fmt::format("cannot read the gate list {}", path);
    }
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        GateEntry entry;
        bool bad = false;
        if (!parse_gate_line(line.substr(0, line.find('#')), number, entry, bad)) {
            continue;
        }
        entry.text = line;
        if (bad) {
            return fmt::format(
                "{}:{}: expected 'pass SCENARIO A..B [key=value...]', 'determinism SCENARIO "
                "A..B [key=value...]', 'fail SCENARIO A..B OLD-BEHAVIOUR', 'walrus SCENARIO A..B "
                "NEW-BEHAVIOUR [key=value...]' or 'fixed SCENARIO A..B NEW-BEHAVIOUR "
                "[key=value...]'",
                path, number);
        }
        entries.push_back(entry);
    }
    return {};
}

// Two entries that check the same thing: kind, scenario, switches and parameters (in any order).
bool same_check(const GateEntry& a, const GateEntry& b) {
    auto sorted = [](std::vector<std::string> names) {
        std::sort(names.begin(), names.end());
        return names;
    };
    return a.kind == b.kind && a.scenario == b.scenario &&
           sorted(switch_names(a.old_behaviour)) == sorted(switch_names(b.old_behaviour)) &&
           sorted(a.sets) == sorted(b.sets);
}

// A gate line's verdict, and what to show when it failed (also the JUnit failure's text).
struct GateVerdict {
    bool ok = false;
    std::string detail;
};

// Each failed seed with its class, message and "reproduce: <command>".
std::string failures_text(const SweepSummary& summary) {
    std::string out;
    for (const SeedOutcome& failure : summary.failures) {
        const size_t first_end = failure.message.find('\n');
        const std::string rest =
            first_end == std::string::npos ? "" : failure.message.substr(first_end + 1) + "\n";
        out += fmt::format("{}seed {} FAIL {}: {}\n{}  reproduce: {}\n",
                           failure.scenario.empty() ? "" : failure.scenario + " ", failure.seed,
                           failure.failure_class, failure.message.substr(0, first_end), rest,
                           failure.repro);
    }
    return out;
}

// A negative entry passes when every seed fails with its switch on. The sites its runs reached
// are added to `reached`.
GateVerdict run_gate_entry(const std::string& self, const GateEntry& entry, unsigned jobs,
                           std::set<std::string>& reached) {
    std::string error;
    const auto seeds = *parse_seed_range(entry.seeds, error);
    if (entry.kind == "determinism") {
        GateVerdict verdict{true, ""};
        for (uint64_t seed = seeds.first; seed <= seeds.last; ++seed) {
            if (!same_trace_twice(self, entry.scenario, seed, entry.sets, {})) {
                verdict.ok = false;
                std::string command =
                    fmt::format("floe check-determinism {} --seed {}", entry.scenario, seed);
                for (const std::string& set : entry.sets) {
                    command += " --set " + set;
                }
                verdict.detail += fmt::format(
                    "NONDETERMINISM: {} --seed {} ran differently twice\n  reproduce: {}\n",
                    entry.scenario, seed, command);
            }
        }
        return verdict;
    }
    auto sweep = [&](const std::vector<std::string>& switches) {
        std::vector<SeedJob> runs;
        for (uint64_t seed = seeds.first; seed <= seeds.last; ++seed) {
            runs.push_back(SeedJob{seed, run_argv(self, entry.scenario, seed, entry.sets, switches),
                                   repro_of(entry.scenario, seed, entry.sets, switches),
                                   entry.scenario});
        }
        SweepOptions options;
        options.jobs = jobs;
        options.progress = nullptr;
        SweepSummary summary = run_sweep(runs, options);
        for (const std::string& record : summary.records) {
            add_reached_sites(record, reached);
        }
        return summary;
    };
    if (entry.kind == "walrus") {
        // A known failure of Walrus itself (docs/FINDINGS.md): every seed fails as Walrus is
        // modelled, and passes with the new behaviour that fixes it.
        const SweepSummary as_walrus = sweep({});
        const SweepSummary fixed = sweep(switch_names(entry.old_behaviour));
        GateVerdict verdict{as_walrus.passed == 0 && fixed.failed == 0, failures_text(fixed)};
        if (as_walrus.passed > 0) {
            verdict.detail = fmt::format(
                "    {} of {} seeds passed as Walrus: the finding no longer reproduces\n{}",
                as_walrus.passed, seeds.count(), verdict.detail);
        }
        return verdict;
    }
    // fixed: a scenario some of whose seeds reach a known Walrus failure (the finding's own
    // `walrus` line shows it); every seed must pass with the finding's fix on.
    const std::vector<std::string> old =
        entry.kind == "pass" ? std::vector<std::string>{} : switch_names(entry.old_behaviour);
    const SweepSummary summary = sweep(old);
    if (entry.kind == "pass" || entry.kind == "fixed") {
        return GateVerdict{summary.failed == 0, failures_text(summary)};
    }
    if (summary.passed > 0) {
        return GateVerdict{
            false, fmt::format("    {} of {} seeds passed with --old-behaviour {}: the scenario "
                               "misses the bug it must catch\n",
                               summary.passed, seeds.count(), entry.old_behaviour)};
    }
    return GateVerdict{true, ""};
}

std::vector<std::string> catalog_names() {
    std::vector<std::string> names;
    for (const walrus::site::Site& site : walrus::site::all()) {
        names.emplace_back(site.name);
    }
    return names;
}

// The reach check after a whole gate (a subset, --only, cannot reach everything): prints one
// `ok`/`FAIL` line, or writes the file when `write` is set.
bool check_gate_reach(const std::string& list_path, const std::set<std::string>& reached,
                      bool write) {
    const std::string path = reach_path_for(list_path);
    ExpectedReach expected;
    const std::string error = read_expected_reach(path, expected);
    if (write) {
        if (auto failed = write_expected_reach(path, reached, catalog_names(), expected);
            !failed.empty()) {
            fmt::print("  FAIL  reached      {}\n", failed);
            return false;
        }
        fmt::print("  ok    reached      wrote {} ({} of {} catalog sites reached)\n", path,
                   reached.size(), walrus::site::all().size());
        return true;
    }
    if (!error.empty()) {
        fmt::print("  note  reached      no reach file ({}): not checked\n", error);
        return true;
    }
    const ReachCheck check = check_reach(expected, reached, catalog_names());
    for (const std::string& name : check.lost) {
        fmt::print("    {} is no longer reached by the gate's seeds\n", name);
    }
    for (const std::string& name : check.unaccounted) {
        fmt::print(
            "    {} (node/sites.def) is not reached by the gate: add a gate line that "
            "reaches it, or mark it 'unreachable {} REASON' in {}\n",
            name, name, path);
    }
    for (const std::string& name : check.unknown) {
        fmt::print("    {} in {} is not in the catalog (node/sites.def)\n", name, path);
    }
    if (!check.newly.empty()) {
        fmt::print("    newly reached (floe gate --write-reached adds them): {}\n",
                   fmt::join(check.newly, ", "));
    }
    fmt::print("  {}  reached      {} of the {} sites {} expects\n",
               check.passed() ? "ok  " : "FAIL", expected.reached.size() - check.lost.size(),
               expected.reached.size(), path);
    return check.passed();
}

}  // namespace

namespace {

// A gate line as a JUnit testcase: the scenario is the suite, the line (kind, seeds, switches,
// parameters) the name; a failure names its place in the list.
JunitCase gate_junit_case(const std::string& list_path, const GateEntry& entry,
                          const std::string& what, const GateVerdict& verdict, double seconds) {
    JunitCase out;
    out.suite = entry.scenario;
    out.classname = "floe.gate." + entry.kind;
    std::string name = what;
    name.erase(
        std::unique(name.begin(), name.end(), [](char a, char b) { return a == ' ' && b == ' '; }),
        name.end());
    while (!name.empty() && name.back() == ' ') {
        name.pop_back();
    }
    // Named by what it checks, not by its line: a line inserted above must not rename it (a CI
    // tracks a test's history by its name).
    out.name = name;
    out.seconds = seconds;
    out.passed = verdict.ok;
    if (!verdict.ok) {
        out.failure_type = entry.kind;
        const std::string first = verdict.detail.substr(0, verdict.detail.find('\n'));
        out.failure_message = first.empty() ? "gate line failed" : first;
        out.failure_text = fmt::format("{}:{}\n{}", list_path, entry.line, verdict.detail);
    }
    return out;
}

}  // namespace

int gate_command(const std::string& self, const GateArgs& args) {
    const std::string& list_path = args.list_path;
    std::vector<GateEntry> entries;
    if (auto error = parse_gate(list_path, entries); !error.empty()) {
        return usage(error);
    }
    if (!args.junit_path.empty()) {
        if (auto error = check_junit_path(args.junit_path); !error.empty()) {
            return usage(error);
        }
    }
    if (!args.only.empty()) {
        std::erase_if(entries, [&](const GateEntry& entry) { return entry.kind != args.only; });
    }
    fmt::print("floe gate: {} checks from {}, {} runs at a time\n", entries.size(), list_path,
               args.jobs);
    uint64_t passed = 0;
    uint64_t failed = 0;
    uint64_t walrus_known = 0;
    std::set<std::string> reached;
    std::vector<JunitCase> junit;
    for (const GateEntry& entry : entries) {
        std::string what =
            fmt::format("{:<12} {:<50} {:<8}", entry.kind, entry.scenario, entry.seeds);
        if (entry.kind == "fail") {
            what += " --old-behaviour " + entry.old_behaviour;
        } else if (entry.kind == "walrus") {
            what += " (fixed by --new-behaviour " + entry.old_behaviour + ")";
        } else if (entry.kind == "fixed") {
            what += " --new-behaviour " + entry.old_behaviour;
        }
        for (const std::string& set : entry.sets) {
            what += " --set " + set;
        }
        std::fflush(stdout);
        const auto started = std::chrono::steady_clock::now();
        const GateVerdict verdict = run_gate_entry(self, entry, args.jobs, reached);
        const bool ok = verdict.ok;
        (ok ? passed : failed) += 1;
        walrus_known += ok && entry.kind == "walrus" ? 1 : 0;
        fmt::print("{}", verdict.detail);
        fmt::print("  {}  {}\n", ok ? "ok  " : "FAIL", what);
        std::fflush(stdout);
        junit.push_back(gate_junit_case(
            list_path, entry, what, verdict,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
    }
    if (args.only.empty()) {
        const bool ok = check_gate_reach(list_path, reached, args.write_reached);
        (ok ? passed : failed) += 1;
        JunitCase reach;
        reach.suite = "(gate)";
        reach.name = "reached sites";
        reach.classname = "floe.gate.reach";
        reach.passed = ok;
        if (!ok) {
            reach.failure_type = "reach";
            reach.failure_message = "the gate's runs no longer reach every expected site";
            reach.failure_text = "see the gate's output: floe gate";
        }
        junit.push_back(reach);
    }
    fmt::print("gate: {} checks, {} passed, {} failed\n", passed + failed, passed, failed);
    fmt::print(
        "gate: {} known Walrus failures reproduced and fixed by their switch "
        "(docs/FINDINGS.md)\n",
        walrus_known);
    std::fflush(stdout);
    const std::string error =
        args.junit_path.empty() ? "" : write_junit(args.junit_path, junit, "floe gate");
    return finish_with(error, failed);
}

std::string check_gate_list(const std::string& path) {
    std::vector<GateEntry> entries;
    return parse_gate(path, entries);
}

std::string gate_line_covering(const std::string& path, const std::string& line) {
    GateEntry wanted;
    bool bad = false;
    std::vector<GateEntry> entries;
    if (!parse_gate_line(line, 0, wanted, bad) || bad || !parse_gate(path, entries).empty()) {
        return {};
    }
    std::string error;
    const uint64_t seed = parse_seed_range(wanted.seeds, error)->first;
    for (const GateEntry& entry : entries) {
        const auto seeds = parse_seed_range(entry.seeds, error);
        if (same_check(entry, wanted) && seed >= seeds->first && seed <= seeds->last) {
            return entry.text;
        }
    }
    return {};
}

std::vector<std::string> sweepable_scenarios() {
    std::vector<std::string> names;
    for (const auto& spec : scenarios::all_scenarios()) {
        // A known Walrus failure is the gate's `walrus` line; a heavy one runs at chosen sizes.
        if (spec.fixed_by.empty() && !spec.heavy) {
            names.push_back(spec.name);
        }
    }
    return names;
}

// --- explain -------------------------------------------------------------------------------------

// The record's repro command as the argv of a child run: "floe run ..." with this executable,
// --json, and the fix switches.
std::vector<std::string> rerun_argv(const std::string& self, const std::string& repro,
                                    const std::vector<std::string>& fixes) {
    std::istringstream words(repro);
    std::vector<std::string> argv;
    for (std::string word; words >> word;) {
        argv.push_back(argv.empty() ? self : word);
    }
    argv.emplace_back("--json");
    for (const std::string& fix : fixes) {
        argv.insert(argv.end(), {walrus::behaviour_flag(fix), fix});
    }
    return argv;
}

std::string with_fixes(const std::string& repro, const std::vector<std::string>& fixes) {
    std::string out = repro;
    for (const std::string& fix : fixes) {
        out += fmt::format(" {} {}", walrus::behaviour_flag(fix), fix);
    }
    return out;
}

// The fixes of the findings whose conditions `reached` names and `fixes` does not hold yet.
std::vector<std::string> new_fixes(const std::vector<std::string>& reached,
                                   const std::vector<std::string>& fixes) {
    std::vector<std::string> out;
    for (const walrus::BehaviourInfo& info : walrus::behaviour_switches()) {
        if (info.condition != nullptr &&
            std::find(reached.begin(), reached.end(), info.condition->name) != reached.end() &&
            std::find(fixes.begin(), fixes.end(), info.name) == fixes.end()) {
            out.emplace_back(info.name);
        }
    }
    return out;
}

namespace {

// What a failed seed is still waiting for: the fixes it runs with so far.
struct Suspect {
    const SweepRecord* record;
    std::vector<std::string> fixes;
};

}  // namespace

// A run stops at the first failure, so a seed that reaches two findings shows the second only
// once the first is fixed: each round re-runs the still-failing seeds with the fixes of every
// finding condition reached so far, until they pass or reach no new condition.
int explain_command(const std::string& self, const std::string& results_path, unsigned jobs) {
    std::ifstream in(results_path);
    if (!in) {
        return usage(fmt::format("cannot read {}", results_path));
    }
    const SweepResults results = parse_sweep_results(in, results_path, stderr);
    std::vector<Suspect> suspects;
    uint64_t failed = 0;
    for (const SweepRecord& record : results.records) {
        if (record.passed) {
            continue;
        }
        ++failed;
        const std::vector<std::string> fixes = new_fixes(sites_reached(record), {});
        if (!fixes.empty() && record.repro.rfind("floe run ", 0) == 0) {
            suspects.push_back(Suspect{&record, fixes});
        }
    }
    std::map<std::string, std::string> fix_of;  // "scenario seed" -> its passing re-run
    constexpr int max_rounds = 4;
    for (int round = 0; round < max_rounds && !suspects.empty(); ++round) {
        std::vector<SeedJob> reruns;
        for (const Suspect& suspect : suspects) {
            const SweepRecord& record = *suspect.record;
            reruns.push_back(SeedJob{record.seed.value_or(0),
                                     rerun_argv(self, record.repro, suspect.fixes),
                                     with_fixes(record.repro, suspect.fixes), record.scenario});
        }
        SweepOptions options;
        options.jobs = jobs;
        options.progress = nullptr;
        const SweepSummary rerun = run_sweep(reruns, options);
        std::vector<Suspect> next;
        for (size_t i = 0; i < suspects.size(); ++i) {
            const SeedJob& job = reruns[i];
            const auto failure = std::find_if(
                rerun.failures.begin(), rerun.failures.end(), [&](const SeedOutcome& o) {
                    return o.seed == job.seed && o.scenario == job.scenario && o.repro == job.repro;
                });
            if (failure == rerun.failures.end()) {
                fix_of[fmt::format("{} {}", job.scenario, job.seed)] = job.repro;
                continue;
            }
            std::istringstream record_text(failure->record);
            const SweepResults again = parse_sweep_results(record_text, "re-run", nullptr);
            if (again.records.empty()) {
                continue;
            }
            std::vector<std::string> more =
                new_fixes(sites_reached(again.records.front()), suspects[i].fixes);
            if (!more.empty()) {
                Suspect grown = suspects[i];
                grown.fixes.insert(grown.fixes.end(), more.begin(), more.end());
                next.push_back(grown);
            }
        }
        suspects = std::move(next);
    }
    fmt::print("floe sweep --explain {}: {} failed seeds\n", results_path, failed);
    for (const auto& [key, command] : fix_of) {
        fmt::print("  explained  {:<40} passes with: {}\n", key, command);
    }
    uint64_t open = 0;
    uint64_t test_findings = 0;
    for (const SweepRecord& record : results.records) {
        const std::string key = fmt::format("{} {}", record.scenario, record.seed.value_or(0));
        if (record.passed || fix_of.contains(key)) {
            continue;
        }
        // A check that mirrors a flawed assertion of a Walrus test names its finding (no node
        // fix exists for it): documented, so explained.
        if (const auto at = record.message.find(": finding F"); at != std::string::npos) {
            ++test_findings;
            fmt::print("  explained  {:<40} by Walrus's test itself ({})\n", key,
                       record.message.substr(at + 2, record.message.find(')', at) - at - 2));
            continue;
        }
        ++open;
        fmt::print("  UNEXPLAINED {:<39} {}\n      reproduce: {}\n", key,
                   record.message.substr(0, record.message.find('\n')), record.repro);
    }
    fmt::print("explain: {} failed, {} explained by Walrus findings, {} unexplained\n", failed,
               fix_of.size() + test_findings, open);
    return open == 0 ? exit_pass : exit_seeds_failed;
}

int diff_command(const std::string& left, const std::string& right) {
    std::string error;
    const auto divergence = first_divergence(left, right, 8, error);
    if (!divergence) {
        return usage(error);
    }
    print_divergence(*divergence, left, right, stdout);
    return divergence->identical ? exit_pass : exit_seeds_failed;
}

}  // namespace floe::tools
