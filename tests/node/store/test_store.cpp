// NodeStore on a world-owned Disk: round trips, reopen, shard column families, snapshot scans,
// atomic batches, injected errors, and crash consistency at every write fail point of
// walrus-recovery-spec.md §11 (a crash unwinds the node, the next incarnation reopens the store).
#include <doctest/doctest.h>
#include <rocksdb/perf_level.h>

#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // gethostname

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/store/disk.h"
#include "node/store/node_store.h"
#include "sim/simulation.h"

using namespace walrus;
using namespace sim::time_literals;
using sim::HostId;

namespace {

constexpr CfRef status_cf{Cf::node_status};
constexpr CfRef cursor_cf{Cf::event_cursor};
constexpr CfRef blob_info_cf{Cf::blob_info};
constexpr CfRef metadata_cf{Cf::metadata};

constexpr CfRef primary(ShardIndex shard) {
    return CfRef{Cf::shard_primary, shard};
}

// A store error inside a fiber is fatal to the test: doctest's REQUIRE would throw through the
// scheduler, so abort with the error's name instead.
template <class T>
T take(sim::Result<T, StoreError> result) {
    FLOE_ASSERT(result.ok(), "store error: {}", store_error_name(result.error()));
    return std::move(result).value();
}

std::unique_ptr<NodeStore> open_store(sim::Runtime& rt, Disk& disk) {
    return take(NodeStore::open(rt, disk));
}

bool ok(const sim::Result<sim::Unit, StoreError>& result) {
    return result.ok();
}

std::optional<std::string> read(const NodeStore& store, CfRef ref, std::string_view key) {
    return take(store.get(ref, key));
}

std::vector<std::pair<std::string, std::string>> drain(Scan& scan) {
    std::vector<std::pair<std::string, std::string>> out;
    for (; scan.valid(); scan.next()) {
        out.emplace_back(std::string(scan.key()), std::string(scan.value()));
    }
    CHECK(scan.status().ok());
    return out;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Runs `body` on the first incarnation of a host "node" with the store open on `disk`.
sim::RunResult on_node(Disk& disk, const std::function<void(sim::Runtime&, NodeStore&)>& body,
                       uint64_t seed = 1) {
    sim::SimulationConfig config;
    config.seed = seed;
    sim::Simulation sim(config);
    bool ran = false;
    const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        auto store = open_store(rt, disk);
        body(rt, *store);
        ran = true;
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(node);
        rt.sleep(100_s);
    });
    CHECK(result.passed());
    CHECK(ran);
    CHECK_FALSE(disk.in_use());
    return result;
}

// Crash consistency (§12): incarnation 1 prepares, arms `point` with a crash on itself and acts;
// the act must die at the point. Incarnation 2 reopens the store and verifies.
struct CrashCase {
    const char* point;
    std::function<void(NodeStore&)> prepare;
    std::function<void(NodeStore&)> act;
    std::function<void(NodeStore&)> verify;
};

void run_crash_case(const CrashCase& c) {
    auto disk = Disk::in_memory("node");
    sim::Simulation sim(sim::SimulationConfig{});
    int boots = 0;
    bool survived = false;
    bool verified = false;
    const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        const int boot = ++boots;
        auto store = open_store(rt, *disk);
        if (boot == 1) {
            c.prepare(*store);
            sim.fail_points().arm(c.point,
                                  sim::FailPointAction::crash(1_s).only_on(rt.host()).once());
            c.act(*store);
            survived = true;
        } else {
            c.verify(*store);
            verified = true;
        }
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(node);
        rt.sleep(10_s);
    });
    CHECK(result.passed());
    CHECK(boots == 2);
    CHECK_FALSE(survived);
    CHECK(verified);
    CHECK(sim.fail_points().fires(c.point) == 1);
    CHECK_FALSE(disk->in_use());
}

// A batch over three column families (two fixed, one shard) that also removes "old".
void prepare_batch(NodeStore& store) {
    CHECK(ok(store.create_shard(3)));
    CHECK(ok(store.put(status_cf, "old", "1")));
}
void act_batch(NodeStore& store) {
    WriteBatch batch(store);
    CHECK(ok(batch.put(status_cf, "a", "1")));
    CHECK(ok(batch.put(blob_info_cf, "b", "2")));
    CHECK(ok(batch.put(primary(3), "c", "3")));
    CHECK(ok(batch.remove(status_cf, "old")));
    CHECK(batch.count() == 4);
    (void)store.write(batch);
}
void check_batch(NodeStore& store, bool applied) {
    CHECK(store.has_shard(3));
    CHECK(read(store, status_cf, "a").has_value() == applied);
    CHECK(read(store, blob_info_cf, "b").has_value() == applied);
    CHECK(read(store, primary(3), "c").has_value() == applied);
    CHECK(read(store, status_cf, "old").has_value() == !applied);
}

// Re-arms `point` with `action` after it has been hit `after` times on `host`, so that an action
// can hit the n-th call (e.g. the third column family of a shard).
void arm_after(sim::FailPoints& points, const std::string& point, int after, HostId host,
               sim::FailPointAction action) {
    auto remaining = std::make_shared<int>(after);
    auto next = std::make_shared<sim::FailPointAction>(std::move(action));
    points.arm(point, sim::FailPointAction::call([&points, point, remaining, next] {
                          if (--*remaining == 0) {
                              points.arm(point, std::move(*next));
                          }
                      }).only_on(host));
}

}  // namespace

