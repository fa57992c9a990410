#include "node/store/node_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdarg>
#include <optional>
#include <utility>

#include "node/blob_info.h"
#include "node/sites.h"
#include "node/store/options_file_check.h"
#include "node/store/rocksdb_options.h"
#include "node/store/store_ops.h"
#include "sim/assert.h"
#include "sim/runtime.h"

namespace walrus {

namespace {

constexpr std::array<const char*, 7> fixed_cf_names = {
    "node_status",          "event_cursor",     "blob_info", "metadata", "node_recovery_progress",
    "per_object_blob_info", "garbage_collector"};
constexpr std::array<const char*, 5> shard_cf_suffixes = {"primary", "secondary", "pending_recover",
                                                          "sync_progress", "status"};
constexpr std::array<Cf, 5> shard_cfs = {Cf::shard_primary, Cf::shard_secondary,
                                         Cf::shard_pending_recover, Cf::shard_sync_progress,
                                         Cf::shard_status};
// Walrus's order (ShardStorage::create_or_reopen_inner, storage/shard.rs at fb097a2262): the
// status first, the sliver column families last, secondary the very last, because a shard
// exists only once its secondary-slivers column family does (existing_cf_shards_ids,
// l.649-665). Removal drops them in the reverse order (delete_shard_storage, l.1684-1704), so a
// crash halfway through either leaves column families of a shard that does not exist.
constexpr std::array<Cf, 5> shard_creation_order = {Cf::shard_status, Cf::shard_sync_progress,
                                                    Cf::shard_pending_recover, Cf::shard_primary,
                                                    Cf::shard_secondary};
constexpr std::array<Cf, 5> shard_removal_order = {Cf::shard_secondary, Cf::shard_primary,
                                                   Cf::shard_pending_recover,
                                                   Cf::shard_sync_progress, Cf::shard_status};
static_assert(
    [] {
        for (size_t i = 0; i < shard_removal_order.size(); ++i) {
            if (shard_removal_order[i] !=
                shard_creation_order[shard_creation_order.size() - 1 - i]) {
                return false;
            }
        }
        return true;
    }(),
    "a shard is removed in the reverse order of its creation");
constexpr std::string_view shard_prefix = "shard_";

size_t fixed_index(Cf cf) {
    return static_cast<size_t>(cf);
}
size_t shard_index_of(Cf cf) {
    return static_cast<size_t>(cf) - static_cast<size_t>(Cf::shard_primary);
}

// A fail point armed with inject_error: the store call returns StoreError::injected.
bool injected(sim::Runtime& rt, const site::Site& point) {
    return rt.fail_point(point) == sim::FailPointOutcome::inject_error;
}

// The simulated disk's faults, as fail points (armed like any other; a crash action there
// unwinds after RocksDB returns, see SimFs). Every operation of the node's own fiber hits the
// points of its kind, so coverage counts them; a scenario narrows a point to one kind of file
// with a condition on Disk::current_fs_op.
FsFault fault_for(sim::Runtime& rt, Disk& disk, const FsOpInfo& info) {
    disk.current_fs_op = {info.op, info.kind, info.background};
    switch (info.op) {
        case FsOp::read: return injected(rt, site::fs_read_eio) ? FsFault::io_error : FsFault::none;
        case FsOp::write:
            if (injected(rt, site::fs_no_space)) {
                return FsFault::no_space;
            }
            return injected(rt, site::fs_write_eio) ? FsFault::io_error : FsFault::none;
        case FsOp::sync:
            if (injected(rt, site::fs_fsync_fail)) {
                return FsFault::io_error;
            }
            return injected(rt, site::fs_fsync_lie) ? FsFault::lie : FsFault::none;
        case FsOp::dir_sync:
            return injected(rt, site::fs_dir_fsync_fail) ? FsFault::io_error : FsFault::none;
        case FsOp::rename:
            return injected(rt, site::fs_rename_fail) ? FsFault::io_error : FsFault::none;
    }
    FLOE_UNREACHABLE("bad FsOp {}", static_cast<int>(info.op));
}

// After a call into RocksDB: its queued background jobs run, then a crash a fault hook raised
// inside it unwinds the fiber (SimFs never lets it cross RocksDB).
void settle_and_rethrow(const Disk& disk) {
    disk.settle();
    if (std::exception_ptr crashed = disk.faults().take_deferred_unwind()) {
        std::rethrow_exception(crashed);
    }
}

rocksdb::Slice slice(std::string_view bytes) {
    return {bytes.data(), bytes.size()};
}

StoreError error_of(const rocksdb::Status& status) {
    return status.IsCorruption() ? StoreError::corrupt : StoreError::io;
}

// A failed RocksDB status as a StoreError; an I/O error goes to options.on_io_error first.
StoreError report_failure(const StoreOptions& options, const rocksdb::Status& status,
                          std::string_view during) {
    if (!status.IsCorruption() && options.on_io_error) {
        options.on_io_error(fmt::format("{}: {}", during, status.ToString()));
    }
    return error_of(status);
}

// RocksDB's LOG file is off by default (StoreOptions::info_log): a logger that drops everything.
class NullLogger final : public rocksdb::Logger {
public:
    NullLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
    void Logv(const char* /*format*/, va_list /*ap*/) override {}
    void Logv(const rocksdb::InfoLogLevel /*level*/, const char* /*format*/,
              va_list /*ap*/) override {}
};

}  // namespace

rocksdb::Options db_options(const Disk& disk, const StoreOptions& options) {
    rocksdb::Options db;
    db.env = disk.env();
    db.create_if_missing = true;
    db.create_missing_column_families = true;  // the fixed column families, at open
    db.write_buffer_size = options.write_buffer_size;
    // No periodic stats dumps and no file-opening thread fan-out: fewer background threads,
    // nothing that runs on a wall-clock timer.
    db.stats_dump_period_sec = 0;
    db.stats_persist_period_sec = 0;
    db.max_file_opening_threads = 1;
    // RocksDB 8.10 (Walrus's, via rust-rocksdb 0.22) defaults this to true; 7.8 to false. With
    // it, a failed OPTIONS write after a column family was created or dropped is an error of
    // that call (and of DB::Open), not a warning in the LOG.
    db.fail_if_options_file_error = true;
    // RocksDB writes this into every SST file's properties, by default the machine's hostname
    // (gethostname at each file): bytes on the simulated disk, and so file sizes, that would
    // differ between machines. A fixed id keeps the disk a function of the seed.
    db.db_host_id = "floe";
    // RocksDB checks each OPTIONS file it writes through floe's replacement, which makes the
    // parser's reads without the parse (options_file_check.h); naming it here also links it in.
    (void)options_file_check();
    if (!options.info_log) {
        db.info_log = std::make_shared<NullLogger>();
    }
    return db;
}

namespace {

// The blob_info column family's merge operator (Walrus's "merge blob info", blob_info.rs at
// fb097a2262: merge_mergeable::<BlobInfo>, no partial merge). RocksDB calls it from reads on the
// node's fiber and from flushes and compactions on its background threads, whenever it likes:
// it only maps bytes to bytes (merge_blob_info), with no simulator state, so the merged value
// does not depend on when it runs. No PartialMerge: RocksDB keeps unmerged operands stacked
// until it meets the stored value or the bottom level, then calls FullMergeV2 with them in
// write order. Every node's blob_info gets an operator of this one type.
class BlobInfoMergeOperator final : public rocksdb::MergeOperator {
public:
    const char* Name() const override { return "floe.BlobInfoMergeOperator"; }

