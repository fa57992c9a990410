#include "scenarios/scenario.h"

#include <sstream>

#include "node/sites.h"
#include "scenarios/buggify.h"
#include "scenarios/shape.h"

namespace floe::scenarios {

using namespace sim::time_literals;

Scenario::Scenario(sim::Simulation& sim, Cluster& cluster, sim::Runtime& world,
                   const Params& params, std::map<std::string, int64_t>& reported,
                   std::vector<std::string>* notes)
    : sim_(sim),
      cluster_(cluster),
      world_(world),
      params_(params),
      reported_(reported),
      notes_(notes) {}

void Scenario::note(const std::string& text) {
    mark(text);
    if (notes_ != nullptr) {
        notes_->push_back(text);
    }
}

bool Scenario::chance(uint32_t percent) {
    return rng().below(100) < percent;
}

NodeIndex Scenario::node(NodeIndex index) const {
    FLOE_ASSERT(index < cluster_.size(), "the scenario names node {} of {}", index,
                cluster_.size());
    return index;
}

std::vector<NodeIndex> Scenario::all_nodes() const {
    std::vector<NodeIndex> nodes;
    for (NodeIndex i = 0; i < cluster_.size(); ++i) {
        nodes.push_back(i);
    }
    return nodes;
}

NodeIndex Scenario::random_node() {
    return static_cast<NodeIndex>(rng().below(cluster_.size()));
}

// --- the fault schedule --------------------------------------------------------------------------

bool Scenario::admit(FaultEvent& event) {
    if (driver_injecting_) {
        return true;  // the driver recorded (or replays) it as one of its own faults
    }
    event.id = next_fault_id_++;
    event.at = now();
    if (replay_ != nullptr) {
        const auto it = std::find_if(replay_->events.begin(), replay_->events.end(),
                                     [&](const FaultEvent& e) { return e.id == event.id; });
        if (it == replay_->events.end()) {
            mark(fmt::format("fault #{} ({}) left out by the schedule", event.id, event.kind));
            return false;
        }
        const uint64_t id = event.id;
        const sim::Instant at = event.at;
        event = *it;  // the file's parameters (a shrunk down time, for one)
        event.id = id;
        event.at = at;
    }
    if (record_ != nullptr) {
        record_->events.push_back(event);
    }
    return true;
}

void Scenario::record_replayed(FaultEvent event) {
    event.id = next_fault_id_++;
    event.at = now();
    if (record_ != nullptr) {
        record_->events.push_back(std::move(event));
    }
}

namespace {

FaultEvent fault(std::string kind, NodeIndex node, sim::Duration down = {}) {
    FaultEvent event;
    event.kind = std::move(kind);
    event.node = static_cast<uint32_t>(node);
    event.down = down;
    return event;
}

}  // namespace

// --- verbs ---------------------------------------------------------------------------------------

void Scenario::crash(NodeIndex node, sim::Duration restart_after) {
    FaultEvent event = fault("crash", node, restart_after);
    if (!admit(event)) {
        return;
    }
    restart_after = event.down;
    mark(fmt::format("crash node{} for {}", node, restart_after.to_string()));
    sim_.restart(host(node), restart_after);
}

std::shared_ptr<bool> Scenario::crash_at_next_crash_point(NodeIndex node,
                                                          sim::Duration restart_after) {
    auto fired = std::make_shared<bool>(false);
    FaultEvent event = fault("crash_at_crash_point", node, restart_after);
    if (!admit(event)) {
        return fired;  // never strikes
    }
    restart_after = event.down;
    const sim::HostId target = host(node);
    for (const std::string& name : crash_node_fail_points) {
        arm(name, sim::FailPointAction::call([this, fired, target, restart_after] {
                      if (!*fired) {
                          *fired = true;
                          sim_.restart(target, restart_after);
                      }
                  }).only_on(target));
    }
    return fired;
}

void Scenario::crash_repeatedly(NodeIndex node, sim::Instant until, const NodeCrashConfig& crash) {
    // The simtests' callback form (walrus-simtest test_utils.rs, repeatedly_crash_target_node):
    // every crash point hit checks the clock; none after `until`; the next crash is due once the
    // node has been down and then lived its drawn time; both drawn in whole seconds.
    struct State {
        sim::Instant next;
        sim::Rng rng;
    };
    auto state = std::make_shared<State>(
        State{now(), sim_.scheduler().make_rng(fmt::format("repeated-crashes-node{}", node))});
    const sim::HostId target = host(node);
    for (const std::string& name : crash_node_fail_points) {
        arm(name, sim::FailPointAction::call([this, state, target, until, crash] {
                      const sim::Instant t = sim_.scheduler().now();
                      if (t > until || t < state->next) {
                          return;
                      }
                      const sim::Duration down = sim::Duration::seconds(
                          state->rng.range(crash.min_crash_secs, crash.max_crash_secs));
                      state->next = t + down +
                                    sim::Duration::seconds(
                                        state->rng.range(crash.min_live_secs, crash.max_live_secs));
                      sim_.restart(target, down);
                  }).only_on(target));
    }
}

void Scenario::power_loss(NodeIndex node, sim::Duration restart_after, bool tear) {
    FaultEvent event = fault("power_loss", node, restart_after);
    event.tear = tear;
    if (!admit(event)) {
        return;
    }
    restart_after = event.down;
    tear = event.tear;
    mark(fmt::format("power loss on node{} for {}", node, restart_after.to_string()));
    cluster_.cut_power(node, tear);
    sim_.restart(host(node), restart_after);
}

std::shared_ptr<bool> Scenario::power_loss_at(const std::string& fail_point, NodeIndex node,
                                              sim::Duration restart_after, bool tear,
                                              std::function<bool()> when) {
    auto fired = std::make_shared<bool>(false);
    FaultEvent event = fault("power_loss_at", node, restart_after);
    event.point = fail_point;
    event.tear = tear;
    if (!admit(event)) {
        return fired;  // never strikes
    }
    restart_after = event.down;
    const sim::HostId target = host(node);
    arm(fail_point,
        sim::FailPointAction::call([this, fired, node, target, restart_after, tear] {
            if (!*fired) {
                *fired = true;
                cluster_.cut_power(node, tear);
                sim_.restart(target, restart_after);
            }
        })
            .only_on(target)
            .only_when([fired, when = std::move(when)] { return !*fired && (!when || when()); }));
    return fired;
}

std::shared_ptr<bool> Scenario::power_loss_at_next_crash_point(NodeIndex node,
                                                               sim::Duration restart_after,
                                                               bool tear) {
    auto fired = std::make_shared<bool>(false);
    FaultEvent event = fault("power_loss_at_crash_point", node, restart_after);
    event.tear = tear;
    if (!admit(event)) {
        return fired;  // never strikes
    }
    restart_after = event.down;
    const sim::HostId target = host(node);
    for (const std::string& name : crash_node_fail_points) {
        arm(name, sim::FailPointAction::call([this, fired, node, target, restart_after, tear] {
                      if (!*fired) {
                          *fired = true;
                          cluster_.cut_power(node, tear);
                          sim_.restart(target, restart_after);
                      }
                  }).only_on(target));
    }
    return fired;
}

bool Scenario::may_lose_data(NodeIndex node) {
    if (cluster_.storage_faults() == StorageFaultMode::unbounded) {
        return true;
    }
    if (cluster_.status_view() == nullptr) {
        return cluster_.data_loss_budget().allows(cluster_.chain(), cluster_.n_shards(), node);
    }
    return cluster_.data_loss_budget().allows(
        cluster_.chain(), cluster_.n_shards(), node, [this](const std::set<NodeIndex>& counted) {
            return unfilled_shards([&](NodeIndex other) { return counted.contains(other); });
        });
}

// The strict fault budget: shards of the current committee that hold no data now although
// their owner is up, at owners `skip` does not count already. A node not Active (catching up,
// recovering, Standby) counts all its shards, an Active one those not Active (being synced or
// recovered). Swarm 16232: a power loss admitted while a node's gained shards were unfilled
// took a blob below its decoding thresholds.
uint32_t Scenario::unfilled_shards(const std::function<bool(NodeIndex)>& skip) {
    const StatusView* view = cluster_.status_view();
    uint32_t unfilled = 0;
    for (NodeIndex node : all_nodes()) {
        if (skip(node) || !is_up(node)) {
            continue;
        }
        for (walrus::ShardIndex shard : chain().current_committee().shards_of(node)) {
            if (!view->node_active(host(node)) || !view->shard_active(host(node), shard)) {
                ++unfilled;
            }
        }
    }
    return unfilled;
}

bool Scenario::checks_liveness() const {
    return cluster_.storage_faults() != StorageFaultMode::unbounded;
}

namespace {

// Shards a node holds now or at the next committee (a stake move may be taking effect).
uint32_t budget_weight(const walrus::Chain& chain, NodeIndex node) {
    size_t shards = chain.current_committee().shards_of(node).size();
    if (auto next = chain.next_committee()) {
        shards = std::max(shards, next->shards_of(node).size());
    }
    return static_cast<uint32_t>(shards);
}

}  // namespace

bool Scenario::within_fault_budget(NodeIndex candidate) {
    const uint32_t f = (cluster_.n_shards() - 1) / 3;
    uint32_t out = budget_weight(chain(), candidate);
    for (NodeIndex node : all_nodes()) {
        if (node != candidate && (!is_up(node) || is_isolated(node))) {
            out += budget_weight(chain(), node);
        }
    }
    if (cluster_.status_view() != nullptr) {
        out += unfilled_shards(
            [&](NodeIndex node) { return node == candidate || !is_up(node) || is_isolated(node); });
    }
    return out <= f;
}

std::optional<NodeIndex> Scenario::node_of_host(sim::HostId host_id) const {
    for (NodeIndex node = 0; node < cluster_.size(); ++node) {
        if (host(node) == host_id) {
            return node;
        }
    }
    return std::nullopt;
}

void Scenario::kill(NodeIndex node) {
    FaultEvent event = fault("kill", node);
    if (!admit(event)) {
        return;
    }
    mark(fmt::format("kill node{}", node));
    sim_.kill(host(node));
}

void Scenario::restart(NodeIndex node) {
    if (!is_up(node)) {
        mark(fmt::format("start node{}", node));
        sim_.start(host(node));
    }
}

bool Scenario::is_up(NodeIndex node) const {
    return sim_.scheduler().is_alive(host(node));
}

void Scenario::partition(const std::vector<NodeIndex>& side) {
    FaultEvent event;
    event.kind = "partition";
    event.point = fmt::format("{}", fmt::join(side, ","));
    if (!admit(event)) {
        return;
    }
    std::vector<sim::HostId> inside;
    std::vector<sim::HostId> outside{cluster_.client_host()};
    for (NodeIndex i = 0; i < cluster_.size(); ++i) {
        const bool in = std::find(side.begin(), side.end(), i) != side.end();
        (in ? inside : outside).push_back(host(i));
    }
    mark(fmt::format("partition {} hosts from the rest", inside.size()));
    sim_.net().partition(inside, outside);
}

void Scenario::heal() {
    mark("heal the network");
    sim_.net().heal_all();
}

namespace {

// A scenario names sites by string; each must be in the catalog (node/sites.def), so a typo
// is a failed assertion instead of a point that is silently never hit.
const walrus::site::Site& catalog_site(std::string_view name) {
    const walrus::site::Site* site = walrus::site::find(name);
    FLOE_ASSERT(site != nullptr, "'{}' is not a fail point or probe of node/sites.def", name);
    return *site;
}

}  // namespace

void Scenario::arm(const std::string& fail_point, sim::FailPointAction action) {
    FLOE_ASSERT(!catalog_site(fail_point).is_probe(), "'{}' is a probe: probes cannot be armed",
                fail_point);
    sim_.fail_points().arm(fail_point, std::move(action));
}

void Scenario::disarm_crash_points() {
    for (const std::string& name : crash_node_fail_points) {
        disarm(name);
    }
}

void Scenario::disarm(const std::string& fail_point) {
    sim_.fail_points().disarm(fail_point);
}

Counter Scenario::counter(const std::string& fail_point, std::optional<NodeIndex> node) {
    // Counts from now on, whatever the point is armed with later: the baseline is subtracted.
    (void)catalog_site(fail_point);
    const sim::FailPoints& points = sim_.fail_points();
    const std::optional<sim::HostId> on =
        node.has_value() ? std::optional<sim::HostId>(host(*node)) : std::nullopt;
    const uint64_t base = on.has_value() ? points.hits(fail_point, *on) : points.hits(fail_point);
    // A live view of the kernel's per-host hit count, read on demand (no fiber, no events).
    struct View {
        const sim::FailPoints* points;
        std::string name;
        std::optional<sim::HostId> host;
        uint64_t base;
    };
    auto view = std::make_shared<View>(View{&points, fail_point, on, base});
    return Counter([view] {
        const uint64_t now = view->host.has_value() ? view->points->hits(view->name, *view->host)
                                                    : view->points->hits(view->name);
        return now - view->base;
    });
}

void Scenario::stake(NodeIndex node, uint64_t amount) {
    FaultEvent event = fault("stake", node);
    event.amount = amount;
    if (!admit(event)) {
        return;
    }
    amount = event.amount;
    mark(fmt::format("stake {} to node{}", amount, node));
    cluster_.chain_service().add_stake(node, amount);
}

void Scenario::withdraw(NodeIndex node, uint64_t amount) {
    FaultEvent event = fault("withdraw", node);
    event.amount = amount;
    if (!admit(event)) {
        return;
    }
    amount = event.amount;
    mark(fmt::format("withdraw {} from node{}", amount, node));
    cluster_.chain_service().withdraw_stake(node, amount);
}

void Scenario::start_workload() {
    mark("start the workload");
    cluster_.start_workload();
}

void Scenario::stop_workload() {
    mark("stop the workload");
    cluster_.stop_workload();
}

bool Scenario::wait_until_or_timeout(sim::Duration deadline,
                                     const std::function<bool()>& predicate) {
    const sim::Instant until = now() + deadline;
    while (!predicate() && now() < until) {
        sleep(1_s);
    }
    return predicate();
}

bool Scenario::wait_until(const std::string& what, sim::Duration deadline,
                          const std::function<bool()>& predicate, const char* file, int line) {
    const sim::Instant until = now() + deadline;
    while (!predicate()) {
        if (now() >= until) {
            const std::string message =
                fmt::format("timed out after {} waiting until {}", deadline.to_string(), what);
            if (!checks_liveness()) {
                mark("liveness not checked (storage-faults=unbounded): " + message);
                return false;
            }
            fail(sim::FailureClass::liveness, message, file, line);
            return false;
        }
        sleep(1_s);
    }
    return true;
}

// --- observations --------------------------------------------------------------------------------

std::string Scenario::status(NodeIndex node) {
    auto info = health(node);
    return info.has_value() ? info->node_status : std::string();
}

bool Scenario::status_starts_with(NodeIndex node, std::string_view prefix) {
    return status(node).rfind(prefix, 0) == 0;
}

std::vector<std::string> Scenario::shard_statuses(NodeIndex node) {
    std::vector<std::string> out;
    if (auto info = health(node)) {
        for (const walrus::ShardHealth& shard : info->owned_shards) {
            out.push_back(fmt::format("{}:{}", shard.shard, shard.api_status));
        }
    }
    return out;
}

bool Scenario::all_shards_ready(NodeIndex node) {
    auto info = health(node);
    if (!info.has_value()) {
        return false;
    }
    for (const walrus::ShardHealth& shard : info->owned_shards) {
        if (shard.api_status != "Ready") {
            return false;
        }
    }
    return true;
}

Epoch Scenario::next_shapeable_epoch() {
    const walrus::Chain& c = chain();
    const bool before_voting_end = c.state() == walrus::EpochState::change_sync ||
                                   c.state() == walrus::EpochState::change_done;
    return c.current_epoch() + (before_voting_end ? 1 : 2);
}

bool Scenario::check(bool condition, const std::string& message, const char* file, int line) {
    if (!condition) {
        fail(sim::FailureClass::invariant, message, file, line);
    }
    return condition;
}

std::vector<std::string> Scenario::blocked_fibers(NodeIndex node, std::string_view needle) const {
    std::vector<std::string> out;
    const std::string on_host = fmt::format("on host node{} ", node);
    std::istringstream blocked(sim_.scheduler().describe_blocked_fibers());
    for (std::string line; std::getline(blocked, line);) {
        if (line.find(needle) != std::string::npos && line.find(on_host) != std::string::npos) {
            out.push_back(line.substr(line.find_first_not_of(' ')));
        }
    }
    return out;
}

// --- running -------------------------------------------------------------------------------------

void simtest_cluster(ClusterConfig& config) {
    // Walrus's simtest node config (test_utils.rs `storage_node_config()` at fb097a2262, which
    // SimStorageNodeHandle's config is built on): only the retry backoff and the monitor
    // interval differ from the defaults; the switch to direct recovery stays at 12 h and a
    // transfer request asks for 1000 slivers.
    config.weights = {1, 2, 3, 3, 4};
    config.n_shards = 13;
    config.epoch_duration = 30_s;
    config.node.blob_recovery.monitor_interval = 5_s;
    config.node.shard_sync.retry_min_backoff = 1_s;
    config.node.shard_sync.retry_max_backoff = 3_s;
    config.node.events.blob_event_workers = 3;  // "Uses smaller number of workers in tests"
}

void short_shard_sync_cluster(ClusterConfig& config) {
    simtest_cluster(config);
    // A short no-progress interval, so a dead source switches a shard sync to direct recovery
    // within the run; small batches, so a transfer spans many requests (crash points).
    config.node.shard_sync.retry_switch_to_recovery_interval = 20_s;
    config.node.shard_sync.sliver_count_per_sync_request = 8;
}

const ScenarioSpec* find_scenario(std::string_view name) {
    for (const ScenarioSpec& spec : all_scenarios()) {
        if (spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

std::string repro_command(const ScenarioSpec& spec, const ScenarioRunOptions& options) {
    std::string out = fmt::format("floe run {} --seed {}", spec.name, options.seed);
    for (const std::string& set : options.sets) {
        out += fmt::format(" --set {}", set);
    }
    for (const std::string& name : options.old.enabled()) {
        out += fmt::format(" {} {}", walrus::behaviour_flag(name), name);
    }
    if (!options.sched.is_random()) {  // so the repro commands of random runs stay as they were
        out += fmt::format(" --sched {}", sim::sched_strategy_name(options.sched));
    }
    if (!options.faults_path.empty()) {
        out += fmt::format(" --faults {}", options.faults_path);
    }
    return out;
}

namespace {

FailPointSummary summarize_fail_points(const sim::FailPoints& points) {
    FailPointSummary summary;
    for (const auto& [name, stats] : points.stats()) {
        summary.hits += stats.hits;
        if (stats.hits > 0) {
            summary.reached[name] = stats.hits;
        }
        if (stats.armed_ever) {
            (stats.hits > 0 ? summary.armed_hit : summary.armed_never).push_back(name);
        }
        if (stats.background_fires > 0) {
            summary.buggify_fired[name] = stats.background_fires;
        }
    }
    for (const auto& [name, stats] : points.probe_stats()) {
        if (stats.hits > 0) {
            summary.probes[name] = stats.hits;
        } else {
            summary.probes_never_true.push_back(name);
        }
    }
    return summary;
}

}  // namespace

ScenarioResult run_scenario(const ScenarioSpec& spec, const ScenarioRunOptions& options,
                            std::string& error) {
    ScenarioResult out;
    Params params(spec.params);
    for (const std::string& set : options.sets) {
        error = params.set(set);
        if (!error.empty()) {
            return out;
        }
    }
    sim::SimulationConfig config;
    config.seed = options.seed;
    config.sched = options.sched;
    config.time_limit = sim::Instant::zero() + spec.time_limit;
    sim::Simulation sim(config);
    if (!options.trace_path.empty()) {
        error = sim.trace().open_text(options.trace_path);
        if (!error.empty()) {
            return out;
        }
    }
    if (options.timeline != nullptr) {
        sim.trace().attach(*options.timeline);
    }
    if (!options.fold_trace) {
        sim.trace().stop_folding();
    }
    ClusterConfig cluster_config;
    sim::Rng build_rng(options.seed, "scenario-build");
    spec.build(params, build_rng, cluster_config);
    error = apply_shape(params, cluster_config);
    if (!error.empty()) {
        return out;
    }
    cluster_config.node.old = options.old;
    cluster_config.data_dir = options.data_dir;
    if (params.has("storage-faults")) {
        cluster_config.storage_faults = parse_storage_fault_mode(params.choice("storage-faults"));
    }
    cluster_config.rocksdb_memory_env = options.rocksdb_memory_env;
    if ((!options.data_dir.empty() || options.rocksdb_memory_env) &&
        cluster_config.storage_faults != StorageFaultMode::off) {
        error =
            "storage faults need the simulated disk: drop --data-dir or --set "
            "storage-faults=off";
        return out;
    }
    Cluster cluster(sim, cluster_config);
    if (options.live_fail_points != nullptr) {
        *options.live_fail_points = [&sim] { return summarize_fail_points(sim.fail_points()); };
    }
    out.result = sim.run([&](sim::Runtime& world) {
        cluster.start();
        cluster.start_consistency_checker(world);
        Scenario scenario(sim, cluster, world, params, out.reported, &out.notes);
        scenario.set_fault_log(options.record_faults, options.replay_faults);
        start_buggify(scenario);
        spec.script(scenario);
    });
    if (options.timeline != nullptr) {
        sim.trace().detach(*options.timeline);
    }
    out.fail_points = summarize_fail_points(sim.fail_points());
    if (options.live_fail_points != nullptr) {
        *options.live_fail_points = nullptr;
    }
    return out;
}

}  // namespace floe::scenarios
