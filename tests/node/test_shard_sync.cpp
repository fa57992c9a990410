// Shard movement (issue 4): the shard diff (§3.3), the shard status transitions (§3.2), sync
// progress monotonicity (invariant 14), the running-sync counter under abort and host kill
// (§8.2, invariants 11-12), and the shard-gain scenarios (random-crashes with shard-gain,
// shard-sync-source-crashed, gainer-crash-mid-transfer) on sweeps of seeds.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "../death_test.h"
#include "node/encoding.h"
#include "node/node_storage.h"
#include "node/shard_diff.h"
#include "node/shard_sync.h"
#include "sim/simulation.h"
#include "tests/node/scenario_runs.h"

using namespace walrus;
using namespace sim::time_literals;

TEST_CASE("shard diff: gained, to lock, to remove (§3.3)") {
    const ShardDiff diff = ShardDiff::compute({1, 2, 3}, {3, 4, 5}, {0, 1, 2, 3, 9});
    CHECK(diff.all_owned == std::vector<ShardIndex>{3, 4, 5});
    CHECK(diff.gained == std::vector<ShardIndex>{4, 5});
    CHECK(diff.to_lock == std::vector<ShardIndex>{1, 2});
    CHECK(diff.to_remove == std::vector<ShardIndex>{0, 9});  // unowned for two epochs
    const ShardDiff genesis = ShardDiff::compute({}, {0, 12, 8, 5}, {});
    CHECK(genesis.gained == std::vector<ShardIndex>{0, 5, 8, 12});
    CHECK(genesis.to_lock.empty());
    CHECK(genesis.to_remove.empty());
    const ShardDiff leaving = ShardDiff::compute({6, 7}, {}, {6, 7});
    CHECK(leaving.to_lock == std::vector<ShardIndex>{6, 7});
    CHECK(leaving.to_remove.empty());  // kept one epoch as sync sources
}

namespace {

// A node host with its storage and a shard-sync handler whose source never answers (its host is
// down), so a per-shard sync retries forever. The committee's per-blob recovery never answers
// either, unless `committee_answers`: then it returns the blob's metadata and slivers at once.
struct SyncRig final : ShardSyncEnv {
    NodeStorage& storage;
    bool committee_answers = false;
    sim::Notify never{"metadata-never"};
    SyncRig(NodeStorage& s, bool answers) : storage(s), committee_answers(answers) {}
    Epoch current_committee_epoch() override { return 2; }
    const Committee& committee_at(Epoch epoch) override {
        static const Committee before{1, 13, {{1, {3}}}};
        static const Committee now{2, 13, {{0, {3}}}};
        return epoch == 1 ? before : now;
    }
    std::optional<BlobMetadata> recover_metadata_unless_retired(const BlobId& blob,
                                                                Epoch) override {
        if (!committee_answers) {
            (void)never.wait();  // blocks: keeps a RecoverMetadata launcher busy
        }
        return BlobMetadata::compute(blob, 13);
    }
    std::optional<RecoveredSliver> recover_sliver_unless_retired(const BlobMetadata& metadata,
                                                                 uint32_t pair, SliverType type,
                                                                 Epoch) override {
        if (!committee_answers) {
            (void)never.wait();
        }
        return RecoveredSliver{encode_sliver(metadata.blob_id, pair, type)};
    }
    void file_inconsistency_proof(const InconsistencyProof&) override {
        FLOE_UNREACHABLE("not in this rig");
    }
    void attest(Epoch epoch, bool) override { attested.push_back(epoch); }
    // The rig's syncs are of shards it owns; the real check is the Attester's.
    bool all_owned_shards_active(Epoch) override { return true; }
    std::vector<Epoch> attested;
};

// What a shard-sync run left behind, read in the node's fiber after `run_for`.
struct SyncEnd {
    std::vector<Epoch> attested;
    bool syncing = false;
    ShardStatus status = ShardStatus::none;
    ShardSyncStats stats;
    std::vector<std::pair<SliverType, BlobId>> pending;  // pending recovery, as left
    // Blob 7's metadata is stored, and its blob info says so.
    bool blob_7_metadata_stored = false;
};

// What node 0 holds before its sync of shard 3 starts, and how the sync starts.
struct DeadSourceSetup {
    // Blob 7 certified at epoch 1 and shard 3 created with no status, unless replaced.
    std::function<void(NodeStorage&)> prepare;
    // restart_syncs (the shard's status and progress as prepared), not start_sync_shards.
    bool resume = false;
    bool committee_answers = false;  // SyncRig::committee_answers
    SpawnBlockingModel spawn_blocking = SpawnBlockingModel::tasks;
};

// Node 0 syncs shard 3 (blob 7 certified at epoch 1) from a source that never answers, with the
// fail points `arm` sets; returns what was left after `run_for`.
SyncEnd sync_against_dead_source(const std::function<void(sim::FailPoints&)>& arm,
                                 sim::Duration switch_to_recovery, sim::Duration run_for,
                                 const DeadSourceSetup& setup = {});

BlobInfo certified(Epoch epoch) {
    BlobInfo info;
    info.apply_register(false, 10);
    info.apply_certify(epoch, false, 10, false);
    return info;
}

}  // namespace

