#include "tools/bench_search.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "tools/child_sweep.h"

namespace floe::tools {

namespace {

using nlohmann::json;

// README.md, "Exit codes".
constexpr int kExitPass = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr const char* kScenario = "swarm";
// Starting seeds 1, 1001, 2001, ...: a search never reaches the next one (max_seeds <= 1000).
constexpr uint64_t kStartSpacing = 1000;
// A target is a hard case when uniform random needs more seeds than this (median).
constexpr double kHardCaseSeeds = 10;
constexpr const char* kBaseline = "random";

constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    size_t begin = 0;
    while (true) {
        const size_t comma = text.find(',', begin);
        out.push_back(text.substr(begin, comma == std::string::npos ? comma : comma - begin));
        if (comma == std::string::npos) {
            return out;
        }
        begin = comma + 1;
    }
}

std::string format_number(double value) {
    return value == std::floor(value) ? fmt::format("{:.0f}", value) : fmt::format("{:.1f}", value);
}

// The middle of sorted values: the middle one, or the mean of the two middle ones.
double middle(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t half = values.size() / 2;
    return values.size() % 2 == 1 ? values[half] : (values[half - 1] + values[half]) / 2;
}

}  // namespace

const std::vector<SearchStrategy>& search_strategies() {
    static const std::vector<SearchStrategy> strategies = {
        {"random", {}, ""},
        {"buggify", {"--set", "buggify=on"}, ""},
        {"pct", {"--sched", "pct:3"}, "--sched"},
        {"starve", {"--sched", "starve"}, "--sched"},
    };
    return strategies;
}

const std::vector<std::string>& switches_needing_storage_faults() {
    // Recovered slivers that skip the WAL are lost only by a power loss, a storage fault.
    static const std::vector<std::string> names = {"unlogged-sliver-writes"};
    return names;
}

std::optional<std::vector<std::string>> parse_name_list(const std::string& text,
                                                        const std::vector<std::string>& known,
                                                        const std::string& what,
                                                        std::string& error) {
    std::vector<bool> chosen(known.size(), false);
    for (const std::string& name : split_commas(text)) {
        const auto found = std::find(known.begin(), known.end(), name);
        if (found == known.end()) {
            error = fmt::format("{} {}: unknown name '{}' (one of {})", what, text, name,
                                fmt::join(known, ", "));
            return std::nullopt;
        }
        const auto index = static_cast<size_t>(found - known.begin());
        if (chosen[index]) {
            error = fmt::format("{} {}: '{}' given twice", what, text, name);
            return std::nullopt;
        }
        chosen[index] = true;
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < known.size(); ++i) {
        if (chosen[i]) {
            out.push_back(known[i]);
        }
    }
    return out;
}

std::optional<uint64_t> SearchOutcome::seeds_to_failure() const {
    if (!failing_seed) {
        return std::nullopt;
    }
    return *failing_seed - start + 1;
}

SearchOutcome search_first_failure(uint64_t start, uint64_t max_seeds, unsigned batch,
                                   const SeedRunner& runner,
                                   const std::function<void(uint64_t)>& on_batch) {
    SearchOutcome outcome;
    outcome.start = start;
    const uint64_t end = start + max_seeds;
    for (uint64_t next = start; next < end && !outcome.failing_seed;) {
        const uint64_t count = std::min<uint64_t>(std::max(batch, 1u), end - next);
        BatchVerdict verdict = runner.run_with_switch(next, count);
        outcome.seeds_run += count;
        if (!verdict.usage_error.empty()) {
            outcome.usage_error = verdict.usage_error;
            return outcome;
        }
        // A batch may overshoot the first failure: its seeds are judged in order.
        std::sort(verdict.failed.begin(), verdict.failed.end());
        verdict.failed.erase(std::unique(verdict.failed.begin(), verdict.failed.end()),
                             verdict.failed.end());
        for (const uint64_t seed : verdict.failed) {
            if (seed < next || seed >= next + count) {
                continue;  // not a seed of this batch
            }
            if (runner.fails_without_switch(seed)) {
                outcome.noise.push_back(seed);
                continue;
            }
            outcome.failing_seed = seed;
            break;
        }
        if (on_batch) {
            on_batch(outcome.seeds_run);
        }
        next += count;
    }
    return outcome;
}

