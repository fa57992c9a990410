// Shard movement under crashes: the node gaining shards crashes in the middle of the transfer,
// or right as a shard-sync task starts, and restarts in the same epoch; a node that lost a shard
// crashes while the epoch-change finisher removes it (walrus-recovery-spec.md §3, §7.7, §8.5,
// §8.6, §10 invariants 6 and 14). Each scenario checks that its crash struck where it meant it to
// strike, so a model change that moves the crash elsewhere fails the run instead of passing it
// without covering anything.
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;
using walrus::ShardIndex;

namespace {

// --- shards and committees -----------------------------------------------------------------------

std::vector<ShardIndex> shards_at(Scenario& s, NodeIndex node, Epoch epoch) {
    const auto committee = s.chain().committee_at(epoch);
    return committee.has_value() ? committee->shards_of(node) : std::vector<ShardIndex>{};
}

// Shards of `node` in `epoch` that it did not own in epoch - 1 (§3.3 `gained`).
std::vector<ShardIndex> gained_at(Scenario& s, NodeIndex node, Epoch epoch) {
    const std::vector<ShardIndex> now = shards_at(s, node, epoch);
    const std::vector<ShardIndex> before = shards_at(s, node, epoch - 1);
    std::vector<ShardIndex> out;
    std::set_difference(now.begin(), now.end(), before.begin(), before.end(),
                        std::back_inserter(out));
    return out;
}

std::string shard_list(const std::vector<ShardIndex>& shards) {
    return fmt::format("[{}]", fmt::join(shards, ", "));
}

// A crash armed at a fail point of one node, and where it struck.
struct ArmedCrash {
    std::optional<Epoch> epoch;  // the chain epoch when it struck; nullopt until then
    uint64_t counted = 0;        // hits of the `counted` fail point on the node up to the crash
};

// Arms `point` on `node`: the first hit for which `due()` holds crashes the node for `down`
// (once). The hits of `counted` on the node up to then are recorded, so that those of the
// restarted incarnation can be told apart.
std::shared_ptr<ArmedCrash> crash_when(Scenario& s, NodeIndex node, const std::string& point,
                                       sim::Duration down, std::function<bool()> due,
                                       const std::string& counted = "") {
    auto crash = std::make_shared<ArmedCrash>();
    const sim::HostId host = s.cluster().host(node);
    s.arm(point, sim::FailPointAction::call([&s, crash, host, down, due = std::move(due), counted] {
                     if (crash->epoch.has_value() || !due()) {
                         return;
                     }
                     crash->epoch = s.chain().current_epoch();
                     if (!counted.empty()) {
                         crash->counted = s.sim().fail_points().hits(counted, host);
                     }
                     s.sim().restart(host, down);
                 }).only_on(host));
    return crash;
}

// True from the `n`-th call on.
std::function<bool()> from_nth_call(int64_t n) {
    auto calls = std::make_shared<int64_t>(0);
    return [calls, n] { return ++*calls >= n; };
}

// After a minute of workload (blobs for the transfer to carry), node 0's stake grows by 3, so
// it gains shards from the other nodes at the first epoch that stake can shape (§1.1, §18).
// Returns that epoch once its committee is selected; 0 (the run failed) if it never is.
Epoch stake_node0_for_gain(Scenario& s) {
    s.sleep(65_s);
    const Epoch gain = s.next_shapeable_epoch();
    s.stake(0, 3);
    if (!s.wait_until(fmt::format("the committee of epoch {} selected", gain), 240_s,
                      [&] { return s.chain().committee_at(gain).has_value(); })) {
        return 0;
    }
    return gain;
}

// Active, with its event epoch known (a restarted node lists no owned shard before its first
// event) and every shard it owns at that epoch Ready. The epoch, or nullopt if not so.
std::optional<Epoch> ready_at(Scenario& s, NodeIndex node) {
    auto info = s.health(node);
    if (!info.has_value() || info->node_status != "Active" || !info->event_epoch.has_value() ||
        info->owned_shards.size() != shards_at(s, node, *info->event_epoch).size()) {
        return std::nullopt;
    }
    const bool all_ready =
        std::all_of(info->owned_shards.begin(), info->owned_shards.end(),
                    [](const walrus::ShardHealth& shard) { return shard.api_status == "Ready"; });
    return all_ready ? info->event_epoch : std::nullopt;
}

// Polls `node` until it is Active with every shard it owns in `epoch` Ready, or the chain moves
// past `epoch`. False (the run failed) if the shards were not Ready before that epoch change: a
// sync resumed in the same epoch has the rest of it to finish.
bool wait_ready_within_epoch(Scenario& s, NodeIndex node, Epoch epoch) {
    bool ready = false;
    if (!s.wait_until(
            fmt::format("node {} Active with its shards Ready, or epoch {}", node, epoch + 1),
            600_s, [&] {
                ready = ready_at(s, node) == std::optional<Epoch>(epoch);
                return ready || s.epoch() > epoch;
            })) {
        return false;
    }
    return s.check(ready && s.epoch() == epoch,
                   fmt::format("node {} still had a shard not Ready when epoch {} began: {}", node,
                               epoch + 1, fmt::join(s.shard_statuses(node), " ")));
}

// --- gainer-crash-mid-transfer -------------------------------------------------------------------

void mid_transfer_build(const Params& params, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    // Long enough for the crash, the restart and the rest of the transfer in the gain epoch.
    config.epoch_duration = params.duration("epoch");
    // Small batches: the transfer of a shard spans dozens of requests, so a crash after a few
    // batches leaves most of it to the resumed sync.
    config.node.shard_sync.sliver_count_per_sync_request =
        static_cast<uint32_t>(params.integer("batch-size"));
}

// Crashes `node` for `down` right after its `n`-th shard-sync transfer batch of epoch `from` or
// later is durable. A transfer batch is the batch write of a fiber that passed
// fail_point_fetch_sliver since its last batch write: the per-shard task fetches a batch from
// the source, then writes the slivers and the new progress in one batch (§8.5 step 3b). Arms
// fail_point_fetch_sliver and batch-write-after on the node.
std::shared_ptr<ArmedCrash> crash_after_nth_transfer_batch(Scenario& s, NodeIndex node, Epoch from,
                                                           int64_t n, sim::Duration down) {
    auto fetching = std::make_shared<std::set<sim::FiberId>>();
    s.arm("fail_point_fetch_sliver", sim::FailPointAction::call([&s, fetching, from] {
                                         if (s.chain().current_epoch() >= from) {
                                             fetching->insert(s.sim().scheduler().current_fiber());
                                         }
                                     }).only_on(s.cluster().host(node)));
    auto written = from_nth_call(n);
    return crash_when(
        s, node, "batch-write-after", down,
        [&s, fetching, written] {
            return fetching->erase(s.sim().scheduler().current_fiber()) > 0 && written();
        },
        "fail_point_shard_sync_resumed_from_progress");
}

// §8.5, §8.6: node 0 gains shards, crashes after a few transfer batches and restarts in the same
// epoch. The restarted shard sync must resume from the persisted progress (invariant 14: nothing
// before it is fetched again), so the two incarnations together fetch at most one pass: two
// slivers of every blob certified before the gain epoch, per gained shard.
void gainer_crash_mid_transfer(Scenario& s) {
    const Epoch gain = stake_node0_for_gain(s);
    if (gain == 0) {
        return;
    }
    const int64_t n = s.integer("batches");
    auto crash = crash_after_nth_transfer_batch(s, 0, gain, n, s.duration("down"));
    if (!s.wait_until(fmt::format("node 0 crashed after transfer batch {}", n), 400_s,
                      [&] { return crash->epoch.has_value(); })) {
        return;
    }
    s.disarm("fail_point_fetch_sliver");
    s.disarm("batch-write-after");
    const std::vector<ShardIndex> gained = gained_at(s, 0, gain);
    const uint64_t certified = s.cluster().certified_before_count(gain);
    const uint64_t one_pass = gained.size() * 2 * certified;
    s.report("gain_epoch", static_cast<int64_t>(gain));
    s.report("gained_shards", static_cast<int64_t>(gained.size()));
    s.report("one_pass_slivers", static_cast<int64_t>(one_pass));
    s.report("batches_before_crash", n);
    if (!s.check(*crash->epoch == gain,
                 fmt::format("node 0 crashed in epoch {}, not in its gain epoch {}", *crash->epoch,
                             gain)) ||
        !wait_ready_within_epoch(s, 0, gain)) {
        return;
    }
    auto info = s.health(0);
    if (!s.check(info.has_value(), "node 0 does not answer")) {
        return;
    }
    s.report("node0_shard_mask", shard_mask(info->owned_shards));
    // Health counts this incarnation only: what the restarted node transferred.
    const uint64_t after = info->transferred_slivers;
    const uint64_t resumed =
        hits_on(s, "fail_point_shard_sync_resumed_from_progress", 0) - crash->counted;
    s.report("transferred_after_restart", static_cast<int64_t>(after));
    s.report("resumed_from_progress", static_cast<int64_t>(resumed));
    s.check(resumed > 0,
            "node 0's restarted shard sync never resumed from its persisted progress (§8.6)");
    s.check(after > 0,
            "node 0 transferred nothing after its restart: the crash did not strike "
            "mid-transfer");
    // Every batch written before the crash carried at least one sliver.
    s.check(after + static_cast<uint64_t>(n) <= one_pass,
            fmt::format("node 0 transferred {} slivers after its restart and {} batches before "
                        "it: more than one pass of {} ({} gained shards {} x 2 x {} certified "
                        "blobs), so it fetched slivers twice",
                        after, n, one_pass, gained.size(), shard_list(gained), certified));
    finish_with_convergence(s);
}

// --- invalid-blob-in-shard-sync -----------------------------------------------------------------

// §6.4 step 3, §8.5 recovery phase (storage/shard.rs recover_blob, handle_inconsistency): node 0
// gains a shard whose owner is down from before an inconsistent blob is written until the end,
// so nobody ever recovers that blob's bad sliver but node 0's shard sync. Its transfer from the
// dead owner fails over to direct recovery, which decodes the sliver, finds it does not match
// the metadata, files the proof and gets the blob invalidated; everyone drops the blob and
// converges.
void invalid_blob_in_shard_sync(Scenario& s) {
    const Epoch gain = stake_node0_for_gain(s);
    if (gain == 0) {
        return;
    }
    const std::vector<ShardIndex> gained = gained_at(s, 0, gain);
    if (!s.check(!gained.empty(), "node 0 gains no shard")) {
        return;
    }
    const ShardIndex shard = gained[s.rng().below(gained.size())];
    const NodeIndex source = s.chain().committee_at(gain - 1)->owner_of(shard);
    s.kill(source);
    const walrus::BlobId blob =
        inconsistent_blob_at(shard, s.cluster().n_shards(), s.rng().next_u64());
    const auto written = s.write_blob(blob, 10);
    s.mark(fmt::format("inconsistent blob {} (bad sliver at shard {}, owner node {} down)",
                       blob.short_hex(), shard, source));
    if (!s.check(written.has_value(), "the inconsistent blob could not be certified") ||
        !s.check(s.epoch() < gain, fmt::format("the inconsistent blob was certified in epoch "
                                               "{}, not before node 0's gain epoch {}",
                                               s.epoch(), gain))) {
        return;
    }
    if (!s.wait_until("node 0's shard sync proved the blob inconsistent", 400_s, [&] {
            const auto info = s.health(0);
            return info.has_value() && info->shard_sync_inconsistency_proofs > 0;
        })) {
        return;
    }
    s.report("gain_epoch", static_cast<int64_t>(gain));
    s.report("source", source);
    if (!s.check(s.chain().is_invalid(blob), "the blob is not invalid on chain")) {
        return;
    }
    s.restart(source);
    finish_with_convergence(s);
}

// --- gainer-crash-at-shard-sync-start ------------------------------------------------------------

// Crashes `node` for `down`, once, at its `nth` shard-sync task start from now. §8.2: the
// launcher's count guard comes first (the gained shards are recorded ActiveSync, nothing is
// spawned yet), then the guard of each per-shard task as the launcher spawns it (the tasks
// spawned before it may be transferring already). Arms fail_point_shard_sync_task_started.
std::shared_ptr<ArmedCrash> crash_at_nth_task_start(Scenario& s, NodeIndex node, int64_t nth,
                                                    sim::Duration down) {
    return crash_when(s, node, "fail_point_shard_sync_task_started", down, from_nth_call(nth),
                      "fail_point_shard_sync_task_started");
}

// §8.2, §8.6: node 0 crashes at a shard-sync task start of its gain epoch, the launcher's or a
// per-shard task's (drawn from the seed). Restarted, it must resume the syncs of the shards
// recorded ActiveSync and end Active with every shard Ready.
void gainer_crash_at_shard_sync_start(Scenario& s) {
    const Epoch gain = stake_node0_for_gain(s);
    if (gain == 0) {
        return;
    }
    const std::vector<ShardIndex> gained = gained_at(s, 0, gain);
    s.report("gain_epoch", static_cast<int64_t>(gain));
    s.report("gained_shards", static_cast<int64_t>(gained.size()));
    if (!s.check(!gained.empty(), "node 0 gains no shard")) {
        return;
    }
    // Node 0 starts no shard sync between its genesis syncs and the gain epoch.
    const auto nth = static_cast<int64_t>(1 + s.rng().below(gained.size() + 1));
    auto crash = crash_at_nth_task_start(s, 0, nth, s.duration("down"));
    if (!s.wait_until(fmt::format("node 0 crashed at shard-sync task start {}", nth), 400_s,
                      [&] { return crash->epoch.has_value(); })) {
        return;
    }
    s.disarm("fail_point_shard_sync_task_started");
    s.report("crash_at_task_start", nth);
    if (!s.check(*crash->epoch == gain, fmt::format("node 0 crashed at a shard-sync start in "
                                                    "epoch {}, not in its gain epoch {}",
                                                    *crash->epoch, gain)) ||
        !s.wait_until("node 0 Active with every shard Ready", 400_s,
                      [&] { return ready_at(s, 0).has_value(); })) {
        return;
    }
    const uint64_t restarted = hits_on(s, "fail_point_shard_sync_task_started", 0) - crash->counted;
    s.report("syncs_started_after_restart", static_cast<int64_t>(restarted));
    s.check(restarted > 0, "node 0 started no shard sync after its restart");
    finish_with_convergence(s);
}

// --- gained-shards-half-recorded (Walrus finding F4) ---------------------------------------------

// #3464 records a gained shard's sync start (ActiveSync) in the launcher task, one shard after
// the other (shard_sync.rs, start_new_shard_sync). Node 0 gains at least two shards and crashes
// at its 2nd shard-sync task start of that epoch: the first gained shard is recorded, the others
// are not. On restart, restart_syncs resumes only the recorded shard; node 0's event processing
// is held until that sync finished, as it may on a busy node. The finished sync empties the
// sync map and attests epoch_sync_done for the gain epoch while the other gained shards have no
// sync status at all: a false attestation (the run fails on the node's WAL-1271 check). With
// --new-behaviour record-shard-sync-before-finisher every gained shard is recorded before the
// launcher runs and the run passes.
// Held event processing must not strand the resumed sync: a blob deleted or expired meanwhile
// loses its data everywhere (GC, §4.1), and node 0, whose events are held, still thinks it
// certified and retries it forever. So this workload neither deletes nor lets blobs expire.
void half_recorded_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.client.delete_probability = 0.0;
    config.client.max_lifetime = 30;
}

