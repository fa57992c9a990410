#include "sim/sched_strategy.h"

#include <fmt/format.h>

#include <charconv>

#include "sim/assert.h"

namespace sim {

namespace {

constexpr std::string_view usage = "expected random, pct:D[:K] or starve[:P]";

std::optional<uint64_t> parse_uint(std::string_view text) {
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// A decimal number ("0.2", "1", "1e-06"; what fmt prints for a double), never "inf" or "nan".
std::optional<double> parse_probability(std::string_view text) {
    if (text.empty() || text.find_first_not_of("0123456789.e-+") != std::string_view::npos) {
        return std::nullopt;
    }
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<SchedStrategy> parse_pct(std::string_view args, std::string& error) {
    const size_t colon = args.find(':');
    const auto depth = parse_uint(args.substr(0, colon));
    if (!depth || *depth < 1 || *depth > SchedStrategy::max_pct_depth) {
        error = fmt::format("the depth D of pct:D[:K] must be an integer in 1..{}",
                            SchedStrategy::max_pct_depth);
        return std::nullopt;
    }
    SchedStrategy out = SchedStrategy::pct(static_cast<uint32_t>(*depth));
    if (colon != std::string_view::npos) {
        const auto horizon = parse_uint(args.substr(colon + 1));
        if (!horizon || *horizon < 1 || *horizon > SchedStrategy::max_pct_horizon) {
            error = fmt::format("the horizon K of pct:D:K must be an integer in 1..{}",
                                SchedStrategy::max_pct_horizon);
            return std::nullopt;
        }
        if (*horizon < *depth - 1) {
            error = fmt::format("pct:D:K places D-1 = {} change points among K = {} choice points",
                                *depth - 1, *horizon);
            return std::nullopt;
        }
        out.pct_horizon = *horizon;
    }
    return out;
}

}  // namespace

SchedStrategy SchedStrategy::pct(uint32_t depth, uint64_t horizon) {
    return SchedStrategy{.kind = SchedKind::pct, .pct_depth = depth, .pct_horizon = horizon};
}

SchedStrategy SchedStrategy::starve(double p) {
    return SchedStrategy{.kind = SchedKind::starve, .starve_p = p};
}

std::optional<SchedStrategy> parse_sched_strategy(std::string_view text, std::string& error) {
    const size_t colon = text.find(':');
    const std::string_view kind = text.substr(0, colon);
    const std::string_view args =
        colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    if (kind == "random" && colon == std::string_view::npos) {
        return SchedStrategy{};
    }
    if (kind == "pct") {
        if (colon == std::string_view::npos) {
            error = "pct needs a depth: pct:D[:K]";
            return std::nullopt;
        }
        return parse_pct(args, error);
    }
    if (kind == "starve") {
        if (colon == std::string_view::npos) {
            return SchedStrategy::starve();
        }
        const auto p = parse_probability(args);
        if (!p || !(*p > 0.0 && *p <= 1.0)) {
            error = "the P of starve:P must be a decimal in (0, 1]";
            return std::nullopt;
        }
        return SchedStrategy::starve(*p);
    }
    error = std::string(usage);
    return std::nullopt;
}

std::string sched_strategy_name(const SchedStrategy& strategy) {
    switch (strategy.kind) {
        case SchedKind::random: return "random";
        case SchedKind::pct:
            return strategy.pct_horizon == SchedStrategy::default_pct_horizon
                       ? fmt::format("pct:{}", strategy.pct_depth)
                       : fmt::format("pct:{}:{}", strategy.pct_depth, strategy.pct_horizon);
        case SchedKind::starve:
            // fmt prints the shortest text that reads back as the same double.
            return strategy.starve_p == SchedStrategy::default_starve_p
                       ? std::string("starve")
                       : fmt::format("starve:{}", strategy.starve_p);
    }
    FLOE_UNREACHABLE("sched kind {}", static_cast<int>(strategy.kind));
}

}  // namespace sim