TEST_CASE("store: column family names, big-endian integers and error names") {
    CHECK(cf_name(status_cf) == "node_status");
    CHECK(cf_name(CfRef{Cf::metadata, 9}) == "metadata");  // shard ignored
    CHECK(cf_name(primary(7)) == "shard_7/primary");
    CHECK(cf_name(CfRef{Cf::shard_pending_recover, 65535}) == "shard_65535/pending_recover");
    for (Cf cf : {Cf::node_status, Cf::event_cursor, Cf::blob_info, Cf::metadata, Cf::shard_primary,
                  Cf::shard_secondary, Cf::shard_pending_recover, Cf::shard_sync_progress,
                  Cf::shard_status}) {
        const CfRef ref{cf, is_shard_cf(cf) ? ShardIndex{12} : ShardIndex{0}};
        const auto parsed = parse_cf_name(cf_name(ref));
        REQUIRE(parsed.has_value());
        CHECK(parsed->cf == ref.cf);
        CHECK(parsed->shard == ref.shard);
    }
    for (const char* bad :
         {"default", "shard_", "shard_1", "shard_01/primary", "shard_65536/status",
          "shard_x/primary", "shard_1/tertiary", "node_status2"}) {
        CHECK_FALSE(parse_cf_name(bad).has_value());
    }

    CHECK(encode_u64(1) < encode_u64(256));
    CHECK(encode_u64(255) < encode_u64(256));
    CHECK(encode_u64(0x0102030405060708) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0xff}, UINT64_MAX}) {
        CHECK(decode_u64(encode_u64(v)).value() == v);
    }
    std::string composite = "k";
    append_u64(composite, 42);
    CHECK(composite.size() == 9);
    CHECK(decode_u64(std::string_view(composite).substr(1)).value() == 42);
    CHECK(decode_u64("short").error() == StoreError::corrupt);

    CHECK(std::string(store_error_name(StoreError::io)) == "io");
    CHECK(std::string(store_error_name(StoreError::injected)) == "injected");
    CHECK(std::string(store_error_name(StoreError::no_such_shard)) == "no_such_shard");
    CHECK(std::string(store_error_name(StoreError::corrupt)) == "corrupt");
}

TEST_CASE("store: put, get and remove round trip on a memory disk") {
    auto disk = Disk::in_memory("n0");
    CHECK(disk->is_in_memory());
    CHECK(disk->path() == "/floe/n0");
    on_node(*disk, [](sim::Runtime&, NodeStore& store) {
        CHECK(store.existing_shards().empty());
        CHECK_FALSE(read(store, status_cf, "k").has_value());
        CHECK(take(store.key_may_exist(status_cf, "k")) == false);

        CHECK(ok(store.put(status_cf, "k", "v1")));
        CHECK(read(store, status_cf, "k") == "v1");
        CHECK(take(store.key_may_exist(status_cf, "k")));
        CHECK(ok(store.put(status_cf, "k", "v2")));  // overwrite
        CHECK(read(store, status_cf, "k") == "v2");
        // Column families are separate key spaces.
        CHECK_FALSE(read(store, cursor_cf, "k").has_value());

        // Raw bytes, embedded zeros included.
        const std::string key("\0\xff\0", 3);
        const std::string value("\0a\0b", 4);
        CHECK(ok(store.put(metadata_cf, key, value)));
        CHECK(read(store, metadata_cf, key) == value);
        CHECK(ok(store.put(cursor_cf, "empty", "")));
        CHECK(read(store, cursor_cf, "empty") == "");

        CHECK(ok(store.remove(status_cf, "k")));
        CHECK_FALSE(read(store, status_cf, "k").has_value());
        CHECK(ok(store.remove(status_cf, "never-written")));  // deleting nothing is fine
    });
}

TEST_CASE("store: RocksDB's perf counting is off where stores run") {
    // Counting into perf contexts costs a tenth of a simtest seed and nothing reads them
    // (ARCHITECTURE.md, "Where a seed's time goes"). The level is thread-local.
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    auto disk = Disk::in_memory("n0");
    rocksdb::PerfLevel in_store = rocksdb::PerfLevel::kUninitialized;
    on_node(*disk, [&](sim::Runtime&, NodeStore& store) {
        CHECK(ok(store.put(status_cf, "k", "v")));
        in_store = rocksdb::GetPerfLevel();
    });
    CHECK(in_store == rocksdb::PerfLevel::kDisable);
}