void gained_shards_half_recorded(Scenario& s) {
    const Epoch gain = stake_node0_for_gain(s);
    if (gain == 0) {
        return;
    }
    const std::vector<ShardIndex> gained = gained_at(s, 0, gain);
    s.report("gained_shards", static_cast<int64_t>(gained.size()));
    if (!s.check(gained.size() >= 2,
                 fmt::format("node 0 gains {} shards; two are needed", gained.size()))) {
        return;
    }
    auto crash = crash_at_nth_task_start(s, 0, 2, s.duration("down"));
    if (!s.wait_until("node 0 crashed at its 2nd shard-sync task start", 400_s,
                      [&] { return crash->epoch.has_value(); })) {
        return;
    }
    s.disarm("fail_point_shard_sync_task_started");
    if (!s.check(*crash->epoch == gain, fmt::format("node 0 crashed in epoch {}, not in its gain "
                                                    "epoch {}",
                                                    *crash->epoch, gain))) {
        return;
    }
    const uint64_t finished = hits_on(s, "fail_point_shard_sync_task_finished", 0);
    s.arm("before-process-event-impl", sim::FailPointAction::hold_until([&s, finished] {
                                           return hits_on(s, "fail_point_shard_sync_task_finished",
                                                          0) > finished;
                                       })
                                           .once()
                                           .only_on(s.cluster().host(0)));
    if (!s.wait_until("node 0 Active with every shard Ready", 400_s,
                      [&] { return ready_at(s, 0).has_value(); })) {
        return;
    }
    s.disarm("before-process-event-impl");
    finish_with_convergence(s);
}

