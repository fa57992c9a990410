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
#include "node/event_sequencer.h"
#include "node/messages.h"
#include "node/node_context.h"
#include "node/node_recovery.h"
#include "node/node_storage.h"
#include "node/rpc_handlers.h"
#include "node/shard_diff.h"
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
    void process_epoch_change_start(const ChainEvent& event, Epoch epoch, EventHandle handle);
    // §7.3 routing and its paths.
    void check_if_lagging(const ChainEvent& event);
    void enter_recovery_mode();
    void execute_while_catching_up(Epoch epoch, EventHandle handle);
    void execute_in_sync(Epoch epoch, EventHandle handle);
    void shard_changes_in_sync(Epoch epoch, EventHandle handle, bool joining);
    void shard_changes_and_start_recovery(Epoch epoch, EventHandle handle);
    void shard_changes_while_recovering(Epoch epoch, EventHandle handle);
    void restart_recovery_and_finish(Epoch epoch, EventHandle handle,
                                     const std::vector<ShardIndex>& to_remove);
    ShardDiff diff_at(Epoch epoch);
    void create_new_shards_and_start_sync(const std::vector<ShardIndex>& gained, bool joining);
    void lock_shards(const std::vector<ShardIndex>& to_lock);
    void start_finisher(EventHandle handle, Epoch epoch, std::vector<ShardIndex> to_remove,
                        bool ongoing_shard_sync, bool member, std::vector<ShardIndex> gained);
    bool finisher_may_attest(Epoch epoch);
    void note_unrecorded_gained_shards(const std::vector<ShardIndex>& gained);
    void report_consistency(Epoch epoch);

    sim::Runtime& rt_;
    NodeContext context_;
    NodeStorage storage_;
    EventSequencer sequencer_;
    EventHandle::CompleteFn complete_fn_;
    CommitteeService committees_;
    Attester attester_;
    std::map<Epoch, ConsistencyReport> consistency_;
    sim::FiberId event_task_ = 0;
    BlobRecovery blob_recovery_;  // owns the blob sync handler
    ShardSyncHandler shard_sync_;
    NodeRecoveryHandler recovery_;
    BlobEvents blob_events_;
    RpcHandlers rpc_;
    bool lag_checked_ = false;  // §2.2: the lag check runs on the first event of an incarnation
    std::optional<sim::JoinHandle<sim::Unit>> finisher_;
    std::vector<sim::JoinHandle<sim::Unit>> tasks_;
};

}  // namespace walrus
