#include "node/sites.h"

#include <array>

namespace walrus::site {

namespace {

constexpr std::array sites = {
#define FLOE_SITE(id, name_, kind_, fits_, what_) id,
#include "node/sites.def"
#undef FLOE_SITE
};

}  // namespace

std::span<const Site> all() {
    return sites;
}

const Site* find(std::string_view name) {
    for (const Site& site : sites) {
        if (site.name == name) {
            return &site;
        }
    }
    return nullptr;
}

std::vector<std::string> names_where(bool (*keep)(const Site&)) {
    std::vector<std::string> out;
    for (const Site& site : sites) {
        if (keep(site)) {
            out.emplace_back(site.name);
        }
    }
    return out;
}

std::string_view kind_name(Kind kind) {
    switch (kind) {
        case Kind::crash_point: return "crash point";
        case Kind::point: return "point";
        case Kind::error_point: return "error point";
        case Kind::async_point: return "async point";
        case Kind::arg_point: return "arg point";
        case Kind::fs_fault: return "disk fault";
        case Kind::probe: return "probe";
    }
    return "?";
}

}  // namespace walrus::site