// --- finisher-crash-during-shard-removal ---------------------------------------------------------

void removal_build(const Params& params, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.epoch_duration = params.duration("epoch");
}

// The first node other than 0 that owns a shard in epoch `lost` - 1 that it owns neither in
// `lost` nor in `lost` + 1: its finisher removes that shard at EpochChangeStart(lost + 1) (§3.3
// shards_to_remove = exist \ (prev ∪ cur)).
std::optional<std::pair<NodeIndex, std::vector<ShardIndex>>> node_that_loses(Scenario& s,
                                                                             Epoch lost) {
    for (NodeIndex node : s.all_nodes()) {
        if (node == 0) {
            continue;
        }
        std::vector<ShardIndex> kept = shards_at(s, node, lost);
        const std::vector<ShardIndex> later = shards_at(s, node, lost + 1);
        kept.insert(kept.end(), later.begin(), later.end());
        std::vector<ShardIndex> removed;
        for (ShardIndex shard : shards_at(s, node, lost - 1)) {
            if (std::find(kept.begin(), kept.end(), shard) == kept.end()) {
                removed.push_back(shard);
            }
        }
        if (!removed.empty()) {
            return std::make_pair(node, removed);
        }
    }
    return std::nullopt;
}

// Invariant 6 (§10) and §7.7: the finisher completes EpochChangeStart(E) only once the shards it
// removes are gone, so a crash halfway through a removal replays the event after the restart
// and the removal is redone. Before the next epoch change the node must hold no shard outside
// owned(E - 1) ∪ owned(E).
bool check_existing_within_owned(Scenario& s, NodeIndex node, Epoch epoch) {
    const std::vector<ShardIndex> before = shards_at(s, node, epoch - 1);
    const std::vector<ShardIndex> now = shards_at(s, node, epoch);
    std::vector<ShardIndex> allowed;
    std::set_union(before.begin(), before.end(), now.begin(), now.end(),
                   std::back_inserter(allowed));
    std::vector<ShardIndex> extra;
    auto settled = [&] {
        if (s.epoch() > epoch) {
            return true;
        }
        auto info = s.health(node);
        if (!info.has_value() || info->event_epoch != std::optional<Epoch>(epoch)) {
            return false;  // down, or not yet at the epoch it replays
        }
        extra.clear();
        for (ShardIndex shard : info->existing_shards) {
            if (std::find(allowed.begin(), allowed.end(), shard) == allowed.end()) {
                extra.push_back(shard);
            }
        }
        return extra.empty();
    };
    if (!s.wait_until(fmt::format("node {} holds only shards of epochs {} and {}, or epoch {}",
                                  node, epoch - 1, epoch, epoch + 1),
                      600_s, settled)) {
        return false;
    }
    return s.check(
        s.epoch() == epoch,
        fmt::format("node {} still held shards {} outside owned({}) ∪ owned({}) = {} "
                    "when epoch {} began (invariant 6, §7.7)",
                    node, shard_list(extra), epoch - 1, epoch, shard_list(allowed), epoch + 1));
}

