#pragma once
// A simulated Walrus cluster, as the simtests build it (walrus-recovery-spec.md §12): the chain
// host, one host per storage node (each with its own RocksDB on a world-owned disk, so a crash
// keeps its data), and a client host running the writer workload. The world side can read the
// chain, poke stake, crash nodes at the crash fail points, and run the checkers.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/blob_info.h"
#include "node/chain_service.h"
#include "node/client.h"
#include "node/config.h"
#include "node/storage_node.h"
#include "node/store/disk.h"
#include "scenarios/status_view.h"
#include "scenarios/storage_faults.h"
#include "sim/simulation.h"

namespace floe::scenarios {

using walrus::Epoch;
using walrus::NodeIndex;

// §11/§12: the eleven DB-write and event-processing fail points.
extern const std::vector<std::string> crash_node_fail_points;
// Every other fail point the Walrus model passes (recovery, sync, epoch change, events), but the
// simulated disk's (fs_fail_points); with those, the set a sweep summary's coverage counts.
extern const std::vector<std::string> model_fail_points;
// Every probe of the catalog (FLOE_REACHABLE / FLOE_SOMETIMES), reported per run.
extern const std::vector<std::string> model_probes;

// Makes `node`'s next shard sync fail for good (handle_sync_error -> Failed, §8.4); it has
// failed once fail_point_after_start_recovery fired.
void arm_terminal_shard_sync_failure(sim::Simulation& sim, sim::HostId node);

struct ClusterConfig {
    std::vector<uint64_t> weights = {1, 2, 3, 3, 4};
    uint32_t n_shards = 13;
    sim::Duration epoch_duration = sim::Duration::seconds(30);
    walrus::NodeConfig node;
    walrus::ClientConfig client;
    bool workload = true;
    std::string data_dir;  // empty: RocksDB's in-memory Env per node
    sim::Duration chain_latency = sim::Duration::millis(10);
    // Storage faults the scenario may inject (scenarios/storage_faults.h); a data directory
    // (data_dir) supports none.
    StorageFaultMode storage_faults = StorageFaultMode::off;
    // The strict fault budget (the default; `--set fault-budget=loose` is the budget before 1
    // December 2026): the swarm's and buggify's budgets also count shards that hold no data yet
    // (a node not Active, a shard not Active at its owner). docs/FINDINGS.md "Swarm 16232".
    bool strict_fault_budget = true;
    uint64_t sector_bytes = 4096;  // a torn write keeps whole sectors of this size
    // `floe bench scenarios` only: RocksDB's own memory Env (the medium before issue 16) instead
    // of the simulated disk, to measure what the simulated disk costs.
    bool rocksdb_memory_env = false;
};

// Extends, by two epochs, the newest live non-deletable blob first certified two to four epochs
// ago (a node down for three epoch changes lacks it), so its storers sync it again. Returns its
// blob id, or nullopt if there is none.
std::optional<walrus::BlobId> extend_recently_certified_blob(walrus::Chain& chain);

struct CrashConfig {
    double probability = 0.01;  // per hit of a crash fail point, like Walrus's simtests
    sim::Duration min_down = sim::Duration::seconds(1);
    sim::Duration max_down = sim::Duration::seconds(10);
    sim::Duration min_live = sim::Duration::seconds(5);   // between one node's restart and the
    sim::Duration max_live = sim::Duration::seconds(20);  // next crash
};

class Cluster {
public:
    Cluster(sim::Simulation& sim, ClusterConfig config);
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;
    ~Cluster();

    // Boots the chain, every node and (if configured) the client.
    void start();
    // Stops the writer workload (before a final convergence check).
    void stop_workload() { sim_.kill(client_host_); }
    // Starts (again) the writer workload; a no-op while it runs.
    void start_workload();
    sim::HostId client_host() const { return client_host_; }

    walrus::Chain& chain() { return chain_service_.chain(); }
    walrus::ChainService& chain_service() { return chain_service_; }
    size_t size() const { return node_hosts_.size(); }
    sim::HostId host(NodeIndex node) const { return node_hosts_[node]; }
    const walrus::Directory& directory() const { return directory_; }
    const walrus::Client* client() const { return client_.get(); }
    uint32_t n_shards() const { return config_.n_shards; }
    const ClusterConfig& config() const { return config_; }
    sim::Duration epoch_duration() const { return config_.epoch_duration; }

    // Health as the simtests read it (over RPC from the world host); nullopt if unreachable.
    std::optional<walrus::HealthInfo> health(sim::Runtime& world, NodeIndex node);