    bool FullMergeV2(const MergeOperationInput& merge_in,
                     MergeOperationOutput* merge_out) const override {
        std::optional<std::string_view> existing;
        if (merge_in.existing_value != nullptr) {
            existing.emplace(merge_in.existing_value->data(), merge_in.existing_value->size());
        }
        std::vector<std::string_view> operands;
        operands.reserve(merge_in.operand_list.size());
        for (const rocksdb::Slice& operand : merge_in.operand_list) {
            operands.emplace_back(operand.data(), operand.size());
        }
        std::optional<std::string> merged = merge_blob_info(existing, operands);
        if (!merged.has_value()) {
            return false;  // RocksDB reports Corruption to the read (StoreError::corrupt)
        }
        merge_out->new_value = std::move(*merged);
        return true;
    }
};

}  // namespace

rocksdb::ColumnFamilyOptions cf_options(const StoreOptions& options, std::string_view name) {
    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = options.write_buffer_size;
    if (name == cf_name(CfRef{Cf::blob_info})) {
        cf.merge_operator = std::make_shared<BlobInfoMergeOperator>();
    }
    return cf;
}

const char* store_error_name(StoreError error) {
    switch (error) {
        case StoreError::io: return "io";
        case StoreError::injected: return "injected";
        case StoreError::no_such_shard: return "no_such_shard";
        case StoreError::corrupt: return "corrupt";
    }
    FLOE_UNREACHABLE("bad StoreError {}", static_cast<int>(error));
}

// --- names and encodings -----------------------------------------------------------------------

std::string cf_name(CfRef ref) {
    if (!is_shard_cf(ref.cf)) {
        return fixed_cf_names[fixed_index(ref.cf)];
    }
    return fmt::format("{}{}/{}", shard_prefix, ref.shard,
                       shard_cf_suffixes[shard_index_of(ref.cf)]);
}

std::optional<CfRef> parse_cf_name(std::string_view name) {
    for (size_t i = 0; i < fixed_cf_names.size(); ++i) {
        if (name == fixed_cf_names[i]) {
            return CfRef{static_cast<Cf>(i)};
        }
    }
    if (!name.starts_with(shard_prefix)) {
        return std::nullopt;
    }
    name.remove_prefix(shard_prefix.size());
    const size_t slash = name.find('/');
    const std::string_view digits = name.substr(0, slash);
    // Canonical decimal only, so that each column family has exactly one name.
    if (slash == std::string_view::npos || digits.empty() || digits.size() > 5 ||
        (digits.size() > 1 && digits[0] == '0')) {
        return std::nullopt;
    }
    uint32_t shard = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        shard = shard * 10 + static_cast<uint32_t>(c - '0');
    }
    if (shard > UINT16_MAX) {
        return std::nullopt;
    }
    const std::string_view suffix = name.substr(slash + 1);
    for (size_t i = 0; i < shard_cf_suffixes.size(); ++i) {
        if (suffix == shard_cf_suffixes[i]) {
            return CfRef{shard_cfs[i], static_cast<ShardIndex>(shard)};
        }
    }
    return std::nullopt;
}

void append_u64(std::string& out, uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>(static_cast<uint8_t>(value >> shift)));
    }
}

std::string encode_u64(uint64_t value) {
    std::string out;
    out.reserve(8);
    append_u64(out, value);
    return out;
}

sim::Result<uint64_t, StoreError> decode_u64(std::string_view bytes) {
    if (bytes.size() != 8) {
        return sim::Err{StoreError::corrupt};
    }
    uint64_t value = 0;
    for (char c : bytes) {
        value = (value << 8) | static_cast<uint8_t>(c);
    }
    return value;
}