void finisher_crash_during_shard_removal(Scenario& s) {
    const Epoch gain = stake_node0_for_gain(s);
    if (gain == 0 ||
        !s.wait_until(fmt::format("the committee of epoch {} selected", gain + 1), 240_s,
                      [&] { return s.chain().committee_at(gain + 1).has_value(); })) {
        return;
    }
    const auto loser = node_that_loses(s, gain);
    if (!s.check(loser.has_value(),
                 fmt::format("no node lost a shard for good to node 0 at epoch {}", gain))) {
        return;
    }
    const auto& [node, removed] = *loser;
    // Before or after the drop of one of the first shard's five column families, by the seed.
    const std::string point = s.chance(50) ? "drop-cf-before" : "drop-cf-after";
    const auto nth = static_cast<int64_t>(1 + s.rng().below(5));
    s.mark(fmt::format("node{} loses shards {} at epoch {}; crash at {} #{}", node,
                       shard_list(removed), gain, point, nth));
    // The only column family drops are the finisher's shard removals (§7.7, drop_shard): the
    // first removed shard is left with some of its five column families, or with none while
    // its EpochChangeStart is still incomplete.
    auto crash = crash_when(s, node, point, s.duration("down"), from_nth_call(nth));
    if (!s.wait_until(fmt::format("node {} crashed while its finisher removed shards {}", node,
                                  shard_list(removed)),
                      400_s, [&] { return crash->epoch.has_value(); })) {
        return;
    }
    s.disarm(point);
    s.report("loser", static_cast<int64_t>(node));
    s.report("removal_epoch", static_cast<int64_t>(*crash->epoch));
    s.report("crash_point_after", point == "drop-cf-after" ? 1 : 0);
    s.report("crash_at_column_family", nth);
    if (!s.check(*crash->epoch == gain + 1,
                 fmt::format("node {} removed a shard at epoch {}, expected epoch {}", node,
                             *crash->epoch, gain + 1)) ||
        !check_existing_within_owned(s, node, gain + 1)) {
        return;
    }
    finish_with_convergence(s);
}

