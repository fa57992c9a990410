#include "scenarios/cluster.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "node/blob_info.h"
#include "node/sites.h"
#include "scenarios/blob_truth.h"

namespace floe::scenarios {

using namespace sim::time_literals;
using walrus::BlobId;
using walrus::BlobInfo;

using walrus::site::Kind;
using walrus::site::Site;

// All three lists come from the catalog (node/sites.def), in its order.
const std::vector<std::string> crash_node_fail_points =
    walrus::site::names_where([](const Site& site) { return site.kind == Kind::crash_point; });

const std::vector<std::string> model_fail_points = walrus::site::names_where([](const Site& site) {
    return site.kind != Kind::crash_point && site.kind != Kind::fs_fault &&
           site.kind != Kind::probe;
});

const std::vector<std::string> model_probes =
    walrus::site::names_where([](const Site& site) { return site.kind == Kind::probe; });

// As Walrus's own shard-sync unit tests do it (node.rs, sync_shard_shard_recovery_restart):
// the first transfer batch fails non-retryably, so the sync switches to direct recovery, whose
// recovery phase then fails too; handle_sync_error gives up (Failed). The recovery-phase error
// is kept for the task that went direct (a per-shard task runs its attempts in one fiber):
// another gained shard's ordinary recovery phase must not take it.
void arm_terminal_shard_sync_failure(sim::Simulation& sim, sim::HostId node) {
    sim::FailPoints& points = sim.fail_points();
    sim::Scheduler& scheduler = sim.scheduler();
    auto direct = std::make_shared<std::optional<sim::FiberId>>();
    points.arm("fail_point_fetch_sliver",
               sim::FailPointAction::arg({/*primary*/ 0, /*trigger_at*/ 1, /*retryable*/ 0})
                   .once()
                   .only_on(node));
    points.arm("fail_point_direct_shard_sync_recovery",
               sim::FailPointAction::call([&scheduler, direct] {
                   if (!direct->has_value()) {
                       *direct = scheduler.current_fiber();
                   }
               }).only_on(node));
    points.arm(
        "fail_point_after_start_recovery",
        sim::FailPointAction::inject_error().once().only_on(node).only_when([&scheduler, direct] {
            return direct->has_value() && **direct == scheduler.current_fiber();
        }));
}

Cluster::Cluster(sim::Simulation& sim, ClusterConfig config)
    : sim_(sim),
      config_(std::move(config)),
      chain_service_(walrus::ChainConfig{config_.n_shards, config_.epoch_duration},
                     config_.weights) {
    if (config_.strict_fault_budget) {
        sim_.trace().attach(status_view_);
    }
    chain_host_ = sim_.add_host("chain", [this](sim::Runtime& rt) { chain_service_.boot(rt); });
    directory_.chain = chain_host_;
    for (NodeIndex i = 0; i < config_.weights.size(); ++i) {
        const std::string name = fmt::format("node{}", i);
        if (!config_.data_dir.empty()) {
            disks_.push_back(walrus::Disk::on_directory(config_.data_dir + "/" + name));
        } else if (config_.rocksdb_memory_env) {
            disks_.push_back(walrus::Disk::in_rocksdb_memory_env(name));
        } else {
            disks_.push_back(walrus::Disk::in_memory(name));
        }
        node_hosts_.push_back(sim_.add_host(
            name, [this, i](sim::Runtime& rt) { walrus::run_storage_node(rt, contexts_[i]); }));
    }
    directory_.nodes = node_hosts_;
    for (NodeIndex i = 0; i < node_hosts_.size(); ++i) {
        contexts_.push_back(
            walrus::NodeContext{i, config_.n_shards, config_.node, directory_, disks_[i].get()});
    }
    client_host_ = sim_.add_host("client", [this](sim::Runtime& rt) {
        client_ = std::make_unique<walrus::Client>(rt, directory_, config_.n_shards, config_.client,
                                                   [this](const std::string& what, const char* file,
                                                          int line) { fail(what, file, line); });
        client_->run();
    });
    // "The chain is always available, with a configurable latency": its links never lose
    // messages, whatever the default link does.
    const sim::LinkConfig chain_link{sim::LatencyModel::constant(config_.chain_latency), 0.0};
    std::vector<sim::HostId> everyone = node_hosts_;
    everyone.push_back(client_host_);
    everyone.push_back(sim::world_host);
    for (sim::HostId host : everyone) {
        sim_.net().set_link(host, chain_host_, chain_link);
        sim_.net().set_link(chain_host_, host, chain_link);
    }
}

void Cluster::start() {
    sim_.start(chain_host_);
    for (sim::HostId host : node_hosts_) {
        sim_.start(host);
    }
    if (config_.workload) {
        sim_.start(client_host_);
    }
}

void Cluster::start_workload() {
    if (!sim_.scheduler().is_alive(client_host_)) {
        sim_.start(client_host_);
    }
}

void Cluster::fail(const std::string& message, const char* file, int line) {
    sim_.fail(sim::FailureClass::invariant, message, file, line);
}

std::optional<walrus::HealthInfo> Cluster::health(sim::Runtime& world, NodeIndex node) {
    auto reply = world.call<walrus::HealthInfo>(node_hosts_[node], walrus::method::health,
                                                walrus::HealthRequest{}, 2_s);
    if (!reply.ok()) {
        return std::nullopt;
    }
    return std::move(reply).value();
}

uint32_t Cluster::store_on_members(sim::Runtime& world, const BlobId& blob) {
    const walrus::BlobMetadata metadata = walrus::BlobMetadata::compute(blob, config_.n_shards);
    uint32_t confirmed = 0;
    for (const walrus::CommitteeMember& member : chain().current_committee().members) {
        walrus::StoreBlobRequest request{metadata, {}};
        for (walrus::ShardIndex shard : member.shards) {
            const uint32_t pair = walrus::pair_index(shard, config_.n_shards, blob);
            request.slivers.push_back(
                {shard, walrus::encode_sliver(blob, pair, walrus::SliverType::primary),
                 walrus::encode_sliver(blob, pair, walrus::SliverType::secondary)});
        }
        auto reply = world.call<walrus::StoreBlobReply>(node_hosts_[member.node],
                                                        walrus::method::store_blob, request, 2_s);
        if (reply.ok() && !reply.value().error.has_value()) {
            confirmed += static_cast<uint32_t>(member.shards.size());
        }
    }
    return confirmed;
}

std::optional<BlobId> Cluster::write_blob_from_world(sim::Runtime& world, const BlobId& blob,
                                                     walrus::Epoch lifetime) {
    auto object = chain().register_blob(blob, false, chain().current_epoch() + lifetime);
    if (!object.ok()) {
        return std::nullopt;
    }
    world.sleep(1_s);  // every node processes the registration before it accepts slivers
    if (!walrus::is_quorum(store_on_members(world, blob), config_.n_shards) ||
        !chain().certify_blob(object.value()).ok()) {
        return std::nullopt;
    }
    return blob;
}

std::optional<BlobId> extend_recently_certified_blob(walrus::Chain& chain) {
    std::vector<walrus::BlobCertified> candidates;
    for (const walrus::ChainEvent& event : chain.events()) {
        const auto* certified = std::get_if<walrus::BlobCertified>(&event.body);
        if (certified != nullptr && !certified->is_extension && !certified->deletable &&
            certified->certified_epoch + 2 < chain.current_epoch() &&
            certified->certified_epoch + 4 >= chain.current_epoch()) {
            candidates.push_back(*certified);
        }
    }
    for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
        const auto object = chain.object(it->object_id);  // the client may have extended it
        if (object.has_value() && object->end_epoch > chain.current_epoch() &&
            chain.extend_blob(it->object_id, object->end_epoch + 2).ok()) {
            return it->blob_id;
        }
    }
    return std::nullopt;
}

