#pragma once
// The gate's reach check: which fail points and probes of the catalog (node/sites.def) the gate's
// seeds reach, against a checked-in file of what the last green gate reached. A site that the
// gate stopped reaching fails the gate (a model change cut a path the gate used to cover); a
// catalog entry the gate never reached must be marked unreachable, with the reason. The file is
// rewritten deliberately, with `floe gate --write-reached`.
//
// File format (tools/gate.reached next to tools/gate.txt), one entry per line, `#` comments:
//   NAME                        the gate reaches it
//   unreachable NAME REASON...  the gate does not reach it, and why

#include <map>
#include <set>
#include <string>
#include <vector>

namespace floe::tools {

struct ExpectedReach {
    std::set<std::string> reached;
    std::map<std::string, std::string> unreachable;  // name -> reason
};

// "" when read; else a one-line error (missing file, bad line).
std::string read_expected_reach(const std::string& path, ExpectedReach& out);

// Adds the fail points ("fail_points_reached") and probes ("probes") of one JSON record.
void add_reached_sites(const std::string& record, std::set<std::string>& reached);

struct ReachCheck {
    std::vector<std::string> lost;         // expected, not reached: fails the gate
    std::vector<std::string> unaccounted;  // in the catalog, neither reached nor unreachable
    std::vector<std::string> unknown;      // in the file, not in the catalog (renamed, removed)
    std::vector<std::string> newly;        // reached, not expected yet: a note, not a failure
    bool passed() const { return lost.empty() && unaccounted.empty() && unknown.empty(); }
};

ReachCheck check_reach(const ExpectedReach& expected, const std::set<std::string>& reached,
                       const std::vector<std::string>& catalog);

// The file for `reached`: every catalog entry reached, the others marked unreachable with their
// old reason (or "not reached by the gate's seeds"). "" when written, else a one-line error.
std::string write_expected_reach(const std::string& path, const std::set<std::string>& reached,
                                 const std::vector<std::string>& catalog,
                                 const ExpectedReach& previous);

// tools/gate.txt -> tools/gate.reached
std::string reach_path_for(const std::string& list_path);

}  // namespace floe::tools
