// Scheduler rules: (time, sequence) order, the same-instant shuffle, virtual time jumps, tasks,
// aborts with RAII, deadlock and spin reports, hard limits.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "../death_test.h"
#include "sim/context.h"
#include "sim/simulation.h"

using namespace sim;
using namespace sim::time_literals;

namespace {
SimulationConfig fifo_config(uint64_t seed = 1) {
    SimulationConfig config;
    config.seed = seed;
    config.shuffle_same_instant = false;
    return config;
}
}  // namespace

TEST_CASE("scheduler: events run in (time, sequence) order and time jumps") {
    Simulation sim(fifo_config());
    std::vector<std::string> log;
    auto result = sim.run([&](Runtime& rt) {
        auto a = rt.spawn("a", [&] {
            rt.sleep(30_ms);
            log.push_back("a@" + rt.now().to_string());
        });
        auto b = rt.spawn("b", [&] {
            rt.sleep(10_ms);
            log.push_back("b@" + rt.now().to_string());
        });
        auto c = rt.spawn("c", [&] {
            rt.sleep(10_ms);
            log.push_back("c@" + rt.now().to_string());
        });
        REQUIRE(a.join().ok());
        REQUIRE(b.join().ok());
        REQUIRE(c.join().ok());
    });
    CHECK(result.passed());
    CHECK(log == std::vector<std::string>{"b@0.010000000s", "c@0.010000000s", "a@0.030000000s"});
    CHECK(result.end_time == Instant::zero() + 30_ms);
}

TEST_CASE("scheduler: same-instant shuffle reorders ties, reproducibly per seed") {
    auto order_for = [](uint64_t seed, bool shuffle) {
        SimulationConfig config;
        config.seed = seed;
        config.shuffle_same_instant = shuffle;
        Simulation sim(config);
        std::string order;
        auto result = sim.run([&](Runtime& rt) {
            std::vector<JoinHandle<Unit>> tasks;
            for (char name = 'a'; name <= 'h'; ++name) {
                tasks.push_back(rt.spawn(std::string(1, name), [&order, &rt, name] {
                    rt.sleep(5_ms);
                    order.push_back(name);
                }));
            }
            for (auto& task : tasks) {
                REQUIRE(task.join().ok());
            }
        });
        REQUIRE(result.passed());
        return order;
    };
    CHECK(order_for(1, false) == "abcdefgh");
    CHECK(order_for(2, false) == "abcdefgh");
    const std::string shuffled = order_for(1, true);
    CHECK(shuffled == order_for(1, true));
    bool some_seed_reorders = false;
    for (uint64_t seed = 1; seed <= 5; ++seed) {
        some_seed_reorders = some_seed_reorders || order_for(seed, true) != "abcdefgh";
    }
    CHECK(some_seed_reorders);
}

TEST_CASE("scheduler: join returns the task's value; timeouts are values") {
    Simulation sim(fifo_config());
    auto result = sim.run([&](Runtime& rt) {
        auto task = rt.spawn("compute", [&] {
            rt.sleep(2_s);
            return 42;
        });
        auto early = task.join(1_s);
        REQUIRE_FALSE(early.ok());
        CHECK(early.error() == JoinError::timeout);
        CHECK(rt.now() == Instant::zero() + 1_s);
        auto late = task.join();
        REQUIRE(late.ok());
        CHECK(late.value() == 42);
        CHECK(rt.now() == Instant::zero() + 2_s);
    });
    CHECK(result.passed());
}

TEST_CASE("scheduler: abort unwinds at the next suspension and runs RAII; no code after") {
    Simulation sim(fifo_config());
    int destructors = 0;
    bool ran_past_sleep = false;
    struct Guard {
        int& count;
        ~Guard() { ++count; }
    };
    auto result = sim.run([&](Runtime& rt) {
        auto task = rt.spawn("victim", [&] {
            Guard outer{destructors};
            {
                Guard inner{destructors};
                rt.sleep(10_s);
                ran_past_sleep = true;
            }
        });
        rt.sleep(1_s);
        task.abort();
        auto joined = task.join();
        REQUIRE_FALSE(joined.ok());
        CHECK(joined.error() == JoinError::aborted);
        CHECK(task.was_aborted());
        CHECK(rt.now() == Instant::zero() + 1_s);  // the abort did not wait for the sleep
    });
    CHECK(result.passed());
    CHECK(destructors == 2);
    CHECK_FALSE(ran_past_sleep);
}

