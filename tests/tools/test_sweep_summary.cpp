// `floe sweep --summary`: reading a results file (re-runs, bad lines, crash records) and what the
// summary says about it — counts, failures, fail-point coverage, the slowest seeds, exit codes.
#include <doctest/doctest.h>

#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // dup, dup2

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_files.h"
#include "tools/sweep_summary.h"

using floe::tools::fail_point_coverage;
using floe::tools::FailPointCoverage;
using floe::tools::parse_sweep_results;
using floe::tools::print_sweep_summary;
using floe::tools::scenario_stats;
using floe::tools::ScenarioStats;
using floe::tools::slowest_seeds;
using floe::tools::sweep_summary_command;
using floe::tools::SweepRecord;
using floe::tools::SweepResults;
using nlohmann::json;

namespace {

struct ScratchDir : floe::testing::ScratchDir {
    ScratchDir() : floe::testing::ScratchDir("floe-summary") {}
};

using floe::testing::CapturedOutput;

// What the process writes to stderr while it lives: the command reports its errors there.
struct CapturedStderr {
    CapturedStderr() : file(std::tmpfile()) {
        REQUIRE(file != nullptr);
        std::fflush(stderr);
        saved = dup(STDERR_FILENO);
        REQUIRE(saved >= 0);
        REQUIRE(dup2(fileno(file), STDERR_FILENO) >= 0);
    }
    ~CapturedStderr() {
        restore();
        std::fclose(file);
    }
    // Puts stderr back (so doctest can report) and returns what it received.
    std::string text() {
        restore();
        std::string out;
        std::rewind(file);
        for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) {
            out += static_cast<char>(c);
        }
        return out;
    }
    void restore() {
        if (saved >= 0) {
            std::fflush(stderr);
            dup2(saved, STDERR_FILENO);
            close(saved);
            saved = -1;
        }
    }
    std::FILE* file;
    int saved = -1;
};

// A record as `floe sweep --out` writes it for a child that reported a result.
json seed_record(const std::string& scenario, uint64_t seed, double wall_seconds,
                 const std::string& failure_class = "", const std::string& message = "") {
    return json{{"scenario", scenario},
                {"seed", seed},
                {"outcome", failure_class.empty() ? "pass" : "fail"},
                {"failure_class", failure_class},
                {"message", message},
                {"repro", "floe run " + scenario + " --seed " + std::to_string(seed)},
                {"wall_seconds", wall_seconds},
                {"run_wall_seconds", wall_seconds / 2},
                {"virtual_seconds", 100.0 + static_cast<double>(seed)},
                {"fail_points_armed_hit", json::array()},
                {"fail_points_armed_never_hit", json::array()},
                {"fail_points_reached", json::object()},
                {"exit_code", failure_class.empty() ? 0 : 1}};
}

// A record the sweep runner synthesizes for a child that died without reporting.
json crash_record(const std::string& scenario, uint64_t seed, const std::string& message) {
    return json{{"scenario", scenario},
                {"seed", seed},
                {"outcome", "fail"},
                {"failure_class", "crash"},
                {"message", message},
                {"repro", "floe run " + scenario + " --seed " + std::to_string(seed)},
                {"wall_seconds", 0.25},
                {"exit_code", -1}};
}

std::string lines_of(const std::vector<json>& records) {
    std::string text;
    for (const json& record : records) {
        text += record.dump() + "\n";
    }
    return text;
}

SweepResults parse(const std::string& text, std::FILE* warnings = nullptr) {
    std::istringstream in(text);
    return parse_sweep_results(in, "results.jsonl", warnings);
}

