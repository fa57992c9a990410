#pragma once
// Runs a shipped scenario from a test as `floe run NAME --seed N [--set k=v] [--old-behaviour X]
// [--new-behaviour Y]` runs it, and reads back what the run reported (Scenario::report).

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "node/behaviours.h"
#include "scenarios/scenario.h"

namespace floe::testing {

// Old- or new-behaviour switches by name; an unknown name fails the test.
inline walrus::Behaviours behaviours(std::initializer_list<const char*> names) {
    walrus::Behaviours out;
    for (const char* name : names) {
        REQUIRE_MESSAGE(out.set(name), name);
    }
    return out;
}

inline scenarios::ScenarioResult run_named_scenario(const std::string& name, uint64_t seed,
                                                    std::vector<std::string> sets = {},
                                                    walrus::Behaviours switches = {}) {
    const scenarios::ScenarioSpec* spec = scenarios::find_scenario(name);
    REQUIRE_MESSAGE(spec != nullptr, name);
    scenarios::ScenarioRunOptions options;
    options.seed = seed;
    options.sets = std::move(sets);
    options.old = std::move(switches);
    std::string error;
    scenarios::ScenarioResult result = scenarios::run_scenario(*spec, options, error);
    REQUIRE_MESSAGE(error.empty(), error);
    return result;
}

// A number the run reported. One it did not report fails the test (and reads as the lowest
// int64_t rather than as a plausible 0).
inline int64_t reported(const scenarios::ScenarioResult& result, const std::string& key) {
    const auto it = result.reported.find(key);
    if (it == result.reported.end()) {
        FAIL_CHECK("the run reported no '" << key << "'");
        return std::numeric_limits<int64_t>::min();
    }
    return it->second;
}

// The value a run reports as a shard mask (scenarios::shard_mask) for these shards.
inline int64_t mask_of(std::initializer_list<uint32_t> shards) {
    uint64_t mask = 0;
    for (uint32_t shard : shards) {
        mask |= uint64_t{1} << shard;
    }
    return static_cast<int64_t>(mask);
}

}  // namespace floe::testing