TEST_CASE("store: reopen restores every column family and its data") {
    auto disk = Disk::in_memory("n0");
    on_node(*disk, [&](sim::Runtime&, NodeStore& store) {
        CHECK(disk->in_use());
        CHECK(ok(store.put(status_cf, "status", encode_u64(4))));
        CHECK(ok(store.create_shard(2)));
        CHECK(ok(store.create_shard(11)));
        CHECK(ok(store.put(primary(11), "blob", "sliver")));
    });
    CHECK_FALSE(disk->in_use());
    on_node(*disk, [&](sim::Runtime&, NodeStore& store) {
        CHECK(store.existing_shards() == std::vector<ShardIndex>{2, 11});
        CHECK(decode_u64(*read(store, status_cf, "status")).value() == 4);
        CHECK(read(store, primary(11), "blob") == "sliver");
        const std::vector<std::string> names = store.column_family_names();
        for (const char* name : {"default", "node_status", "event_cursor", "blob_info", "metadata",
                                 "shard_2/primary", "shard_2/status", "shard_11/secondary",
                                 "shard_11/pending_recover", "shard_11/sync_progress"}) {
            CHECK_MESSAGE(std::find(names.begin(), names.end(), name) != names.end(), name);
        }
        CHECK(names.size() == 1 + 7 + 2 * 5);
        CHECK(ok(store.drop_shard(2)));
    });
    on_node(*disk, [&](sim::Runtime&, NodeStore& store) {
        CHECK(store.existing_shards() == std::vector<ShardIndex>{11});
        CHECK(store.column_family_names().size() == 1 + 7 + 5);
        CHECK(read(store, primary(11), "blob") == "sliver");
    });
    // Close and reopen inside one fiber, without a crash in between.
    auto second_disk = Disk::in_memory("n1");
    sim::Simulation sim(sim::SimulationConfig{});
    auto result = sim.run([&](sim::Runtime& rt) {
        auto store = open_store(rt, *second_disk);
        CHECK(ok(store->put(cursor_cf, "next", encode_u64(17))));
        store.reset();
        CHECK_FALSE(second_disk->in_use());
        store = open_store(rt, *second_disk);
        CHECK(decode_u64(*read(*store, cursor_cf, "next")).value() == 17);
    });
    CHECK(result.passed());
    // Disks are independent media.
    on_node(*disk, [](sim::Runtime&, NodeStore& store) {
        CHECK_FALSE(read(store, cursor_cf, "next").has_value());
    });
}

TEST_CASE("store: shard column families are created, listed and dropped") {
    auto disk = Disk::in_memory("n0");
    on_node(*disk, [](sim::Runtime&, NodeStore& store) {
        CHECK_FALSE(store.has_shard(5));
        for (Cf cf : {Cf::shard_primary, Cf::shard_secondary, Cf::shard_pending_recover,
                      Cf::shard_sync_progress, Cf::shard_status}) {
            const CfRef ref{cf, 5};
            CHECK(store.put(ref, "k", "v").error() == StoreError::no_such_shard);
            CHECK(store.remove(ref, "k").error() == StoreError::no_such_shard);
            CHECK(store.get(ref, "k").error() == StoreError::no_such_shard);
            CHECK(store.key_may_exist(ref, "k").error() == StoreError::no_such_shard);
            CHECK(store.scan(ref).error() == StoreError::no_such_shard);
            WriteBatch batch(store);
            CHECK(batch.put(ref, "k", "v").error() == StoreError::no_such_shard);
            CHECK(batch.remove(ref, "k").error() == StoreError::no_such_shard);
            CHECK(batch.empty());
        }

        CHECK(ok(store.create_shard(5)));
        CHECK(ok(store.create_shard(0)));
        CHECK(ok(store.create_shard(300)));
        CHECK(ok(store.create_shard(5)));  // idempotent
        CHECK(store.existing_shards() == std::vector<ShardIndex>{0, 5, 300});
        CHECK(store.has_shard(5));
        CHECK(ok(store.put(CfRef{Cf::shard_status, 5}, "", "active")));
        CHECK(ok(store.put(primary(5), "blob", "p")));
        CHECK(read(store, primary(5), "blob") == "p");
        CHECK_FALSE(read(store, primary(0), "blob").has_value());  // shards are separate

        CHECK(ok(store.drop_shard(5)));
        CHECK_FALSE(store.has_shard(5));
        CHECK(store.existing_shards() == std::vector<ShardIndex>{0, 300});
        CHECK(store.get(primary(5), "blob").error() == StoreError::no_such_shard);
        CHECK(ok(store.drop_shard(5)));   // dropping an absent shard is a no-op
        CHECK(ok(store.drop_shard(77)));  // never existed

        // A re-created shard starts empty.
        CHECK(ok(store.create_shard(5)));
        CHECK_FALSE(read(store, primary(5), "blob").has_value());
    });
}

TEST_CASE("store: an injected error midway through create_shard leaves no shard until retried") {
    auto disk = Disk::in_memory("n0");
    sim::Simulation sim(sim::SimulationConfig{});
    const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        auto store = open_store(rt, *disk);
        arm_after(sim.fail_points(), "create-cf-before", 2, rt.host(),
                  sim::FailPointAction::inject_error().once());
        CHECK(store->create_shard(4).error() == StoreError::injected);
        CHECK_FALSE(store->has_shard(4));
        CHECK(store->existing_shards().empty());
        CHECK(store->put(primary(4), "k", "v").error() == StoreError::no_such_shard);
        CHECK(store->column_family_names().size() == 1 + 7 + 2);  // two of five were created
        CHECK(ok(store->create_shard(4)));                        // completes the other three
        CHECK(store->has_shard(4));
        CHECK(ok(store->put(primary(4), "k", "v")));
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(node);
        rt.sleep(1_s);
    });
    CHECK(result.passed());
    CHECK(sim.fail_points().hits("create-cf-before") == 5 + 1);
}

