#pragma once
// `floe bench search`: how many seeds a search strategy needs to find a planted bug. Each target
// is an old-behaviour switch run as the swarm scenario (random seeds rarely hit it); each
// strategy is a list of extra `floe run` arguments. For each (target, strategy) and each
// starting seed S0 = 1, 1001, 2001, ..., seeds S0, S0+1, ... run as child processes, a batch at
// a time, until the first seed that fails with the switch but passes without it (a failure
// without the switch is not the planted bug: it is noise, and the search goes on), up to a cap.
// The table shows the median over the starting points and the ratio to uniform random.
//
// Everything is fixed by the flags (seeds, strategies, targets), so the numbers reproduce.
// The search logic and the arithmetic take a runner function, so they are tested without
// children; `bench_search_command` plugs in `floe run ... --json` children (run_sweep).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace floe::tools {

// A search strategy: a name and the extra `floe run` arguments it means. `needs` names the
// option a floe must know for it (the strategy is skipped as n/a when a child rejects it).
struct SearchStrategy {
    std::string name;
    std::vector<std::string> args;
    std::string needs;
};
// random (no extra arguments: today's uniform same-instant shuffle and fault draws), buggify
// (--set buggify=on), pct (--sched pct:3), starve (--sched starve).
const std::vector<SearchStrategy>& search_strategies();

// The old-behaviour switches that only show with storage faults on (they keep the scenario's
// default); every other target runs with --set storage-faults=off.
const std::vector<std::string>& switches_needing_storage_faults();

// "a,b,c" checked against `known` (each name once): the names in the order of `known`, or
// nullopt and `error` set to one line naming the bad entry and the known names. `what` is the
// option, e.g. "--strategies".
std::optional<std::vector<std::string>> parse_name_list(const std::string& text,
                                                        const std::vector<std::string>& known,
                                                        const std::string& what,
                                                        std::string& error);

// The seeds of one batch that failed with the switch, or a child's usage error (exit code 2: it
// rejected its arguments, so no seed of the batch counts).
struct BatchVerdict {
    std::vector<uint64_t> failed;
    std::string usage_error;
};

// How the search runs seeds: a batch [first, first + count) with the switch, and one seed again
// without it (true: it fails there too, so its failure is noise).
struct SeedRunner {
    std::function<BatchVerdict(uint64_t first, uint64_t count)> run_with_switch;
    std::function<bool(uint64_t seed)> fails_without_switch;
};

struct SearchOutcome {
    uint64_t start = 0;
    std::optional<uint64_t> failing_seed;  // none: no failure of the switch within the cap
    uint64_t seeds_run = 0;                // with the switch, a batch's overshoot included
    std::vector<uint64_t> noise;           // failing seeds that also fail without the switch
    std::string usage_error;               // set: a child rejected the strategy's arguments
    // failing_seed - start + 1
    std::optional<uint64_t> seeds_to_failure() const;
};

// Runs seeds start, start+1, ... in batches of `batch` until the smallest failing seed of a batch
// that does not also fail without the switch, or `max_seeds` seeds. `on_batch(seeds_run)` is
// called after each batch (progress); it may be empty.
SearchOutcome search_first_failure(uint64_t start, uint64_t max_seeds, unsigned batch,
                                   const SeedRunner& runner,
                                   const std::function<void(uint64_t)>& on_batch = {});

// A number known within [low, high]; high is infinite when only a lower bound is known (a
// search capped without a failure: more than `max_seeds`), low is 0 when only an upper bound is.
struct Estimate {
    double low = 0;
    double high = 0;
    bool operator==(const Estimate&) const = default;
};
// [n, n] for a failure after n seeds; [max_seeds, inf] for a capped search.
Estimate seeds_estimate(const SearchOutcome& outcome, uint64_t max_seeds);
// The median of the lows and the median of the highs (the mean of the two middle ones for an
// even count): the median of the true values lies between them. Empty input: [0, inf].
Estimate median(std::vector<Estimate> values);
// How many times fewer seeds `strategy` needs than `baseline`: [b.low / s.high, b.high / s.low].
Estimate ratio(const Estimate& baseline, const Estimate& strategy);
// Whether the true value is more than `bound`: a capped median of 10 is, an exact 10 is not.
bool more_than(const Estimate& value, double bound);
// "12", "12.5", ">100".
std::string format_seeds(const Estimate& seeds);
// "4.0", ">4.0", "<0.5", "2.0-4.0", or "?" when nothing is known; `suffix` follows a number.
std::string format_ratio(const Estimate& factor, const std::string& suffix = "x");

struct SearchOptions {
    std::string strategies;    // "a,b": names of search_strategies(); empty: all
    std::string targets;       // "a,b": old-behaviour switches; empty: all
    unsigned epochs = 8;       // --set epochs=E
    unsigned starts = 3;       // starting seeds 1, 1001, 2001, ...
    uint64_t max_seeds = 100;  // per starting point, at most the 1,000 between starting points
    unsigned jobs = 1;         // children at once (the batch size)
    std::string json_path;     // the raw numbers; empty: none
    // Switches every run of every search gets (--with-fixes: the fixes of the known Walrus
    // findings, so that a planted bug is not hidden behind a finding a strategy reaches first).
    std::vector<std::string> always;
};

// `self` is this floe executable; `old_behaviours` the names of the old-behaviour switches (the
// possible targets). Exit 0 when every search ran (failures found are the point), 1 when a
// strategy that needs no new option was rejected by its children, 2 for a usage error.
int bench_search_command(const std::string& self, const SearchOptions& options,
                         const std::vector<std::string>& old_behaviours);

}  // namespace floe::tools
