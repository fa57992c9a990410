// Sync primitives: FIFO order, timeouts as values, the watch channel waking every waiter.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/simulation.h"

using namespace sim;
using namespace sim::time_literals;

namespace {
SimulationConfig config_with(bool shuffle) {
    SimulationConfig config;
    config.seed = 11;
    config.shuffle_same_instant = shuffle;
    return config;
}
}  // namespace

TEST_CASE("watch: a change wakes ALL waiters (the property behind Walrus PR #3412)") {
    for (bool shuffle : {false, true}) {
        Simulation sim(config_with(shuffle));
        auto result = sim.run([&](Runtime& rt) {
            auto channel = watch_channel<std::string>("pending", "sync-status");
            auto& tx = channel.first;
            auto first_rx = tx.subscribe();
            auto second_rx = tx.subscribe();
            auto first = rt.spawn("waiter-1", [&] {
                return first_rx.wait_for([](const std::string& s) { return s == "done"; }).value();
            });
            auto second = rt.spawn("waiter-2", [&] {
                return second_rx.wait_for([](const std::string& s) { return s == "done"; }).value();
            });
            rt.sleep(1_s);
            tx.send("done");
            CHECK(first.join(1_s).value() == "done");
            CHECK(second.join(1_s).value() == "done");
        });
        CHECK(result.passed());
    }
}

TEST_CASE("watch: wait_for checks the current value first; changed() and closing") {
    Simulation sim(config_with(false));
    auto result = sim.run([&](Runtime& rt) {
        auto channel = watch_channel<int>(7, "w");
        auto& tx = channel.first;
        auto& rx = channel.second;
        const Instant start = rt.now();
        CHECK(rx.wait_for([](int v) { return v == 7; }, 1_s).value() == 7);
        CHECK(rt.now() == start);  // no suspension: the current value already satisfies it
        CHECK(rx.changed(1_s).error() == WatchError::timeout);
        auto bump = rt.spawn("bump", [&] {
            rt.sleep(100_ms);
            tx.send_modify([](int& v) { v += 1; });
        });
        CHECK(rx.changed(1_s).ok());
        CHECK(rx.borrow() == 8);
        (void)bump.join();
        { auto moved = std::move(tx); }  // sender dropped
        CHECK(rx.changed(1_s).error() == WatchError::closed);
    });
    CHECK(result.passed());
}

