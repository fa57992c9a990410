#pragma once
// The background workers of Walrus's BlobEventProcessor (walrus-recovery-spec.md §5; Walrus
// node/blob_event_processor.rs at fb097a2262). The event loop writes every blob event's blob
// info inline, in order, then hands BlobCertified, BlobDeleted and InvalidBlobId to the worker
// of its blob: worker (b[0] * 256 + b[1]) mod N of the blob id's first two bytes, so one blob's
// events keep their order while different blobs' events race. Each worker runs its tasks one at
// a time from an unbounded queue. A counter of queued-or-running tasks lets EpochChangeStart wait
// until every task handed out before it has returned (wait_for_all_events_to_be_processed; a
// task returns once its blob sync is started, not finished).

#include <memory>
#include <string>
#include <vector>

#include "node/types.h"
#include "sim/function.h"
#include "sim/runtime.h"
#include "sim/sync.h"
#include "sim/task.h"

namespace walrus {

class BlobEventWorkers {
public:
    using Task = sim::UniqueFunction<void()>;

    // Starts `count` worker fibers (Walrus starts fresh workers each time the node starts).
    BlobEventWorkers(sim::Runtime& rt, uint32_t count);
    BlobEventWorkers(const BlobEventWorkers&) = delete;
    BlobEventWorkers& operator=(const BlobEventWorkers&) = delete;
    ~BlobEventWorkers();

    static uint32_t worker_of(const BlobId& blob, uint32_t count);
    // Queues `task` on the blob's worker (never blocks: the queues are unbounded).
    void dispatch(const BlobId& blob, Task task);
    // PendingEventCounter::wait_for_all_events_to_be_processed: returns at once when nothing is
    // pending, else polls every 10 ms.
    void wait_until_idle();
    uint32_t pending() const { return pending_; }

private:
    void run_worker(uint32_t index);

    sim::Runtime& rt_;
    std::vector<std::unique_ptr<sim::Channel<Task>>> queues_;
    std::vector<sim::JoinHandle<sim::Unit>> workers_;
    uint32_t pending_ = 0;
};

}  // namespace walrus