    // The world as a writer: registers a permanent blob for `lifetime` epochs, stores its
    // slivers on every member of the current committee that answers, and certifies it once
    // members holding a quorum of shards confirmed (an inconsistent blob's pair owner rejects
    // its slivers). The blob, or nullopt if it could not be certified.
    std::optional<walrus::BlobId> write_blob_from_world(sim::Runtime& world,
                                                        const walrus::BlobId& blob,
                                                        walrus::Epoch lifetime);

    // --- storage faults (scenarios/storage_faults.h) ---
    walrus::Disk& disk(NodeIndex node) { return *disks_[node]; }
    StorageFaultMode storage_faults() const { return config_.storage_faults; }
    DataLossBudget& data_loss_budget() { return data_loss_budget_; }
    // What the nodes last reported of their statuses; only with the strict fault budget.
    const StatusView* status_view() const {
        return config_.strict_fault_budget ? &status_view_ : nullptr;
    }
    // Cuts `node`'s power now: its disk keeps only what it made durable (and, with `tear`, a
    // sector-aligned prefix of each unsynced tail) once the node boots again. The caller kills
    // or restarts the host. Counted in the data-loss budget; shown on the node's trace row.
    void cut_power(NodeIndex node, bool tear);

    // Crashes one node at a time at the crash fail points until `until`, never more than one
    // node down (at most f shards' worth with the default weights).
    void crash_nodes_randomly(sim::Runtime& world, sim::Instant until, CrashConfig crash);

    // Blobs first certified before `epoch` and still certified at it, by the chain's history
    // up to EpochChangeStart(epoch): what a shard sync targeting `epoch` fetches (§4.2, §8.5).
    uint64_t certified_before_count(Epoch epoch) const;

    // --- checkers (§10, §12) ---
    // Runs in the background: after each epoch change, every node's consistency report must
    // agree with the chain's history and with the other nodes.
    void start_consistency_checker(sim::Runtime& world);
    // The last epoch whose consistency reports the checker compared (0: none yet).
    Epoch consistency_checked_epoch() const { return consistency_checked_epoch_; }
    // §7.8 in a run without faults: every member of each finished epoch's committee attested
    // it exactly once (no second attempt either). With faults, a member can miss an epoch
    // legitimately (down, or its sync outlived the epoch: a stale attestation is dropped,
    // §1.1) and a restarted one can repeat itself; the node-side assertion "one attesting
    // component per epoch" holds in every run.
    void check_attestations_without_faults();
    // No shard has two owners, and every shard one owner, in every committee so far.
    void check_committees();
    // Waits until every node is Active (Standby outside the committee) with all its shards Ready
    // and no blob sync running, then checks that every certified blob is stored at every shard.
    // Fails the run on timeout.
    void check_converged(sim::Runtime& world, sim::Duration deadline);

private:
    struct SliverCheck {
        bool epoch_changed = false;
        std::string missing;  // the first missing sliver, or "" when none is
    };
    void fail(const std::string& message, const char* file = __builtin_FILE(),
              int line = __builtin_LINE());
    std::string expected_status(NodeIndex node);
    std::string wait_until_settled(sim::Runtime& world, sim::Instant until);
    std::string why_not_settled(sim::Runtime& world);
    std::string waiting_fibers(NodeIndex node, const std::vector<std::string>& prefixes);
    SliverCheck check_all_slivers_stored(sim::Runtime& world);
    uint32_t store_on_members(sim::Runtime& world, const walrus::BlobId& blob);  // shards stored
    std::map<walrus::BlobId, walrus::BlobInfo> replay_blob_info(std::optional<Epoch> until) const;
    uint64_t oracle_digest(Epoch epoch, uint64_t& count) const;
    void check_epoch(sim::Runtime& world, Epoch epoch);
    void check_aggregate_covers_objects(Epoch epoch);

    sim::Simulation& sim_;
    ClusterConfig config_;
    walrus::ChainService chain_service_;
    sim::HostId chain_host_ = 0;
    sim::HostId client_host_ = 0;
    std::vector<sim::HostId> node_hosts_;
    std::vector<std::unique_ptr<walrus::Disk>> disks_;
    std::vector<walrus::NodeContext> contexts_;
    walrus::Directory directory_;
    std::unique_ptr<walrus::Client> client_;
    DataLossBudget data_loss_budget_;
    StatusView status_view_;  // attached to the trace with the strict fault budget only
    Epoch consistency_checked_epoch_ = 0;
};

}  // namespace floe::scenarios
