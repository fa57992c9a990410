// The node's typed storage on a real RocksDB (memory disk): the certified-blob iterator of §4.2,
// idempotent blob events, the node status table of §2.1, persistence across a reopen.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "node/encoding.h"
#include "node/node_storage.h"
#include "sim/simulation.h"

using namespace walrus;

namespace {

template <class Body>
void with_storage(Body body) {
    sim::Simulation sim(sim::SimulationConfig{});
    auto disk = Disk::in_memory("storage-test");
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        auto store = NodeStore::open(rt, *disk);
        REQUIRE(store.ok());
        NodeStorage storage(std::move(store).value());
        body(rt, storage);
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(sim::Duration::seconds(1));
    });
    REQUIRE(result.passed());
}

BlobId id_with_first_byte(uint8_t first, uint8_t last) {
    BlobId id;
    id.bytes[0] = first;
    id.bytes[31] = last;
    return id;
}

BlobInfo certified_at(Epoch epoch, Epoch end) {
    BlobInfo info;
    info.apply_register(false, end);
    info.apply_certify(epoch, false, end, false);
    return info;
}

}  // namespace

TEST_CASE("node storage: the certified iterator walks blob-id byte order with its filter") {
    with_storage([](sim::Runtime&, NodeStorage& storage) {
        // Inserted out of order; a, b, d certified before epoch 3, c certified at 3 (the event
        // path's job), e expired by 3.
        const BlobId a = id_with_first_byte(0x01, 9);
        const BlobId b = id_with_first_byte(0x01, 10);
        const BlobId c = id_with_first_byte(0x20, 0);
        const BlobId d = id_with_first_byte(0x7f, 0);
        const BlobId e = id_with_first_byte(0xf0, 0);
        REQUIRE(storage.put_blob_info(d, certified_at(2, 10)).ok());
        REQUIRE(storage.put_blob_info(a, certified_at(1, 10)).ok());
        REQUIRE(storage.put_blob_info(c, certified_at(3, 10)).ok());
        REQUIRE(storage.put_blob_info(e, certified_at(1, 3)).ok());
        REQUIRE(storage.put_blob_info(b, certified_at(2, 10)).ok());

        auto collect = [&](BlobBound bound) {
            std::vector<BlobId> out;
            auto it = storage.certified_before_epoch(3, bound);
            while (auto next = it.next()) {
                out.push_back(next->first);
            }
            return out;
        };
        CHECK(collect(BlobBound::unbounded()) == std::vector<BlobId>{a, b, d});
        CHECK(collect(BlobBound::included(b)) == std::vector<BlobId>{b, d});
        CHECK(collect(BlobBound::excluded(b)) == std::vector<BlobId>{d});
        CHECK(collect(BlobBound::excluded(c)) == std::vector<BlobId>{d});

        // A snapshot: a blob certified after the iterator was created is not seen by it.
        auto it = storage.certified_before_epoch(3, BlobBound::unbounded());
        REQUIRE(storage.put_blob_info(id_with_first_byte(0x02, 0), certified_at(1, 10)).ok());
        int seen = 0;
        while (it.next()) {
            ++seen;
        }
        CHECK(seen == 3);
    });
}

TEST_CASE("node storage: blob events apply once; status writes follow §2.1") {
    with_storage([](sim::Runtime&, NodeStorage& storage) {
        CHECK(storage.status() == NodeStatus::standby());  // T1: Standby when absent
        REQUIRE(storage.set_status(NodeStatus::recover_metadata()).ok());
        REQUIRE(storage.set_status(NodeStatus::active()).ok());
        CHECK(storage.status().to_string() == "Active");
        const BlobId blob = BlobId::from_u64(5);
        CHECK_FALSE(storage.blob_event_applied(7));
        REQUIRE(
            storage.apply_blob_event(7, blob, BlobInfoMergeOperand::register_blob(false, 5)).ok());
        CHECK(storage.blob_event_applied(7));
        BlobInfo registered;
        registered.apply_register(false, 5);
        CHECK(storage.blob_info(blob) == registered);
        CHECK(storage.blob_event_applied(6));  // events are applied in order
        CHECK_FALSE(storage.blob_event_applied(8));
        REQUIRE(storage.set_event_cursor(8).ok());
        CHECK(storage.event_cursor() == 8);
    });
}

#include "../death_test.h"