namespace {
SyncEnd sync_against_dead_source(const std::function<void(sim::FailPoints&)>& arm,
                                 sim::Duration switch_to_recovery, sim::Duration run_for,
                                 const DeadSourceSetup& setup) {
    sim::Simulation sim(sim::SimulationConfig{});
    auto disk = Disk::in_memory("dead-source");
    SyncEnd end;
    const sim::HostId source = sim.add_host("source", [](sim::Runtime&) {});  // never started
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        NodeStorage storage(NodeStore::open(rt, *disk).value());
        if (setup.prepare) {
            setup.prepare(storage);
        } else {
            REQUIRE(storage.put_blob_info(BlobId::from_u64(7), certified(1)).ok());
            REQUIRE(storage.create_shard(3, ShardStatus::none).ok());
        }
        SyncRig rig(storage, setup.committee_answers);
        ShardSyncConfig config;
        config.retry_min_backoff = 1_s;
        config.retry_max_backoff = 2_s;
        config.retry_switch_to_recovery_interval = switch_to_recovery;
        ShardSyncHandler handler(rt, storage, rig, rig, rig, 0, 13, Directory{0, {host, source}},
                                 config, Behaviours{}, setup.spawn_blocking);
        if (setup.resume) {
            handler.restart_syncs();
        } else {
            handler.start_sync_shards({3});
        }
        rt.sleep(run_for);
        const auto info = storage.blob_info(BlobId::from_u64(7));
        end = SyncEnd{rig.attested,
                      handler.is_syncing(3),
                      storage.shard_status(3),
                      handler.stats(),
                      storage.pending_recover(3).value(),
                      storage.metadata(BlobId::from_u64(7)).has_value() && info.has_value() &&
                          info->is_metadata_stored};
        rt.sleep(sim::Duration::forever() / 2);
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        arm(sim.fail_points());
        sim.start(host);
        rt.sleep(run_for + 1_s);
    });
    INFO(result.message);
    CHECK(result.passed());
    return end;
}
}  // namespace

// §11 as in Walrus's sync_shard_impl: the fail point makes the failed attempt a Success. The
// entry leaves the map and, the map being empty and the node not recovering, the task attests
// its epoch — while the shard is still ActiveSync, left to restart_syncs ("simulate a reboot").
TEST_CASE("shard sync: fail_point_shard_sync_no_retry turns an error into Success (§11)") {
    const SyncEnd end = sync_against_dead_source(
        [](sim::FailPoints& points) {
            points.arm("fail_point_shard_sync_no_retry", sim::FailPointAction::inject_error());
        },
        sim::Duration::seconds(12 * 3600), 20_s);
    CHECK(end.stats.no_retry_exits == 1);
    CHECK(end.stats.retries == 0);
    CHECK_FALSE(end.syncing);
    CHECK(end.status == ShardStatus::active_sync);
    CHECK(end.attested == std::vector<Epoch>{2});
}

