#pragma once
// Garbage collection (walrus-recovery-spec.md §4.1; Walrus node/garbage_collector.rs at
// fb097a2262). At every EpochChangeStart(E), in every node status and before any committee or
// shard change:
//   phase 1, inline: every Sui object expired at E (end_epoch <= E) loses its per-object record
//            and its blob's aggregate counts (DeletableExpired / PermanentExpired);
//   phase 2, in the background after a delay below min(window, epoch / 2) from the epoch's
//            start: on an Active node, the metadata and slivers (and, if nothing references it,
//            the blob info) of every blob no longer registered at E, one blob per write; a new
//            epoch's GC aborts a phase 2 still running.
// GC persists the last epoch it started and the last one whose phase 2 completed; a node that
// restarts between the two runs the GC of the chain's epoch again if it is still that epoch.
// Nothing here serializes with blob sync: a sync that recovers a sliver after phase 2 deleted
// its blob's data stores it again (the #3667 resurrection window, present at fb097a2262).

#include <optional>

#include "node/config.h"
#include "node/node_storage.h"
#include "sim/runtime.h"
#include "sim/task.h"

namespace walrus {

class GarbageCollector {
public:
    GarbageCollector(sim::Runtime& rt, NodeStorage& storage, NodeIndex node,
                     GarbageCollectionConfig config);
    GarbageCollector(const GarbageCollector&) = delete;
    GarbageCollector& operator=(const GarbageCollector&) = delete;
    ~GarbageCollector();

    // start_garbage_collection_task(E, epoch_start): phase 1 now, phase 2 scheduled. The epoch
    // start is the chain's (nullopt while it is transitioning: now).
    void start(Epoch epoch, std::optional<sim::Instant> epoch_start);
    // check_and_start_garbage_collection_on_startup: whether the GC of `chain_epoch` was started
    // and not completed (then start it again).
    bool must_resume(Epoch chain_epoch) const;
    void resume_at_startup(Epoch chain_epoch, std::optional<sim::Instant> epoch_start);
    // A BlobDeleted's immediate deletion (attempt_to_delete_blob_data at the event's epoch; no
    // status check on this path). A no-op unless enable_immediate_data_deletion.
    void delete_now_if_unregistered(const BlobId& blob, Epoch event_epoch);

    // Phase 2's start, for a given epoch and epoch start: deterministic per (node, epoch), as
    // Walrus seeds it from (epoch, the node's public key).
    sim::Instant data_deletion_time(Epoch epoch, sim::Instant epoch_start) const;

private:
    void expire_objects(Epoch epoch);
    void start_data_deletion(Epoch epoch, sim::Instant at);
    bool delete_expired_blob_data(Epoch epoch);
    std::vector<std::pair<BlobId, BlobInfo>> blob_info_despite_read_errors();

    sim::Runtime& rt_;
    NodeStorage& storage_;
    NodeIndex node_;
    GarbageCollectionConfig config_;
    std::optional<sim::JoinHandle<sim::Unit>> data_deletion_;
};

}  // namespace walrus
