// floe's replacement of RocksDB's OPTIONS-file check (node/store/options_file_check.h): RocksDB
// calls it, it makes exactly the reads RocksDB's parser makes (however the file's size falls
// against the read sizes), it fails as the parser does when a read fails, and a store's run with
// read faults is the same run either way.
#include <doctest/doctest.h>

#include <rocksdb/convenience.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "node/store/disk.h"
#include "node/store/node_store.h"
#include "node/store/options_file_check.h"
#include "node/store/sim_fs.h"
#include "sim/simulation.h"

using namespace walrus;
using namespace sim::time_literals;

namespace {

// Restores the default however a test ends.
struct CheckMode {
    explicit CheckMode(OptionsFileCheck mode) { set_options_file_check(mode); }
    CheckMode(const CheckMode&) = delete;
    CheckMode& operator=(const CheckMode&) = delete;
    ~CheckMode() { set_options_file_check(OptionsFileCheck::reads_only); }
};

// What a store sees of a run that opens a database, creates three shards, drops one and writes:
// its trace hash, the fs-read-eio fail point's hits and fires, and every I/O error it reported.
struct StoreRun {
    uint64_t trace_hash = 0;
    uint64_t read_hits = 0;
    uint64_t read_fires = 0;
    std::vector<std::string> errors;
    bool operator==(const StoreRun&) const = default;
};

StoreRun run_store(double read_fault_probability) {
    auto disk = Disk::in_memory("node");
    sim::SimulationConfig config;
    config.seed = 7;
    sim::Simulation sim(config);
    StoreRun out;
    const sim::HostId node = sim.add_host("node", [&](sim::Runtime& rt) {
        StoreOptions options;
        options.on_io_error = [&](const std::string& what) { out.errors.push_back(what); };
        auto store = NodeStore::open(rt, *disk, options);
        REQUIRE(store.ok());
        // Not during the open: RocksDB 7.8.3 aborts when an open fails after writing its
        // OPTIONS file (docs/FINDINGS.md, "RocksDB 7.8.3's failed open").
        if (read_fault_probability > 0) {
            sim.fail_points().arm(
                "fs-read-eio",
                sim::FailPointAction::inject_error().with_probability(read_fault_probability));
        }
        for (int round = 0; round < 20; ++round) {
            for (ShardIndex shard : {3, 5, 8}) {
                (void)store.value()->create_shard(shard);
            }
            (void)store.value()->drop_shard(round % 2 == 0 ? 5 : 8);
            (void)store.value()->put(CfRef{Cf::node_status}, "k", "v");
        }
    });
    const sim::RunResult result = sim.run([&](sim::Runtime& rt) {
        sim.start(node);
        rt.sleep(1_s);
    });
    out.trace_hash = result.trace_hash;
    out.read_hits = sim.fail_points().hits("fs-read-eio");
    out.read_fires = sim.fail_points().fires("fs-read-eio");
    return out;
}

// An OPTIONS file RocksDB wrote, padded with comment lines (the parser skips them) to `size`
// bytes when `size` is larger.
std::string options_file_of(SimFs& fs, size_t size) {
    {
        auto disk_env = rocksdb::NewCompositeEnv(fs.file_system());
        rocksdb::Options options;
        options.env = disk_env.get();
        options.create_if_missing = true;
        rocksdb::DB* db = nullptr;
        REQUIRE(rocksdb::DB::Open(options, "/db", &db).ok());
        delete db;
    }
    std::string name;
    for (const std::string& child : fs.children("/db")) {
        if (child.rfind("OPTIONS-", 0) == 0) {
            name = "/db/" + child;
        }
    }
    REQUIRE_FALSE(name.empty());
    std::string bytes = fs.contents(name).value();
    REQUIRE(bytes.size() < size);
    while (bytes.size() < size) {
        const size_t room = size - bytes.size();
        bytes += room >= 2 ? "#" + std::string(std::min<size_t>(room, 100) - 2, 'x') + "\n"
                           : std::string("\n");
    }
    REQUIRE(bytes.size() == size);
    std::unique_ptr<rocksdb::FSWritableFile> file;
    const std::string padded = "/db/PADDED";
    REQUIRE(fs.file_system()->NewWritableFile(padded, rocksdb::FileOptions(), &file, nullptr).ok());
    REQUIRE(file->Append(bytes, rocksdb::IOOptions(), nullptr).ok());
    REQUIRE(file->Close(rocksdb::IOOptions(), nullptr).ok());
    return padded;
}

// The reads one check of `path` makes (as the hook counts them), and its status; the read
// numbered `fail_read` (from 1) fails.
struct Check {
    int reads = 0;
    std::string status;
    bool operator==(const Check&) const = default;
};

Check check_once(SimFs& fs, const std::string& path, size_t readahead, int fail_read) {
    Check out;
    fs.set_fault_hook([&](const FsOpInfo& info) {
        if (info.op != FsOp::read || info.path != path) {
            return FsFault::none;
        }
        return ++out.reads == fail_read ? FsFault::io_error : FsFault::none;
    });
    rocksdb::ConfigOptions config;
    config.file_readahead_size = readahead;
    rocksdb::DBOptions db_options;
    const std::vector<std::string> names{rocksdb::kDefaultColumnFamilyName};
    const std::vector<rocksdb::ColumnFamilyOptions> cf_options{rocksdb::ColumnFamilyOptions()};
    out.status =
        check_options_file(config, db_options, names, cf_options, path, fs.file_system().get())
            .ToString();
    fs.set_fault_hook(nullptr);
    return out;
}

}  // namespace