// create_shards and drop_shard, as Walrus (one fail point and one RocksDB call per column
// family) and with StoreOptions::batch_column_families (one of each for all of them); both leave
// the same shards behind, and a batch refused at its create-cf-before creates nothing.
TEST_CASE("store: create_shards and drop_shard one column family at a time, or in one call") {
    for (const bool batched : {false, true}) {
        CAPTURE(batched);
        auto disk = Disk::in_memory("n0");
        sim::Simulation sim(sim::SimulationConfig{});
        const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
            StoreOptions options;
            options.batch_column_families = batched;
            auto store = take(NodeStore::open(rt, *disk, options));
            CHECK(store->batches_column_families() == batched);
            CHECK(ok(store->create_shard(9)));  // an existing shard is skipped
            sim.fail_points().arm("create-cf-before",
                                  sim::FailPointAction::inject_error().only_on(rt.host()).once());
            CHECK(store->create_shards({2, 9, 4}).error() == StoreError::injected);
            CHECK(store->existing_shards() == std::vector<ShardIndex>{9});
            CHECK(store->column_family_names().size() == 1 + 7 + 5);
            CHECK(ok(store->create_shards({2, 9, 4})));
            CHECK(store->existing_shards() == std::vector<ShardIndex>{2, 4, 9});
            CHECK(ok(store->put(primary(4), "k", "v")));
            // Dropping: five drop-cf-before a shard, or one; the shard goes either way.
            CHECK(ok(store->drop_shard(2)));
            CHECK(store->existing_shards() == std::vector<ShardIndex>{4, 9});
            CHECK(store->column_family_names().size() == 1 + 7 + 10);
        });
        auto result = sim.run([&](sim::Runtime& rt) {
            sim.start(node);
            rt.sleep(1_s);
        });
        CHECK(result.passed());
        // Shard 9 alone: 5. Then the refused call: 1. Then the ten column families of 2 and 4:
        // ten calls, or one.
        CHECK(sim.fail_points().hits("create-cf-before") == 5 + 1 + (batched ? 1 : 10));
        CHECK(sim.fail_points().hits("drop-cf-before") == (batched ? 1 : 5));
        CHECK(sim.fail_points().hits("drop-cf-after") == (batched ? 1 : 5));
        // Both leave a database the next open (as Walrus, one by one) finds whole.
        sim::Simulation reopen(sim::SimulationConfig{});
        const HostId again = reopen.add_host("node", [&](sim::Runtime& rt) {
            auto store = open_store(rt, *disk);
            CHECK(store->existing_shards() == std::vector<ShardIndex>{4, 9});
            CHECK(read(*store, primary(4), "k") == "v");
        });
        CHECK(reopen
                  .run([&](sim::Runtime& rt) {
                      reopen.start(again);
                      rt.sleep(1_s);
                  })
                  .passed());
        CHECK(reopen.fail_points().hits("create-cf-before") == 0);
    }
}

TEST_CASE("store: scans yield byte order from an inclusive bound and read a snapshot") {
    auto disk = Disk::in_memory("n0");
    on_node(*disk, [](sim::Runtime&, NodeStore& store) {
        // Byte order, not insertion order; 0xff sorts after ASCII, \0 before everything.
        for (const char* key : {"b", "a", "ab", "\xff", "c"}) {
            CHECK(ok(store.put(blob_info_cf, key, std::string("v") + key)));
        }
        CHECK(ok(store.put(blob_info_cf, std::string("\0", 1), "zero")));
        CHECK(ok(store.put(metadata_cf, "other-cf", "x")));  // not in blob_info's scan

        Scan all = take(store.scan(blob_info_cf));
        CHECK(drain(all) == Pairs{{std::string("\0", 1), "zero"},
                                  {"a", "va"},
                                  {"ab", "vab"},
                                  {"b", "vb"},
                                  {"c", "vc"},
                                  {"\xff", "v\xff"}});

        Scan from_ab = take(store.scan(blob_info_cf, "ab"));  // inclusive
        CHECK(drain(from_ab) == Pairs{{"ab", "vab"}, {"b", "vb"}, {"c", "vc"}, {"\xff", "v\xff"}});
        Scan from_gap = take(store.scan(blob_info_cf, "abc"));  // between keys
        CHECK(from_gap.valid());
        CHECK(from_gap.key() == "b");
        Scan bounded = take(store.scan(blob_info_cf, "a", "c"));  // until is exclusive
        CHECK(drain(bounded) == Pairs{{"a", "va"}, {"ab", "vab"}, {"b", "vb"}});
        Scan past_end = take(store.scan(blob_info_cf, std::string("\xff\xff", 2)));
        CHECK_FALSE(past_end.valid());
        CHECK(past_end.status().ok());

        // Numbers as keys: big-endian encoding keeps numeric order.
        for (uint64_t n : {uint64_t{300}, uint64_t{2}, uint64_t{1} << 40, uint64_t{255}}) {
            CHECK(ok(store.put(cursor_cf, encode_u64(n), "")));
        }
        std::vector<uint64_t> numbers;
        for (Scan s = take(store.scan(cursor_cf)); s.valid(); s.next()) {
            numbers.push_back(decode_u64(s.key()).value());
        }
        CHECK(numbers == std::vector<uint64_t>{2, 255, 300, uint64_t{1} << 40});

        // Snapshot isolation: writes, overwrites and deletes after the scan began are invisible
        // to it (§4.2), visible to a new scan.
        Scan before = take(store.scan(blob_info_cf, "a"));
        CHECK(before.key() == "a");
        before.next();  // mid-scan
        CHECK(ok(store.put(blob_info_cf, "aa", "new")));
        CHECK(ok(store.put(blob_info_cf, "b", "changed")));
        CHECK(ok(store.remove(blob_info_cf, "c")));
        WriteBatch batch(store);
        CHECK(ok(batch.put(blob_info_cf, "bb", "batched")));
        CHECK(ok(store.write(batch)));
        CHECK(drain(before) == Pairs{{"ab", "vab"}, {"b", "vb"}, {"c", "vc"}, {"\xff", "v\xff"}});
        Scan after = take(store.scan(blob_info_cf, "a"));
        CHECK(drain(after) == Pairs{{"a", "va"},
                                    {"aa", "new"},
                                    {"ab", "vab"},
                                    {"b", "changed"},
                                    {"bb", "batched"},
                                    {"\xff", "v\xff"}});

        // A scan of a shard dropped underneath it keeps reading its snapshot (a shard removed
        // mid-sync, §8); new operations on the shard fail.
        CHECK(ok(store.create_shard(1)));
        CHECK(ok(store.put(primary(1), "x", "1")));
        CHECK(ok(store.put(primary(1), "y", "2")));
        Scan shard_scan = take(store.scan(primary(1)));
        CHECK(ok(store.drop_shard(1)));
        CHECK(drain(shard_scan) == Pairs{{"x", "1"}, {"y", "2"}});
        CHECK(store.scan(primary(1)).error() == StoreError::no_such_shard);

        // Scans move; the moved-to one keeps the snapshot.
        Scan moved = take(store.scan(blob_info_cf, "b", "bb"));
        Scan target = std::move(moved);
        CHECK(drain(target) == Pairs{{"b", "changed"}});
    });
}

