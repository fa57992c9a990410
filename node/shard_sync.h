#pragma once
// Shard sync (walrus-recovery-spec.md §8): a node that gains a shard fills it from the shard's
// owner in the previous committee, batch by batch, primary slivers then secondary, persisting
// its progress with every batch; blobs the source did not return are recovered one by one
// (ActiveRecover). A launcher task and one task per shard, bounded by a semaphore; every task
// holds an RAII guard of the running-sync counter (§8.2), taken before the task is spawned.

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "node/behaviours.h"
#include "node/config.h"
#include "node/encoding.h"
#include "node/messages.h"
#include "node/node_storage.h"
#include "sim/runtime.h"

namespace walrus {

// What shard sync needs from its node, in three parts owned by three components.
// The committee service (committee_service.h).
class ShardSyncCommittees {
public:
    virtual ~ShardSyncCommittees() = default;
    virtual Epoch current_committee_epoch() = 0;
    virtual const Committee& committee_at(Epoch epoch) = 0;
};

// Per-blob recovery from the committee (blob_recovery.h).
class ShardSyncRecovery {
public:
    virtual ~ShardSyncRecovery() = default;
    // The committee's metadata, retried until it verifies; nullopt once the blob is retired
    // (execute_with_retirement_check around get_or_recover_blob_metadata's committee call).
    virtual std::optional<BlobMetadata> recover_metadata_unless_retired(const BlobId& blob,
                                                                        Epoch certified_epoch) = 0;
    // The sliver decoded from the committee's recovery symbols, retried until it decodes, or the
    // proof that the blob is inconsistently encoded; nullopt once the blob is retired (deleted,
    // invalidated or expired: Walrus's blob_retirement_notifier.execute_with_retirement_check
    // around recover_sliver).
    virtual std::optional<RecoveredSliver> recover_sliver_unless_retired(
        const BlobMetadata& metadata, uint32_t pair, SliverType type, Epoch certified_epoch) = 0;
    // handle_inconsistency (storage/shard.rs): an invalid-blob certificate for the proof, and
    // invalidate_blob_id on the chain; returns once the chain took it.
    virtual void file_inconsistency_proof(const InconsistencyProof& proof) = 0;
};

// The attester (attestation.h): shard sync attests when its last sync of an epoch succeeds
// (§7.8).
class ShardSyncAttester {
public:
    virtual ~ShardSyncAttester() = default;
    // `resumed_at_startup`: the sync that attests was restarted by restart_syncs, not started
    // by an EpochChangeStart of this incarnation (invariant 4 scopes the two apart).
    virtual void attest(Epoch epoch, bool resumed_at_startup) = 0;
    // Every shard the node owns at `epoch` exists and is Active (HEAD's empty pending set).
    virtual bool all_owned_shards_active(Epoch epoch) = 0;
};

// All three in one object: a test rig's fake node.
class ShardSyncEnv : public ShardSyncCommittees,
                     public ShardSyncRecovery,
                     public ShardSyncAttester {};

struct ShardSyncStats {
    uint64_t transferred_slivers = 0;
    uint64_t recovered_slivers = 0;     // per-blob recovery of pending slivers
    uint64_t inconsistency_proofs = 0;  // ... that proved the blob inconsistently encoded
    uint64_t direct_recoveries = 0;     // syncs that switched to direct recovery
    uint64_t retries = 0;
    uint64_t terminal_failures = 0;  // handle_sync_error -> Failed: direct recovery failed too
    uint64_t no_retry_exits = 0;     // fail_point_shard_sync_no_retry: an error taken as Success
    uint64_t read_errors = 0;        // attempts a storage read error ended
};

class ShardSyncHandler {
public:
    ShardSyncHandler(sim::Runtime& rt, NodeStorage& storage, ShardSyncCommittees& committees,
                     ShardSyncRecovery& blob_recovery, ShardSyncAttester& attester, NodeIndex self,
                     uint32_t n_shards, const Directory& directory, const ShardSyncConfig& config,
                     const Behaviours& behaviours = {},
                     SpawnBlockingModel spawn_blocking = SpawnBlockingModel::tasks);
    ShardSyncHandler(sim::Runtime& rt, NodeStorage& storage, ShardSyncEnv& env, NodeIndex self,
                     uint32_t n_shards, const Directory& directory, const ShardSyncConfig& config,
                     const Behaviours& behaviours = {})
        : ShardSyncHandler(rt, storage, env, env, env, self, n_shards, directory, config,
                           behaviours) {}
    ShardSyncHandler(const ShardSyncHandler&) = delete;
    ShardSyncHandler& operator=(const ShardSyncHandler&) = delete;
    ~ShardSyncHandler();

