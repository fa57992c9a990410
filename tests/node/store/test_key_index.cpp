// The sliver-existence economy (StoreOptions::index_sliver_keys, node/store/key_index.h): the
// index answers exactly what a RocksDB read would, through puts, deletes, batches, unlogged
// writes, shard creation and removal, reopen, power loss and a crash halfway through a removal.
#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "node/store/disk.h"
#include "node/store/key_index.h"
#include "node/store/node_store.h"
#include "sim/simulation.h"

using namespace walrus;
using namespace sim::time_literals;

namespace {

template <class T>
T take(sim::Result<T, StoreError> result) {
    FLOE_ASSERT(result.ok(), "store error: {}", store_error_name(result.error()));
    return std::move(result).value();
}

constexpr ShardIndex shard_count = 4;
constexpr size_t key_count = 12;

std::string key_of(size_t i) {
    return std::string(31, 'k') + static_cast<char>('a' + i);  // 32 bytes, like a blob id
}

// For every sliver column family the store can resolve, the index and a read agree; for a shard
// it cannot resolve, the index says absent. Returns how many keys were present.
size_t check_agrees(const NodeStore& store) {
    size_t present = 0;
    for (ShardIndex shard = 0; shard < shard_count; ++shard) {
        for (Cf cf : {Cf::shard_primary, Cf::shard_secondary}) {
            for (size_t i = 0; i < key_count; ++i) {
                const CfRef ref{cf, shard};
                const std::optional<bool> indexed = store.indexed_contains(ref, key_of(i));
                REQUIRE(indexed.has_value());
                const auto read = store.get(ref, key_of(i));
                if (!read.ok()) {
                    REQUIRE(read.error() == StoreError::no_such_shard);
                    CHECK_FALSE(*indexed);
                    continue;
                }
                CHECK(*indexed == read.value().has_value());
                present += read.value().has_value() ? 1 : 0;
            }
        }
    }
    return present;
}

// One random step: a put (logged, unlogged or synced), a delete, a batch of both, or a shard
// created or dropped.
void random_step(NodeStore& store, sim::Rng& rng) {
    const auto shard = static_cast<ShardIndex>(rng.below(shard_count));
    const CfRef ref{rng.below(2) == 0 ? Cf::shard_primary : Cf::shard_secondary, shard};
    const std::string key = key_of(rng.below(key_count));
    switch (rng.below(8)) {
        case 0:
        case 1: (void)store.put(ref, key, "sliver", WriteMode::logged); break;
        case 2:
            (void)store.put(ref, key, "sliver",
                            rng.below(2) == 0 ? WriteMode::unlogged : WriteMode::synced);
            break;
        case 3: (void)store.remove(ref, key); break;
        case 4:
        case 5: {
            WriteBatch batch(store);
            for (uint64_t n = rng.below(5); n > 0; --n) {
                const CfRef other{rng.below(2) == 0 ? Cf::shard_primary : Cf::shard_secondary,
                                  static_cast<ShardIndex>(rng.below(shard_count))};
                const std::string other_key = key_of(rng.below(key_count));
                (void)(rng.below(3) == 0 ? batch.remove(other, other_key)
                                         : batch.put(other, other_key, "sliver"));
            }
            (void)store.write(batch);
            break;
        }
        case 6: (void)store.create_shard(shard); break;
        default:
            if (rng.below(3) == 0) {
                (void)store.drop_shard(shard);
            }
            break;
    }
}

// Incarnations of one node on one disk, each opening the store with the index, making random
// steps and checking after every one; between incarnations a clean close or a power loss.
void run_random_incarnations(bool batch_column_families, uint64_t seed) {
    auto disk = Disk::in_memory("node");
    sim::SimulationConfig config;
    config.seed = seed;
    sim::Simulation sim(config);
    size_t checks = 0;
    size_t present_seen = 0;
    auto result = sim.run([&](sim::Runtime& rt) {
        sim::Rng& rng = rt.rng("test");
        StoreOptions options;
        options.index_sliver_keys = true;
        options.batch_column_families = batch_column_families;
        for (int incarnation = 0; incarnation < 12; ++incarnation) {
            auto store = take(NodeStore::open(rt, *disk, options));
            present_seen += check_agrees(*store);
            for (int step = 0; step < 60; ++step) {
                random_step(*store, rng);
                present_seen += check_agrees(*store);
                ++checks;
            }
            store.reset();
            if (rng.below(2) == 0) {
                disk->cut_power();  // unsynced writes (unlogged ones first) may be gone
            }
        }
    });
    CHECK(result.passed());
    CHECK(checks == 12 * 60);
    CHECK(present_seen > 1000);  // the runs did store keys, so the checks compared something
}

}  // namespace

