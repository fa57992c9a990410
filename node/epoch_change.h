#pragma once
// Epoch change (walrus-recovery-spec.md §7): EpochChangeStart(E) is routed by node status and by
// how far the chain is (§7.3), then the node's status and shards change along one of its paths
// (§7.4-§7.6), and a finisher removes shards and completes the event (§7.7).
//
// What to do is decided by pure functions of plain values (`plan`, table-tested in
// tests/node/test_epoch_change_plan.cpp), as Walrus's epoch_change/plan.rs plan_epoch_change
// does; EpochChange only gathers those values and applies the result. Walrus reads some of the
// values after earlier steps took effect (a committee fetched after expired syncs were
// cancelled, the previous committee after a status write), and each read may be an RPC, so
// planning happens in three stages, each on the values read so far: the route (§7.3
// execute_epoch_change), the status change (the catch-up exits, or the in-sync routine's
// Standby and RecoveryInProgress writes), and the shard changes (§7.4-§7.6).

#include <map>
#include <optional>
#include <vector>

#include "node/attestation.h"
#include "node/behaviours.h"
#include "node/blob_events.h"
#include "node/blob_sync.h"
#include "node/committee_service.h"
#include "node/event_handle.h"
#include "node/garbage_collector.h"
#include "node/messages.h"
#include "node/node_context.h"
#include "node/node_recovery.h"
#include "node/node_storage.h"
#include "node/shard_diff.h"
#include "node/shard_sync.h"
#include "node/status.h"
#include "sim/runtime.h"

namespace walrus {

// --- the plan (pure) -----------------------------------------------------------------------------

// §7.3 routing (execute_epoch_change).
enum class EpochChangeRoute : uint8_t {
    catch_up,                     // execute_epoch_change_while_catching_up
    enter_recovery_and_catch_up,  // EpochIsLess: T3, then the catch-up routine
    in_sync,                      // execute_epoch_change_when_node_is_in_sync
};

// The path the epoch change takes.
enum class EpochChangePath : uint8_t {
    backlog,                        // catching up, E behind the chain: only completed
    leave_committee,                // catching up, not a member: Standby (T4)
    join_as_new_member,             // catching up, a member not in E-1: §7.4 joining (T5)
    recover_continuing_member,      // catching up, a member in E-1 too: §7.5 (T6)
    in_sync,                        // §7.4 (T9, T11)
    while_recovering,               // §7.6, #3464 (T7)
    force_active_while_recovering,  // §7.5 for T7, before #3464 (force-active-gained-shards)
};

// Walrus HEAD's EpochSyncDoneAttestationOwner (§7.8).
enum class AttestationOwner : uint8_t { nobody, finisher, shard_sync, recovery_task };

const char* epoch_change_path_name(EpochChangePath path);
const char* attestation_owner_name(AttestationOwner owner);

// What routing reads (§7.3). `chain_epoch` is the chain's latest epoch, asked only when E is not
// the tracked committee epoch (begin_committee_change(E) answers EpochIsTheSameAsCurrent
// without asking).
struct RouteInputs {
    Epoch epoch = 0;
    bool catching_up = false;
    Epoch committee_epoch = 0;
    std::optional<Epoch> chain_epoch;
};
bool route_asks_chain(const RouteInputs& in);
EpochChangeRoute plan_route(const RouteInputs& in);

// What the status change reads, after the route's first step took effect. Catching up:
// `chain_epoch` (asked again, begin_committee_change_to_latest_committee), `member_now` unless
// a backlog, `member_before` if a member now (false at E = 1). In sync: `member_now` and the
// status.
struct StatusInputs {
    Epoch epoch = 0;
    NodeStatus status;
    std::optional<Epoch> chain_epoch;
    std::optional<bool> member_now;
    std::optional<bool> member_before;
    bool has_recovery_checkpoint = false;
    Behaviours behaviours;
};
struct StatusPlan {
    EpochChangePath path = EpochChangePath::backlog;
    bool begin_committee_change = false;        // the committee service moves to E
    bool set_standby = false;                   // T4 / T11
    bool checkpoint_outlived_catch_up = false;  // finding F1's fail point
    bool clear_recovery_checkpoint = false;     // F1's fix
    bool set_recovery_in_progress = false;      // RecoveryInProgress(E): T6 / T7
    bool defer_recovery_in_progress = false;    // F8's fix: T6 writes it after the shards
    bool joining = false;                       // a Standby node that is a member: T9 / T5
    bool operator==(const StatusPlan&) const = default;
};
StatusPlan plan_status(EpochChangeRoute route, const StatusInputs& in);
// Whether `path` goes on to change shards (the catch-up exits T4 and the backlog do not).
bool changes_shards(EpochChangePath path);

// What the shard changes read (§3.3 diff, then the shards' states).
struct ShardInputs {
    std::vector<ShardIndex> owned_before;  // at E-1; empty at E = 1
    std::vector<ShardIndex> owned_now;
    std::vector<ShardIndex> existing;
    std::map<ShardIndex, ShardStatus> status_of_existing;  // of the gained shards that exist
    std::vector<ShardIndex> syncing;                       // shards with a running shard sync
    bool shard_sync_in_progress = false;                   // §8.2 counter > 0
    bool member_now = false;
    Behaviours behaviours;
};
// One gained shard in create_new_shards_and_start_sync: whether it is already Active (finding
// F2) and whether its sync start is recorded before the finisher (#3464 does it in the launcher).
struct GainedShard {
    ShardIndex shard = 0;
    bool regained_active = false;
    bool record_sync_start = false;
    bool operator==(const GainedShard&) const = default;
};
struct ForcedShard {
    ShardIndex shard = 0;
    bool create = false;
    bool operator==(const ForcedShard&) const = default;
};
struct FinisherPlan {
    std::vector<ShardIndex> to_remove;
    bool ongoing_shard_sync = false;  // the finisher does not attest
    bool member = false;
    std::vector<ShardIndex> gained;
    bool operator==(const FinisherPlan&) const = default;
};
struct ShardPlan {
    std::vector<ShardIndex> create;         // gained shards without storage, status None
    bool set_recover_metadata = false;      // joining with gained shards: T9 / T5
    std::vector<GainedShard> gained;        // shard-synced from their previous owners
    bool start_shard_sync = false;          // shard sync starts for the gained shards
    std::vector<ForcedShard> force_active;  // §7.5: every owned shard, created if missing
    std::vector<ShardIndex> lock;           // existing shards lost at E
    bool start_recovery = false;            // node recovery (re)starts for E
    std::optional<FinisherPlan> finisher;   // otherwise the event completes at once
    AttestationOwner attester = AttestationOwner::nobody;
    bool operator==(const ShardPlan&) const = default;
};
ShardPlan plan_shard_changes(EpochChangePath path, bool joining, const ShardInputs& in);

// The three stages at once, for a caller that has every value (the table test).
struct EpochChangeInputs {
    RouteInputs route;
    StatusInputs status;
    ShardInputs shards;
};
struct EpochChangePlan {
    EpochChangeRoute route = EpochChangeRoute::in_sync;
    StatusPlan status;
    std::optional<ShardPlan> shards;
    bool operator==(const EpochChangePlan&) const = default;
};
EpochChangePlan plan(const EpochChangeInputs& in);

// --- applying it ---------------------------------------------------------------------------------

class EpochChange {
public:
    struct Parts {
        NodeStorage& storage;
        CommitteeService& committees;
        Attester& attester;
        BlobSyncHandler& blob_sync;
        ShardSyncHandler& shard_sync;
        NodeRecoveryHandler& recovery;
        BlobEvents& blob_events;
        GarbageCollector& gc;
    };
    EpochChange(sim::Runtime& rt, const NodeContext& context, const Parts& parts);
    EpochChange(const EpochChange&) = delete;
    EpochChange& operator=(const EpochChange&) = delete;

