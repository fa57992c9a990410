#pragma once
// Node recovery (walrus-recovery-spec.md §9), the combined model of §9.5: a node in
// RecoveryInProgress(E) runs one recovery task that
//   1. waits until no shard sync runs, the node is not catching up, and every shard owned at the
//      latest committee exists locally (#3464, #3453: §9.1 step i);
//   2. makes one checkpointed pass (#3407, §9.3) over the blobs certified before E, syncing each
//      one not yet stored at the owned shards, with at most
//      `max_concurrent_blob_syncs_during_recovery` in flight, retrying Cancelled-but-needed blobs
//      with backoff, and persisting the settle cursor as it goes;
//   3. waits for shard syncs again (a sync started by a later epoch change drains first);
//   4. if the status is still exactly RecoveryInProgress(E): Active (T8), clears the checkpoint
//      and attests E — the only attester while the node recovers (§7.8).
// An epoch change while recovering restarts the task for the new target (§7.6); a crash leaves
// only what was persisted. The old behaviours `rescan-recovery`, `force-active-gained-shards` and
// `no-shard-readiness-wait` switch parts of this back to the code before #3407/#3464/#3453.

#include <optional>
#include <set>
#include <vector>

#include "node/backoff.h"
#include "node/blob_sync.h"
#include "node/config.h"
#include "node/node_storage.h"
#include "node/recovery_stats.h"
#include "node/shard_sync.h"
#include "sim/runtime.h"

namespace walrus {

// What the recovery task needs from the committee service (committee_service.h).
class NodeRecoveryEnv {
public:
    virtual ~NodeRecoveryEnv() = default;
    // §9.1 step a: blocks until the node processed its first event.
    virtual void wait_for_event_epoch() = 0;
    // The committee service's epoch (§5 current_committee_epoch): may be ahead of the events.
    virtual Epoch current_committee_epoch() = 0;
    // Shards owned at the latest committee, ascending.
    virtual std::vector<ShardIndex> owned_shards_at_latest() = 0;
};

// The attester (attestation.h), as the recovery task uses it.
class RecoveryAttester {
public:
    virtual ~RecoveryAttester() = default;
    // T8 done: attest epoch_sync_done(E) as the recovery task (§7.8). `resumed_at_startup`: the
    // task was restarted from the persisted status, not started by an EpochChangeStart of this
    // incarnation (invariant 4 scopes the two apart).
    virtual void attest_recovered(Epoch epoch, bool resumed_at_startup) = 0;
};

class NodeRecoveryHandler {
public:
    NodeRecoveryHandler(sim::Runtime& rt, NodeStorage& storage, BlobSyncHandler& blob_sync,
                        ShardSyncHandler& shard_sync, NodeRecoveryEnv& env,
                        RecoveryAttester& attester, const NodeRecoveryConfig& config,
                        const Behaviours& old);
    NodeRecoveryHandler(const NodeRecoveryHandler&) = delete;
    NodeRecoveryHandler& operator=(const NodeRecoveryHandler&) = delete;
    ~NodeRecoveryHandler();

    // §9.1 step 1: aborts and awaits the running task, then starts one for target `epoch`.
    void start_node_recovery(Epoch epoch);
    // §2.2 item 7: at startup, a node in RecoveryInProgress(E) restarts its task for E (#2291).
    void restart_recovery();
    bool is_running() const;
    const NodeRecoveryStats& stats() const { return stats_; }

private:
    struct Outcome {
        BlobId blob;
        SyncOutcome outcome = SyncOutcome::success;
    };
    class Pass;

    // How a checkpointed pass ended: every blob settled, aborted (catching up, or a Skipped
    // sync), or stopped by a read error of its scan.
    enum class PassEnd : uint8_t { finished, aborted, read_failed };

    void run(Epoch epoch);
    bool wait_until_ready_to_scan();
    bool all_owned_shards_exist();
    bool checkpointed_passes(Epoch epoch);
    PassEnd checkpointed_pass(Epoch epoch);
    void rescan_passes(Epoch epoch);
    void after_scan_read_error(ExponentialBackoff& backoff);
    [[noreturn]] void spin_forever();
    void wait_for_shard_syncs();
    void complete(Epoch epoch);
    void check_checkpoint_sound(Epoch epoch, const std::set<ShardIndex>& owned,
                                const BlobId& checkpoint);
    void check_no_shard_sync_running(const BlobId& blob);
    bool still_needed(const BlobId& blob, const std::vector<ShardIndex>& owned);
    void record_retry(const BlobId& blob, sim::Duration delay);

    sim::Runtime& rt_;
    NodeStorage& storage_;
    BlobSyncHandler& blob_sync_;
    ShardSyncHandler& shard_sync_;
    NodeRecoveryEnv& env_;
    RecoveryAttester& attester_;
    NodeRecoveryConfig config_;
    Behaviours old_;
    std::optional<sim::JoinHandle<sim::Unit>> task_;
    bool task_resumed_at_startup_ = false;  // the running task came from restart_recovery
    bool task_spinning_ = false;  // F11: the task is stuck in its scan loop, deaf to abort
    Epoch target_ = 0;            // the target of the task started last
    NodeRecoveryStats stats_;
};

}  // namespace walrus
