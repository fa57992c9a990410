#include "tools/sweep_summary.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

namespace floe::tools {
namespace {

using nlohmann::json;

constexpr size_t kExamplesPerClass = 5;
constexpr size_t kSlowestSeeds = 5;
constexpr size_t kMessageChars = 100;
constexpr size_t kWrapColumn = 100;

// Field readers that treat a missing field and a field of the wrong type alike: the file may
// come from an older floe, a crashed child or a hand edit, and a summary must still come out.
const json* field(const json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string string_field(const json& object, const char* key) {
    const json* value = field(object, key);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<double> number_field(const json& object, const char* key) {
    const json* value = field(object, key);
    if (value == nullptr || !value->is_number()) {
        return std::nullopt;
    }
    return value->get<double>();
}

std::optional<uint64_t> seed_field(const json& object) {
    const json* value = field(object, "seed");
    // The parser stores every non-negative integer as unsigned: this also rejects -1 and 2.5.
    if (value == nullptr || !value->is_number_unsigned()) {
        return std::nullopt;
    }
    return value->get<uint64_t>();
}

// The string elements of an array field; other elements are ignored.
bool string_list_field(const json& object, const char* key, std::vector<std::string>& out) {
    const json* value = field(object, key);
    if (value == nullptr || !value->is_array()) {
        return false;
    }
    for (const json& element : *value) {
        if (element.is_string()) {
            out.push_back(element.get<std::string>());
        }
    }
    return true;
}

bool object_keys_field(const json& object, const char* key, std::vector<std::string>& out) {
    const json* value = field(object, key);
    if (value == nullptr || !value->is_object()) {
        return false;
    }
    for (const auto& item : value->items()) {
        out.push_back(item.key());
    }
    return true;
}

SweepRecord to_record(const json& object, uint64_t line) {
    SweepRecord record;
    record.line = line;
    record.scenario = string_field(object, "scenario");
    record.seed = seed_field(object);
    record.passed = string_field(object, "outcome") == "pass";
    record.failure_class = string_field(object, "failure_class");
    record.message = string_field(object, "message");
    record.repro = string_field(object, "repro");
    record.where = string_field(object, "where");
    record.finished_at = number_field(object, "finished_at");
    // "wall_seconds" is the runner's fork-to-reap time, what a sweep actually costs; the
    // child's own "run_wall_seconds" is the fallback for records written by `floe run --json`.
    record.wall_seconds = number_field(object, "wall_seconds");
    if (!record.wall_seconds) {
        record.wall_seconds = number_field(object, "run_wall_seconds");
    }
    record.virtual_seconds = number_field(object, "virtual_seconds");
    const bool hit = string_list_field(object, "fail_points_armed_hit", record.armed_hit);
    const bool never =
        string_list_field(object, "fail_points_armed_never_hit", record.armed_never_hit);
    const bool reached = object_keys_field(object, "fail_points_reached", record.reached);
    record.reports_fail_points = hit || never || reached;
    record.reports_probes = object_keys_field(object, "probes", record.probes);
    return record;
}

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Records without a seed sort after those with one, in file order.
auto sort_key(const SweepRecord& record) {
    return std::make_tuple(std::string_view(record.scenario), !record.seed.has_value(),
                           record.seed.value_or(0), record.line);
}

std::string scenario_name(const SweepRecord& record) {
    return record.scenario.empty() ? "(no scenario)" : record.scenario;
}

std::string seed_name(const SweepRecord& record) {
    return record.seed ? fmt::format("seed {}", *record.seed) : "seed ?";
}

// A message on one line, control characters and runs of spaces collapsed, cut at about
// `max_bytes` without splitting a UTF-8 sequence: crash messages carry a child's stderr.
std::string one_line(std::string_view text, size_t max_bytes) {
    std::string out;
    bool pending_space = false;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) {
            out += ' ';
            pending_space = false;
        }
        out += c;
    }
    if (out.size() > max_bytes) {
        size_t cut = max_bytes;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) {
            --cut;
        }
        out.resize(cut);
        out += "...";
    }
    return out;
}

// Names separated by ", ", wrapped before column kWrapColumn, each line indented.
void print_wrapped(const std::vector<std::string>& names, size_t indent, std::FILE* out) {
    std::string line(indent, ' ');
    for (size_t i = 0; i < names.size(); ++i) {
        const std::string item = names[i] + (i + 1 < names.size() ? "," : "");
        if (line.size() > indent && line.size() + 1 + item.size() > kWrapColumn) {
            fmt::print(out, "{}\n", line);
            line.assign(indent, ' ');
        }
        if (line.size() > indent) {
            line += ' ';
        }
        line += item;
    }
    if (line.size() > indent) {
        fmt::print(out, "{}\n", line);
    }
}

std::string plural(uint64_t count, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", count, count == 1 ? one : many);
}

// Rounded down, so a sweep with one failure in ten thousand seeds never shows 100.0%.
std::string pass_rate(uint64_t passed, uint64_t seeds) {
    if (seeds == 0) {
        return "-";
    }
    const double tenths =
        std::floor(1000.0 * static_cast<double>(passed) / static_cast<double>(seeds));
    return fmt::format("{:.1f}%", tenths / 10.0);
}

std::string seconds_or_dash(std::optional<double> seconds, int precision) {
    return seconds ? fmt::format("{:.{}f}", *seconds, precision) : std::string("-");
}

uint64_t count_failed(const SweepResults& results) {
    return static_cast<uint64_t>(std::count_if(results.records.begin(), results.records.end(),
                                               [](const SweepRecord& r) { return !r.passed; }));
}

void print_header(const SweepResults& results, size_t scenarios, std::FILE* out) {
    const uint64_t failed = count_failed(results);
    std::string read = fmt::format("{} read", results.records_read);
    if (results.superseded > 0) {
        read += fmt::format(", {} superseded by a later re-run", results.superseded);
    }
    if (results.lines_skipped > 0) {
        read += fmt::format(", {} (not JSON)",
                            plural(results.lines_skipped, "line skipped", "lines skipped"));
    }
    fmt::print(out, "sweep summary: {}\n", results.source);
    fmt::print(out, "  records         {}\n", read);
    fmt::print(out, "  distinct seeds  {} (scenario, seed)\n", results.records.size());
    fmt::print(out, "  scenarios       {}\n", scenarios);
    fmt::print(out, "  outcome         {} passed, {} failed\n", results.records.size() - failed,
               failed);
}

void print_row(const ScenarioStats& row, size_t width, bool times, std::FILE* out) {
    if (!times) {
        fmt::print(out, "  {:<{}}  {:>6}  {:>6}  {:>6}  {:>9}\n", row.scenario, width, row.seeds,
                   row.passed, row.failed, pass_rate(row.passed, row.seeds));
        return;
    }
    const std::optional<double> mean =
        row.timed > 0 ? std::optional(row.total_wall_seconds / static_cast<double>(row.timed))
                      : std::nullopt;
    const std::optional<double> max =
        row.timed > 0 ? std::optional(row.max_wall_seconds) : std::nullopt;
    fmt::print(out, "  {:<{}}  {:>6}  {:>6}  {:>6}  {:>9}  {:>11}  {:>10}\n", row.scenario, width,
               row.seeds, row.passed, row.failed, pass_rate(row.passed, row.seeds),
               seconds_or_dash(mean, 3), seconds_or_dash(max, 3));
}

void print_scenario_table(const std::vector<ScenarioStats>& rows, bool times, std::FILE* out) {
    ScenarioStats total;
    total.scenario = "total";
    size_t width = std::string_view("scenario").size();
    for (const ScenarioStats& row : rows) {
        width = std::max(width, row.scenario.size());
        total.seeds += row.seeds;
        total.passed += row.passed;
        total.failed += row.failed;
        total.timed += row.timed;
        total.total_wall_seconds += row.total_wall_seconds;
        total.max_wall_seconds = std::max(total.max_wall_seconds, row.max_wall_seconds);
    }
    fmt::print(out, "\n  {:<{}}  {:>6}  {:>6}  {:>6}  {:>9}", "scenario", width, "seeds", "passed",
               "failed", "pass rate");
    fmt::print(
        out, "{}\n",
        times ? fmt::format("  {:>11}  {:>10}", "mean wall s", "max wall s") : std::string());
    for (const ScenarioStats& row : rows) {
        print_row(row, width, times, out);
    }
    if (rows.size() > 1) {
        print_row(total, width, times, out);
    }
}

void print_failures(const SweepResults& results, std::FILE* out) {
    // Records are sorted by scenario and seed, so each class's examples are too.
    std::map<std::string, std::vector<const SweepRecord*>> by_class;
    for (const SweepRecord& record : results.records) {
        if (!record.passed) {
            by_class[record.failure_class.empty() ? "(unclassified)" : record.failure_class]
                .push_back(&record);
        }
    }
    if (by_class.empty()) {
        fmt::print(out, "\nfailures: none\n");
        return;
    }
    fmt::print(out, "\nfailures by class\n");
    for (const auto& [failure_class, records] : by_class) {
        fmt::print(out, "  {}: {}\n", failure_class, plural(records.size(), "seed", "seeds"));
        for (size_t i = 0; i < records.size() && i < kExamplesPerClass; ++i) {
            const SweepRecord& record = *records[i];
            const std::string message = one_line(record.message, kMessageChars);
            fmt::print(out, "    {} {}: {}\n", scenario_name(record), seed_name(record),
                       message.empty() ? "(no message)" : message);
            fmt::print(out, "      reproduce: {}\n",
                       record.repro.empty() ? "(no repro recorded)" : record.repro);
        }
        if (records.size() > kExamplesPerClass) {
            fmt::print(out, "    ... and {} more\n", records.size() - kExamplesPerClass);
        }
    }
}

void print_coverage(const SweepResults& results, const std::vector<std::string>& known,
                    std::FILE* out) {
    const FailPointCoverage coverage = fail_point_coverage(results, known);
    fmt::print(out, "\nfail-point coverage ({} of {} seeds reported fail points)\n",
               coverage.seeds_reporting, results.records.size());
    if (coverage.seeds_reporting == 0) {
        // Listing every known name as "never reached" would blame the model for a file that
        // holds only crash records: say that nothing is known instead.
        fmt::print(out, "  no record carries fail-point fields: coverage unknown\n");
        return;
    }
    size_t width = 0;
    for (const auto* group : {&coverage.armed_hit, &coverage.armed_never_hit}) {
        for (const auto& [name, seeds] : *group) {
            width = std::max(width, name.size());
        }
    }
    fmt::print(out, "  armed and hit: {}\n", coverage.armed_hit.size());
    for (const auto& [name, seeds] : coverage.armed_hit) {
        fmt::print(out, "    {:<{}}  hit in {} of {} armed\n", name, width, seeds.hit,
                   plural(seeds.armed, "seed", "seeds"));
    }
    fmt::print(out, "  armed, never hit: {}\n", coverage.armed_never_hit.size());
    for (const auto& [name, seeds] : coverage.armed_never_hit) {
        fmt::print(out, "    {:<{}}  armed in {}\n", name, width,
                   plural(seeds.armed, "seed", "seeds"));
    }
    fmt::print(out, "  reached, never armed: {}\n", coverage.reached_never_armed.size());
    print_wrapped(coverage.reached_never_armed, 4, out);
    std::set<std::string> distinct_known(known.begin(), known.end());
    fmt::print(out, "  never reached: {} of {} known fail points\n", coverage.never_reached.size(),
               distinct_known.size());
    print_wrapped(coverage.never_reached, 4, out);
}

void print_probe_coverage(const SweepResults& results, const std::vector<std::string>& known,
                          std::FILE* out) {
    const ProbeCoverage coverage = probe_coverage(results, known);
    fmt::print(out, "\nprobes ({} of {} seeds reported probes)\n", coverage.seeds_reporting,
               results.records.size());
    if (coverage.seeds_reporting == 0) {
        fmt::print(out, "  no record carries probes: coverage unknown\n");
        return;
    }
    const std::set<std::string> distinct_known(known.begin(), known.end());
    fmt::print(out, "  reached: {} probes\n", coverage.reached.size());
    size_t width = 0;
    for (const auto& [name, seeds] : coverage.reached) {
        width = std::max(width, name.size());
    }
    for (const auto& [name, seeds] : coverage.reached) {
        fmt::print(out, "    {:<{}}  in {}\n", name, width, plural(seeds, "seed", "seeds"));
    }
    fmt::print(out, "  never reached: {} of {} known probes\n", coverage.never_reached.size(),
               distinct_known.size());
    print_wrapped(coverage.never_reached, 4, out);
}

void print_slowest(const SweepResults& results, std::FILE* out) {
    const std::vector<SweepRecord> slowest = slowest_seeds(results, kSlowestSeeds);
    if (slowest.empty()) {
        return;
    }
    std::vector<std::string> names;
    size_t width = std::string_view("seed").size();
    for (const SweepRecord& record : slowest) {
        names.push_back(fmt::format("{} {}", scenario_name(record), seed_name(record)));
        width = std::max(width, names.back().size());
    }
    fmt::print(out, "\nslowest seeds\n  {:<{}}  {:>9}  {:>9}  {}\n", "seed", width, "wall s",
               "virtual s", "reproduce");
    for (size_t i = 0; i < slowest.size(); ++i) {
        const SweepRecord& record = slowest[i];
        fmt::print(out, "  {:<{}}  {:>9}  {:>9}  {}\n", names[i], width,
                   seconds_or_dash(record.wall_seconds, 3),
                   seconds_or_dash(record.virtual_seconds, 1),
                   record.repro.empty() ? "(no repro recorded)" : record.repro);
    }
}

int fail(const std::string& message) {
    fmt::print(stderr, "floe: {}\n", message);
    return 2;
}

}  // namespace

