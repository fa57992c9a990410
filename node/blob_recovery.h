#pragma once
// Blob recovery, the blob-sync side of the node (walrus-recovery-spec.md §6.4): the body of a
// blob sync (BlobSynchronizer::run), the per-blob metadata and sliver recovery that blob syncs,
// shard sync and node recovery share, and the monitor that cancels the syncs of blobs no longer
// certified. It owns the blob sync handler, which runs its bodies.

#include <functional>
#include <optional>

#include "node/blob_sync.h"
#include "node/committee_service.h"
#include "node/encoding.h"
#include "node/invalid_blob.h"
#include "node/node_context.h"
#include "node/node_storage.h"
#include "node/shard_sync.h"
#include "sim/runtime.h"

namespace walrus {

class BlobRecovery final : public BlobSyncEnv, public ShardSyncRecovery {
public:
    BlobRecovery(sim::Runtime& rt, const NodeContext& context, NodeStorage& storage,
                 CommitteeService& committees);
    BlobRecovery(const BlobRecovery&) = delete;
    BlobRecovery& operator=(const BlobRecovery&) = delete;

    BlobSyncHandler& syncs() { return syncs_; }
    const BlobSyncHandler& syncs() const { return syncs_; }

    // BlobSyncEnv
    NodeStatus node_status() override { return storage_.status(); }
    void synchronize_blob(const BlobId& blob, Epoch certified_epoch,
                          sim::Semaphore& sliver_permits) override;
    void proof_invalidated(const BlobId& blob) override;

    // ShardSyncRecovery
    std::optional<BlobMetadata> recover_metadata_unless_retired(const BlobId& blob,
                                                                Epoch certified_epoch) override;
    std::optional<RecoveredSliver> recover_sliver_unless_retired(const BlobMetadata& metadata,
                                                                 uint32_t pair, SliverType type,
                                                                 Epoch certified_epoch) override;
    void file_inconsistency_proof(const InconsistencyProof& proof) override;
    // Proofs blob syncs filed in this incarnation (health info).
    const uint64_t& blob_sync_inconsistency_proofs() const {
        return blob_sync_inconsistency_proofs_;
    }

    // The blob-sync monitor task's body (cancel_all_expired_syncs_and_mark_events_completed).
    void monitor_loop();

private:
    // Retries until a peer's metadata verifies, or until `retired()` (checked before every
    // attempt).
    std::optional<BlobMetadata> recover_metadata(const BlobId& blob, Epoch certified_epoch,
                                                 const std::function<bool()>& retired);
    std::optional<BlobMetadata> metadata_from_peers(const BlobId& blob, Epoch certified_epoch);
    // Retries until the sliver decodes (or proves the blob inconsistent), or until `retired()`
    // (checked before every attempt).
    std::optional<RecoveredSliver> recover_sliver(const BlobMetadata& metadata, uint32_t pair,
                                                  SliverType type, Epoch certified_epoch,
                                                  const std::function<bool()>& retired);
    std::optional<RecoveredSliver> sliver_from_committee(const BlobMetadata& metadata,
                                                         uint32_t pair, SliverType type,
                                                         Epoch certified_epoch);
    bool is_retired(const BlobId& blob);
    // F9's fix: the proofs awaiting invalidation are persisted, and reloaded at boot.
    bool persists_proofs() const {
        return context_.config.old.existence_check_skips_proven_inconsistent;
    }
    // The blob sync's spawn_blocking calls as msim runs them (node/spawn_blocking.h), not inline.
    bool blocking_calls_as_tasks() const {
        return context_.config.spawn_blocking == SpawnBlockingModel::tasks;
    }
    struct PairOutcome {
        bool shard_removed = false;
        std::optional<InconsistencyProof> proof;
    };
    static PairOutcome merge(const std::vector<PairOutcome>& outcomes);
    PairOutcome recover_pair(const BlobMetadata& metadata, ShardIndex shard, Epoch pass_epoch,
                             Epoch certified_epoch);
    void check_blob_sync_target(const BlobId& blob, ShardIndex shard, Epoch pass_epoch);

    sim::Runtime& rt_;
    const NodeContext& context_;
    NodeStorage& storage_;
    CommitteeService& committees_;
    EncodingParams params_;
    BlobSyncHandler syncs_;
    uint64_t blob_sync_inconsistency_proofs_ = 0;
};

}  // namespace walrus
