#pragma once
// Blob events (walrus-recovery-spec.md §4.1, §5; Walrus's blob_event_processor.rs at
// fb097a2262). On the event task, in order: every blob event writes its blob-info merge operand
// (and its object's per-object record) once; BlobRegistered is then complete. BlobCertified,
// BlobDeleted and InvalidBlobId go to the blob's worker (blob_event_workers.h), which takes the
// event handle:
//   BlobCertified: skipped (handle completed) when the blob is not certified at the committee
//     epoch, the node catches up, or the blob is stored at every shard owned at the event epoch;
//     else, after the §11 jitter point, a blob sync for the event's certified epoch that carries
//     the handle;
//   BlobDeleted: the blob's sync cancelled if it is no longer certified; its data deleted at once
//     when nothing registers it (GC's immediate deletion);
//   InvalidBlobId: the sync cancelled and the blob's data deleted at every shard.
// The checks read the node's state when the worker runs, which may be after later events.

#include <map>
#include <string>
#include <utility>

#include "node/blob_event_workers.h"
#include "node/blob_info.h"
#include "node/blob_sync.h"
#include "node/chain/events.h"
#include "node/committee_service.h"
#include "node/config.h"
#include "node/event_handle.h"
#include "node/garbage_collector.h"
#include "node/node_storage.h"
#include "node/spawn_blocking.h"
#include "sim/runtime.h"

namespace walrus {

class BlobEvents {
public:
    BlobEvents(sim::Runtime& rt, NodeStorage& storage, CommitteeService& committees,
               BlobSyncHandler& blob_sync, GarbageCollector& gc, uint32_t workers,
               SpawnBlockingModel spawn_blocking);
    BlobEvents(const BlobEvents&) = delete;
    BlobEvents& operator=(const BlobEvents&) = delete;

    // BlobRegistered, BlobCertified, BlobDeleted or InvalidBlobId; the handle is completed here,
    // by the worker, or by the blob sync the worker starts.
    void process_blob_event(const ChainEvent& event, EventHandle handle);
    // §7.2 step 4 (wait_for_all_events_to_be_processed): every event handed to a worker so far
    // has been processed (its sync started, not finished).
    void wait_for_all_events_to_be_processed() { workers_.wait_until_idle(); }
    // The terminal outcomes of the syncs the event path waited on (health info).
    const std::map<SyncOutcome, uint64_t>& event_sync_outcomes() const {
        return event_sync_outcomes_;
    }

private:
    void update_blob_info(const ChainEvent& event, const BlobId& blob,
                          const BlobInfoMergeOperand& operand, std::optional<uint64_t> object_id);
    void process_in_worker(const ChainEvent& event, EventHandle handle);
    void process_certified(const BlobCertified& certified, EventHandle handle);
    void process_deleted(const ChainEvent& event, const BlobDeleted& deleted, EventHandle handle);
    void process_invalid(const InvalidBlobId& invalid, EventHandle handle);
    void watch_event_sync(const BlobId& blob, SyncWaiter waiter);
    // A read Walrus makes in spawn_blocking (node/spawn_blocking.h). `read` owns what it reads.
    template <class Read>
    auto blocking_read(std::string name, Read read) {
        if (spawn_blocking_ == SpawnBlockingModel::event_reads) {
            rt_.yield();  // floe's model of 1 December 2026: the task's two suspensions as yields
            auto result = read();
            rt_.yield();
            return result;
        }
        return spawn_blocking(rt_, spawn_blocking_ == SpawnBlockingModel::tasks, std::move(name),
                              std::move(read));
    }

    sim::Runtime& rt_;
    NodeStorage& storage_;
    CommitteeService& committees_;
    BlobSyncHandler& blob_sync_;
    SpawnBlockingModel spawn_blocking_;
    GarbageCollector& gc_;
    std::map<SyncOutcome, uint64_t> event_sync_outcomes_;
    BlobEventWorkers workers_;  // last: its fibers use the members above
};

}  // namespace walrus
