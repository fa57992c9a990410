// The HTML run report: a small synthetic timeline written to a scratch directory, then read
// back as text — self-contained, data embedded once and intact, the summary escaped, a bad
// path refused without leaving anything behind.
#include <doctest/doctest.h>

#include <stdlib.h>  // mkdtemp

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/timeline.h"
#include "tests/test_files.h"
#include "tools/html_report.h"

using floe::tools::html_report;
using floe::tools::html_report_data;
using floe::tools::ReportSummary;
using floe::tools::write_html_report;
using nlohmann::json;

namespace {

struct ScratchDir : floe::testing::ScratchDir {
    ScratchDir() : floe::testing::ScratchDir("floe-report") {}
};

constexpr int64_t kSecond = 1'000'000'000;
sim::Instant at(double seconds) {
    return sim::Instant::from_ns(static_cast<int64_t>(seconds * kSecond));
}

constexpr const char* kEvilMark = "</script><script>alert('mark')</script><!-- x";

// world, chain and two nodes; node0 crashes at 5s and restarts at 8s; the epoch changes at 10s.
sim::Timeline sample_timeline() {
    using Kind = sim::TimelineInstant::Kind;
    sim::Timeline t;
    t.hosts = {"world", "chain", "node0", "node1"};
    t.end = at(20);
    t.states = {
        {1, "host", "up", at(0), at(20), false},
        {1, "epoch", "1", at(0), at(10), false},
        {1, "epoch", "2", at(10), at(20), false},
        {2, "node-status", "Active", at(0), at(5), true},
        {2, "shard-12", "Active", at(0), at(5), true},
        {2, "shard-3", "ActiveSync", at(0), at(5), true},
        {2, "host", "up", at(0), at(5), true},
        {2, "host", "down", at(5), at(8), false},
        {2, "host", "up", at(8), at(20), false},
        {2, "node-status", "RecoveryCatchUp", at(8), at(12), false},
        {2, "node-status", "Active", at(12), at(20), false},
        {2, "shard-3", "ActiveRecover", at(8), at(20), false},
        {3, "host", "up", at(0), at(20), false},
        {3, "node-status", "Active", at(0), at(20), false},
        {3, "shard-7", "Active", at(0), at(20), false},
    };
    t.spans = {
        {2, 1, "blob-sync", "blob=ab12cd34ef56 recovery", at(1), at(3), false, false},
        {2, 2, "blob-sync", "blob=0123456789ab", at(2), at(5), true, false},
        {2, 3, "shard-sync", "shard=3", at(3), at(4), false, false},
        {2, 4, "recovery", "epoch=2", at(9), at(20), false, true},
        {3, 5, "blob-sync", "blob=ffffffffffff", at(4), at(6), false, false},
    };
    t.instants = {
        {0, Kind::mark, "crash node0 for 3s", at(5)},
        {2, Kind::crash, "restart after 3s", at(5)},
        {2, Kind::restart, "incarnation=2", at(8)},
        {3, Kind::fail_point, "fail_point_fetch_sliver", at(9)},
        {0, Kind::mark, kEvilMark, at(15)},
    };
    return t;
}

ReportSummary sample_summary(bool passed = true) {
    ReportSummary summary;
    summary.title = "recovery-in-progress-with-node-restart --seed 1";
    summary.passed = passed;
    summary.rows = {{"outcome", passed ? "PASS" : "FAIL (invariant)"},
                    {"failure", "sliver <script>alert(1)</script> & \"missing\""},
                    {"seed", "1"},
                    {"reproduce", "floe run recovery-in-progress-with-node-restart --seed 1"}};
    return summary;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
        ++n;
    }
    return n;
}

// The embedded data, parsed back the way the page's script does.
json embedded_data(const std::string& html) {
    const std::string open = "<script type=\"application/json\" id=\"floe-data\">";
    const size_t begin = html.find(open);
    REQUIRE(begin != std::string::npos);
    const size_t end = html.find("</script>", begin);
    REQUIRE(end != std::string::npos);
    return json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

const json& group(const json& data, const std::string& host) {
    for (const json& g : data["groups"]) {
        if (g["host"] == host) {
            return g;
        }
    }
    FAIL("no lane group for ", host);
    static const json none;
    return none;
}

std::vector<std::string> tracks(const json& g) {
    std::vector<std::string> out;
    for (const json& lane : g["lanes"]) {
        out.push_back(lane["track"].get<std::string>());
    }
    return out;
}

}  // namespace