std::string summary_of(const SweepResults& results, const std::vector<std::string>& known = {}) {
    CapturedOutput out;
    print_sweep_summary(results, known, out.file);
    return out.text();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("sweep summary: seeds, passes and failures are counted per scenario") {
    const SweepResults results = parse(lines_of({
        seed_record("swarm", 2, 0.5),
        seed_record("long-node-recovery", 1, 1.0),
        seed_record("swarm", 1, 1.5, "invariant", "balance went negative"),
        seed_record("long-node-recovery", 2, 2.0),
        seed_record("swarm", 3, 0.5),
    }));
    CHECK(results.records_read == 5);
    CHECK(results.superseded == 0);
    CHECK(results.lines_skipped == 0);
    REQUIRE(results.records.size() == 5);
    // Sorted by scenario, then seed, whatever the completion order in the file.
    CHECK(results.records[0].scenario == "long-node-recovery");
    CHECK(results.records[2].scenario == "swarm");
    CHECK(*results.records[2].seed == 1);
    CHECK(*results.records[4].seed == 3);

    const std::vector<ScenarioStats> rows = scenario_stats(results);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].scenario == "long-node-recovery");
    CHECK(rows[0].seeds == 2);
    CHECK(rows[0].passed == 2);
    CHECK(rows[0].failed == 0);
    CHECK(rows[0].max_wall_seconds == doctest::Approx(2.0));
    CHECK(rows[1].scenario == "swarm");
    CHECK(rows[1].seeds == 3);
    CHECK(rows[1].passed == 2);
    CHECK(rows[1].failed == 1);
    // "wall_seconds" (the runner's) is preferred to the child's own "run_wall_seconds".
    CHECK(rows[1].total_wall_seconds / static_cast<double>(rows[1].timed) ==
          doctest::Approx(2.5 / 3));

    const std::string text = summary_of(results);
    CHECK(contains(text, "sweep summary: results.jsonl\n"));
    CHECK(contains(text, "  records         5 read\n"));
    CHECK(contains(text, "  distinct seeds  5 (scenario, seed)\n"));
    CHECK(contains(text, "  scenarios       2\n"));
    CHECK(contains(text, "  outcome         4 passed, 1 failed\n"));
    // 2 of 3 is rounded down: 66.6%, and a total row when there is more than one scenario.
    CHECK(contains(text,
                   "  swarm                    3       2       1      66.6%        0.833"
                   "       1.500\n"));
    CHECK(contains(text,
                   "  long-node-recovery       2       2       0     100.0%        1.500"
                   "       2.000\n"));
    CHECK(contains(text, "  total                    5       4       1      80.0%"));
    CHECK(contains(text,
                   "failures by class\n  invariant: 1 seed\n"
                   "    swarm seed 1: balance went negative\n"
                   "      reproduce: floe run swarm --seed 1\n"));
}

TEST_CASE("sweep summary: a re-run seed counts once, its last record wins") {
    const SweepResults results = parse(lines_of({
        seed_record("swarm", 1, 0.5, "deadlock", "first run"),
        seed_record("swarm", 2, 0.5),
        seed_record("other", 1, 0.5),  // the same seed number in another scenario is distinct
        seed_record("swarm", 1, 0.5, "liveness", "second run"),
        seed_record("swarm", 1, 0.7),
    }));
    CHECK(results.records_read == 5);
    CHECK(results.superseded == 2);
    REQUIRE(results.records.size() == 3);
    const SweepRecord& rerun = results.records[1];
    CHECK(rerun.scenario == "swarm");
    CHECK(*rerun.seed == 1);
    CHECK(rerun.passed);
    CHECK(rerun.line == 5);

    const std::string text = summary_of(results);
    CHECK(contains(text, "  records         5 read, 2 superseded by a later re-run\n"));
    CHECK(contains(text, "  distinct seeds  3 (scenario, seed)\n"));
    CHECK(contains(text, "\nfailures: none\n"));
    CHECK_FALSE(contains(text, "first run"));
}

TEST_CASE("sweep summary: a line that is not a JSON object is skipped with a warning") {
    CapturedOutput warnings;
    const SweepResults results = parse(seed_record("swarm", 1, 0.5).dump() +
                                           "\n"
                                           "not json at all\n"
                                           "\n"  // a blank line is no record, and no warning
                                           "[1, 2, 3]\n" +
                                           seed_record("swarm", 2, 0.5).dump() +
                                           "\n"
                                           "{\"scenario\": \"swarm\", \"seed\": 3, \"outc",
                                       warnings.file);
    CHECK(warnings.text() ==
          "floe: results.jsonl:2: not a JSON object, skipped\n"
          "floe: results.jsonl:4: not a JSON object, skipped\n"
          "floe: results.jsonl:6: not a JSON object, skipped\n");
    CHECK(results.lines_skipped == 3);
    CHECK(results.records.size() == 2);
    CHECK(contains(summary_of(results), "  records         2 read, 3 lines skipped (not JSON)\n"));
}