// --- Scan --------------------------------------------------------------------------------------

struct Scan::State {
    NodeStore* store = nullptr;  // null once released
    uint64_t id = 0;
    const rocksdb::Snapshot* snapshot = nullptr;
    std::string until;  // iterate_upper_bound points at until_slice, which points here
    rocksdb::Slice until_slice;
    std::unique_ptr<rocksdb::Iterator> iterator;
    ReadErrors read_errors = ReadErrors::report;
    std::string_view label;                         // NodeStore::scan's, for Disk::scan_label
    std::optional<rocksdb::Status> injected_error;  // scan-read-eio ended the scan
    uint64_t logged = 0;  // its number in the store-call log (store_ops.h), 0 if not recorded
};

Scan::Scan(std::unique_ptr<State> state) : state_(std::move(state)) {}

Scan::Scan(Scan&& other) noexcept : state_(std::move(other.state_)) {}

Scan& Scan::operator=(Scan&& other) noexcept {
    if (this != &other) {
        reset();
        state_ = std::move(other.state_);
    }
    return *this;
}

Scan::~Scan() {
    reset();
}

void Scan::reset() {
    if (state_ != nullptr && state_->store != nullptr) {
        state_->store->release_scan(*state_);
    }
    state_.reset();
}

bool Scan::valid() const {
    FLOE_ASSERT(state_ != nullptr && state_->iterator != nullptr,
                "scan used after a move or after its store closed");
    return !state_->injected_error.has_value() && state_->iterator->Valid();
}

// The error that ended the scan, or OK.
rocksdb::Status Scan::error() const {
    if (state_->injected_error.has_value()) {
        return *state_->injected_error;
    }
    return state_->iterator->Valid() ? rocksdb::Status::OK() : state_->iterator->status();
}

std::string_view Scan::key() const {
    FLOE_ASSERT(valid(), "key() of an exhausted scan");
    const rocksdb::Slice key = state_->iterator->key();
    return {key.data(), key.size()};
}

std::string_view Scan::value() const {
    FLOE_ASSERT(valid(), "value() of an exhausted scan");
    const rocksdb::Slice value = state_->iterator->value();
    return {value.data(), value.size()};
}

void Scan::next() {
    FLOE_ASSERT(valid(), "next() of an exhausted scan");
    NodeStore& store = *state_->store;
    store.disk_.in_scan_with_errors_to_caller = state_->read_errors == ReadErrors::to_caller;
    store.disk_.scan_label = state_->label;
    if (injected(store.rt_, site::scan_read_eio)) {
        state_->injected_error = rocksdb::Status::IOError("injected scan read error");
    } else {
        store.record_scan(StoreOp::Kind::scan_next, state_->logged);
        state_->iterator->Next();
    }
    store.disk_.in_scan_with_errors_to_caller = false;
    store.disk_.scan_label = {};
    store.after_io();
    report_read_error();
}

// A read error ends the iteration (the iterator turns invalid) like the end of the range does;
// it must reach StoreOptions::on_io_error as any other call's does (the storage node exits), or
// a caller that only tests valid() takes a cut list for the whole one. Swarm 20234 (buggify=on):
// an injected EIO in the blob-info scan made a node report 0 of 19 certified blobs. A caller
// that models Walrus's own handling asks for ReadErrors::to_caller and tests read_failed().
void Scan::report_read_error() {
    if (state_->read_errors == ReadErrors::report && read_failed()) {
        (void)state_->store->failed(error(), "scan");
    }
}

bool Scan::read_failed() const {
    FLOE_ASSERT(state_ != nullptr && state_->iterator != nullptr,
                "scan used after a move or after its store closed");
    return !error().ok();
}

sim::Result<sim::Unit, StoreError> Scan::status() const {
    FLOE_ASSERT(state_ != nullptr && state_->iterator != nullptr,
                "scan used after a move or after its store closed");
    const rocksdb::Status status = state_->iterator->status();
    if (!status.ok()) {
        return sim::Err{state_->store->failed(status, "scan")};
    }
    return sim::Unit{};
}

// --- WriteBatch --------------------------------------------------------------------------------

WriteBatch::WriteBatch(NodeStore& store)
    : store_(&store), batch_(std::make_unique<rocksdb::WriteBatch>()) {}

WriteBatch::WriteBatch(WriteBatch&& other) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&& other) noexcept = default;
WriteBatch::~WriteBatch() = default;

sim::Result<sim::Unit, StoreError> WriteBatch::put(CfRef ref, std::string_view key,
                                                   std::string_view value) {
    FLOE_ASSERT(batch_ != nullptr, "put() on a moved-from WriteBatch");
    rocksdb::ColumnFamilyHandle* handle = store_->resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    if (store_op_log() != nullptr) {
        recorded_.push_back(
            {StoreOp::Entry::Type::put, handle->GetName(), std::string(key), std::string(value)});
    }
    const rocksdb::Status status = batch_->Put(handle, slice(key), slice(value));
    if (!status.ok()) {
        return sim::Err{error_of(status)};
    }
    cf_ids_.insert(handle->GetID());
    if (store_->indexes(ref)) {
        indexed_.push_back({handle->GetID(), std::string(key), true});
    }
    return sim::Unit{};
}

sim::Result<sim::Unit, StoreError> WriteBatch::remove(CfRef ref, std::string_view key) {
    FLOE_ASSERT(batch_ != nullptr, "remove() on a moved-from WriteBatch");
    rocksdb::ColumnFamilyHandle* handle = store_->resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    if (store_op_log() != nullptr) {
        recorded_.push_back(
            {StoreOp::Entry::Type::remove, handle->GetName(), std::string(key), std::string()});
    }
    const rocksdb::Status status = batch_->Delete(handle, slice(key));
    if (!status.ok()) {
        return sim::Err{error_of(status)};
    }
    cf_ids_.insert(handle->GetID());
    if (store_->indexes(ref)) {
        indexed_.push_back({handle->GetID(), std::string(key), false});
    }
    return sim::Unit{};
}