namespace {

// Appends the records of one input to `records`, counting skipped lines in `results`.
void read_records(const SweepInput& input, size_t file, SweepResults& results,
                  std::vector<SweepRecord>& records, std::FILE* warnings) {
    const std::string& source_name = input.name;
    uint64_t line_number = 0;
    for (std::string line; std::getline(*input.in, line);) {
        ++line_number;
        if (is_blank(line)) {
            continue;
        }
        const json object = json::parse(line, nullptr, false);
        if (!object.is_object()) {
            ++results.lines_skipped;
            if (warnings != nullptr) {
                fmt::print(warnings, "floe: {}:{}: not a JSON object, skipped\n", source_name,
                           line_number);
            }
            continue;
        }
        records.push_back(to_record(object, line_number));
        records.back().file = file;
    }
}

// Whether `a` is a later record of its (scenario, seed) than `b`. In one file the later line is
// (a re-run is appended, whoever wrote it: `floe run --json >> F` records no finish time).
// Across files the later finish is, a record without one counting as oldest, then the later file.
bool is_newer(const SweepRecord& a, const SweepRecord& b) {
    if (a.file == b.file) {
        return a.line > b.line;
    }
    return std::make_tuple(a.finished_at.value_or(-1.0), a.file) >
           std::make_tuple(b.finished_at.value_or(-1.0), b.file);
}

}  // namespace

