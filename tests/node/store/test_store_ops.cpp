// The record of a run's store calls and its replay against RocksDB alone (node/store/store_ops.h),
// which `floe bench scenarios` times as the RocksDB floor under a seed's cost: the replay makes
// every call and ends with what the run's stores held, and recording changes nothing in a run.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "node/store/disk.h"
#include "node/store/node_store.h"
#include "node/store/store_ops.h"
#include "scenarios/scenario.h"
#include "sim/simulation.h"

using namespace walrus;

namespace {

template <class T>
T take(sim::Result<T, StoreError> result) {
    FLOE_ASSERT(result.ok(), "store error: {}", store_error_name(result.error()));
    return std::move(result).value();
}

std::string key_of(uint64_t i) {
    return std::string(31, 'k') + static_cast<char>('a' + i);
}

// Every key of every column family of `store`, as the replay reports a store's contents.
std::map<std::string, std::map<std::string, std::string>> contents_of(NodeStore& store) {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const std::string& name : store.column_family_names()) {
        auto& cf = out[name];  // every column family, the empty ones too
        const std::optional<CfRef> ref = parse_cf_name(name);
        if (!ref.has_value()) {
            continue;  // "default": floe writes nothing there
        }
        auto scan = store.scan(*ref);
        REQUIRE(scan.ok());
        for (Scan& it = scan.value(); it.valid(); it.next()) {
            cf.emplace(std::string(it.key()), std::string(it.value()));
        }
    }
    return out;
}

// Random calls of every kind on two stores (disks), with reopens: puts, deletes, batches with
// merges, gets, scans, shards created and dropped, one call at a time or batched.
void random_calls(sim::Runtime& rt, std::vector<std::unique_ptr<Disk>>& disks,
                  bool batch_column_families) {
    sim::Rng& rng = rt.rng("test");
    StoreOptions options;
    options.batch_column_families = batch_column_families;
    for (int incarnation = 0; incarnation < 4; ++incarnation) {
        for (auto& disk : disks) {
            auto store = take(NodeStore::open(rt, *disk, options));
            for (int step = 0; step < 80; ++step) {
                const auto shard = static_cast<ShardIndex>(rng.below(3));
                const CfRef sliver{rng.below(2) == 0 ? Cf::shard_primary : Cf::shard_secondary,
                                   shard};
                const std::string key = key_of(rng.below(10));
                switch (rng.below(9)) {
                    case 0: (void)store->put(sliver, key, "sliver"); break;
                    case 1: (void)store->remove(sliver, key); break;
                    case 2: {
                        WriteBatch batch(*store);
                        (void)batch.put(CfRef{Cf::metadata}, key, "metadata");
                        (void)batch.put(sliver, key, "pair");
                        (void)batch.merge(CfRef{Cf::blob_info}, key,
                                          BlobInfoMergeOperand::mark_metadata_stored().encode());
                        (void)store->write(batch);
                        break;
                    }
                    case 3: (void)store->get(sliver, key); break;
                    case 4: (void)store->key_may_exist(sliver, key); break;
                    case 5: {
                        auto scan = store->scan(sliver, key_of(2), key_of(8));
                        if (scan.ok()) {
                            for (Scan& it = scan.value(); it.valid(); it.next()) {
                            }
                        }
                        break;
                    }
                    case 6: (void)store->create_shard(shard); break;
                    case 7:
                        if (rng.below(4) == 0) {
                            (void)store->drop_shard(shard);
                        }
                        break;
                    default: (void)store->put(CfRef{Cf::node_status}, "status", key); break;
                }
            }
        }
    }
}

}  // namespace

TEST_CASE("store ops: the replay makes every recorded call and ends where the run's stores did") {
    for (bool batched : {false, true}) {
        CAPTURE(batched);
        std::vector<std::unique_ptr<Disk>> disks;
        disks.push_back(Disk::in_memory("a"));
        disks.push_back(Disk::in_memory("b"));
        StoreOpLog log;
        StoreContents run_contents;
        sim::Simulation sim(sim::SimulationConfig{});
        auto result = sim.run([&](sim::Runtime& rt) {
            {
                StoreOpRecording recording(log);
                random_calls(rt, disks, batched);
            }
            // Read back unrecorded, as the replay will report them.
            for (auto& disk : disks) {
                auto store = take(NodeStore::open(rt, *disk));
                run_contents[static_cast<uint32_t>(run_contents.size())] = contents_of(*store);
            }
        });
        REQUIRE(result.passed());
        CHECK(log.stores() == 2);
        CHECK(log.ops().size() > 500);
        std::map<StoreOp::Kind, size_t> kinds;
        for (const StoreOp& op : log.ops()) {
            ++kinds[op.kind];
        }
        for (StoreOp::Kind kind :
             {StoreOp::Kind::open, StoreOp::Kind::close, StoreOp::Kind::create_cfs,
              StoreOp::Kind::drop_cfs, StoreOp::Kind::put, StoreOp::Kind::remove,
              StoreOp::Kind::write, StoreOp::Kind::get, StoreOp::Kind::key_may_exist,
              StoreOp::Kind::scan_open, StoreOp::Kind::scan_close}) {
            CAPTURE(static_cast<int>(kind));
            CHECK(kinds[kind] > 0);
        }
        CHECK(kinds[StoreOp::Kind::open] == kinds[StoreOp::Kind::close]);
        CHECK(kinds[StoreOp::Kind::scan_open] == kinds[StoreOp::Kind::scan_close]);

        StoreContents replayed;
        CHECK(replay_store_ops(log, &replayed) == log.ops().size());
        // The replay's stores are still open at the end, the run's were closed: compare what
        // they hold (the run's read back with the "default" column family the replay lists too).
        // On a difference, say where.
        for (const auto& [db, cfs] : run_contents) {
            for (const auto& [name, keys] : cfs) {
                if (replayed[db][name] != keys) {
                    MESSAGE("store ", db, " column family ", name, ": the run's has ", keys.size(),
                            " keys, the replay's ", replayed[db][name].size());
                }
            }
        }
        CHECK(replayed == run_contents);
    }
}

TEST_CASE("store ops: recording a simtest changes nothing, and its replay makes every call") {
    const floe::scenarios::ScenarioSpec& spec =
        *floe::scenarios::find_scenario("long-node-recovery");
    floe::scenarios::ScenarioRunOptions options;
    options.seed = 1;
    std::string error;
    const floe::scenarios::ScenarioResult plain =
        floe::scenarios::run_scenario(spec, options, error);
    REQUIRE(error.empty());
    StoreOpLog log;
    floe::scenarios::ScenarioResult recorded;
    {
        StoreOpRecording recording(log);
        recorded = floe::scenarios::run_scenario(spec, options, error);
    }
    REQUIRE(error.empty());
    CHECK(plain.result.passed());
    CHECK(recorded.result.trace_hash == plain.result.trace_hash);
    CHECK(log.stores() == 5);  // the simtest cluster's five nodes
    CHECK(log.ops().size() > 10'000);
    CHECK(store_op_log() == nullptr);  // the recording ended with its scope
    CHECK(replay_store_ops(log) == log.ops().size());
}