TEST_CASE("sweep summary: a crash record without most fields is still a failed seed") {
    json bare{{"scenario", "swarm"}, {"seed", 9}, {"outcome", "fail"}};
    json crash = crash_record(
        "swarm", 4,
        "killed by signal 6 (SIGABRT):\nassertion failed:   x < 3\n" + std::string(200, 'y'));
    crash["seed"] = 4;
    json odd = seed_record("swarm", 5, 0.5);
    odd["wall_seconds"] = "slow";  // the wrong type is as good as absent
    odd["fail_points_reached"] = 17;
    odd["seed"] = "5";
    const SweepResults results = parse(lines_of({bare, crash, odd}));
    REQUIRE(results.records.size() == 3);
    const SweepRecord& crashed = results.records[0];
    CHECK(*crashed.seed == 4);
    CHECK_FALSE(crashed.passed);
    CHECK(crashed.failure_class == "crash");
    CHECK(crashed.wall_seconds.value_or(-1) == doctest::Approx(0.25));
    CHECK_FALSE(crashed.virtual_seconds.has_value());
    CHECK_FALSE(crashed.reports_fail_points);
    CHECK(*results.records[1].seed == 9);
    CHECK(results.records[1].repro.empty());
    CHECK_FALSE(results.records[1].wall_seconds.has_value());
    const SweepRecord& wrong_types = results.records[2];  // no seed: after those with one
    CHECK_FALSE(wrong_types.seed.has_value());
    CHECK(wrong_types.wall_seconds.value_or(-1) == doctest::Approx(0.25));  // run_wall_seconds
    CHECK(wrong_types.passed);

    const std::string text = summary_of(results, {"a", "b"});
    // One line, whitespace collapsed, cut at about 100 characters.
    CHECK(contains(text,
                   "  crash: 1 seed\n    swarm seed 4: killed by signal 6 (SIGABRT): "
                   "assertion failed: x < 3 yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
                   "yyyyyy...\n      reproduce: floe run swarm --seed 4\n"));
    CHECK(contains(text,
                   "  (unclassified): 1 seed\n    swarm seed 9: (no message)\n"
                   "      reproduce: (no repro recorded)\n"));
    CHECK(contains(text, "  swarm seed ?  "));
}

TEST_CASE("sweep summary: fail-point coverage across the sweep") {
    json one = seed_record("swarm", 1, 0.5);
    one["fail_points_armed_hit"] = {"batch-write-after"};
    one["fail_points_armed_never_hit"] = {"put-cf-before"};
    one["fail_points_reached"] = {{"batch-write-after", 1580}, {"create-cf-before", 65}};
    json two = seed_record("swarm", 2, 0.5);
    two["fail_points_armed_hit"] = {"put-cf-before"};
    two["fail_points_armed_never_hit"] = {"batch-write-after", "flush-before"};
    // put-cf-before was hit, so it was reached, though this record does not list it so.
    two["fail_points_reached"] = {{"wal-sync-after", 9}};
    json three = seed_record("swarm", 3, 0.5);
    three["fail_points_armed_never_hit"] = {"flush-before"};
    const json crashed = crash_record("swarm", 4, "boom");  // says nothing about coverage
    const SweepResults results = parse(lines_of({one, two, three, crashed}));

    const std::vector<std::string> known = {
        "batch-write-after", "create-cf-before", "flush-before",    "put-cf-before",
        "wal-sync-after",    "compaction-after", "compaction-after"};
    const FailPointCoverage coverage = fail_point_coverage(results, known);
    CHECK(coverage.seeds_reporting == 3);
    REQUIRE(coverage.armed_hit.size() == 2);
    CHECK(coverage.armed_hit.at("batch-write-after").hit == 1);
    CHECK(coverage.armed_hit.at("batch-write-after").armed == 2);
    CHECK(coverage.armed_hit.at("put-cf-before").hit == 1);
    CHECK(coverage.armed_hit.at("put-cf-before").armed == 2);
    REQUIRE(coverage.armed_never_hit.size() == 1);
    CHECK(coverage.armed_never_hit.at("flush-before").armed == 2);
    CHECK(coverage.reached_never_armed ==
          std::vector<std::string>{"create-cf-before", "wal-sync-after"});
    // flush-before was armed but never reached; compaction-after is listed once.
    CHECK(coverage.never_reached == std::vector<std::string>{"compaction-after", "flush-before"});

    const std::string text = summary_of(results, known);
    CHECK(contains(text,
                   "fail-point coverage (3 of 4 seeds reported fail points)\n"
                   "  armed and hit: 2\n"
                   "    batch-write-after  hit in 1 of 2 seeds armed\n"
                   "    put-cf-before      hit in 1 of 2 seeds armed\n"
                   "  armed, never hit: 1\n"
                   "    flush-before       armed in 2 seeds\n"
                   "  reached, never armed: 2\n"
                   "    create-cf-before, wal-sync-after\n"
                   "  never reached: 2 of 6 known fail points\n"
                   "    compaction-after, flush-before\n"));
}

