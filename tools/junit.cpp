#include "tools/junit.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>

namespace floe::tools {
namespace {

// U+FFFD, written for each byte that is not part of valid UTF-8 (and for U+FFFE/U+FFFF, which
// XML 1.0 forbids): a reader sees that something was there without the parser rejecting the file.
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Where a string lands decides which characters survive: an attribute value loses raw tabs and
// line breaks to attribute-value normalisation, so they are written as character references;
// a failure message must stay one line because CIs show it as the failure's title.
enum class Place { text, attribute, one_line_attribute };

bool is_continuation(unsigned char byte, unsigned char low = 0x80, unsigned char high = 0xBF) {
    return byte >= low && byte <= high;
}

// The length of the well-formed UTF-8 sequence at in[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if the byte there does not start one.
size_t utf8_length(std::string_view in, size_t i) {
    const auto at = [&](size_t k) { return static_cast<unsigned char>(in[i + k]); };
    const unsigned char lead = at(0);
    const size_t left = in.size() - i;
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        return left >= 2 && is_continuation(at(1)) ? 2 : 0;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        const unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;   // overlong
        const unsigned char high = lead == 0xED ? 0x9F : 0xBF;  // surrogates
        return left >= 3 && is_continuation(at(1), low, high) && is_continuation(at(2)) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        const unsigned char low = lead == 0xF0 ? 0x90 : 0x80;   // overlong
        const unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;  // above U+10FFFF
        return left >= 4 && is_continuation(at(1), low, high) && is_continuation(at(2)) &&
                       is_continuation(at(3))
                   ? 4
                   : 0;
    }
    return 0;
}

// U+FFFE and U+FFFF are well-formed UTF-8 but not XML 1.0 characters.
bool is_xml_noncharacter(std::string_view sequence) {
    return sequence == "\xEF\xBF\xBE" || sequence == "\xEF\xBF\xBF";
}

// Tab, line feed and carriage return: the only control characters XML 1.0 allows. A raw CR would
// be turned into LF by the parser, so it is always a reference.
void append_whitespace(std::string& out, char c, Place place) {
    if (place == Place::one_line_attribute) {
        out += c == '\t' ? "&#9;" : " ";
    } else if (c == '\r') {
        out += "&#13;";
    } else if (place == Place::attribute) {
        out += c == '\t' ? "&#9;" : "&#10;";
    } else {
        out += c;
    }
}

// One ASCII character: markup escaped, other control characters (the ESC of terminal colours)
// shown as a visible "\x1b" since XML 1.0 cannot carry them at all.
void append_ascii(std::string& out, char c, Place place) {
    switch (c) {
        case '&': out += "&amp;"; return;
        case '<': out += "&lt;"; return;
        case '>': out += "&gt;"; return;
        case '"': out += "&quot;"; return;
        case '\'': out += "&apos;"; return;
        case '\t':
        case '\n':
        case '\r': append_whitespace(out, c, place); return;
        default: break;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
        out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
    } else {
        out += c;
    }
}

void append_escaped(std::string& out, std::string_view in, Place place) {
    for (size_t i = 0; i < in.size();) {
        // A CRLF of a one-line message is one space, not two.
        if (place == Place::one_line_attribute && in.compare(i, 2, "\r\n") == 0) {
            ++i;
        }
        const size_t length = utf8_length(in, i);
        if (length == 0) {
            out += kReplacement;
            ++i;
        } else if (length == 1) {
            append_ascii(out, in[i], place);
            ++i;
        } else {
            const std::string_view sequence = in.substr(i, length);
            out += is_xml_noncharacter(sequence) ? kReplacement : sequence;
            i += length;
        }
    }
}

std::string escaped(std::string_view in, Place place) {
    std::string out;
    out.reserve(in.size());
    append_escaped(out, in, place);
    return out;
}

std::string attr(std::string_view in) {
    return escaped(in, Place::attribute);
}

// junit-10.xsd's SUREFIRE_TIME takes digits and a point only: no sign, no "nan", no exponent.
double sane_seconds(double seconds) {
    return std::isfinite(seconds) && seconds > 0 ? seconds : 0;
}

std::string format_time(double seconds) {
    return fmt::format("{:.3f}", sane_seconds(seconds));
}

bool is_failed(const JunitCase& c) {
    return !c.passed;
}
bool is_skipped(const JunitCase& c) {
    return c.passed && c.skipped;
}

struct Totals {
    size_t tests = 0;
    size_t failures = 0;
    size_t skipped = 0;
    double seconds = 0;