SweepResults parse_sweep_results(std::istream& in, const std::string& source_name,
                                 std::FILE* warnings) {
    return merge_sweep_results({SweepInput{source_name, &in}}, warnings);
}

SweepResults merge_sweep_results(const std::vector<SweepInput>& inputs, std::FILE* warnings) {
    SweepResults results;
    std::vector<SweepRecord> records;
    std::vector<std::string> names;
    for (size_t file = 0; file < inputs.size(); ++file) {
        names.push_back(inputs[file].name);
        read_records(inputs[file], file, results, records, warnings);
    }
    results.source = names.size() == 1
                         ? names.front()
                         : fmt::format("{} files: {}", names.size(), fmt::join(names, ", "));
    results.records_read = records.size();

    // A re-run is appended after the first run, and a merge may see a seed from two machines:
    // the latest record of a (scenario, seed) wins.
    std::map<std::pair<std::string, uint64_t>, size_t> latest;
    std::vector<bool> keep(records.size(), true);
    for (size_t i = 0; i < records.size(); ++i) {
        if (!records[i].seed) {
            continue;
        }
        const auto [it, inserted] = latest.try_emplace({records[i].scenario, *records[i].seed}, i);
        if (!inserted) {
            const bool newer = is_newer(records[i], records[it->second]);
            keep[newer ? it->second : i] = false;
            it->second = newer ? i : it->second;
            ++results.superseded;
        }
    }
    for (size_t i = 0; i < records.size(); ++i) {
        if (keep[i]) {
            results.records.push_back(std::move(records[i]));
        }
    }
    std::sort(results.records.begin(), results.records.end(),
              [](const SweepRecord& a, const SweepRecord& b) { return sort_key(a) < sort_key(b); });
    return results;
}

