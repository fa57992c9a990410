// Fail points: every action, host filters, seeded probability, bounded fires, hit counting and
// the armed-but-never-hit report.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/simulation.h"

using namespace sim;
using namespace sim::time_literals;

TEST_CASE("fail points: unarmed points count hits per host and do nothing") {
    Simulation sim(SimulationConfig{});
    const HostId node = sim.add_host("node", [](Runtime& rt) {
        for (int i = 0; i < 3; ++i) {
            CHECK(rt.fail_point("put-cf-before") == FailPointOutcome::proceed);
        }
    });
    auto result = sim.run([&](Runtime& rt) {
        CHECK(rt.fail_point("put-cf-before") == FailPointOutcome::proceed);
        sim.start(node);
        rt.sleep(1_s);
    });
    CHECK(result.passed());
    CHECK(sim.fail_points().hits("put-cf-before") == 4);
    CHECK(sim.fail_points().hits("put-cf-before", node) == 3);
    CHECK(sim.fail_points().hits("put-cf-before", world_host) == 1);
    CHECK(sim.fail_points().fires("put-cf-before") == 0);
}

TEST_CASE("fail points: callback and injected error; once and at_most") {
    Simulation sim(SimulationConfig{});
    int calls = 0;
    auto result = sim.run([&](Runtime& rt) {
        sim.fail_points().arm("cb", FailPointAction::call([&] { ++calls; }).at_most(2));
        for (int i = 0; i < 5; ++i) {
            CHECK(rt.fail_point("cb") == FailPointOutcome::proceed);
        }
        sim.fail_points().arm("err", FailPointAction::inject_error().once());
        CHECK(rt.fail_point("err") == FailPointOutcome::inject_error);
        CHECK(rt.fail_point("err") == FailPointOutcome::proceed);
        sim.fail_points().disarm("cb");
        CHECK_FALSE(sim.fail_points().is_armed("cb"));
    });
    CHECK(result.passed());
    CHECK(calls == 2);
    CHECK(sim.fail_points().hits("cb") == 5);
    CHECK(sim.fail_points().fires("cb") == 2);
}

TEST_CASE("fail points: crash kills the current host, restarts it, and no code after runs") {
    Simulation sim(SimulationConfig{});
    int boots = 0;
    int after = 0;
    const HostId node = sim.add_host("node", [&](Runtime& rt) {
        ++boots;
        rt.sleep(1_s);
        (void)rt.fail_point("batch-write-before");
        ++after;
    });
    const HostId other = sim.add_host("other", [&](Runtime& rt) {
        rt.sleep(1_s);
        (void)rt.fail_point("batch-write-before");  // filtered out: not this host
        rt.sleep(Duration::forever() / 2);
    });
    auto result = sim.run([&](Runtime& rt) {
        sim.fail_points().arm("batch-write-before",
                              FailPointAction::crash(3_s).only_on(node).once());
        sim.start(node);
        sim.start(other);
        rt.sleep(2_s);
        CHECK_FALSE(sim.is_alive(node));
        CHECK(sim.is_alive(other));
        rt.sleep(10_s);
        // The second incarnation's main fiber returned; the host stays up (it could still serve).
        CHECK(sim.is_alive(node));
    });
    CHECK(result.passed());
    CHECK(boots == 2);
    CHECK(after == 1);  // only the second incarnation got past the point
}