// --- crashes -------------------------------------------------------------------------------------

void Cluster::cut_power(NodeIndex node, bool tear) {
    FLOE_ASSERT(config_.storage_faults != StorageFaultMode::off,
                "a power loss in a run without storage faults (storage-faults=off)");
    walrus::Disk& target = *disks_[node];
    FLOE_ASSERT(target.sim_fs() != nullptr, "node{}'s disk is a real directory: no power loss",
                node);
    if (target.power_cut()) {
        return;  // already dark (the node has not booted since)
    }
    const walrus::SimFsStats at_risk = target.sim_fs()->stats();
    target.power_loss_options.tear = tear;
    target.power_loss_options.sector_bytes = config_.sector_bytes;
    target.cut_power();
    data_loss_budget_.record(chain().current_epoch(), node);
    sim_.runtime(node_hosts_[node])
        .mark(fmt::format("power cut{}: {} unsynced bytes in {} files at risk",
                          tear ? " (torn writes)" : "", at_risk.unsynced_bytes, at_risk.files));
}

void Cluster::crash_nodes_randomly(sim::Runtime& world, sim::Instant until, CrashConfig crash) {
    sim::Rng& rng = world.rng("crashes");
    while (world.now() < until) {
        const NodeIndex victim = static_cast<NodeIndex>(rng.below(node_hosts_.size()));
        const sim::HostId host = node_hosts_[victim];
        const sim::Duration down = rng.uniform(crash.min_down, crash.max_down);
        bool fired = false;
        for (const std::string& name : crash_node_fail_points) {
            // One crash per arming, at whichever crash point the node reaches first.
            sim_.fail_points().arm(name, sim::FailPointAction::call([this, &fired, host, down] {
                                             if (!fired) {
                                                 fired = true;
                                                 sim_.restart(host, down);
                                             }
                                         })
                                             .only_on(host)
                                             .with_probability(crash.probability));
        }
        while (!fired && world.now() < until) {
            world.sleep(100_ms);
        }
        for (const std::string& name : crash_node_fail_points) {
            sim_.fail_points().disarm(name);
        }
        if (fired) {
            world.sleep(down + rng.uniform(crash.min_live, crash.max_live));
        }
    }
}

