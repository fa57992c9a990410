#pragma once
// How the scheduler orders the events due at one instant (`floe run --sched`).
//
//   random      each pick uniform over the due list, stream "scheduler" (the default; every
//               trace hash from before the strategies existed is a `random` hash)
//   pct:D[:K]   PCT (Burckhardt et al., ASPLOS'10): random priorities, the highest-priority live
//               entry runs; D-1 priority change points among the first K choice points, stream
//               "sched-pct"
//   starve[:P]  a victim host's entries are passed over while others are ready; after each
//               choice point the starvation ends with probability P, stream "sched-starve"
//
// A choice point is a pick from a due list holding more than one entry.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sim {

enum class SchedKind : uint8_t { random, pct, starve };

struct SchedStrategy {
    static constexpr uint32_t default_pct_depth = 3;
    static constexpr uint32_t max_pct_depth = 1000;
    // About the median count of choice points of the shipped scenarios (17k..53k at seed 1;
    // swarm 86k): set K for a scenario from `choice_points` in `floe run`'s summary.
    static constexpr uint64_t default_pct_horizon = 30'000;
    static constexpr uint64_t max_pct_horizon = uint64_t{1} << 40;
    static constexpr double default_starve_p = 0.2;

    SchedKind kind = SchedKind::random;
    uint32_t pct_depth = default_pct_depth;      // D: a bug of depth D needs D-1 change points
    uint64_t pct_horizon = default_pct_horizon;  // K: change points fall in choice points 1..K
    double starve_p = default_starve_p;          // in (0, 1]

    bool is_random() const { return kind == SchedKind::random; }
    static SchedStrategy pct(uint32_t depth, uint64_t horizon = default_pct_horizon);
    static SchedStrategy starve(double p = default_starve_p);
};

// "random" | "pct:D[:K]" | "starve[:P]". On a bad value: nullopt and a one-line `error`.
std::optional<SchedStrategy> parse_sched_strategy(std::string_view text, std::string& error);
// The text that parses back to `strategy`, shortest form ("pct:3", not "pct:3:30000").
std::string sched_strategy_name(const SchedStrategy& strategy);

}  // namespace sim
