// Blob info as RocksDB merge operands (walrus-recovery-spec.md §4.1; Walrus
// node/storage/blob_info.rs at fb097a2262, BlobInfoMergeOperand and merge_mergeable): a change
// written between another writer's read and its write survives, the merge is a pure fold that
// gives the same value however RocksDB splits it, and a flush plus a full compaction (or a
// reopen) leaves every value as it was.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/node_storage.h"
#include "sim/simulation.h"

using namespace walrus;
using Op = BlobInfoMergeOperand;

namespace {

// Runs `body` on a node with its storage open on a fresh memory disk; the disk and the
// simulation are passed too (to reopen the store, to arm fail points).
template <class Body>
void with_storage(Body body) {
    sim::Simulation sim(sim::SimulationConfig{});
    auto disk = Disk::in_memory("merge-test");
    bool ran = false;
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        auto storage = std::make_unique<NodeStorage>(NodeStore::open(rt, *disk).value());
        body(rt, sim, *disk, storage);
        ran = true;
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(sim::Duration::seconds(1));
    });
    REQUIRE(result.passed());
    REQUIRE(ran);
}

BlobInfo fold(const std::vector<Op>& operands) {
    BlobInfo info;
    for (const Op& operand : operands) {
        info.apply(operand);
    }
    return info;
}

std::vector<std::string> encoded(const std::vector<Op>& operands) {
    std::vector<std::string> out;
    for (const Op& operand : operands) {
        out.push_back(operand.encode());
    }
    return out;
}

std::vector<std::string_view> views(const std::vector<std::string>& bytes, size_t from, size_t to) {
    return {bytes.begin() + static_cast<std::ptrdiff_t>(from),
            bytes.begin() + static_cast<std::ptrdiff_t>(to)};
}

// Every operand kind, with a deletable and a permanent object, an extension and a delete.
const std::vector<Op> history = {
    Op::register_blob(/*deletable=*/false, /*end_epoch=*/5),
    Op::register_blob(true, 8),
    Op::mark_metadata_stored(),
    Op::certify(/*epoch=*/2, /*deletable=*/true, /*end_epoch=*/8, /*is_extension=*/false, 11),
    Op::certify(3, false, 5, false, 12),
    Op::certify(4, false, 9, true, 13),
    Op::delete_blob(/*was_certified=*/true),
    Op::mark_invalid(6),
};

}  // namespace

TEST_CASE("blob info merge: operands round-trip and fold like the apply_* merges") {
    for (const Op& operand : history) {
        CHECK(Op::decode(operand.encode()) == operand);
    }
    CHECK_FALSE(Op::decode("").has_value());
    CHECK_FALSE(Op::decode(std::string(18, '\x09')).has_value());  // no such kind

    BlobInfo expected;
    expected.apply_register(false, 5);
    expected.apply_register(true, 8);
    expected.mark_metadata_stored();
    expected.apply_certify(2, true, 8, false);
    expected.apply_certify(3, false, 5, false);
    expected.apply_certify(4, false, 9, true);
    expected.apply_delete(true);
    expected.apply_invalidate(6);
    expected.latest_certify_event = 13;  // carried by the certify operands
    CHECK(fold(history) == expected);
}

TEST_CASE("blob info merge: a full merge is the same however RocksDB splits the operands") {
    const std::vector<std::string> bytes = encoded(history);
    const std::optional<std::string> all =
        merge_blob_info(std::nullopt, views(bytes, 0, bytes.size()));
    REQUIRE(all.has_value());
    CHECK(BlobInfo::decode(*all) == fold(history));
    // RocksDB may merge a prefix into a value (a flush or compaction that met the base value, or
    // a bottom-level compaction with none) and the rest on top of it later.
    for (size_t split = 0; split <= bytes.size(); ++split) {
        const auto prefix = merge_blob_info(std::nullopt, views(bytes, 0, split));
        REQUIRE(prefix.has_value());
        const auto rest = merge_blob_info(*prefix, views(bytes, split, bytes.size()));
        REQUIRE(rest.has_value());
        CHECK(*rest == *all);
    }
    // An absent value merges like an empty record.
    CHECK(merge_blob_info(BlobInfo{}.encode(), views(bytes, 0, bytes.size())) == all);

    // A delete without the object it deletes does not apply: the merge fails (RocksDB reports
    // corruption) instead of asserting on RocksDB's thread. So do undecodable bytes.
    const std::vector<std::string> bad = {Op::register_blob(false, 5).encode(),
                                          Op::delete_blob(false).encode()};
    CHECK_FALSE(merge_blob_info(std::nullopt, views(bad, 0, 2)).has_value());
    CHECK_FALSE(merge_blob_info(std::string_view("garbage"), {}).has_value());
    const std::vector<std::string> garbage = {"x"};
    CHECK_FALSE(merge_blob_info(std::nullopt, views(garbage, 0, 1)).has_value());
}

