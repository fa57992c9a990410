// The first divergence between two text traces: equal traces, a differing line with the lines
// before it, a trace that stops early, and files that cannot be read.
#include <doctest/doctest.h>

#include <stdlib.h>  // mkdtemp

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/trace_diff.h"

using floe::tools::Divergence;
using floe::tools::first_divergence;
using floe::tools::print_divergence;

namespace {

// Two trace files in a fresh directory under /tmp, removed afterwards.
struct TracePair {
    TracePair(const std::vector<std::string>& left_lines,
              const std::vector<std::string>& right_lines) {
        dir = (std::filesystem::temp_directory_path() / "floe-trace-diff-XXXXXX").string();
        REQUIRE(mkdtemp(dir.data()) != nullptr);
        left = write(dir + "/left.log", left_lines);
        right = write(dir + "/right.log", right_lines);
    }
    ~TracePair() { std::filesystem::remove_all(dir); }

    static std::string write(const std::string& path, const std::vector<std::string>& lines) {
        std::ofstream out(path);
        for (const std::string& line : lines) {
            out << line << '\n';
        }
        return path;
    }

    std::string dir, left, right;
};

// "0.000000000s world f1 event-N".
std::vector<std::string> events(int count) {
    std::vector<std::string> lines;
    for (int i = 1; i <= count; ++i) {
        lines.push_back("0.00000000" + std::to_string(i % 10) + "s world f1 event-" +
                        std::to_string(i));
    }
    return lines;
}

Divergence diff(const TracePair& traces, size_t context) {
    std::string error;
    const std::optional<Divergence> divergence =
        first_divergence(traces.left, traces.right, context, error);
    REQUIRE_MESSAGE(divergence.has_value(), error);
    CHECK(error.empty());
    return *divergence;
}

}  // namespace

TEST_CASE("trace diff: identical traces") {
    const TracePair traces(events(50), events(50));
    const Divergence divergence = diff(traces, 3);
    CHECK(divergence.identical);
    CHECK(divergence.equal_lines == 50);
}

TEST_CASE("trace diff: the first differing line, with the equal lines before it") {
    std::vector<std::string> right = events(50);
    right[40] = "0.000000001s world f2 event-41 changed";
    right[45] = "a later difference is not the first";
    const TracePair traces(events(50), right);
    const Divergence divergence = diff(traces, 3);
    CHECK_FALSE(divergence.identical);
    CHECK(divergence.line == 41);
    CHECK(divergence.equal_lines == 40);
    CHECK(divergence.before == std::vector<std::string>{"   38  0.000000008s world f1 event-38",
                                                        "   39  0.000000009s world f1 event-39",
                                                        "   40  0.000000000s world f1 event-40"});
    CHECK(divergence.left == "0.000000001s world f1 event-41");
    CHECK(divergence.right == "0.000000001s world f2 event-41 changed");
}

TEST_CASE("trace diff: less context than asked for near the start, none when asked for none") {
    std::vector<std::string> right = events(5);
    right[1] = "different";
    const TracePair traces(events(5), right);
    CHECK(diff(traces, 10).before ==
          std::vector<std::string>{"    1  0.000000001s world f1 event-1"});
    CHECK(diff(traces, 0).before.empty());
    CHECK(diff(traces, 0).line == 2);
}

TEST_CASE("trace diff: a trace that stops early ends with <end of trace>") {
    const TracePair traces(events(3), events(4));
    const Divergence divergence = diff(traces, 2);
    CHECK(divergence.line == 4);
    CHECK(divergence.left == "<end of trace>");
    CHECK(divergence.right == "0.000000004s world f1 event-4");
    const TracePair swapped(events(4), events(3));
    CHECK(diff(swapped, 2).right == "<end of trace>");
}

TEST_CASE("trace diff: an unreadable file is an error naming it") {
    const TracePair traces(events(3), events(3));
    std::string error;
    const std::string missing = traces.dir + "/missing.log";
    CHECK_FALSE(first_divergence(traces.left, missing, 3, error).has_value());
    CHECK(error == "cannot read " + missing + ": No such file or directory");
    // A directory opens, but reading it fails.
    CHECK_FALSE(first_divergence(traces.dir, traces.right, 3, error).has_value());
    CHECK(error == "cannot read " + traces.dir + ": Is a directory");
}

TEST_CASE("trace diff: the printed report") {
    std::vector<std::string> right = events(5);
    right[2] = "0.000000003s world f1 event-3 later";
    const TracePair traces(events(5), right);
    char* buffer = nullptr;
    size_t size = 0;
    std::FILE* out = open_memstream(&buffer, &size);
    REQUIRE(out != nullptr);
    print_divergence(diff(traces, 1), "a.log", "b.log", out);
    std::fclose(out);
    const std::string text(buffer, size);
    std::free(buffer);
    CHECK(text ==
          "first divergence at line 3 (event 3)\n"
          "    2  0.000000002s world f1 event-2\n"
          "- a.log: 0.000000003s world f1 event-3\n"
          "+ b.log: 0.000000003s world f1 event-3 later\n");
}