TEST_CASE("the report is one self-contained file with the data embedded once") {
    ScratchDir dir;
    const std::string path = dir.file("run.html");
    REQUIRE(write_html_report(sample_timeline(), sample_summary(), path) == "");
    CHECK(dir.entries() == std::vector<std::string>{"run.html"});  // no .tmp left behind

    const std::string html = read_file(path);
    CHECK(html.starts_with("<!DOCTYPE html>"));
    CHECK(html.find("</html>") != std::string::npos);
    // Nothing to fetch: no external scripts, styles, fonts or images.
    for (const char* external : {"src=", "href=", "http://", "https://", "@import", "url(//"}) {
        CHECK_MESSAGE(html.find(external) == std::string::npos, external);
    }
    CHECK(count(html, "<script") == 2);  // the data and the code
    CHECK(count(html, "</script>") == 2);
    CHECK(count(html, "id=\"floe-data\"") == 1);
    // The lanes are drawn by script, with stable attributes for tests and readers.
    CHECK(html.find("class=\"lane\" data-host=") != std::string::npos);
    CHECK(html.find("data-track=") != std::string::npos);
    CHECK(html.find("class=\"epoch-line\" data-epoch=") != std::string::npos);

    const json data = embedded_data(html);
    CHECK(data["version"] == 1);
    CHECK(data["end"] == 20 * kSecond);
    CHECK(data["hosts"] == json{"world", "chain", "node0", "node1"});
    CHECK(data["epochs"] == json::parse(R"([[0, "1"], [10000000000, "2"]])"));
}

TEST_CASE("marks and summary values cannot break out of their elements") {
    ScratchDir dir;
    const std::string path = dir.file("run.html");
    REQUIRE(write_html_report(sample_timeline(), sample_summary(false), path) == "");
    const std::string html = read_file(path);

    // The mark's "</script>" neither ends the data element nor opens a comment...
    CHECK(count(html, "</script>") == 2);
    CHECK(html.find("<!-- x") == std::string::npos);
    CHECK(html.find("alert('mark')") != std::string::npos);  // ...yet it is all there
    const json data = embedded_data(html);
    REQUIRE(data["top"].size() == 2);
    CHECK(data["top"][0] == json{"mark", 5 * kSecond, "crash node0 for 3s"});
    CHECK(data["top"][1] == json{"mark", 15 * kSecond, kEvilMark});
    // The page marks the failed run's end with its outcome and failure.
    CHECK(data["run"] == json{{"passed", false},
                              {"outcome", "FAIL (invariant)"},
                              {"failure", "sliver <script>alert(1)</script> & \"missing\""}});

    // The summary is server-side HTML, escaped, with the failure highlighted.
    CHECK(html.find("<td>sliver &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;missing&quot;"
                    "</td>") != std::string::npos);
    CHECK(html.find("alert(1)</script>") == std::string::npos);
    CHECK(html.find("<tr data-key=\"outcome\" class=\"bad\"><th>outcome</th><td>FAIL "
                    "(invariant)</td></tr>") != std::string::npos);
    CHECK(html.find("<tr data-key=\"failure\" class=\"bad\">") != std::string::npos);
    CHECK(html.find("<span class=\"badge fail\">FAIL</span>") != std::string::npos);
    CHECK(html.find("<noscript>") != std::string::npos);
}

TEST_CASE("a passing run's summary highlights nothing") {
    ReportSummary summary = sample_summary(true);
    summary.rows.erase(summary.rows.begin() + 1);  // no failure row
    const std::string html = html_report(sample_timeline(), summary);
    CHECK(html.find("class=\"bad\"") == std::string::npos);
    CHECK(html.find("<span class=\"badge pass\">PASS</span>") != std::string::npos);
    CHECK(html.find("<tr data-key=\"reproduce\"><th>reproduce</th><td class=\"mono\">floe run "
                    "recovery-in-progress-with-node-restart --seed 1</td></tr>") !=
          std::string::npos);
}