sim::Result<sim::Unit, StoreError> WriteBatch::merge(CfRef ref, std::string_view key,
                                                     std::string_view operand) {
    FLOE_ASSERT(batch_ != nullptr, "merge() on a moved-from WriteBatch");
    FLOE_ASSERT(ref.cf == Cf::blob_info, "a merge operand for {}, which has no merge operator",
                cf_name(ref));
    rocksdb::ColumnFamilyHandle* handle = store_->resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    if (store_op_log() != nullptr) {
        recorded_.push_back({StoreOp::Entry::Type::merge, handle->GetName(), std::string(key),
                             std::string(operand)});
    }
    const rocksdb::Status status = batch_->Merge(handle, slice(key), slice(operand));
    if (!status.ok()) {
        return sim::Err{error_of(status)};
    }
    cf_ids_.insert(handle->GetID());
    return sim::Unit{};
}

size_t WriteBatch::count() const {
    FLOE_ASSERT(batch_ != nullptr, "count() of a moved-from WriteBatch");
    return static_cast<size_t>(batch_->Count());
}

void WriteBatch::clear() {
    FLOE_ASSERT(batch_ != nullptr, "clear() of a moved-from WriteBatch");
    batch_->Clear();
    cf_ids_.clear();
    indexed_.clear();
    recorded_.clear();
}

// --- NodeStore: open and close -----------------------------------------------------------------

NodeStore::NodeStore(sim::Runtime& rt, Disk& disk, StoreOptions options, rocksdb::DB* db)
    : rt_(rt), disk_(disk), options_(options), db_(db) {
    disk_.in_use_ = true;
}

sim::Result<std::unique_ptr<NodeStore>, StoreError> NodeStore::open(sim::Runtime& rt, Disk& disk,
                                                                    StoreOptions options) {
    // Two open stores on one disk means a crashed incarnation was not unwound: a bug.
    FLOE_ASSERT(!disk.in_use(), "disk '{}' is already open", disk.path());
    // RocksDB counts into thread-local perf contexts by default (PerfLevel::kEnableCount) on
    // every get and write; floe reads none of them, and each count is a __tls_get_addr call of
    // the shared library: a tenth of a simtest seed (ARCHITECTURE.md). Thread-local, so set on
    // the simulation thread here and on the background-job worker when it starts.
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    const rocksdb::Options db_opts = db_options(disk, options);
    if (SimFs* fs = disk.sim_fs(); fs != nullptr) {
        if (!fs->powered()) {
            // The machine comes back: what the disk had not made durable is gone.
            const PowerLossReport loss = fs->restore_power(rt.rng("disk"), disk.power_loss_options);
            rt.mark(fmt::format("power restored on {}: {}", disk.path(), loss.describe()));
            disk.last_power_loss = loss;
        }
        fs->reboot();
    } else {
        disk.faults().reboot();
    }
    disk.faults().set_hook(
        [&rt, &disk](const FsOpInfo& info) { return fault_for(rt, disk, info); });
    // Until a store owns the database, a failed open must take the hook down itself.
    struct Unhook {
        Disk& disk;
        bool armed = true;
        ~Unhook() {
            if (armed) {
                disk.faults().set_hook(nullptr);
            }
        }
    } unhook{disk};
    const auto open_failed = [&options](const rocksdb::Status& status) {
        return report_failure(options, status, "opening the database");
    };

    // RocksDB opens a database only with all of its column families, so list them first. A
    // fresh disk has no CURRENT file and no list to read.
    std::vector<std::string> names;
    const rocksdb::Status exists = disk.env()->FileExists(disk.path() + "/CURRENT");
    if (exists.ok()) {
        const rocksdb::Status listed =
            rocksdb::DB::ListColumnFamilies(db_opts, disk.path(), &names);
        settle_and_rethrow(disk);
        if (!listed.ok()) {
            return sim::Err{open_failed(listed)};
        }
    } else if (exists.IsNotFound()) {
        names.emplace_back(rocksdb::kDefaultColumnFamilyName);
    } else {
        return sim::Err{open_failed(exists)};
    }
    for (const char* fixed : fixed_cf_names) {
        if (std::find(names.begin(), names.end(), fixed) == names.end()) {
            names.emplace_back(fixed);
        }
    }

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.reserve(names.size());
    for (const std::string& name : names) {
        descriptors.emplace_back(name, cf_options(options, name));
    }
    std::vector<Handle*> handles;
    rocksdb::DB* db = nullptr;
    if (StoreOpLog* log = store_op_log(); log != nullptr) {
        StoreOp op;
        op.kind = StoreOp::Kind::open;
        op.db = log->store_number(disk.path());
        op.cfs = names;
        op.write_buffer_size = options.write_buffer_size;
        log->add(std::move(op));
    }
    disk.opening = true;
    const rocksdb::Status opened =
        rocksdb::DB::Open(db_opts, disk.path(), descriptors, &handles, &db);
    disk.opening = false;
    if (!opened.ok()) {
        settle_and_rethrow(disk);
        return sim::Err{open_failed(opened)};
    }
    // From here on the store owns the database (and the hook): an error or an unwind closes it.
    unhook.armed = false;
    std::unique_ptr<NodeStore> store(new NodeStore(rt, disk, options, db));
    for (Handle* handle : handles) {
        store->adopt(handle);
    }
    store->after_io();
    for (size_t i = 0; i < fixed_cf_count; ++i) {
        FLOE_ASSERT(store->fixed_[i] != nullptr, "column family {} missing after open",
                    fixed_cf_names[i]);
    }

    // A crash halfway through creating or dropping a shard leaves some of its column families:
    // they are open, with what they hold, but the shard does not exist (Walrus opens only the
    // shards whose secondary-slivers column family exists) until create_shard makes the rest.
    if (options.index_sliver_keys) {
        store->build_key_index();
    }
    return store;
}

