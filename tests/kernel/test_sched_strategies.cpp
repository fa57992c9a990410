// Schedule strategies for same-instant events (sim/sched_strategy.h): parsing, PCT's priority
// order, a planted depth-2 ordering bug that PCT finds in fewer seeds than the uniform shuffle,
// starvation of one host, and reproducible hashes per (seed, strategy).
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "sim/simulation.h"

using namespace sim;
using namespace sim::time_literals;

namespace {

SchedStrategy parse(const std::string& text) {
    std::string error;
    const auto strategy = parse_sched_strategy(text, error);
    REQUIRE_MESSAGE(strategy.has_value(), text, ": ", error);
    return *strategy;
}

SimulationConfig config_for(uint64_t seed, const std::string& sched) {
    SimulationConfig config;
    config.seed = seed;
    config.sched = parse(sched);
    return config;
}

// `count` fibers named a, b, c ... wake at one instant; each logs its name, yields, and logs it
// again.
std::string two_step_order(uint64_t seed, const std::string& sched, int count) {
    Simulation sim(config_for(seed, sched));
    std::string order;
    auto result = sim.run([&](Runtime& rt) {
        std::vector<JoinHandle<Unit>> tasks;
        for (int i = 0; i < count; ++i) {
            const char name = static_cast<char>('a' + i);
            tasks.push_back(rt.spawn(std::string(1, name), [&order, &rt, name] {
                rt.sleep(5_ms);
                order.push_back(name);
                rt.yield();
                order.push_back(name);
            }));
        }
        for (auto& task : tasks) {
            REQUIRE(task.join().ok());
        }
    });
    REQUIRE(result.passed());
    return order;
}

bool grouped_in_pairs(const std::string& order) {
    for (size_t i = 0; i + 1 < order.size(); i += 2) {
        if (order[i] != order[i + 1]) {
            return false;
        }
    }
    return true;
}

// The planted bug: fibers A and B wake at one instant and take `steps` steps each (a yield
// between steps). It shows only when all of B's steps run after A's first step and before A's
// second: A must be preempted at one precise point and stay preempted while B runs `steps`
// times. The uniform shuffle does that with probability 2^-(steps+1); PCT with depth 2 when A
// outranks B and the change point falls on A's second step: 1/2 * 1/K.
bool planted_bug_shows(uint64_t seed, const std::string& sched, int steps) {
    Simulation sim(config_for(seed, sched));
    std::string log;
    auto result = sim.run([&](Runtime& rt) {
        auto worker = [&](char name) {
            return [&log, &rt, name, steps] {
                rt.sleep(1_ms);
                for (int i = 0; i < steps; ++i) {
                    log.push_back(name);
                    rt.yield();
                }
            };
        };
        auto a = rt.spawn("A", worker('A'));
        auto b = rt.spawn("B", worker('B'));
        REQUIRE(a.join().ok());
        REQUIRE(b.join().ok());
    });
    REQUIRE(result.passed());
    return log.starts_with("A" + std::string(static_cast<size_t>(steps), 'B') + "A");
}

struct Search {
    uint64_t first = 0;  // the first seed that shows the bug (0: none)
    uint64_t found = 0;  // seeds that show it
};

Search search(const std::string& sched, uint64_t seeds, int steps) {
    Search out;
    for (uint64_t seed = 1; seed <= seeds; ++seed) {
        if (planted_bug_shows(seed, sched, steps)) {
            out.first = out.first == 0 ? seed : out.first;
            ++out.found;
        }
    }
    return out;
}

// Three hosts, three fibers each, all woken at 10 ms; each logs its host's digit twice (a yield
// in between). Returns the log of that instant.
std::string three_hosts_order(uint64_t seed, const std::string& sched) {
    Simulation sim(config_for(seed, sched));
    std::string order;
    std::vector<HostId> hosts;
    for (int h = 1; h <= 3; ++h) {
        const char digit = static_cast<char>('0' + h);
        hosts.push_back(sim.add_host("h" + std::to_string(h), [&order, digit](Runtime& rt) {
            std::vector<JoinHandle<Unit>> tasks;
            for (int f = 0; f < 3; ++f) {
                tasks.push_back(rt.spawn("f", [&order, &rt, digit] {
                    rt.sleep_until(Instant::zero() + 10_ms);
                    order.push_back(digit);
                    rt.yield();
                    order.push_back(digit);
                }));
            }
            for (auto& task : tasks) {
                (void)task.join();
            }
        }));
    }
    auto result = sim.run([&](Runtime& rt) {
        for (HostId host : hosts) {
            sim.start(host);
        }
        rt.sleep(1_s);
    });
    REQUIRE(result.passed());
    return order;
}

// Hosts that call each other on a 1 ms grid (replies and requests meet at the same instants).
RunResult chatty_world(uint64_t seed, const std::string& sched) {
    Simulation sim(config_for(seed, sched));
    std::vector<HostId> hosts;
    for (int h = 0; h < 4; ++h) {
        hosts.push_back(sim.add_host("n" + std::to_string(h), [&hosts](Runtime& rt) {
            rt.serve<int, int>("inc", [](HostId, int x) { return x + 1; });
            int value = 0;
            for (int tick = 1; tick <= 50; ++tick) {
                rt.sleep_until(Instant::zero() + Duration::millis(tick));
                auto reply = rt.call<int>(rt.rng("peer").choose(hosts), "inc", value, 5_ms);
                value = reply.ok() ? reply.value() : value;
            }
        }));
    }
    return sim.run([&](Runtime& rt) {
        for (HostId host : hosts) {
            sim.start(host);
        }
        rt.sleep(1_s);
    });
}

}  // namespace