Estimate seeds_estimate(const SearchOutcome& outcome, uint64_t max_seeds) {
    if (const auto seeds = outcome.seeds_to_failure()) {
        return {static_cast<double>(*seeds), static_cast<double>(*seeds)};
    }
    return {static_cast<double>(max_seeds), kInfinity};
}

Estimate median(std::vector<Estimate> values) {
    if (values.empty()) {
        return {0, kInfinity};
    }
    std::vector<double> lows;
    std::vector<double> highs;
    for (const Estimate& value : values) {
        lows.push_back(value.low);
        highs.push_back(value.high);
    }
    return {middle(std::move(lows)), middle(std::move(highs))};
}

Estimate ratio(const Estimate& baseline, const Estimate& strategy) {
    Estimate out;
    if (std::isinf(strategy.high)) {
        out.low = 0;
    } else {
        out.low = strategy.high > 0 ? baseline.low / strategy.high : kInfinity;
    }
    out.high = strategy.low > 0 ? baseline.high / strategy.low : kInfinity;
    return out;
}

bool more_than(const Estimate& value, double bound) {
    // A low with no high comes from capped searches, whose true values exceed the cap.
    return value.low > bound || (std::isinf(value.high) && value.low >= bound);
}

std::string format_seeds(const Estimate& seeds) {
    if (std::isinf(seeds.high)) {
        return ">" + format_number(seeds.low);
    }
    if (seeds.low == seeds.high) {
        return format_number(seeds.low);
    }
    return format_number(seeds.low) + "-" + format_number(seeds.high);
}

std::string format_ratio(const Estimate& factor, const std::string& suffix) {
    const bool no_low = factor.low <= 0;
    const bool no_high = std::isinf(factor.high);
    if (no_low && no_high) {
        return "?";
    }
    if (no_high) {
        return fmt::format(">{:.1f}{}", factor.low, suffix);
    }
    if (no_low) {
        return fmt::format("<{:.1f}{}", factor.high, suffix);
    }
    if (factor.low == factor.high) {
        return fmt::format("{:.1f}{}", factor.low, suffix);
    }
    return fmt::format("{:.1f}-{:.1f}{}", factor.low, factor.high, suffix);
}

namespace {

struct Target {
    std::string name;                 // the old-behaviour switch
    std::vector<std::string> sets;    // --set values besides the strategy's
    std::vector<std::string> always;  // --new-behaviour switches of every run (--with-fixes)
};

// One (target, strategy): a search per starting seed, or n/a.
struct Cell {
    std::vector<SearchOutcome> runs;
    std::string usage_error;  // set: the strategy is not available (n/a)
    Estimate median;
};

// Runs the searches' seeds as `floe run swarm ... --json` children of this executable.
class ChildRunner {
public:
    ChildRunner(std::string self, unsigned jobs) : self_(std::move(self)), jobs_(jobs) {}

    SeedRunner for_search(const Target& target, const SearchStrategy& strategy) {
        return SeedRunner{[this, &target, &strategy](uint64_t first, uint64_t count) {
                              return run_batch(target, strategy, first, count);
                          },
                          [this, &target, &strategy](uint64_t seed) {
                              return fails_without_switch(target, strategy, seed);
                          }};
    }

private:
    // The command line after the executable: run swarm --seed N --json --set ... [switch].
    static std::vector<std::string> run_args(const Target& target, const SearchStrategy& strategy,
                                             uint64_t seed, bool with_switch) {
        std::vector<std::string> args = {"run", kScenario, "--seed", std::to_string(seed),
                                         "--json"};
        for (const std::string& set : target.sets) {
            args.insert(args.end(), {"--set", set});
        }
        args.insert(args.end(), strategy.args.begin(), strategy.args.end());
        for (const std::string& fix : target.always) {
            args.insert(args.end(), {"--new-behaviour", fix});
        }
        if (with_switch) {
            args.insert(args.end(), {"--old-behaviour", target.name});
        }
        return args;
    }

