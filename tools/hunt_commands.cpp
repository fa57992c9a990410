#include "tools/hunt_commands.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "node/behaviours.h"
#include "scenarios/params.h"
#include "tools/child_sweep.h"
#include "tools/scenario_commands.h"
#include "tools/seed_range.h"
#include "tools/sweep_commands.h"
#include "tools/sweep_summary.h"

namespace floe::tools {

namespace {

using Clock = std::chrono::steady_clock;

int usage(const std::string& message) {
    fmt::print(stderr, "floe: {}\n", message);
    return exit_usage;
}

// The longest hunt: a week. Longer is a typo (or a job for a scheduler, not one process).
constexpr int64_t kLongestHuntSeconds = 7 * 24 * 3600;

std::string check_hunt_args(const HuntArgs& args, const std::vector<std::string>& names,
                            double& seconds) {
    for (const std::string& name : names) {
        if (auto error = check_scenario_name(name); !error.empty()) {
            return error;
        }
    }
    if (auto error = check_distinct(names); !error.empty()) {
        return error;
    }
    if (auto error = check_behaviours(args.behaviours); !error.empty()) {
        return error;
    }
    if (std::string error; !parse_sched(args.sched, error).has_value()) {
        return error;
    }
    sim::Duration duration;
    if (!scenarios::parse_duration(args.duration, duration) || duration.ns() <= 0 ||
        duration.ns() / 1'000'000'000 > kLongestHuntSeconds) {
        return fmt::format("--for {} is not a duration from 1s to 7 days (e.g. 30s, 10m, 8h)",
                           args.duration);
    }
    seconds = static_cast<double>(duration.ns()) / 1e9;
    if (args.jobs < 1 || args.jobs > 256) {
        return fmt::format("--jobs {} is not in 1..256", args.jobs);
    }
    if (!args.sets.empty()) {
        if (names.size() != 1) {
            return "--set needs exactly one scenario (parameters differ between scenarios)";
        }
        RunArgs probe;
        probe.scenario = names.front();
        probe.sets = args.sets;
        std::string error;
        (void)run_options(probe, 1, error);
        if (!error.empty()) {
            return error;
        }
    }
    return {};
}

// A fresh starting point for the hunt. Not simulated code: the seed is printed, and the hunt
// is reproduced from it with --from.
uint64_t random_first_seed() {
    std::random_device device;
    const uint64_t draw = (static_cast<uint64_t>(device()) << 32) ^ device();
    constexpr uint64_t kReadableSeeds = 1'000'000'000'000ULL;  // 12 digits at most
    return 1 + draw % kReadableSeeds;
}

std::string hunt_command_line(const HuntArgs& args, const std::vector<std::string>& names,
                              uint64_t first_seed) {
    std::string out = "floe hunt";
    if (!args.scenarios.empty()) {
        out += fmt::format(" {}", fmt::join(names, " "));
    }
    out += fmt::format(" --for {} --from {}", args.duration, first_seed);
    for (const std::string& set : args.sets) {
        out += " --set " + set;
    }
    for (const std::string& name : args.behaviours) {
        out += fmt::format(" {} {}", walrus::behaviour_flag(name), name);
    }
    return out + sched_suffix(sched_name(args.sched));
}

// The failures of this hunt (not the older records an appended file may hold), grouped.
void print_hunt_report(const SweepSummary& summary, const std::string& out_path) {
    std::string lines;
    for (const SeedOutcome& failure : summary.failures) {
        lines += failure.record + "\n";
    }
    std::istringstream in(lines);
    const SweepResults failures = parse_sweep_results(in, out_path, nullptr);
    const std::vector<FailureGroup> groups = failure_groups(failures);
    const uint64_t runs = summary.passed + summary.failed;
    fmt::print("\nfloe hunt: {} runs in {:.0f} s ({:.2f} runs/s): {} passed, {} failed\n", runs,
               summary.wall_seconds,
               summary.wall_seconds > 0 ? static_cast<double>(runs) / summary.wall_seconds : 0.0,
               summary.passed, summary.failed);
    if (groups.empty()) {
        fmt::print("{}\n", runs == 0 ? "no seed ran" : "no failures");
        return;
    }
    print_failure_groups(groups, stdout);
    fmt::print(
        "\nkeep one in the regression gate: floe promote {} --scenario SCENARIO --seed SEED\n"
        "explain the Walrus findings among them: floe sweep --explain {}\n",
        out_path, out_path);
}

}  // namespace

int hunt_command(const std::string& self, const HuntArgs& args) {
    HuntPlan plan;
    plan.scenarios = args.scenarios.empty() ? sweepable_scenarios() : args.scenarios;
    double seconds = 0;
    if (auto error = check_hunt_args(args, plan.scenarios, seconds); !error.empty()) {
        return usage(error);
    }
    plan.first_seed = args.first_seed.value_or(random_first_seed());
    // Seeds count up from --from for as long as the hunt lasts: they must not wrap past 2^64.
    constexpr uint64_t kHighestFirstSeed = uint64_t{1} << 62;
    if (plan.first_seed > kHighestFirstSeed) {
        return usage(fmt::format("--from {} is too large: seeds count up from it (at most 2^62)",
                                 plan.first_seed));
    }
    const std::string out_path =
        args.out_path.empty() ? fmt::format("floe-hunt-{}.jsonl", plan.first_seed) : args.out_path;
    if (auto error = check_out_path(out_path); !error.empty()) {
        return usage(error);
    }
    fmt::print(stderr,
               "floe hunt: {} scenario{} from seed {} for {}, {} at a time, results appended to "
               "{}\n  this hunt again: {}\n",
               plan.scenarios.size(), plan.scenarios.size() == 1 ? "" : "s", plan.first_seed,
               args.duration, args.jobs, out_path,
               hunt_command_line(args, plan.scenarios, plan.first_seed));
    const std::string sched = sched_name(args.sched);
    const Clock::time_point until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                       std::chrono::duration<double>(seconds));
    JobSource source = [&]() -> std::optional<SeedJob> {
        if (Clock::now() >= until) {
            return std::nullopt;
        }
        const uint64_t run = plan.runs_started++;
        const std::string scenario = plan.scenario_of(run);
        const uint64_t seed = plan.seed_of(run);
        return SeedJob{seed, run_argv(self, scenario, seed, args.sets, args.behaviours, sched),
                       repro_of(scenario, seed, args.sets, args.behaviours, sched), scenario};
    };
    SweepOptions options;
    options.jobs = args.jobs;
    options.out_path = out_path;
    options.title = "hunt";
    options.time_budget_seconds = seconds;
    options.keep_records = false;
    const SweepSummary summary = run_sweep(source, options);
    if (summary.passed + summary.failed == 0 && !summary.error.empty()) {
        return usage(summary.error);
    }
    // A results file that stopped taking records ended the hunt early: what ran is still
    // reported, and a failure found is still exit 1.
    print_hunt_report(summary, out_path);
    return finish_with(summary.error, summary.failed);
}