// handle_sync_error: a non-retryable error in a direct attempt ends the sync for good (Failed):
// the entry stays in the map, the shard keeps its status, nothing attests.
TEST_CASE("shard sync: a failed direct recovery is terminal (handle_sync_error -> Failed)") {
    const SyncEnd end = sync_against_dead_source(
        [](sim::FailPoints& points) {
            points.arm("fail_point_after_start_recovery", sim::FailPointAction::inject_error());
        },
        3_s, 30_s);
    CHECK(end.stats.direct_recoveries == 1);
    CHECK(end.stats.terminal_failures == 1);
    CHECK(end.syncing);
    CHECK(end.status == ShardStatus::active_recover);
    CHECK(end.attested.empty());
}

// Walrus's direct recovery queues every certified blob without reading its slivers
// (storage/shard.rs l.1126-1138), so the shard goes ActiveRecover, and meets
// fail_point_after_start_recovery, even when every sliver is already stored;
// recover_missing_blobs then drops the stored ones unrecovered.
TEST_CASE("shard sync: direct recovery queues stored slivers too, and recovery drops them") {
    const auto holds_blob_7 = [](NodeStorage& storage) {
        const BlobId blob = BlobId::from_u64(7);
        REQUIRE(storage.put_blob_info(blob, certified(1)).ok());
        REQUIRE(storage.create_shard(3, ShardStatus::none).ok());
        const uint32_t pair = pair_index(3, 13, blob);
        REQUIRE(storage.put_sliver(3, blob, encode_sliver(blob, pair, SliverType::primary)).ok());
        REQUIRE(storage.put_sliver(3, blob, encode_sliver(blob, pair, SliverType::secondary)).ok());
    };
    SUBCASE("an error after the shard went ActiveRecover ends the direct attempt for good") {
        const SyncEnd end = sync_against_dead_source(
            [](sim::FailPoints& points) {
                points.arm("fail_point_after_start_recovery", sim::FailPointAction::inject_error());
            },
            3_s, 30_s, {holds_blob_7});
        CHECK(end.stats.direct_recoveries == 1);
        CHECK(end.stats.terminal_failures == 1);
        CHECK(end.status == ShardStatus::active_recover);
        CHECK(end.pending.size() == 2);  // both kinds of blob 7, queued and left
    }
    SUBCASE("without it, recovery finds both stored and the shard goes Active") {
        const SyncEnd end =
            sync_against_dead_source([](sim::FailPoints&) {}, 3_s, 30_s, {holds_blob_7});
        CHECK(end.stats.direct_recoveries == 1);
        CHECK(end.stats.terminal_failures == 0);
        CHECK(end.status == ShardStatus::active);
        CHECK(end.pending.empty());
        CHECK(end.attested == std::vector<Epoch>{2});
    }
}

// recover_blob's get_or_recover_blob_metadata (node.rs l.3302-3330 at fb097a2262) stores the
// metadata it recovers from the committee, and marks it stored in the blob info, before the
// sliver is recovered and stored; inline or as spawn_blocking tasks (MODEL.md X16). floe stored
// only the sliver until 2 December 2026.
TEST_CASE("shard sync: direct recovery stores the metadata it recovers, with the sliver") {
    for (const SpawnBlockingModel model :
         {SpawnBlockingModel::inline_calls, SpawnBlockingModel::tasks}) {
        CAPTURE(static_cast<int>(model));
        DeadSourceSetup setup;
        setup.committee_answers = true;
        setup.spawn_blocking = model;
        const SyncEnd end = sync_against_dead_source([](sim::FailPoints&) {}, 3_s, 30_s, setup);
        CHECK(end.stats.direct_recoveries == 1);
        CHECK(end.stats.recovered_slivers == 2);  // blob 7's primary and secondary
        CHECK(end.pending.empty());
        CHECK(end.status == ShardStatus::active);
        CHECK(end.blob_7_metadata_stored);
    }
}

