// The JUnit XML report: suites grouped in order of first appearance with their own counts,
// escaping, characters XML cannot carry, times, a file read back, and a path that cannot be
// written. tools/check_junit.sh validates a real document against junit-10.xsd.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_files.h"
#include "tools/junit.h"

using floe::tools::junit_xml;
using floe::tools::JunitCase;
using floe::tools::write_junit;

namespace {

JunitCase passing(const std::string& suite, const std::string& name, double seconds = 0) {
    JunitCase c;
    c.suite = suite;
    c.name = name;
    c.classname = "floe.sweep." + suite;
    c.seconds = seconds;
    return c;
}

JunitCase failing(const std::string& suite, const std::string& name) {
    JunitCase c = passing(suite, name);
    c.passed = false;
    c.failure_type = "invariant";
    c.failure_message = "blob lost";
    c.failure_text = "blob lost\nreproduce: floe run " + suite;
    return c;
}

JunitCase skipped(const std::string& suite, const std::string& name) {
    JunitCase c = passing(suite, name);
    c.skipped = true;
    return c;
}

size_t count(const std::string& haystack, const std::string& needle) {
    size_t found = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size())) {
        ++found;
    }
    return found;
}

// The lines of `xml` that start with `prefix`, in order.
std::vector<std::string> lines_starting(const std::string& xml, const std::string& prefix) {
    std::vector<std::string> lines;
    std::istringstream in(xml);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0) {
            lines.push_back(line);
        }
    }
    return lines;
}

// The document of a single case with the given name and failure text.
std::string one_failure(const std::string& name, const std::string& text) {
    JunitCase c = failing("s", name);
    c.failure_text = text;
    return junit_xml({c}, "floe");
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

TEST_CASE("junit: suites in order of first appearance, each with its own counts and time") {
    const std::vector<JunitCase> cases = {
        passing("beta", "seed 1", 1.5),   failing("alpha", "seed 2"), skipped("beta", "seed 3"),
        passing("gamma", "seed 4", 0.25), failing("beta", "seed 5"),
    };
    const std::string xml = junit_xml(cases, "floe sweep");
    CHECK(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0) == 0);
    CHECK(xml.find("<testsuites name=\"floe sweep\" tests=\"5\" failures=\"2\" errors=\"0\" "
                   "time=\"1.750\">") != std::string::npos);

    const std::vector<std::string> suites = lines_starting(xml, "  <testsuite ");
    REQUIRE(suites.size() == 3);
    CHECK(suites[0] ==
          "  <testsuite name=\"beta\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\" "
          "time=\"1.500\">");
    CHECK(suites[1] ==
          "  <testsuite name=\"alpha\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\" "
          "time=\"0.000\">");
    CHECK(suites[2] ==
          "  <testsuite name=\"gamma\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" "
          "time=\"0.250\">");

    // The cases of a suite stay in input order, under their own suite.
    const size_t beta = xml.find("name=\"beta\"");
    const size_t alpha = xml.find("name=\"alpha\"");
    CHECK(beta < xml.find("\"seed 1\""));
    CHECK(xml.find("\"seed 1\"") < xml.find("\"seed 3\""));
    CHECK(xml.find("\"seed 3\"") < xml.find("\"seed 5\""));
    CHECK(xml.find("\"seed 5\"") < alpha);
    CHECK(alpha < xml.find("\"seed 2\""));
    CHECK(count(xml, "<testcase ") == 5);
    CHECK(count(xml, "<failure ") == 2);
    CHECK(count(xml, "<skipped/>") == 1);
    CHECK(count(xml, "timestamp") == 0);
    CHECK(xml.substr(xml.size() - 14) == "</testsuites>\n");
}