NodeStore::~NodeStore() {
    // No faults while closing: the process is stopping (or already dead), and a hook would run
    // on a fiber that is unwinding.
    disk_.faults().set_hook(nullptr);
    // Snapshots and iterators must go before Close (RocksDB refuses to close with unreleased
    // snapshots), and every handle must be destroyed before the database is deleted.
    while (!scans_.empty()) {
        release_scan(*scans_.begin()->second);
    }
    for (auto& [name, handle] : handles_) {
        (void)db_->DestroyColumnFamilyHandle(handle);
    }
    handles_.clear();
    // Close waits (on an OS condition variable, outside simulated time) for RocksDB's background
    // flushes and compactions. Its status has no one to go to: a node that stops or crashes
    // only needs the database to be reopenable, which the WAL ensures (a power loss cut before
    // this point, so Close can make nothing more durable).
    // Jobs still queued run first, in lock step. Left queued, they raced Close: its UnSchedule
    // drops the jobs the free-running worker has not started yet, so whether a pending flush ran
    // (new SST files, MANIFEST edits, file numbers) depended on thread timing (swarm 11 with
    // buggify=on: three trace hashes in four runs; docs/FINDINGS.md).
    disk_.settle();
    if (store_op_log() != nullptr) {
        StoreOp op;
        op.kind = StoreOp::Kind::close;
        record(std::move(op));
    }
    {
        BackgroundJobs::FreeRun jobs(disk_.background_jobs());
        (void)db_->Close();
    }
    delete db_;
    disk_.in_use_ = false;
}

void NodeStore::after_io() const {
    settle_and_rethrow(disk_);
}

// --- the sliver-existence economy (StoreOptions::index_sliver_keys) ----------------------------

bool NodeStore::indexes(CfRef ref) const {
    return key_index_.has_value() && (ref.cf == Cf::shard_primary || ref.cf == Cf::shard_secondary);
}

void NodeStore::index_write(uint32_t cf_id, std::string_view key, bool present) {
    if (!key_index_.has_value()) {
        return;
    }
    if (present) {
        key_index_->insert(cf_id, key);
    } else {
        key_index_->erase(cf_id, key);
    }
}

// Reads every key of every sliver column family open, leftovers of a half-created or
// half-dropped shard included (create_shard makes them visible again with what they hold). These
// reads are floe's, not Walrus's: a read error is not the node's (no on_io_error), it only leaves
// the index off, so this incarnation reads RocksDB as Walrus does.
void NodeStore::build_key_index() {
    key_index_.emplace();
    rocksdb::ReadOptions read;
    read.fill_cache = false;
    for (const auto& [shard, handles] : shards_) {
        for (Cf cf : {Cf::shard_primary, Cf::shard_secondary}) {
            Handle* handle = handles[shard_index_of(cf)];
            if (handle == nullptr) {
                continue;
            }
            uint64_t logged = 0;
            if (StoreOpLog* log = store_op_log(); log != nullptr) {
                logged = log->next_scan_number();
                StoreOp op;
                op.kind = StoreOp::Kind::scan_open;
                op.scan = logged;
                op.cfs = {handle->GetName()};
                record(std::move(op));
            }
            std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, handle));
            for (it->SeekToFirst(); it->Valid(); it->Next()) {
                record_scan(StoreOp::Kind::scan_next, logged);
                key_index_->insert(handle->GetID(),
                                   std::string_view(it->key().data(), it->key().size()));
            }
            const bool failed = !it->status().ok();
            it.reset();
            record_scan(StoreOp::Kind::scan_close, logged);
            after_io();
            if (failed) {
                key_index_.reset();
                return;
            }
        }
    }
}

namespace {

rocksdb::WriteOptions write_options(const StoreOptions& options,
                                    WriteMode mode = WriteMode::logged) {
    rocksdb::WriteOptions write;
    write.sync = mode == WriteMode::synced || (mode == WriteMode::logged && options.sync_writes);
    write.disableWAL = mode == WriteMode::unlogged;
    return write;
}

}  // namespace

// --- the record of store calls (store_ops.h) -----------------------------------------------------

void NodeStore::record(StoreOp op) const {
    if (StoreOpLog* log = store_op_log(); log != nullptr) {
        op.db = log->store_number(disk_.path());
        log->add(std::move(op));
    }
}

void NodeStore::record_scan(StoreOp::Kind kind, uint64_t scan) const {
    if (scan == 0) {
        return;
    }
    StoreOp op;
    op.kind = kind;
    op.scan = scan;
    record(std::move(op));
}

void NodeStore::record_single(StoreOp::Kind kind, const Handle* handle, std::string_view key,
                              std::string_view value, WriteMode mode) const {
    if (store_op_log() == nullptr) {
        return;
    }
    const rocksdb::WriteOptions write = write_options(options_, mode);
    StoreOp op;
    op.kind = kind;
    op.cfs = {handle->GetName()};
    op.key = std::string(key);
    op.value = std::string(value);
    op.sync = write.sync;
    op.disable_wal = write.disableWAL;
    record(std::move(op));
}