// --- checkers ------------------------------------------------------------------------------------

void Cluster::check_committees() {
    for (Epoch epoch = 1; epoch <= chain().current_epoch(); ++epoch) {
        const auto committee = chain().committee_at(epoch);
        if (!committee.has_value()) {
            fail(fmt::format("no committee for epoch {}", epoch));
            return;
        }
        std::map<walrus::ShardIndex, NodeIndex> owners;
        for (const walrus::CommitteeMember& member : committee->members) {
            for (walrus::ShardIndex shard : member.shards) {
                if (!owners.emplace(shard, member.node).second) {
                    fail(fmt::format("epoch {}: shard {} owned by nodes {} and {}", epoch, shard,
                                     owners[shard], member.node));
                }
            }
        }
        if (owners.size() != config_.n_shards) {
            fail(fmt::format("epoch {}: {} of {} shards have an owner", epoch, owners.size(),
                             config_.n_shards));
        }
    }
}

void Cluster::check_attestations_without_faults() {
    const Epoch current = chain().current_epoch();
    for (Epoch epoch = 1; epoch < current; ++epoch) {
        const auto committee = chain().committee_at(epoch);
        for (const walrus::CommitteeMember& member : committee->members) {
            if (!chain().has_attested(member.node, epoch)) {
                fail(fmt::format("node {} never attested epoch {}", member.node, epoch));
            }
        }
    }
    for (const auto& [key, count] : chain_service_.duplicate_attestations()) {
        fail(
            fmt::format("node {} attested epoch {} {} more time(s)", key.second, key.first, count));
    }
}

std::map<BlobId, BlobInfo> Cluster::replay_blob_info(std::optional<Epoch> until) const {
    return replay_node_blob_info(chain_service_.chain().events(), until,
                                 config_.node.garbage_collection.enable_blob_info_cleanup);
}

// The digest of blobs certified before `epoch`, as every node must report it.
uint64_t Cluster::oracle_digest(Epoch epoch, uint64_t& count) const {
    walrus::BlobIdDigest digest;
    const auto infos = replay_blob_info(epoch);
    for (const auto& [blob, info] : infos) {
        if (walrus::certified_before_epoch(info, epoch)) {
            digest.add(blob);
        }
    }
    count = digest.count;
    return digest.value;
}

uint64_t Cluster::certified_before_count(Epoch epoch) const {
    uint64_t count = 0;
    (void)oracle_digest(epoch, count);
    return count;
}

// The aggregate's rules (§4.1) may over-approximate the chain's objects, never under: a blob
// some live certified object keeps certified at `epoch` must be certified by the replayed
// aggregate too, or a node following those rules would drop (or never sync) a blob it owes.
void Cluster::check_aggregate_covers_objects(Epoch epoch) {
    const auto infos = replay_blob_info(epoch);
    const BlobTruth truth = BlobTruth::from_events(chain_service_.chain().events(), epoch);
    for (const BlobId& blob : truth.certified_blobs(epoch)) {
        const auto it = infos.find(blob);
        if (it == infos.end() || !it->second.is_certified(epoch)) {
            fail(
                fmt::format("epoch {}: blob {} has a live certified object, but the aggregate "
                            "blob info (the nodes' rules, §4.1) does not count it certified",
                            epoch, blob.short_hex()));
            return;
        }
    }
}