TEST_CASE("sweep summary: probes reached per seed, and the catalog's probes never reached") {
    json one = seed_record("swarm", 1, 0.5);
    one["probes"] = {{"recovery_resumed_at_startup", 2}, {"sync_request_unauthorized", 1}};
    json two = seed_record("swarm", 2, 0.5);
    two["probes"] = {{"recovery_resumed_at_startup", 1}};
    const json crashed = crash_record("swarm", 3, "boom");  // says nothing about probes
    const SweepResults results = parse(lines_of({one, two, crashed}));
    const std::vector<std::string> known = {"recovery_resumed_at_startup",
                                            "sync_request_unauthorized", "gc_phase2_skipped"};
    const floe::tools::ProbeCoverage coverage = floe::tools::probe_coverage(results, known);
    CHECK(coverage.seeds_reporting == 2);
    CHECK(coverage.reached.at("recovery_resumed_at_startup") == 2);
    CHECK(coverage.reached.at("sync_request_unauthorized") == 1);
    CHECK(coverage.never_reached == std::vector<std::string>{"gc_phase2_skipped"});
    // explain looks for a finding's condition among fail points and probes alike.
    const std::vector<std::string> sites = floe::tools::sites_reached(results.records.front());
    CHECK(std::find(sites.begin(), sites.end(), "sync_request_unauthorized") != sites.end());

    CapturedOutput out;
    print_sweep_summary(results, {}, out.file, known);
    CHECK(contains(out.text(),
                   "probes (2 of 3 seeds reported probes)\n"
                   "  reached: 2 probes\n"
                   "    recovery_resumed_at_startup  in 2 seeds\n"
                   "    sync_request_unauthorized    in 1 seed\n"
                   "  never reached: 1 of 3 known probes\n"
                   "    gc_phase2_skipped\n"));
}

TEST_CASE("sweep summary: long name lists wrap, coverage from crash records only is unknown") {
    std::vector<std::string> known;
    for (int i = 0; i < 30; ++i) {
        known.push_back(fmt::format("fail-point-{:02}", i));
    }
    json record = seed_record("swarm", 1, 0.5);
    record["fail_points_reached"] = {{"fail-point-00", 1}};
    std::string text = summary_of(parse(lines_of({record})), known);
    CHECK(contains(text,
                   "  never reached: 29 of 30 known fail points\n"
                   "    fail-point-01, fail-point-02, fail-point-03, fail-point-04, "
                   "fail-point-05, fail-point-06,\n"
                   "    fail-point-07,"));
    for (size_t start = 0, end = 0; end != std::string::npos; start = end + 1) {
        end = text.find('\n', start);
        CHECK((end == std::string::npos ? text.size() : end) - start <= 100);
    }

    text = summary_of(parse(lines_of({crash_record("swarm", 1, "boom")})), known);
    CHECK(contains(text,
                   "fail-point coverage (0 of 1 seeds reported fail points)\n"
                   "  no record carries fail-point fields: coverage unknown\n"));
    CHECK_FALSE(contains(text, "fail-point-07"));
}