StoreError NodeStore::failed(const rocksdb::Status& status, std::string_view during) const {
    return report_failure(options_, status, during);
}

void NodeStore::adopt(Handle* handle) {
    const std::string& name = handle->GetName();
    handles_.emplace(name, handle);
    live_cf_ids_.insert(handle->GetID());
    const std::optional<CfRef> ref = parse_cf_name(name);
    if (!ref.has_value()) {
        return;  // "default", or a column family this model does not use: kept open, unused
    }
    if (!is_shard_cf(ref->cf)) {
        fixed_[fixed_index(ref->cf)] = handle;
    } else {
        shards_[ref->shard][shard_index_of(ref->cf)] = handle;
    }
}

NodeStore::Handle* NodeStore::resolve(CfRef ref) const {
    if (!is_shard_cf(ref.cf)) {
        return fixed_[fixed_index(ref.cf)];
    }
    auto it = shards_.find(ref.shard);
    if (it == shards_.end()) {
        return nullptr;
    }
    for (Handle* handle : it->second) {
        if (handle == nullptr) {
            return nullptr;  // a half-created shard does not exist yet
        }
    }
    return it->second[shard_index_of(ref.cf)];
}

// --- shards ------------------------------------------------------------------------------------

sim::Result<sim::Unit, StoreError> NodeStore::create_cf(CfRef ref) {
    if (rt_.fail_point(site::create_cf_before) == sim::FailPointOutcome::inject_error) {
        return sim::Err{StoreError::injected};
    }
    Handle* handle = nullptr;
    if (store_op_log() != nullptr) {
        StoreOp op;
        op.kind = StoreOp::Kind::create_cfs;
        op.cfs = {cf_name(ref)};
        record(std::move(op));
    }
    const rocksdb::Status status =
        db_->CreateColumnFamily(cf_options(options_, cf_name(ref)), cf_name(ref), &handle);
    after_io();
    // RocksDB creates the column family (MANIFEST edit done) before it writes the OPTIONS file:
    // when that write fails, the column family exists and the handle is set despite the error.
    if (handle != nullptr) {
        adopt(handle);
    }
    if (!status.ok()) {
        return sim::Err{failed(status, "create column family")};
    }
    return sim::Unit{};
}

sim::Result<sim::Unit, StoreError> NodeStore::create_shard(ShardIndex shard) {
    // Column families left by an earlier half-finished creation or removal are reopened with
    // their contents, as Walrus's reopen_cf! does.
    for (Cf cf : shard_creation_order) {
        auto it = shards_.find(shard);
        if (it != shards_.end() && it->second[shard_index_of(cf)] != nullptr) {
            continue;
        }
        auto created = create_cf(CfRef{cf, shard});
        if (!created.ok()) {
            return created;
        }
    }
    return sim::Unit{};
}

sim::Result<sim::Unit, StoreError> NodeStore::create_shards(const std::vector<ShardIndex>& shards) {
    if (!options_.batch_column_families) {
        for (ShardIndex shard : shards) {
            if (auto created = create_shard(shard); !created.ok()) {
                return created;
            }
        }
        return sim::Unit{};
    }
    std::vector<CfRef> missing;
    for (ShardIndex shard : shards) {
        const auto it = shards_.find(shard);
        for (Cf cf : shard_creation_order) {
            if (it == shards_.end() || it->second[shard_index_of(cf)] == nullptr) {
                missing.push_back(CfRef{cf, shard});
            }
        }
    }
    return missing.empty() ? sim::Result<sim::Unit, StoreError>{sim::Unit{}}
                           : create_cfs_in_one_call(missing);
}