Cluster::~Cluster() {
    if (config_.strict_fault_budget) {
        sim_.trace().detach(status_view_);
    }
}

void Cluster::check_epoch(sim::Runtime& world, Epoch epoch) {
    check_aggregate_covers_objects(epoch);
    uint64_t expected_count = 0;
    const uint64_t expected = oracle_digest(epoch, expected_count);
    for (NodeIndex node = 0; node < node_hosts_.size(); ++node) {
        auto reply = world.call<walrus::ConsistencyReply>(
            node_hosts_[node], walrus::method::consistency, walrus::ConsistencyRequest{epoch}, 2_s);
        if (!reply.ok() || !reply.value().report.has_value()) {
            continue;  // down, or restarted since (reports live in memory, like Walrus's)
        }
        const walrus::ConsistencyReport& report = *reply.value().report;
        if (report.certified_digest != expected) {
            fail(
                fmt::format("epoch {}: node {} reports {} certified blobs (digest {:016x}), the "
                            "chain's history has {} ({:016x})",
                            epoch, node, report.certified_count, report.certified_digest,
                            expected_count, expected));
        }
        if (report.was_active && report.stored == report.checked) {
            data_loss_budget_.healed(node, epoch);
        }
        // A blob whose existence check met a read error is neither stored nor missing.
        if (report.was_active && report.stored + report.errors != report.checked) {
            fail(
                fmt::format("epoch {}: Active node {} stores {} of {} certified blobs at all "
                            "its shards{}",
                            epoch, node, report.stored, report.checked - report.errors,
                            report.errors == 0
                                ? ""
                                : fmt::format(" ({} more unknown: read errors)", report.errors)));
        }
    }
}

void Cluster::start_consistency_checker(sim::Runtime& world) {
    world.spawn("consistency-checker", [this, &world] {
        Epoch checked = 1;
        while (true) {
            world.sleep(config_.epoch_duration / 3);
            check_committees();
            // An epoch is checked once the next one has started: by then every live node has
            // processed its EpochChangeStart.
            while (checked + 1 < chain().current_epoch()) {
                ++checked;
                check_epoch(world, checked);
                consistency_checked_epoch_ = checked;
            }
        }
    });
}

// A member of the current committee ends Active; a node outside it (its stake withdrawn) ends
// Standby (T4, T11).
std::string Cluster::expected_status(NodeIndex node) {
    return chain().current_committee().contains(node) ? "Active" : "Standby";
}

void Cluster::check_converged(sim::Runtime& world, sim::Duration deadline) {
    const sim::Instant until = world.now() + deadline;
    // An epoch change during the sliver check moves shards: wait for the new committee to
    // settle and check again.
    constexpr int max_epoch_changes = 5;
    for (int round = 0; round < max_epoch_changes; ++round) {
        if (const std::string why = wait_until_settled(world, until); !why.empty()) {
            fail(fmt::format("the cluster did not converge within {}: {}", deadline.to_string(),
                             why));
            return;
        }
        const SliverCheck check = check_all_slivers_stored(world);
        if (!check.epoch_changed) {
            if (!check.missing.empty()) {
                fail(check.missing);
            }
            return;
        }
    }
    fail(fmt::format("the sliver check was overtaken by {} epoch changes", max_epoch_changes));
}

// "" once every node is Active (Standby outside the committee) with its shards Ready and no
// sync running; else, at `until`, why not.
std::string Cluster::wait_until_settled(sim::Runtime& world, sim::Instant until) {
    while (true) {
        std::string why = why_not_settled(world);
        if (why.empty() || world.now() >= until) {
            return why;
        }
        world.sleep(1_s);
    }
}

