// Garbage collection (node/garbage_collector.h; walrus-recovery-spec.md §4.1; Walrus
// node/garbage_collector.rs at fb097a2262): phase 1 expires objects into the aggregate, phase 2
// deletes the data of unregistered blobs on an Active node after its delay, a new epoch aborts
// a running phase 2, and a restart between start and completion collects again.
#include <doctest/doctest.h>

#include <memory>

#include "node/garbage_collector.h"
#include "sim/simulation.h"

using namespace walrus;
using Op = BlobInfoMergeOperand;
using sim::Duration;

namespace {

struct Gc {
    sim::Runtime& rt;
    sim::Simulation& sim;
    NodeStorage& storage;
    GarbageCollector& gc;
    EventIndex next_event = 1;

    // A blob with one object (id `object`), registered and certified at epoch 1 until `end`,
    // with its metadata and both slivers at shard 0.
    BlobId stored_blob(uint64_t seed, uint64_t object, bool deletable, Epoch end) {
        const BlobId blob = BlobId::from_u64(seed);
        REQUIRE(
            storage.apply_blob_event(next_event++, blob, Op::register_blob(deletable, end), object)
                .ok());
        REQUIRE(storage
                    .apply_blob_event(next_event, blob,
                                      Op::certify(1, deletable, end, false, next_event), object)
                    .ok());
        ++next_event;
        const BlobMetadata metadata = BlobMetadata::compute(blob, 13);
        const uint32_t pair = pair_index(0, 13, blob);
        REQUIRE(storage
                    .put_blob(metadata, {{0,
                                          {encode_sliver(blob, pair, SliverType::primary),
                                           encode_sliver(blob, pair, SliverType::secondary)}}})
                    .ok());
        return blob;
    }
    bool has_data(const BlobId& blob) const {
        return storage.metadata(blob).has_value() ||
               storage.sliver(0, SliverType::primary, blob).has_value();
    }
};

template <class Body>
void with_gc(Body body, GarbageCollectionConfig config = {}) {
    sim::Simulation sim(sim::SimulationConfig{});
    auto disk = Disk::in_memory("gc-test");
    bool ran = false;
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        NodeStorage storage(NodeStore::open(rt, *disk).value());
        REQUIRE(storage.create_shard(0, ShardStatus::active).ok());
        GarbageCollector gc(rt, storage, 0, config);
        Gc world{rt, sim, storage, gc};
        body(world);
        ran = true;
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(Duration::seconds(30));
    });
    REQUIRE(result.passed());
    REQUIRE(ran);
}

void make_active(NodeStorage& storage) {
    REQUIRE(storage.set_status(NodeStatus::recover_metadata()).ok());
    REQUIRE(storage.set_status(NodeStatus::active()).ok());
}

}  // namespace

TEST_CASE("gc: phase 1 expires each object once, into the aggregate") {
    with_gc([](Gc& w) {
        const BlobId old_blob = w.stored_blob(1, 11, true, 3);
        const BlobId live_blob = w.stored_blob(2, 12, false, 9);
        CHECK(w.storage.blob_info(old_blob)->count_deletable_certified == 1);
        w.gc.start(3, std::nullopt);
        CHECK_FALSE(w.storage.object_info(11).has_value());  // end 3 <= 3: expired
        CHECK(w.storage.object_info(12).has_value());
        const BlobInfo info = *w.storage.blob_info(old_blob);
        CHECK(info.count_deletable_total == 0);
        CHECK(info.latest_seen_deletable_certified_end_epoch == 0);
        CHECK_FALSE(info.initial_certified_epoch.has_value());
        CHECK(w.storage.blob_info(live_blob)->is_certified(3));
        CHECK(w.storage.gc_last_started_epoch() == 3);
        w.gc.start(4, std::nullopt);  // nothing left to expire for blob 1: counts stay
        CHECK(w.storage.blob_info(old_blob)->count_deletable_total == 0);
        CHECK(w.sim.fail_points().hits("gc_process_expired_blob_objects") == 1);
    });
}

TEST_CASE("gc: phase 2 deletes unregistered blobs' data after its delay, only when Active") {
    with_gc([](Gc& w) {
        const BlobId old_blob = w.stored_blob(1, 11, false, 3);
        const BlobId live_blob = w.stored_blob(2, 12, false, 9);
        w.gc.start(3, std::nullopt);  // Standby: phase 2 does nothing
        w.rt.sleep(Duration::seconds(2));
        CHECK(w.has_data(old_blob));
        CHECK(w.storage.gc_last_completed_epoch() == 0);
        make_active(w.storage);
        const sim::Instant start = w.rt.now();
        const sim::Instant at = w.gc.data_deletion_time(4, start);
        CHECK(at >= start);
        CHECK(at < start + Duration::seconds(1));
        CHECK(at == w.gc.data_deletion_time(4, start));  // deterministic per (node, epoch)
        w.gc.start(4, start);
        CHECK(w.has_data(old_blob));  // not before the delay
        w.rt.sleep(Duration::seconds(1));
        CHECK_FALSE(w.has_data(old_blob));
        CHECK_FALSE(w.storage.blob_info(old_blob).has_value());  // nothing references it
        CHECK(w.has_data(live_blob));
        CHECK(w.storage.gc_last_completed_epoch() == 4);
        CHECK(w.sim.fail_points().hits("data_deletion_start") == 2);
    });
}

