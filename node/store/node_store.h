#pragma once
// One storage node's RocksDB database (walrus-recovery-spec.md §2, §3.1, §5, §11, §12).
//
// The node opens its NodeStore at boot and destroys it when it stops or when a crash unwinds it;
// the bytes live on the world-owned Disk and survive. Column families:
//   fixed      node_status (§2), event_cursor (§5), blob_info (§4.1), metadata,
//              node_recovery_progress (§9.3)
//   per shard  shard_<i>/primary, /secondary, /pending_recover, /sync_progress, /status (§3.1)
//
// blob_info has a merge operator, as in Walrus: its writers add merge operands (WriteBatch::merge)
// and RocksDB folds them into the stored record in write order (merge_blob_info, a pure function
// of the bytes, whether RocksDB runs it in a read or in a background flush or compaction).
//
// Every write is bracketed by the fail points of Walrus's typed-store (§11):
//   put     put-cf-before     Put       put-cf-after
//   remove  delete-cf-before  Delete    delete-cf-after
//   write   batch-write-before  Write   batch-write-after
// and every shard column family creation is preceded by create-cf-before. Each column family a
// shard removal drops is bracketed by drop-cf-before/after: floe's own points (Walrus's drop_cf
// has none), not among the simtests' crash points. A fail point armed with `crash` unwinds the
// caller (sim::Unwind propagates out of these calls; the store's destructor closes the
// database), `inject_error` makes the call return StoreError::injected without writing.
// Crashing at these points is the simtests' crash-consistency check (§12).
//
// Keys and values are raw bytes; keys sort in unsigned byte order (RocksDB's default
// comparator), so numbers used as keys go through encode_u64.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "node/store/disk.h"
#include "node/store/key_index.h"
#include "node/store/store_ops.h"
#include "node/types.h"
#include "sim/result.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
class Snapshot;
class Status;
class WriteBatch;
}  // namespace rocksdb

namespace sim {
class Runtime;
}