TEST_CASE("sweep summary: the slowest seeds, longest first, ties by scenario and seed") {
    const SweepResults results = parse(lines_of({
        seed_record("swarm", 1, 0.5), seed_record("swarm", 2, 3.0),
        seed_record("b-scenario", 7, 2.0), seed_record("a-scenario", 8, 2.0),
        seed_record("swarm", 3, 0.1), seed_record("swarm", 4, 9.0), seed_record("swarm", 5, 0.2),
        json{{"scenario", "swarm"}, {"seed", 6}, {"outcome", "pass"}},  // no time: left out
    }));
    const std::vector<SweepRecord> slowest = slowest_seeds(results, 5);
    REQUIRE(slowest.size() == 5);
    CHECK(*slowest[0].seed == 4);
    CHECK(*slowest[1].seed == 2);
    CHECK(slowest[2].scenario == "a-scenario");
    CHECK(slowest[3].scenario == "b-scenario");
    CHECK(*slowest[4].seed == 1);
    CHECK(slowest_seeds(results, 100).size() == 7);

    const std::string text = summary_of(results);
    // The name column fits the longest of the five, "b-scenario seed 7".
    CHECK(contains(text,
                   "slowest seeds\n"
                   "  seed                  wall s  virtual s  reproduce\n"
                   "  swarm seed 4           9.000      104.0  floe run swarm --seed 4\n"
                   "  swarm seed 2           3.000      102.0  floe run swarm --seed 2\n"
                   "  a-scenario seed 8      2.000      108.0  floe run a-scenario --seed 8\n"
                   "  b-scenario seed 7      2.000      107.0  floe run b-scenario --seed 7\n"
                   "  swarm seed 1           0.500      101.0  floe run swarm --seed 1\n"));
    CHECK_FALSE(contains(text, "swarm seed 3 "));
}

TEST_CASE("sweep summary: more than five failures of a class show five examples") {
    std::vector<json> records;
    for (uint64_t seed = 1; seed <= 7; ++seed) {
        records.push_back(seed_record("swarm", seed, 0.5, "liveness", "stuck"));
    }
    const std::string text = summary_of(parse(lines_of(records)));
    CHECK(contains(text, "  liveness: 7 seeds\n"));
    CHECK(contains(text, "    swarm seed 5: stuck\n"));
    CHECK_FALSE(contains(text, "    swarm seed 6: stuck\n"));
    CHECK(contains(text, "    ... and 2 more\n"));
}

TEST_CASE("sweep summary command: exit codes") {
    ScratchDir dir;
    const std::vector<std::string> known = {"batch-write-after"};

    SUBCASE("0 when every seed passed, re-runs included") {
        const std::string path = dir.file("pass.jsonl");
        write_file(path, lines_of({seed_record("swarm", 1, 0.5, "invariant", "x"),
                                   seed_record("swarm", 1, 0.5)}));
        CapturedOutput out;
        CHECK(sweep_summary_command({path}, known, out.file) == 0);
        CHECK(contains(out.text(), "sweep summary: " + path + "\n"));
    }
    SUBCASE("1 when a seed failed") {
        const std::string path = dir.file("fail.jsonl");
        write_file(path, lines_of({seed_record("swarm", 1, 0.5),
                                   crash_record("swarm", 2, "killed by signal 9")}));
        CapturedOutput out;
        CHECK(sweep_summary_command({path}, known, out.file) == 1);
        CHECK(contains(out.text(), "  outcome         1 passed, 1 failed\n"));
    }
    SUBCASE("2 for a missing file, a directory, an empty file or one without records") {
        CapturedOutput out;
        int missing = 0, directory = 0, empty = 0, junk = 0;
        write_file(dir.file("empty.jsonl"), "");
        write_file(dir.file("junk.jsonl"), "junk\n\n");
        std::string errors;
        {
            CapturedStderr captured;
            missing = sweep_summary_command({dir.file("missing.jsonl")}, known, out.file);
            directory = sweep_summary_command({dir.path}, known, out.file);
            empty = sweep_summary_command({dir.file("empty.jsonl")}, known, out.file);
            junk = sweep_summary_command({dir.file("junk.jsonl")}, known, out.file);
            errors = captured.text();
        }
        CHECK(missing == 2);
        CHECK(directory == 2);
        CHECK(empty == 2);
        CHECK(junk == 2);
        CHECK(errors == "floe: cannot read results file '" + dir.file("missing.jsonl") +
                            "': No such file or directory\n"
                            "floe: cannot read results file '" +
                            dir.path +
                            "': Is a directory\n"
                            "floe: results file '" +
                            dir.file("empty.jsonl") +
                            "' holds no records\n"
                            "floe: " +
                            dir.file("junk.jsonl") +
                            ":1: not a JSON object, skipped\n"
                            "floe: results file '" +
                            dir.file("junk.jsonl") + "' holds no records (1 line skipped)\n");
        CHECK(out.text().empty());  // the reasons go to stderr, nothing to the summary's stream
    }
}