TEST_CASE("store: a write batch is all or nothing") {
    auto disk = Disk::in_memory("n0");
    on_node(*disk, [](sim::Runtime&, NodeStore& store) {
        CHECK(ok(store.create_shard(1)));
        CHECK(ok(store.create_shard(2)));
        CHECK(ok(store.put(status_cf, "old", "1")));

        WriteBatch batch(store);
        CHECK(ok(batch.put(status_cf, "a", "1")));
        CHECK(ok(batch.put(primary(1), "b", "2")));
        CHECK(ok(batch.remove(status_cf, "old")));
        CHECK(batch.count() == 3);
        // Nothing is visible before write().
        CHECK_FALSE(read(store, status_cf, "a").has_value());
        CHECK(ok(store.write(batch)));
        CHECK(read(store, status_cf, "a") == "1");
        CHECK(read(store, primary(1), "b") == "2");
        CHECK_FALSE(read(store, status_cf, "old").has_value());

        // A batch naming a shard dropped before write() fails whole: its other entries too.
        WriteBatch stale(store);
        CHECK(ok(stale.put(status_cf, "c", "3")));
        CHECK(ok(stale.put(primary(2), "d", "4")));
        CHECK(ok(store.drop_shard(2)));
        CHECK(store.write(stale).error() == StoreError::no_such_shard);
        CHECK_FALSE(read(store, status_cf, "c").has_value());
        // Even if the shard comes back: the batch named the old column family.
        CHECK(ok(store.create_shard(2)));
        CHECK(store.write(stale).error() == StoreError::no_such_shard);
        CHECK_FALSE(read(store, primary(2), "d").has_value());

        // clear() empties a batch; an empty batch writes nothing and succeeds.
        stale.clear();
        CHECK(stale.empty());
        CHECK(ok(store.write(stale)));

        // Batches move.
        WriteBatch source(store);
        CHECK(ok(source.put(metadata_cf, "m", "1")));
        WriteBatch moved = std::move(source);
        CHECK(ok(store.write(moved)));
        CHECK(read(store, metadata_cf, "m") == "1");
    });
}