TEST_CASE("junit: a case's elements and attributes") {
    JunitCase fail = failing("s", "seed 17");
    fail.seconds = 2.0004;
    fail.system_out = "epoch 3";
    const std::string xml = junit_xml({passing("s", "seed 1", 1.23456), fail}, "floe");
    CHECK(xml.find("    <testcase name=\"seed 1\" classname=\"floe.sweep.s\" time=\"1.235\"/>\n") !=
          std::string::npos);
    CHECK(xml.find("    <testcase name=\"seed 17\" classname=\"floe.sweep.s\" time=\"2.000\">\n"
                   "      <failure type=\"invariant\" message=\"blob lost\">blob lost\n"
                   "reproduce: floe run s</failure>\n"
                   "      <system-out>epoch 3</system-out>\n"
                   "    </testcase>\n") != std::string::npos);
}

TEST_CASE("junit: a failure is never hidden by skipped; a failure without a type has none") {
    JunitCase both = failing("s", "both");
    both.skipped = true;
    both.failure_type.clear();
    const std::string xml = junit_xml({both}, "floe");
    CHECK(xml.find("tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\"") != std::string::npos);
    CHECK(count(xml, "<skipped") == 0);
    CHECK(xml.find("<failure message=\"blob lost\">") != std::string::npos);
}

TEST_CASE("junit: & < > \" ' are escaped in attributes and in text") {
    const std::string nasty = "a&b<c>d\"e'f";
    const std::string want = "a&amp;b&lt;c&gt;d&quot;e&apos;f";
    JunitCase c = failing(nasty, nasty);
    c.classname = nasty;
    c.failure_type = nasty;
    c.failure_message = nasty;
    c.failure_text = nasty;
    c.system_out = nasty;
    const std::string xml = junit_xml({c}, nasty);
    CHECK(xml.find("<testsuites name=\"" + want + "\"") != std::string::npos);
    CHECK(xml.find("<testsuite name=\"" + want + "\"") != std::string::npos);
    CHECK(xml.find("<testcase name=\"" + want + "\" classname=\"" + want + "\"") !=
          std::string::npos);
    CHECK(xml.find("<failure type=\"" + want + "\" message=\"" + want + "\">" + want +
                   "</failure>") != std::string::npos);
    CHECK(xml.find("<system-out>" + want + "</system-out>") != std::string::npos);
    CHECK(count(xml, nasty) == 0);
    CHECK(count(xml, "&amp;") == 8);  // eight strings, one & each, none escaped twice
    CHECK(count(xml, "&amp;amp;") == 0);
}

TEST_CASE("junit: the message is one line; line breaks survive elsewhere") {
    JunitCase c = failing("s", "two\nlines\ttab");
    c.failure_message = "first\nsecond\r\nthird\rfourth";
    c.failure_text = "line 1\nline 2\r\n\tindented";
    const std::string xml = junit_xml({c}, "floe");
    CHECK(xml.find("message=\"first second third fourth\"") != std::string::npos);
    // A raw line break in an attribute would be read back as a space.
    CHECK(xml.find("name=\"two&#10;lines&#9;tab\"") != std::string::npos);
    // A raw CR in text would be read back as LF.
    CHECK(xml.find(">line 1\nline 2&#13;\n\tindented</failure>") != std::string::npos);
}

TEST_CASE("junit: control characters become visible escapes") {
    const std::string xml = one_failure("nul\x01", "\x1b[31mred\x1b[0m bell\x07 del\x7f");
    CHECK(xml.find("name=\"nul\\x01\"") != std::string::npos);
    CHECK(xml.find(">\\x1b[31mred\\x1b[0m bell\\x07 del\x7f</failure>") != std::string::npos);
    for (const char c : xml) {
        const auto byte = static_cast<unsigned char>(c);
        CHECK_MESSAGE((byte >= 0x20 || c == '\n' || c == '\t'), "byte ", static_cast<int>(byte));
    }
}