TEST_CASE("blob info merge: a write landing between another writer's read and write survives") {
    with_storage([](sim::Runtime&, sim::Simulation& sim, Disk&,
                    std::unique_ptr<NodeStorage>& storage) {
        const BlobId blob = BlobId::from_u64(3);
        const BlobMetadata metadata = BlobMetadata::compute(blob, 13);
        REQUIRE(storage->apply_blob_event(1, blob, Op::register_blob(false, 10)).ok());

        // put_metadata builds its batch, then the certify event of another fiber lands just
        // before it is written (batch-write-before). A read-modify-write would write back the
        // record it read, without the certification.
        bool fired = false;
        sim.fail_points().arm(
            "batch-write-before",
            sim::FailPointAction::call([&] {
                fired = true;
                REQUIRE(
                    storage->apply_blob_event(2, blob, Op::certify(1, false, 10, false, 2)).ok());
            }).once());
        REQUIRE(storage->put_metadata(metadata).ok());
        REQUIRE(fired);
        auto info = storage->blob_info(blob);
        REQUIRE(info.has_value());
        CHECK(info->is_metadata_stored);
        CHECK(info->is_certified(1));
        CHECK(info->initial_certified_epoch == Epoch{1});
        CHECK(info->latest_certify_event == EventIndex{2});
        CHECK(info->permanent_total == PermanentInfo{1, 10});

        // The other way round: an event's write, with a client's store of the blob landing
        // just before it.
        fired = false;
        sim.fail_points().arm(
            "batch-write-before",
            sim::FailPointAction::call([&] {
                fired = true;
                REQUIRE(storage->put_blob(BlobMetadata::compute(BlobId::from_u64(4), 13), {}).ok());
            }).once());
        const BlobId other = BlobId::from_u64(4);
        REQUIRE(storage->apply_blob_event(3, other, Op::register_blob(true, 7)).ok());
        REQUIRE(fired);
        info = storage->blob_info(other);
        REQUIRE(info.has_value());
        CHECK(info->is_metadata_stored);
        CHECK(info->count_deletable_total == 1);
        CHECK(info->latest_seen_deletable_registered_end_epoch == 7);
        CHECK(storage->blob_event_applied(3));
    });
}

TEST_CASE("blob info merge: flushes, compactions and a reopen leave every value as it was") {
    with_storage(
        [](sim::Runtime& rt, sim::Simulation&, Disk& disk, std::unique_ptr<NodeStorage>& storage) {
            // Three blobs get the history's operands round-robin, with a flush and full compaction
            // after some of them: RocksDB then holds a base value in the bottom level, operands in
            // SST files and operands in the memtable, and merges across all of them.
            std::map<BlobId, std::vector<Op>> written;
            const std::vector<BlobId> blobs = {BlobId::from_u64(1), BlobId::from_u64(2),
                                               BlobId::from_u64(3)};
            EventIndex index = 0;
            auto check_all = [&](const std::string& when) {
                CAPTURE(when);
                for (const auto& entry : written) {
                    const auto stored = storage->blob_info(entry.first);
                    REQUIRE(stored.has_value());
                    CHECK(*stored == fold(entry.second));
                }
                const auto all = storage->all_blob_info();
                REQUIRE(all.size() == written.size());
                for (const auto& entry : all) {
                    CHECK(entry.second == fold(written[entry.first]));
                }
            };
            for (size_t step = 0; step < history.size(); ++step) {
                for (size_t b = 0; b < blobs.size(); ++b) {
                    // Blob b starts b steps late, so the blobs are at different points of history.
                    if (step < b) {
                        continue;
                    }
                    const Op& operand = history[step - b];
                    if (operand.kind == Op::Kind::mark_metadata_stored) {
                        REQUIRE(storage->put_metadata(BlobMetadata::compute(blobs[b], 13)).ok());
                    } else {
                        REQUIRE(storage->apply_blob_event(++index, blobs[b], operand).ok());
                    }
                    written[blobs[b]].push_back(operand);
                }
                if (step % 3 == 1) {
                    check_all("before compaction");
                    REQUIRE(storage->store().compact(CfRef{Cf::blob_info}).ok());
                    check_all("after compaction");
                }
            }
            check_all("before the last compaction");
            REQUIRE(storage->store().compact(CfRef{Cf::blob_info}).ok());
            check_all("after the last compaction");

            // Operands left in the memtable (the WAL) are merged after a reopen too.
            REQUIRE(storage->apply_blob_event(++index, blobs[2], history[history.size() - 2]).ok());
            written[blobs[2]].push_back(history[history.size() - 2]);
            check_all("before the reopen");
            storage.reset();
            storage = std::make_unique<NodeStorage>(NodeStore::open(rt, disk).value());
            check_all("after the reopen");
            CHECK(storage->blob_event_applied(index));
            REQUIRE(storage->store().compact(CfRef{Cf::blob_info}).ok());
            check_all("after the reopen and a compaction");
        });
}
