// The one-child-per-seed sweep runner, with real children: /bin/sh scripts that pass, fail,
// abort, flood their pipes, or cannot be exec'd.
#include <doctest/doctest.h>

#include <stdlib.h>  // mkdtemp

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/test_files.h"
#include "tools/child_sweep.h"

using floe::tools::check_out_path;
using floe::tools::run_sweep;
using floe::tools::SeedJob;
using floe::tools::SeedOutcome;
using floe::tools::SweepOptions;
using floe::tools::SweepSummary;
using nlohmann::json;

namespace {

struct ScratchDir : floe::testing::ScratchDir {
    ScratchDir() : floe::testing::ScratchDir("floe-sweep") {}
};

// The shell command that prints a child's result object on one line.
std::string print_result(uint64_t seed, const std::string& outcome,
                         const std::string& failure_class = "", const std::string& message = "") {
    const json record{{"scenario", "x"},    {"seed", seed},
                      {"outcome", outcome}, {"failure_class", failure_class},
                      {"message", message}, {"repro", "r"},
                      {"ops", 17}};
    return "printf '%s\\n' '" + record.dump() + "'";
}

// ulimit -c 0: an aborting child must not leave a core file behind.
SeedJob shell_job(uint64_t seed, const std::string& script) {
    return SeedJob{seed,
                   {"/bin/sh", "-c", "ulimit -c 0; " + script},
                   "floe x --seed " + std::to_string(seed),
                   "x"};
}

SweepOptions quiet(unsigned jobs = 1, const std::string& out_path = "") {
    SweepOptions options;
    options.jobs = jobs;
    options.out_path = out_path;
    options.progress = nullptr;
    return options;
}

// Runs one seed that must fail, and returns how.
SeedOutcome run_failing(const SeedJob& job) {
    const SweepSummary summary = run_sweep({job}, quiet());
    REQUIRE(summary.error.empty());
    REQUIRE(summary.passed == 0);
    REQUIRE(summary.failures.size() == 1);
    return summary.failures.front();
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

using floe::testing::CapturedOutput;

}  // namespace

TEST_CASE("child sweep: a passing child is one passed seed, its record kept and extended") {
    ScratchDir dir;
    const std::string out = dir.file("results.jsonl");
    const SweepSummary summary = run_sweep({shell_job(3, print_result(3, "pass"))}, quiet(1, out));
    CHECK(summary.error.empty());
    CHECK(summary.passed == 1);
    CHECK(summary.failed == 0);
    CHECK(summary.failures.empty());

    const std::vector<std::string> lines = read_lines(out);
    REQUIRE(lines.size() == 1);
    const json record = json::parse(lines[0]);
    CHECK(record["seed"] == 3);
    CHECK(record["outcome"] == "pass");
    CHECK(record["ops"] == 17);  // a field the runner knows nothing about survives
    CHECK(record["exit_code"] == 0);
    CHECK(record["wall_seconds"].get<double>() >= 0);
    CHECK_FALSE(record.contains("stderr_tail"));
}

TEST_CASE("child sweep: a failing child keeps its class, message and repro") {
    const SeedOutcome outcome = run_failing(
        shell_job(4, print_result(4, "fail", "invariant", "balance went negative") + "; exit 1"));
    CHECK_FALSE(outcome.passed);
    CHECK(outcome.seed == 4);
    CHECK(outcome.exit_code == 1);
    CHECK(outcome.signal == 0);
    CHECK(outcome.failure_class == "invariant");
    CHECK(outcome.message == "balance went negative");
    CHECK(outcome.repro == "floe x --seed 4");
    const json record = json::parse(outcome.record);
    CHECK(record["outcome"] == "fail");
    CHECK(record["failure_class"] == "invariant");
    CHECK(record["exit_code"] == 1);
}

TEST_CASE("child sweep: a child killed by SIGABRT is a crash with its stderr tail") {
    const SeedOutcome outcome =
        run_failing(shell_job(5,
                              "echo starting >&2; echo 'assertion failed: x < 3' >&2; "
                              "echo not-a-record; kill -ABRT $$"));
    CHECK_FALSE(outcome.passed);
    CHECK(outcome.failure_class == "crash");
    CHECK(outcome.signal == 6);
    CHECK(outcome.exit_code == -1);
    CHECK(outcome.message == "killed by signal 6 (SIGABRT): assertion failed: x < 3");
    const json record = json::parse(outcome.record);
    CHECK(record["scenario"] == "x");
    CHECK(record["seed"] == 5);
    CHECK(record["outcome"] == "fail");
    CHECK(record["failure_class"] == "crash");
    CHECK(record["signal"] == 6);
    CHECK(record["exit_code"] == -1);
    CHECK(record["repro"] == "floe x --seed 5");
    CHECK(record["stderr_tail"] == "starting\nassertion failed: x < 3");
}

TEST_CASE("child sweep: reporting a pass and then exiting non-zero is a failure") {
    const SeedOutcome outcome = run_failing(shell_job(6, print_result(6, "pass") + "; exit 3"));
    CHECK_FALSE(outcome.passed);
    CHECK(outcome.exit_code == 3);
    CHECK(outcome.failure_class == "crash");
    CHECK(outcome.message == "exited with code 3 after reporting pass");
    const json record = json::parse(outcome.record);
    CHECK(record["outcome"] == "fail");  // the file agrees with the summary
}

TEST_CASE("child sweep: the last line starting with '{' is the result") {
    const SeedOutcome outcome = run_failing(
        shell_job(7, print_result(7, "pass") + "; " + print_result(7, "fail", "liveness", "stuck") +
                         "; echo trailing log line; exit 1"));
    CHECK(outcome.failure_class == "liveness");
    CHECK(outcome.message == "stuck");
}

TEST_CASE("child sweep: a child that cannot be exec'd is a crash, not a dead sweep") {
    const SeedOutcome outcome =
        run_failing(SeedJob{8, {"/nonexistent/floe", "--seed", "8"}, "floe x --seed 8", "x"});
    CHECK(outcome.failure_class == "crash");
    CHECK(outcome.exit_code == 127);
    CHECK(outcome.message ==
          "exited with code 127 without a result line: cannot exec /nonexistent/floe: ENOENT");
}

TEST_CASE("child sweep: children flooding stdout and stderr do not block the sweep") {
    // 1 MiB on each pipe is far beyond a pipe's buffer: unread, both children would block.
    const std::string flood =
        "head -c 1048576 /dev/zero | tr '\\0' o; echo; "
        "head -c 1048576 /dev/zero | tr '\\0' e >&2; echo >&2; ";
    const SweepSummary summary =
        run_sweep({shell_job(1, flood + print_result(1, "pass")),
                   shell_job(2, flood + "echo last words >&2; kill -ABRT $$")},
                  quiet(2));
    CHECK(summary.passed == 1);
    REQUIRE(summary.failed == 1);
    const json record = json::parse(summary.failures[0].record);
    CHECK(summary.failures[0].message == "killed by signal 6 (SIGABRT): last words");
    // The tail is a few lines, each cut short, not the megabyte before them.
    const std::string tail = record["stderr_tail"];
    CHECK(tail.size() < 2 * 1024);
    CHECK(tail.starts_with("eeee"));
    CHECK(tail.ends_with("\nlast words"));
}

TEST_CASE("child sweep: three at a time over ten seeds, every record written once") {
    ScratchDir dir;
    const std::string out = dir.file("results.jsonl");
    std::vector<SeedJob> jobs;
    for (uint64_t seed = 1; seed <= 10; ++seed) {
        // Odd seeds fail; the sleep makes completion order differ from seed order.
        const std::string result =
            seed % 2 == 1 ? print_result(seed, "fail", "deadlock", "stuck") + "; exit 1"
                          : print_result(seed, "pass");
        jobs.push_back(shell_job(seed, "sleep 0.0" + std::to_string(10 - seed) + "; " + result));
    }
    const SweepSummary summary = run_sweep(jobs, quiet(3, out));
    CHECK(summary.passed == 5);
    CHECK(summary.failed == 5);
    std::vector<uint64_t> failed_seeds;
    for (const SeedOutcome& failure : summary.failures) {
        failed_seeds.push_back(failure.seed);
    }
    CHECK(failed_seeds == std::vector<uint64_t>{1, 3, 5, 7, 9});

    const std::vector<std::string> lines = read_lines(out);
    REQUIRE(lines.size() == 10);
    std::set<uint64_t> seeds;
    for (const std::string& line : lines) {
        const json record = json::parse(line);
        const uint64_t seed = record["seed"];
        seeds.insert(seed);
        CHECK(record["outcome"] == (seed % 2 == 1 ? "fail" : "pass"));
    }
    CHECK(seeds == std::set<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

TEST_CASE("child sweep: results are appended to an existing file") {
    ScratchDir dir;
    const std::string out = dir.file("results.jsonl");
    std::ofstream(out) << "{\"old\":true}\n";
    run_sweep({shell_job(2, print_result(2, "pass"))}, quiet(1, out));
    const std::vector<std::string> lines = read_lines(out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "{\"old\":true}");
    CHECK(json::parse(lines[1])["seed"] == 2);
}

TEST_CASE("child sweep: an unwritable results path is reported before anything runs") {
    ScratchDir dir;
    const std::string bad = dir.file("missing/results.jsonl");
    CHECK(check_out_path(bad) == "cannot write results to " + bad + ": No such file or directory");

    const std::string good = dir.file("results.jsonl");
    CHECK(check_out_path(good).empty());
    CHECK(std::filesystem::exists(good));

    const std::string marker = dir.file("ran");
    const SweepSummary summary = run_sweep({shell_job(1, "touch " + marker)}, quiet(1, bad));
    CHECK(summary.error == check_out_path(bad));
    CHECK(summary.passed + summary.failed == 0);
    CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("child sweep: plain progress lines off a terminal, and the failure blocks") {
    CapturedOutput progress;
    SweepOptions options = quiet();
    options.progress = progress.file;
    const SweepSummary summary =
        run_sweep({shell_job(3, print_result(3, "pass")),
                   shell_job(4, print_result(4, "fail", "invariant", "two leaders\nin epoch 5") +
                                    "; exit 1")},
                  options);
    const std::string lines = progress.text();
    CHECK(lines.starts_with("x seed 3 pass "));
    CHECK(lines.find("\nx seed 4 FAIL invariant: two leaders\n") != std::string::npos);

    CapturedOutput failures;
    print_failures(summary, failures.file);
    CHECK(failures.text() ==
          "x seed 4 FAIL invariant\n  two leaders\n  in epoch 5\n  reproduce: floe x --seed 4\n");
}

TEST_CASE("child sweep: a job source runs until it says stop, then the running seeds finish") {
    uint64_t made = 0;
    floe::tools::JobSource source = [&]() -> std::optional<SeedJob> {
        if (made == 7) {
            return std::nullopt;
        }
        ++made;
        return shell_job(made, made == 3 ? print_result(made, "fail", "invariant", "x") + "; exit 1"
                                         : print_result(made, "pass"));
    };
    SweepOptions options = quiet(2);
    options.keep_records = false;
    const SweepSummary summary = run_sweep(source, options);
    CHECK(made == 7);
    CHECK(summary.passed == 6);
    CHECK(summary.failed == 1);
    CHECK(summary.records.empty());  // kept in the file only
    REQUIRE(summary.failures.size() == 1);
    CHECK(summary.failures.front().seed == 3);
}

TEST_CASE("child sweep: each record says when it finished (for merging files)") {
    const SweepSummary summary = run_sweep({shell_job(1, print_result(1, "pass"))}, quiet());
    REQUIRE(summary.records.size() == 1);
    const json record = json::parse(summary.records.front());
    REQUIRE(record.contains("finished_at"));
    // Seconds since 1970: after this code was written, and not in the far future.
    CHECK(record["finished_at"].get<double>() > 1.7e9);
    CHECK(record["finished_at"].get<double>() < 1e11);
}

TEST_CASE("child sweep: a time-bounded sweep prints failures and a progress line, no bar") {
    CapturedOutput progress;
    SweepOptions options = quiet(1);
    options.progress = progress.file;
    options.progress_on_tty = false;
    options.time_budget_seconds = 60;
    options.progress_every_seconds = 0;  // a line at every look
    options.title = "hunt";
    const SweepSummary summary =
        run_sweep({shell_job(1, print_result(1, "pass")),
                   shell_job(2, print_result(2, "fail", "deadlock", "stuck") + "; exit 1")},
                  options);
    CHECK(summary.failed == 1);
    const std::string text = progress.text();
    CHECK(text.find("x seed 2 FAIL deadlock: stuck") != std::string::npos);
    CHECK(text.find("x seed 1 pass") == std::string::npos);
    CHECK(text.find("seeds/s") != std::string::npos);
    CHECK(text.find(" s left") != std::string::npos);
    CHECK(text.find('#') == std::string::npos);
}

TEST_CASE("child sweep: a pinned executable runs as it was, whatever replaces its file") {
    // A hunt runs for hours while its binary is rebuilt: its children must run the build that
    // started the hunt, not whatever the path holds by then (a relink once made hundreds of
    // them fail to exec).
    ScratchDir dir;
    const std::string path = dir.file("child.sh");
    const auto write_script = [&](const std::string& body) {
        const std::string next = path + ".new";
        {
            std::ofstream out(next);
            out << "#!/bin/sh\n" << body << "\n";
        }
        std::filesystem::permissions(next, std::filesystem::perms::owner_all);
        std::filesystem::rename(next, path);  // a new file at the path, as a linker writes it
    };
    write_script(print_result(1, "pass"));
    const std::string pinned = floe::tools::pin_executable(path);
    CHECK(pinned != path);
    write_script("exit 3");  // the rebuild
    const SweepSummary summary =
        run_sweep({SeedJob{1, {pinned}, "r", "x"}, SeedJob{2, {path}, "r", "x"}}, quiet());
    REQUIRE(summary.error.empty());
    CHECK(summary.passed == 1);  // the pinned one ran the script as it was
    REQUIRE(summary.failures.size() == 1);
    CHECK(summary.failures.front().seed == 2);  // the path runs the new one
    CHECK(summary.failures.front().exit_code == 3);
    CHECK(floe::tools::pin_executable(dir.file("missing")) == dir.file("missing"));
}