    // §8.3: aborts the previous launcher and starts a new one for `shards` (all owned shards
    // when the node is in RecoverMetadata). `resumed_at_startup`: restart_syncs resumes a
    // RecoverMetadata node's work (Walrus restart_metadata_sync), so the syncs this launcher
    // starts belong to no EpochChangeStart processing of this incarnation (invariant 4).
    void start_sync_shards(std::vector<ShardIndex> shards, bool resumed_at_startup = false);
    // §8.6: called at startup, before events are processed.
    void restart_syncs();

    // §8.2: the running-sync counter.
    bool has_sync_in_progress() const { return count_.borrow() > 0; }
    size_t running_tasks() const { return count_.borrow(); }
    // False on timeout.
    bool wait_until_no_sync_in_progress(sim::Duration timeout);
    bool is_syncing(ShardIndex shard) const { return in_progress_.contains(shard); }
    // A receiver of the counter, for observers (tests, checkers).
    sim::WatchReceiver<size_t> subscribe_count() const { return count_.subscribe(); }
    const ShardSyncStats& stats() const { return stats_; }

private:
    class CountGuard {
    public:
        explicit CountGuard(ShardSyncHandler& handler);
        CountGuard(const CountGuard&) = delete;
        CountGuard& operator=(const CountGuard&) = delete;
        ~CountGuard();

    private:
        ShardSyncHandler& handler_;
    };
    // An attempt's result as sync_shard_impl sees it: Ok, an error handle_sync_error retries
    // plainly (network, source behind, unauthorized, a retryable injected fault), an error it
    // retries with direct recovery (or gives up on, if already direct), or the shard removed.
    enum class Attempt : uint8_t { success, retry, retry_force_recovery, failed };
    struct AttemptResult {
        Attempt outcome = Attempt::success;
        bool made_progress = false;
    };

    void launcher(std::vector<ShardIndex> shards, bool resumed_at_startup);
    bool sync_all_metadata();
    void start_new_shard_sync(ShardIndex shard);
    void start_shard_sync_impl(ShardIndex shard);
    void per_shard_task(ShardIndex shard, Epoch epoch);
    void attest_if_last(Epoch epoch, ShardIndex shard);
    AttemptResult sync_shard_impl(ShardIndex shard, Epoch epoch, bool directly_recover);
    AttemptResult transfer_phase(ShardIndex shard, Epoch epoch, SliverType type,
                                 std::optional<BlobId> after);
    AttemptResult queue_for_direct_recovery(ShardIndex shard, Epoch epoch, SliverType type,
                                            std::optional<BlobId> after);
    enum class PendingResult : uint8_t { done, shard_removed, injected_error, read_error };
    PendingResult recover_pending(ShardIndex shard);
    std::optional<Attempt> fetch_sliver_failure(SliverType type, uint64_t scan_count);
    enum class PendingOutcome : uint8_t { recovered, dropped, shard_removed, read_error };
    PendingOutcome recover_one_pending(ShardIndex shard, SliverType type, const BlobId& blob,
                                       Epoch epoch);
    AttemptResult read_error(bool made_progress);
    std::optional<BlobMetadata> get_or_recover_blob_metadata(const BlobId& blob,
                                                             Epoch certified_epoch);
    bool blocking_calls_as_tasks() const { return spawn_blocking_ == SpawnBlockingModel::tasks; }
    bool owed_by_event_path(const BlobInfo& info) const;
    void check_filled(ShardIndex shard, Epoch epoch,
                      const std::optional<NodeStorage::SyncProgress>& resumed_from);

    sim::Runtime& rt_;
    NodeStorage& storage_;
    ShardSyncCommittees& committees_;
    ShardSyncRecovery& blob_recovery_;
    ShardSyncAttester& attester_;
    NodeIndex self_;
    uint32_t n_shards_;
    Directory directory_;
    ShardSyncConfig config_;
    Behaviours behaviours_;
    SpawnBlockingModel spawn_blocking_;  // how its metadata calls and put_sliver run (X16)
    sim::Semaphore semaphore_;
    sim::WatchSender<size_t> count_;
    sim::WatchReceiver<size_t> count_rx_;
    std::optional<sim::JoinHandle<sim::Unit>> launcher_;
    // From start_sync_shards until the launcher has spawned its per-shard tasks (invariant 12).
    // A launcher aborted by the next start_sync_shards hands its work over to the new one.
    std::optional<uint64_t> launcher_pending_;
    uint64_t launchers_ = 0;
    std::map<ShardIndex, sim::JoinHandle<sim::Unit>> in_progress_;
    ShardSyncStats stats_;
    std::set<ShardIndex> resumed_at_startup_;  // syncs restart_syncs started
};

}  // namespace walrus
