#pragma once
// Blob events (walrus-recovery-spec.md §4.1, §5; Walrus's blob_event_processor.rs): each writes
// its blob-info merge operand once, and a certified blob the node does not store starts (or
// joins) a blob sync, whose outcome the event path counts. Events are processed in order on the
// event task for now; this is where Walrus's concurrent blob-event workers would go.

#include <map>

#include "node/blob_info.h"
#include "node/blob_sync.h"
#include "node/chain/events.h"
#include "node/committee_service.h"
#include "node/event_handle.h"
#include "node/node_storage.h"
#include "sim/runtime.h"

namespace walrus {

class BlobEvents {
public:
    BlobEvents(sim::Runtime& rt, NodeStorage& storage, CommitteeService& committees,
               BlobSyncHandler& blob_sync);
    BlobEvents(const BlobEvents&) = delete;
    BlobEvents& operator=(const BlobEvents&) = delete;

    // BlobRegistered, BlobCertified, BlobDeleted or InvalidBlobId; the handle is completed here
    // or by the blob sync it starts.
    void process_blob_event(const ChainEvent& event, EventHandle handle);
    // The terminal outcomes of the syncs the event path waited on (health info).
    const std::map<SyncOutcome, uint64_t>& event_sync_outcomes() const {
        return event_sync_outcomes_;
    }

private:
    BlobInfo update_blob_info(const ChainEvent& event, const BlobId& blob,
                              const BlobInfoMergeOperand& operand);
    void process_certified(const ChainEvent& event, const BlobCertified& certified,
                           EventHandle handle);
    void watch_event_sync(const BlobId& blob, SyncWaiter waiter);

    sim::Runtime& rt_;
    NodeStorage& storage_;
    CommitteeService& committees_;
    BlobSyncHandler& blob_sync_;
    std::map<SyncOutcome, uint64_t> event_sync_outcomes_;
};

}  // namespace walrus
