#pragma once
// The node's RPC server side (walrus-recovery-spec.md §1.2, §8.5): storing a blob, metadata and
// slivers for peers and clients, recovery symbols, shard sync's server side, health and the
// consistency reports. One fiber per incoming request; handlers read the node's parts.

#include <map>
#include <vector>

#include "node/blob_events.h"
#include "node/blob_sync.h"
#include "node/committee_service.h"
#include "node/messages.h"
#include "node/node_context.h"
#include "node/node_recovery.h"
#include "node/node_storage.h"
#include "node/shard_sync.h"
#include "sim/runtime.h"

namespace walrus {

// The parts of the node the handlers read.
struct RpcHandlerParts {
    NodeStorage& storage;
    CommitteeService& committees;
    const BlobSyncHandler& blob_sync;
    const ShardSyncHandler& shard_sync;
    const NodeRecoveryHandler& recovery;
    const BlobEvents& blob_events;
    const std::map<Epoch, ConsistencyReport>& consistency;  // §12, by epoch
    const uint64_t& blob_sync_inconsistency_proofs;
};

class RpcHandlers {
public:
    RpcHandlers(sim::Runtime& rt, const NodeContext& context, const RpcHandlerParts& parts);
    RpcHandlers(const RpcHandlers&) = delete;
    RpcHandlers& operator=(const RpcHandlers&) = delete;

    // Registers every handler with the runtime; they serve until the host dies.
    void serve();

private:
    StoreBlobReply handle_store_blob(StoreBlobRequest request);
    std::vector<RecoverySymbol> handle_recovery_symbols(const RecoverySymbolsRequest& request);
    HealthInfo handle_health();
    SyncShardReply handle_sync_shard(const SyncShardRequest& request);
    // The handlers' spawn_blocking calls as msim runs them (node/spawn_blocking.h, MODEL.md X16).
    bool blocking_calls_as_tasks() const {
        return context_.config.spawn_blocking == SpawnBlockingModel::tasks;
    }

    sim::Runtime& rt_;
    const NodeContext& context_;
    NodeStorage& storage_;
    CommitteeService& committees_;
    RpcHandlerParts parts_;
};

}  // namespace walrus