std::vector<ScenarioStats> scenario_stats(const SweepResults& results) {
    std::map<std::string, ScenarioStats> rows;
    for (const SweepRecord& record : results.records) {
        ScenarioStats& row = rows[scenario_name(record)];
        ++row.seeds;
        ++(record.passed ? row.passed : row.failed);
        if (record.wall_seconds) {
            ++row.timed;
            row.total_wall_seconds += *record.wall_seconds;
            row.max_wall_seconds = std::max(row.max_wall_seconds, *record.wall_seconds);
        }
    }
    std::vector<ScenarioStats> out;
    for (auto& [name, row] : rows) {
        row.scenario = name;
        out.push_back(row);
    }
    return out;
}

FailPointCoverage fail_point_coverage(const SweepResults& results,
                                      const std::vector<std::string>& known_fail_points) {
    FailPointCoverage coverage;
    std::map<std::string, FailPointSeeds> armed;
    std::set<std::string> reached;
    for (const SweepRecord& record : results.records) {
        if (!record.reports_fail_points) {
            continue;
        }
        ++coverage.seeds_reporting;
        // Sets, so a name listed twice in one record still counts one seed.
        const std::set<std::string> hit(record.armed_hit.begin(), record.armed_hit.end());
        std::set<std::string> armed_here(hit);
        armed_here.insert(record.armed_never_hit.begin(), record.armed_never_hit.end());
        for (const std::string& name : armed_here) {
            FailPointSeeds& seeds = armed[name];
            ++seeds.armed;
            seeds.hit += hit.contains(name) ? 1 : 0;
        }
        // A fail point that was hit was reached, whether or not the record lists it so.
        reached.insert(hit.begin(), hit.end());
        reached.insert(record.reached.begin(), record.reached.end());
    }
    for (const auto& [name, seeds] : armed) {
        (seeds.hit > 0 ? coverage.armed_hit : coverage.armed_never_hit).emplace(name, seeds);
    }
    for (const std::string& name : reached) {
        if (!armed.contains(name)) {
            coverage.reached_never_armed.push_back(name);
        }
    }
    const std::set<std::string> known(known_fail_points.begin(), known_fail_points.end());
    for (const std::string& name : known) {
        if (!reached.contains(name)) {
            coverage.never_reached.push_back(name);
        }
    }
    return coverage;
}