    void add(const JunitCase& c) {
        ++tests;
        failures += is_failed(c) ? 1 : 0;
        skipped += is_skipped(c) ? 1 : 0;
        seconds += sane_seconds(c.seconds);
    }
};

struct Suite {
    std::string name;
    Totals totals;
    std::vector<const JunitCase*> cases;
};

// Suites in order of first appearance, each with its cases in input order: a sweep's report reads
// in the order its table printed.
std::vector<Suite> group_by_suite(const std::vector<JunitCase>& cases) {
    std::vector<Suite> suites;
    std::map<std::string, size_t> index;
    for (const JunitCase& c : cases) {
        const auto [it, inserted] = index.try_emplace(c.suite, suites.size());
        if (inserted) {
            suites.push_back(Suite{c.suite, {}, {}});
        }
        Suite& suite = suites[it->second];
        suite.totals.add(c);
        suite.cases.push_back(&c);
    }
    return suites;
}

void append_failure(std::string& out, const JunitCase& c) {
    out += "      <failure";
    if (!c.failure_type.empty()) {
        out += fmt::format(" type=\"{}\"", attr(c.failure_type));
    }
    out += fmt::format(" message=\"{}\">", escaped(c.failure_message, Place::one_line_attribute));
    append_escaped(out, c.failure_text, Place::text);
    out += "</failure>\n";
}

void append_case(std::string& out, const JunitCase& c) {
    out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"", attr(c.name),
                       attr(c.classname), format_time(c.seconds));
    if (!is_failed(c) && !is_skipped(c) && c.system_out.empty()) {
        out += "/>\n";
        return;
    }
    out += ">\n";
    if (is_failed(c)) {
        append_failure(out, c);
    } else if (is_skipped(c)) {
        out += "      <skipped/>\n";
    }
    if (!c.system_out.empty()) {
        out += "      <system-out>";
        append_escaped(out, c.system_out, Place::text);
        out += "</system-out>\n";
    }
    out += "    </testcase>\n";
}

void append_suite(std::string& out, const Suite& suite) {
    const Totals& t = suite.totals;
    out += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
        "time=\"{}\">\n",
        attr(suite.name), t.tests, t.failures, t.skipped, format_time(t.seconds));
    for (const JunitCase* c : suite.cases) {
        append_case(out, *c);
    }
    out += "  </testsuite>\n";
}

}  // namespace

std::string junit_xml(const std::vector<JunitCase>& cases, const std::string& name) {
    Totals all;
    for (const JunitCase& c : cases) {
        all.add(c);
    }
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out += fmt::format(
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{}\">\n",
        attr(name), all.tests, all.failures, format_time(all.seconds));
    for (const Suite& suite : group_by_suite(cases)) {
        append_suite(out, suite);
    }
    out += "</testsuites>\n";
    return out;
}

std::string write_junit(const std::string& path, const std::vector<JunitCase>& cases,
                        const std::string& name) {
    const std::string xml = junit_xml(cases, name);
    const auto error = [&path](int error_number) {
        return fmt::format("cannot write JUnit report to {}: {}", path,
                           std::strerror(error_number));
    };
    std::FILE* file = std::fopen(path.c_str(), "we");
    if (file == nullptr) {
        return error(errno);
    }
    const bool written = std::fwrite(xml.data(), 1, xml.size(), file) == xml.size();
    const int write_errno = errno;
    // fclose flushes: a full disk often shows only here.
    if (std::fclose(file) != 0) {
        return error(errno);
    }
    return written ? "" : error(write_errno);
}

}  // namespace floe::tools
