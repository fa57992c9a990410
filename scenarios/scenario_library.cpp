#include "scenarios/scenario_library.h"

#include <algorithm>
#include <map>
#include <utility>

#include "scenarios/buggify.h"
#include "scenarios/shape.h"

namespace floe::scenarios {

using namespace sim::time_literals;

const std::vector<ScenarioSpec>& all_scenarios() {
    static const std::vector<ScenarioSpec> scenarios = [] {
        std::vector<ScenarioSpec> out = simtest_scenarios();
        for (ScenarioSpec& spec : recovery_scenarios()) {
            out.push_back(std::move(spec));
        }
        for (ScenarioSpec& spec : shard_move_scenarios()) {
            out.push_back(std::move(spec));
        }
        for (ScenarioSpec& spec : coverage_scenarios()) {
            out.push_back(std::move(spec));
        }
        for (ScenarioSpec& spec : model_scenarios()) {
            out.push_back(std::move(spec));
        }
        for (ScenarioSpec& spec : storage_fault_scenarios()) {
            out.push_back(std::move(spec));
        }
        out.push_back(random_crashes_scenario());
        out.push_back(mainnet_shape_scenario());
        out.push_back(swarm_scenario());
        // Every scenario takes the fail-point swarm (scenarios/buggify.h) and the cluster's
        // shape (scenarios/shape.h), but a shape parameter it declares itself.
        for (ScenarioSpec& spec : out) {
            spec.params.push_back(buggify_param());
            spec.params.push_back(buggify_scan_errors_param());
            for (ParamSpec& shape : shape_params()) {
                if (std::none_of(spec.params.begin(), spec.params.end(),
                                 [&](const ParamSpec& own) { return own.name == shape.name; })) {
                    spec.params.push_back(std::move(shape));
                }
            }
        }
        return out;
    }();
    return scenarios;
}

ScenarioSpec scripted_spec(std::string name, std::string description, std::string mirrors,
                           std::function<void(const Params&, sim::Rng&, ClusterConfig&)> build,
                           std::function<void(Scenario&)> script, std::vector<ParamSpec> params,
                           std::vector<std::string> catches, std::vector<std::string> fixed_by) {
    return ScenarioSpec{.name = std::move(name),
                        .description = std::move(description),
                        .mirrors = std::move(mirrors),
                        .params = std::move(params),
                        .catches = std::move(catches),
                        .fixed_by = std::move(fixed_by),
                        .build = std::move(build),
                        .script = std::move(script)};
}

void finish_with_convergence(Scenario& s, sim::Duration deadline) {
    stop_buggify(s);
    s.stop_workload();
    s.cluster().check_committees();
    if (s.checks_liveness()) {
        s.check_converged(deadline);
    } else {
        s.mark("convergence not checked (storage-faults=unbounded: a blob may really be lost)");
    }
    s.report("final_epoch", static_cast<int64_t>(s.epoch()));
    if (s.cluster().storage_faults() != StorageFaultMode::off) {
        s.report("power_losses", static_cast<int64_t>(s.cluster().data_loss_budget().losses()));
    }
}

// A power loss of `node` at its `nth` write to the WAL (a RocksDB put, delete or batch of the
// node's fiber) for which `when` holds: in the middle of that write.
std::shared_ptr<bool> power_loss_at_nth_wal_write(Scenario& s, NodeIndex node, uint64_t nth,
                                                  sim::Duration down, bool tear,
                                                  std::function<bool()> when) {
    auto count = std::make_shared<uint64_t>(0);
    walrus::Disk& disk = s.disk(node);
    return s.power_loss_at("fs-write-eio", node, down, tear, [&disk, count, nth, when] {
        return disk.current_fs_op.kind == walrus::FileKind::wal && when() && ++*count == nth;
    });
}

void report_node0_recovery(Scenario& s, NodeIndex node) {
    const sim::FailPoints& points = s.sim().fail_points();
    const sim::HostId host = s.cluster().host(node);
    auto hits = [&](const char* name) { return static_cast<int64_t>(points.hits(name, host)); };
    s.report("entered_catch_up", hits("catch_up_exit_not_member") +
                                     hits("catch_up_exit_new_member") +
                                     hits("catch_up_exit_continuing_member"));
    s.report("recovery_task_starts", hits("start_node_recovery_entry"));
    s.report("recovery_syncs_started", hits("fail_point_node_recovery_start_sync"));
    s.report("recovery_blobs_scanned", hits("node_recovery_scan_blob"));
    s.report("resumed_from_checkpoint", hits("fail_point_node_recovery_resumed_from_checkpoint"));
    s.report("checkpoints_discarded", hits("node_recovery_checkpoint_discarded"));
    s.report("catch_up_exits_not_member", hits("catch_up_exit_not_member"));
    s.report("catch_up_exits_new_member", hits("catch_up_exit_new_member"));
    s.report("catch_up_exits_continuing", hits("catch_up_exit_continuing_member"));
    s.report("recovering_path_hits",
             hits("fail_point_shard_changes_in_new_epoch_while_recovering"));
    s.report("readiness_waits", hits("node_recovery_shard_not_ready"));
}

uint64_t hits_on(Scenario& s, const char* fail_point, NodeIndex node) {
    return s.sim().fail_points().hits(fail_point, s.cluster().host(node));
}

size_t owned_shard_count(Scenario& s, NodeIndex node) {
    auto info = s.health(node);
    return info.has_value() ? info->owned_shards.size() : 0;
}

int64_t shard_mask(const std::vector<walrus::ShardHealth>& shards) {
    uint64_t mask = 0;
    for (const walrus::ShardHealth& shard : shards) {
        FLOE_ASSERT(shard.shard < 63, "shard {} does not fit a report's mask", shard.shard);
        mask |= uint64_t{1} << shard.shard;
    }
    return static_cast<int64_t>(mask);
}

// The previous owner of the highest-indexed shard `node` gains at `gain`; nullopt if it gains none.
std::optional<NodeIndex> source_of_highest_gained_shard(Scenario& s, NodeIndex node, Epoch gain) {
    const auto now = s.chain().committee_at(gain);
    const auto before = s.chain().committee_at(gain - 1);
    if (!now.has_value() || !before.has_value()) {
        return std::nullopt;
    }
    const std::vector<walrus::ShardIndex> owned_before = before->shards_of(node);
    std::optional<walrus::ShardIndex> highest;
    for (walrus::ShardIndex shard : now->shards_of(node)) {
        if (std::find(owned_before.begin(), owned_before.end(), shard) == owned_before.end()) {
            highest = std::max(highest.value_or(shard), shard);
        }
    }
    if (!highest.has_value()) {
        return std::nullopt;
    }
    return before->owner_of(*highest);
}

std::shared_ptr<bool> crash_source_when_transfer_starts(Scenario& s, NodeIndex gainer, Epoch gain,
                                                        sim::Duration down) {
    auto fired = std::make_shared<bool>(false);
    s.arm("fail_point_shard_sync_task_started",
          sim::FailPointAction::call([&s, fired, gainer, gain, down] {
              if (*fired || s.cluster().chain().current_epoch() < gain) {
                  return;
              }
              const std::optional<NodeIndex> source =
                  source_of_highest_gained_shard(s, gainer, gain);
              if (source.has_value()) {
                  *fired = true;
                  s.sim().restart(s.cluster().host(*source), down);
              }
          }).only_on(s.cluster().host(gainer)));
    return fired;
}

bool crash_at_crash_point_and_wait(Scenario& s, NodeIndex node, sim::Duration down) {
    auto crashed = s.crash_at_next_crash_point(node, down);
    const bool ok = s.wait_until(fmt::format("node {} crashed at a crash point", node),
                                 sim::Duration::seconds(60), [&] { return *crashed; });
    s.disarm_crash_points();
    return ok;
}

bool wait_recovered(Scenario& s, NodeIndex node, sim::Duration deadline) {
    if (!s.wait_until(fmt::format("node {} is up", node), deadline,
                      [&] { return s.is_up(node); })) {
        return false;
    }
    s.sleep(sim::Duration::seconds(5));
    return s.wait_until(
        fmt::format("node {} is Active with every owned shard Ready", node), deadline, [&] {
            auto info = s.health(node);
            if (!info.has_value() || info->node_status != "Active" || info->recovery_running) {
                return false;
            }
            return std::all_of(
                info->owned_shards.begin(), info->owned_shards.end(),
                [](const walrus::ShardHealth& shard) { return shard.api_status == "Ready"; });
        });
}

ShardSyncWatch watch_shard_syncs(Scenario& s, NodeIndex node) {
    ShardSyncWatch watch{s.counter("fail_point_shard_sync_task_started", node),
                         s.counter("fail_point_shard_sync_task_finished", node),
                         std::make_shared<uint64_t>(0)};
    s.arm("fail_point_node_recovery_start_sync",
          sim::FailPointAction::call([watch] {
              if (watch.started.value() > watch.finished.value()) {
                  ++*watch.ordering_violation;
              }
          }).only_on(s.cluster().host(node)));
    return watch;
}

std::shared_ptr<bool> hold_recovery(Scenario& s, NodeIndex node) {
    auto hold = std::make_shared<bool>(true);
    s.arm("start_node_recovery_entry",
          sim::FailPointAction::hold_until([hold] { return !*hold; }, 1_s)
              .only_on(s.cluster().host(node)));
    s.mark(fmt::format("recovery of node{} held", node));
    return hold;
}

std::shared_ptr<bool> crash_at_nth_recovery_sync(Scenario& s, NodeIndex node, int n,
                                                 sim::Duration down, std::function<void()> before) {
    auto count = std::make_shared<int>(0);
    auto crashed = std::make_shared<bool>(false);
    const sim::HostId host = s.cluster().host(node);
    s.arm(
        "fail_point_node_recovery_start_sync",
        sim::FailPointAction::call([&s, count, crashed, n, host, down, before = std::move(before)] {
            if (++*count != n) {
                return;
            }
            if (before) {
                before();
            }
            *crashed = true;
            s.sim().restart(host, down);
        }).only_on(host));
    return crashed;
}

void check_sole_owner_of_its_shards(Scenario& s, NodeIndex node) {
    auto mine = s.health(node);
    if (!s.check(mine.has_value(), fmt::format("node {} does not answer", node))) {
        return;
    }
    for (NodeIndex other : s.all_nodes()) {
        if (other == node) {
            continue;
        }
        auto theirs = s.health(other);
        if (!theirs.has_value()) {
            continue;
        }
        for (const walrus::ShardHealth& shard : mine->owned_shards) {
            const bool listed = std::any_of(
                theirs->owned_shards.begin(), theirs->owned_shards.end(),
                [&](const walrus::ShardHealth& their) { return their.shard == shard.shard; });
            if (!s.check(!listed, fmt::format("shard {} of node {} is also owned by node {}",
                                              shard.shard, node, other))) {
                return;
            }
        }
    }
}

RetryRuns retry_runs(const walrus::NodeRecoveryStats& stats,
                     const walrus::NodeRecoveryConfig& config) {
    struct Run {
        sim::Duration last;
        size_t length = 0;
        size_t capped = 0;
    };
    std::map<std::pair<uint64_t, std::string>, Run> runs;  // by (pass, blob)
    RetryRuns out;
    for (const walrus::NodeRecoveryStats::RetryDelay& retry : stats.retry_delays) {
        const auto [it, first] = runs.try_emplace({retry.pass, retry.blob});
        Run& run = it->second;
        const sim::Duration expected =
            first ? config.retry_backoff_initial : std::min(run.last * 2, config.retry_backoff_max);
        if (retry.delay != expected) {
            out.violation = fmt::format(
                "retry {} of blob {} in recovery pass {} after {}, expected {}", run.length + 1,
                retry.blob, retry.pass, retry.delay.to_string(), expected.to_string());
            return out;
        }
        run.last = retry.delay;
        ++run.length;
        run.capped += retry.delay == config.retry_backoff_max ? 1 : 0;
        out.longest = std::max(out.longest, run.length);
        out.most_capped = std::max(out.most_capped, run.capped);
    }
    return out;
}

RetryRuns check_retry_backoff(Scenario& s, const walrus::NodeRecoveryStats& stats,
                              const walrus::NodeRecoveryConfig& config) {
    RetryRuns runs = retry_runs(stats, config);
    s.check(runs.violation.empty(), runs.violation);
    s.report("retries", static_cast<int64_t>(stats.retries));
    s.report("longest_retry_run", static_cast<int64_t>(runs.longest));
    s.report("capped_retry_run", static_cast<int64_t>(runs.most_capped));
    return runs;
}

// The first id from `seed` on whose wrong hash is that of `shard`'s primary sliver (encoding.h).
walrus::BlobId inconsistent_blob_at(walrus::ShardIndex shard, uint32_t n_shards, uint64_t seed) {
    for (uint64_t i = 0;; ++i) {
        const walrus::BlobId blob = walrus::BlobId::with_inconsistent_encoding(seed + i);
        if (walrus::shard_for_pair(walrus::inconsistent_pair(blob, n_shards), n_shards, blob) ==
            shard) {
            return blob;
        }
    }
}

}  // namespace floe::scenarios