ProbeCoverage probe_coverage(const SweepResults& results,
                             const std::vector<std::string>& known_probes) {
    ProbeCoverage coverage;
    for (const SweepRecord& record : results.records) {
        if (!record.reports_probes) {
            continue;
        }
        ++coverage.seeds_reporting;
        for (const std::string& name :
             std::set<std::string>(record.probes.begin(), record.probes.end())) {
            ++coverage.reached[name];
        }
    }
    for (const std::string& name :
         std::set<std::string>(known_probes.begin(), known_probes.end())) {
        if (!coverage.reached.contains(name)) {
            coverage.never_reached.push_back(name);
        }
    }
    return coverage;
}

std::vector<std::string> sites_reached(const SweepRecord& record) {
    std::vector<std::string> out = record.reached;
    out.insert(out.end(), record.probes.begin(), record.probes.end());
    return out;
}

std::vector<SweepRecord> slowest_seeds(const SweepResults& results, size_t count) {
    std::vector<SweepRecord> timed;
    for (const SweepRecord& record : results.records) {
        if (record.wall_seconds) {
            timed.push_back(record);
        }
    }
    // Stable on the scenario/seed order the records already have, so ties come out the same.
    std::stable_sort(timed.begin(), timed.end(), [](const SweepRecord& a, const SweepRecord& b) {
        return *a.wall_seconds > *b.wall_seconds;
    });
    timed.resize(std::min(timed.size(), count));
    return timed;
}