// get_last_sync_status runs before a direct recovery too (storage/shard.rs l.895-931): it
// queues the primaries after the progress's last synced blob, then every secondary.
TEST_CASE("shard sync: direct recovery resumes from the sync progress") {
    const DeadSourceSetup resumed{
        [](NodeStorage& storage) {
            for (uint64_t blob : {5, 7, 9}) {
                REQUIRE(storage.put_blob_info(BlobId::from_u64(blob), certified(1)).ok());
            }
            REQUIRE(storage.create_shard(3, ShardStatus::active_sync).ok());
            const NodeStorage::SyncProgress progress{SliverType::primary, BlobId::from_u64(7)};
            REQUIRE(storage.write_transfer_batch(3, {}, {}, SliverType::primary, progress).ok());
        },
        /*resume=*/true};
    // The metadata of the queued blobs never comes (the rig), so their entries stay.
    const SyncEnd end = sync_against_dead_source([](sim::FailPoints&) {}, 3_s, 30_s, resumed);
    CHECK(end.stats.direct_recoveries == 1);
    CHECK(end.status == ShardStatus::active_recover);
    std::vector<std::pair<SliverType, BlobId>> expected{
        {SliverType::primary, BlobId::from_u64(9)},
        {SliverType::secondary, BlobId::from_u64(5)},
        {SliverType::secondary, BlobId::from_u64(7)},
        {SliverType::secondary, BlobId::from_u64(9)}};
    std::vector<std::pair<SliverType, BlobId>> pending = end.pending;
    std::sort(pending.begin(), pending.end());
    std::sort(expected.begin(), expected.end());
    CHECK(pending == expected);
}

TEST_CASE("shard status: start, finish and lock transitions (§3.2)") {
    sim::Simulation sim(sim::SimulationConfig{});
    auto disk = Disk::in_memory("status");
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        NodeStorage storage(NodeStore::open(rt, *disk).value());
        REQUIRE(storage.create_shard(4, ShardStatus::none).ok());
        CHECK(std::string(shard_api_status(storage.shard_status(4))) == "Unknown");
        REQUIRE(storage.start_shard_sync(4).ok());  // None -> ActiveSync, progress cleared
        CHECK(storage.shard_status(4) == ShardStatus::active_sync);
        REQUIRE(storage
                    .write_transfer_batch(
                        4, {}, {}, SliverType::primary,
                        NodeStorage::SyncProgress{SliverType::primary, BlobId::from_u64(1)})
                    .ok());
        CHECK(storage.sync_progress(4).has_value());
        REQUIRE(storage.finish_shard_sync(4).ok());  // ActiveSync -> Active, progress deleted
        CHECK(storage.shard_status(4) == ShardStatus::active);
        CHECK_FALSE(storage.sync_progress(4).has_value());
        REQUIRE(storage.set_shard_status(4, ShardStatus::locked_to_move).ok());
        REQUIRE(storage.finish_shard_sync(4).ok());  // LockedToMove is left unchanged
        CHECK(storage.shard_status(4) == ShardStatus::locked_to_move);
        REQUIRE(storage.start_shard_sync(4).ok());  // re-gained before removal -> ActiveSync
        CHECK(storage.shard_status(4) == ShardStatus::active_sync);
        REQUIRE(storage.remove_shard(4).ok());
        CHECK_FALSE(storage.has_shard(4));
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(1_s);
    });
    CHECK(result.passed());
}

TEST_CASE("shard sync: progress that moves back within a phase aborts (invariant 14)") {
    const DeathResult death = run_in_child([] {
        sim::Simulation sim(sim::SimulationConfig{});
        auto disk = Disk::in_memory("progress");
        const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
            NodeStorage storage(NodeStore::open(rt, *disk).value());
            (void)storage.create_shard(1, ShardStatus::active_sync);
            auto at = [](uint64_t seed) {
                return NodeStorage::SyncProgress{SliverType::primary, BlobId::from_u64(seed)};
            };
            const BlobId a = BlobId::from_u64(1);
            const BlobId b = BlobId::from_u64(2);
            const uint64_t high = a < b ? 2 : 1;
            const uint64_t low = a < b ? 1 : 2;
            (void)storage.write_transfer_batch(1, {}, {}, SliverType::primary, at(high));
            (void)storage.write_transfer_batch(1, {}, {}, SliverType::primary, at(low));
        });
        (void)sim.run([&](sim::Runtime& rt) {
            sim.start(host);
            rt.sleep(1_s);
        });
    });
    CHECK(death.aborted);
    CHECK(death.stderr_text.find("sync progress moved back") != std::string::npos);
}

