// The timeline (sim/timeline.h): states become intervals, spans pair up, a crash cuts what its
// host had open, and recording it leaves the trace hash alone. Its Perfetto rendering is tested
// in tests/report/test_perfetto.cpp.
#include <doctest/doctest.h>

#include <string>

#include "sim/simulation.h"
#include "sim/timeline.h"
#include "tests/kernel/timeline_fixture.h"

using namespace sim;
using namespace sim::time_literals;
using floe::testing::record_crash_run;

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
