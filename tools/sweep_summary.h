#pragma once
// `floe sweep --summary results.jsonl`: what a sweep's JSON Lines results say, at a glance —
// pass/fail counts per scenario, failures by class, fail-point coverage across the sweep (armed
// and hit, armed and never hit, never reached at all) and the slowest seeds.
//
// Two steps, so the reading and the arithmetic are testable without files: parse the lines into
// SweepResults, then print. The file is the one `floe sweep --out` appends to (see
// tools/child_sweep.h for its records); it may hold several sweeps, and a seed run again is
// appended again, so the last record of a (scenario, seed) is the one that counts.

#include <cstdint>
#include <cstdio>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace floe::tools {

// One seed's record. A field that is missing or of the wrong type is absent here: a crash
// record synthesized by the sweep runner has little more than scenario, seed and outcome.
struct SweepRecord {
    uint64_t line = 0;             // 1-based line in the file
    std::string scenario;          // "" when the record names none
    std::optional<uint64_t> seed;  // without one, never merged as a re-run
    bool passed = false;           // "outcome":"pass"; anything else, or nothing, is a failure
    std::string failure_class;     // "" when passed or not given
    std::string message;           // as recorded, possibly several lines
    std::string repro;             // "" when not given
    std::optional<double> wall_seconds;     // "wall_seconds", else "run_wall_seconds"
    std::optional<double> virtual_seconds;  // "virtual_seconds"
    // Set when the record carries any of the three fail-point fields below: only such records
    // say anything about coverage.
    bool reports_fail_points = false;
    std::vector<std::string> armed_hit;        // "fail_points_armed_hit"
    std::vector<std::string> armed_never_hit;  // "fail_points_armed_never_hit"
    std::vector<std::string> reached;          // the keys of "fail_points_reached"
    // Set when the record carries "probes" (records older than the probes do not).
    bool reports_probes = false;
    std::vector<std::string> probes;  // the keys of "probes": the probes that held at least once
};

// Every fail point and probe the record reached (what `floe sweep --explain` looks for).
std::vector<std::string> sites_reached(const SweepRecord& record);

struct SweepResults {
    std::string source;          // the file name, for the header and messages
    uint64_t lines_skipped = 0;  // non-blank lines that were not JSON objects
    uint64_t records_read = 0;   // JSON objects read, re-runs included
    uint64_t superseded = 0;     // records replaced by a later one of the same (scenario, seed)
    std::vector<SweepRecord> records;  // deduplicated, sorted by scenario, then seed
};

// Reads JSON Lines from `in`. A non-blank line that is not a JSON object is reported to
// `warnings` (nullptr = silently) as "floe: SOURCE:LINE: not a JSON object, skipped". Never
// throws on bad input.
SweepResults parse_sweep_results(std::istream& in, const std::string& source_name,
                                 std::FILE* warnings);

struct ScenarioStats {
    std::string scenario;
    uint64_t seeds = 0;
    uint64_t passed = 0;
    uint64_t failed = 0;
    uint64_t timed = 0;  // seeds with a wall time; the mean is over these
    double total_wall_seconds = 0;
    double max_wall_seconds = 0;
};

// One entry per scenario, sorted by name.
std::vector<ScenarioStats> scenario_stats(const SweepResults& results);

struct FailPointSeeds {
    uint64_t armed = 0;  // seeds that armed it
    uint64_t hit = 0;    // seeds where it was armed and hit
};

// Fail-point coverage over every record that reports fail points. Names sorted throughout.
struct FailPointCoverage {
    uint64_t seeds_reporting = 0;
    std::map<std::string, FailPointSeeds> armed_hit;        // hit in at least one seed
    std::map<std::string, FailPointSeeds> armed_never_hit;  // armed somewhere, hit nowhere
    std::vector<std::string> reached_never_armed;
    // Known fail points no record reached (a hit counts as reached). Meaningless when
    // seeds_reporting is 0, which the summary says instead of listing every name.
    std::vector<std::string> never_reached;
};

FailPointCoverage fail_point_coverage(const SweepResults& results,
                                      const std::vector<std::string>& known_fail_points);

// Probe coverage over every record that reports probes.
struct ProbeCoverage {
    uint64_t seeds_reporting = 0;
    std::map<std::string, uint64_t> reached;  // probe -> seeds where it held
    // Known probes no record reached; meaningless when seeds_reporting is 0.
    std::vector<std::string> never_reached;
};

ProbeCoverage probe_coverage(const SweepResults& results,
                             const std::vector<std::string>& known_probes);

// The `count` records with the longest wall time, longest first (ties by scenario, then seed);
// records without a wall time are left out.
std::vector<SweepRecord> slowest_seeds(const SweepResults& results, size_t count);

// The whole summary, plain text. `results` should hold at least one record.
void print_sweep_summary(const SweepResults& results,
                         const std::vector<std::string>& known_fail_points, std::FILE* out,
                         const std::vector<std::string>& known_probes = {});

// Reads the JSON Lines file and prints the summary to `out`. `known_fail_points` is every fail
// point the model has (for "never reached"), `known_probes` every probe. Returns the exit code: 0
// when every seed passed, 1 when some failed, 2 (usage) when the file is missing, unreadable or
// holds no records; a malformed line is reported as one line on stderr and skipped, not fatal.
int sweep_summary_command(const std::string& path,
                          const std::vector<std::string>& known_fail_points, std::FILE* out,
                          const std::vector<std::string>& known_probes = {});

}  // namespace floe::tools