TEST_CASE("options file check: RocksDB calls floe's replacement on open, create and drop") {
    const uint64_t before = options_files_checked();
    const StoreRun run = run_store(0);
    CHECK(run.errors.empty());
    // One open, three shards of five column families, then a shard dropped and created again
    // in each of twenty rounds.
    CHECK(options_files_checked() - before >= 1 + 3 * 5 + 20 * 5 * 2 - 5);
}

TEST_CASE("options file check: the replacement reads as the parser does, and fails as it does") {
    SimFs fs;
    REQUIRE(fs.file_system()->CreateDirIfMissing("/db", rocksdb::IOOptions(), nullptr).ok());
    // Sizes around the 8 KiB line buffer and the readahead chunks, exact multiples among them.
    for (size_t size : {size_t{8192}, size_t{12000}, size_t{16384}, size_t{40960}, size_t{41000}}) {
        const std::string path = options_file_of(fs, size);
        for (size_t readahead : {size_t{1}, size_t{4096}, size_t{8192}, size_t{12000},
                                 size_t{16384}, size_t{512 * 1024}}) {
            for (int fail_read : {0, 1, 2, 3}) {
                CAPTURE(size);
                CAPTURE(readahead);
                CAPTURE(fail_read);
                Check parsed;
                {
                    CheckMode mode(OptionsFileCheck::rocksdb_parse);
                    parsed = check_once(fs, path, readahead, fail_read);
                }
                const Check replaced = check_once(fs, path, readahead, fail_read);
                CHECK(replaced.reads == parsed.reads);
                if (fail_read > 0 && fail_read <= parsed.reads) {
                    CHECK(replaced.status == parsed.status);
                } else {
                    // RocksDB's parse then compares the file with the options it is given (here
                    // not the database's); the replacement trusts the bytes it just read.
                    CHECK(replaced.status == "OK");
                }
            }
        }
    }
}

TEST_CASE("options file check: a store's run with read faults is the same run either way") {
    for (double probability : {0.0, 0.02, 0.1}) {
        CAPTURE(probability);
        StoreRun parsed;
        {
            CheckMode mode(OptionsFileCheck::rocksdb_parse);
            parsed = run_store(probability);
        }
        const StoreRun replaced = run_store(probability);
        CHECK(replaced == parsed);
        if (probability > 0) {
            CHECK(replaced.read_fires > 0);
            CHECK_FALSE(replaced.errors.empty());  // the failed checks failed their calls
        }
    }
}