TEST_CASE("shard sync: the running-sync counter survives aborts and host kills (§8.2)") {
    sim::Simulation sim(sim::SimulationConfig{});
    auto disk = Disk::in_memory("counter");
    std::optional<sim::WatchReceiver<size_t>> count;
    bool recover_metadata_mode = false;
    const sim::HostId source = sim.add_host("source", [](sim::Runtime&) {});  // never started
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        NodeStorage storage(NodeStore::open(rt, *disk).value());
        if (!storage.blob_info(BlobId::from_u64(7)).has_value()) {
            REQUIRE(storage.put_blob_info(BlobId::from_u64(7), certified(1)).ok());
            REQUIRE(storage.create_shard(3, ShardStatus::none).ok());
        }
        if (recover_metadata_mode && storage.status().kind == NodeStatus::Kind::standby) {
            REQUIRE(storage.set_status(NodeStatus::recover_metadata()).ok());
        }
        SyncRig rig(storage, false);
        ShardSyncConfig config;
        config.retry_min_backoff = 1_s;
        config.retry_max_backoff = 2_s;
        ShardSyncHandler handler(rt, storage, rig, 0, 13, Directory{0, {host, source}}, config);
        count = handler.subscribe_count();
        handler.start_sync_shards({3});
        if (recover_metadata_mode) {
            rt.sleep(1_s);
            // The launcher is stuck fetching metadata; a new start aborts it. One launcher's
            // guard must remain, not two, not zero.
            handler.start_sync_shards({3});
            rt.sleep(1_s);
            CHECK(handler.running_tasks() == 1);
        }
        rt.sleep(sim::Duration::forever() / 2);
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(10_s);
        // Launcher done; the per-shard task keeps retrying against a dead source.
        CHECK(count->borrow() == 1);
        sim.kill(host);  // unwinds the task: its guard decrements (the handler asserts zero)
        rt.sleep(1_ms);
        CHECK(count->borrow() == 0);

        recover_metadata_mode = true;
        sim.restart(host, 1_s);
        rt.sleep(10_s);
        CHECK(count->borrow() == 1);
        sim.kill(host);
        rt.sleep(1_ms);
        CHECK(count->borrow() == 0);
    });
    INFO(result.message);
    CHECK(result.passed());
}

namespace {

using floe::scenarios::ScenarioResult;
using floe::testing::reported;
using floe::testing::run_named_scenario;

// Node 0, staked 3 units more, owns shards 12, 8 and 5 of nodes 4, 3 and 2 besides its own 0
// (§18).
const int64_t shards_after_gain = floe::testing::mask_of({0, 5, 8, 12});

// random-crashes with node 0's shard gain (`--set shard-gain=GAIN`), as `floe run random-crashes
// --seed N --set epochs=E --set crashes=C --set shard-gain=GAIN` with the two fixes below. These
// runs are about moving shards under crashes; #3464's false attestations (findings F4, F5),
// which random crashes reach on some seeds, are gated by their own scenarios.
ScenarioResult gain_under_crashes(const std::string& gain, uint64_t seed, bool crashes,
                                  int epochs = 6) {
    return run_named_scenario(
        "random-crashes", seed,
        {"epochs=" + std::to_string(epochs), crashes ? "crashes=true" : "crashes=false",
         "shard-gain=" + gain},
        floe::testing::behaviours({"head-attestation-rules", "record-shard-sync-before-finisher"}));
}

}  // namespace