TEST_CASE("node storage: the recovery checkpoint round-trips in its own column family") {
    with_storage([](sim::Runtime&, NodeStorage& storage) {
        CHECK_FALSE(storage.recovery_progress().has_value());
        const NodeRecoveryProgress progress{9, {0, 5, 8, 300}, id_with_first_byte(0x42, 7)};
        REQUIRE(storage.set_recovery_progress(progress).ok());
        CHECK(storage.recovery_progress() == progress);
        NodeRecoveryProgress later = progress;
        later.last_settled = id_with_first_byte(0x43, 0);
        REQUIRE(storage.set_recovery_progress(later).ok());
        CHECK(storage.recovery_progress() == later);
        REQUIRE(storage.clear_recovery_progress().ok());
        CHECK_FALSE(storage.recovery_progress().has_value());
    });
}

TEST_CASE("node storage: proofs awaiting invalidation survive a reopen, beside the cursor") {
    // F9's fix (swarm 24704): a restart must find the proofs the node filed before it.
    sim::Simulation sim(sim::SimulationConfig{});
    auto disk = Disk::in_memory("proofs-test");
    const BlobId first = id_with_first_byte(0x10, 1);
    const BlobId second = id_with_first_byte(0x20, 2);
    std::vector<BlobId> after_reopen;
    EventIndex cursor_after_reopen = 0;
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        {
            auto store = NodeStore::open(rt, *disk);
            REQUIRE(store.ok());
            NodeStorage storage(std::move(store).value());
            CHECK(storage.proofs_awaiting_invalidation().empty());
            REQUIRE(storage.set_event_cursor(12).ok());
            REQUIRE(storage.add_proof_awaiting_invalidation(second).ok());
            REQUIRE(storage.add_proof_awaiting_invalidation(first).ok());
            REQUIRE(storage.add_proof_awaiting_invalidation(first).ok());  // idempotent
            REQUIRE(
                storage.apply_blob_event(11, first, BlobInfoMergeOperand::register_blob(false, 5))
                    .ok());
        }
        auto store = NodeStore::open(rt, *disk);
        REQUIRE(store.ok());
        NodeStorage storage(std::move(store).value());
        after_reopen = storage.proofs_awaiting_invalidation();
        cursor_after_reopen = storage.event_cursor();
        CHECK(storage.blob_event_applied(11));
        REQUIRE(storage.remove_proof_awaiting_invalidation(second).ok());
        CHECK(storage.proofs_awaiting_invalidation() == std::vector<BlobId>{first});
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(sim::Duration::seconds(1));
    });
    REQUIRE(result.passed());
    CHECK(after_reopen == std::vector<BlobId>{first, second});  // blob-id order
    CHECK(cursor_after_reopen == 12);  // the cursor's keys are not taken for proofs
}

TEST_CASE("node storage: an illegal status transition aborts with the repro command") {
    const DeathResult death = run_in_child([] {
        sim::set_repro_context("floe run random-crashes --seed 77");
        with_storage([](sim::Runtime& rt, NodeStorage& storage) {
            rt.sleep(sim::Duration::millis(250));
            (void)storage.set_status(NodeStatus::active());  // Standby -> Active: illegal
        });
    });
    CHECK(death.aborted);
    CHECK(death.stderr_text.find("illegal node status transition Standby -> Active") !=
          std::string::npos);
    CHECK(death.stderr_text.find("virtual time 0.250000000s") != std::string::npos);
    CHECK(death.stderr_text.find("reproduce: floe run random-crashes --seed 77") !=
          std::string::npos);
}

// The economy metadata=compact (NodeConfig::compact_metadata): a blob's computed metadata is
// stored in 40 bytes and read back whole, an inconsistently encoded blob's too (its metadata is
// still the one its id gives); metadata that is not the computed one keeps Walrus's bytes.
TEST_CASE("node storage: metadata stored compactly reads back the same") {
    for (const bool compact : {false, true}) {
        CAPTURE(compact);
        with_storage([compact](sim::Runtime&, NodeStorage& storage) {
            if (compact) {
                storage.store_metadata_compactly();
            }
            const auto plain = BlobMetadata::compute(BlobId::from_u64(7), 1000);
            const auto inconsistent =
                BlobMetadata::compute(BlobId::with_inconsistent_encoding(8), 1000);
            BlobMetadata altered = BlobMetadata::compute(BlobId::from_u64(9), 1000);
            altered.secondary[3] ^= 1;
            for (const BlobMetadata* metadata :
                 std::vector<const BlobMetadata*>{&plain, &inconsistent, &altered}) {
                REQUIRE(storage.put_metadata(*metadata).ok());
                CHECK(storage.metadata(metadata->blob_id) == *metadata);
            }
            std::vector<size_t> sizes;
            auto scan = storage.store().scan(CfRef{Cf::metadata});
            REQUIRE(scan.ok());
            for (; scan.value().valid(); scan.value().next()) {
                sizes.push_back(scan.value().value().size());
            }
            const size_t full = 40 + 16 * 1000;
            std::vector<size_t> expected =
                compact ? std::vector<size_t>{40, 40, full} : std::vector<size_t>{full, full, full};
            std::sort(sizes.begin(), sizes.end());
            CHECK(sizes == expected);
        });
    }
    // Bytes that are neither form do not decode.
    std::string bad = BlobMetadata::compute(BlobId::from_u64(7), 13).encode_compact();
    CHECK(BlobMetadata::decode(bad).has_value());
    CHECK_FALSE(BlobMetadata::decode(bad + "x").has_value());
    bad[32] = static_cast<char>(0x80);  // the compact flag with n = 0
    for (size_t i = 33; i < 40; ++i) {
        bad[i] = 0;
    }
    CHECK_FALSE(BlobMetadata::decode(bad).has_value());
}

