#pragma once
// Steps shared by the shipped scenarios (simtests.cpp, recovery_scenarios.cpp,
// shard_move_scenarios.cpp, swarm.cpp), and the lists each of those files contributes to the
// registry.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace floe::scenarios {

std::vector<ScenarioSpec> simtest_scenarios();
std::vector<ScenarioSpec> recovery_scenarios();
std::vector<ScenarioSpec> shard_move_scenarios();
std::vector<ScenarioSpec> coverage_scenarios();
std::vector<ScenarioSpec> model_scenarios();
std::vector<ScenarioSpec> storage_fault_scenarios();
ScenarioSpec random_crashes_scenario();
ScenarioSpec mainnet_shape_scenario();
ScenarioSpec swarm_scenario();

// A scripted scenario's spec; `catches` and `fixed_by` as in ScenarioSpec.
ScenarioSpec scripted_spec(std::string name, std::string description, std::string mirrors,
                           std::function<void(const Params&, sim::Rng&, ClusterConfig&)> build,
                           std::function<void(Scenario&)> script,
                           std::vector<ParamSpec> params = {},
                           std::vector<std::string> catches = {},
                           std::vector<std::string> fixed_by = {});

// The end of every scenario: stop the workload, then every node must converge (Active, all
// shards Ready, every certified blob stored everywhere) within the deadline; committees checked.
void finish_with_convergence(Scenario& s, sim::Duration deadline = sim::Duration::seconds(300));

// A power loss of `node` at its `nth` write to the WAL (a RocksDB put, delete or batch of the
// node's fiber) for which `when` holds: in the middle of that write (arms fs-write-eio).
std::shared_ptr<bool> power_loss_at_nth_wal_write(Scenario& s, NodeIndex node, uint64_t nth,
                                                  sim::Duration down, bool tear,
                                                  std::function<bool()> when);

// Node recovery of `node` over the whole run, counted at its fail points, into the report: its
// catch-up exits (T4, T5, T6), recovery task starts, syncs, scans, checkpoint resumes and
// discards, epoch changes while recovering (§7.6) and waits for shards not created yet (#3453).
void report_node0_recovery(Scenario& s, NodeIndex node = 0);

size_t owned_shard_count(Scenario& s, NodeIndex node);

// How often `fail_point` (a fail point or a probe) was hit on `node`.
uint64_t hits_on(Scenario& s, const char* fail_point, NodeIndex node);

// The shards of a health reply as a report value: bit i set when shard i is listed (so a test
// can compare the exact set a node owns).
int64_t shard_mask(const std::vector<walrus::ShardHealth>& shards);

// The previous owner of the highest-indexed shard `node` gains at `gain` (a role, so a scenario
// works on any cluster shape); nullopt if it gains none or a committee is not known yet.
std::optional<NodeIndex> source_of_highest_gained_shard(Scenario& s, NodeIndex node, Epoch gain);

// The source of `gainer`'s highest gained shard goes down for `down`, once, when `gainer` starts a
// shard-sync task in epoch `gain` or later: the transfer from it makes no progress for the switch
// interval, so that sync falls back to per-blob recovery (§8). Arms
// fail_point_shard_sync_task_started on the gainer; the flag turns true when it struck.
std::shared_ptr<bool> crash_source_when_transfer_starts(Scenario& s, NodeIndex gainer, Epoch gain,
                                                        sim::Duration down);

// An inconsistently encoded blob whose bad sliver is `shard`'s primary sliver: only a node that
// recovers that sliver (a blob sync or shard sync of `shard`) can prove it inconsistent.
walrus::BlobId inconsistent_blob_at(walrus::ShardIndex shard, uint32_t n_shards, uint64_t seed);

// simtests' crash_target_node: `node` crashes at its next crash fail point for `down`; waits (at
// most 60 s) until it struck, then disarms the points. False (and the run failed) if it never did.
bool crash_at_crash_point_and_wait(Scenario& s, NodeIndex node, sim::Duration down);

// Waits until `node` is up and has processed events for a while (a restarted node reports its
// persisted status until its first event shows it lagging), then until it is Active with every
// owned shard Ready and no recovery task running. False (and the run failed) after `deadline`.
bool wait_recovered(Scenario& s, NodeIndex node, sim::Duration deadline);

// §13.3's counters on one node: shard syncs started and finished, and an ordering violation
// counted when a recovery start_sync fires while a shard sync runs (arms
// fail_point_node_recovery_start_sync).
struct ShardSyncWatch {
    Counter started;
    Counter finished;
    std::shared_ptr<uint64_t> ordering_violation;
};
ShardSyncWatch watch_shard_syncs(Scenario& s, NodeIndex node);

// Holds every recovery task start of `node` at start_node_recovery_entry while *flag is true.
std::shared_ptr<bool> hold_recovery(Scenario& s, NodeIndex node);

// Crashes `node` for `down` at its `n`-th recovery start_sync (counted from now), after
// running `before` (arms fail_point_node_recovery_start_sync). The flag is set once it struck.
std::shared_ptr<bool> crash_at_nth_recovery_sync(Scenario& s, NodeIndex node, int n,
                                                 sim::Duration down,
                                                 std::function<void()> before = {});

// §13.4 step 7: no other node lists a shard of `node` among its owned shards.
void check_sole_owner_of_its_shards(Scenario& s, NodeIndex node);

// Node recovery's retry delays against #3407's backoff (§9.3, invariant 21). The backoff lives in
// one pass and a blob retries only until it settles, which ends its part in that pass: so per
// blob and pass the delays must run initial, then double the previous one, capped (1, 2, 4, 8,
// 16, 30, 30 ... s), with no restart in between.
struct RetryRuns {
    std::string violation;   // the first retry off that rule, or ""
    size_t longest = 0;      // the most retries of one blob in one pass
    size_t most_capped = 0;  // the most of those at the cap
};
RetryRuns retry_runs(const walrus::NodeRecoveryStats& stats,
                     const walrus::NodeRecoveryConfig& config);
// retry_runs, failing the run on a violation; reports retries, longest_retry_run and
// capped_retry_run.
RetryRuns check_retry_backoff(Scenario& s, const walrus::NodeRecoveryStats& stats,
                              const walrus::NodeRecoveryConfig& config);

}  // namespace floe::scenarios
