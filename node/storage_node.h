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
#include "node/blob_sync.h"
#include "node/committee_service.h"
#include "node/config.h"
#include "node/event_sequencer.h"
#include "node/messages.h"
#include "node/node_context.h"
#include "node/node_recovery.h"
#include "node/node_storage.h"
#include "node/shard_diff.h"
#include "node/shard_sync.h"
#include "node/store/disk.h"
#include "sim/runtime.h"

namespace walrus {

// The host's boot function: opens the database and runs the node until the host dies.
void run_storage_node(sim::Runtime& rt, const NodeContext& context);

class StorageNode final : public BlobSyncEnv, public ShardSyncRecovery {
public:
    StorageNode(sim::Runtime& rt, const NodeContext& context, std::unique_ptr<NodeStore> store);
    StorageNode(const StorageNode&) = delete;
    StorageNode& operator=(const StorageNode&) = delete;
    ~StorageNode() override;

    // Serves RPCs and processes events until the host is killed.
    void run();

    // BlobSyncEnv
    NodeStatus node_status() override { return storage_.status(); }
    void synchronize_blob(const BlobId& blob, Epoch certified_epoch,
                          sim::Semaphore& sliver_permits) override;

    // ShardSyncRecovery
    BlobMetadata get_or_recover_metadata(const BlobId& blob, Epoch certified_epoch) override;
    std::optional<Sliver> recover_sliver_unless_retired(const BlobMetadata& metadata, uint32_t pair,
                                                        SliverType type,
                                                        Epoch certified_epoch) override;

private:
    // --- events (§5) ---
    void event_loop();
    std::vector<ChainEvent> read_events(EventIndex from);
    void process_event(const ChainEvent& event);
    void complete_event(EventIndex index);
    void process_blob_event(const ChainEvent& event, EventHandle handle);
    BlobInfo update_blob_info(const ChainEvent& event, const BlobId& blob,
                              const BlobInfoMergeOperand& operand);
    void process_certified(const ChainEvent& event, const BlobCertified& certified,
                           EventHandle handle);
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
    void watch_event_sync(const BlobId& blob, SyncWaiter waiter);
    void start_finisher(EventHandle handle, Epoch epoch, std::vector<ShardIndex> to_remove,
                        bool ongoing_shard_sync, bool member, std::vector<ShardIndex> gained);
    bool finisher_may_attest(Epoch epoch);
    void note_unrecorded_gained_shards(const std::vector<ShardIndex>& gained);
    void report_consistency(Epoch epoch);

    // --- blob recovery (§6.4) ---
    BlobMetadata recover_metadata(const BlobId& blob, Epoch certified_epoch);
    // Retries until the sliver decodes, or until `retired()` (checked before every attempt).
    std::optional<Sliver> recover_sliver(const BlobMetadata& metadata, uint32_t pair,
                                         SliverType type, Epoch certified_epoch,
                                         const std::function<bool()>& retired);
    std::optional<BlobMetadata> metadata_from_peers(const BlobId& blob, Epoch certified_epoch);
    std::optional<Sliver> sliver_from_committee(const BlobMetadata& metadata, uint32_t pair,
                                                SliverType type, Epoch certified_epoch);
    bool is_retired(const BlobId& blob);
    bool recover_pair(const BlobMetadata& metadata, ShardIndex shard, Epoch pass_epoch,
                      Epoch certified_epoch);
    void check_blob_sync_target(const BlobId& blob, ShardIndex shard, Epoch pass_epoch);
    void monitor_loop();

    // --- RPC handlers ---
    void serve();
    StoreBlobReply handle_store_blob(StoreBlobRequest request);
    std::vector<RecoverySymbol> handle_recovery_symbols(const RecoverySymbolsRequest& request);
    HealthInfo handle_health();
    SyncShardReply handle_sync_shard(const SyncShardRequest& request);

    sim::Runtime& rt_;
    NodeContext context_;
    NodeStorage storage_;
    EncodingParams params_;
    EventSequencer sequencer_;
    EventHandle::CompleteFn complete_fn_;
    CommitteeService committees_;
    Attester attester_;
    std::map<Epoch, ConsistencyReport> consistency_;
    sim::FiberId event_task_ = 0;
    BlobSyncHandler blob_sync_;
    ShardSyncHandler shard_sync_;
    NodeRecoveryHandler recovery_;
    bool lag_checked_ = false;  // §2.2: the lag check runs on the first event of an incarnation
    std::map<SyncOutcome, uint64_t> event_sync_outcomes_;
    std::optional<sim::JoinHandle<sim::Unit>> finisher_;
    std::vector<sim::JoinHandle<sim::Unit>> tasks_;
};

}  // namespace walrus
