#include "tools/trace_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace floe::tools {
namespace {

constexpr std::string_view kEndOfTrace = "<end of trace>";

// Reads a file one line at a time with getline(3), reusing one buffer: a trace of hundreds of MB
// is never held whole, and an equal line costs no allocation.
class LineReader {
public:
    LineReader() = default;
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;
    ~LineReader() {
        if (file_ != nullptr) {
            std::fclose(file_);
        }
        std::free(buffer_);
    }

    // "" or a one-line error.
    std::string open(const std::string& path) {
        path_ = path;
        file_ = std::fopen(path.c_str(), "re");
        error_number_ = errno;
        return file_ != nullptr ? "" : read_error();
    }

    // The next line without its newline, or nullopt at the end of the file or on an error.
    std::optional<std::string_view> next() {
        const ssize_t length = ::getline(&buffer_, &capacity_, file_);
        if (length < 0) {
            failed_ = std::ferror(file_) != 0;
            error_number_ = errno;
            return std::nullopt;
        }
        std::string_view line(buffer_, static_cast<size_t>(length));
        if (!line.empty() && line.back() == '\n') {
            line.remove_suffix(1);
        }
        return line;
    }

    // Set once next() has returned nullopt because reading failed (a directory, an I/O error).
    bool failed() const { return failed_; }
    std::string read_error() const {
        return fmt::format("cannot read {}: {}", path_, std::strerror(error_number_));
    }

private:
    std::FILE* file_ = nullptr;
    char* buffer_ = nullptr;
    size_t capacity_ = 0;
    std::string path_;
    bool failed_ = false;
    int error_number_ = 0;  // errno of the failure, before the other reader can change it
};

// The last `capacity` lines seen, with their numbers. The strings are reused, so keeping
// context costs a copy per line but no allocation once warm.
class RecentLines {
public:
    explicit RecentLines(size_t capacity) : lines_(capacity) {}

    void push(std::string_view line) {
        if (lines_.empty()) {
            return;
        }
        lines_[pushed_ % lines_.size()].assign(line);
        ++pushed_;
    }

    // Oldest first, each "   41  <text>"; `next_line` is the number of the line after them.
    std::vector<std::string> numbered(uint64_t next_line) const {
        const uint64_t kept = std::min<uint64_t>(pushed_, lines_.size());
        std::vector<std::string> result;
        for (uint64_t back = kept; back > 0; --back) {
            const uint64_t index = pushed_ - back;
            result.push_back(
                fmt::format("{:>5}  {}", next_line - back, lines_[index % lines_.size()]));
        }
        return result;
    }

private:
    std::vector<std::string> lines_;
    uint64_t pushed_ = 0;
};

Divergence diverged_at(uint64_t line, const RecentLines& recent,
                       std::optional<std::string_view> left,
                       std::optional<std::string_view> right) {
    Divergence divergence;
    divergence.equal_lines = line - 1;
    divergence.line = line;
    divergence.before = recent.numbered(line);
    divergence.left = std::string(left.value_or(kEndOfTrace));
    divergence.right = std::string(right.value_or(kEndOfTrace));
    return divergence;
}

}  // namespace

std::optional<Divergence> first_divergence(const std::string& left_path,
                                           const std::string& right_path, size_t context,
                                           std::string& error) {
    LineReader left_reader;
    LineReader right_reader;
    error = left_reader.open(left_path);
    if (error.empty()) {
        error = right_reader.open(right_path);
    }
    if (!error.empty()) {
        return std::nullopt;
    }
    RecentLines recent(context);
    for (uint64_t line = 1;; ++line) {
        const std::optional<std::string_view> left = left_reader.next();
        const std::optional<std::string_view> right = right_reader.next();
        for (const LineReader* reader : {&left_reader, &right_reader}) {
            if (reader->failed()) {
                error = reader->read_error();
                return std::nullopt;
            }
        }
        if (!left && !right) {
            Divergence same;
            same.identical = true;
            same.equal_lines = line - 1;
            return same;
        }
        if (left != right) {
            return diverged_at(line, recent, left, right);
        }
        recent.push(*left);
    }
}

void print_divergence(const Divergence& divergence, const std::string& left_name,
                      const std::string& right_name, std::FILE* out) {
    if (divergence.identical) {
        fmt::print(out, "identical: {} and {} ({} events)\n", left_name, right_name,
                   divergence.equal_lines);
        return;
    }
    fmt::print(out, "first divergence at line {} (event {})\n", divergence.line, divergence.line);
    for (const std::string& line : divergence.before) {
        fmt::print(out, "{}\n", line);
    }
    fmt::print(out, "- {}: {}\n+ {}: {}\n", left_name, divergence.left, right_name,
               divergence.right);
}

}  // namespace floe::tools
