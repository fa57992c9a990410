// Hosts: kill unwinds every fiber of a host whatever it is blocked in (RAII runs, nothing after
// the kill point runs, handles resolve as aborted); restart boots the host again after a delay.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/simulation.h"

using namespace sim;
using namespace sim::time_literals;

namespace {

struct Counted {
    int& count;
    ~Counted() { ++count; }
};

// Shared world objects the node's fibers block on (they outlive the node, like another host's
// state would).
struct Primitives {
    Mutex mutex{"m"};
    Semaphore semaphore{0, "sem"};
    Notify notify{"n"};
    Event event{"e"};
    Channel<int> full{1, "full"};
    Channel<int> empty{1, "empty"};
    std::optional<OneshotReceiver<int>> oneshot_rx;
    std::optional<OneshotSender<int>> oneshot_tx;
    std::optional<WatchSender<int>> watch_tx;
    std::optional<WatchReceiver<int>> watch_rx;
    Permit mutex_holder;
};

// A count on a spawner's frame and a guard on it held by a task (the shard-sync pattern): the
// owner's destructor notes how many guards still live, the guard's that it went.
struct CountOwner {
    std::vector<std::string>& order;
    int count = 0;
    ~CountOwner() { order.push_back(fmt::format("owner sees {} guards", count)); }
};
struct CountGuard {
    CountOwner& owner;
    explicit CountGuard(CountOwner& o) : owner(o) { ++owner.count; }
    ~CountGuard() {
        --owner.count;
        owner.order.push_back("guard");
    }
};

}  // namespace