TEST_CASE("junit: invalid UTF-8 is replaced byte by byte; valid UTF-8 is kept") {
    const std::string fffd = "\xEF\xBF\xBD";
    const auto text_of = [](const std::string& xml) {
        const size_t begin = xml.find("\">", xml.find("<failure")) + 2;
        return xml.substr(begin, xml.find("</failure>") - begin);
    };
    // é, €, and a 4-byte emoji.
    const std::string valid = "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xA7";
    CHECK(text_of(one_failure("n", valid)) == valid);
    CHECK(text_of(one_failure("n",
                              "a\xFF"
                              "b")) == "a" + fffd + "b");
    CHECK(text_of(one_failure("n", "cut \xC3")) == "cut " + fffd);           // truncated
    CHECK(text_of(one_failure("n", "\xC0\xAF")) == fffd + fffd);             // overlong '/'
    CHECK(text_of(one_failure("n", "\xED\xA0\x80")) == fffd + fffd + fffd);  // surrogate
    CHECK(text_of(one_failure("n", "\xF4\x90\x80\x80")) == fffd + fffd + fffd + fffd);  // >10FFFF
    CHECK(text_of(one_failure("n", "\xEF\xBF\xBF")) == fffd);  // U+FFFF: not an XML character
    CHECK(text_of(one_failure("n", "\xE2\x82<")) == fffd + fffd + "&lt;");
    CHECK(one_failure("bad\x80", "").find("name=\"bad" + fffd + "\"") != std::string::npos);
}

TEST_CASE("junit: times are fixed-point with three decimals, never negative or nan") {
    const std::string xml = junit_xml(
        {passing("s", "a", -1), passing("s", "b", std::nan("")),
         passing("s", "c", std::numeric_limits<double>::infinity()), passing("s", "d", 12345.6789)},
        "floe");
    CHECK(count(xml, "time=\"0.000\"") == 3);
    CHECK(count(xml, "time=\"12345.679\"") == 3);  // the case, its suite and the root
    CHECK(count(xml, "nan") == 0);
    CHECK(count(xml, "inf") == 0);
    CHECK(count(xml, "=\"-") == 0);
}

TEST_CASE("junit: no cases is an empty but valid document") {
    const std::string xml = junit_xml({}, "floe");
    CHECK(xml ==
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<testsuites name=\"floe\" tests=\"0\" failures=\"0\" errors=\"0\" time=\"0.000\">\n"
          "</testsuites>\n");
}

TEST_CASE("junit: a written report reads back with its counts, and is truncated on rewrite") {
    floe::testing::ScratchDir dir("floe-junit");
    const std::string path = dir.file("report.xml");
    std::vector<JunitCase> cases(40, passing("big", "seed"));
    REQUIRE(write_junit(path, cases, "floe") == "");
    CHECK(count(read_file(path), "<testcase") == 40);

    cases = {passing("a", "seed 1"), failing("a", "seed 2"), skipped("b", "seed 3")};
    REQUIRE(write_junit(path, cases, "floe") == "");
    const std::string xml = read_file(path);
    CHECK(xml == junit_xml(cases, "floe"));
    CHECK(count(xml, "<testcase") == 3);
    CHECK(count(xml, "<testsuite ") == 2);
    CHECK(count(xml, "<failure") == 1);
    CHECK(xml.find("tests=\"3\" failures=\"1\"") != std::string::npos);
    CHECK(xml.find("tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\"") != std::string::npos);
    CHECK(xml.find("tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\"") != std::string::npos);
}

TEST_CASE("junit: a path that cannot be written is a one-line error, not an exception") {
    std::string error;
    CHECK_NOTHROW(error = write_junit("/nonexistent-dir/x.xml", {passing("s", "n")}, "floe"));
    CHECK(error ==
          "cannot write JUnit report to /nonexistent-dir/x.xml: No such file or directory");

    floe::testing::ScratchDir dir("floe-junit");
    CHECK_NOTHROW(error = write_junit(dir.path, {}, "floe"));  // a directory
    CHECK(error == "cannot write JUnit report to " + dir.path + ": Is a directory");
    CHECK(error.find('\n') == std::string::npos);
}
