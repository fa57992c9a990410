#pragma once
// A small run recorded as a timeline, shared by the timeline's tests (tests/kernel) and the
// Perfetto writer's (tests/report).
#include <doctest/doctest.h>

#include "sim/simulation.h"
#include "sim/timeline.h"

namespace floe::testing {

// A node that reports a status, works in a span, and is crashed inside a second span.
inline sim::Timeline record_crash_run() {
    using namespace sim::time_literals;
    sim::SimulationConfig config;
    config.seed = 11;
    config.shuffle_same_instant = false;
    sim::Simulation sim(config);
    sim::TimelineRecorder recorder;
    sim.trace().attach(recorder);
    int boots = 0;
    const sim::HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        ++boots;
        rt.state("status", boots == 1 ? "Starting" : "Restarted");
        {
            const sim::TraceSpan first = rt.span("sync", "blob=aa");
            rt.sleep(1_s);
        }
        rt.state("status", "Working");
        const sim::TraceSpan second = rt.span("sync", "blob=bb");
        rt.sleep(100_s);
    });
    const auto result = sim.run([&](sim::Runtime& world) {
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

}  // namespace floe::testing