TEST_CASE("mutex: FIFO handoff, try_lock, timeouts") {
    Simulation sim(config_with(true));  // FIFO must hold even with the same-instant shuffle
    std::vector<int> order;
    auto result = sim.run([&](Runtime& rt) {
        Mutex mutex("m");
        auto held = mutex.lock();
        std::vector<JoinHandle<Unit>> tasks;
        for (int i = 0; i < 5; ++i) {
            tasks.push_back(rt.spawn("locker", [&, i] {
                rt.sleep(Duration::millis(i));  // arrive in order 0..4
                auto guard = mutex.lock();
                order.push_back(i);
                rt.sleep(1_ms);
            }));
        }
        rt.sleep(10_ms);
        CHECK_FALSE(mutex.try_lock().has_value());
        auto timed = rt.spawn("impatient", [&] { return mutex.lock_for(1_ms).has_value(); });
        CHECK(timed.join().value() == false);
        held.release();
        for (auto& task : tasks) {
            REQUIRE(task.join().ok());
        }
        CHECK_FALSE(mutex.is_locked());
    });
    CHECK(result.passed());
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("semaphore: strict FIFO, a large request at the head is not starved") {
    Simulation sim(config_with(false));
    std::vector<std::string> order;
    auto result = sim.run([&](Runtime& rt) {
        Semaphore semaphore(2, "permits");
        auto first = semaphore.acquire(2);
        auto big = rt.spawn("big", [&] {
            auto p = semaphore.acquire(2);
            order.push_back("big");
        });
        auto small = rt.spawn("small", [&] {
            rt.sleep(1_ms);
            auto p = semaphore.acquire(1);
            order.push_back("small");
        });
        rt.sleep(5_ms);
        first.release();
        (void)big.join();
        (void)small.join();
        CHECK(semaphore.available() == 2);
        auto none = semaphore.acquire_for(1_ms, 3);
        CHECK_FALSE(none.has_value());
    });
    CHECK(result.passed());
    CHECK(order == std::vector<std::string>{"big", "small"});
}

TEST_CASE("semaphore: a timed-out head lets the waiters behind it through") {
    Simulation sim(config_with(false));
    auto result = sim.run([&](Runtime& rt) {
        Semaphore semaphore(1, "permits");
        auto big = rt.spawn("big", [&] { return semaphore.acquire_for(10_ms, 2).has_value(); });
        auto small = rt.spawn("small", [&] {
            rt.sleep(1_ms);
            return semaphore.acquire_for(1_s, 1).has_value();
        });
        CHECK(big.join().value() == false);
        CHECK(small.join().value() == true);
        CHECK(rt.now() == Instant::zero() + 10_ms);
    });
    CHECK(result.passed());
}

TEST_CASE("oneshot: value, closed without value, timeout") {
    Simulation sim(config_with(false));
    auto result = sim.run([&](Runtime& rt) {
        auto [tx, rx] = oneshot<int>("answer");
        auto sender = rt.spawn("sender", [&, tx = std::move(tx)]() mutable {
            rt.sleep(5_ms);
            tx.send(99);
        });
        CHECK(rx.recv(1_ms).error() == RecvError::timeout);
        CHECK(rx.recv().value() == 99);
        (void)sender.join();

        auto [tx2, rx2] = oneshot<int>("dropped");
        { auto gone = std::move(tx2); }
        CHECK(rx2.recv().error() == RecvError::closed);
    });
    CHECK(result.passed());
}

TEST_CASE("notify and event: edge versus level") {
    Simulation sim(config_with(false));
    auto result = sim.run([&](Runtime& rt) {
        Notify notify("n");
        CHECK_FALSE(notify.notify_one());  // nobody waits: lost
        CHECK_FALSE(notify.wait(1_ms));
        auto a = rt.spawn("a", [&] { return notify.wait(1_s); });
        auto b = rt.spawn("b", [&] { return notify.wait(1_s); });
        rt.sleep(1_ms);
        CHECK(notify.notify_one());
        CHECK(a.join().value() == true);   // FIFO: the first waiter
        CHECK(b.join().value() == false);  // the second timed out
        auto c = rt.spawn("c", [&] { return notify.wait(1_s); });
        auto d = rt.spawn("d", [&] { return notify.wait(1_s); });
        rt.sleep(1_ms);
        CHECK(notify.notify_all() == 2);
        CHECK(c.join().value());
        CHECK(d.join().value());

        Event event("e");
        CHECK_FALSE(event.wait(1_ms));
        event.set();
        CHECK(event.wait(Duration::zero()));
        CHECK(event.wait());
        event.reset();
        CHECK_FALSE(event.is_set());
    });
    CHECK(result.passed());
}

TEST_CASE("channel: bounded, ordered, close") {
    Simulation sim(config_with(true));
    auto result = sim.run([&](Runtime& rt) {
        Channel<int> channel(2, "c");
        CHECK(channel.try_send(1).ok());
        CHECK(channel.try_send(2).ok());
        CHECK(channel.try_send(3).error() == SendError::full);
        CHECK(channel.send(3, 1_ms).error() == SendError::timeout);
        auto producer = rt.spawn("producer", [&] {
            for (int i = 3; i <= 10; ++i) {
                REQUIRE(channel.send(i).ok());
            }
            channel.close();
        });
        std::vector<int> received;
        while (true) {
            auto item = channel.recv(1_s);
            if (!item.ok()) {
                CHECK(item.error() == RecvError::closed);
                break;
            }
            received.push_back(item.value());
        }
        (void)producer.join();
        CHECK(received == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        CHECK(channel.try_send(11).error() == SendError::closed);
    });
    CHECK(result.passed());
}

TEST_CASE("select: first ready of two waits, or timeout") {
    Simulation sim(config_with(false));
    auto result = sim.run([&](Runtime& rt) {
        Channel<int> channel(4, "jobs");
        Event stop("stop");
        CHECK(select(channel.recv_op(), stop.op(), 5_ms) == -1);
        CHECK(rt.now() == Instant::zero() + 5_ms);
        auto later = rt.spawn("later", [&] {
            rt.sleep(10_ms);
            stop.set();
        });
        CHECK(select(channel.recv_op(), stop.op()) == 1);
        CHECK(rt.now() == Instant::zero() + 15_ms);
        (void)later.join();
        REQUIRE(channel.try_send(5).ok());
        CHECK(select(channel.recv_op(), stop.op()) == 0);  // both ready: the first operand wins
        CHECK(channel.try_recv().value() == 5);

        auto [tx, rx] = oneshot<int>("reply");
        auto sender = rt.spawn("sender", [&, tx = std::move(tx)]() mutable {
            rt.sleep(3_ms);
            tx.send(1);
        });
        Event never("never");
        CHECK(select(never.op(), rx.recv_op(), 1_s) == 1);
        CHECK(rx.try_recv().value() == 1);
        (void)sender.join();
    });
    CHECK(result.passed());
}

TEST_CASE("timeouts: a zero timeout polls without suspending") {
    Simulation sim(config_with(false));
    auto result = sim.run([&](Runtime& rt) {
        Notify notify("n");
        const Instant before = rt.now();
        CHECK_FALSE(notify.wait(Duration::zero()));
        CHECK(rt.now() == before);
    });
    CHECK(result.passed());
}