// --- promote -------------------------------------------------------------------------------------

namespace {

// The parts of a `floe run` repro command a gate line keeps.
struct ReproParts {
    std::string scenario;
    uint64_t seed = 0;
    std::vector<std::string> sets;
    std::vector<std::string> new_behaviours;
    std::vector<std::string> old_behaviours;
    std::string sched;
};

std::string parse_repro(const std::string& repro, ReproParts& parts) {
    std::istringstream in(repro);
    std::vector<std::string> words;
    for (std::string word; in >> word;) {
        words.push_back(word);
    }
    if (words.size() < 3 || words[0] != "floe" || words[1] != "run") {
        return fmt::format("the record's repro is not a `floe run` command: {}", repro);
    }
    parts.scenario = words[2];
    bool has_seed = false;
    for (size_t i = 3; i + 1 < words.size(); i += 2) {
        const std::string& flag = words[i];
        const std::string& value = words[i + 1];
        if (flag == "--seed") {
            std::string error;
            const auto seed = parse_one_seed(value, error);
            if (!seed) {
                return error;
            }
            parts.seed = *seed;
            has_seed = true;
        } else if (flag == "--set") {
            parts.sets.push_back(value);
        } else if (flag == "--new-behaviour") {
            parts.new_behaviours.push_back(value);
        } else if (flag == "--old-behaviour") {
            parts.old_behaviours.push_back(value);
        } else if (flag == "--sched") {
            parts.sched = value;
        } else {
            return fmt::format("the record's repro has {} , which a gate line cannot keep: {}",
                               flag, repro);
        }
    }
    if (!has_seed || words.size() % 2 == 0) {
        return fmt::format("cannot read the record's repro: {}", repro);
    }
    return {};
}

std::string joined(const std::vector<std::string>& names) {
    return fmt::format("{}", fmt::join(names, ","));
}

std::string with_sets(std::string line, const std::vector<std::string>& sets) {
    for (const std::string& set : sets) {
        line += "  " + set;
    }
    return line;
}

const SweepRecord* find_record(const SweepResults& results, const std::string& scenario,
                               uint64_t seed) {
    for (const SweepRecord& record : results.records) {
        if (record.scenario == scenario && record.seed == seed) {
            return &record;
        }
    }
    return nullptr;
}

// Runs `repro` once more with `fixes` on; true when it passes.
bool passes_with(const std::string& self, const SweepRecord& record,
                 const std::vector<std::string>& fixes) {
    SweepOptions options;
    options.progress = nullptr;
    const SweepSummary rerun =
        run_sweep({SeedJob{record.seed.value_or(0), rerun_argv(self, record.repro, fixes),
                           with_fixes(record.repro, fixes), record.scenario}},
                  options);
    return rerun.failed == 0 && rerun.passed == 1;
}

// Appends `text` to the list, then checks the list still parses; restores it if not.
std::string append_to_gate(const std::string& path, const std::string& text) {
    std::string before;
    {
        std::ifstream in(path);
        if (!in) {
            return fmt::format("cannot read the gate list {}", path);
        }
        std::ostringstream all;
        all << in.rdbuf();
        before = all.str();
    }
    {
        std::ofstream out(path, std::ios::app);
        out << (before.empty() || before.back() == '\n' ? "" : "\n") << text;
        if (!out.flush()) {
            return fmt::format("cannot write the gate list {}", path);
        }
    }
    if (auto error = check_gate_list(path); !error.empty()) {
        std::ofstream restore(path, std::ios::trunc);
        restore << before;
        return fmt::format("the promoted line does not parse, {} left as it was: {}", path, error);
    }
    return {};
}

}  // namespace

