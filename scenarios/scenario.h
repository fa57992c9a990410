#pragma once
// The scenario vocabulary: what a scripted scenario says, in the words of Walrus's simtests
// (walrus-recovery-spec.md §12, §13). A scenario is a name, a description, typed parameters, a
// cluster builder and a script; the script runs on the world host with a `Scenario` in hand:
//
//     s.sleep(60_s);
//     auto syncs = s.counter("fail_point_shard_sync_task_started", s.node(0));
//     s.crash_at_next_crash_point(s.node(0), 60_s);
//     s.wait_until("node 0 recovering", 240_s, [&] { return s.status_starts_with(0, "Recovery");
//     }); s.stake(s.node(0), 3); s.check(s.all_shards_ready(0), "node 0 has a shard that is not
//     Ready");
//
// Every verb is deterministic: randomness comes from the run's seed ("scenario" stream), time is
// virtual, and the verbs act through the kernel (fail points, host kill/restart, the network).

#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/cluster.h"
#include "scenarios/fault_schedule.h"
#include "scenarios/params.h"
#include "sim/sched_strategy.h"
#include "sim/timeline.h"

namespace floe::scenarios {

// A counter attached to a fail point (on one node or on all): counts the hits from the moment
// it is attached. Cheap to copy; reads the live value.
class Counter {
public:
    Counter() = default;
    explicit Counter(std::function<uint64_t()> read) : read_(std::move(read)) {}
    uint64_t value() const { return read_ ? read_() : 0; }

private:
    std::function<uint64_t()> read_;
};

// walrus-simtest's NodeCrashConfig: the bounds, in whole seconds, of repeated crashes.
struct NodeCrashConfig {
    int64_t min_crash_secs = 0;
    int64_t max_crash_secs = 0;
    int64_t min_live_secs = 0;
    int64_t max_live_secs = 0;
};

class Scenario {
public:
    Scenario(sim::Simulation& sim, Cluster& cluster, sim::Runtime& world, const Params& params,
             std::map<std::string, int64_t>& reported, std::vector<std::string>* notes = nullptr);

    // --- parameters and randomness -------------------------------------------------------------
    const Params& params() const { return params_; }
    int64_t integer(std::string_view name) const { return params_.integer(name); }
    sim::Duration duration(std::string_view name) const { return params_.duration(name); }
    bool flag(std::string_view name) const { return params_.flag(name); }
    sim::Rng& rng() { return world_.rng("scenario"); }
    // Another named stream of the world (draws there leave the "scenario" stream as it was).
    sim::Rng& stream(std::string_view name) { return world_.rng(name); }
    // True with probability percent/100, from the scenario stream.
    bool chance(uint32_t percent);

    // --- node selectors --------------------------------------------------------------------------
    NodeIndex node(NodeIndex index) const;
    std::vector<NodeIndex> all_nodes() const;
    NodeIndex random_node();

    // --- the fault schedule (scenarios/fault_schedule.h) ----------------------------------------
    // Recording appends each fault injected to `record`; with `replay`, a scripted fault verb
    // runs only if its ordinal is in the file (admit), and a driver (the swarm) plays the file.
    void set_fault_log(FaultSchedule* record, const FaultSchedule* replay) {
        record_ = record;
        replay_ = replay;
    }
    const FaultSchedule* replay() const { return replay_; }
    // A fault about to be injected: numbered, timed and recorded. Replaying a scripted scenario,
    // false when the file dropped it; else `event` takes the file's parameters.
    bool admit(FaultEvent& event);
    // A fault a driver replays from the schedule (the swarm's player): recorded as it is issued.
    void record_replayed(FaultEvent event);
    // While a driver that records its own faults injects one, the verbs it uses record nothing.
    struct DriverInjecting {
        explicit DriverInjecting(Scenario& scenario) : s(scenario) { s.driver_injecting_ = true; }
        ~DriverInjecting() { s.driver_injecting_ = false; }
        DriverInjecting(const DriverInjecting&) = delete;
        DriverInjecting& operator=(const DriverInjecting&) = delete;
        Scenario& s;
    };

