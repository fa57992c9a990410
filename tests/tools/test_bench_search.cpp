// `floe bench search` without children (tools/bench_search.h): the first-failure search over
// batches with a fake runner, the medians and ratios of capped searches, their formatting, and
// the parsing of --strategies and --targets.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "tools/bench_search.h"

using floe::tools::BatchVerdict;
using floe::tools::Estimate;
using floe::tools::format_ratio;
using floe::tools::format_seeds;
using floe::tools::median;
using floe::tools::more_than;
using floe::tools::parse_name_list;
using floe::tools::ratio;
using floe::tools::search_first_failure;
using floe::tools::search_strategies;
using floe::tools::SearchOutcome;
using floe::tools::SeedRunner;
using floe::tools::seeds_estimate;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Seeds in `with` fail with the switch, seeds in `without` fail without it too; every batch and
// every re-run is recorded.
struct FakeRunner {
    std::set<uint64_t> with;
    std::set<uint64_t> without;
    std::string usage_error;
    std::vector<std::pair<uint64_t, uint64_t>> batches;  // (first, count)
    std::vector<uint64_t> reruns;

    SeedRunner runner() {
        return SeedRunner{[this](uint64_t first, uint64_t count) {
                              batches.emplace_back(first, count);
                              BatchVerdict verdict;
                              verdict.usage_error = usage_error;
                              // Reported in descending order: the search must sort them.
                              for (uint64_t seed = first + count; seed-- > first;) {
                                  if (with.count(seed) > 0) {
                                      verdict.failed.push_back(seed);
                                  }
                              }
                              return verdict;
                          },
                          [this](uint64_t seed) {
                              reruns.push_back(seed);
                              return without.count(seed) > 0;
                          }};
    }
};

SearchOutcome found_at(uint64_t start, uint64_t seed) {
    SearchOutcome outcome;
    outcome.start = start;
    outcome.failing_seed = seed;
    return outcome;
}

SearchOutcome capped(uint64_t start) {
    SearchOutcome outcome;
    outcome.start = start;
    return outcome;
}

}  // namespace

TEST_CASE("bench search: the smallest failing seed of an overshooting batch counts") {
    FakeRunner fake;
    fake.with = {1007, 1008, 1013};
    const SearchOutcome outcome = search_first_failure(1001, 100, 4, fake.runner());
    REQUIRE(outcome.failing_seed.has_value());
    CHECK(*outcome.failing_seed == 1007);
    CHECK(*outcome.seeds_to_failure() == 7);
    CHECK(outcome.seeds_run == 8);  // batches 1001..1004 and 1005..1008
    CHECK(fake.batches == std::vector<std::pair<uint64_t, uint64_t>>{{1001, 4}, {1005, 4}});
    CHECK(fake.reruns == std::vector<uint64_t>{1007});
    CHECK(outcome.noise.empty());
}

TEST_CASE(
    "bench search: a seed that fails without the switch too is noise, and the search goes "
    "on") {
    FakeRunner fake;
    fake.with = {3, 4, 9};
    fake.without = {3, 9};
    const SearchOutcome outcome = search_first_failure(1, 100, 5, fake.runner());
    REQUIRE(outcome.failing_seed.has_value());
    CHECK(*outcome.failing_seed == 4);
    CHECK(outcome.noise == std::vector<uint64_t>{3});
    CHECK(fake.reruns == std::vector<uint64_t>{3, 4});  // seed 9 is never judged

    FakeRunner only_noise;
    only_noise.with = {2, 5};
    only_noise.without = {2, 5};
    const SearchOutcome none = search_first_failure(1, 6, 4, only_noise.runner());
    CHECK_FALSE(none.failing_seed.has_value());
    CHECK(none.noise == std::vector<uint64_t>{2, 5});
}

TEST_CASE("bench search: the cap ends the search, the last batch cut to it") {
    FakeRunner fake;
    fake.with = {11};  // just past the cap
    const SearchOutcome outcome = search_first_failure(1, 10, 4, fake.runner());
    CHECK_FALSE(outcome.failing_seed.has_value());
    CHECK_FALSE(outcome.seeds_to_failure().has_value());
    CHECK(outcome.seeds_run == 10);
    CHECK(fake.batches == std::vector<std::pair<uint64_t, uint64_t>>{{1, 4}, {5, 4}, {9, 2}});

    FakeRunner at_cap;
    at_cap.with = {10};
    CHECK(*search_first_failure(1, 10, 3, at_cap.runner()).seeds_to_failure() == 10);
}

TEST_CASE("bench search: the result does not depend on the batch size") {
    for (unsigned batch : {1u, 2u, 3u, 7u, 50u}) {
        FakeRunner fake;
        fake.with = {2005, 2006, 2030};
        fake.without = {2005};
        const SearchOutcome outcome = search_first_failure(2001, 100, batch, fake.runner());
        CAPTURE(batch);
        CHECK(*outcome.failing_seed == 2006);
        CHECK(outcome.noise == std::vector<uint64_t>{2005});
    }
}