// Every source up and nothing crashing: the gain needs no per-blob recovery, and every member
// attests every epoch exactly once (random-crashes checks it without faults).
TEST_CASE("shard gain: node 0 staked 3x gains shards 12, 8, 5 by transfer alone") {
    const auto result = gain_under_crashes("sources-up", 1, false);
    INFO(result.result.message);
    REQUIRE(result.result.passed());
    CHECK(reported(result, "node0_shard_mask") == shards_after_gain);
    CHECK(reported(result, "transferred_slivers") > 100);
    CHECK(reported(result, "recovered_slivers") == 0);  // no per-blob recovery, owners up
    CHECK(reported(result, "direct_recoveries") == 0);
}

TEST_CASE("shard gain: a crashed source makes the sync fall back to recovery") {
    const auto result = run_named_scenario("shard-sync-source-crashed", 1);
    INFO(result.result.message);
    REQUIRE(result.result.passed());
    CHECK(reported(result, "node0_shard_mask") == shards_after_gain);
    CHECK(reported(result, "direct_recoveries") >= 1);
    CHECK(reported(result, "recovered_slivers") > 0);
}

TEST_CASE("shard gain: the gaining node crashes mid-transfer and resumes from its progress") {
    const auto result = run_named_scenario("gainer-crash-mid-transfer", 1);
    INFO(result.result.message);
    REQUIRE(result.result.passed());
    CHECK(reported(result, "node0_shard_mask") == shards_after_gain);
    CHECK(reported(result, "resumed_from_progress") >= 1);
}

// "Done when": on at least 50 seeds, for each way of gaining (every source up, a source down, the
// gainer crashing mid-transfer). Optimised build only (tools/test.sh).
TEST_CASE("cluster sweep: shard gain, 50 seeds for each variant") {
    for (const char* variant :
         {"sources-up", "shard-sync-source-crashed", "gainer-crash-mid-transfer"}) {
        int passed = 0;
        for (uint64_t seed = 1; seed <= 50; ++seed) {
            CAPTURE(seed);
            CAPTURE(variant);
            const bool sources_up = std::string(variant) == "sources-up";
            const auto result = sources_up ? gain_under_crashes(variant, seed, false)
                                           : run_named_scenario(variant, seed);
            INFO(result.result.message);
            CHECK(result.result.passed());
            CHECK(reported(result, "node0_shard_mask") == shards_after_gain);
            if (sources_up) {
                CHECK(reported(result, "recovered_slivers") == 0);
            }
            passed += result.result.passed() ? 1 : 0;
        }
        CHECK(passed == 50);
    }
}

// Shards move under load while nodes crash at random at the crash fail points (one at a time).
TEST_CASE("cluster sweep: shard gain under random crashes, 50 seeds") {
    int passed = 0;
    for (uint64_t seed = 1; seed <= 50; ++seed) {
        CAPTURE(seed);
        const auto result = gain_under_crashes("sources-up", seed, true);
        INFO(result.result.message);
        CHECK(result.result.passed());
        CHECK(reported(result, "node0_shard_mask") == shards_after_gain);
        passed += result.result.passed() ? 1 : 0;
    }
    CHECK(passed == 50);
}

// A review found these combinations failing on ~10% of seeds (a false finisher attestation
// while an older shard sync ran, a blob sync writing into a removed shard, a consistency report
// rebuilt on replay, a client storing to a stale committee). They stay in the sweep.
TEST_CASE("cluster sweep: crashed source under random crashes, and 12 epochs of shard gain") {
    int passed = 0;
    for (uint64_t seed = 1; seed <= 50; ++seed) {
        CAPTURE(seed);
        const auto result = gain_under_crashes("source-crashed", seed, true);
        INFO(result.result.message);
        CHECK(result.result.passed());
        passed += result.result.passed() ? 1 : 0;
    }
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        const auto result = gain_under_crashes("sources-up", seed, false, 12);
        INFO(result.result.message);
        CHECK(result.result.passed());
        passed += result.result.passed() ? 1 : 0;
    }
    CHECK(passed == 70);
}
