#include "tools/gate_reached.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace floe::tools {

std::string read_expected_reach(const std::string& path, ExpectedReach& out) {
    std::ifstream in(path);
    if (!in) {
        return fmt::format("cannot read {}", path);
    }
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        std::istringstream words(line.substr(0, line.find('#')));
        std::string first;
        if (!(words >> first)) {
            continue;
        }
        if (first != "unreachable") {
            std::string extra;
            if (words >> extra) {
                return fmt::format("{}:{}: expected 'NAME' or 'unreachable NAME REASON'", path,
                                   number);
            }
            out.reached.insert(first);
            continue;
        }
        std::string name;
        std::string reason;
        if (!(words >> name) || !std::getline(words >> std::ws, reason) || reason.empty()) {
            return fmt::format("{}:{}: 'unreachable' needs a name and a reason", path, number);
        }
        out.unreachable[name] = reason;
    }
    return {};
}

void add_reached_sites(const std::string& record, std::set<std::string>& reached) {
    const nlohmann::json object = nlohmann::json::parse(record, nullptr, false);
    if (!object.is_object()) {
        return;
    }
    for (const char* key : {"fail_points_reached", "probes"}) {
        const auto it = object.find(key);
        if (it != object.end() && it->is_object()) {
            for (const auto& item : it->items()) {
                reached.insert(item.key());
            }
        }
    }
}

ReachCheck check_reach(const ExpectedReach& expected, const std::set<std::string>& reached,
                       const std::vector<std::string>& catalog) {
    ReachCheck out;
    const std::set<std::string> known(catalog.begin(), catalog.end());
    for (const std::string& name : expected.reached) {
        if (!known.contains(name)) {
            out.unknown.push_back(name);
        } else if (!reached.contains(name)) {
            out.lost.push_back(name);
        }
    }
    for (const auto& [name, reason] : expected.unreachable) {
        if (!known.contains(name)) {
            out.unknown.push_back(name);
        }
    }
    for (const std::string& name : known) {
        if (reached.contains(name)) {
            if (!expected.reached.contains(name)) {
                out.newly.push_back(name);
            }
        } else if (!expected.reached.contains(name) && !expected.unreachable.contains(name)) {
            out.unaccounted.push_back(name);
        }
    }
    return out;
}

std::string write_expected_reach(const std::string& path, const std::set<std::string>& reached,
                                 const std::vector<std::string>& catalog,
                                 const ExpectedReach& previous) {
    std::ostringstream text;
    text << "# What `floe gate` reaches: the catalog's fail points and probes (node/sites.def).\n"
            "# The gate fails when a listed site is no longer reached, or when a catalog entry is\n"
            "# neither listed nor marked 'unreachable NAME REASON'. Rewritten by\n"
            "# `floe gate --write-reached` (review the diff: a site that disappears is a path the\n"
            "# gate stopped covering).\n";
    for (const std::string& name : catalog) {
        if (reached.contains(name)) {
            text << name << '\n';
        }
    }
    text << "\n";
    for (const std::string& name : catalog) {
        if (!reached.contains(name)) {
            const auto old = previous.unreachable.find(name);
            text << "unreachable " << name << ' '
                 << (old != previous.unreachable.end() ? old->second
                                                       : "not reached by the gate's seeds")
                 << '\n';
        }
    }
    std::ofstream out(path, std::ios::trunc);
    out << text.str();
    out.flush();
    if (!out) {
        return fmt::format("cannot write {}", path);
    }
    return {};
}

std::string reach_path_for(const std::string& list_path) {
    constexpr std::string_view suffix = ".txt";
    if (list_path.size() > suffix.size() && list_path.ends_with(suffix)) {
        return list_path.substr(0, list_path.size() - suffix.size()) + ".reached";
    }
    return list_path + ".reached";
}

}  // namespace floe::tools
