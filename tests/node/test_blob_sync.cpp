// The blob sync handler (§6) against a fake node whose synchronisation takes a set time.
#include <doctest/doctest.h>

#include <vector>

#include "node/blob_sync.h"
#include "sim/simulation.h"

using namespace walrus;
using namespace sim::time_literals;

namespace {

struct FakeNode : BlobSyncEnv {
    sim::Runtime& rt;
    NodeStatus status = NodeStatus::active();
    sim::Duration work = 5_s;
    int running = 0;
    int max_running = 0;
    std::vector<BlobId> synchronized;

    explicit FakeNode(sim::Runtime& runtime) : rt(runtime) {}
    NodeStatus node_status() override { return status; }
    void synchronize_blob(const BlobId& blob, Epoch, sim::Semaphore&) override {
        ++running;
        max_running = std::max(max_running, running);
        struct Done {
            int& running;
            ~Done() { --running; }
        } done{running};
        rt.sleep(work);
        synchronized.push_back(blob);
    }
    std::vector<BlobId> invalidated;
    void proof_invalidated(const BlobId& blob) override { invalidated.push_back(blob); }
};

struct Completions {
    std::vector<EventIndex> indices;
    EventHandle::CompleteFn fn = [this](EventIndex index) { indices.push_back(index); };
    EventHandle handle(EventIndex index) { return EventHandle(index, &fn); }
};

SyncStatus wait_done(SyncWaiter& waiter) {
    const auto outcome = waiter.wait(1'000_s);
    return outcome.has_value() ? SyncStatus::finished(*outcome) : SyncStatus::pending();
}

template <class Body>
void run_world(Body body) {
    sim::Simulation sim(sim::SimulationConfig{});
    auto result = sim.run([&](sim::Runtime& rt) { body(rt); });
    REQUIRE(result.passed());
}

}  // namespace

TEST_CASE("blob sync: one sync per blob; two subscribers both see Success") {
    run_world([](sim::Runtime& rt) {
        FakeNode node(rt);
        Completions done;
        BlobSyncHandler handler(rt, node, BlobRecoveryConfig{}, false);
        const BlobId blob = BlobId::from_u64(1);
        auto first = handler.start_sync(blob, 1, done.handle(10));
        auto second = handler.start_sync(blob, 1, done.handle(11));
        CHECK(done.indices == std::vector<EventIndex>{11});  // the duplicate completes at once
        CHECK(handler.in_progress_count() == 1);
        auto waiter_a = rt.spawn("waiter-a", [&] { return wait_done(first); });
        auto waiter_b = rt.spawn("waiter-b", [&] { return wait_done(second); });
        CHECK(waiter_a.join().value() == SyncStatus::finished(SyncOutcome::success));
        CHECK(waiter_b.join().value() == SyncStatus::finished(SyncOutcome::success));
        CHECK(done.indices == std::vector<EventIndex>{11, 10});
        CHECK(node.synchronized.size() == 1);
        CHECK(handler.in_progress_count() == 0);
        // A subscriber arriving after the end sees Done at once: watch semantics.
        auto late = handler.start_sync(blob, 1, std::nullopt);
        CHECK(wait_done(late).done);
    });
}

TEST_CASE("blob sync: cancellation publishes Cancelled and completes the event") {
    run_world([](sim::Runtime& rt) {
        FakeNode node(rt);
        Completions done;
        BlobSyncHandler handler(rt, node, BlobRecoveryConfig{}, false);
        const BlobId blob = BlobId::from_u64(2);
        auto rx = handler.start_sync(blob, 1, done.handle(7));
        rt.sleep(1_s);
        handler.cancel_sync_and_mark_event_complete(blob);
        CHECK(done.indices == std::vector<EventIndex>{7});
        CHECK(wait_done(rx) == SyncStatus::finished(SyncOutcome::cancelled));
        CHECK(node.synchronized.empty());
        CHECK(node.running == 0);  // the synchroniser was unwound
        CHECK(handler.in_progress_count() == 0);
    });
}

TEST_CASE("blob sync: a sync dispatched while catching up is Skipped (§6.3, #2216)") {
    run_world([](sim::Runtime& rt) {
        FakeNode node(rt);
        node.status = NodeStatus::recovery_catch_up();
        Completions done;
        BlobSyncHandler handler(rt, node, BlobRecoveryConfig{}, false);
        auto rx = handler.start_sync(BlobId::from_u64(3), 1, done.handle(4));
        CHECK(wait_done(rx) == SyncStatus::finished(SyncOutcome::skipped));
        CHECK(done.indices == std::vector<EventIndex>{4});
        CHECK(node.synchronized.empty());
    });
}

TEST_CASE("blob sync: the blob permits bound concurrency; cancel_syncs_where_not") {
    run_world([](sim::Runtime& rt) {
        FakeNode node(rt);
        BlobRecoveryConfig config;
        config.max_concurrent_blob_syncs = 3;
        BlobSyncHandler handler(rt, node, config, false);
        std::vector<SyncWaiter> receivers;
        for (uint64_t i = 0; i < 10; ++i) {
            receivers.push_back(handler.start_sync(BlobId::from_u64(100 + i), 1, std::nullopt));
        }
        rt.sleep(1_s);
        const size_t cancelled = handler.cancel_syncs_where_not(
            [](const BlobId& blob) { return blob != BlobId::from_u64(105); });
        CHECK(cancelled == 1);
        int successes = 0;
        for (auto& rx : receivers) {
            successes += wait_done(rx).outcome == SyncOutcome::success ? 1 : 0;
        }
        CHECK(successes == 9);
        CHECK(node.max_running == 3);
        CHECK(rt.now() >= sim::Instant::zero() + 15_s);  // 9 syncs, 3 at a time, 5 s each
    });
}

// #3412 and the old behaviour `notify-one-sync-waiter`: with one shared notify woken once, the
// first of two waiters on one blob wakes and the second stays blocked; with the watch channel
// both see the outcome.
TEST_CASE(
    "blob sync: notify-one-sync-waiter leaves the second waiter blocked; the fix wakes both") {
    for (const bool notify_one : {false, true}) {
        CAPTURE(notify_one);
        run_world([notify_one](sim::Runtime& rt) {
            FakeNode node(rt);
            BlobSyncHandler handler(rt, node, BlobRecoveryConfig{}, notify_one);
            const BlobId blob = BlobId::from_u64(9);
            auto event_path = handler.start_sync(blob, 1, std::nullopt);
            auto recovery = handler.start_sync(blob, 1, std::nullopt);
            auto first = rt.spawn("event-path", [&] { return event_path.wait(100_s); });
            auto second = rt.spawn("recovery", [&] { return recovery.wait(100_s); });
            // Which of the two waits first is the scheduler's (seeded) choice.
            const int woken = (first.join().value().has_value() ? 1 : 0) +
                              (second.join().value().has_value() ? 1 : 0);
            CHECK(woken == (notify_one ? 1 : 2));
        });
    }
}

TEST_CASE("blob sync: before #3412 a notification nobody waits for is kept as one permit") {
    run_world([](sim::Runtime& rt) {
        FakeNode node(rt);
        node.work = 1_s;
        BlobSyncHandler handler(rt, node, BlobRecoveryConfig{}, true);
        auto waiter = handler.start_sync(BlobId::from_u64(10), 1, std::nullopt);
        rt.sleep(5_s);  // the sync ended with nobody waiting
        CHECK(waiter.wait(1_s) == std::optional<SyncOutcome>(SyncOutcome::success));
    });
}