TEST_CASE("sched: strategies parse, print back, and reject bad values in one line") {
    for (const std::string text : {"random", "pct:1", "pct:3", "pct:3:500", "pct:1000:999",
                                   "starve", "starve:0.5", "starve:1", "starve:1e-06"}) {
        CHECK(sched_strategy_name(parse(text)) == text);
    }
    CHECK(sched_strategy_name(parse("pct:3:30000")) == "pct:3");
    CHECK(sched_strategy_name(parse("starve:0.2")) == "starve");
    CHECK(parse("pct:4:77").pct_depth == 4);
    CHECK(parse("pct:4:77").pct_horizon == 77);
    CHECK(parse("starve:0.25").starve_p == 0.25);
    CHECK(parse("random").is_random());
    for (const std::string text :
         {"",           "foo",        "random:1", "pct",      "pct:",       "pct:0",
          "pct:x",      "pct:-1",     "pct:1001", "pct:3:",   "pct:3:0",    "pct:5:3",
          "pct:3:x",    "pct:3:4:5",  "starve:",  "starve:0", "starve:1.5", "starve:-0.5",
          "starve:nan", "starve:inf", "starve:x"}) {
        std::string error;
        CHECK_MESSAGE(!parse_sched_strategy(text, error).has_value(), text);
        CHECK_MESSAGE(!error.empty(), text);
        CHECK(error.find('\n') == std::string::npos);
    }
}

TEST_CASE("sched: pct with depth 1 runs fibers strictly by priority, a permutation per seed") {
    // Depth 1 has no change point: the fiber of highest priority runs every step it has before
    // any other runs, so each fiber's two steps are adjacent.
    std::set<std::string> permutations;
    for (uint64_t seed = 1; seed <= 10; ++seed) {
        const std::string order = two_step_order(seed, "pct:1", 8);
        CHECK(order.size() == 16);
        CHECK_MESSAGE(grouped_in_pairs(order), order);
        CHECK(order == two_step_order(seed, "pct:1", 8));
        permutations.insert(order);
    }
    CHECK(permutations.size() >= 8);  // 8! orders: ten seeds all but never collide
    // The uniform shuffle interleaves the steps (this is what the pairs check could catch).
    int grouped = 0;
    for (uint64_t seed = 1; seed <= 10; ++seed) {
        grouped += grouped_in_pairs(two_step_order(seed, "random", 8)) ? 1 : 0;
    }
    CHECK(grouped == 0);
}

TEST_CASE("sched: pct finds a planted depth-2 ordering bug in fewer seeds than uniform") {
    constexpr int steps = 8;
    constexpr uint64_t seeds = 1500;
    const Search pct = search("pct:2:20", seeds, steps);
    const Search uniform = search("random", seeds, steps);
    MESSAGE("planted bug over seeds 1.."
            << seeds << ": pct:2:20 first at seed " << pct.first << ", found on " << pct.found
            << " seeds; random first at seed " << uniform.first << ", found on " << uniform.found
            << " seeds");
    // Expected: pct about 1/2 * 1/20 = 1/40 of seeds (about 37), uniform about 2^-9 (about 3).
    REQUIRE(pct.first != 0);
    CHECK(pct.found >= 20);
    CHECK(pct.found >= 5 * uniform.found);
    CHECK((uniform.first == 0 || pct.first < uniform.first));
    // Depth 1 cannot preempt A after its first step: it never shows the bug.
    CHECK(search("pct:1", 200, steps).found == 0);
}

TEST_CASE("sched: starve runs a victim host's entries after every other host's at an instant") {
    std::set<char> victims;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        // P tiny: the victim chosen at the first choice point stays starved for the whole run.
        const std::string order = three_hosts_order(seed, "starve:1e-09");
        REQUIRE(order.size() == 18);
        const char victim = order.back();
        CHECK_MESSAGE(order.substr(12) == std::string(6, victim), order);
        CHECK(order.substr(0, 12).find(victim) == std::string::npos);
        CHECK(order == three_hosts_order(seed, "starve:1e-09"));
        victims.insert(victim);
    }
    CHECK(victims.size() == 3);
    // Without starvation some host's entry is interleaved before the end.
    int last_six_one_host = 0;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        const std::string order = three_hosts_order(seed, "random");
        last_six_one_host += order.substr(12) == std::string(6, order.back()) ? 1 : 0;
    }
    CHECK(last_six_one_host < 3);
}

TEST_CASE("sched: same seed and strategy give the same hash; another strategy another hash") {
    const std::vector<std::string> strategies = {"random",   "pct:1",  "pct:3",
                                                 "pct:3:50", "starve", "starve:0.9"};
    std::set<uint64_t> hashes;
    for (const std::string& sched : strategies) {
        const RunResult first = chatty_world(7, sched);
        const RunResult second = chatty_world(7, sched);
        REQUIRE(first.passed());
        CHECK(first.choice_points > 20);
        CHECK_MESSAGE(first.trace_hash == second.trace_hash, sched);
        CHECK(first.steps == second.steps);
        CHECK(first.choice_points == second.choice_points);
        CHECK(chatty_world(8, sched).trace_hash != first.trace_hash);
        hashes.insert(first.trace_hash);
    }
    CHECK(hashes.size() == strategies.size());
}