TEST_CASE("store: injected errors at a *-before point write nothing; at *-after the write stands") {
    auto disk = Disk::in_memory("n0");
    sim::Simulation sim(sim::SimulationConfig{});
    const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        auto store = open_store(rt, *disk);
        sim::FailPoints& points = sim.fail_points();
        const auto inject = [&](const char* point) {
            points.arm(point, sim::FailPointAction::inject_error().only_on(rt.host()).once());
        };
        CHECK(ok(store->put(status_cf, "present", "1")));

        inject("put-cf-before");
        CHECK(store->put(status_cf, "k", "v").error() == StoreError::injected);
        CHECK_FALSE(read(*store, status_cf, "k").has_value());
        inject("put-cf-after");
        CHECK(store->put(status_cf, "k", "v").error() == StoreError::injected);
        CHECK(read(*store, status_cf, "k") == "v");

        inject("delete-cf-before");
        CHECK(store->remove(status_cf, "present").error() == StoreError::injected);
        CHECK(read(*store, status_cf, "present") == "1");
        inject("delete-cf-after");
        CHECK(store->remove(status_cf, "present").error() == StoreError::injected);
        CHECK_FALSE(read(*store, status_cf, "present").has_value());

        WriteBatch batch(*store);
        CHECK(ok(batch.put(status_cf, "b1", "1")));
        CHECK(ok(batch.put(blob_info_cf, "b2", "2")));
        inject("batch-write-before");
        CHECK(store->write(batch).error() == StoreError::injected);
        CHECK_FALSE(read(*store, status_cf, "b1").has_value());
        CHECK_FALSE(read(*store, blob_info_cf, "b2").has_value());
        inject("batch-write-after");
        CHECK(store->write(batch).error() == StoreError::injected);
        CHECK(read(*store, status_cf, "b1") == "1");
        CHECK(read(*store, blob_info_cf, "b2") == "2");

        inject("create-cf-before");
        CHECK(store->create_shard(9).error() == StoreError::injected);
        CHECK(store->column_family_names().size() == 1 + 7);  // nothing created

        // A removal stopped before its first drop keeps the shard; one stopped after it leaves a
        // shard that no longer exists (a column family is gone), and a retry drops the rest.
        CHECK(ok(store->create_shard(3)));
        inject("drop-cf-before");
        CHECK(store->drop_shard(3).error() == StoreError::injected);
        CHECK(store->has_shard(3));
        inject("drop-cf-after");
        CHECK(store->drop_shard(3).error() == StoreError::injected);
        CHECK_FALSE(store->has_shard(3));
        CHECK(store->column_family_names().size() == 1 + 7 + 4);
        CHECK(ok(store->drop_shard(3)));
        CHECK(store->column_family_names().size() == 1 + 7);

        // Once each: everything proceeds again.
        CHECK(ok(store->put(status_cf, "k2", "v")));
        CHECK(ok(store->create_shard(9)));
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(node);
        rt.sleep(1_s);
    });
    CHECK(result.passed());
    for (const char* point : {"put-cf-before", "put-cf-after", "delete-cf-before",
                              "delete-cf-after", "batch-write-before", "batch-write-after",
                              "create-cf-before", "drop-cf-before", "drop-cf-after"}) {
        CHECK_MESSAGE(sim.fail_points().fires(point) == 1, point);
    }
}

TEST_CASE("store: a crash at a batch write point loses or keeps the whole batch") {
    SUBCASE("batch-write-before: nothing of the batch") {
        run_crash_case({"batch-write-before", prepare_batch, act_batch,
                        [](NodeStore& store) { check_batch(store, false); }});
    }
    SUBCASE("batch-write-after: all of the batch") {
        run_crash_case({"batch-write-after", prepare_batch, act_batch,
                        [](NodeStore& store) { check_batch(store, true); }});
    }
}

TEST_CASE("store: a crash at a put or delete point") {
    const auto prepare = [](NodeStore& store) {
        CHECK(ok(store.create_shard(6)));
        CHECK(ok(store.put(primary(6), "doomed", "1")));
    };
    const auto put = [](NodeStore& store) { (void)store.put(primary(6), "k", "v"); };
    const auto remove = [](NodeStore& store) { (void)store.remove(primary(6), "doomed"); };
    SUBCASE("put-cf-before: not written") {
        run_crash_case({"put-cf-before", prepare, put, [](NodeStore& store) {
                            CHECK_FALSE(read(store, primary(6), "k").has_value());
                            CHECK(read(store, primary(6), "doomed") == "1");
                        }});
    }
    SUBCASE("put-cf-after: written") {
        run_crash_case({"put-cf-after", prepare, put,
                        [](NodeStore& store) { CHECK(read(store, primary(6), "k") == "v"); }});
    }
    SUBCASE("delete-cf-before: still there") {
        run_crash_case({"delete-cf-before", prepare, remove,
                        [](NodeStore& store) { CHECK(read(store, primary(6), "doomed") == "1"); }});
    }
    SUBCASE("delete-cf-after: gone") {
        run_crash_case({"delete-cf-after", prepare, remove, [](NodeStore& store) {
                            CHECK_FALSE(read(store, primary(6), "doomed").has_value());
                        }});
    }
}