TEST_CASE("gc: a new epoch's GC aborts a phase 2 still waiting") {
    GarbageCollectionConfig config;
    config.randomization_time_window = Duration::seconds(20);
    with_gc(
        [](Gc& w) {
            make_active(w.storage);
            const BlobId old_blob = w.stored_blob(1, 11, false, 3);
            w.gc.start(3, w.rt.now() + Duration::seconds(60));  // far in the future
            w.gc.start(4, std::nullopt);
            w.rt.sleep(Duration::seconds(21));
            CHECK_FALSE(w.has_data(old_blob));
            CHECK(w.storage.gc_last_completed_epoch() == 4);
            CHECK(w.sim.fail_points().hits("data_deletion_start") == 1);
        },
        config);
}

TEST_CASE("gc: a restart between start and completion collects the same epoch again") {
    with_gc([](Gc& w) {
        make_active(w.storage);
        const BlobId old_blob = w.stored_blob(1, 11, false, 3);
        REQUIRE(w.storage.set_gc_last_started_epoch(3).ok());  // as if a crash hit phase 2
        w.gc.resume_at_startup(4, std::nullopt);  // the chain moved on: the next GC collects
        w.rt.sleep(Duration::seconds(2));
        CHECK(w.has_data(old_blob));
        w.gc.resume_at_startup(3, std::nullopt);
        w.rt.sleep(Duration::seconds(2));
        CHECK_FALSE(w.has_data(old_blob));
        CHECK(w.storage.gc_last_completed_epoch() == 3);
    });
}

TEST_CASE("gc: immediate deletion of a deleted blob, and invalid blobs' data") {
    with_gc([](Gc& w) {
        const BlobId deleted = w.stored_blob(1, 11, true, 9);
        REQUIRE(
            w.storage.apply_blob_event(w.next_event++, deleted, Op::delete_blob(true), 11).ok());
        CHECK_FALSE(w.storage.object_info(11).has_value());
        w.gc.delete_now_if_unregistered(deleted, 2);  // no status check on this path
        CHECK_FALSE(w.has_data(deleted));
        const BlobId invalid = w.stored_blob(2, 12, false, 9);
        REQUIRE(w.storage.apply_blob_event(w.next_event++, invalid, Op::mark_invalid(2)).ok());
        w.gc.delete_now_if_unregistered(invalid, 2);  // invalid: not registered, but kept
        REQUIRE(w.storage.delete_blob_data(invalid).ok());
        CHECK_FALSE(w.has_data(invalid));
        CHECK(w.storage.blob_info(invalid)->invalid);
    });
}

// Walrus's phase 2 logs a blob whose deletion fails (a read error of its info, a failed commit)
// and goes on to the next (storage.rs iterate_and_delete_expired_blob_data l.919-936,
// attempt_to_delete_blob_data_inner l.985-1003); the phase completes and the blob is left to a
// later GC. Here the first blob's write fails (an injected error at batch-write-before).
TEST_CASE("gc: phase 2 goes on past a blob whose deletion fails, and completes") {
    with_gc([](Gc& w) {
        make_active(w.storage);
        const BlobId first = w.stored_blob(1, 11, false, 3);
        const BlobId second = w.stored_blob(2, 12, false, 3);
        const bool first_is_first = first.bytes < second.bytes;
        w.gc.start(4, std::nullopt);  // phase 1 runs inline; phase 2 after its delay
        w.sim.fail_points().arm("batch-write-before", sim::FailPointAction::inject_error().once());
        w.rt.sleep(Duration::seconds(2));
        CHECK(w.sim.fail_points().fires("batch-write-before") == 1);
        CHECK(w.has_data(first) == first_is_first);  // the blob read first was left
        CHECK(w.has_data(second) == !first_is_first);
        CHECK(w.storage.gc_last_completed_epoch() == 4);
        w.gc.start(5, std::nullopt);  // a later GC deletes it
        w.rt.sleep(Duration::seconds(2));
        CHECK_FALSE(w.has_data(first));
        CHECK_FALSE(w.has_data(second));
        CHECK(w.storage.gc_last_completed_epoch() == 5);
    });
}
