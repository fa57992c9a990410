// Walrus's spawn_blocking as msim runs it (node/spawn_blocking.h): as a task, the call runs in a
// fiber of its own the caller joins, and a caller aborted while it waits leaves the call running
// to its end (a write lands); inline, it runs in the caller.
#include <doctest/doctest.h>

#include <optional>

#include "node/spawn_blocking.h"
#include "sim/scheduler.h"
#include "sim/simulation.h"

using sim::Duration;

namespace {

sim::FiberId current_fiber() {
    return sim::Scheduler::current().current_fiber();
}

// Runs `body` in a node's fiber for a simulated second; the run must pass.
template <class Body>
void run_node(Body body) {
    sim::SimulationConfig config;
    sim::Simulation sim(config);
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) { body(rt); });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(Duration::seconds(1));
    });
    REQUIRE(result.passed());
}

}  // namespace

TEST_CASE("spawn_blocking: inline, the call runs in its caller and returns its value") {
    run_node([](sim::Runtime& rt) {
        const sim::FiberId caller = current_fiber();
        const int value = walrus::spawn_blocking(rt, false, "read", [caller] {
            CHECK(current_fiber() == caller);
            return 7;
        });
        CHECK(value == 7);
    });
}

TEST_CASE("spawn_blocking: as a task, the call runs in a fiber of its own and returns its value") {
    run_node([](sim::Runtime& rt) {
        const sim::FiberId caller = current_fiber();
        std::optional<sim::FiberId> call_fiber;
        const int value = walrus::spawn_blocking(rt, true, "read", [&call_fiber] {
            call_fiber = current_fiber();
            return 7;
        });
        CHECK(value == 7);
        REQUIRE(call_fiber.has_value());
        CHECK(*call_fiber != caller);
        bool wrote = false;
        walrus::spawn_blocking(rt, true, "write", [&wrote] { wrote = true; });  // void
        CHECK(wrote);
    });
}

TEST_CASE("spawn_blocking: a caller aborted while it waits leaves the write to land") {
    for (const bool as_task : {false, true}) {
        CAPTURE(as_task);
        bool landed = false;
        bool caller_resumed = false;
        run_node([&](sim::Runtime& rt) {
            auto caller = rt.spawn("blob-sync", [&] {
                // A write that takes 5 ms, made at 10 ms.
                rt.sleep(Duration::millis(10));
                walrus::spawn_blocking(rt, as_task, "put_sliver", [&rt, &landed] {
                    rt.sleep(Duration::millis(5));
                    landed = true;
                });
                caller_resumed = true;
            });
            rt.sleep(Duration::millis(12));
            caller.abort();  // the caller waits for the write
            rt.sleep(Duration::millis(10));
        });
        // As a task the write is the task's own and lands; inline it was the caller's, and
        // unwound with it.
        CHECK(landed == as_task);
        CHECK_FALSE(caller_resumed);
    }
}

TEST_CASE("spawn_blocking: a node killed while its task waits stops the task with the node") {
    // The task is the node's: a crash unwinds it with its caller, before or after it started, and
    // its write never lands (what it captured is destroyed, never run).
    for (const int kill_at_ms : {10, 12}) {
        CAPTURE(kill_at_ms);
        bool landed = false;
        bool caller_resumed = false;
        sim::SimulationConfig config;
        sim::Simulation sim(config);
        const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
            rt.sleep(Duration::millis(10));
            walrus::spawn_blocking(rt, true, "put_sliver", [&rt, &landed] {
                rt.sleep(Duration::millis(5));
                landed = true;
            });
            caller_resumed = true;
        });
        auto result = sim.run([&](sim::Runtime& rt) {
            sim.start(host);
            rt.sleep(Duration::millis(kill_at_ms));
            sim.kill(host);
            rt.sleep(Duration::millis(20));
        });
        REQUIRE(result.passed());
        CHECK_FALSE(landed);
        CHECK_FALSE(caller_resumed);
    }
}
