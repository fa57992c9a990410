#include "tools/shrink_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <unistd.h>

#include "scenarios/fault_schedule.h"
#include "tools/child_sweep.h"
#include "tools/scenario_commands.h"
#include "tools/shrink.h"

namespace floe::tools {

using scenarios::FaultEvent;
using scenarios::FaultSchedule;

namespace {

// Runs `floe run` children with the shrink's options and, per child, extra arguments.
class Runner {
public:
    Runner(std::string self, const ShrinkArgs& args, std::string scratch)
        : self_(std::move(self)), args_(args), scratch_(std::move(scratch)) {}

    std::vector<std::string> argv(const std::vector<std::string>& extra) const {
        std::vector<std::string> out = {
            self_, "run", args_.scenario, "--seed", std::to_string(args_.seed), "--json"};
        out.insert(out.end(), args_.run_options.begin(), args_.run_options.end());
        out.insert(out.end(), extra.begin(), extra.end());
        return out;
    }

    // The children's outcomes, in the order of `extras`, run `jobs` at a time.
    std::vector<SeedOutcome> run(const std::vector<std::vector<std::string>>& extras) {
        std::vector<SeedJob> jobs;
        for (size_t i = 0; i < extras.size(); ++i) {
            // The job's seed is only its label in the outcome: the child's seed is in argv.
            jobs.push_back(SeedJob{i, argv(extras[i]), "", args_.scenario});
        }
        SweepOptions options;
        options.jobs = std::max(1u, args_.jobs);
        options.progress = nullptr;
        const SweepSummary summary = run_sweep(jobs, options);
        runs_ += jobs.size();
        std::vector<SeedOutcome> out(extras.size());
        for (SeedOutcome& outcome : out) {
            outcome.passed = true;
        }
        for (const SeedOutcome& failure : summary.failures) {
            out[failure.seed] = failure;
        }
        return out;
    }

    SeedOutcome run_one(const std::vector<std::string>& extra) { return run({extra}).front(); }

    std::string path(const std::string& name) const { return scratch_ + "/" + name; }
    uint64_t runs() const { return runs_; }

private:
    std::string self_;
    const ShrinkArgs& args_;
    std::string scratch_;
    uint64_t runs_ = 0;
};

FaultSchedule keep(const FaultSchedule& all, const std::vector<uint64_t>& ids) {
    FaultSchedule out{all.scenario, all.seed, {}};
    for (const FaultEvent& event : all.events) {
        if (event.structural() || std::find(ids.begin(), ids.end(), event.id) != ids.end()) {
            out.events.push_back(event);
        }
    }
    return out;
}

std::vector<uint64_t> fault_ids(const FaultSchedule& schedule) {
    std::vector<uint64_t> ids;
    for (const FaultEvent& event : schedule.events) {
        if (!event.structural()) {
            ids.push_back(event.id);
        }
    }
    return ids;
}

// Whether each schedule fails with `signature` (each child in its own process, with its own
// schedule file).
std::vector<bool> fail_alike(Runner& runner, const std::vector<FaultSchedule>& schedules,
                             const std::string& signature) {
    std::vector<std::vector<std::string>> extras;
    for (size_t i = 0; i < schedules.size(); ++i) {
        const std::string file = runner.path(fmt::format("candidate-{}.json", i));
        (void)scenarios::write_schedule(schedules[i], file);
        extras.push_back({"--faults", file});
    }
    std::vector<bool> out;
    for (const SeedOutcome& outcome : runner.run(extras)) {
        out.push_back(!outcome.passed &&
                      failure_signature(outcome.failure_class, outcome.message) == signature);
    }
    return out;
}

// Halves each fault's down time or length while the failure stays (down to a second).
FaultSchedule shorten(Runner& runner, FaultSchedule schedule, const std::string& signature,
                      uint64_t budget) {
    constexpr sim::Duration floor = sim::Duration::seconds(1);
    for (FaultEvent& event : schedule.events) {
        for (sim::Duration FaultEvent::*field : {&FaultEvent::down, &FaultEvent::length}) {
            while (runner.runs() < budget && event.*field / 2 >= floor && event.kind != "buggify") {
                const sim::Duration before = event.*field;
                event.*field = before / 2;
                if (!fail_alike(runner, {schedule}, signature).front()) {
                    event.*field = before;
                    break;
                }
            }
        }
    }
    return schedule;
}

int fail_with(const std::string& message, int code) {
    fmt::print(stderr, "floe: {}\n", message);
    return code;
}

}  // namespace

int shrink_command(const std::string& self, const ShrinkArgs& args) {
    const std::string out_path =
        args.out_path.empty() ? fmt::format("floe-shrink-{}-{}.json", args.scenario, args.seed)
                              : args.out_path;
    if (auto error = check_output_file(out_path); !error.empty()) {
        return fail_with(error, exit_usage);
    }
    std::error_code ec;
    const auto scratch = std::filesystem::temp_directory_path() /
                         fmt::format("floe-shrink-{}-{}-{}", args.scenario, args.seed, ::getpid());
    std::filesystem::create_directories(scratch, ec);
    struct Cleanup {
        std::filesystem::path dir;
        ~Cleanup() {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        }
    } cleanup{scratch};
    Runner runner(self, args, scratch.string());

    // 1. The failing run, recorded.
    const std::string recorded_path = runner.path("recorded.json");
    const SeedOutcome original = runner.run_one({"--record-faults", recorded_path});
    if (original.passed) {
        return fail_with(
            fmt::format("{} --seed {} passes: nothing to shrink", args.scenario, args.seed),
            exit_usage);
    }
    const std::string signature = failure_signature(original.failure_class, original.message);
    fmt::print("failure   {}\n", signature);
    std::string error;
    const auto recorded = scenarios::read_schedule(recorded_path, error);
    if (!recorded.has_value()) {
        return fail_with(fmt::format("the run wrote no fault schedule ({})", error),
                         exit_seeds_failed);
    }
    fmt::print("recorded  {} faults ({})\n", recorded->fault_count(), recorded->counts());

    // 2. Its replay must fail the same way, or nothing below means anything.
    if (!fail_alike(runner, {*recorded}, signature).front()) {
        return fail_with("replaying the recorded fault schedule does not reproduce the failure",
                         exit_seeds_failed);
    }

    // 3. ddmin over the faults, then 4. shorter down times and durations.
    DdminStats stats;
    const CandidateTest test = [&](const std::vector<std::vector<uint64_t>>& candidates) {
        std::vector<FaultSchedule> schedules;
        for (const auto& ids : candidates) {
            schedules.push_back(keep(*recorded, ids));
        }
        return fail_alike(runner, schedules, signature);
    };
    const std::vector<uint64_t> kept =
        ddmin(fault_ids(*recorded), test, std::max(1u, args.jobs), args.max_runs, stats);
    const FaultSchedule minimal =
        shorten(runner, keep(*recorded, kept), signature, args.max_runs + runner.runs());
    if (auto failed = scenarios::write_schedule(minimal, out_path); !failed.empty()) {
        return fail_with(failed, exit_usage);
    }
    fmt::print("faults    {} -> {} ({}){}\n", recorded->fault_count(), minimal.fault_count(),
               minimal.counts(),
               stats.capped ? " (stopped at --max-runs: may not be minimal)" : "");
    fmt::print("runs      {}\n", runner.runs());
    std::string repro = fmt::format("floe run {} --seed {}", args.scenario, args.seed);
    for (const std::string& option : args.run_options) {
        repro += " " + option;
    }
    fmt::print("reproduce {} --faults {}\n", repro, out_path);
    return exit_pass;
}

}  // namespace floe::tools