TEST_CASE("scheduler: a task that aborts itself unwinds at once") {
    Simulation sim(fifo_config());
    bool after = false;
    auto result = sim.run([&](Runtime& rt) {
        JoinHandle<Unit> self;
        Event ready("handle-ready");
        self = rt.spawn("self-abort", [&] {
            ready.wait();
            self.abort();
            after = true;
        });
        ready.set();
        CHECK(self.join().error() == JoinError::aborted);
    });
    CHECK(result.passed());
    CHECK_FALSE(after);
}

TEST_CASE("scheduler: aborting a task that never started drops it without running it") {
    Simulation sim(fifo_config());
    bool ran = false;
    auto result = sim.run([&](Runtime& rt) {
        auto task = rt.spawn("never", [&] { ran = true; });
        task.abort();
        CHECK(task.join().error() == JoinError::aborted);
    });
    CHECK(result.passed());
    CHECK_FALSE(ran);
}

TEST_CASE("scheduler: deadlock is reported with every blocked fiber, host and primitive") {
    Simulation sim(fifo_config());
    Mutex lock_a("lock-a");
    Notify never("never-notified");
    const HostId node = sim.add_host("node-7", [&](Runtime& rt) {
        rt.spawn("stuck-on-notify", [&] { (void)never.wait(); });
        (void)never.wait();
    });
    auto result = sim.run([&](Runtime& rt) {
        sim.start(node);
        auto held = lock_a.lock();
        auto t = rt.spawn("second-locker", [&] { auto g = lock_a.lock(); });
        (void)t.join();
    });
    CHECK(result.failure == FailureClass::deadlock);
    CHECK(result.message.find("deadlock") != std::string::npos);
    CHECK(result.message.find("'second-locker' on host world waits on mutex 'lock-a'") !=
          std::string::npos);
    CHECK(result.message.find("'driver' on host world waits on join 'second-locker'") !=
          std::string::npos);
    CHECK(
        result.message.find("'stuck-on-notify' on host node-7 waits on notify 'never-notified'") !=
        std::string::npos);
    CHECK(result.message.find("'main' on host node-7 waits on notify 'never-notified'") !=
          std::string::npos);
}

TEST_CASE("scheduler: a fiber that never lets time advance is reported as a spin") {
    SimulationConfig config = fifo_config();
    config.spin_limit = 1000;
    Simulation sim(config);
    auto result = sim.run([&](Runtime& rt) {
        auto spinner = rt.spawn("busy-loop", [&] {
            while (true) {
                rt.yield();
            }
        });
        (void)spinner.join();
    });
    CHECK(result.failure == FailureClass::liveness);
    CHECK(result.message.find("spin: fiber") != std::string::npos);
    CHECK(result.message.find("'busy-loop'") != std::string::npos);
}

TEST_CASE("scheduler: hard limits on virtual time and steps end the run as liveness") {
    SUBCASE("time limit") {
        SimulationConfig config = fifo_config();
        config.time_limit = Instant::zero() + 10_s;
        Simulation sim(config);
        auto result = sim.run([&](Runtime& rt) {
            while (true) {
                rt.sleep(1_s);
            }
        });
        CHECK(result.failure == FailureClass::liveness);
        CHECK(result.message.find("virtual time limit") != std::string::npos);
        CHECK(result.end_time <= Instant::zero() + 10_s);
    }
    SUBCASE("step limit") {
        SimulationConfig config = fifo_config();
        config.max_steps = 500;
        Simulation sim(config);
        auto result = sim.run([&](Runtime& rt) {
            while (true) {
                rt.sleep(1_ms);
            }
        });
        CHECK(result.failure == FailureClass::liveness);
        CHECK(result.message.find("step limit") != std::string::npos);
        CHECK(result.steps == 501);
    }
}

TEST_CASE("scheduler: run_for without a driver stops at the requested time") {
    Simulation sim(fifo_config());
    int ticks = 0;
    const HostId node = sim.add_host("ticker", [&](Runtime& rt) {
        while (true) {
            rt.sleep(100_ms);
            ++ticks;
        }
    });
    sim.start(node);
    auto result = sim.run_for(1_s);
    CHECK(result.passed());
    CHECK(ticks == 10);
    CHECK(result.end_time == Instant::zero() + 1_s);
    result = sim.run_for(1_s);
    CHECK(ticks == 20);
}