std::string gate_line_for(const std::string& repro, const std::vector<std::string>& fixes,
                          std::string& line) {
    ReproParts parts;
    if (auto error = parse_repro(repro, parts); !error.empty()) {
        return error;
    }
    if (!parts.old_behaviours.empty()) {
        return fmt::format(
            "{} --seed {} runs with --old-behaviour {}: it fails by design (a planted bug); "
            "the gate's `fail` lines keep those",
            parts.scenario, parts.seed, joined(parts.old_behaviours));
    }
    if (!parts.sched.empty() && parts.sched != "random") {
        return fmt::format(
            "{} --seed {} runs with --sched {}; gate lines run the default "
            "schedule only",
            parts.scenario, parts.seed, parts.sched);
    }
    std::vector<std::string> switches = parts.new_behaviours;
    switches.insert(switches.end(), fixes.begin(), fixes.end());
    const std::string seeds = fmt::format("{}..{}", parts.seed, parts.seed);
    // As Walrus is (no fix of its own), an explained failure is a known Walrus failure: the
    // `walrus` line also notices when the seed stops reaching the finding.
    const std::string kind = switches.empty()                                 ? "pass"
                             : parts.new_behaviours.empty() && !fixes.empty() ? "walrus"
                                                                              : "fixed";
    line = switches.empty()
               ? fmt::format("{:<12} {:<51} {}", kind, parts.scenario, seeds)
               : fmt::format("{:<12} {:<51} {}  {}", kind, parts.scenario, seeds, joined(switches));
    line = with_sets(line, parts.sets);
    return {};
}

int promote_command(const std::string& self, const PromoteArgs& args) {
    SweepResults results;
    if (auto error = read_sweep_files(args.results, results); !error.empty()) {
        return usage(error);
    }
    const SweepRecord* record = find_record(results, args.scenario, args.seed);
    if (record == nullptr) {
        return usage(
            fmt::format("no record of {} seed {} in {}", args.scenario, args.seed, results.source));
    }
    if (record->passed) {
        return usage(fmt::format("{} seed {} passed: there is no failure to keep", args.scenario,
                                 args.seed));
    }
    // A run a gate line cannot express is refused before anything runs.
    std::string line;
    if (auto error = gate_line_for(record->repro, {}, line); !error.empty()) {
        return usage(error);
    }
    ReproParts parts;
    (void)parse_repro(record->repro, parts);
    // A failure that reaches a Walrus finding and passes with its fix is explained: the gate
    // keeps it as that finding (a `walrus` line: fails as Walrus, passes with the fix; `fixed`
    // when the run had fixes of its own). Anything else is kept as it ran, and fails the gate
    // until the bug is fixed.
    const std::vector<std::string> fixes = new_fixes(sites_reached(*record), parts.new_behaviours);
    const bool explained = !fixes.empty() && passes_with(self, *record, fixes);
    if (explained) {
        (void)gate_line_for(record->repro, fixes, line);
    }
    if (const std::string covering = gate_line_covering(args.list_path, line); !covering.empty()) {
        fmt::print("already kept by {}:\n  {}\n", args.list_path, covering);
        return exit_pass;
    }
    const std::string why = args.note.empty() ? failure_signature(*record) : args.note;
    const std::string date = fmt::format("{:%Y-%m-%d}", fmt::gmtime(std::time(nullptr)));
    const std::string text = fmt::format("# Promoted by floe promote on {} from {}: {}\n{}\n", date,
                                         results.source, why, line);
    if (auto error = append_to_gate(args.list_path, text); !error.empty()) {
        return usage(error);
    }
    fmt::print("appended to {}:\n  {}\n", args.list_path, line);
    if (explained) {
        fmt::print(
            "the seed reaches Walrus finding(s) and passes with the fix --new-behaviour "
            "{}: explained (docs/FINDINGS.md); the line checks it still fails as Walrus and passes "
            "with the fix\n",
            joined(fixes));
    } else {
        fmt::print(
            "the seed fails as it is: `floe gate` fails on this line until the bug is fixed "
            "(reproduce: {})\n",
            record->repro);
    }
    return exit_pass;
}

}  // namespace floe::tools
