#include "node/blob_event_workers.h"

#include <fmt/format.h>

#include <limits>

namespace walrus {

namespace {
// PENDING_EVENTS_POLL_INTERVAL (blob_event_processor/pending_events.rs).
constexpr sim::Duration pending_events_poll_interval = sim::Duration::millis(10);
}  // namespace

BlobEventWorkers::BlobEventWorkers(sim::Runtime& rt, uint32_t count) : rt_(rt) {
    FLOE_ASSERT(count > 0, "a blob event processor needs a worker");
    for (uint32_t i = 0; i < count; ++i) {
        queues_.push_back(std::make_unique<sim::Channel<Task>>(
            std::numeric_limits<size_t>::max(), fmt::format("blob-event-queue-{}", i)));
    }
    for (uint32_t i = 0; i < count; ++i) {
        workers_.push_back(
            rt_.spawn(fmt::format("blob-event-worker-{}", i), [this, i] { run_worker(i); }));
    }
}

BlobEventWorkers::~BlobEventWorkers() {
    for (auto& worker : workers_) {
        worker.abort();
    }
}

uint32_t BlobEventWorkers::worker_of(const BlobId& blob, uint32_t count) {
    // BlobId::first_two_bytes: big-endian u16 of bytes 0 and 1, no hashing.
    const uint32_t first_two_bytes = (static_cast<uint32_t>(blob.bytes[0]) << 8) | blob.bytes[1];
    return first_two_bytes % count;
}

void BlobEventWorkers::dispatch(const BlobId& blob, Task task) {
    ++pending_;  // track_event: counted before it is sent
    const uint32_t worker = worker_of(blob, static_cast<uint32_t>(queues_.size()));
    const auto sent = queues_[worker]->try_send(std::move(task));
    FLOE_ASSERT(sent.ok(), "blob event worker {} does not take tasks", worker);
}

void BlobEventWorkers::run_worker(uint32_t index) {
    sim::Channel<Task>& queue = *queues_[index];
    while (true) {
        auto task = queue.recv();
        FLOE_ASSERT(task.ok(), "blob event queue {} closed", index);
        // The counter goes down once the task returned, also if it unwinds (a crash).
        struct Done {
            uint32_t& pending;
            ~Done() { --pending; }
        } done{pending_};
        task.value()();
    }
}

void BlobEventWorkers::wait_until_idle() {
    while (pending_ > 0) {
        rt_.sleep(pending_events_poll_interval);
    }
}

}  // namespace walrus