// What the fibers of the work that did not finish wait on (the deadlock report's words), so a
// reader of a liveness failure starts from the stuck fiber.
std::string Cluster::waiting_fibers(NodeIndex node, const std::vector<std::string>& prefixes) {
    std::string fibers = sim_.scheduler().describe_blocked_fibers_of(node_hosts_[node], prefixes);
    if (fibers.empty()) {
        return " (no such fiber is blocked)";
    }
    // The first few, so the message stays one readable line.
    constexpr size_t shown = 4;
    size_t cut = 0;
    size_t count = 0;
    for (size_t at = 0; (at = fibers.find("; ", at)) != std::string::npos; at += 2) {
        if (++count == shown) {
            cut = at;
        }
    }
    if (cut > 0) {
        fibers = fmt::format("{}; and {} more", fibers.substr(0, cut), count + 1 - shown);
    }
    return " (" + fibers + ")";
}

std::string Cluster::why_not_settled(sim::Runtime& world) {
    for (NodeIndex node = 0; node < node_hosts_.size(); ++node) {
        const auto health_info = health(world, node);
        if (!health_info.has_value()) {
            return fmt::format("node {} does not answer", node);
        }
        if (health_info->node_status != expected_status(node)) {
            return fmt::format(
                "node {} is {}, not {}{}", node, health_info->node_status, expected_status(node),
                health_info->status.is_recovering()
                    ? waiting_fibers(node, {"node-recovery", "recovery", "shard-sync"})
                    : std::string());
        }
        const Epoch epoch = chain().current_epoch();
        if (health_info->event_epoch != epoch) {
            return fmt::format("node {} has not processed the start of epoch {}{}", node, epoch,
                               waiting_fibers(node, {"events", "epoch-change-finisher"}));
        }
        const size_t events = chain().events().size();
        if (health_info->persisted_cursor < events) {
            return fmt::format(
                "node {} has handled {} of {} chain events{}", node, health_info->persisted_cursor,
                events,
                waiting_fibers(node, {"events", "epoch-change-finisher", "recover-sliver"}));
        }
        if (health_info->shard_syncs_running > 0) {
            std::string shards;
            for (const walrus::ShardHealth& shard : health_info->owned_shards) {
                if (shard.api_status != "Ready") {
                    shards += fmt::format("{}shard {} {}", shards.empty() ? "" : ", ", shard.shard,
                                          shard.api_status);
                }
            }
            return fmt::format("node {} has {} shard-sync tasks running [{}]{}", node,
                               health_info->shard_syncs_running, shards,
                               waiting_fibers(node, {"shard-sync", "recover-pending"}));
        }
        if (health_info->blob_syncs_in_progress > 0) {
            return fmt::format("node {} has {} blob syncs running{}", node,
                               health_info->blob_syncs_in_progress,
                               waiting_fibers(node, {"recover-sliver", "recover-pending"}));
        }
        for (const walrus::ShardHealth& shard : health_info->owned_shards) {
            if (shard.api_status != "Ready") {
                return fmt::format("node {} shard {} is {}", node, shard.shard, shard.api_status);
            }
        }
    }
    return {};
}

// Every blob certified now is stored at every shard of its owner. One inventory request per
// member, all at one epoch: a check made of thousands of single-sliver calls takes virtual
// minutes and would compare nodes against a committee the chain has since replaced.
Cluster::SliverCheck Cluster::check_all_slivers_stored(sim::Runtime& world) {
    const Epoch epoch = chain().current_epoch();
    const walrus::Committee committee = chain().current_committee();
    std::vector<BlobId> certified;
    for (const auto& [blob, info] : replay_blob_info(std::nullopt)) {
        if (info.is_certified(epoch)) {
            certified.push_back(blob);
        }
    }
    SliverCheck out;
    for (const walrus::CommitteeMember& member : committee.members) {
        auto reply = world.call<std::vector<walrus::MissingSliver>>(
            node_hosts_[member.node], walrus::method::missing_slivers,
            walrus::MissingSlivers{certified, member.shards}, 2_s);
        if (!reply.ok()) {
            out.missing = fmt::format("node {} does not answer the sliver inventory: {}",
                                      member.node, sim::rpc_error_name(reply.error()));
            break;
        }
        if (!reply.value().empty()) {
            const walrus::MissingSliver& first = reply.value().front();
            out.missing = fmt::format(
                "certified blob {} missing its {} sliver at shard {} of node {} ({} missing there)",
                first.blob_id.short_hex(), walrus::sliver_type_name(first.type), first.shard,
                member.node, reply.value().size());
            break;
        }
    }
    out.epoch_changed = chain().current_epoch() != epoch;
    return out;
}

}  // namespace floe::scenarios