TEST_CASE("store: a crash at create-cf-before leaves no shard until it is created again") {
    SUBCASE("crash before the first column family: no shard") {
        run_crash_case({"create-cf-before", [](NodeStore&) {},
                        [](NodeStore& store) { (void)store.create_shard(8); },
                        [](NodeStore& store) {
                            CHECK_FALSE(store.has_shard(8));
                            CHECK(store.column_family_names().size() == 1 + 7);
                        }});
    }
    SUBCASE("crash before the third: two on disk, no shard; creating it again keeps them") {
        // Walrus opens only the shards whose secondary-slivers column family exists (created
        // last); a shard created again reopens what an earlier attempt left.
        auto disk = Disk::in_memory("node");
        sim::Simulation sim(sim::SimulationConfig{});
        int boots = 0;
        bool verified = false;
        const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
            const int boot = ++boots;
            if (boot == 1) {
                auto store = open_store(rt, *disk);
                CHECK(ok(store->create_shard(1)));
                CHECK(ok(store->put(primary(1), "kept", "1")));
                arm_after(sim.fail_points(), "create-cf-before", 2, rt.host(),
                          sim::FailPointAction::crash(1_s).once());
                (void)store->create_shard(8);
                FAIL("survived the crash");
            }
            const uint64_t hits_before = sim.fail_points().hits("create-cf-before");
            auto store = open_store(rt, *disk);
            CHECK(sim.fail_points().hits("create-cf-before") == hits_before);  // nothing created
            CHECK(store->existing_shards() == std::vector<ShardIndex>{1});
            CHECK_FALSE(store->has_shard(8));
            CHECK(store->column_family_names().size() == 1 + 7 + 5 + 2);
            CHECK(store->put(CfRef{Cf::shard_status, 8}, "", "x").error() ==
                  StoreError::no_such_shard);
            CHECK(read(*store, primary(1), "kept") == "1");
            CHECK(ok(store->create_shard(8)));  // the status and sync progress exist: three more
            CHECK(sim.fail_points().hits("create-cf-before") == hits_before + 3);
            CHECK(store->existing_shards() == std::vector<ShardIndex>{1, 8});
            CHECK(store->column_family_names().size() == 1 + 7 + 2 * 5);
            CHECK(ok(store->put(CfRef{Cf::shard_status, 8}, "", "none")));
            verified = true;
        });
        auto result = sim.run([&](sim::Runtime& rt) {
            sim.start(node);
            rt.sleep(10_s);
        });
        CHECK(result.passed());
        CHECK(boots == 2);
        CHECK(verified);
    }
}

TEST_CASE("store: a crash halfway through drop_shard leaves the rest of the shard on disk") {
    const CfRef status{Cf::shard_status, 6};
    const auto prepare = [status](NodeStore& store) {
        CHECK(ok(store.create_shard(6)));
        CHECK(ok(store.put(status, "", "locked")));
        CHECK(ok(store.put(primary(6), "old", "sliver")));
    };
    const auto drop = [](NodeStore& store) { (void)store.drop_shard(6); };
    SUBCASE("drop-cf-before the first column family: the shard is whole") {
        run_crash_case({"drop-cf-before", prepare, drop, [status](NodeStore& store) {
                            CHECK(store.existing_shards() == std::vector<ShardIndex>{6});
                            CHECK(read(store, status, "") == "locked");
                        }});
    }
    SUBCASE(
        "drop-cf-after the first (secondary slivers): gone, four left; re-creation keeps them") {
        run_crash_case({"drop-cf-after", prepare, drop, [status](NodeStore& store) {
                            CHECK(store.existing_shards().empty());
                            CHECK(store.column_family_names().size() == 1 + 7 + 4);
                            CHECK(ok(store.create_shard(6)));  // Walrus reopens what was left
                            CHECK(store.existing_shards() == std::vector<ShardIndex>{6});
                            CHECK(read(store, status, "") == "locked");
                            CHECK(read(store, primary(6), "old") == "sliver");
                        }});
    }
}

TEST_CASE("store: a kill unwinds the store with live scans and an unwritten batch; it reopens") {
    auto disk = Disk::in_memory("node");
    sim::Simulation sim(sim::SimulationConfig{});
    int boots = 0;
    int scans_released = 0;
    bool verified = false;
    const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        const int boot = ++boots;
        if (boot == 1) {
            // Declared before the store: destroyed after it, so the store releases them.
            std::optional<Scan> outliving;
            std::optional<WriteBatch> pending;
            auto store = open_store(rt, *disk);
            CHECK(ok(store->put(status_cf, "a", "1")));
            CHECK(ok(store->put(status_cf, "b", "2")));
            outliving.emplace(take(store->scan(status_cf)));
            pending.emplace(*store);
            CHECK(ok(pending->put(status_cf, "unwritten", "x")));
            // A task of the node holds its own scan (unwound first: kills go newest first).
            auto reader = rt.spawn("reader", [&] {
                Scan mine = take(store->scan(status_cf, "b"));
                struct Count {
                    int& n;
                    ~Count() { ++n; }
                } count{scans_released};
                rt.sleep(sim::Duration::forever() / 2);
            });
            rt.sleep(sim::Duration::forever() / 2);
            FAIL("survived the kill");
        }
        auto store = open_store(rt, *disk);
        CHECK(read(*store, status_cf, "a") == "1");
        CHECK(read(*store, status_cf, "b") == "2");
        CHECK_FALSE(read(*store, status_cf, "unwritten").has_value());
        verified = true;
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(node);
        rt.sleep(1_s);
        CHECK(disk->in_use());
        sim.kill(node);
        rt.sleep(1_s);
        CHECK_FALSE(disk->in_use());
        CHECK(scans_released == 1);
        sim.start(node);
        rt.sleep(1_s);
    });
    CHECK(result.passed());
    CHECK(boots == 2);
    CHECK(verified);
}