TEST_CASE("hosts: kill unwinds a fiber blocked in each primitive; restart boots again") {
    SimulationConfig config;
    config.seed = 3;
    Simulation sim(config);
    Primitives p;
    int destructors = 0;
    int boots = 0;
    int ran_after_wait = 0;
    std::vector<JoinHandle<Unit>> handles;

    const HostId peer = sim.add_host("peer", [&](Runtime& rt) {
        rt.serve<int, int>("slow", [&rt](HostId, int x) {
            rt.sleep(1'000_s);
            return x;
        });
        rt.sleep(Duration::forever() / 2);
    });
    const HostId node = sim.add_host("node", [&](Runtime& rt) {
        ++boots;
        if (boots > 1) {
            return;  // the second incarnation just proves it booted
        }
        auto block_in = [&](std::string name, std::function<void()> wait) {
            handles.push_back(rt.spawn(std::move(name), [&destructors, &ran_after_wait, wait] {
                Counted guard{destructors};
                wait();
                ++ran_after_wait;
            }));
        };
        block_in("mutex", [&] { auto g = p.mutex.lock(); });
        block_in("semaphore", [&] { auto g = p.semaphore.acquire(); });
        block_in("notify", [&] { (void)p.notify.wait(); });
        block_in("event", [&] { (void)p.event.wait(); });
        block_in("channel-send", [&] { (void)p.full.send(2); });
        block_in("channel-recv", [&] { (void)p.empty.recv(); });
        block_in("oneshot", [&] { (void)p.oneshot_rx->recv(); });
        block_in("watch", [&] { (void)p.watch_rx->wait_for([](int v) { return v > 100; }); });
        block_in("sleep", [&] { rt.sleep(1'000_s); });
        block_in("rpc", [&] { (void)rt.call<int>(peer, "slow", 1, 2'000_s); });
        block_in("select", [&] { (void)select(p.notify.op(), p.event.op()); });
        block_in("join", [&] {
            auto inner = rt.spawn("inner", [&rt] { rt.sleep(1'000_s); });
            (void)inner.join();
        });
        Counted main_guard{destructors};
        rt.sleep(Duration::forever() / 2);
        ++ran_after_wait;
    });

    auto result = sim.run([&](Runtime& rt) {
        auto [tx, rx] = oneshot<int>("os");
        p.oneshot_tx.emplace(std::move(tx));
        p.oneshot_rx.emplace(std::move(rx));
        auto [wtx, wrx] = watch_channel<int>(0, "w");
        p.watch_tx.emplace(std::move(wtx));
        p.watch_rx.emplace(std::move(wrx));
        REQUIRE(p.full.try_send(1).ok());
        p.mutex_holder = p.mutex.lock();

        sim.start(peer);
        sim.start(node);
        rt.sleep(1_s);
        REQUIRE(handles.size() == 12);
        for (auto& handle : handles) {
            CHECK_FALSE(handle.is_finished());
        }
        const uint64_t before = sim.scheduler().incarnation(node);
        sim.restart(node, 5_s);
        rt.sleep(1_ms);
        CHECK_FALSE(sim.is_alive(node));
        for (auto& handle : handles) {
            CHECK(handle.was_aborted());
            CHECK(handle.join().error() == JoinError::aborted);
        }
        // 12 blocked fibers + the main fiber's guard; the inner task of "join" has no guard.
        CHECK(destructors == 13);
        CHECK(ran_after_wait == 0);
        // Nothing the node held leaks: the mutex's wait queue and the semaphore are clean, and
        // the world can still use every primitive.
        CHECK(p.semaphore.waiters() == 0);
        p.mutex_holder.release();
        CHECK(p.mutex.try_lock().has_value());
        rt.sleep(5_s);
        CHECK(sim.is_alive(node));
        CHECK(boots == 2);
        CHECK(sim.scheduler().incarnation(node) > before);
    });
    CHECK(result.passed());
    CHECK(result.message == "");
}

TEST_CASE("hosts: a granted but unused permit is returned when its holder is killed") {
    Simulation sim(SimulationConfig{});
    Semaphore semaphore(1, "permits");
    bool got = false;
    const HostId node = sim.add_host("node", [&](Runtime&) {
        auto permit = semaphore.acquire();
        got = true;
    });
    auto result = sim.run([&](Runtime& rt) {
        auto held = semaphore.acquire();
        sim.start(node);
        rt.sleep(1_s);   // node's main fiber waits for the permit
        held.release();  // grants it to the node...
        sim.kill(node);  // ...which dies before it runs
        rt.sleep(1_s);
        CHECK_FALSE(got);
        CHECK(semaphore.available() == 1);
    });
    CHECK(result.passed());
}

TEST_CASE("hosts: a fiber that kills its own host runs no code after the kill") {
    Simulation sim(SimulationConfig{});
    int after = 0;
    int boots = 0;
    HostId node = 0;
    node = sim.add_host("self-killer", [&](Runtime& rt) {
        ++boots;
        if (boots == 1) {
            rt.sleep(1_s);
            sim.restart(node, 2_s);
            ++after;
        }
    });
    auto result = sim.run([&](Runtime& rt) {
        sim.start(node);
        rt.sleep(10_s);
    });
    CHECK(result.passed());
    CHECK(after == 0);
    CHECK(boots == 2);
}

TEST_CASE("hosts: a fiber that kills its own host drops its unstarted children's captures first") {
    // The pattern of a shard-sync task: the spawner keeps a count in its frame, each task holds
    // a guard on it; the spawner reaches a crash point before any task ran (issue 17: found by
    // the fail-point swarm, swarm --seed 1020 --set buggify=on). The guards must be gone before
    // the spawner's frame unwinds, or they outlive the count they borrow.
    Simulation sim(SimulationConfig{});
    std::vector<std::string> order;
    HostId node = 0;
    node = sim.add_host("node", [&](Runtime& rt) {
        CountOwner owner{order};
        auto guard = std::make_shared<CountGuard>(owner);
        auto task = rt.spawn("task", [guard] {});  // never runs
        guard.reset();
        sim.restart(node, Duration::forever());  // a crash point in the spawner itself
    });
    auto result = sim.run([&](Runtime& rt) {
        sim.start(node);
        rt.sleep(1_s);
    });
    CHECK(result.passed());
    CHECK(order == std::vector<std::string>{"guard", "owner sees 0 guards"});
}

TEST_CASE("hosts: a fiber that kills its own host waits for its started children to unwind") {
    // swarm 20299 (buggify=on): the storage node's main fiber owns the shard-sync handler, the
    // launcher it started holds a guard on the handler's count and waits on the chain, and main
    // exits on an I/O error. The launcher must unwind (its guard gone) before main's frame does;
    // an older fiber of the host still unwinds after main; main runs nothing after the kill.
    Simulation sim(SimulationConfig{});
    std::vector<std::string> order;
    int after = 0;
    HostId node = 0;
    node = sim.add_host("node", [&](Runtime& rt) {
        auto elder = rt.spawn("elder", [&] {
            struct Note {
                std::vector<std::string>& order;
                ~Note() { order.push_back("elder"); }
            } note{order};
            rt.sleep(Duration::seconds(3600));
        });
        rt.sleep(1_s);
        auto killer = rt.spawn("killer", [&] {
            CountOwner owner{order};
            auto guard = std::make_shared<CountGuard>(owner);
            auto child = rt.spawn("child", [guard, &rt] { rt.sleep(Duration::seconds(3600)); });
            guard.reset();
            rt.sleep(1_s);                           // the child has started and waits
            sim.restart(node, Duration::forever());  // a crash point in the spawner itself
            ++after;
        });
        rt.sleep(Duration::seconds(3600));
    });
    auto result = sim.run([&](Runtime& rt) {
        sim.start(node);
        rt.sleep(10_s);
    });
    CHECK(result.passed());
    CHECK(after == 0);
    CHECK(order == std::vector<std::string>{"guard", "owner sees 0 guards", "elder"});
}

TEST_CASE("hosts: children unwind before their parent; a kill cancels a pending restart") {
    Simulation sim(SimulationConfig{});
    std::vector<std::string> order;
    int boots = 0;
    const HostId node = sim.add_host("node", [&](Runtime& rt) {
        ++boots;
        struct Note {
            std::vector<std::string>& order;
            std::string name;
            ~Note() { order.push_back(name); }
        } parent{order, "parent"};
        auto child = rt.spawn("child", [&] {
            Note note{order, "child"};
            rt.sleep(1'000_s);
        });
        rt.sleep(1'000_s);
    });
    auto result = sim.run([&](Runtime& rt) {
        sim.start(node);
        rt.sleep(1_s);
        sim.restart(node, 10_s);
        sim.kill(node);  // cancels the restart
        rt.sleep(20_s);
        CHECK(boots == 1);
        CHECK_FALSE(sim.is_alive(node));
    });
    CHECK(result.passed());
    CHECK(order == std::vector<std::string>{"child", "parent"});
}

TEST_CASE("hosts: spawning on a dead host gives an aborted handle") {
    Simulation sim(SimulationConfig{});
    const HostId node = sim.add_host("down", [](Runtime&) {});
    auto result = sim.run([&](Runtime&) {
        bool ran = false;
        auto handle = spawn(sim.scheduler(), node, "orphan", [&] { ran = true; });
        CHECK(handle.was_aborted());
        CHECK(handle.join().error() == JoinError::aborted);
        CHECK_FALSE(ran);
    });
    CHECK(result.passed());
}