    // --- verbs -----------------------------------------------------------------------------------
    void sleep(sim::Duration duration) { world_.sleep(duration); }
    // Runs `body` in a fiber of its own on the world host, beside the script (a stake move at a
    // fixed time while the script crashes nodes); it ends with the run at the latest.
    void spawn(std::string name, std::function<void()> body) {
        (void)world_.spawn(std::move(name), std::move(body));
    }
    sim::Instant now() const { return world_.now(); }
    // Crash now (all fibers unwound, memory dropped) and boot again after `restart_after`.
    void crash(NodeIndex node, sim::Duration restart_after);
    // simtests' crash_target_node: crash at the node's next DB write or event (the crash fail
    // points of §11), once. Returns a flag that turns true when it struck.
    std::shared_ptr<bool> crash_at_next_crash_point(NodeIndex node, sim::Duration restart_after);
    // simtests' repeatedly_crash_target_node: until `until` (inclusive), down for a whole number
    // of seconds drawn from [min_crash_secs, max_crash_secs], then live [min_live_secs,
    // max_live_secs] s before the next crash (each at the next crash fail point).
    void crash_repeatedly(NodeIndex node, sim::Instant until, const NodeCrashConfig& crash);
    // --- storage faults (ClusterConfig::storage_faults; scenarios/storage_faults.h) ---
    // Power loss: the node goes down as in a crash, and its disk keeps only what it had made
    // durable (with `tear`, a sector-aligned prefix of each unsynced tail too); it boots after
    // `restart_after`.
    void power_loss(NodeIndex node, sim::Duration restart_after, bool tear = false);
    // A power loss at `node`'s next hit of `fail_point` for which `when` holds, once. Any fail
    // point: a crash point, a model point, or an fs-* point of the simulated disk (then in the
    // middle of a RocksDB operation, whose effect on the disk is cut short). The flag turns true
    // when it struck.
    std::shared_ptr<bool> power_loss_at(const std::string& fail_point, NodeIndex node,
                                        sim::Duration restart_after, bool tear = false,
                                        std::function<bool()> when = {});
    // As crash_at_next_crash_point, with a power loss.
    std::shared_ptr<bool> power_loss_at_next_crash_point(NodeIndex node,
                                                         sim::Duration restart_after,
                                                         bool tear = false);
    // Issue 3's background crashes (Cluster::crash_nodes_randomly), until `until`: one node at a
    // time, drawn from the "crashes" stream, crashes at a crash fail point. Not in the fault
    // schedule: a replay runs them again as drawn, and `floe shrink` cannot cut them.
    void crash_randomly(sim::Instant until, const CrashConfig& crash = {}) {
        cluster_.crash_nodes_randomly(world_, until, crash);
    }
    // Whether the data-loss budget lets `node` lose data now (always, storage-faults=unbounded).
    bool may_lose_data(NodeIndex node);
    // Liveness is checked (not storage-faults=unbounded).
    bool checks_liveness() const;
    // The fault budget: taking `candidate` down (or cutting it off) leaves at most f shards'
    // worth of nodes down or cut off, f = (n_shards - 1) / 3, counting the shards a node holds
    // now or at the next committee. The node a partition cut off is `isolated` (set_isolated).
    bool within_fault_budget(NodeIndex candidate);
    // Shards not yet holding data at up owners that `skip` does not count (strict budget only).
    uint32_t unfilled_shards(const std::function<bool(NodeIndex)>& skip);
    void set_isolated(std::optional<NodeIndex> node) { isolated_ = node; }
    bool is_isolated(NodeIndex node) const { return isolated_ == node; }
    // The storage node `host` runs, if it is one.
    std::optional<NodeIndex> node_of_host(sim::HostId host) const;
    walrus::Disk& disk(NodeIndex node) { return cluster_.disk(node); }