namespace walrus {

enum class StoreError : uint8_t {
    io,             // RocksDB reported an I/O (or any non-corruption) failure
    injected,       // a fail point armed with inject_error
    no_such_shard,  // the shard's column families do not exist (Walrus: UnregisteredColumn)
    corrupt,        // stored bytes that do not decode, or RocksDB reported corruption
};
const char* store_error_name(StoreError error);

// --- column families ---------------------------------------------------------------------------

enum class Cf : uint8_t {
    node_status,
    event_cursor,
    blob_info,
    metadata,
    node_recovery_progress,  // PR #3407's checkpoint (§9.3), its own CF
    per_object_blob_info,    // one record per Sui object (Walrus PerObjectBlobInfo), for GC
    garbage_collector,       // GC's last started and last completed epochs
    shard_primary,
    shard_secondary,
    shard_pending_recover,
    shard_sync_progress,
    shard_status,
};
constexpr bool is_shard_cf(Cf cf) {
    return cf >= Cf::shard_primary;
}

// Names one column family. `shard` is ignored for the fixed ones.
struct CfRef {
    Cf cf;
    ShardIndex shard = 0;
};

// "node_status", ..., "shard_7/primary", ...
std::string cf_name(CfRef ref);
// The inverse of cf_name; nullopt for any other name (e.g. "default").
std::optional<CfRef> parse_cf_name(std::string_view name);

// --- key and value encoding --------------------------------------------------------------------

// Big-endian, so that numeric order is byte order.
std::string encode_u64(uint64_t value);
void append_u64(std::string& out, uint64_t value);
// Exactly 8 bytes, else StoreError::corrupt.
sim::Result<uint64_t, StoreError> decode_u64(std::string_view bytes);

// --- the store ---------------------------------------------------------------------------------

struct StoreOptions {
    // fsync the WAL on every write (WriteOptions::sync, Walrus's SUI_DB_SYNC_TO_DISK, off by
    // default). A process crash loses no acknowledged write either way (the OS keeps what RocksDB
    // wrote); a power loss on the simulated disk loses every write since the WAL was last synced
    // (before a memtable flush, or at the open that replayed it) unless this is on.
    bool sync_writes = false;
    // Per column family memtable size (RocksDB's default is 64 MiB; nodes have many CFs).
    size_t write_buffer_size = 4 << 20;
    // RocksDB's own LOG file in the database directory (off: it is noise and, on the memory Env,
    // memory that grows with every reopen).
    bool info_log = false;
    // Create every column family create_shards adds in one CreateColumnFamilies call, behind one
    // create-cf-before, and drop a shard's five in one DropColumnFamilies call, between one
    // drop-cf-before and one drop-cf-after (a simulation economy for big shapes,
    // NodeConfig::batch_column_families).
    // Off, as Walrus does: one CreateColumnFamily per column family, each rewriting and
    // re-verifying the OPTIONS file of every column family open, a cost quadratic in shards per
    // node (ARCHITECTURE.md, "How cost grows with the cluster").
    bool batch_column_families = false;
    // Keep which keys the shards' sliver column families hold in memory (KeyIndex), filled by a
    // scan at open and kept by every write, so NodeStore::contains answers without reading
    // RocksDB (a simulation economy for big shapes, NodeConfig::index_sliver_existence). Off, as
    // Walrus: every existence check is a read. If the scan at open meets a read error, the index
    // is off until the next open.
    bool index_sliver_keys = false;
    // What an I/O error from RocksDB (EIO, ENOSPC, a failed fsync or rename, or a database stopped
    // by an earlier one) does once the store has settled: called with a description, it may end
    // the process (the storage node does, run_storage_node); when it returns, or when unset, the
    // call returns StoreError::io.
    std::function<void(const std::string& what)> on_io_error;
};

class NodeStore;

// How one write reaches the disk. Walrus writes everything `logged` (WAL on, WriteOptions::sync
// from StoreOptions::sync_writes). The others exist for the planted bug `unlogged-sliver-writes`
// (node/behaviours.h): `unlogged` skips the WAL (lost by a power loss until its memtable is
// flushed), `synced` fsyncs the WAL whatever sync_writes says.
enum class WriteMode : uint8_t { logged, unlogged, synced };

// A snapshot iterator over one column family: yields (key, value) in ascending byte order from
// `from` (inclusive) to `until` (exclusive) as they were when the scan was created, whatever is
// written or dropped afterwards (§4.2 relies on this). The store releases a scan's iterator and
// snapshot when it closes, so a scan left alive in a crashed node never keeps the database open;
// using a scan after that is a bug.
// What a read (a get, or a scan's step) does with a read error. Walrus's typed-store returns
// it (SafeIter yields it) to its caller, which decides; most floe callers stand for Walrus code
// that returns it up to the node's run loop, so by default the error goes to
// StoreOptions::on_io_error (the storage node exits).
enum class ReadErrors : uint8_t {
    report,     // to StoreOptions::on_io_error when the read meets it
    to_caller,  // only in the result (Scan::read_failed()): the caller models what Walrus does
};

class Scan {
public:
    Scan(Scan&& other) noexcept;
    Scan& operator=(Scan&& other) noexcept;
    Scan(const Scan&) = delete;
    Scan& operator=(const Scan&) = delete;
    ~Scan();

    bool valid() const;
    std::string_view key() const;    // valid() only; the bytes live until next()
    std::string_view value() const;  // valid() only
    void next();
    // After valid() turns false: Unit at the end of the range, or the read error that stopped it
    // (which already went to StoreOptions::on_io_error when the scan met it).
    sim::Result<sim::Unit, StoreError> status() const;
    // After valid() turns false: whether a read error stopped the scan (reports nothing).
    bool read_failed() const;

private:
    friend class NodeStore;
    struct State;
    explicit Scan(std::unique_ptr<State> state);
    void reset();
    // A read error that ended the iteration goes to StoreOptions::on_io_error.
    void report_read_error();
    rocksdb::Status error() const;

    std::unique_ptr<State> state_;
};

// An atomic group of writes (all or nothing, §11 batch-write), resolved against one store. Shard
// column families are checked when an entry is added and again at NodeStore::write, so a batch
// that names a shard dropped in between fails as no_such_shard instead of writing the rest.
class WriteBatch {
public:
    explicit WriteBatch(NodeStore& store);
    WriteBatch(WriteBatch&& other) noexcept;
    WriteBatch& operator=(WriteBatch&& other) noexcept;
    WriteBatch(const WriteBatch&) = delete;
    WriteBatch& operator=(const WriteBatch&) = delete;
    ~WriteBatch();

