#include "tools/child_sweep.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace floe::tools {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The stderr kept per child, and the part of it a trimmed window keeps.
constexpr size_t kStderrKeptBytes = 64 * 1024;
constexpr size_t kStderrTrimmedBytes = 48 * 1024;
// The stderr tail in a crash record: enough to explain the crash, short enough to read.
constexpr size_t kStderrTailLines = 10;
constexpr size_t kStderrTailLineBytes = 1024;
// A result line longer than this is not a result line; keeping it would let a runaway child
// eat the runner's memory.
constexpr size_t kMaxRecordLineBytes = 16 * 1024 * 1024;
// Wake at least this often: to redraw the elapsed time, and to notice a child that exited while
// a grandchild still holds its pipes open.
constexpr int kIdlePollMs = 200;
// A child that closed both pipes is about to be a zombie; look again soon instead of idling.
constexpr int kExitingPollMs = 2;
constexpr int kExecFailedExitCode = 127;

// When a seed finished, in seconds since the Unix epoch: `floe sweep --summary` keeps the
// latest record of a seed recorded in several files (several machines). The sweep runner is not
// simulated code; no run reads this.
double unix_seconds_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string first_line(std::string_view text) {
    return std::string(text.substr(0, text.find('\n')));
}

// Every line of `text` indented by two spaces and ended by a newline: deadlock reports and
// assertion messages span several lines, and the block must still read as one failure.
std::string indented(std::string_view text) {
    std::string result;
    while (!text.empty()) {
        const size_t newline = text.find('\n');
        result.append("  ").append(text.substr(0, newline)).append("\n");
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    }
    return result;
}

// Owns one file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(std::exchange(other.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool is_open() const { return fd_ >= 0; }
    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Keeps the last line of a byte stream that starts with '{', without keeping the other lines:
// a child may print megabytes of logs before its result.
class LastRecordLine {
public:
    void feed(std::string_view bytes) {
        while (!bytes.empty()) {
            const size_t newline = bytes.find('\n');
            append_to_line(bytes.substr(0, newline));
            if (newline == std::string_view::npos) {
                return;
            }
            end_line();
            bytes.remove_prefix(newline + 1);
        }
    }

    // The result, counting a last line that has no newline.
    std::string finish() {
        end_line();
        return last_;
    }

private:
    void append_to_line(std::string_view piece) {
        if (!line_started_ && !piece.empty()) {
            line_started_ = true;
            keeping_ = piece.front() == '{';
        }
        if (keeping_ && current_.size() + piece.size() > kMaxRecordLineBytes) {
            keeping_ = false;
            current_.clear();
        }
        if (keeping_) {
            current_.append(piece);
        }
    }

    void end_line() {
        if (keeping_) {
            last_ = std::move(current_);
        }
        current_.clear();
        line_started_ = false;
        keeping_ = false;
    }

    std::string last_;
    std::string current_;
    bool line_started_ = false;
    bool keeping_ = false;
};

// The end of a stream, at most kStderrKeptBytes, however much the child logs.
class OutputTail {
public:
    void feed(std::string_view bytes) {
        if (bytes.size() > kStderrKeptBytes) {
            bytes.remove_prefix(bytes.size() - kStderrKeptBytes);
        }
        // Over the limit, cut back to kStderrTrimmedBytes rather than to the limit: then the
        // next trims are far apart, and a child writing a few bytes at a time costs a few bytes
        // moved per byte read, not 64 KiB.
        if (text_.size() + bytes.size() > kStderrKeptBytes) {
            const size_t room =
                kStderrTrimmedBytes > bytes.size() ? kStderrTrimmedBytes - bytes.size() : 0;
            text_.erase(0, text_.size() - std::min(text_.size(), room));
        }
        text_.append(bytes);
    }

    // The last `count` non-empty lines, oldest first, joined by '\n'. A line longer than
    // kStderrTailLineBytes keeps its start, where messages say what went wrong.
    std::string last_lines(size_t count) const {
        std::vector<std::string_view> lines;
        std::string_view rest = text_;
        while (!rest.empty() && lines.size() < count) {
            const size_t newline = rest.rfind('\n');
            const size_t start = newline == std::string_view::npos ? 0 : newline + 1;
            if (start < rest.size()) {
                lines.push_back(rest.substr(start, kStderrTailLineBytes));
            }
            rest = rest.substr(0, newline == std::string_view::npos ? 0 : newline);
        }
        std::string joined;
        for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
            joined.append(joined.empty() ? "" : "\n").append(*line);
        }
        return joined;
    }