ParamSpec down_param() {
    return ParamSpec::duration("down", 5_s, 1_s, 60_s, "how long the crashed node stays down");
}

void simtest_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
}

}  // namespace

std::vector<ScenarioSpec> shard_move_scenarios() {
    return {
        scripted_spec(
            "invalid-blob-in-shard-sync",
            "node 0 gains a shard whose owner is down; an inconsistently encoded blob "
            "with its bad sliver there is certified meanwhile: node 0's shard sync "
            "recovers it directly, proves it inconsistent and gets it invalidated; "
            "everyone converges",
            "spec §6.4 step 3, §8.5 (storage/shard.rs handle_inconsistency)",
            [](const Params&, sim::Rng&, ClusterConfig& config) {
                short_shard_sync_cluster(config);
            },
            invalid_blob_in_shard_sync),
        scripted_spec(
            "gainer-crash-mid-transfer",
            "node 0 gains shards and crashes right after its Nth shard-transfer batch; restarted "
            "in the same epoch, it must resume from its persisted progress, fetch at most one "
            "pass of slivers in all, and have every shard Ready before the next epoch change",
            "spec §8.5 (shard_sync_progress), §8.6 restart_syncs, invariant 14", mid_transfer_build,
            gainer_crash_mid_transfer,
            {ParamSpec::integer("batches", 6, 1, 1000,
                                "transfer batches node 0 writes before it crashes"),
             ParamSpec::integer("batch-size", 4, 1, 1000, "sliver_count_per_sync_request"),
             ParamSpec::duration("epoch", 90_s, 30_s, 600_s, "epoch duration"), down_param()}),
        scripted_spec(
            "gainer-crash-at-shard-sync-start",
            "node 0 gains shards and crashes at a shard-sync task start of that epoch (the "
            "launcher's or a per-shard task's, by the seed); restarted, it must end Active with "
            "every shard Ready",
            "spec §8.2 (SyncTaskCountGuard), §8.6 restart_syncs", simtest_build,
            gainer_crash_at_shard_sync_start, {down_param()}),
        scripted_spec(
            "gained-shards-half-recorded",
            "node 0 gains shards and crashes after the launcher recorded only the first one "
            "ActiveSync; restarted with its events held, the resumed sync finishes alone and "
            "attests while the other gained shards have no sync status (Walrus finding F4)",
            "spec §8.3 start_new_shard_sync, §8.6 restart_syncs, §7.8", half_recorded_build,
            gained_shards_half_recorded, {down_param()}, {}, {"record-shard-sync-before-finisher"}),
        scripted_spec(
            "finisher-crash-during-shard-removal",
            "a node loses a shard to node 0 and crashes while the finisher drops its column "
            "families an epoch later; restarted, it must hold only shards owned in the previous "
            "or the current epoch before the next epoch change",
            "spec §7.7 (finisher), §3.2 shard removal, invariant 6", removal_build,
            finisher_crash_during_shard_removal,
            {ParamSpec::duration("epoch", 60_s, 30_s, 600_s, "epoch duration"), down_param()}),
    };
}

}  // namespace floe::scenarios