TEST_CASE("lanes: events, status, host, other states, shards by number, then packed work") {
    const json data = json::parse(html_report_data(sample_timeline()));
    const std::vector<std::string> strings = data["strings"].get<std::vector<std::string>>();
    REQUIRE(data["groups"].size() == 3);  // the world host has only marks: no group
    CHECK(data["groups"][0]["host"] == "chain");
    CHECK(tracks(group(data, "chain")) == std::vector<std::string>{"host", "epoch"});

    const json& node0 = group(data, "node0");
    CHECK(node0["id"] == 2);
    CHECK(tracks(node0) == std::vector<std::string>{"events", "node-status", "host", "shard-3",
                                                    "shard-12", "work", "work"});
    CHECK(node0["down"] == json::parse("[[5000000000, 8000000000]]"));
    CHECK(node0["lanes"][0]["items"] == json::parse(R"([["crash", 5000000000, "restart after 3s"],
                          ["restart", 8000000000, "incarnation=2"]])"));

    // States in time order; the crash-cut one flagged 1.
    const json& status = node0["lanes"][1]["items"];
    REQUIRE(status.size() == 3);
    CHECK(strings.at(status[0][2]) == "Active");
    CHECK(status[0][3] == 1);
    CHECK(strings.at(status[1][2]) == "RecoveryCatchUp");
    CHECK(status[1][0] == 8 * kSecond);
    CHECK(status[1][3] == 0);
    CHECK(strings.at(status[2][2]) == "Active");

    // blob 1 [1,3) and blob 2 [2,5) overlap: two rows; the shard sync [3,4) fits after blob 1,
    // and the recovery [9,20) (open at the end) after it.
    const json& row0 = node0["lanes"][5];
    const json& row1 = node0["lanes"][6];
    CHECK(row0["row"] == 0);
    CHECK(row1["row"] == 1);
    REQUIRE(row0["items"].size() == 3);
    REQUIRE(row1["items"].size() == 1);
    CHECK(strings.at(row0["items"][1][2]) == "shard-sync");
    CHECK(strings.at(row0["items"][1][3]) == "shard=3");
    CHECK(row0["items"][2][4] == 2);  // open at the end
    CHECK(strings.at(row1["items"][0][3]) == "blob=0123456789ab");
    CHECK(row1["items"][0][4] == 1);  // cut by the crash

    const json& node1 = group(data, "node1");
    CHECK(tracks(node1) ==
          std::vector<std::string>{"events", "node-status", "host", "shard-7", "work"});
    CHECK(node1["lanes"][0]["items"][0] ==
          json{"fail-point", 9 * kSecond, "fail_point_fetch_sliver"});
}

TEST_CASE("zero-length spans get a row of their own; the chain restarting is no epoch") {
    sim::Timeline t;
    t.hosts = {"world", "chain", "node0"};
    t.end = at(10);
    t.states = {{1, "epoch", "1", at(0), at(4), true},
                {1, "epoch", "1", at(6), at(10), false},
                {1, "epoch", "2", at(10), at(10), false}};
    t.spans = {{2, 1, "blob-sync", "a", at(1), at(2), false, false},
               {2, 2, "blob-sync", "b", at(2), at(2), false, false},
               {2, 3, "blob-sync", "c", at(2), at(3), false, false}};
    const json data = json::parse(html_report_data(t));
    CHECK(data["epochs"] == json::parse(R"([[0, "1"], [10000000000, "2"]])"));
    const json& node0 = group(data, "node0");
    CHECK(tracks(node0) == std::vector<std::string>{"work", "work"});
    CHECK(node0["lanes"][0]["items"].size() == 2);  // a, then c right after it
    CHECK(node0["lanes"][1]["items"].size() == 1);  // b, at a's very end
}

TEST_CASE("a very busy node's work shares rows past the row limit") {
    sim::Timeline t;
    t.hosts = {"world", "node0"};
    t.end = at(10);
    for (uint64_t i = 0; i < 100; ++i) {
        t.spans.push_back({1, i, "blob-sync", "x", at(1), at(9), false, false});
    }
    const json data = json::parse(html_report_data(t));
    const json& lanes = group(data, "node0")["lanes"];
    CHECK(lanes.size() == 24);
    size_t spans = 0;
    for (const json& lane : lanes) {
        spans += lane["items"].size();
    }
    CHECK(spans == 100);
}

TEST_CASE("a report that cannot be written says why and leaves nothing behind") {
    ScratchDir dir;
    const std::string missing = dir.file("no-such-dir/run.html");
    CHECK(write_html_report(sample_timeline(), sample_summary(), missing) ==
          "cannot write report '" + missing + "': No such file or directory");
    CHECK(dir.entries().empty());

    // Over a directory: the rename fails, and the temporary file goes too.
    std::filesystem::create_directory(dir.file("taken"));
    const std::string error =
        write_html_report(sample_timeline(), sample_summary(), dir.file("taken"));
    CHECK(error.starts_with("cannot write report '" + dir.file("taken") + "': "));
    CHECK(dir.entries() == std::vector<std::string>{"taken"});

    // Under a regular file.
    std::ofstream(dir.file("plain")) << "x";
    CHECK(write_html_report(sample_timeline(), sample_summary(), dir.file("plain") + "/r.html") ==
          "cannot write report '" + dir.file("plain") + "/r.html': Not a directory");
}

TEST_CASE("bad UTF-8 in a mark does not throw") {
    sim::Timeline t = sample_timeline();
    t.instants.push_back({0, sim::TimelineInstant::Kind::mark, "bad \xff\xfe bytes", at(16)});
    const json data = json::parse(html_report_data(t));
    CHECK(data["top"].size() == 3);
    ScratchDir dir;
    CHECK(write_html_report(t, sample_summary(), dir.file("run.html")) == "");
}