    void kill(NodeIndex node);     // down for good (until `restart`)
    void restart(NodeIndex node);  // boot a node that is down
    bool is_up(NodeIndex node) const;
    // Nothing crosses between `side` and every other host (nodes, client); the chain stays
    // reachable ("the chain is always available").
    void partition(const std::vector<NodeIndex>& side);
    void heal();
    void disarm_crash_points();  // undoes crash_at_next_crash_point / crash_repeatedly
    void arm(const std::string& fail_point, sim::FailPointAction action);
    void disarm(const std::string& fail_point);
    Counter counter(const std::string& fail_point, std::optional<NodeIndex> node = std::nullopt);
    void stake(NodeIndex node, uint64_t amount);
    void withdraw(NodeIndex node, uint64_t amount);
    void start_workload();
    void stop_workload();
    // Polls `predicate` every second until it holds (true) or `deadline` of virtual time
    // passed: then the run fails as a liveness failure naming `what`, and this returns false.
    // A timeout's failure names the caller's place (for grouping failures by signature).
    bool wait_until(const std::string& what, sim::Duration deadline,
                    const std::function<bool()>& predicate, const char* file = __builtin_FILE(),
                    int line = __builtin_LINE());
    // As wait_until, without failing: returns whether `predicate` came true in time.
    bool wait_until_or_timeout(sim::Duration deadline, const std::function<bool()>& predicate);
    // A free-form event in the trace ("recovery held", "stake added").
    void mark(const std::string& text) { world_.mark(text); }

    // Cluster::write_blob_from_world, from the scenario's world fiber.
    std::optional<walrus::BlobId> write_blob(const walrus::BlobId& blob, Epoch lifetime) {
        return cluster_.write_blob_from_world(world_, blob, lifetime);
    }

    // --- observations ----------------------------------------------------------------------------
    std::optional<walrus::HealthInfo> health(NodeIndex node) {
        return cluster_.health(world_, node);
    }
    std::string status(NodeIndex node);  // "" if it does not answer
    bool status_starts_with(NodeIndex node, std::string_view prefix);
    std::vector<std::string> shard_statuses(NodeIndex node);
    bool all_shards_ready(NodeIndex node);
    Epoch epoch() { return cluster_.chain().current_epoch(); }
    // The first epoch whose committee a stake move made now shapes (§1.1).
    Epoch next_shapeable_epoch();
    const walrus::Chain& chain() { return cluster_.chain(); }
    Cluster& cluster() { return cluster_; }
    sim::Simulation& sim() { return sim_; }

    // --- checks ----------------------------------------------------------------------------------
    // A failed check fails the run (invariant class) with the message; returns `condition`.
    bool check(bool condition, const std::string& message, const char* file = __builtin_FILE(),
               int line = __builtin_LINE());
    void fail(sim::FailureClass failure, const std::string& message,
              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
        sim_.fail(failure, message, file, line);
    }
    // Every node Active (Standby outside the committee), every shard Ready, every certified
    // blob stored at every shard (the cluster's convergence check), within `deadline`.
    void check_converged(sim::Duration deadline) { cluster_.check_converged(world_, deadline); }
    // Fibers of `node` blocked on a wait whose name contains `needle` (lost wake-ups).
    std::vector<std::string> blocked_fibers(NodeIndex node, std::string_view needle) const;

    // --- results ---------------------------------------------------------------------------------
    // A named number for the run's summary and JSON record.
    void report(const std::string& key, int64_t value) { reported_[key] = value; }
    // A line of text for the run's summary and JSON record ("notes"), e.g. the fail-point swarm's
    // choices; also marked in the trace.
    void note(const std::string& text);

private:
    sim::HostId host(NodeIndex node) const { return cluster_.host(node); }

