// The Perfetto writer (tools/perfetto.h): the Chrome trace-event JSON of a recorded run parses
// and names every host, every async begin has its end, free text cannot break the JSON, and a
// bad path is a one-line error.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "sim/timeline.h"
#include "tests/kernel/timeline_fixture.h"
#include "tools/perfetto.h"

using namespace sim;
using floe::testing::record_crash_run;
using floe::tools::perfetto_json;
using floe::tools::write_perfetto_json;

TEST_CASE("perfetto: the JSON parses and holds processes, states, spans, instants") {
    const Timeline t = record_crash_run();
    const auto json = nlohmann::json::parse(perfetto_json(t));
    int process_names = 0;
    int complete = 0;
    int begins = 0;
    int ends = 0;
    int instants = 0;
    for (const auto& e : json.at("traceEvents")) {
        const std::string ph = e.at("ph");
        if (ph == "M" && e.at("name") == "process_name") {
            ++process_names;
        }
        complete += ph == "X" ? 1 : 0;
        begins += ph == "b" ? 1 : 0;
        ends += ph == "e" ? 1 : 0;
        instants += ph == "i" ? 1 : 0;
    }
    // What the viewers need: every async begin has an end of the same id and category, no
    // complete event has a negative duration, and every event names a process.
    std::map<uint64_t, std::string> open_spans;
    for (const auto& e : json.at("traceEvents")) {
        CHECK(e.contains("pid"));
        const std::string ph = e.at("ph");
        if (ph == "X") {
            CHECK(e.at("dur").get<double>() >= 0);
        } else if (ph == "b") {
            open_spans[e.at("id").get<uint64_t>()] = e.at("cat");
        } else if (ph == "e") {
            const auto it = open_spans.find(e.at("id").get<uint64_t>());
            REQUIRE(it != open_spans.end());
            CHECK(it->second == e.at("cat"));
            open_spans.erase(it);
        }
    }
    CHECK(open_spans.empty());
    CHECK(process_names == 2);  // world and node
    CHECK(complete == static_cast<int>(t.states.size()));
    CHECK(begins == 4);  // two spans in each incarnation
    CHECK(ends == 4);
    CHECK(instants == static_cast<int>(t.instants.size()));
}

TEST_CASE("perfetto: free text with quotes, control characters and bad UTF-8 stays valid JSON") {
    Timeline t;
    t.hosts = {"world"};
    const std::string text = std::string("say \"hi\"\n\x01 ") + "\xff\xfe end";
    t.instants.push_back({0, TimelineInstant::Kind::mark, text, Instant::zero()});
    const auto json = nlohmann::json::parse(perfetto_json(t));
    bool found = false;
    for (const auto& e : json.at("traceEvents")) {
        if (e.at("ph") == "i") {
            const std::string name = e.at("name");
            found = name.find("say \"hi\"\n\x01 ") != std::string::npos &&
                    name.find(" end") != std::string::npos;
        }
    }
    CHECK(found);
}

TEST_CASE("perfetto: an unwritable path is a one-line error and leaves no file") {
    const Timeline t = record_crash_run();
    const std::string error = write_perfetto_json(t, "/nonexistent-dir/run.json");
    CHECK(error.find("cannot write Perfetto trace '/nonexistent-dir/run.json'") == 0);
}
