// Network: RPC with timeouts, latency models, loss, one-way clogs and partitions, crashed
// servers as values, deterministic delivery.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/simulation.h"

using namespace sim;
using namespace sim::time_literals;

namespace {

struct Echo {
    std::string text;
};

SimulationConfig constant_latency(Duration latency) {
    SimulationConfig config;
    config.seed = 21;
    config.network.default_link.latency = LatencyModel::constant(latency);
    return config;
}

HostId add_echo_server(Simulation& sim, const std::string& name, Duration work = Duration::zero()) {
    return sim.add_host(name, [work](Runtime& rt) {
        rt.serve<Echo, std::string>("echo", [&rt, work](HostId, Echo request) {
            if (work > Duration::zero()) {
                rt.sleep(work);
            }
            return rt.host_name() + ":" + request.text;
        });
        rt.sleep(Duration::forever() / 2);
    });
}

}  // namespace

TEST_CASE("network: an RPC takes two link latencies and returns the typed response") {
    Simulation sim(constant_latency(3_ms));
    const HostId server = add_echo_server(sim, "server");
    auto result = sim.run([&](Runtime& rt) {
        sim.start(server);
        rt.sleep(1_ms);
        const Instant start = rt.now();
        auto reply = rt.call<std::string>(server, "echo", Echo{"hi"}, 1_s);
        REQUIRE(reply.ok());
        CHECK(reply.value() == "server:hi");
        CHECK(rt.now() - start == 6_ms);
        CHECK(rt.call<std::string>(server, "nope", Echo{"x"}, 1_s).error() == RpcError::no_handler);
    });
    CHECK(result.passed());
    CHECK(sim.net().stats().delivered == 4);
}

TEST_CASE("network: a call to a crashed host fails as unreachable after the connect timeout") {
    SimulationConfig config = constant_latency(2_ms);
    config.network.connect_timeout = 500_ms;
    Simulation sim(config);
    const HostId server = add_echo_server(sim, "server");
    auto result = sim.run([&](Runtime& rt) {
        const Instant start = rt.now();
        auto reply = rt.call<std::string>(server, "echo", Echo{"x"}, 10_s);
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error() == RpcError::unreachable);
        CHECK(rt.now() - start == 500_ms);
        // A caller's own deadline wins when shorter than the connect timeout.
        CHECK(rt.call<std::string>(server, "echo", Echo{"x"}, 100_ms).error() == RpcError::timeout);
    });
    CHECK(result.passed());
}

TEST_CASE("network: a server killed mid-call leaves the caller with a timeout") {
    Simulation sim(constant_latency(1_ms));
    const HostId server = add_echo_server(sim, "server", 5_s);
    auto result = sim.run([&](Runtime& rt) {
        sim.start(server);
        auto call = rt.spawn(
            "caller", [&] { return rt.call<std::string>(server, "echo", Echo{"x"}, 2_s).error(); });
        rt.sleep(1_s);
        sim.restart(server, 10_ms);  // comes back, but the call's handler died with it
        CHECK(call.join().value() == RpcError::timeout);
        // The restarted server registered its handler again.
        auto again = rt.call<std::string>(server, "echo", Echo{"y"}, 10_s);
        CHECK(again.value() == "server:y");
    });
    CHECK(result.passed());
}

TEST_CASE("network: one-way clogs, partitions and healing") {
    Simulation sim(constant_latency(1_ms));
    const HostId a = add_echo_server(sim, "a");
    const HostId b = add_echo_server(sim, "b");
    auto result = sim.run([&](Runtime& rt) {
        sim.start(a);
        sim.start(b);
        rt.sleep(1_ms);
        CHECK(rt.call<std::string>(a, "echo", Echo{"1"}, 1_s).ok());

        sim.net().clog_in(a);  // requests cannot reach a
        CHECK(rt.call<std::string>(a, "echo", Echo{"2"}, 1_s).error() == RpcError::timeout);
        CHECK(rt.call<std::string>(b, "echo", Echo{"2"}, 1_s).ok());
        sim.net().unclog_in(a);

        sim.net().clog_link(a, world_host);  // a's answers cannot reach the world
        CHECK(rt.call<std::string>(a, "echo", Echo{"3"}, 1_s).error() == RpcError::timeout);
        CHECK(sim.net().can_deliver(world_host, a));
        CHECK_FALSE(sim.net().can_deliver(a, world_host));
        sim.net().heal_all();

        sim.net().partition({world_host}, {a, b});
        CHECK(rt.call<std::string>(b, "echo", Echo{"4"}, 1_s).error() == RpcError::timeout);
        sim.net().heal_all();
        CHECK(rt.call<std::string>(b, "echo", Echo{"5"}, 1_s).ok());

        sim.net().clog_out(world_host);
        CHECK(rt.call<std::string>(b, "echo", Echo{"6"}, 1_s).error() == RpcError::timeout);
        sim.net().unclog_out(world_host);
    });
    CHECK(result.passed());
    CHECK(sim.net().stats().dropped == 4);
}

