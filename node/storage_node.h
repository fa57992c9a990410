#pragma once
// A Walrus storage node (walrus-recovery-spec.md §2, §4-§7). It is built by its host's boot
// function from its database alone and lives until the host is killed: every in-memory
// structure here (sync handles, the committee cache, consistency reports) dies with it.
//
// Startup order (§2.2, §8.6): open storage (Standby if new) → [restart shard syncs, restart
// recovery: issues 4 and 5] → serve RPCs → process events from the persisted cursor.
//
// Processes on the host: `events` (strict order), one `blob-sync` task per blob, the blob-sync
// monitor, the attester, and one fiber per incoming RPC.
//
// StorageNode is the wiring and the event loop. The protocols live in their parts: the committee
// service (committee_service.h), the attester (attestation.h), blob recovery with the blob sync
// handler it owns (blob_recovery.h), shard sync, node recovery, epoch change (epoch_change.h),
// blob events (blob_events.h) and the RPC handlers (rpc_handlers.h). Each part implements the
// interfaces the others use of it (BlobSyncEnv, ShardSync*, NodeRecoveryEnv, RecoveryAttester).

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "node/attestation.h"
#include "node/blob_events.h"
#include "node/blob_recovery.h"
#include "node/blob_sync.h"
#include "node/committee_service.h"
#include "node/config.h"
#include "node/epoch_change.h"
#include "node/event_sequencer.h"
#include "node/garbage_collector.h"
#include "node/messages.h"
#include "node/node_context.h"
#include "node/node_recovery.h"
#include "node/node_storage.h"
#include "node/rpc_handlers.h"
#include "node/shard_sync.h"
#include "node/store/disk.h"
#include "sim/runtime.h"

namespace walrus {

// The host's boot function: opens the database and runs the node until the host dies.
void run_storage_node(sim::Runtime& rt, const NodeContext& context);

class StorageNode final {
public:
    StorageNode(sim::Runtime& rt, const NodeContext& context, std::unique_ptr<NodeStore> store);
    StorageNode(const StorageNode&) = delete;
    StorageNode& operator=(const StorageNode&) = delete;
    ~StorageNode();

    // Serves RPCs and processes events until the host is killed.
    void run();

private:
    // --- events (§5) ---
    void event_loop();
    std::vector<ChainEvent> read_events(EventIndex from);
    void process_event(const ChainEvent& event);
    void complete_event(EventIndex index);
    // §2.2 item 2: the lag check on the first event of an incarnation.
    void check_if_lagging(Epoch event_epoch);

    sim::Runtime& rt_;
    NodeContext context_;
    NodeStorage storage_;
    EventSequencer sequencer_;
    EventHandle::CompleteFn complete_fn_;
    CommitteeService committees_;
    Attester attester_;
    sim::FiberId event_task_ = 0;
    BlobRecovery blob_recovery_;  // owns the blob sync handler
    ShardSyncHandler shard_sync_;
    NodeRecoveryHandler recovery_;
    GarbageCollector gc_;
    BlobEvents blob_events_;  // starts the blob-event workers
    EpochChange epoch_change_;
    RpcHandlers rpc_;
    bool lag_checked_ = false;  // §2.2: the lag check runs on the first event of an incarnation
    std::vector<sim::JoinHandle<sim::Unit>> tasks_;
};

}  // namespace walrus