private:
    std::string text_;
};

struct ExitStatus {
    int exit_code = -1;  // -1 if killed by a signal
    int signal = 0;      // 0 if exited normally
};

ExitStatus decode_wait_status(int status) {
    if (WIFSIGNALED(status)) {
        return ExitStatus{-1, WTERMSIG(status)};
    }
    return ExitStatus{WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0};
}

std::string signal_name(int signal) {
    const char* abbreviation = sigabbrev_np(signal);
    return abbreviation != nullptr ? fmt::format("SIG{}", abbreviation) : "unknown signal";
}

struct RunningChild {
    std::shared_ptr<const SeedJob> job;  // owned: a hunt's source makes jobs as it goes
    pid_t pid = -1;
    UniqueFd stdout_fd;
    UniqueFd stderr_fd;
    LastRecordLine record_line;
    OutputTail stderr_tail;
    Clock::time_point started;

    bool pipes_closed() const { return !stdout_fd.is_open() && !stderr_fd.is_open(); }
};

// Reads what `fd` has now: one read when `drain_all` is false (so one chatty child cannot
// starve the others), or until the pipe is empty. Closes `fd` at end of stream.
template <typename Sink>
void read_available(UniqueFd& fd, Sink&& sink, bool drain_all) {
    char buffer[64 * 1024];
    while (fd.is_open()) {
        const ssize_t count = ::read(fd.get(), buffer, sizeof buffer);
        if (count > 0) {
            sink(std::string_view(buffer, static_cast<size_t>(count)));
            if (!drain_all) {
                return;
            }
        } else if (count < 0 && errno == EINTR) {
            continue;
        } else if (count < 0 && errno == EAGAIN) {
            return;
        } else {
            fd.reset();  // end of stream, or an error that will not go away
        }
    }
}

// `stream` is child.stdout_fd or child.stderr_fd.
void read_stream(RunningChild& child, UniqueFd& stream, bool drain_all) {
    if (&stream == &child.stdout_fd) {
        read_available(
            stream, [&](std::string_view bytes) { child.record_line.feed(bytes); }, drain_all);
    } else {
        read_available(
            stream, [&](std::string_view bytes) { child.stderr_tail.feed(bytes); }, drain_all);
    }
}

// Waits until some child has output, has closed its pipes, or the idle timeout passes, and
// reads what is there. Reading while several children run is what keeps a child that writes a
// lot from blocking on a full pipe.
void wait_for_output(std::vector<RunningChild>& running) {
    std::vector<pollfd> fds;
    std::vector<std::pair<RunningChild*, UniqueFd*>> streams;  // parallel to fds
    bool someone_exiting = false;
    for (RunningChild& child : running) {
        someone_exiting = someone_exiting || child.pipes_closed();
        for (UniqueFd* stream : {&child.stdout_fd, &child.stderr_fd}) {
            if (stream->is_open()) {
                fds.push_back(pollfd{stream->get(), POLLIN, 0});
                streams.emplace_back(&child, stream);
            }
        }
    }
    const int timeout = someone_exiting ? kExitingPollMs : kIdlePollMs;
    if (::poll(fds.data(), fds.size(), timeout) <= 0) {
        return;  // timeout or EINTR: the caller looks at the children and comes back
    }
    for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0) {
            read_stream(*streams[i].first, *streams[i].second, false);
        }
    }
}

// Makes `fd` the child's descriptor `target`, without close-on-exec.
void move_fd_in_child(int fd, int target) {
    if (fd == target) {
        ::fcntl(fd, F_SETFD, 0);
    } else {
        ::dup2(fd, target);
    }
}

}  // namespace

std::string pin_executable(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);  // NOLINT(android-cloexec-open): inherited
    return fd >= 0 ? fmt::format("/proc/self/fd/{}", fd) : path;
}

