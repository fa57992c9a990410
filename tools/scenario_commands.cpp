#include "tools/scenario_commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "node/behaviours.h"
#include "node/sites.h"
#include "scenarios/cluster.h"
#include "scenarios/shape.h"
#include "sim/assert.h"
#include "sim/timeline.h"
#include "tools/html_report.h"
#include "tools/perfetto.h"

namespace floe::tools {

namespace fs = std::filesystem;
using scenarios::ScenarioSpec;

int exit_code_for(sim::FailureClass failure) {
    switch (failure) {
        case sim::FailureClass::none: return exit_pass;
        case sim::FailureClass::invariant: return exit_invariant;
        case sim::FailureClass::deadlock: return exit_deadlock;
        case sim::FailureClass::liveness: return exit_liveness;
        case sim::FailureClass::nondeterminism: return exit_nondeterminism;
    }
    FLOE_UNREACHABLE();
}

// --- floe list -----------------------------------------------------------------------------------

namespace {

void print_param(const scenarios::ParamSpec& param, std::FILE* out) {
    fmt::print(out, "      --set {}={}  ({} in {}) {}\n", param.name, param.default_value,
               scenarios::param_type_name(param.type), param.range_text(), param.help);
}

void list_scenarios(std::FILE* out) {
    fmt::print(out, "Scenarios (floe run NAME [--set key=value]...):\n");
    for (const ScenarioSpec& spec : scenarios::all_scenarios()) {
        fmt::print(out, "\n  {}\n      {}\n      mirrors: {}\n", spec.name, spec.description,
                   spec.mirrors);
        if (!spec.catches.empty()) {
            fmt::print(out, "      fails with: --old-behaviour {}\n",
                       fmt::join(spec.catches, ", --old-behaviour "));
        }
        if (!spec.fixed_by.empty()) {
            fmt::print(out,
                       "      a known failure of Walrus (docs/FINDINGS.md; not in sweep --all); "
                       "passes with: --new-behaviour {}\n",
                       fmt::join(spec.fixed_by, ", --new-behaviour "));
        }
        for (const scenarios::ParamSpec& param : spec.params) {
            if (!param.optional) {  // the shape parameters, listed once below
                print_param(param, out);
            }
        }
    }
    fmt::print(out,
               "\nEvery scenario also takes the cluster's shape (unset: the scenario's own; a "
               "scenario's own parameter of the same name, listed above, comes first):\n");
    for (const scenarios::ParamSpec& param : scenarios::shape_params()) {
        print_param(param, out);
    }
}

// Comma-separated, in lines of about 96 characters, indented by two.
void print_names_wrapped(const std::vector<std::string>& names, std::FILE* out) {
    std::string line;
    for (const std::string& name : names) {
        if (!line.empty() && line.size() + name.size() > 96) {
            fmt::print(out, "  {}\n", line);
            line.clear();
        }
        line += line.empty() ? name : ", " + name;
    }
    fmt::print(out, "  {}\n", line);
}

void list_fail_points(std::FILE* out) {
    fmt::print(out, "\nCrash fail points (§11; crash_at_next_crash_point arms them all):\n  {}\n",
               fmt::join(scenarios::crash_node_fail_points, ", "));
    fmt::print(out, "Recovery, sync and event fail points a scenario can arm:\n");
    print_names_wrapped(scenarios::model_fail_points, out);
    fmt::print(out,
               "Simulated-disk fail points (every RocksDB file operation of the node's fiber; "
               "error = the fault, a crash there crashes mid-operation):\n  {}\n",
               fmt::join(scenarios::fs_fail_points, ", "));
}

}  // namespace

void list_sites(std::FILE* out, bool probes) {
    fmt::print(out, "{}\n",
               probes ? "Probes (FLOE_REACHABLE / FLOE_SOMETIMES; node/sites.def):"
                      : "Fail points (node/sites.def):");
    size_t width = 0;
    for (const walrus::site::Site& site : walrus::site::all()) {
        width = std::max(width, site.name.size());
    }
    for (const walrus::site::Site& site : walrus::site::all()) {
        if (site.is_probe() != probes) {
            continue;
        }
        if (probes) {
            fmt::print(out, "  {:<{}}  {}\n", site.name, width, site.what);
        } else {
            fmt::print(out, "  {:<{}}  {:<12} {}\n", site.name, width,
                       walrus::site::kind_name(site.kind), site.what);
        }
    }
}

namespace {

void list_behaviours(std::FILE* out) {
    fmt::print(out, "\nOld behaviours (--old-behaviour NAME): Walrus before a fix\n");
    for (const auto& info : walrus::behaviour_switches()) {
        if (info.kind == walrus::BehaviourKind::old_behaviour) {
            fmt::print(out, "  {:<32} {}\n", info.name, info.description);
        }
    }
    fmt::print(out,
               "\nNew behaviours (--new-behaviour NAME): fixes of Walrus findings and floe's "
               "earlier, safer model (docs/MODEL.md section 6)\n");
    for (const auto& info : walrus::behaviour_switches()) {
        if (info.kind == walrus::BehaviourKind::new_behaviour) {
            fmt::print(out, "  {:<32} {}\n", info.name, info.description);
        }
    }
}

}  // namespace

int list_command(std::FILE* out) {
    list_scenarios(out);
    list_fail_points(out);
    fmt::print(out, "Probes (what a run reached; floe list --probes describes them):\n");
    print_names_wrapped(scenarios::model_probes, out);
    list_behaviours(out);
    return exit_pass;
}

// --- usage checks --------------------------------------------------------------------------------

std::string check_scenario_name(const std::string& name) {
    if (scenarios::find_scenario(name) != nullptr) {
        return {};
    }
    std::vector<std::string> names;
    for (const ScenarioSpec& spec : scenarios::all_scenarios()) {
        names.push_back(spec.name);
    }
    return fmt::format("unknown scenario '{}' (floe list shows them: {})", name,
                       fmt::join(names, ", "));
}

namespace {

std::string check_kind(const std::vector<std::string>& names, walrus::BehaviourKind kind) {
    const char* what = kind == walrus::BehaviourKind::old_behaviour ? "old" : "new";
    for (const std::string& name : names) {
        const auto found = walrus::behaviour_kind(name);
        if (found == kind) {
            continue;
        }
        std::vector<std::string> known;
        for (const auto& info : walrus::behaviour_switches()) {
            if (info.kind == kind) {
                known.emplace_back(info.name);
            }
        }
        return fmt::format("unknown {} behaviour '{}' (known: {})", what, name,
                           fmt::join(known, ", "));
    }
    return {};
}

}  // namespace

std::string check_sets(const std::string& scenario, const std::vector<std::string>& sets) {
    const auto* spec = scenarios::find_scenario(scenario);
    if (spec == nullptr) {
        return check_scenario_name(scenario);
    }
    scenarios::Params params(spec->params);
    for (const std::string& set : sets) {
        if (auto error = params.set(set); !error.empty()) {
            return error;
        }
    }
    return {};
}

std::string check_behaviours(const std::vector<std::string>& names) {
    for (const std::string& name : names) {
        if (!walrus::behaviour_kind(name).has_value()) {
            return check_kind({name}, walrus::BehaviourKind::old_behaviour);
        }
    }
    return {};
}

std::string collect_behaviours(const std::vector<std::string>& old_names,
                               const std::vector<std::string>& new_names,
                               std::vector<std::string>& out) {
    std::string error = check_kind(old_names, walrus::BehaviourKind::old_behaviour);
    if (error.empty()) {
        error = check_kind(new_names, walrus::BehaviourKind::new_behaviour);
    }
    out.insert(out.end(), old_names.begin(), old_names.end());
    out.insert(out.end(), new_names.begin(), new_names.end());
    return error;
}

std::string check_output_file(const std::string& path) {
    if (path.empty()) {
        return {};
    }
    const fs::path parent = fs::absolute(fs::path(path)).parent_path();
    std::error_code ec;
    if (!fs::is_directory(parent, ec)) {
        return fmt::format("cannot write {}: directory {} does not exist", path, parent.string());
    }
    if (access(parent.c_str(), W_OK) != 0) {
        return fmt::format("cannot write {}: directory {} is not writable", path, parent.string());
    }
    if (fs::is_directory(path, ec)) {
        return fmt::format("cannot write {}: it is a directory", path);
    }
    return {};
}

std::string check_data_dir(const std::string& path) {
    if (path.empty()) {
        return {};
    }
    std::error_code ec;
    if (fs::exists(path, ec)) {
        if (!fs::is_directory(path, ec)) {
            return fmt::format("--data-dir {} is not a directory", path);
        }
        if (!fs::is_empty(path, ec)) {
            return fmt::format("--data-dir {} is not empty (floe never reuses node data)", path);
        }
        if (access(path.c_str(), W_OK) != 0) {
            return fmt::format("--data-dir {} is not writable", path);
        }
        return {};
    }
    return check_output_file(path);  // created by the run: its parent must be writable
}

std::optional<sim::SchedStrategy> parse_sched(const std::string& text, std::string& error) {
    std::string why;
    auto strategy = sim::parse_sched_strategy(text, why);
    if (!strategy.has_value()) {
        error = fmt::format("--sched {}: {}", text, why);
    }
    return strategy;
}

std::optional<scenarios::ScenarioRunOptions> run_options(const RunArgs& args, uint64_t seed,
                                                         std::string& error) {
    error = check_scenario_name(args.scenario);
    if (error.empty()) {
        error = check_behaviours(args.old_behaviours);
    }
    for (const std::string* path :
         {&args.trace_path, &args.perfetto_path, &args.report_path, &args.record_faults}) {
        if (error.empty()) {
            error = check_output_file(*path);
        }
    }
    if (error.empty()) {
        error = check_data_dir(args.data_dir);
    }
    std::optional<sim::SchedStrategy> sched;
    if (error.empty()) {
        sched = parse_sched(args.sched, error);
    }
    if (error.empty()) {
        // --set values are checked against the scenario's parameters before anything runs.
        scenarios::Params params(scenarios::find_scenario(args.scenario)->params);
        for (const std::string& set : args.sets) {
            error = params.set(set);
            if (!error.empty()) {
                break;
            }
        }
    }
    if (!error.empty()) {
        return std::nullopt;
    }
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.sets = args.sets;
    for (const std::string& name : args.old_behaviours) {
        (void)options.old.set(name);
    }
    options.trace_path = args.trace_path;
    options.data_dir = args.data_dir;
    options.sched = *sched;
    return options;
}

// --- floe run ------------------------------------------------------------------------------------

namespace {

struct RunOutcome {
    scenarios::ScenarioResult result;
    double wall_seconds = 0;
    std::string repro;
    std::string sched;  // the strategy's name, "random" by default
};

std::string hex(uint64_t value) {
    return fmt::format("{:016x}", value);
}

nlohmann::json to_json(const ScenarioSpec& spec, uint64_t seed, const RunOutcome& run) {
    const sim::RunResult& r = run.result.result;
    nlohmann::json out = {
        {"scenario", spec.name},
        {"seed", seed},
        {"outcome", r.passed() ? "pass" : "fail"},
        {"failure_class", r.passed() ? "" : r.outcome()},
        {"message", r.message},
        {"where", r.where},
        {"repro", run.repro},
        {"sched", run.sched},
        {"virtual_seconds", static_cast<double>(r.end_time.ns()) / 1e9},
        {"trace_events", r.trace_events},
        {"steps", r.steps},
        {"trace_hash", hex(r.trace_hash)},
        {"run_wall_seconds", run.wall_seconds},
        {"fail_points_armed_hit", run.result.fail_points.armed_hit},
        {"fail_points_armed_never_hit", run.result.fail_points.armed_never},
        {"fail_point_hits", run.result.fail_points.hits},
        {"fail_points_reached", run.result.fail_points.reached},
        {"probes", run.result.fail_points.probes},
        {"probes_never_true", run.result.fail_points.probes_never_true},
        {"buggify_fired", run.result.fail_points.buggify_fired},
        {"notes", run.result.notes},
    };
    nlohmann::json reported = nlohmann::json::object();
    for (const auto& [key, value] : run.result.reported) {
        reported[key] = value;
    }
    out["reported"] = reported;
    return out;
}

// The record of a run a failed assertion aborts: a bug, with what the run reached so far.
void print_aborted_record(const ScenarioSpec& spec, uint64_t seed, const RunOutcome& run,
                          const std::string& what,
                          const std::function<scenarios::FailPointSummary()>& live) {
    nlohmann::json out = {
        {"scenario", spec.name}, {"seed", seed},
        {"outcome", "fail"},     {"failure_class", "invariant"},
        {"message", what},       {"repro", run.repro},
        {"sched", run.sched},    {"where", sim::failed_assertion_location()},
    };
    // "162.410863840s": a group's fastest failure is picked by virtual time.
    const std::string& when = sim::failed_assertion_time();
    char* end = nullptr;
    const double seconds = std::strtod(when.c_str(), &end);
    if (end != when.c_str() && *end == 's') {
        out["virtual_seconds"] = seconds;
    }
    if (live) {
        const scenarios::FailPointSummary points = live();
        out["fail_points_armed_hit"] = points.armed_hit;
        out["fail_points_armed_never_hit"] = points.armed_never;
        out["fail_point_hits"] = points.hits;
        out["fail_points_reached"] = points.reached;
        out["probes"] = points.probes;
        out["probes_never_true"] = points.probes_never_true;
        out["buggify_fired"] = points.buggify_fired;
    }
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    std::fflush(stdout);
}

void print_summary(const ScenarioSpec& spec, uint64_t seed, const RunOutcome& run) {
    const sim::RunResult& r = run.result.result;
    const double virtual_seconds = static_cast<double>(r.end_time.ns()) / 1e9;
    fmt::print("floe run {} --seed {}\n  {}\n\n", spec.name, seed, spec.mirrors);
    fmt::print("  outcome        {}\n", r.passed() ? "pass" : "FAIL (" + r.outcome() + ")");
    if (run.sched != "random") {
        fmt::print("  schedule       {} ({} choice points)\n", run.sched, r.choice_points);
    }
    if (!r.passed()) {
        fmt::print("  failure        {}\n", r.message);
    }
    fmt::print("  virtual time   {}\n", r.end_time.to_string());
    fmt::print("  events         {} trace events, {} scheduler steps\n", r.trace_events, r.steps);
    fmt::print("  wall time      {:.3f} s ({:.0f}x real time)\n", run.wall_seconds,
               run.wall_seconds > 0 ? virtual_seconds / run.wall_seconds : 0.0);
    fmt::print("  trace hash     {}\n", hex(r.trace_hash));
    if (!run.result.reported.empty()) {
        std::vector<std::string> items;
        for (const auto& [key, value] : run.result.reported) {
            items.push_back(fmt::format("{}={}", key, value));
        }
        fmt::print("  reported       {}\n", fmt::join(items, " "));
    }
    const auto& points = run.result.fail_points;
    fmt::print(
        "  fail points    {} hits; armed and hit: {}\n", points.hits,
        points.armed_hit.empty() ? "-" : fmt::format("{}", fmt::join(points.armed_hit, ", ")));
    if (!points.armed_never.empty()) {
        fmt::print("                 armed, never hit: {}\n", fmt::join(points.armed_never, ", "));
    }
    fmt::print("  probes         {} of {} reached\n", points.probes.size(),
               scenarios::model_probes.size());
    for (const std::string& note : run.result.notes) {
        fmt::print("  note           {}\n", note);
    }
    if (!points.buggify_fired.empty()) {
        std::vector<std::string> fired;
        for (const auto& [name, count] : points.buggify_fired) {
            fired.push_back(fmt::format("{} x{}", name, count));
        }
        fmt::print("  buggify fired  {}\n", fmt::join(fired, ", "));
    }
    fmt::print("  reproduce      {}\n", run.repro);
}

ReportSummary report_summary(const ScenarioSpec& spec, uint64_t seed, const RunOutcome& run) {
    const sim::RunResult& r = run.result.result;
    ReportSummary out;
    out.title = fmt::format("{} --seed {}", spec.name, seed);
    out.passed = r.passed();
    out.rows.emplace_back("scenario", spec.name);
    out.rows.emplace_back("mirrors", spec.mirrors);
    out.rows.emplace_back("seed", std::to_string(seed));
    out.rows.emplace_back("outcome", r.passed() ? "pass" : "FAIL (" + r.outcome() + ")");
    if (!r.passed()) {
        out.rows.emplace_back("failure", r.message);
    }
    out.rows.emplace_back("virtual time", r.end_time.to_string());
    out.rows.emplace_back(
        "events", fmt::format("{} trace events, {} scheduler steps", r.trace_events, r.steps));
    out.rows.emplace_back("wall time", fmt::format("{:.3f} s", run.wall_seconds));
    out.rows.emplace_back("trace hash", hex(r.trace_hash));
    for (const auto& [key, value] : run.result.reported) {
        out.rows.emplace_back(key, std::to_string(value));
    }
    const auto& points = run.result.fail_points;
    out.rows.emplace_back(
        "fail points armed and hit",
        points.armed_hit.empty() ? "-" : fmt::format("{}", fmt::join(points.armed_hit, ", ")));
    if (!points.armed_never.empty()) {
        out.rows.emplace_back("armed, never hit",
                              fmt::format("{}", fmt::join(points.armed_never, ", ")));
    }
    out.rows.emplace_back("reproduce", run.repro);
    return out;
}

ReportSummary aborted_report_summary(const ScenarioSpec& spec, uint64_t seed,
                                     const std::string& repro, const std::string& what) {
    ReportSummary out;
    out.title = fmt::format("{} --seed {}", spec.name, seed);
    out.passed = false;
    out.rows.emplace_back("scenario", spec.name);
    out.rows.emplace_back("seed", std::to_string(seed));
    out.rows.emplace_back("outcome", "FAIL (bug: the run aborted)");
    out.rows.emplace_back("failure", what);
    out.rows.emplace_back("reproduce", repro);
    return out;
}

// The Perfetto file and the HTML report, each if asked for. False (after one line on stderr)
// if one could not be written.
bool write_visual_outputs(const RunArgs& args, const sim::Timeline& timeline,
                          const ReportSummary& summary) {
    bool ok = true;
    if (!args.perfetto_path.empty()) {
        if (auto error = write_perfetto_json(timeline, args.perfetto_path); !error.empty()) {
            fmt::print(stderr, "floe: {}\n", error);
            ok = false;
        }
    }
    if (!args.report_path.empty()) {
        if (auto error = write_html_report(timeline, summary, args.report_path); !error.empty()) {
            fmt::print(stderr, "floe: {}\n", error);
            ok = false;
        }
    }
    return ok;
}

uint64_t draw_seed() {
    // The one place floe draws an unseeded number: a seed for a run the user did not seed. It
    // is printed (and in the repro command), so the run is reproducible all the same.
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32 | device()) % 1'000'000'000;
}

}  // namespace