// --- merging files, failure signatures (issue 19) ----------------------------------------------

using floe::tools::failure_groups;
using floe::tools::failure_signature;
using floe::tools::mask_message;
using floe::tools::merge_sweep_results;
using floe::tools::SweepInput;

TEST_CASE("summary merge: several files read as one sweep, the latest record of a seed wins") {
    json old_fail = seed_record("s", 1, 1.0, "invariant", "broke");
    old_fail["finished_at"] = 100.0;
    json new_pass = seed_record("s", 1, 1.0);
    new_pass["finished_at"] = 200.0;
    json other = seed_record("s", 2, 1.0);
    other["finished_at"] = 150.0;
    SUBCASE("the later finish wins, whichever file comes first") {
        std::istringstream first(lines_of({new_pass}));
        std::istringstream second(lines_of({old_fail, other}));
        const SweepResults results = merge_sweep_results(
            {SweepInput{"a.jsonl", &first}, SweepInput{"b.jsonl", &second}}, nullptr);
        CHECK(results.records_read == 3);
        CHECK(results.superseded == 1);
        REQUIRE(results.records.size() == 2);
        CHECK(results.records[0].seed == 1u);
        CHECK(results.records[0].passed);
        CHECK(results.records[0].file == 0);
        CHECK(results.source == "2 files: a.jsonl, b.jsonl");
    }
    SUBCASE("without finish times, the later file wins") {
        old_fail.erase("finished_at");
        new_pass.erase("finished_at");
        std::istringstream first(lines_of({new_pass}));
        std::istringstream second(lines_of({old_fail}));
        const SweepResults results =
            merge_sweep_results({SweepInput{"a", &first}, SweepInput{"b", &second}}, nullptr);
        REQUIRE(results.records.size() == 1);
        CHECK_FALSE(results.records[0].passed);
        CHECK(results.records[0].file == 1);
    }
    SUBCASE("in one file the later line wins, finish time or not (a `floe run --json` re-run)") {
        old_fail.erase("finished_at");
        std::istringstream one(lines_of({new_pass, old_fail}));
        const SweepResults results = merge_sweep_results({SweepInput{"a", &one}}, nullptr);
        REQUIRE(results.records.size() == 1);
        CHECK_FALSE(results.records[0].passed);
    }
    SUBCASE("a record with a finish time is newer than one without") {
        old_fail.erase("finished_at");
        std::istringstream first(lines_of({new_pass}));
        std::istringstream second(lines_of({old_fail}));
        const SweepResults results =
            merge_sweep_results({SweepInput{"a", &first}, SweepInput{"b", &second}}, nullptr);
        REQUIRE(results.records.size() == 1);
        CHECK(results.records[0].passed);
    }
}

TEST_CASE("summary merge: the command takes several files and says which one is unreadable") {
    ScratchDir dir;
    const std::string a = dir.file("a.jsonl");
    const std::string b = dir.file("b.jsonl");
    std::ofstream(a) << lines_of({seed_record("s", 1, 1.0), seed_record("s", 2, 1.0)});
    std::ofstream(b) << lines_of({seed_record("s", 3, 1.0, "deadlock", "stuck")});
    CapturedOutput out;
    CHECK(sweep_summary_command({a, b}, {}, out.file) == 1);
    const std::string text = out.text();
    CHECK(text.find("distinct seeds  3") != std::string::npos);
    CHECK(text.find("1 passed, 1 failed") == std::string::npos);
    CHECK(text.find("2 passed, 1 failed") != std::string::npos);
    CapturedStderr errors;
    CapturedOutput ignored;
    CHECK(sweep_summary_command({a, dir.file("missing.jsonl")}, {}, ignored.file) == 2);
    CHECK(errors.text().find("missing.jsonl") != std::string::npos);
}