// RocksDB's CreateColumnFamilies creates them in order (a MANIFEST edit each) and writes one
// OPTIONS file after the last; on an error it stops there, and the handles of those it created
// come back.
sim::Result<sim::Unit, StoreError> NodeStore::create_cfs_in_one_call(
    const std::vector<CfRef>& refs) {
    if (rt_.fail_point(site::create_cf_before) == sim::FailPointOutcome::inject_error) {
        return sim::Err{StoreError::injected};
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.reserve(refs.size());
    for (const CfRef& ref : refs) {
        descriptors.emplace_back(cf_name(ref), cf_options(options_, cf_name(ref)));
    }
    std::vector<Handle*> handles;
    if (store_op_log() != nullptr) {
        StoreOp op;
        op.kind = StoreOp::Kind::create_cfs;
        for (const CfRef& ref : refs) {
            op.cfs.push_back(cf_name(ref));
        }
        record(std::move(op));
    }
    const rocksdb::Status status = db_->CreateColumnFamilies(descriptors, &handles);
    after_io();
    for (Handle* handle : handles) {
        adopt(handle);
    }
    if (!status.ok()) {
        return sim::Err{failed(status, "create column families")};
    }
    return sim::Unit{};
}

// Walrus drops a shard's five column families one by one, secondary slivers first
// (ShardStorage::delete_shard_storage), and its drop_cf passes no fail point. floe brackets each
// drop with drop-cf-before/after, its own points (not among the simtests' crash points, so
// random crashes never pick them), so that a scenario can crash the finisher halfway through a
// removal: after the first drop the shard no longer exists, and what is left of it stays on
// disk until the shard is created again (which reopens it), as in Walrus.
sim::Result<sim::Unit, StoreError> NodeStore::drop_shard(ShardIndex shard) {
    auto it = shards_.find(shard);
    if (it == shards_.end()) {
        return sim::Unit{};
    }
    if (options_.batch_column_families) {
        return drop_shard_in_one_call(it);
    }
    // Scans already open on the shard keep reading their snapshot: RocksDB keeps a dropped
    // column family's data alive while an iterator references it.
    for (Cf cf : shard_removal_order) {
        Handle*& handle = it->second[shard_index_of(cf)];
        if (handle == nullptr) {
            continue;
        }
        if (injected(rt_, site::drop_cf_before)) {
            return sim::Err{StoreError::injected};
        }
        if (store_op_log() != nullptr) {
            StoreOp op;
            op.kind = StoreOp::Kind::drop_cfs;
            op.cfs = {handle->GetName()};
            record(std::move(op));
        }
        const rocksdb::Status status = db_->DropColumnFamily(handle);
        after_io();
        // As with creation, a failed OPTIONS write comes after the drop is in the MANIFEST. The
        // storage node stops at any I/O error (on_io_error) and its next open sees the truth.
        if (!status.ok()) {
            return sim::Err{failed(status, "drop column family")};
        }
        handles_.erase(handle->GetName());
        live_cf_ids_.erase(handle->GetID());
        if (key_index_.has_value()) {
            key_index_->drop(handle->GetID());
        }
        (void)db_->DestroyColumnFamilyHandle(handle);
        handle = nullptr;
        if (injected(rt_, site::drop_cf_after)) {
            return sim::Err{StoreError::injected};  // this one is gone; a retry drops the rest
        }
    }
    shards_.erase(it);
    return sim::Unit{};
}

// StoreOptions::batch_column_families: the shard's column families in one DropColumnFamilies
// call (one OPTIONS file), between one drop-cf-before and one drop-cf-after.
sim::Result<sim::Unit, StoreError> NodeStore::drop_shard_in_one_call(ShardMap::iterator it) {
    std::vector<Handle*> handles;
    for (Cf cf : shard_removal_order) {
        if (Handle* handle = it->second[shard_index_of(cf)]; handle != nullptr) {
            handles.push_back(handle);
        }
    }
    if (injected(rt_, site::drop_cf_before)) {
        return sim::Err{StoreError::injected};
    }
    if (store_op_log() != nullptr) {
        StoreOp op;
        op.kind = StoreOp::Kind::drop_cfs;
        for (const Handle* handle : handles) {
            op.cfs.push_back(handle->GetName());
        }
        record(std::move(op));
    }
    const rocksdb::Status status = db_->DropColumnFamilies(handles);
    after_io();
    if (!status.ok()) {
        return sim::Err{failed(status, "drop column families")};  // as drop_shard's
    }
    for (Handle* handle : handles) {
        handles_.erase(handle->GetName());
        live_cf_ids_.erase(handle->GetID());
        if (key_index_.has_value()) {
            key_index_->drop(handle->GetID());
        }
        (void)db_->DestroyColumnFamilyHandle(handle);
    }
    shards_.erase(it);
    if (injected(rt_, site::drop_cf_after)) {
        return sim::Err{StoreError::injected};  // the shard is gone; a retry is a no-op
    }
    return sim::Unit{};
}

std::vector<ShardIndex> NodeStore::existing_shards() const {
    std::vector<ShardIndex> out;
    for (const auto& [shard, cfs] : shards_) {
        if (has_shard(shard)) {
            out.push_back(shard);
        }
    }
    return out;
}

bool NodeStore::has_shard(ShardIndex shard) const {
    return resolve(CfRef{Cf::shard_primary, shard}) != nullptr;
}

std::vector<std::string> NodeStore::column_family_names() const {
    std::vector<std::string> out;
    out.reserve(handles_.size());
    for (const auto& [name, handle] : handles_) {
        out.push_back(name);
    }
    return out;
}

// --- writes ------------------------------------------------------------------------------------
//
// Each write is bracketed like Walrus's typed-store (§11). At a *-before point an injected error
// returns before anything is written. At a *-after point the write is already durable: the
// injected error is a failure reported after the fact, which the caller cannot tell from a write
// that did not happen (and must therefore be idempotent about).

sim::Result<sim::Unit, StoreError> NodeStore::put(CfRef ref, std::string_view key,
                                                  std::string_view value, WriteMode mode) {
    if (injected(rt_, site::put_cf_before)) {
        return sim::Err{StoreError::injected};
    }
    Handle* handle = resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    record_single(StoreOp::Kind::put, handle, key, value, mode);
    const rocksdb::Status status =
        db_->Put(write_options(options_, mode), handle, slice(key), slice(value));
    after_io();
    if (!status.ok()) {
        return sim::Err{failed(status, "put")};
    }
    if (indexes(ref)) {
        index_write(handle->GetID(), key, true);  // before put-cf-after: the write is in
    }
    if (injected(rt_, site::put_cf_after)) {
        return sim::Err{StoreError::injected};
    }
    return sim::Unit{};
}

sim::Result<sim::Unit, StoreError> NodeStore::remove(CfRef ref, std::string_view key) {
    if (injected(rt_, site::delete_cf_before)) {
        return sim::Err{StoreError::injected};
    }
    Handle* handle = resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    record_single(StoreOp::Kind::remove, handle, key);
    const rocksdb::Status status = db_->Delete(write_options(options_), handle, slice(key));
    after_io();
    if (!status.ok()) {
        return sim::Err{failed(status, "delete")};
    }
    if (indexes(ref)) {
        index_write(handle->GetID(), key, false);
    }
    if (injected(rt_, site::delete_cf_after)) {
        return sim::Err{StoreError::injected};
    }
    return sim::Unit{};
}

sim::Result<sim::Unit, StoreError> NodeStore::write(WriteBatch& batch) {
    FLOE_ASSERT(batch.batch_ != nullptr, "write() of a moved-from WriteBatch");
    FLOE_ASSERT(batch.store_ == this, "a WriteBatch written to a store it was not built for");
    if (injected(rt_, site::batch_write_before)) {
        return sim::Err{StoreError::injected};
    }
    // A shard dropped since the batch named it: fail the whole batch (it is all or nothing).
    for (uint32_t id : batch.cf_ids_) {
        if (!live_cf_ids_.contains(id)) {
            return sim::Err{StoreError::no_such_shard};
        }
    }
    if (store_op_log() != nullptr) {
        StoreOp op;
        op.kind = StoreOp::Kind::write;
        op.sync = write_options(options_).sync;
        op.entries = batch.recorded_;
        record(std::move(op));
    }
    const rocksdb::Status status = db_->Write(write_options(options_), batch.batch_.get());
    after_io();
    if (!status.ok()) {
        return sim::Err{failed(status, "batch write")};
    }
    for (const WriteBatch::IndexedEntry& entry : batch.indexed_) {
        index_write(entry.cf_id, entry.key, entry.present);
    }
    if (injected(rt_, site::batch_write_after)) {
        return sim::Err{StoreError::injected};
    }
    return sim::Unit{};
}

// --- reads -------------------------------------------------------------------------------------

sim::Result<std::optional<std::string>, StoreError> NodeStore::get(CfRef ref, std::string_view key,
                                                                   ReadErrors read_errors) const {
    Handle* handle = resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    record_single(StoreOp::Kind::get, handle, key);
    std::string value;
    const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), handle, slice(key), &value);
    after_io();
    if (status.IsNotFound()) {
        return std::optional<std::string>();
    }
    if (!status.ok()) {
        return sim::Err{read_errors == ReadErrors::report ? failed(status, "get")
                                                          : error_of(status)};
    }
    return std::optional<std::string>(std::move(value));
}