// The consistency check's existence check (§12) gets a read error as its result, as Walrus's
// handle_existence_check_result does (counted, logged, the check goes on); the node's other
// existence checks still stop the node at one (StoreOptions::on_io_error).
namespace {

// Runs `body` on a node host of `sim` over `disk`, whose I/O errors go to `io_errors`.
void run_on_node(Disk& disk, const std::function<void(sim::Runtime&, NodeStorage&)>& body,
                 std::vector<std::string>& io_errors, sim::Simulation& sim) {
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        StoreOptions options;
        options.on_io_error = [&](const std::string& what) { io_errors.push_back(what); };
        auto store = NodeStore::open(rt, disk, options);
        REQUIRE(store.ok());
        NodeStorage storage(std::move(store).value());
        body(rt, storage);
    });
    REQUIRE(sim.run([&](sim::Runtime& rt) {
                   sim.start(host);
                   rt.sleep(sim::Duration::seconds(1));
               })
                .passed());
}

}  // namespace

TEST_CASE("node storage: existence checks: a read error is the caller's, or counts as not stored") {
    auto disk = Disk::in_memory("storage-test");
    const BlobId blob = id_with_first_byte(0x42, 1);
    const auto run_node = [&](const std::function<void(sim::Runtime&, NodeStorage&)>& body,
                              std::vector<std::string>& io_errors,
                              sim::Simulation& sim) { run_on_node(*disk, body, io_errors, sim); };
    std::vector<std::string> io_errors;
    {
        sim::Simulation sim(sim::SimulationConfig{});
        run_node(
            [&](sim::Runtime&, NodeStorage& storage) {
                REQUIRE(storage.create_shard(3, ShardStatus::active).ok());
                for (SliverType type : {SliverType::primary, SliverType::secondary}) {
                    REQUIRE(storage.put_sliver(3, blob, Sliver{0, type, 7}).ok());
                    // In a table file: a read after the reopen goes to the disk.
                    const Cf cf =
                        type == SliverType::primary ? Cf::shard_primary : Cf::shard_secondary;
                    REQUIRE(storage.store().compact(CfRef{cf, 3}).ok());
                }
            },
            io_errors, sim);
    }
    for (const bool fail : {false, true}) {
        CAPTURE(fail);
        io_errors.clear();
        sim::Simulation sim(sim::SimulationConfig{});
        std::optional<sim::Result<bool, StoreError>> checked;
        bool stored = false;
        run_node(
            [&](sim::Runtime&, NodeStorage& storage) {
                if (fail) {
                    sim.fail_points().arm("fs-read-eio",
                                          sim::FailPointAction::inject_error().once());
                }
                checked = storage.check_stored_at_shards(blob, {3});
                if (fail) {
                    sim.fail_points().arm("fs-read-eio",
                                          sim::FailPointAction::inject_error().once());
                }
                stored = storage.is_stored_at_shards(blob, {3});
            },
            io_errors, sim);
        REQUIRE(checked.has_value());
        // Neither stops the node: Walrus's is_stored_at_specific_shards logs a read error and
        // answers false (node.rs l.3138-3200 at fb097a2262).
        CHECK(io_errors.empty());
        CHECK(sim.fail_points().hits("stored_check_read_error") == (fail ? 1 : 0));
        if (fail) {
            REQUIRE_FALSE(checked->ok());
            CHECK(checked->error() == StoreError::io);
            CHECK_FALSE(stored);
            CHECK(sim.fail_points().fires("fs-read-eio") == 2);
        } else {
            REQUIRE(checked->ok());
            CHECK(checked->value());
            CHECK(stored);
        }
    }
}