int run_command(const RunArgs& args) {
    const uint64_t seed = args.seed.has_value() ? *args.seed : draw_seed();
    std::string error;
    const auto options = run_options(args, seed, error);
    if (!options.has_value()) {
        fmt::print(stderr, "floe: {} (see floe run --help)\n", error);
        return exit_usage;
    }
    const ScenarioSpec& spec = *scenarios::find_scenario(args.scenario);
    scenarios::ScenarioRunOptions run_opts = *options;
    std::optional<scenarios::FaultSchedule> replay;
    if (!args.faults.empty()) {
        replay = scenarios::read_schedule(args.faults, error);
        if (replay.has_value() && replay->scenario != spec.name) {
            error = fmt::format("{} is a fault schedule of {}, not of {}", args.faults,
                                replay->scenario, spec.name);
        }
        if (!error.empty()) {
            fmt::print(stderr, "floe: {} (see floe run --help)\n", error);
            return exit_usage;
        }
        run_opts.replay_faults = &*replay;
        run_opts.faults_path = args.faults;
    }
    scenarios::FaultSchedule recorded{spec.name, seed, {}};
    if (!args.record_faults.empty()) {
        run_opts.record_faults = &recorded;
    }
    // The schedule so far, also when a failed assertion aborts the run (floe shrink needs it).
    auto write_recorded = [&] {
        if (!args.record_faults.empty()) {
            if (auto failed = scenarios::write_schedule(recorded, args.record_faults);
                !failed.empty()) {
                fmt::print(stderr, "floe: {}\n", failed);
            }
        }
    };
    RunOutcome run;
    run.repro = scenarios::repro_command(spec, run_opts);
    run.sched = sim::sched_strategy_name(options->sched);
    sim::set_repro_context(run.repro);
    if (!args.seed.has_value() && !args.json) {
        fmt::print("floe: no --seed given; drew seed {}\n", seed);
    }
    const bool wants_timeline = !args.perfetto_path.empty() || !args.report_path.empty();
    sim::TimelineRecorder timeline;
    std::function<scenarios::FailPointSummary()> live_fail_points;
    run_opts.live_fail_points = &live_fail_points;
    if (wants_timeline) {
        run_opts.timeline = &timeline;
    }
    // A bug aborts the run: the files still show the run up to the failed assertion, and a
    // sweep's child still reports what it reached (`floe sweep --explain` reads it).
    sim::set_failure_hook([&](const std::string& what) {
        if (wants_timeline) {
            const sim::Timeline cut = timeline.finish(timeline.last_event());
            ReportSummary summary = aborted_report_summary(spec, seed, run.repro, what);
            (void)write_visual_outputs(args, cut, summary);
        }
        if (args.json) {
            print_aborted_record(spec, seed, run, what, live_fail_points);
        }
        write_recorded();
    });
    const auto start = std::chrono::steady_clock::now();
    run.result = scenarios::run_scenario(spec, run_opts, error);
    run.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sim::set_failure_hook(nullptr);
    if (!error.empty()) {
        fmt::print(stderr, "floe: {}\n", error);
        return exit_usage;
    }
    write_recorded();
    if (wants_timeline) {
        const sim::Timeline finished = timeline.finish(run.result.result.end_time);
        if (!write_visual_outputs(args, finished, report_summary(spec, seed, run))) {
            return exit_usage;
        }
    }
    if (args.json) {
        fmt::print("{}\n", to_json(spec, seed, run).dump());
    } else {
        print_summary(spec, seed, run);
    }
    std::fflush(stdout);
    return exit_code_for(run.result.result.failure);
}

}  // namespace floe::tools