TEST_CASE("summary: --no-times leaves out every wall-clock figure") {
    SweepResults results = parse(lines_of({seed_record("s", 1, 1.5), seed_record("s", 2, 7.25)}));
    CapturedOutput with;
    print_sweep_summary(results, {}, with.file);
    CapturedOutput without;
    print_sweep_summary(results, {}, without.file, {}, {.times = false});
    const std::string timed = with.text();
    const std::string untimed = without.text();
    CHECK(timed.find("7.250") != std::string::npos);
    CHECK(timed.find("slowest seeds") != std::string::npos);
    CHECK(untimed.find("7.250") == std::string::npos);
    CHECK(untimed.find("wall") == std::string::npos);
    CHECK(untimed.find("slowest seeds") == std::string::npos);
    // Two sweeps of the same seeds with other wall times summarize the same.
    SweepResults slower = parse(lines_of({seed_record("s", 1, 9.0), seed_record("s", 2, 0.5)}));
    CapturedOutput again;
    print_sweep_summary(slower, {}, again.file, {}, {.times = false});
    CHECK(again.text() == untimed);
}

TEST_CASE("failure signature: ids and numbers are masked, words kept") {
    CHECK(mask_message("certified blob 081bc212206d missing at shard 12 of node 4 (58 missing)") ==
          "certified blob # missing at shard N of node N (N missing)");
    CHECK(mask_message("node4 at 210.810000000s, epoch 6") == "nodeN at N.Ns, epoch N");
    // Hex-looking words without a digit, or too short, are words.
    CHECK(mask_message("deadbeefcafe feed abc12 abc123") == "deadbeefcafe feed abcN #");
    // A number is a number whatever its length: one bug's messages stay one group.
    CHECK(mask_message("99871 blobs") == mask_message("100234 blobs"));
    CHECK(mask_message("100234 blobs") == "N blobs");
    // A short blob id that happens to hold no letter is still an id.
    CHECK(mask_message("blob 000000001315 missing") == mask_message("blob 0000000003d1 missing"));
    CHECK(mask_message("") == "");
}

TEST_CASE("failure groups: one entry per bug, with its count and fastest seed") {
    std::vector<json> records;
    for (uint64_t seed = 1; seed <= 6; ++seed) {
        json record = seed_record("s", seed, 1.0, "invariant",
                                  fmt::format("blob {:012x} missing at node {}", seed * 977, seed));
        record["where"] = "scenarios/cluster.cpp:384";
        record["virtual_seconds"] = 300.0 - static_cast<double>(seed);  // seed 6 is fastest
        record["wall_seconds"] = static_cast<double>(seed);  // ... though seed 1 took less wall
        records.push_back(record);
    }
    json other_check = seed_record("s", 7, 1.0, "invariant", "blob 00000000abcd missing at node 1");
    other_check["where"] = "scenarios/simtests.cpp:99";
    records.push_back(other_check);
    records.push_back(seed_record("t", 1, 1.0, "deadlock", "stuck"));
    records.push_back(seed_record("t", 2, 1.0));
    const SweepResults results = parse(lines_of(records));
    const auto groups = failure_groups(results);
    REQUIRE(groups.size() == 3);
    CHECK(groups[0].records.size() == 6);
    CHECK(groups[0].where == "scenarios/cluster.cpp:384");
    CHECK(groups[0].masked_message == "blob # missing at node N");
    REQUIRE(groups[0].representative != nullptr);
    CHECK(groups[0].representative->seed == 6u);
    // The same message at another check is another bug.
    CHECK(groups[1].records.size() == 1);
    CHECK(groups[2].records.size() == 1);
    CHECK(failure_signature(*groups[0].representative) ==
          "invariant | scenarios/cluster.cpp:384 | blob # missing at node N");
    const std::string text = summary_of(results);
    CHECK(text.find("failures by signature: 3 distinct failures") != std::string::npos);
    CHECK(text.find("fastest: s seed 6") != std::string::npos);
}
