#pragma once
// The model's fail points and probes, declared once in node/sites.def: a named constant per site
// (walrus::site::batch_write_before, ...), and the whole table for `floe list`, coverage reports
// and the fail-point swarm. Model code names a site only through its constant (a lint,
// tools/check_catalog.py, rejects a string literal at a call site), so a site cannot be misspelt
// and the catalog cannot miss one.
//
//   rt_.fail_point(site::batch_write_before)              a fail point (a Site converts to its
//   name) FLOE_REACHABLE(rt_, site::node_recovery_scan_blob)     a probe: this state was reached
//   FLOE_SOMETIMES(rt_, site::x, cond)                     a probe: cond held here at least once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/runtime.h"

namespace walrus::site {

enum class Kind : uint8_t {
    crash_point,
    point,
    error_point,
    async_point,
    arg_point,
    fs_fault,
    probe
};

// What a fail-point swarm may do at a site (node/sites.def explains each site's choice).
enum Fits : uint8_t { fit_none = 0, fit_crash = 1, fit_error = 2, fit_delay = 4 };

struct Site {
    std::string_view name;
    Kind kind;
    uint8_t fits;
    std::string_view what;

    // So a fail-point call takes the site itself: rt.fail_point(site::put_cf_before).
    constexpr operator std::string_view() const {
        return name;
    }  // NOLINT(google-explicit-constructor)
    bool is_probe() const { return kind == Kind::probe; }
};

#define FLOE_SITE(id, name_, kind_, fits_, what_) \
    inline constexpr Site id{name_, Kind::kind_, fits_, what_};
#include "node/sites.def"
#undef FLOE_SITE

// Every site, in the catalog's order.
std::span<const Site> all();
// The site called `name`; nullptr when the catalog has none.
const Site* find(std::string_view name);
std::string_view kind_name(Kind kind);
// The names of the sites `keep` selects, in the catalog's order.
std::vector<std::string> names_where(bool (*keep)(const Site&));

template <const Site& S>
void reachable(sim::Runtime& rt) {
    static_assert(S.kind == Kind::probe, "FLOE_REACHABLE takes a probe of node/sites.def");
    rt.probe(S.name, true);
}

template <const Site& S>
void sometimes(sim::Runtime& rt, bool holds) {
    static_assert(S.kind == Kind::probe, "FLOE_SOMETIMES takes a probe of node/sites.def");
    rt.probe(S.name, holds);
}

}  // namespace walrus::site

// A probe (Antithesis-style): REACHABLE is satisfied once the line runs; SOMETIMES(cond) is
// evaluated each time the line runs and satisfied once cond held. Neither changes the run.
#define FLOE_REACHABLE(rt, site_) ::walrus::site::reachable<site_>(rt)
#define FLOE_SOMETIMES(rt, site_, cond) \
    ::walrus::site::sometimes<site_>(rt, static_cast<bool>(cond))