    sim::Result<sim::Unit, StoreError> put(CfRef ref, std::string_view key, std::string_view value);
    sim::Result<sim::Unit, StoreError> remove(CfRef ref, std::string_view key);
    // A merge operand for `key`, applied by the column family's merge operator on top of what
    // is stored (and of the operands written before it). Only blob_info has one (§4.1).
    sim::Result<sim::Unit, StoreError> merge(CfRef ref, std::string_view key,
                                             std::string_view operand);
    size_t count() const;
    bool empty() const { return count() == 0; }
    void clear();

private:
    friend class NodeStore;
    NodeStore* store_;
    std::unique_ptr<rocksdb::WriteBatch> batch_;
    std::set<uint32_t> cf_ids_;  // RocksDB column family ids the entries write to
    // Puts (true) and deletes of indexed column families (StoreOptions::index_sliver_keys), in
    // batch order: the store's KeyIndex takes them when the batch is written.
    struct IndexedEntry {
        uint32_t cf_id;
        std::string key;
        bool present;
    };
    std::vector<IndexedEntry> indexed_;
    // The entries, as a recording thread logs them (store_ops.h); empty otherwise.
    std::vector<StoreOp::Entry> recorded_;
};

class NodeStore {
public:
    // Opens the database on `disk`, creating it if missing: every existing column family is
    // opened (RocksDB refuses to open a database without all of them), the fixed ones are
    // created if missing, and a shard whose creation a crash interrupted is completed, as
    // Walrus's ShardStorage::create does on reopen (hitting create-cf-before again).
    static sim::Result<std::unique_ptr<NodeStore>, StoreError> open(sim::Runtime& rt, Disk& disk,
                                                                    StoreOptions options = {});

    NodeStore(const NodeStore&) = delete;
    NodeStore& operator=(const NodeStore&) = delete;
    // Releases live scans, destroys every column family handle, closes the database. Runs during
    // crash unwinds: it never throws and never suspends.
    ~NodeStore();

    // Shards (§3.1). A shard exists when all five of its column families do; they are created in
    // Walrus's order, secondary slivers last, and dropped in the reverse order, so that, as in
    // Walrus, it exists exactly when its secondary-slivers column family does. create_shard
    // creates the missing ones (each preceded by create-cf-before), so retrying after an error
    // or a crash completes the shard, reopening what the earlier attempt (or a half-finished
    // removal) left; open never completes one. drop_shard drops whatever exists and succeeds on
    // an absent shard.
    sim::Result<sim::Unit, StoreError> create_shard(ShardIndex shard);
    // create_shard of each, in order; with StoreOptions::batch_column_families, every missing
    // column family of them in one RocksDB call (one OPTIONS file) behind one create-cf-before.
    sim::Result<sim::Unit, StoreError> create_shards(const std::vector<ShardIndex>& shards);
    bool batches_column_families() const { return options_.batch_column_families; }
    sim::Result<sim::Unit, StoreError> drop_shard(ShardIndex shard);
    std::vector<ShardIndex> existing_shards() const;  // ascending
    sim::Runtime& runtime() const { return rt_; }
    bool has_shard(ShardIndex shard) const;

    // Writes. A shard column family of a missing shard gives StoreError::no_such_shard.
    sim::Result<sim::Unit, StoreError> put(CfRef ref, std::string_view key, std::string_view value,
                                           WriteMode mode = WriteMode::logged);
    sim::Result<sim::Unit, StoreError> remove(CfRef ref, std::string_view key);
    sim::Result<sim::Unit, StoreError> write(WriteBatch& batch);