TEST_CASE("scheduler: an invariant failure stops the run with its class and message") {
    Simulation sim(fifo_config());
    bool after = false;
    auto result = sim.run([&](Runtime& rt) {
        rt.sleep(3_s);
        sim.fail(FailureClass::invariant, "shard 3 owned by two nodes");
        after = true;
    });
    CHECK(result.failure == FailureClass::invariant);
    CHECK(result.message == "shard 3 owned by two nodes");
    CHECK(result.end_time == Instant::zero() + 3_s);
    CHECK_FALSE(after);
}

TEST_CASE("scheduler: many fibers with pooled stacks") {
    SimulationConfig config = fifo_config();
    config.stack_size = 32 * 1024;
    Simulation sim(config);
    uint64_t total = 0;
    auto result = sim.run([&](Runtime& rt) {
        for (int round = 0; round < 3; ++round) {
            std::vector<JoinHandle<int>> tasks;
            for (int i = 0; i < 2000; ++i) {
                tasks.push_back(rt.spawn("worker", [&rt, i] {
                    rt.sleep(Duration::micros(i % 17));
                    return i;
                }));
            }
            for (auto& task : tasks) {
                total += static_cast<uint64_t>(task.join().value());
            }
        }
    });
    CHECK(result.passed());
    CHECK(total == 3ULL * (1999ULL * 2000ULL / 2));
    CHECK(sim.scheduler().live_fibers() == 0);
}

namespace {
size_t mapping_count() {
    std::ifstream maps("/proc/self/maps");
    size_t lines = 0;
    for (std::string line; std::getline(maps, line);) {
        ++lines;
    }
    return lines;
}
}  // namespace

TEST_CASE("scheduler: the stacks of finished fibers are reused, on every build") {
    // Under ASan the pool once scaled the stack size twice, so no spawn found its pool again:
    // each fiber mapped a stack of its own and a long run hit vm.max_map_count.
    Simulation sim(fifo_config());
    size_t before = 0;
    size_t after = 0;
    auto result = sim.run([&](Runtime& rt) {
        CHECK(rt.spawn("warm-up", [] {}).join().ok());
        before = mapping_count();
        for (int i = 0; i < 500; ++i) {
            CHECK(rt.spawn("short-lived", [] {}).join().ok());
        }
        after = mapping_count();
    });
    CHECK(result.passed());
    CHECK(after < before + 20);
}

TEST_CASE("scheduler: many fibers alive at once, more than memory mappings allow guarded stacks") {
    // Two mappings per guarded stack: past StackPool::guarded_stack_budget, stacks come from
    // slabs, so the run is not bounded by vm.max_map_count (65,530: about 32,000 guarded stacks).
    SimulationConfig config = fifo_config();
    config.stack_size = 16 * 1024;
    Simulation sim(config);
    const int alive = 40'000;
    int finished = 0;
    size_t mappings_at_peak = 0;
    auto result = sim.run([&](Runtime& rt) {
        Notify go("go");
        std::vector<JoinHandle<Unit>> tasks;
        for (int i = 0; i < alive; ++i) {
            tasks.push_back(rt.spawn("waiter", [&] {
                go.wait();
                ++finished;
            }));
        }
        rt.sleep(1_s);  // every waiter has started and holds its stack
        mappings_at_peak = mapping_count();
        go.notify_all();
        for (auto& task : tasks) {
            (void)task.join();
        }
    });
    CHECK(result.passed());
    CHECK(finished == alive);
    CHECK(mappings_at_peak < 60'000);
    CHECK(sim.scheduler().live_fibers() == 0);
}

TEST_CASE("stack pool: an overflow of an unguarded slab stack is caught at its return") {
    const DeathResult death = run_in_child([] {
        StackPool pool(effective_stack_size(16 * 1024));
        std::vector<Stack> held;
        Stack slab_stack;
        while (true) {  // past the guarded budget, whatever other pools hold
            Stack stack = pool.acquire();
            if (!stack.guarded) {
                slab_stack = stack;
                break;
            }
            held.push_back(stack);
        }
        slab_stack.bottom()[-1] = 0;  // one byte below the bottom: what an overflow writes first
        pool.release(slab_stack);
    });
    CHECK(death.aborted);
    CHECK(death.stderr_text.find("fiber stack overflow") != std::string::npos);
}