    SeedJob job(const Target& target, const SearchStrategy& strategy, uint64_t seed,
                bool with_switch) const {
        std::vector<std::string> args = run_args(target, strategy, seed, with_switch);
        std::string repro = "floe";
        for (const std::string& arg : args) {
            if (arg != "--json") {
                repro += " " + arg;
            }
        }
        args.insert(args.begin(), self_);
        return SeedJob{seed, std::move(args), std::move(repro), kScenario};
    }

    SweepSummary run(const std::vector<SeedJob>& jobs) const {
        SweepOptions options;
        options.jobs = jobs_;
        options.progress_on_tty = false;
        options.progress = nullptr;
        return run_sweep(jobs, options);
    }

    BatchVerdict run_batch(const Target& target, const SearchStrategy& strategy, uint64_t first,
                           uint64_t count) const {
        std::vector<SeedJob> jobs;
        for (uint64_t seed = first; seed < first + count; ++seed) {
            jobs.push_back(job(target, strategy, seed, true));
        }
        const SweepSummary summary = run(jobs);
        BatchVerdict verdict;
        verdict.usage_error = summary.error;
        for (const SeedOutcome& failure : summary.failures) {
            if (failure.exit_code == kExitUsage && verdict.usage_error.empty()) {
                verdict.usage_error = failure.message;
            }
            verdict.failed.push_back(failure.seed);
        }
        return verdict;
    }

    // Cached: the same run without the switch serves every switch with the same --set values.
    bool fails_without_switch(const Target& target, const SearchStrategy& strategy, uint64_t seed) {
        SeedJob plain = job(target, strategy, seed, false);
        const auto cached = noise_.find(plain.repro);
        if (cached != noise_.end()) {
            return cached->second;
        }
        const SweepSummary summary = run({plain});
        const bool failed = summary.failed > 0 || !summary.error.empty();
        noise_.emplace(plain.repro, failed);
        return failed;
    }