std::optional<bool> NodeStore::indexed_contains(CfRef ref, std::string_view key) const {
    if (!indexes(ref)) {
        return std::nullopt;
    }
    Handle* handle = resolve(ref);
    return handle != nullptr && key_index_->contains(handle->GetID(), key);
}

sim::Result<bool, StoreError> NodeStore::key_may_exist(CfRef ref, std::string_view key) const {
    Handle* handle = resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    record_single(StoreOp::Kind::key_may_exist, handle, key);
    std::string ignored;
    const bool may_exist = db_->KeyMayExist(rocksdb::ReadOptions(), handle, slice(key), &ignored);
    after_io();
    return may_exist;
}

sim::Result<Scan, StoreError> NodeStore::scan(CfRef ref, std::optional<std::string> from,
                                              std::optional<std::string> until,
                                              ReadErrors read_errors, std::string_view label) {
    Handle* handle = resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    auto state = std::make_unique<Scan::State>();
    state->store = this;
    state->id = next_scan_id_++;
    state->read_errors = read_errors;
    state->label = label;
    state->snapshot = db_->GetSnapshot();
    rocksdb::ReadOptions read;
    read.snapshot = state->snapshot;
    if (until.has_value()) {
        state->until = std::move(*until);
        state->until_slice = rocksdb::Slice(state->until);
        read.iterate_upper_bound = &state->until_slice;
    }
    if (StoreOpLog* log = store_op_log(); log != nullptr) {
        state->logged = log->next_scan_number();
        StoreOp op;
        op.kind = StoreOp::Kind::scan_open;
        op.scan = state->logged;
        op.cfs = {handle->GetName()};
        op.from = from;
        op.until = until.has_value() ? std::optional<std::string>(state->until) : std::nullopt;
        op.snapshot = true;
        record(std::move(op));
    }
    state->iterator.reset(db_->NewIterator(read, handle));
    disk_.in_scan_with_errors_to_caller = read_errors == ReadErrors::to_caller;
    disk_.scan_label = label;
    if (from.has_value()) {
        state->iterator->Seek(slice(*from));
    } else {
        state->iterator->SeekToFirst();
    }
    disk_.in_scan_with_errors_to_caller = false;
    disk_.scan_label = {};
    after_io();
    scans_.emplace(state->id, state.get());
    Scan scan(std::move(state));
    scan.report_read_error();
    return scan;
}

sim::Result<sim::Unit, StoreError> NodeStore::compact(CfRef ref) {
    Handle* handle = resolve(ref);
    if (handle == nullptr) {
        return sim::Err{StoreError::no_such_shard};
    }
    disk_.settle();  // nothing queued before races the free run (see ~NodeStore)
    record_single(StoreOp::Kind::compact, handle, {});
    BackgroundJobs::FreeRun jobs(disk_.background_jobs());  // both calls wait for their jobs
    rocksdb::FlushOptions flush;
    flush.wait = true;
    const rocksdb::Status flushed = db_->Flush(flush, handle);
    if (!flushed.ok()) {
        return sim::Err{failed(flushed, "flush")};
    }
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    const rocksdb::Status compacted = db_->CompactRange(compact, handle, nullptr, nullptr);
    if (!compacted.ok()) {
        return sim::Err{failed(compacted, "compact")};
    }
    return sim::Unit{};
}

void NodeStore::release_scan(Scan::State& state) {
    FLOE_ASSERT(state.store == this, "scan released by a store that does not own it");
    record_scan(StoreOp::Kind::scan_close, state.logged);
    state.iterator.reset();  // the iterator before the snapshot it reads
    db_->ReleaseSnapshot(state.snapshot);
    state.snapshot = nullptr;
    scans_.erase(state.id);
    state.store = nullptr;
}

}  // namespace walrus