    // Reads (of the latest committed state).
    sim::Result<std::optional<std::string>, StoreError> get(
        CfRef ref, std::string_view key, ReadErrors read_errors = ReadErrors::report) const;
    // Whether `key` is present: from memory for a column family the store indexes
    // (StoreOptions::index_sliver_keys), nullopt for any other (the caller reads it). No
    // RocksDB call, so no I/O and no fault.
    std::optional<bool> indexed_contains(CfRef ref, std::string_view key) const;
    // false: the key is certainly absent; true: it may be present (a cheap pre-check, §4.3).
    sim::Result<bool, StoreError> key_may_exist(CfRef ref, std::string_view key) const;
    // `label` (a string literal: it is kept, not copied) names the scan's purpose in
    // Disk::scan_label while it moves, for a scenario's fail-point condition.
    sim::Result<Scan, StoreError> scan(CfRef ref, std::optional<std::string> from = std::nullopt,
                                       std::optional<std::string> until = std::nullopt,
                                       ReadErrors read_errors = ReadErrors::report,
                                       std::string_view label = {});

    // Flushes the column family's memtable and compacts all its files into the bottom level,
    // where RocksDB full-merges every key's operands; waits for both. For tests and tools: it
    // passes no fail point and blocks outside simulated time, like the destructor's Close.
    sim::Result<sim::Unit, StoreError> compact(CfRef ref);

    // Every column family of the database, "default" included (for tests and debugging).
    std::vector<std::string> column_family_names() const;
    const Disk& disk() const { return disk_; }

private:
    friend class WriteBatch;
    friend class Scan;
    using Handle = rocksdb::ColumnFamilyHandle;
    static constexpr size_t fixed_cf_count = 7;
    static constexpr size_t shard_cf_count = 5;
    // A shard's array has nullptr for a missing column family.
    using ShardMap = std::map<ShardIndex, std::array<Handle*, shard_cf_count>>;

    NodeStore(sim::Runtime& rt, Disk& disk, StoreOptions options, rocksdb::DB* db);
    void adopt(Handle* handle);
    Handle* resolve(CfRef ref) const;
    sim::Result<sim::Unit, StoreError> create_cf(CfRef ref);
    sim::Result<sim::Unit, StoreError> create_cfs_in_one_call(const std::vector<CfRef>& refs);
    sim::Result<sim::Unit, StoreError> drop_shard_in_one_call(ShardMap::iterator it);
    void release_scan(Scan::State& state);
    // After every call into RocksDB: run the background jobs it queued (BackgroundJobs), then
    // rethrow a crash that a fault hook raised inside it (SimFs).
    void after_io() const;
    // The StoreError for a failed RocksDB status; an I/O error goes to options_.on_io_error first.
    StoreError failed(const rocksdb::Status& status, std::string_view during) const;
    void install_fault_hook();
    // StoreOptions::index_sliver_keys: whether writes to `ref` go into key_index_.
    bool indexes(CfRef ref) const;
    // Fills key_index_ by scanning every sliver column family open (a shard's leftovers too); a
    // read error leaves the index off.
    void build_key_index();
    void index_write(uint32_t cf_id, std::string_view key, bool present);
    // When this thread records store calls (store_ops.h): logs `op`, a call about to reach
    // RocksDB, under this store's number. Callers build the op only when store_op_log() is set.
    void record(StoreOp op) const;
    // A scan step or close (scan_next, scan_close) of the scan numbered `scan` in the log; none
    // for 0 (a scan made while nothing recorded).
    void record_scan(StoreOp::Kind kind, uint64_t scan) const;
    void record_single(StoreOp::Kind kind, const Handle* handle, std::string_view key,
                       std::string_view value = {}, WriteMode mode = WriteMode::logged) const;

    sim::Runtime& rt_;
    Disk& disk_;
    StoreOptions options_;
    rocksdb::DB* db_;  // owned; closed and deleted by the destructor after the handles
    // Owns every handle, by column family name (never by pointer, DETERMINISM.md).
    std::map<std::string, Handle*, std::less<>> handles_;
    // Lookup indexes into handles_. A shard's array has nullptr for a missing column family.
    std::array<Handle*, fixed_cf_count> fixed_{};
    ShardMap shards_;
    std::set<uint32_t> live_cf_ids_;
    std::optional<KeyIndex> key_index_;  // StoreOptions::index_sliver_keys, when it is usable
    // Live scans by creation number, released when the store closes.
    std::map<uint64_t, Scan::State*> scans_;
    uint64_t next_scan_id_ = 1;
};

}  // namespace walrus