namespace {

// Runs in the forked child: only async-signal-safe calls until execv.
[[noreturn]] void exec_child(char* const* argv, int stdout_fd, int stderr_fd) {
    move_fd_in_child(stdout_fd, STDOUT_FILENO);
    move_fd_in_child(stderr_fd, STDERR_FILENO);
    ::execv(argv[0], argv);
    const char* reason = strerrorname_np(errno);
    const char* const parts[] = {"cannot exec ", argv[0], ": ", reason != nullptr ? reason : "?",
                                 "\n"};
    for (const char* part : parts) {
        [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, part, std::strlen(part));
    }
    ::_exit(kExecFailedExitCode);
}

// A pipe whose read end does not block (the runner polls it) and whose ends do not leak into
// other children.
bool open_pipe(UniqueFd& read_end, UniqueFd& write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return false;
    }
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    return ::fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0;
}

// Starts `job`; returns "" or why it could not start.
std::string spawn_child(const std::shared_ptr<const SeedJob>& owned, RunningChild& child) {
    const SeedJob& job = *owned;
    if (job.argv.empty()) {
        return "the job has no command";
    }
    // Built before fork: the child may only make async-signal-safe calls.
    std::vector<char*> argv;
    for (const std::string& arg : job.argv) {
        argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    UniqueFd stdout_write, stderr_write;
    if (!open_pipe(child.stdout_fd, stdout_write) || !open_pipe(child.stderr_fd, stderr_write)) {
        return fmt::format("pipe: {}", std::strerror(errno));
    }
    child.job = owned;
    child.started = Clock::now();
    child.pid = ::fork();
    if (child.pid < 0) {
        return fmt::format("fork: {}", std::strerror(errno));
    }
    if (child.pid == 0) {
        exec_child(argv.data(), stdout_write.get(), stderr_write.get());
    }
    return "";  // the write ends close here, so end of stream means the child closed them
}

std::string string_field(const json& record, const char* key) {
    const auto found = record.find(key);
    return found != record.end() && found->is_string() ? found->get<std::string>() : "";
}

// "killed by signal 6 (SIGABRT): <last stderr line>" or "exited with code 3<context>: ...".
std::string describe_exit(const ExitStatus& status, std::string_view context,
                          const OutputTail& stderr_tail) {
    std::string text =
        status.signal != 0
            ? fmt::format("killed by signal {} ({})", status.signal, signal_name(status.signal))
            : fmt::format("exited with code {}{}", status.exit_code, context);
    const std::string last_line = stderr_tail.last_lines(1);
    if (!last_line.empty()) {
        text += ": " + last_line;
    }
    return text;
}

// What the runner knows about a seed whatever the child printed.
SeedOutcome outcome_without_verdict(const RunningChild& child, const ExitStatus& status) {
    SeedOutcome outcome;
    outcome.seed = child.job->seed;
    outcome.scenario = child.job->scenario;
    outcome.repro = child.job->repro;
    outcome.exit_code = status.exit_code;
    outcome.signal = status.signal;
    outcome.wall_seconds = seconds_since(child.started);
    return outcome;
}

// The record for a child that printed no usable result: it crashed, aborted, or was killed.
json crash_record(const SeedOutcome& outcome) {
    return json{{"scenario", outcome.scenario},
                {"seed", outcome.seed},
                {"outcome", "fail"},
                {"failure_class", outcome.failure_class},
                {"message", outcome.message},
                {"repro", outcome.repro}};
}

// Judges a child that printed a result object. A child that reports a pass and then exits
// non-zero or dies failed anyway: its record is rewritten so the file agrees with the summary.
void judge_reported_result(SeedOutcome& outcome, json& record, const OutputTail& stderr_tail) {
    const bool reported_pass = string_field(record, "outcome") == "pass";
    outcome.passed = reported_pass && outcome.exit_code == 0;
    outcome.failure_class = outcome.passed ? "" : string_field(record, "failure_class");
    outcome.message = string_field(record, "message");
    if (outcome.passed) {
        return;
    }
    if (reported_pass || outcome.failure_class.empty()) {
        outcome.failure_class = "crash";
    }
    if (reported_pass || outcome.message.empty()) {
        const ExitStatus status{outcome.exit_code, outcome.signal};
        outcome.message =
            describe_exit(status, reported_pass ? " after reporting pass" : "", stderr_tail);
    }
    record["outcome"] = "fail";
    record["failure_class"] = outcome.failure_class;
    record["message"] = outcome.message;
}

void fill_missing_identity(json& record, const SeedOutcome& outcome) {
    if (!record.contains("scenario")) {
        record["scenario"] = outcome.scenario;
    }
    if (!record.contains("seed")) {
        record["seed"] = outcome.seed;
    }
    if (!record.contains("repro")) {
        record["repro"] = outcome.repro;
    }
}

SeedOutcome finish_child(RunningChild& child, int wait_status) {
    const ExitStatus status = decode_wait_status(wait_status);
    SeedOutcome outcome = outcome_without_verdict(child, status);
    json record = json::parse(child.record_line.finish(), nullptr, false);
    if (record.is_object()) {
        judge_reported_result(outcome, record, child.stderr_tail);
        fill_missing_identity(record, outcome);
    } else {
        outcome.failure_class = "crash";
        outcome.message = describe_exit(status, " without a result line", child.stderr_tail);
        record = crash_record(outcome);
    }
    record["wall_seconds"] = outcome.wall_seconds;
    record["exit_code"] = outcome.exit_code;
    record["finished_at"] = unix_seconds_now();
    if (outcome.signal != 0) {
        record["signal"] = outcome.signal;
    }
    if (outcome.failure_class == "crash") {
        record["stderr_tail"] = child.stderr_tail.last_lines(kStderrTailLines);
    }
    // A child's output need not be valid UTF-8; a bad byte must not lose the record.
    outcome.record = record.dump(-1, ' ', false, json::error_handler_t::replace);
    return outcome;
}

SeedOutcome spawn_failure(const SeedJob& job, const std::string& reason) {
    SeedOutcome outcome;
    outcome.seed = job.seed;
    outcome.scenario = job.scenario;
    outcome.repro = job.repro;
    outcome.failure_class = "crash";
    outcome.message = "could not start the child: " + reason;
    json record = crash_record(outcome);
    record["exit_code"] = outcome.exit_code;
    record["wall_seconds"] = 0.0;
    record["finished_at"] = unix_seconds_now();
    outcome.record = record.dump(-1, ' ', false, json::error_handler_t::replace);
    return outcome;
}

// Reaps `child` if it has exited. Its pipes are drained first: what it wrote before exiting is
// still in them, and a grandchild may hold them open long after.
bool try_reap(RunningChild& child, SeedOutcome& outcome) {
    int wait_status = 0;
    pid_t reaped = 0;
    do {
        reaped = ::waitpid(child.pid, &wait_status, WNOHANG);
    } while (reaped < 0 && errno == EINTR);
    if (reaped == 0) {
        return false;
    }
    read_stream(child, child.stdout_fd, true);
    read_stream(child, child.stderr_fd, true);
    child.stdout_fd.reset();
    child.stderr_fd.reset();
    outcome = finish_child(child, wait_status);
    return true;
}

// The JSON Lines file. Every record is flushed as soon as it is written, so an interrupted
// sweep keeps the seeds it finished.
class ResultsFile {
public:
    ResultsFile() = default;
    ResultsFile(const ResultsFile&) = delete;
    ResultsFile& operator=(const ResultsFile&) = delete;
    ~ResultsFile() {
        if (file_ != nullptr) {
            std::fclose(file_);
        }
    }

    // "" or a one-line error. "e": children must not inherit the descriptor.
    std::string open(const std::string& path) {
        path_ = path;
        file_ = std::fopen(path.c_str(), "ae");
        return file_ != nullptr
                   ? ""
                   : fmt::format("cannot write results to {}: {}", path, std::strerror(errno));
    }

    void append(const std::string& record) {
        if (file_ == nullptr) {
            return;
        }
        const bool written = std::fputs(record.c_str(), file_) >= 0 &&
                             std::fputc('\n', file_) != EOF && std::fflush(file_) == 0;
        if (!written && error_.empty()) {
            error_ = fmt::format("cannot write results to {}: {}", path_, std::strerror(errno));
        }
    }

    const std::string& error() const { return error_; }

private:
    std::FILE* file_ = nullptr;
    std::string path_;
    std::string error_;
};

// A redrawn bar on a terminal; one plain line per finished seed otherwise (logs, CI).
class ProgressReport {
public:
    ProgressReport(const SweepOptions& options, size_t total, Clock::time_point started)
        : out_(options.progress),
          on_tty_(out_ != nullptr && options.progress_on_tty && ::isatty(::fileno(out_)) != 0),
          title_(options.title),
          total_(total),
          budget_(options.time_budget_seconds),
          every_(options.progress_every_seconds),
          started_(started),
          last_line_(started) {}

    void seed_finished(const SeedOutcome& outcome) {
        ++done_;
        failed_ += outcome.passed ? 0 : 1;
        if (out_ == nullptr) {
            return;
        }
        if (budget_ > 0 && !on_tty_) {
            // A hunt's log: its failures, and a progress line now and then (tick()).
            if (!outcome.passed) {
                std::fprintf(out_, "%s\n", plain_line(outcome).c_str());
                std::fflush(out_);
            }
            return;
        }
        if (on_tty_ && outcome.passed) {
            redraw();
        } else if (on_tty_) {
            // Failures stay on screen above the bar.
            std::fprintf(out_, "\r\033[K%s\n", plain_line(outcome).c_str());
            redraw();
        } else {
            std::fprintf(out_, "%s\n", plain_line(outcome).c_str());
            std::fflush(out_);
        }
    }

    // Keeps the elapsed time moving while slow seeds run.
    void tick() {
        if (on_tty_ && Clock::now() - last_redraw_ >= std::chrono::milliseconds(100)) {
            redraw();
        }
        if (out_ != nullptr && !on_tty_ && budget_ > 0 && seconds_since(last_line_) >= every_) {
            last_line_ = Clock::now();
            std::fprintf(out_, "%s\n", hunt_status().c_str());
            std::fflush(out_);
        }
    }

    void finish() {
        if (on_tty_) {
            redraw();
            std::fputc('\n', out_);
            std::fflush(out_);
        }
    }

private:
    static std::string plain_line(const SeedOutcome& outcome) {
        // The scenario leads when there is one: a sweep of several interleaves them.
        const std::string who = outcome.scenario.empty()
                                    ? fmt::format("seed {}", outcome.seed)
                                    : fmt::format("{} seed {}", outcome.scenario, outcome.seed);
        if (outcome.passed) {
            return fmt::format("{} pass {:.2f} s", who, outcome.wall_seconds);
        }
        return fmt::format("{} FAIL {}: {}", who, outcome.failure_class,
                           first_line(outcome.message));
    }

    std::string bar() const {
        constexpr size_t kWidth = 30;
        const size_t filled = total_ == 0 ? kWidth : done_ * kWidth / total_;
        return std::string(filled, '#') + std::string(kWidth - filled, '.');
    }

    std::string eta() const {
        if (done_ == 0 || done_ == total_) {
            return "";
        }
        const double per_seed = seconds_since(started_) / static_cast<double>(done_);
        return fmt::format("  ETA {:.0f} s", per_seed * static_cast<double>(total_ - done_));
    }

    // "swarm: 120 seeds  2 failed  3.1 seeds/s  840 s left".
    std::string hunt_status() const {
        const double elapsed = seconds_since(started_);
        return fmt::format("{}: {} seeds  {} failed  {:.1f} seeds/s  {:.0f} s left", title_, done_,
                           failed_, elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0,
                           std::max(0.0, budget_ - elapsed));
    }

    void redraw() {
        last_redraw_ = Clock::now();
        if (budget_ > 0) {
            std::fprintf(out_, "\r%s\033[K", hunt_status().c_str());
            std::fflush(out_);
            return;
        }
        std::fprintf(out_, "\r%s [%s] %zu/%zu seeds  %zu failed  %.1f s%s\033[K", title_.c_str(),
                     bar().c_str(), done_, total_, failed_, seconds_since(started_), eta().c_str());
        std::fflush(out_);
    }

    std::FILE* out_;
    bool on_tty_;
    std::string title_;
    size_t total_;
    size_t done_ = 0;
    size_t failed_ = 0;
    double budget_;
    double every_;
    Clock::time_point started_;
    Clock::time_point last_redraw_;
    Clock::time_point last_line_;
};

// One sweep's bookkeeping: each finished seed goes to the file, the report and the summary.
class SweepRecorder {
public:
    SweepRecorder(ResultsFile& results, ProgressReport& progress, SweepSummary& summary,
                  bool keep_records)
        : results_(results), progress_(progress), summary_(summary), keep_records_(keep_records) {}

    void record(SeedOutcome outcome) {
        results_.append(outcome.record);
        progress_.seed_finished(outcome);
        if (keep_records_) {
            summary_.records.push_back(outcome.record);
        }
        if (outcome.passed) {
            ++summary_.passed;
        } else {
            ++summary_.failed;
            summary_.failures.push_back(std::move(outcome));
        }
    }

private:
    ResultsFile& results_;
    ProgressReport& progress_;
    SweepSummary& summary_;
    bool keep_records_;
};

// Spawn failures in a row (fork or pipe refused: out of processes or descriptors) after which a
// sweep stops starting seeds: a hunt must not spin through its hours recording failed forks.
constexpr int kSpawnFailuresInARow = 20;

// Starts jobs until `limit` run or the source has none; false once no more should start (the
// source is exhausted, or spawning keeps failing). After a failed spawn it waits for the next
// round (the caller polls the running children first, which is the back-off).
bool start_children(const JobSource& next_job, size_t limit, std::vector<RunningChild>& running,
                    SweepRecorder& recorder, int& spawn_failures) {
    while (running.size() < limit) {
        std::optional<SeedJob> next = next_job();
        if (!next) {
            return false;
        }
        auto job = std::make_shared<const SeedJob>(std::move(*next));
        RunningChild child;
        const std::string error = spawn_child(job, child);
        if (error.empty()) {
            spawn_failures = 0;
            running.push_back(std::move(child));
            continue;
        }
        recorder.record(spawn_failure(*job, error));
        return ++spawn_failures < kSpawnFailuresInARow;
    }
    return true;
}

void reap_finished(std::vector<RunningChild>& running, SweepRecorder& recorder) {
    for (size_t i = 0; i < running.size();) {
        SeedOutcome outcome;
        if (try_reap(running[i], outcome)) {
            recorder.record(std::move(outcome));
            running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
}

}  // namespace

std::string check_out_path(const std::string& path) {
    ResultsFile probe;
    return probe.open(path);
}

namespace {
SweepSummary run_sweep(const JobSource& next_job, const SweepOptions& options, size_t total);
}  // namespace

SweepSummary run_sweep(const std::vector<SeedJob>& jobs, const SweepOptions& options) {
    size_t next = 0;
    return run_sweep(
        [&]() -> std::optional<SeedJob> {
            return next < jobs.size() ? std::optional(jobs[next++]) : std::nullopt;
        },
        options, jobs.size());
}

SweepSummary run_sweep(const JobSource& next_job, const SweepOptions& options) {
    return run_sweep(next_job, options, 0);
}

namespace {
SweepSummary run_sweep(const JobSource& next_job, const SweepOptions& options, size_t total) {
    SweepSummary summary;
    ResultsFile results;
    if (!options.out_path.empty()) {
        summary.error = results.open(options.out_path);
        if (!summary.error.empty()) {
            return summary;
        }
    }
    const Clock::time_point started = Clock::now();
    ProgressReport progress(options, total, started);
    SweepRecorder recorder(results, progress, summary, options.keep_records);
    const size_t limit = std::max(1u, options.jobs);
    std::vector<RunningChild> running;
    bool more = true;
    int spawn_failures = 0;
    while (more || !running.empty()) {
        // A results file that stopped taking records (a full disk) ends the sweep: the seeds
        // running finish and are reported, no new one starts.
        more = more && results.error().empty();
        if (more) {
            more = start_children(next_job, limit, running, recorder, spawn_failures);
        }
        wait_for_output(running);
        reap_finished(running, recorder);
        progress.tick();
    }
    progress.finish();
    std::sort(summary.failures.begin(), summary.failures.end(),
              [](const SeedOutcome& a, const SeedOutcome& b) { return a.seed < b.seed; });
    summary.wall_seconds = seconds_since(started);
    summary.error = results.error();
    return summary;
}
}  // namespace

void print_failures(const SweepSummary& summary, std::FILE* out) {
    for (const SeedOutcome& failure : summary.failures) {
        fmt::print(out, "{}seed {} FAIL {}\n{}  reproduce: {}\n",
                   failure.scenario.empty() ? "" : failure.scenario + " ", failure.seed,
                   failure.failure_class, indented(failure.message), failure.repro);
    }
}

}  // namespace floe::tools
