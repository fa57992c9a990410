#pragma once
// The issue-3 cluster scenario, shared by the test suite and `floe cluster`: the simtests'
// cluster (weights [1,2,3,3,4], 13 shards, 30 s epochs) under the writer workload for a number
// of epochs, optionally with random crashes at the crash fail points (one node at a time), then
// a liveness phase: the workload stops and every node must converge — Active, every shard
// Ready, every certified blob stored everywhere — within a virtual deadline. The consistency
// checker runs throughout.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/cluster.h"

namespace floe::scenarios {

// Issue 4: node 0 is staked 3 units more, so at the next committee it gains shards 12, 8 and 5
// from nodes 4, 3 and 2 (§18) and fills them by shard sync.
enum class ShardGain : uint8_t {
    none,
    sources_up,      // every previous owner answers: transfer only, no per-blob recovery
    source_crashed,  // node 4 (source of shard 12) is down for 90 s once the transfer starts:
                     // no progress for the switch interval → direct recovery
    gainer_crashed,  // node 0 crashes at its 12th batch request (every gained shard has
                     // progress on disk by then) and resumes from its progress
};
const char* shard_gain_name(ShardGain gain);

// Issue 5: node 0 goes down for longer than two epoch changes and comes back through catch-up
// and node recovery (walrus-recovery-spec.md §2.2, §9.5, the simtests of §13).
enum class RecoveryCase : uint8_t {
    none,
    long_down,              // §13.1: down 100 s; the first recovery start is delayed 60 s, so
                            // an epoch change restarts the task while it waits
    crash_during_recovery,  // §13.4 with #3407: checkpoint every settled blob, one sync at a
                            // time, a 5 s crash at the 3rd recovery start_sync; resumes from
                            // the checkpoint
    shard_change_discards,  // as above, and node 0 gains shards at that crash: the restarted
                            // task is held until the epoch change while recovering ran, so it
                            // finds a different owned-shard set and discards the checkpoint
    gain_while_recovering,  // §13.3: recovery held while a stake move gives node 0 shards;
                            // they are shard-synced from their previous owners, and recovery
                            // starts no blob sync while a shard sync runs
    shared_sync_waiter,     // #3412: while recovery is held, a blob node 0 lacks is extended;
                            // the event path's sync of it is slowed, so recovery subscribes to
                            // the same sync: two waiters on one blob
    readiness_window,       // #3453: node 0 (recovering, held) gains shards at epoch G; it is
                            // down across G's start and, back, processes EpochChangeStart(G)
                            // 20 s late: meanwhile the latest committee owns shards it has not
                            // created, and recovery must wait for them
    leaves_committee,       // T4: node 0's stake is withdrawn just before it goes down for
                            // 100 s; it catches up to an epoch whose committee lacks it and
                            // ends Standby
    joins_committee,        // T5: node 0 withdrawn at the start (Standby from epoch 2), killed
                            // at 60 s, staked again while down, and started once the epoch that
                            // gives it a shard is current: it leaves catch-up as a new member
                            // (RecoverMetadata, shard sync) and ends Active
    shard_sync_fails,       // WAL-1271, no node down: node 0 gains shards (in sync) and one
                            // shard sync fails terminally (fail_point_shard_sync_no_retry):
                            // its shard stays InTransfer and node 0 must stop attesting
};
const char* recovery_case_name(RecoveryCase recovery);
std::optional<RecoveryCase> parse_recovery_case(std::string_view name);
const std::vector<RecoveryCase>& all_recovery_cases();

struct ClusterScenarioOptions {
    uint64_t seed = 1;
    int epochs = 5;
    bool crashes = true;
    std::string trace_path;
    std::string data_dir;
    ShardGain shard_gain = ShardGain::none;
    sim::Duration stake_at = sim::Duration::seconds(65);
    RecoveryCase recovery = RecoveryCase::none;
    walrus::Behaviours old;
};

struct ClusterScenarioReport {
    sim::RunResult result;
    walrus::Epoch final_epoch = 0;
    uint64_t blobs_written = 0;
    uint64_t blobs_read = 0;
    uint64_t crashes = 0;
    uint64_t client_retries = 0;
    // Node 0 at the end (shard-gain scenarios).
    std::vector<walrus::ShardIndex> node0_shards;
    uint64_t node0_transferred = 0;
    uint64_t node0_recovered = 0;
    uint64_t node0_direct_recoveries = 0;
    uint64_t resumed_from_progress = 0;
    uint64_t shard_sync_tasks_started = 0;
    // Node recovery of node 0, counted at its fail points over all its incarnations.
    std::string node0_status;
    size_t node0_initial_shards = 0;
    uint64_t entered_catch_up = 0;           // T3 (either way)
    uint64_t recovery_task_starts = 0;       // start_node_recovery_entry
    uint64_t recovery_syncs_started = 0;     // fail_point_node_recovery_start_sync
    uint64_t recovery_blobs_scanned = 0;     // node_recovery_scan_blob
    uint64_t resumed_from_checkpoint = 0;    // fail_point_node_recovery_resumed_from_checkpoint
    uint64_t checkpoints_discarded = 0;      // node_recovery_checkpoint_discarded
    uint64_t recovering_path_hits = 0;       // fail_point_shard_changes_..._while_recovering
    uint64_t catch_up_exits_not_member = 0;  // T4
    uint64_t catch_up_exits_new_member = 0;  // T5
    uint64_t catch_up_exits_continuing = 0;  // T6
    uint64_t node0_shard_syncs_started = 0;  // after the stake (gain_while_recovering)
    uint64_t readiness_waits = 0;            // node_recovery_shard_not_ready (node 0)
    std::vector<std::string> node0_shard_api_status;
    std::vector<std::string> stuck_sync_waiters;  // shared_sync_waiter: lost wake-ups
    bool node0_attested_after_failure = false;    // shard_sync_fails: an epoch after the failure
};

// Returns the report; `error` is set (and nothing runs) for unusable options.
ClusterScenarioReport run_cluster_scenario(const ClusterScenarioOptions& options,
                                           std::string& error);

}  // namespace floe::scenarios
