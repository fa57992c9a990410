// The timeline (sim/timeline.h) and its Perfetto rendering: states become intervals, spans pair
// up, a crash cuts what its host had open, and the Chrome trace-event JSON names every host.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "sim/perfetto.h"
#include "sim/simulation.h"
#include "sim/timeline.h"

using namespace sim;
using namespace sim::time_literals;

namespace {

const TimelineState* find_state(const Timeline& t, const std::string& host,
                                const std::string& track, const std::string& value) {
    for (const TimelineState& s : t.states) {
        if (t.hosts[s.host] == host && s.track == track && s.value == value) {
            return &s;
        }
    }
    return nullptr;
}

// A node that reports a status, works in a span, and is crashed inside a second span.
Timeline record_crash_run() {
    SimulationConfig config;
    config.seed = 11;
    config.shuffle_same_instant = false;
    Simulation sim(config);
    TimelineRecorder recorder;
    sim.trace().attach(recorder);
    int boots = 0;
    const HostId node = sim.add_host("node", [&](Runtime& rt) {
        ++boots;
        rt.state("status", boots == 1 ? "Starting" : "Restarted");
        {
            const TraceSpan first = rt.span("sync", "blob=aa");
            rt.sleep(1_s);
        }
        rt.state("status", "Working");
        const TraceSpan second = rt.span("sync", "blob=bb");
        rt.sleep(100_s);
    });
    const auto result = sim.run([&](Runtime& world) {
        sim.start(node);
        world.sleep(3_s);
        world.mark("crash the node");
        sim.restart(node, 2_s);
        world.sleep(10_s);
    });
    REQUIRE(result.passed());
    sim.trace().detach(recorder);
    return recorder.finish(result.end_time);
}

}  // namespace

TEST_CASE("timeline: states, spans, a crash that cuts them, and the restart") {
    const Timeline t = record_crash_run();
    const TimelineState* starting = find_state(t, "node", "status", "Starting");
    REQUIRE(starting != nullptr);
    CHECK(starting->end - starting->begin == 1_s);  // ended by the next value
    CHECK_FALSE(starting->cut_by_crash);
    const TimelineState* working = find_state(t, "node", "status", "Working");
    REQUIRE(working != nullptr);
    CHECK(working->cut_by_crash);
    CHECK(working->end == Instant::zero() + 3_s);
    const TimelineState* down = find_state(t, "node", "host", "down");
    REQUIRE(down != nullptr);
    CHECK(down->end - down->begin == 2_s);
    CHECK(find_state(t, "node", "status", "Restarted") != nullptr);

    int done = 0;
    int cut = 0;
    int open = 0;
    for (const TimelineSpan& s : t.spans) {
        CHECK(s.name == "sync");
        done += !s.cut_by_crash && !s.open_at_end ? 1 : 0;
        cut += s.cut_by_crash ? 1 : 0;
        open += s.open_at_end ? 1 : 0;
    }
    CHECK(done == 2);  // the first span of each incarnation
    CHECK(cut == 1);   // the second span of the first incarnation
    CHECK(open == 1);  // the second span of the second incarnation

    int crashes = 0;
    int restarts = 0;
    int marks = 0;
    for (const TimelineInstant& i : t.instants) {
        crashes += i.kind == TimelineInstant::Kind::crash ? 1 : 0;
        restarts += i.kind == TimelineInstant::Kind::restart ? 1 : 0;
        marks += i.kind == TimelineInstant::Kind::mark && i.text == "crash the node" ? 1 : 0;
    }
    CHECK(crashes == 1);
    CHECK(restarts == 1);
    CHECK(marks == 1);
}

TEST_CASE("timeline: the Perfetto JSON parses and holds processes, states, spans, instants") {
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

TEST_CASE("timeline: state and span events change the trace hash, and tracing does not") {
    auto run = [](bool report, bool record) {
        SimulationConfig config;
        config.seed = 5;
        Simulation sim(config);
        TimelineRecorder recorder;
        if (record) {
            sim.trace().attach(recorder);
        }
        const HostId node = sim.add_host("node", [&](Runtime& rt) {
            if (report) {
                rt.state("status", "Up");
            }
            rt.sleep(1_s);
        });
        const auto result = sim.run([&](Runtime& world) {
            sim.start(node);
            world.sleep(2_s);
        });
        if (record) {
            sim.trace().detach(recorder);
        }
        return result.trace_hash;
    };
    CHECK(run(true, false) == run(true, true));
    CHECK(run(true, false) != run(false, false));
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