TEST_CASE("network: loss drops about the configured share of messages") {
    SimulationConfig config = constant_latency(1_ms);
    config.network.default_link.loss = 0.25;
    Simulation sim(config);
    const HostId server = add_echo_server(sim, "server");
    int ok = 0;
    auto result = sim.run([&](Runtime& rt) {
        sim.start(server);
        rt.sleep(1_ms);
        for (int i = 0; i < 1000; ++i) {
            ok += rt.call<std::string>(server, "echo", Echo{"x"}, 100_ms).ok() ? 1 : 0;
        }
    });
    CHECK(result.passed());
    // Both the request and the response must survive: 0.75^2 = 56%.
    CHECK(ok > 500);
    CHECK(ok < 620);
}

TEST_CASE("network: latency distributions stay in their bounds; long tails add delay") {
    Rng rng(1, "latency");
    const auto uniform = LatencyModel::uniform(2_ms, 4_ms);
    const auto tail = LatencyModel::long_tail(1_ms, 2_ms, 0.1, 100_ms);
    Duration tail_max = Duration::zero();
    int slow = 0;
    for (int i = 0; i < 5000; ++i) {
        const Duration u = uniform.sample(rng);
        REQUIRE(u >= 2_ms);
        REQUIRE(u <= 4_ms);
        const Duration t = tail.sample(rng);
        REQUIRE(t >= 1_ms);
        slow += t > 2_ms ? 1 : 0;
        tail_max = std::max(tail_max, t);
    }
    CHECK(LatencyModel::constant(7_ms).sample(rng) == 7_ms);
    CHECK(slow > 350);
    CHECK(slow < 650);
    CHECK(tail_max > 100_ms);
}

TEST_CASE("network: per-link latency overrides the default, one direction only") {
    Simulation sim(constant_latency(1_ms));
    const HostId server = add_echo_server(sim, "server");
    auto result = sim.run([&](Runtime& rt) {
        sim.start(server);
        rt.sleep(1_ms);
        sim.net().set_link(world_host, server, LinkConfig{LatencyModel::constant(50_ms), 0.0});
        const Instant start = rt.now();
        REQUIRE(rt.call<std::string>(server, "echo", Echo{"x"}, 1_s).ok());
        CHECK(rt.now() - start == 51_ms);
    });
    CHECK(result.passed());
}

TEST_CASE("network: concurrent calls are delivered in a deterministic order") {
    auto replies_for = [](uint64_t seed) {
        SimulationConfig config;
        config.seed = seed;
        Simulation sim(config);
        std::vector<std::string> arrivals;
        const HostId server = sim.add_host("server", [&](Runtime& rt) {
            rt.serve<int, int>("tag", [&arrivals](HostId from, int x) {
                arrivals.push_back(std::to_string(from) + "/" + std::to_string(x));
                return x;
            });
            rt.sleep(Duration::forever() / 2);
        });
        auto result = sim.run([&](Runtime& rt) {
            sim.start(server);
            rt.sleep(1_ms);
            std::vector<JoinHandle<Unit>> calls;
            for (int i = 0; i < 20; ++i) {
                calls.push_back(rt.spawn(
                    "c", [&rt, server, i] { REQUIRE(rt.call<int>(server, "tag", i, 1_s).ok()); }));
            }
            for (auto& call : calls) {
                (void)call.join();
            }
        });
        REQUIRE(result.passed());
        return arrivals;
    };
    CHECK(replies_for(5) == replies_for(5));
    CHECK(replies_for(5) != replies_for(6));
}