TEST_CASE("fail points: crash with restart_after = forever kills for good") {
    Simulation sim(SimulationConfig{});
    int boots = 0;
    const HostId node = sim.add_host("node", [&](Runtime& rt) {
        ++boots;
        (void)rt.fail_point("die");
    });
    auto result = sim.run([&](Runtime& rt) {
        sim.fail_points().arm("die", FailPointAction::crash(Duration::forever()));
        sim.start(node);
        rt.sleep(1'000_s);
    });
    CHECK(result.passed());
    CHECK(boots == 1);
}

TEST_CASE("fail points: sleep, hold until released, hold until a predicate holds") {
    Simulation sim(SimulationConfig{});
    auto result = sim.run([&](Runtime& rt) {
        FailPoints& points = sim.fail_points();
        points.arm("slow", FailPointAction::sleep(5_s));
        Instant start = rt.now();
        CHECK(rt.fail_point_async("slow") == FailPointOutcome::proceed);
        CHECK(rt.now() - start == 5_s);

        points.arm("gate", FailPointAction::hold());
        auto a = rt.spawn("held-a", [&] {
            (void)rt.fail_point_async("gate");
            return rt.now();
        });
        auto b = rt.spawn("held-b", [&] {
            (void)rt.fail_point_async("gate");
            return rt.now();
        });
        rt.sleep(2_s);
        CHECK(points.held("gate") == 2);
        CHECK_FALSE(a.is_finished());
        points.release("gate");
        const Instant released = rt.now();
        CHECK(a.join().value() == released);
        CHECK(b.join().value() == released);
        CHECK(points.held("gate") == 0);

        bool open = false;
        points.arm("until", FailPointAction::hold_until([&] { return open; }, 100_ms));
        auto c = rt.spawn("held-c", [&] {
            (void)rt.fail_point_async("until");
            return rt.now();
        });
        rt.sleep(1_s);
        open = true;
        const Instant opened = rt.now();
        const Instant passed = c.join().value();
        CHECK(passed >= opened);
        CHECK(passed - opened <= 100_ms);
    });
    CHECK(result.passed());
}

TEST_CASE("fail points: disarm releases held fibers") {
    Simulation sim(SimulationConfig{});
    auto result = sim.run([&](Runtime& rt) {
        sim.fail_points().arm("gate", FailPointAction::hold());
        auto held = rt.spawn("held", [&] { (void)rt.fail_point_async("gate"); });
        rt.sleep(1_s);
        sim.fail_points().disarm("gate");
        CHECK(held.join(1_s).ok());
    });
    CHECK(result.passed());
}

TEST_CASE("fail points: a killed host's held fiber unwinds cleanly") {
    Simulation sim(SimulationConfig{});
    const HostId node =
        sim.add_host("node", [](Runtime& rt) { (void)rt.fail_point_async("gate"); });
    auto result = sim.run([&](Runtime& rt) {
        sim.fail_points().arm("gate", FailPointAction::hold());
        sim.start(node);
        rt.sleep(1_s);
        CHECK(sim.fail_points().held("gate") == 1);
        sim.kill(node);
        rt.sleep(1_ms);
        CHECK(sim.fail_points().held("gate") == 0);
    });
    CHECK(result.passed());
}

TEST_CASE("fail points: probability is seeded and only drawn where armed") {
    auto fires_for = [](uint64_t seed) {
        SimulationConfig config;
        config.seed = seed;
        Simulation sim(config);
        std::vector<int> fired;
        auto result = sim.run([&](Runtime& rt) {
            sim.fail_points().arm("flaky", FailPointAction::inject_error().with_probability(0.3));
            for (int i = 0; i < 200; ++i) {
                (void)rt.fail_point("never-armed");
                if (rt.fail_point("flaky") == FailPointOutcome::inject_error) {
                    fired.push_back(i);
                }
            }
        });
        REQUIRE(result.passed());
        return fired;
    };
    const auto first = fires_for(8);
    CHECK(first == fires_for(8));
    CHECK(first != fires_for(9));
    CHECK(first.size() > 40);
    CHECK(first.size() < 80);
}

TEST_CASE("fail points: armed names never hit are reported") {
    Simulation sim(SimulationConfig{});
    auto result = sim.run([&](Runtime& rt) {
        sim.fail_points().arm("reached", FailPointAction::call([] {}));
        sim.fail_points().arm("unreached", FailPointAction::call([] {}));
        (void)rt.fail_point("reached");
    });
    CHECK(result.passed());
    CHECK(sim.fail_points().armed_never_hit() == std::vector<std::string>{"unreached"});
}

TEST_CASE("fail points: a condition picks the hits that fire; rejected hits are not fires") {
    Simulation sim(SimulationConfig{});
    std::vector<int> injected;
    auto result = sim.run([&](Runtime& rt) {
        int hit = 0;
        // Every third hit, at most twice: the bound counts fires, not the rejected hits.
        sim.fail_points().arm(
            "picky",
            FailPointAction::inject_error().only_when([&] { return ++hit % 3 == 0; }).at_most(2));
        for (int i = 1; i <= 12; ++i) {
            if (rt.fail_point("picky") == FailPointOutcome::inject_error) {
                injected.push_back(i);
            }
        }
        CHECK(hit == 6);  // not asked again once the bound is spent
    });
    CHECK(result.passed());
    CHECK(injected == std::vector<int>{3, 6});
    CHECK(sim.fail_points().hits("picky") == 12);
    CHECK(sim.fail_points().fires("picky") == 2);
}

TEST_CASE("fail points: arg sites get an arg action's values, an error's none, others nothing") {
    Simulation sim(SimulationConfig{});
    auto result = sim.run([&](Runtime& rt) {
        CHECK_FALSE(rt.fail_point_arg("fetch").has_value());  // unarmed
        sim.fail_points().arm("fetch", FailPointAction::arg({0, 7, 1}).once());
        const auto args = rt.fail_point_arg("fetch");
        REQUIRE(args.has_value());
        CHECK(*args == FailPointArgs{0, 7, 1});
        CHECK_FALSE(rt.fail_point_arg("fetch").has_value());  // fired once
        sim.fail_points().arm("fetch", FailPointAction::inject_error().once());
        const auto plain = rt.fail_point_arg("fetch");
        REQUIRE(plain.has_value());
        CHECK(plain->empty());
        int calls = 0;
        sim.fail_points().arm("fetch", FailPointAction::call([&] { ++calls; }));
        CHECK_FALSE(rt.fail_point_arg("fetch").has_value());
        CHECK(calls == 1);
    });
    CHECK(result.passed());
    CHECK(sim.fail_points().fires("fetch") == 3);
}

TEST_CASE("probes: counted per host, SOMETIMES only when its condition held, never in the hash") {
    auto run = [](bool with_probes) {
        SimulationConfig config;
        config.seed = 7;
        Simulation sim(config);
        const HostId node = sim.add_host("node", [with_probes](Runtime& rt) {
            for (int i = 0; i < 4; ++i) {
                if (with_probes) {
                    rt.probe("reached", true);
                    rt.probe("even", i % 2 == 0);
                    rt.probe("never", false);
                }
                rt.sleep(Duration::millis(1 + rt.rng("work").below(5)));
            }
        });
        auto result = sim.run([&](Runtime& rt) {
            sim.start(node);
            rt.sleep(1_s);
        });
        CHECK(result.passed());
        if (with_probes) {
            const auto& probes = sim.fail_points().probe_stats();
            CHECK(probes.at("reached").hits == 4);
            CHECK(probes.at("even").evaluated == 4);
            CHECK(probes.at("even").hits == 2);
            CHECK(probes.at("never").evaluated == 4);
            CHECK(probes.at("never").hits == 0);
            // hits() answers for probes too, per host (Scenario::counter reads probes this way).
            CHECK(sim.fail_points().hits("even", node) == 2);
            CHECK(sim.fail_points().hits("even", world_host) == 0);
            CHECK(sim.fail_points().stats().empty());  // probes are not fail points
        }
        return result.trace_hash;
    };
    CHECK(run(true) == run(false));
}

TEST_CASE("fail points: a background action acts only where no scenario action is armed") {
    Simulation sim(SimulationConfig{});
    int background_calls = 0;
    int armed_calls = 0;
    auto result = sim.run([&](Runtime& rt) {
        FailPoints& points = sim.fail_points();
        points.set_background("site", FailPointAction::call([&] { ++background_calls; }));
        (void)rt.fail_point("site");
        // A scenario's arm takes precedence, and its disarm leaves the background action.
        points.arm("site", FailPointAction::call([&] { ++armed_calls; }));
        (void)rt.fail_point("site");
        points.disarm("site");
        (void)rt.fail_point("site");
        points.disarm_all();
        (void)rt.fail_point("site");
        points.clear_background();
        CHECK_FALSE(points.has_background());
        (void)rt.fail_point("site");
    });
    CHECK(result.passed());
    CHECK(background_calls == 3);
    CHECK(armed_calls == 1);
    CHECK(sim.fail_points().fires("site") == 4);
    CHECK(sim.fail_points().stats().at("site").background_fires == 3);
}

TEST_CASE("fail points: background draws leave the scenario's fail-point stream as it was") {
    // The same armed point with p = 0.5, with and without a background point drawing in
    // between: the armed point fires at the same hits, because the background point draws from
    // its own stream ("buggify-fire").
    auto fires_of_armed = [](bool with_background) {
        Simulation sim(SimulationConfig{});
        std::vector<int> fired;
        auto result = sim.run([&](Runtime& rt) {
            sim.fail_points().arm("armed", FailPointAction::call([] {}).with_probability(0.5));
            if (with_background) {
                sim.fail_points().set_background(
                    "other", FailPointAction::call([] {}).with_probability(0.5));
            }
            for (int i = 0; i < 64; ++i) {
                const uint64_t before = sim.fail_points().fires("armed");
                (void)rt.fail_point("armed");
                (void)rt.fail_point("other");
                if (sim.fail_points().fires("armed") > before) {
                    fired.push_back(i);
                }
            }
        });
        CHECK(result.passed());
        return fired;
    };
    const std::vector<int> alone = fires_of_armed(false);
    CHECK(alone.size() > 10);
    CHECK(alone == fires_of_armed(true));
}
