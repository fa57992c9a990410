#pragma once
// `floe sweep --summary results.jsonl...`: what a sweep's JSON Lines results say, at a glance —
// pass/fail counts per scenario, failures by class and by signature (one entry per distinct
// bug, with its fastest-failing seed), fail-point coverage across the sweep (armed and hit,
// armed and never hit, never reached at all) and the slowest seeds. Several files (from several
// machines, or shards of one sweep) merge into one summary.
//
// Two steps, so the reading and the arithmetic are testable without files: parse the lines into
// SweepResults, then print. The file is the one `floe sweep --out` appends to (see
// tools/child_sweep.h for its records); it may hold several sweeps, and a seed run again is
// appended again, so the last record of a (scenario, seed) in a file is the one that counts;
// across files, the one that finished last ("finished_at"), else the one in the later file.
// Records are keyed by (scenario, seed) alone: runs of one seed with other parameters or
// switches replace each other too (keep such sweeps in separate summaries).

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
    uint64_t line = 0;                  // 1-based line in the file
    size_t file = 0;                    // which of the files read (0-based), for merging
    std::string scenario;               // "" when the record names none
    std::optional<uint64_t> seed;       // without one, never merged as a re-run
    bool passed = false;                // "outcome":"pass"; anything else, or nothing, is a failure
    std::string failure_class;          // "" when passed or not given
    std::string message;                // as recorded, possibly several lines
    std::string repro;                  // "" when not given
    std::string where;                  // the failing check's "file:line"; "" when not given
    std::optional<double> finished_at;  // Unix seconds when the sweep reaped the seed
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

// One named input of a merge: its name (for messages) and its text.
struct SweepInput {
    std::string name;
    std::istream* in = nullptr;
};

// Reads several files' records as one sweep. A (scenario, seed) recorded more than once keeps
// its latest record: the greatest "finished_at" (records without one count as oldest), then the
// later file, then the later line.
SweepResults merge_sweep_results(const std::vector<SweepInput>& inputs, std::FILE* warnings);

// --- failure signatures
// ---------------------------------------------------------------------------

// A message with what varies between seeds of one bug masked: hex ids (6+ hex digits with a
// digit among them; digits only from 12 on) become "#", every other run of digits "N".
// "blob 081bc212206d missing at shard 12 of node 4" -> "blob # missing at shard N of node N".
std::string mask_message(std::string_view message);

// Failure class, the failing check's location and the masked first line of the message: 40
// seeds of one bug share it, two bugs behind one check with different messages do not.
std::string failure_signature(const SweepRecord& record);

struct FailureGroup {
    std::string signature;
    std::string failure_class;
    std::string where;
    std::string masked_message;
    std::vector<const SweepRecord*> records;  // sorted by scenario, then seed
    // The fastest failure (least virtual time, then scenario and seed; never wall time, so it
    // is the same in every summary): the cheapest seed to debug, as TigerBeetle keeps its
    // fastest failing seed.
    const SweepRecord* representative = nullptr;
};

// Every failed record grouped by signature; groups with most seeds first, then by signature.
// The pointers point into `results`.
std::vector<FailureGroup> failure_groups(const SweepResults& results);

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

// The failure groups as text: one entry per signature with its count, the fastest seed's repro
// and the seeds that share it. Nothing when no seed failed.
void print_failure_groups(const std::vector<FailureGroup>& groups, std::FILE* out);

struct SummaryOptions {
    // false: leave out every figure that depends on the wall clock (wall-time columns, the
    // slowest seeds), so two summaries of the same seeds compare equal with diff.
    bool times = true;
};

// The whole summary, plain text. `results` should hold at least one record.
void print_sweep_summary(const SweepResults& results,
                         const std::vector<std::string>& known_fail_points, std::FILE* out,
                         const std::vector<std::string>& known_probes = {},
                         SummaryOptions options = {});

// Reads the JSON Lines files, merges them and prints the summary to `out`. `known_fail_points`
// is every fail point the model has (for "never reached"), `known_probes` every probe. Returns
// the exit code: 0 when every seed passed, 1 when some failed, 2 (usage) when a file is missing
// or unreadable or none holds a record; a malformed line is reported as one line on stderr and
// skipped, not fatal.
int sweep_summary_command(const std::vector<std::string>& paths,
                          const std::vector<std::string>& known_fail_points, std::FILE* out,
                          const std::vector<std::string>& known_probes = {},
                          SummaryOptions options = {});
// Reads and merges the files for other commands (hunt, promote): "" or a one-line error.
std::string read_sweep_files(const std::vector<std::string>& paths, SweepResults& results);

}  // namespace floe::tools