TEST_CASE("store: an on-directory disk under a temporary directory") {
    std::string base = (std::filesystem::temp_directory_path() / "floe-store-XXXXXX").string();
    REQUIRE(mkdtemp(base.data()) != nullptr);
    const std::string db_path = base + "/node0";
    {
        auto disk = Disk::on_directory(db_path);
        CHECK_FALSE(disk->is_in_memory());
        CHECK(disk->path() == db_path);
        on_node(*disk, [](sim::Runtime&, NodeStore& store) {
            CHECK(ok(store.create_shard(3)));
            CHECK(ok(store.put(primary(3), "blob", "sliver")));
            WriteBatch batch(store);
            CHECK(ok(batch.put(status_cf, "status", encode_u64(1))));
            CHECK(ok(store.write(batch)));
        });
        CHECK(std::filesystem::exists(db_path + "/CURRENT"));
        on_node(*disk, [](sim::Runtime&, NodeStore& store) {
            CHECK(store.existing_shards() == std::vector<ShardIndex>{3});
            CHECK(read(store, primary(3), "blob") == "sliver");
            CHECK(decode_u64(*read(store, status_cf, "status")).value() == 1);
        });
    }
    std::filesystem::remove_all(base);
    CHECK_FALSE(std::filesystem::exists(base));
}

TEST_CASE("store: RocksDB does not perturb the run: same seed, same trace hash") {
    const auto run_once = [] {
        auto disk = Disk::in_memory("node");
        return on_node(
            *disk,
            [](sim::Runtime& rt, NodeStore& store) {
                CHECK(ok(store.create_shard(2)));
                for (uint64_t i = 0; i < 200; ++i) {
                    CHECK(ok(store.put(primary(2), encode_u64(i), std::string(100, 'x'))));
                    if (i % 50 == 0) {
                        rt.sleep(1_s);
                    }
                }
                size_t n = 0;
                for (Scan s = take(store.scan(primary(2))); s.valid(); s.next()) {
                    ++n;
                }
                CHECK(n == 200);
            },
            7);
    };
    const sim::RunResult a = run_once();
    const sim::RunResult b = run_once();
    CHECK(a.trace_hash == b.trace_hash);
    CHECK(a.steps == b.steps);
}

TEST_CASE("store: SST files carry a fixed host id, not the machine's hostname") {
    // RocksDB's default db_host_id puts gethostname() into every SST file's properties, so the
    // simulated disk's bytes (and file sizes) would depend on the machine running the seed.
    auto disk = Disk::in_memory("node");
    const sim::RunResult result = on_node(*disk, [](sim::Runtime&, NodeStore& store) {
        CHECK(ok(store.create_shard(2)));
        CHECK(ok(store.put(primary(2), "key", "value")));
        CHECK(ok(store.compact(primary(2))));  // an SST file on the disk
    });
    REQUIRE(result.passed());
    char hostname[256] = {};
    REQUIRE(gethostname(hostname, sizeof hostname - 1) == 0);
    size_t tables = 0;
    for (const std::string& name : disk->sim_fs()->children(disk->path())) {
        if (!name.ends_with(".sst")) {
            continue;
        }
        ++tables;
        const auto bytes = disk->sim_fs()->contents(disk->path() + "/" + name);
        REQUIRE(bytes.has_value());
        // The properties block stores "rocksdb.creating.host.identity" prefix-compressed
        // against the key before it, and the value right after the key.
        CHECK(bytes->find("host.identityfloe") != std::string::npos);
        CHECK(bytes->find(std::string("host.identity") + hostname) == std::string::npos);
    }
    CHECK(tables > 0);
}

TEST_CASE("store: RocksDB calls fit in a 64 KiB fiber stack, flushes and WAL replay included") {
    // RocksDB runs on the calling fiber's stack. The deepest path seen was the first call into
    // the library (lazy symbol binding plus one-time option parsing): 24 KiB overflowed, 28 KiB
    // did not. Small memtables make this test flush, and the reopen replays the WAL.
    sim::SimulationConfig config;
    config.stack_size = size_t{64} * 1024;
    StoreOptions options;
    options.write_buffer_size = 64 << 10;
    auto disk = Disk::in_memory("node");
    for (int round = 0; round < 2; ++round) {
        sim::Simulation sim(config);
        size_t scanned = 0;
        const HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
            auto store = take(NodeStore::open(rt, *disk, options));
            for (ShardIndex shard = 0; shard < 13; ++shard) {
                CHECK(ok(store->create_shard(shard)));
            }
            const uint64_t base = static_cast<uint64_t>(round) * 2000;
            for (uint64_t i = base; i < base + 2000; ++i) {
                const CfRef ref = primary(static_cast<ShardIndex>(i % 13));
                CHECK(ok(store->put(ref, encode_u64(i), std::string(1000, 'x'))));
            }
            WriteBatch batch(*store);
            CHECK(ok(batch.put(status_cf, "round", encode_u64(static_cast<uint64_t>(round)))));
            CHECK(ok(store->write(batch)));
            for (Scan s = take(store->scan(primary(3))); s.valid(); s.next()) {
                ++scanned;
            }
        });
        auto result = sim.run([&](sim::Runtime& rt) {
            sim.start(node);
            rt.sleep(1_s);
        });
        CHECK(result.passed());
        size_t expected = 0;  // every round's keys of shard 3 survive
        for (uint64_t i = 0; i < static_cast<uint64_t>(round + 1) * 2000; ++i) {
            expected += i % 13 == 3 ? 1 : 0;
        }
        CHECK(scanned == expected);
    }
}
