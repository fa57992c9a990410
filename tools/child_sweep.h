#pragma once
// A seed sweep that runs every seed in its own child process (fork + execv, no shell), so an
// abort, a signal or a crash of one seed is one failed seed, not a dead sweep.
//
// Contract with the child: it prints its result as ONE JSON object on a single stdout line. The
// runner takes the last stdout line that starts with '{'. Expected fields: "scenario", "seed",
// "outcome" ("pass"/"fail"), "failure_class" ("invariant", "deadlock", "liveness",
// "nondeterminism", ..., "" when passed), "message", "repro"; anything else is kept.
//
// Each finished seed is appended at once to a JSON Lines file (the child's object plus
// "wall_seconds" and "exit_code"), in completion order, so an interrupted sweep keeps what it
// finished. A child that prints no parseable object gets a synthesized record of class "crash".

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace floe::tools {

struct SeedJob {
    uint64_t seed = 0;
    std::vector<std::string> argv;  // argv[0] is the path of the executable to exec
    std::string repro;              // the one-line command that reproduces this seed
    std::string scenario;           // the scenario name, for synthesized records
};

struct SeedOutcome {
    uint64_t seed = 0;
    std::string scenario;
    std::string repro;          // the job's repro
    bool passed = false;        // exit code 0 and a result line with "outcome":"pass"
    int exit_code = -1;         // -1 if killed by a signal
    int signal = 0;             // 0 if the child exited normally
    std::string record;         // the JSON Lines record, one object without a newline
    double wall_seconds = 0;    // from fork to reap
    std::string failure_class;  // "" when passed; "crash" when the child reported nothing usable
    std::string message;        // the child's, or e.g. "killed by signal 6 (SIGABRT): <stderr>"
};

struct SweepOptions {
    unsigned jobs = 1;             // children running at once; 0 counts as 1
    std::string out_path;          // JSON Lines file, opened in append mode; empty = none
    bool progress_on_tty = true;   // a redrawn bar when `progress` is a terminal
    std::string title;             // shown in front of the bar, e.g. "long-node-recovery"
    std::FILE* progress = stderr;  // the bar or the plain per-seed lines; nullptr = silent
    // > 0 for a sweep bounded by time rather than by a job list (`floe hunt`): the progress
    // shows seeds/s, failures so far and the time left instead of a bar, and without a
    // terminal prints failures and a progress line every `progress_every_seconds`.
    double time_budget_seconds = 0;
    double progress_every_seconds = 30;
    // false: SweepSummary::records stays empty (a long hunt keeps its records in the file only).
    bool keep_records = true;
};

struct SweepSummary {
    uint64_t passed = 0;
    uint64_t failed = 0;
    std::vector<SeedOutcome> failures;  // sorted by seed
    std::vector<std::string> records;   // every seed's JSON record, in completion order
    double wall_seconds = 0;
    // Set when the sweep could not start (then nothing ran) or a record could not be written
    // (then no seed started after it; the counts and failures above are still true).
    std::string error;
};

// "" if `path` can be opened for append (it is created if missing), else a one-line error such
// as "cannot write results to X: No such file or directory". Call it before starting a sweep.
std::string check_out_path(const std::string& path);

// Runs every job, at most options.jobs at a time. If options.out_path cannot be opened, runs
// nothing and returns with `error` set.
SweepSummary run_sweep(const std::vector<SeedJob>& jobs, const SweepOptions& options);

// The path a child should exec to run the executable at `path` as it is now: /proc/self/fd/N
// of a descriptor opened here, kept open for the life of the process and inherited by every
// child (not close-on-exec), so a rebuild that replaces the file under a long hunt or gate
// changes nothing for the children still to come. `path` itself if it cannot be opened.
std::string pin_executable(const std::string& path);

// The next job to start, or nothing when no more should start (e.g. time is up); the runs in
// progress then finish and are recorded.
using JobSource = std::function<std::optional<SeedJob>()>;
SweepSummary run_sweep(const JobSource& next_job, const SweepOptions& options);

// One block per failure: the seed, its class and message, and "reproduce: <repro>".
void print_failures(const SweepSummary& summary, std::FILE* out);

}  // namespace floe::tools