// --- failure signatures
// ---------------------------------------------------------------------------

namespace {

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// A hex id: 6+ hex digits with a digit among them ("081bc212206d"). A word of digits only is a
// number ("100234 blobs", masked like "99871 blobs") unless it has an id's length: a 12-digit
// short id ("000000001315") is one in about 300, and must group with its lettered siblings.
bool is_hex_id(std::string_view word) {
    constexpr size_t kShortestId = 6;
    constexpr size_t kShortestDigitsId = 12;  // BlobId::short_hex
    auto has = [&](auto predicate) { return std::any_of(word.begin(), word.end(), predicate); };
    const bool hex =
        word.size() >= kShortestId &&
        std::all_of(word.begin(), word.end(),
                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }) &&
        has([](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    const bool letters =
        has([](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
    return hex && (letters || word.size() >= kShortestDigitsId);
}

// A word with every run of digits replaced by "N": "node4" -> "nodeN", "12" -> "N".
std::string mask_digits(std::string_view word) {
    std::string out;
    for (size_t i = 0; i < word.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(word[i])) == 0) {
            out += word[i];
        } else if (i == 0 || std::isdigit(static_cast<unsigned char>(word[i - 1])) == 0) {
            out += 'N';
        }
    }
    return out;
}

// Least virtual time, then scenario and seed. Never the wall time: the representative must be
// the same in every summary of the same seeds (`--no-times` summaries compare equal).
auto speed_key(const SweepRecord* record) {
    constexpr double kUnknown = 1e300;
    return std::make_tuple(record->virtual_seconds.value_or(kUnknown),
                           std::string_view(record->scenario), record->seed.value_or(0));
}

constexpr size_t kSignatureMessageChars = 160;
constexpr size_t kSeedsListed = 12;

}  // namespace

std::string mask_message(std::string_view message) {
    std::string out;
    size_t i = 0;
    while (i < message.size()) {
        if (!is_word_char(message[i])) {
            out += message[i++];
            continue;
        }
        size_t end = i;
        while (end < message.size() && is_word_char(message[end])) {
            ++end;
        }
        const std::string_view word = message.substr(i, end - i);
        out += is_hex_id(word) ? std::string("#") : mask_digits(word);
        i = end;
    }
    return out;
}

std::string failure_signature(const SweepRecord& record) {
    const std::string first = record.message.substr(0, record.message.find('\n'));
    return fmt::format("{} | {} | {}",
                       record.failure_class.empty() ? "(unclassified)" : record.failure_class,
                       record.where.empty() ? "?" : record.where,
                       one_line(mask_message(first), kSignatureMessageChars));
}

std::vector<FailureGroup> failure_groups(const SweepResults& results) {
    std::map<std::string, FailureGroup> by_signature;
    for (const SweepRecord& record : results.records) {
        if (record.passed) {
            continue;
        }
        const std::string signature = failure_signature(record);
        FailureGroup& group = by_signature[signature];
        if (group.records.empty()) {
            group.signature = signature;
            group.failure_class =
                record.failure_class.empty() ? "(unclassified)" : record.failure_class;
            group.where = record.where;
            group.masked_message =
                one_line(mask_message(record.message.substr(0, record.message.find('\n'))),
                         kSignatureMessageChars);
        }
        group.records.push_back(&record);
        if (group.representative == nullptr ||
            speed_key(&record) < speed_key(group.representative)) {
            group.representative = &record;
        }
    }
    std::vector<FailureGroup> out;
    for (auto& [signature, group] : by_signature) {
        out.push_back(std::move(group));
    }
    std::stable_sort(out.begin(), out.end(), [](const FailureGroup& a, const FailureGroup& b) {
        return a.records.size() > b.records.size();
    });
    return out;
}

void print_failure_groups(const std::vector<FailureGroup>& groups, std::FILE* out) {
    if (groups.empty()) {
        return;
    }
    fmt::print(out, "\nfailures by signature: {}\n",
               plural(groups.size(), "distinct failure", "distinct failures"));
    for (const FailureGroup& group : groups) {
        const SweepRecord& fastest = *group.representative;
        fmt::print(out, "  {:>5}  {} at {}: {}\n", plural(group.records.size(), "seed", "seeds"),
                   group.failure_class, group.where.empty() ? "?" : group.where,
                   group.masked_message.empty() ? "(no message)" : group.masked_message);
        fmt::print(out, "         fastest: {} {} ({} s virtual)\n", scenario_name(fastest),
                   seed_name(fastest), seconds_or_dash(fastest.virtual_seconds, 1));
        fmt::print(out, "         reproduce: {}\n",
                   fastest.repro.empty() ? "(no repro recorded)" : fastest.repro);
        if (group.records.size() > 1) {
            std::vector<std::string> seeds;
            for (size_t i = 0; i < group.records.size() && i < kSeedsListed; ++i) {
                const SweepRecord& record = *group.records[i];
                seeds.push_back(fmt::format("{} {}", scenario_name(record),
                                            record.seed ? std::to_string(*record.seed) : "?"));
            }
            if (group.records.size() > kSeedsListed) {
                seeds.push_back(fmt::format("... {} more", group.records.size() - kSeedsListed));
            }
            fmt::print(out, "         seeds: {}\n", fmt::join(seeds, ", "));
        }
    }
}

void print_sweep_summary(const SweepResults& results,
                         const std::vector<std::string>& known_fail_points, std::FILE* out,
                         const std::vector<std::string>& known_probes, SummaryOptions options) {
    const std::vector<ScenarioStats> rows = scenario_stats(results);
    print_header(results, rows.size(), out);
    print_scenario_table(rows, options.times, out);
    print_failures(results, out);
    print_failure_groups(failure_groups(results), out);
    print_coverage(results, known_fail_points, out);
    print_probe_coverage(results, known_probes, out);
    if (options.times) {
        print_slowest(results, out);
    }
}

std::string read_sweep_files(const std::vector<std::string>& paths, SweepResults& results) {
    std::vector<std::unique_ptr<std::ifstream>> files;
    std::vector<SweepInput> inputs;
    for (const std::string& path : paths) {
        std::error_code ignored;
        if (std::filesystem::is_directory(path, ignored)) {
            return fmt::format("cannot read results file '{}': {}", path, std::strerror(EISDIR));
        }
        files.push_back(std::make_unique<std::ifstream>(path));
        if (!*files.back()) {
            const int error_number = errno;
            return fmt::format("cannot read results file '{}': {}", path,
                               std::strerror(error_number));
        }
        inputs.push_back(SweepInput{path, files.back().get()});
    }
    results = merge_sweep_results(inputs, stderr);
    for (size_t i = 0; i < files.size(); ++i) {
        if (files[i]->bad()) {
            return fmt::format("cannot read results file '{}': read error", paths[i]);
        }
    }
    if (results.records.empty()) {
        return fmt::format(
            "results file{} '{}' hold{} no records{}", paths.size() == 1 ? "" : "s",
            fmt::join(paths, "', '"), paths.size() == 1 ? "s" : "",
            results.lines_skipped > 0
                ? fmt::format(" ({} skipped)", plural(results.lines_skipped, "line", "lines"))
                : "");
    }
    return {};
}

int sweep_summary_command(const std::vector<std::string>& paths,
                          const std::vector<std::string>& known_fail_points, std::FILE* out,
                          const std::vector<std::string>& known_probes, SummaryOptions options) {
    // Not a user error to catch here but the last line of defence: the command's contract is an
    // exit code and one line on stderr, never an uncaught exception (fmt throws on a write
    // error, e.g. a closed pipe).
    try {
        SweepResults results;
        if (auto error = read_sweep_files(paths, results); !error.empty()) {
            return fail(error);
        }
        print_sweep_summary(results, known_fail_points, out, known_probes, options);
        std::fflush(out);
        return count_failed(results) > 0 ? 1 : 0;
    } catch (const std::exception& error) {
        return fail(fmt::format("summarizing '{}': {}", fmt::join(paths, "', '"), error.what()));
    }
}

}  // namespace floe::tools