    // §7.2: EpochChangeStart(E).
    void process_epoch_change_start(const ChainEvent& event, Epoch epoch, EventHandle handle);
    // T3 (node.rs enter_recovery_mode).
    void enter_recovery_mode();
    // §12 consistency reports, by epoch.
    const std::map<Epoch, ConsistencyReport>& consistency_reports() const { return consistency_; }

private:
    void execute_epoch_change(Epoch epoch, EventHandle handle);
    void apply_route(EpochChangeRoute route, Epoch epoch);
    StatusInputs read_status_inputs(EpochChangeRoute route, Epoch epoch);
    void apply_status(const StatusPlan& plan, Epoch epoch);
    ShardInputs read_shard_inputs(Epoch epoch);
    void apply_shard_changes(const ShardPlan& plan, Epoch epoch, EventHandle handle,
                             bool set_recovery_in_progress_after = false);
    // F8's condition: recovering, a shard owned at E-1 and at E has no storage or no status.
    void check_shard_storage_while_recovering(const ShardInputs& in);
    void create_new_shards_and_start_sync(const ShardPlan& plan);
    void force_shards_active(const std::vector<ForcedShard>& shards);
    void lock_shards(const std::vector<ShardIndex>& to_lock);
    void start_finisher(EventHandle handle, Epoch epoch, FinisherPlan plan);
    bool finisher_may_attest(Epoch epoch);
    void note_unrecorded_gained_shards(const std::vector<ShardIndex>& gained);
    bool skips_proven_inconsistent(const BlobId& blob);
    void report_consistency(Epoch epoch);

    sim::Runtime& rt_;
    const NodeContext& context_;
    Parts parts_;
    NodeStorage& storage_;
    CommitteeService& committees_;
    std::map<Epoch, ConsistencyReport> consistency_;
    std::optional<sim::JoinHandle<sim::Unit>> finisher_;
};

}  // namespace walrus