TEST_CASE("bench search: a usage error stops the search at its first batch") {
    FakeRunner fake;
    fake.with = {1};
    fake.usage_error = "floe: The following argument was not expected: --sched";
    const SearchOutcome outcome = search_first_failure(1, 100, 2, fake.runner());
    CHECK(outcome.usage_error == fake.usage_error);
    CHECK_FALSE(outcome.failing_seed.has_value());
    CHECK(fake.batches.size() == 1);
    CHECK(fake.reruns.empty());
}

TEST_CASE("bench search: medians with caps") {
    const auto seeds = [](const SearchOutcome& outcome) { return seeds_estimate(outcome, 100); };
    CHECK(seeds(found_at(1001, 1012)) == Estimate{12, 12});
    CHECK(seeds(capped(1)) == Estimate{100, kInf});

    // One capped search of three does not move the median...
    CHECK(median({seeds(found_at(1, 5)), seeds(capped(1001)), seeds(found_at(2001, 2020))}) ==
          Estimate{20, 20});
    // ... two do: more than the cap.
    const Estimate two_capped =
        median({seeds(found_at(1, 5)), seeds(capped(1001)), seeds(capped(2001))});
    CHECK(two_capped.low == 100);
    CHECK(std::isinf(two_capped.high));
    CHECK(format_seeds(two_capped) == ">100");
    // An even count: the mean of the two middle ones, a lower bound when one is capped.
    CHECK(median({Estimate{4, 4}, Estimate{9, 9}}) == Estimate{6.5, 6.5});
    CHECK(format_seeds(median({Estimate{4, 4}, Estimate{9, 9}})) == "6.5");
    CHECK(format_seeds(median({Estimate{10, 10}, Estimate{100, kInf}})) == ">55");
    CHECK(format_seeds(Estimate{7, 7}) == "7");
    CHECK(std::isinf(median({}).high));
}

TEST_CASE("bench search: a hard case needs more than 10 seeds; a cap of 10 is more") {
    CHECK(more_than(Estimate{11, 11}, 10));
    CHECK_FALSE(more_than(Estimate{10, 10}, 10));
    CHECK(more_than(Estimate{10, kInf}, 10));  // no failure in 10 seeds
    CHECK_FALSE(more_than(Estimate{9, kInf}, 10));
    CHECK_FALSE(more_than(Estimate{2, 12}, 10));  // may be 10 or less
}

TEST_CASE("bench search: ratios to random and their formatting") {
    const Estimate random_found{40, 40};
    const Estimate random_capped{100, kInf};
    CHECK(format_ratio(ratio(random_found, Estimate{8, 8})) == "5.0x");
    CHECK(format_ratio(ratio(random_capped, Estimate{8, 8})) == ">12.5x");
    CHECK(format_ratio(ratio(random_found, Estimate{100, kInf})) == "<0.4x");
    CHECK(format_ratio(ratio(random_capped, Estimate{100, kInf})) == "?");
    CHECK(format_ratio(Estimate{2, 4}) == "2.0-4.0x");
    CHECK(format_ratio(ratio(random_found, Estimate{8, 8}), "") == "5.0");

    // The median of ratios keeps what is known: two exact, one a lower bound.
    const Estimate factor =
        median({ratio(random_found, Estimate{8, 8}), ratio(random_capped, Estimate{10, 10}),
                ratio(Estimate{30, 30}, Estimate{30, 30})});
    CHECK(factor == Estimate{5, 5});
    // Two of three only known from below: the median is too.
    CHECK(format_ratio(median({ratio(random_capped, Estimate{4, 4}),
                               ratio(random_capped, Estimate{20, 20}), Estimate{1, 1}})) ==
          ">5.0x");
}

TEST_CASE("bench search: --strategies and --targets name known entries, once each") {
    std::vector<std::string> known;
    for (const auto& strategy : search_strategies()) {
        known.push_back(strategy.name);
    }
    CHECK(known == std::vector<std::string>{"random", "buggify", "pct", "starve"});
    std::string error;
    const auto parsed = parse_name_list("starve,random", known, "--strategies", error);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == std::vector<std::string>{"random", "starve"});  // in the table's order
    CHECK(error.empty());

    CHECK_FALSE(parse_name_list("random,fast", known, "--strategies", error));
    CHECK(error ==
          "--strategies random,fast: unknown name 'fast' (one of random, buggify, pct, starve)");
    CHECK_FALSE(parse_name_list("pct,pct", known, "--strategies", error));
    CHECK(error == "--strategies pct,pct: 'pct' given twice");
    CHECK_FALSE(parse_name_list("random,", known, "--strategies", error));
    CHECK(error.find("unknown name ''") != std::string::npos);
    CHECK_FALSE(parse_name_list("", known, "--targets", error));
}

TEST_CASE("bench search: the strategies are extra floe run arguments; --sched ones say so") {
    for (const auto& strategy : search_strategies()) {
        CAPTURE(strategy.name);
        const bool sched = !strategy.args.empty() && strategy.args.front() == "--sched";
        CHECK(strategy.needs == (sched ? "--sched" : ""));
    }
    CHECK(search_strategies().front().args.empty());  // random: today's runs, unchanged
}