TEST_CASE("key index: numbers keys once, one bit per column family") {
    KeyIndex index;
    CHECK_FALSE(index.contains(3, "a"));
    index.insert(3, "a");
    index.insert(4, "b");
    index.insert(4, "a");
    CHECK(index.keys_numbered() == 2);
    CHECK(index.contains(3, "a"));
    CHECK_FALSE(index.contains(3, "b"));
    CHECK(index.contains(4, "b"));
    index.erase(4, "a");
    CHECK_FALSE(index.contains(4, "a"));
    CHECK(index.contains(3, "a"));  // another column family's bit
    index.erase(4, "never");        // an unknown key is a no-op
    index.drop(3);
    CHECK_FALSE(index.contains(3, "a"));
    CHECK(index.contains(4, "b"));
    index.insert(3, "a");  // a column family id after a drop starts empty, then fills
    CHECK(index.contains(3, "a"));
    CHECK(index.keys_numbered() == 2);
}

TEST_CASE("key index: the store's index agrees with RocksDB through random writes and reopens") {
    for (uint64_t seed : {1, 2, 3}) {
        CAPTURE(seed);
        run_random_incarnations(false, seed);
        run_random_incarnations(true, seed);
    }
}

TEST_CASE("key index: off unless asked; other column families are never indexed") {
    auto disk = Disk::in_memory("node");
    sim::Simulation sim(sim::SimulationConfig{});
    auto result = sim.run([&](sim::Runtime& rt) {
        auto store = take(NodeStore::open(rt, *disk));
        REQUIRE(store->create_shard(1).ok());
        CHECK_FALSE(store->indexed_contains(CfRef{Cf::shard_primary, 1}, "k").has_value());
        store.reset();
        StoreOptions options;
        options.index_sliver_keys = true;
        store = take(NodeStore::open(rt, *disk, options));
        CHECK(store->indexed_contains(CfRef{Cf::shard_primary, 1}, "k") == false);
        CHECK_FALSE(store->indexed_contains(CfRef{Cf::shard_status, 1}, "k").has_value());
        CHECK_FALSE(store->indexed_contains(CfRef{Cf::blob_info}, "k").has_value());
    });
    CHECK(result.passed());
}

TEST_CASE("key index: the leftovers of a half-dropped shard are indexed when it is created again") {
    // A crash at drop-cf-after leaves the primary slivers of shard 2 on disk without the shard;
    // create_shard reopens them with what they hold (as Walrus), so the index must know them.
    auto disk = Disk::in_memory("node");
    sim::Simulation sim(sim::SimulationConfig{});
    StoreOptions options;
    options.index_sliver_keys = true;
    int boots = 0;
    bool verified = false;
    const sim::HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        auto store = take(NodeStore::open(rt, *disk, options));
        if (++boots == 1) {
            REQUIRE(store->create_shard(2).ok());
            REQUIRE(store->put(CfRef{Cf::shard_primary, 2}, key_of(0), "sliver").ok());
            sim.fail_points().arm("drop-cf-after",
                                  sim::FailPointAction::crash(1_s).only_on(rt.host()).once());
            (void)store->drop_shard(2);
            FAIL("survived the crash point");
        }
        CHECK_FALSE(store->has_shard(2));
        REQUIRE(store->create_shard(2).ok());
        CHECK(store->indexed_contains(CfRef{Cf::shard_primary, 2}, key_of(0)) == true);
        CHECK(check_agrees(*store) == 1);
        verified = true;
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(node);
        rt.sleep(10_s);  // the crash restarts it after 1 s
    });
    CHECK(result.passed());
    CHECK(boots == 2);
    CHECK(sim.fail_points().fires("drop-cf-after") == 1);
    CHECK(verified);
}