// Shard sync's reads hand a read error to their caller, as Walrus's `?` returns it to
// handle_sync_error (storage/shard.rs: the certified-blob iterator, pending_recover_slivers,
// is_sliver_stored, is_blob_certified, get_last_sync_status), and sync_progress, which stands
// for the reads that measure an attempt's progress (`.ok().flatten()`), reads one as no
// progress; none of them stops the node.
TEST_CASE("node storage: shard sync's reads return a read error to the caller") {
    auto disk = Disk::in_memory("storage-test");
    const BlobId blob = id_with_first_byte(0x42, 1);
    const auto run_node = [&](const std::function<void(NodeStorage&)>& body,
                              std::vector<std::string>& io_errors, sim::Simulation& sim) {
        run_on_node(
            *disk, [&](sim::Runtime&, NodeStorage& storage) { body(storage); }, io_errors, sim);
    };
    std::vector<std::string> io_errors;
    {
        sim::Simulation sim(sim::SimulationConfig{});
        run_node(
            [&](NodeStorage& storage) {
                REQUIRE(storage.create_shard(3, ShardStatus::active_sync).ok());
                REQUIRE(storage.put_sliver(3, blob, Sliver{0, SliverType::primary, 7}).ok());
                REQUIRE(storage.put_blob_info(blob, BlobInfo{}).ok());
                REQUIRE(
                    storage
                        .write_transfer_batch(3, {}, {blob}, SliverType::secondary,
                                              NodeStorage::SyncProgress{SliverType::primary, blob})
                        .ok());
                // In table files: a read after the reopen goes to the disk.
                for (const CfRef ref :
                     {CfRef{Cf::shard_primary, 3}, CfRef{Cf::blob_info},
                      CfRef{Cf::shard_pending_recover, 3}, CfRef{Cf::shard_sync_progress, 3}}) {
                    REQUIRE(storage.store().compact(ref).ok());
                }
            },
            io_errors, sim);
    }
    for (int read = 0; read < 5; ++read) {
        for (const bool fail : {false, true}) {
            CAPTURE(read);
            CAPTURE(fail);
            io_errors.clear();
            sim::Simulation sim(sim::SimulationConfig{});
            run_node(
                [&](NodeStorage& storage) {
                    if (fail) {
                        sim.fail_points().arm("fs-read-eio",
                                              sim::FailPointAction::inject_error().once());
                    }
                    if (read == 0) {
                        const auto stored = storage.check_sliver(3, SliverType::primary, blob);
                        CHECK(stored.ok() == !fail);
                        CHECK((fail || stored.value()));
                    } else if (read == 1) {
                        const auto info = storage.blob_info_or_read_error(blob);
                        CHECK(info.ok() == !fail);
                        CHECK((fail || info.value().has_value()));
                    } else if (read == 2) {
                        const auto pending = storage.pending_recover(3);
                        CHECK(pending.ok() == !fail);
                        CHECK((fail || pending.value().size() == 1));
                    } else if (read == 3) {
                        const auto progress = storage.sync_progress_or_read_error(3);
                        CHECK(progress.ok() == !fail);
                        CHECK((fail || progress.value().has_value()));
                    } else {
                        CHECK(storage.sync_progress(3).has_value() == !fail);
                    }
                    if (fail) {
                        CHECK(sim.fail_points().fires("fs-read-eio") == 1);
                    }
                },
                io_errors, sim);
            CHECK(io_errors.empty());
        }
    }
}

// GC phase 2's read of a blob's info hands a read error to its caller, which logs it and goes
// on as Walrus's loop does (the immediate deletion of a deleted blob still reports it).
TEST_CASE("node storage: GC phase 2's blob-info read returns a read error to the caller") {
    auto disk = Disk::in_memory("storage-test");
    const BlobId blob = id_with_first_byte(0x42, 1);
    std::vector<std::string> io_errors;
    {
        sim::Simulation sim(sim::SimulationConfig{});
        run_on_node(
            *disk,
            [&](sim::Runtime&, NodeStorage& storage) {
                REQUIRE(storage.put_blob_info(blob, BlobInfo{}).ok());
                REQUIRE(storage.store().compact(CfRef{Cf::blob_info}).ok());
            },
            io_errors, sim);
    }
    sim::Simulation sim(sim::SimulationConfig{});
    std::optional<sim::Result<bool, StoreError>> deleted;
    run_on_node(
        *disk,
        [&](sim::Runtime&, NodeStorage& storage) {
            sim.fail_points().arm("fs-read-eio", sim::FailPointAction::inject_error().once());
            deleted = storage.delete_expired_blob_data(blob, 4, {}, ReadErrors::to_caller);
            CHECK(sim.fail_points().fires("fs-read-eio") == 1);
        },
        io_errors, sim);
    REQUIRE(deleted.has_value());
    REQUIRE_FALSE(deleted->ok());
    CHECK(deleted->error() == StoreError::io);
    CHECK(io_errors.empty());  // with ReadErrors::report it would stop the node
}