    std::string self_;
    unsigned jobs_;
    std::map<std::string, bool> noise_;  // repro without the switch -> failed
};

std::vector<Target> make_targets(const std::vector<std::string>& names, unsigned epochs,
                                 const std::vector<std::string>& always) {
    const auto& storage = switches_needing_storage_faults();
    std::vector<Target> targets;
    for (const std::string& name : names) {
        Target target{name, {fmt::format("epochs={}", epochs)}, always};
        if (std::find(storage.begin(), storage.end(), name) == storage.end()) {
            target.sets.emplace_back("storage-faults=off");
        }
        targets.push_back(std::move(target));
    }
    return targets;
}

const SearchStrategy& strategy_named(const std::string& name) {
    const auto& all = search_strategies();
    return *std::find_if(all.begin(), all.end(),
                         [&](const SearchStrategy& s) { return s.name == name; });
}

std::string describe_search(const SearchOutcome& run, uint64_t max_seeds) {
    std::string text = run.failing_seed ? fmt::format("failure at seed {} ({} seeds)",
                                                      *run.failing_seed, *run.seeds_to_failure())
                                        : fmt::format("no failure in {} seeds", max_seeds);
    if (!run.noise.empty()) {
        text +=
            fmt::format("; noise (fails without the switch too): {}", fmt::join(run.noise, ", "));
    }
    return text;
}

// Runs every search of one (target, strategy), with its progress on stderr.
Cell search_cell(ChildRunner& runner, const Target& target, const SearchStrategy& strategy,
                 const SearchOptions& options) {
    Cell cell;
    const bool on_tty = ::isatty(::fileno(stderr)) != 0;
    for (unsigned i = 0; i < options.starts; ++i) {
        const uint64_t start = 1 + kStartSpacing * i;
        const std::string where =
            fmt::format("search: {} / {} / from seed {}", target.name, strategy.name, start);
        const auto progress = [&](uint64_t seeds_run) {
            if (on_tty) {
                fmt::print(stderr, "\r{}: {} seeds so far ", where, seeds_run);
                std::fflush(stderr);
            }
        };
        SearchOutcome run = search_first_failure(start, options.max_seeds, options.jobs,
                                                 runner.for_search(target, strategy), progress);
        if (on_tty) {
            fmt::print(stderr, "\r\033[K");
        }
        if (!run.usage_error.empty()) {
            fmt::print(stderr, "{}: n/a, a child rejected its arguments: {}\n", where,
                       run.usage_error);
            cell.usage_error = run.usage_error;
            cell.runs.clear();
            return cell;
        }
        fmt::print(stderr, "{}: {}\n", where, describe_search(run, options.max_seeds));
        cell.runs.push_back(std::move(run));
    }
    std::vector<Estimate> seeds;
    for (const SearchOutcome& run : cell.runs) {
        seeds.push_back(seeds_estimate(run, options.max_seeds));
    }
    cell.median = median(seeds);
    return cell;
}

// cells[target][strategy]
using Results = std::vector<std::vector<Cell>>;

std::optional<size_t> baseline_index(const std::vector<std::string>& strategies) {
    const auto found = std::find(strategies.begin(), strategies.end(), kBaseline);
    return found == strategies.end()
               ? std::nullopt
               : std::optional(static_cast<size_t>(found - strategies.begin()));
}

std::string cell_text(const Results& results, size_t t, size_t s,
                      const std::optional<size_t>& baseline) {
    const Cell& cell = results[t][s];
    if (!cell.usage_error.empty()) {
        return "n/a";
    }
    std::string text = format_seeds(cell.median);
    if (baseline && *baseline != s && results[t][*baseline].usage_error.empty()) {
        text += " (" + format_ratio(ratio(results[t][*baseline].median, cell.median)) + ")";
    }
    return text;
}

// "  name  cell  cell", in columns, without trailing blanks.
void print_row(const std::string& name, const std::vector<std::string>& cells) {
    std::string row = fmt::format("  {:<28}", name);
    for (const std::string& cell : cells) {
        row += fmt::format(" {:<20}", cell);
    }
    row.erase(row.find_last_not_of(' ') + 1);
    fmt::print("{}\n", row);
}

void print_table(const std::vector<Target>& targets, const std::vector<std::string>& strategies,
                 const Results& results, const SearchOptions& options) {
    const auto baseline = baseline_index(strategies);
    std::vector<std::string> starts;
    for (unsigned i = 0; i < options.starts; ++i) {
        starts.push_back(std::to_string(1 + kStartSpacing * i));
    }
    fmt::print(
        "floe bench search: the {} scenario (epochs={}; storage faults off except for {}) with\n"
        "each old-behaviour switch: seeds to the first failure the switch causes (a seed that "
        "also\nfails without the switch is noise, not counted); the median over {} starting "
        "seeds ({}),\nat most {} seeds from each; (x) = random's seeds / the strategy's seeds\n\n",
        kScenario, options.epochs, fmt::join(switches_needing_storage_faults(), ", "),
        options.starts, fmt::join(starts, ", "), options.max_seeds);
    std::vector<std::string> header;
    for (size_t s = 0; s < strategies.size(); ++s) {
        const bool with_ratio = baseline && *baseline != s;
        header.push_back(strategies[s] + (with_ratio ? " (x)" : ""));
    }
    print_row("switch", header);
    for (size_t t = 0; t < targets.size(); ++t) {
        std::vector<std::string> cells;
        for (size_t s = 0; s < strategies.size(); ++s) {
            cells.push_back(cell_text(results, t, s, baseline));
        }
        print_row(targets[t].name, cells);
    }
    fmt::print(
        "\nper starting seed (seeds to the failure; noise = failing seeds that fail "
        "without the switch too):\n");
    for (size_t t = 0; t < targets.size(); ++t) {
        for (size_t s = 0; s < strategies.size(); ++s) {
            const Cell& cell = results[t][s];
            if (!cell.usage_error.empty()) {
                continue;
            }
            std::vector<std::string> values;
            std::vector<uint64_t> noise;
            for (const SearchOutcome& run : cell.runs) {
                values.push_back(format_seeds(seeds_estimate(run, options.max_seeds)));
                noise.insert(noise.end(), run.noise.begin(), run.noise.end());
            }
            fmt::print("  {:<28} {:<8} {}{}\n", targets[t].name, strategies[s],
                       fmt::join(values, " "),
                       noise.empty() ? std::string()
                                     : fmt::format("  (noise: seeds {})", fmt::join(noise, ", ")));
        }
    }
}

// Per strategy other than random, over the targets where random needs more than 10 seeds: the
// median of random's seeds / the strategy's seeds.
void print_summary(const std::vector<Target>& targets, const std::vector<std::string>& strategies,
                   const Results& results, json& out) {
    const std::string head = fmt::format("hard cases ({} > {} seeds)", kBaseline, kHardCaseSeeds);
    const auto baseline = baseline_index(strategies);
    fmt::print("\n");
    if (!baseline) {
        fmt::print("{}: no ratios without the {} strategy\n", head, kBaseline);
        return;
    }
    std::vector<size_t> hard;
    std::vector<std::string> hard_names;
    for (size_t t = 0; t < targets.size(); ++t) {
        if (results[t][*baseline].usage_error.empty() &&
            more_than(results[t][*baseline].median, kHardCaseSeeds)) {
            hard.push_back(t);
            hard_names.push_back(targets[t].name);
        }
    }
    out["hard_cases"] = hard_names;
    if (hard.empty()) {
        fmt::print("{}: none\n", head);
        return;
    }
    fmt::print("{}: {}\n", head, fmt::join(hard_names, ", "));
    for (size_t s = 0; s < strategies.size(); ++s) {
        if (s == *baseline) {
            continue;
        }
        std::vector<Estimate> ratios;
        for (const size_t t : hard) {
            if (results[t][s].usage_error.empty()) {
                ratios.push_back(ratio(results[t][*baseline].median, results[t][s].median));
            }
        }
        if (ratios.empty()) {
            fmt::print("{}: strategy {} is n/a\n", head, strategies[s]);
            continue;
        }
        const Estimate factor = median(ratios);
        fmt::print("{}: strategy {} is {} times faster (median)\n", head, strategies[s],
                   format_ratio(factor, ""));
        out["hard_case_speedup"][strategies[s]] = {
            {"low", factor.low},
            {"high", std::isinf(factor.high) ? json(nullptr) : json(factor.high)},
            {"text", format_ratio(factor, "")}};
    }
}

json estimate_json(const Estimate& value) {
    return {{"low", value.low},
            {"high", std::isinf(value.high) ? json(nullptr) : json(value.high)},
            {"text", format_seeds(value)}};
}

json results_json(const std::vector<Target>& targets, const std::vector<std::string>& strategies,
                  const Results& results, const SearchOptions& options) {
    json out = {{"scenario", kScenario},
                {"epochs", options.epochs},
                {"max_seeds", options.max_seeds},
                {"jobs", options.jobs}};
    for (unsigned i = 0; i < options.starts; ++i) {
        out["starts"].push_back(1 + kStartSpacing * i);
    }
    for (const std::string& name : strategies) {
        out["strategies"].push_back({{"name", name}, {"args", strategy_named(name).args}});
    }
    for (size_t t = 0; t < targets.size(); ++t) {
        json target = {{"switch", targets[t].name}, {"sets", targets[t].sets}};
        for (size_t s = 0; s < strategies.size(); ++s) {
            const Cell& cell = results[t][s];
            json entry = {{"supported", cell.usage_error.empty()}};
            if (!cell.usage_error.empty()) {
                entry["usage_error"] = cell.usage_error;
            } else {
                entry["median"] = estimate_json(cell.median);
            }
            for (const SearchOutcome& run : cell.runs) {
                const auto seeds = run.seeds_to_failure();
                entry["runs"].push_back(
                    {{"start", run.start},
                     {"seeds_to_failure", seeds ? json(*seeds) : json(nullptr)},
                     {"failing_seed", run.failing_seed ? json(*run.failing_seed) : json(nullptr)},
                     {"seeds_run", run.seeds_run},
                     {"noise", run.noise}});
            }
            target["strategies"][strategies[s]] = entry;
        }
        out["targets"].push_back(target);
    }
    return out;
}

// The names an option chose, or every known name when it was not given.
std::optional<std::vector<std::string>> chosen_names(const std::string& text,
                                                     const std::vector<std::string>& known,
                                                     const std::string& what, std::string& error) {
    if (text.empty()) {
        return known;
    }
    return parse_name_list(text, known, what, error);
}

int usage(const std::string& message) {
    fmt::print(stderr, "floe: {}\n", message);
    return kExitUsage;
}

}  // namespace

