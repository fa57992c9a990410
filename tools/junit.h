#pragma once
// A JUnit XML report, the format GitHub (test-reporter actions), GitLab (artifacts:reports:junit)
// and Jenkins (junit, xunit) read. The document validates against the Jenkins xunit plugin's
// junit-10.xsd (tests/tools/junit.xsd); tools/check_junit.sh checks a written file.
//
// Whatever the strings hold (terminal colours, raw bytes of a trace, quotes), the document stays
// well-formed: a CI that cannot parse the report shows no failures at all, which is worse than a
// mangled character.

#include <string>
#include <vector>

namespace floe::tools {

struct JunitCase {
    std::string suite;            // testsuite name (e.g. the scenario); cases are grouped by it
    std::string name;             // testcase name (e.g. "seed 17" or a gate line)
    std::string classname;        // testcase classname (e.g. "floe.sweep.long-node-recovery")
    double seconds = 0;           // time; negative or not finite is written as 0
    bool passed = true;           // false: a <failure> (it wins over `skipped`: never hide one)
    bool skipped = false;         // a <skipped/>
    std::string failure_type;     // <failure type=...>, e.g. "invariant"
    std::string failure_message;  // <failure message=...>: one line (line breaks become spaces)
    std::string failure_text;     // body of <failure>: full message and "reproduce: <command>"
    std::string system_out;       // optional <system-out>
};

// The whole document: <?xml ...?><testsuites name=.. tests=.. failures=.. errors="0" time=..>
// with one <testsuite> per distinct suite (in order of first appearance), each with its own
// tests, failures, errors="0", skipped and time, no timestamp (the report of a seed range is the
// same on every run), and its testcases in input order. The root carries no `skipped`:
// junit-10.xsd does not declare it there.
std::string junit_xml(const std::vector<JunitCase>& cases, const std::string& name);

// Writes junit_xml to `path` (truncating). "" on success, else a one-line error like
// "cannot write JUnit report to X: <strerror>".
std::string write_junit(const std::string& path, const std::vector<JunitCase>& cases,
                        const std::string& name);

}  // namespace floe::tools
