#pragma once
// The RocksDB calls a run's stores make, recorded so that `floe bench scenarios` can make them
// again against RocksDB alone and print that floor beside a seed's cost (issue 18;
// ARCHITECTURE.md, "Where a seed's time goes"). What the model asks of RocksDB is Walrus's
// (every get, write, scan and column family a Walrus node makes); what a seed costs above the
// floor is floe's: the scheduler, the network, the model's logic, the simulated disk.
//
// Recording is off unless a StoreOpRecording is alive on the thread. It only appends to the log:
// a store that records does exactly what it does otherwise, so a recorded run is the same run.
// Every call that reaches RocksDB is recorded, whatever it returned; calls a fail point stopped
// before RocksDB are not.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace walrus {

struct StoreOp {
    enum class Kind : uint8_t {
        open,           // cfs: every column family opened; write_buffer_size
        close,          //
        create_cfs,     // cfs: created in one call (one entry: CreateColumnFamily)
        drop_cfs,       // cfs: dropped in one call (one entry: DropColumnFamily)
        put,            // cfs[0], key, value, sync, disable_wal
        remove,         // cfs[0], key, sync
        write,          // entries, sync
        get,            // cfs[0], key
        key_may_exist,  // cfs[0], key
        scan_open,      // scan, cfs[0], from, until, snapshot
        scan_next,      // scan
        scan_close,     // scan
        compact,        // cfs[0]: flush, then compact the whole range to the bottom level
    };
    // One entry of a write batch.
    struct Entry {
        enum class Type : uint8_t { put, remove, merge };
        Type type = Type::put;
        std::string cf;
        std::string key;
        std::string value;  // the value, or the merge operand
    };

    Kind kind = Kind::open;
    uint32_t db = 0;    // the store, numbered by its disk's path in order of first open
    uint64_t scan = 0;  // scan_*: the scan, numbered in the log
    std::vector<std::string> cfs;
    std::string key;
    std::string value;
    std::optional<std::string> from;
    std::optional<std::string> until;
    bool snapshot = false;
    bool sync = false;
    bool disable_wal = false;
    size_t write_buffer_size = 0;
    std::vector<Entry> entries;
};

class StoreOpLog {
public:
    // The number of the store on `disk_path`, the same at every reopen.
    uint32_t store_number(const std::string& disk_path);
    uint64_t next_scan_number() { return next_scan_++; }
    void add(StoreOp op) { ops_.push_back(std::move(op)); }
    const std::vector<StoreOp>& ops() const { return ops_; }
    size_t stores() const { return stores_.size(); }

private:
    std::map<std::string, uint32_t> stores_;
    std::vector<StoreOp> ops_;
    uint64_t next_scan_ = 1;
};

namespace detail {
inline thread_local StoreOpLog* recording_store_ops = nullptr;
}

// The log every store of this thread records into, or null when none is recording. Inline: the
// stores ask it on every write and read.
inline StoreOpLog* store_op_log() {
    return detail::recording_store_ops;
}

// While alive, every store of this thread records into `log`. Not nested.
class StoreOpRecording {
public:
    explicit StoreOpRecording(StoreOpLog& log);
    StoreOpRecording(const StoreOpRecording&) = delete;
    StoreOpRecording& operator=(const StoreOpRecording&) = delete;
    ~StoreOpRecording();
};

// What every store holds at the end of a replay, by store number, column family and key (merge
// operands applied): for tests that compare it with the run's stores.
using StoreContents = std::map<uint32_t, std::map<std::string, std::map<std::string, std::string>>>;

// Makes the log's calls again, in order, on this thread, against RocksDB alone: each store on a
// RocksDB memory Env of its own with floe's options (its merge operator, the OPTIONS-file check,
// perf counting off), flushes and compactions on RocksDB's own threads. Statuses are not
// checked: a run's injected faults and power losses are not replayed, so a faulted run's later
// calls may find other data (the floor is for runs without storage faults). Returns the number
// of calls made: fewer than the log's only when a call named a store or column family the
// replay does not have. With `contents`, fills it with what the stores open at the end hold.
uint64_t replay_store_ops(const StoreOpLog& log, StoreContents* contents = nullptr);

}  // namespace walrus