int bench_search_command(const std::string& self, const SearchOptions& options,
                         const std::vector<std::string>& old_behaviours) {
    for (const std::string& name : switches_needing_storage_faults()) {
        if (std::find(old_behaviours.begin(), old_behaviours.end(), name) == old_behaviours.end()) {
            fmt::print(stderr, "floe: bench search: '{}' is not an old behaviour any more\n", name);
            return kExitFailed;
        }
    }
    std::vector<std::string> strategy_names;
    for (const SearchStrategy& strategy : search_strategies()) {
        strategy_names.push_back(strategy.name);
    }
    std::string error;
    const auto strategies_chosen =
        chosen_names(options.strategies, strategy_names, "--strategies", error);
    if (!strategies_chosen) {
        return usage(error);
    }
    const auto target_names = chosen_names(options.targets, old_behaviours, "--targets", error);
    if (!target_names) {
        return usage(error);
    }
    const std::vector<std::string>& strategies = *strategies_chosen;
    if (options.max_seeds < 1 || options.max_seeds > kStartSpacing) {
        return usage(
            fmt::format("--max-seeds {} is not in 1..{}", options.max_seeds, kStartSpacing));
    }
    if (!options.json_path.empty()) {
        if (error = check_out_path(options.json_path); !error.empty()) {
            return usage(error);
        }
    }
    const std::vector<Target> targets = make_targets(*target_names, options.epochs, options.always);
    ChildRunner runner(self, options.jobs);
    Results results(targets.size(), std::vector<Cell>(strategies.size()));
    std::vector<std::string> unavailable(strategies.size());  // a strategy's usage error
    for (size_t t = 0; t < targets.size(); ++t) {
        for (size_t s = 0; s < strategies.size(); ++s) {
            if (!unavailable[s].empty()) {
                results[t][s].usage_error = unavailable[s];
                continue;
            }
            results[t][s] = search_cell(runner, targets[t], strategy_named(strategies[s]), options);
            unavailable[s] = results[t][s].usage_error;
        }
    }
    print_table(targets, strategies, results, options);
    int status = kExitPass;
    for (size_t s = 0; s < strategies.size(); ++s) {
        if (unavailable[s].empty()) {
            continue;
        }
        const std::string& needs = strategy_named(strategies[s]).needs;
        if (needs.empty()) {
            status = kExitFailed;  // the bench's own arguments were refused: a bug
            fmt::print("  {}: FAILED, a child rejected its arguments: {}\n", strategies[s],
                       unavailable[s]);
        } else {
            fmt::print("  {}: n/a: this floe has no {} ({})\n", strategies[s], needs,
                       unavailable[s]);
        }
    }
    json out = results_json(targets, strategies, results, options);
    print_summary(targets, strategies, results, out);
    if (!options.json_path.empty()) {
        std::ofstream file(options.json_path, std::ios::trunc);
        file << out.dump(2) << "\n";
        if (!file) {
            fmt::print(stderr, "floe: cannot write {}\n", options.json_path);
            return kExitFailed;
        }
    }
    return status;
}

}  // namespace floe::tools