    sim::Simulation& sim_;
    Cluster& cluster_;
    sim::Runtime& world_;
    const Params& params_;
    std::map<std::string, int64_t>& reported_;  // outlives the run, so a failed run keeps it
    std::vector<std::string>* notes_;
    std::optional<NodeIndex> isolated_;
    FaultSchedule* record_ = nullptr;
    const FaultSchedule* replay_ = nullptr;
    uint64_t next_fault_id_ = 0;
    bool driver_injecting_ = false;
};

struct ScenarioSpec {
    std::string name;
    std::string description;
    std::string mirrors;  // the simtest or PR it mirrors, with the spec section
    std::vector<ParamSpec> params;
    // Old-behaviour switches under which this scenario must fail (it catches those bugs).
    std::vector<std::string> catches;
    // A known failure of Walrus itself (docs/FINDINGS.md): the scenario fails as Walrus is and
    // passes with these new-behaviour switches. Left out of `floe sweep --all`; the gate runs it
    // as a `walrus` line.
    std::vector<std::string> fixed_by;
    // A scale scenario (mainnet-shape): minutes a seed, so left out of `floe sweep --all` and of
    // `floe bench scenarios` without names; `floe bench scale` and the gate run it at chosen sizes.
    bool heavy = false;
    sim::Duration time_limit = sim::Duration::minutes(90);
    // The cluster builder: weights, shards, epoch length, config overrides.
    std::function<void(const Params&, sim::Rng& build_rng, ClusterConfig&)> build;
    std::function<void(Scenario&)> script;
};

// Every scenario floe ships, in a stable order.
const std::vector<ScenarioSpec>& all_scenarios();
const ScenarioSpec* find_scenario(std::string_view name);

struct ScenarioRunOptions {
    uint64_t seed = 1;
    std::vector<std::string> sets;  // "key=value"
    walrus::Behaviours old;
    sim::SchedStrategy sched;  // the order of same-instant events (`--sched`)
    std::string trace_path;
    std::string data_dir;
    // Attached to the run's trace for its whole length when set (the Perfetto file and the
    // HTML report are rendered from it); the caller owns it.
    sim::TimelineRecorder* timeline = nullptr;
    // Benchmarks only: false stops the trace from the first event (no hash, no sinks), to
    // measure what the fingerprint itself costs.
    bool fold_trace = true;
    // Benchmarks only: RocksDB's memory Env instead of the simulated disk (ClusterConfig).
    bool rocksdb_memory_env = false;
    // Set to the run's fail-point summary while the run is on (reset after), so a failed
    // assertion's hook can still report what the aborted run reached.
    std::function<struct FailPointSummary()>* live_fail_points = nullptr;
    // The fault schedule (scenarios/fault_schedule.h): recorded into `record_faults` (the caller
    // owns it and writes it out, also when the run aborts), replayed from `replay_faults`, whose
    // file `faults_path` names in the repro command.
    FaultSchedule* record_faults = nullptr;
    const FaultSchedule* replay_faults = nullptr;
    std::string faults_path;
};

struct FailPointSummary {
    std::vector<std::string> armed_hit;       // armed by the scenario and reached
    std::vector<std::string> armed_never;     // armed and never reached
    uint64_t hits = 0;                        // all hits of all points
    std::map<std::string, uint64_t> reached;  // every point reached at least once: its hits
    // Probes (node/sites.def): those that held at least once, with their hits, and those whose
    // line ran but whose condition never held (a SOMETIMES never satisfied).
    std::map<std::string, uint64_t> probes;
    std::vector<std::string> probes_never_true;
    // The fail-point swarm's fires (scenarios/buggify.h), per point.
    std::map<std::string, uint64_t> buggify_fired;
};

struct ScenarioResult {
    sim::RunResult result;
    std::map<std::string, int64_t> reported;
    std::vector<std::string> notes;  // Scenario::note
    FailPointSummary fail_points;
};

// Validates the options (unknown key, bad value: `error` set, nothing runs), then runs.
ScenarioResult run_scenario(const ScenarioSpec& spec, const ScenarioRunOptions& options,
                            std::string& error);

// The command that reproduces a run.
std::string repro_command(const ScenarioSpec& spec, const ScenarioRunOptions& options);

// The simtests' cluster (§13 common setup): weights [1,2,3,3,4], 13 shards, 30 s epochs,
// shard-sync retry backoff 1-3 s, blob-recovery monitor 5 s; everything else at the §14
// defaults, as in Walrus (switch to direct recovery after 12 h, 1000 slivers per request).
void simtest_cluster(ClusterConfig& config);

// simtest_cluster with floe's shard-sync overrides for the scenarios beyond the four simtests:
// a shard sync without progress switches to direct recovery after 20 s (so a dead source is
// left within the run), and a transfer request asks for 8 slivers (so a transfer spans many
// requests, and crash points).
void short_shard_sync_cluster(ClusterConfig& config);

}  // namespace floe::scenarios
