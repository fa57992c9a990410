#include "node/store/store_ops.h"

#include <rocksdb/db.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <memory>

#include "node/store/disk.h"
#include "node/store/rocksdb_options.h"
#include "sim/assert.h"

namespace walrus {

namespace {

rocksdb::Slice slice(const std::string& bytes) {
    return {bytes.data(), bytes.size()};
}

// One store of the replay: its medium outlives every open, as a node's disk does.
struct ReplayedStore {
    std::unique_ptr<Disk> disk;
    StoreOptions options;
    rocksdb::DB* db = nullptr;
    std::map<std::string, rocksdb::ColumnFamilyHandle*> handles;  // by name

    rocksdb::ColumnFamilyHandle* handle(const std::string& cf) const {
        auto it = handles.find(cf);
        return it == handles.end() ? nullptr : it->second;
    }
    void adopt(const std::vector<rocksdb::ColumnFamilyHandle*>& opened) {
        for (rocksdb::ColumnFamilyHandle* h : opened) {
            handles[h->GetName()] = h;
        }
    }
    void close() {
        if (db == nullptr) {
            return;
        }
        for (auto& [name, h] : handles) {
            (void)db->DestroyColumnFamilyHandle(h);
        }
        handles.clear();
        (void)db->Close();
        delete db;
        db = nullptr;
    }
};

// A scan of the replay: its snapshot (if the run's had one) and iterator.
struct ReplayedScan {
    ReplayedStore* store = nullptr;
    const rocksdb::Snapshot* snapshot = nullptr;
    std::string until;
    rocksdb::Slice until_slice;
    std::unique_ptr<rocksdb::Iterator> iterator;

    void release() {
        iterator.reset();
        if (snapshot != nullptr && store->db != nullptr) {
            store->db->ReleaseSnapshot(snapshot);
        }
        snapshot = nullptr;
    }
};

rocksdb::WriteOptions write_options(const StoreOp& op) {
    rocksdb::WriteOptions write;
    write.sync = op.sync;
    write.disableWAL = op.disable_wal;
    return write;
}

class Replay {
public:
    explicit Replay(const StoreOpLog& log) : log_(log) {}
    ~Replay() {
        for (auto& [number, scan] : scans_) {
            scan.release();
        }
        for (auto& [number, store] : stores_) {
            store.close();
        }
    }
    Replay(const Replay&) = delete;
    Replay& operator=(const Replay&) = delete;

    uint64_t run() {
        uint64_t calls = 0;
        for (const StoreOp& op : log_.ops()) {
            calls += make(op) ? 1 : 0;
        }
        return calls;
    }

    // What every store holds, a closed one opened again to read it.
    void read_contents(StoreContents& contents) {
        for (auto& [number, store] : stores_) {
            if (store.db == nullptr && store.disk != nullptr) {
                StoreOp reopen;
                reopen.db = number;
                reopen.write_buffer_size = store.options.write_buffer_size;
                (void)rocksdb::DB::ListColumnFamilies(db_options(*store.disk, store.options),
                                                      store.disk->path(), &reopen.cfs);
                open(store, reopen);
            }
            if (store.db == nullptr) {
                continue;
            }
            for (const auto& [name, h] : store.handles) {
                auto& cf = contents[number][name];
                std::unique_ptr<rocksdb::Iterator> it(store.db->NewIterator({}, h));
                for (it->SeekToFirst(); it->Valid(); it->Next()) {
                    cf.emplace(it->key().ToString(), it->value().ToString());
                }
            }
        }
    }

private:
    // Makes one call; false if it could not be made (its store or column family is missing in
    // the replay, which only a run with faults can cause).
    bool make(const StoreOp& op) {
        ReplayedStore& store = stores_[op.db];
        if (op.kind == StoreOp::Kind::open) {
            open(store, op);
            return true;
        }
        if (store.db == nullptr) {
            return false;
        }
        switch (op.kind) {
            case StoreOp::Kind::open: return true;
            case StoreOp::Kind::close: close(store); return true;
            case StoreOp::Kind::create_cfs: return create(store, op);
            case StoreOp::Kind::drop_cfs: return drop(store, op);
            case StoreOp::Kind::write: return write(store, op);
            case StoreOp::Kind::scan_open: return open_scan(store, op);
            case StoreOp::Kind::scan_next: return next(op);
            case StoreOp::Kind::scan_close: return close_scan(op);
            default: return single_key(store, op);
        }
    }

    void open(ReplayedStore& store, const StoreOp& op) {
        store.close();
        store.options.write_buffer_size = op.write_buffer_size;
        if (store.disk == nullptr) {
            store.disk = Disk::in_rocksdb_memory_env("replay-" + std::to_string(op.db));
        } else {
            // A reopen: NodeStore lists the column families first (RocksDB opens only with all).
            std::vector<std::string> names;
            (void)rocksdb::DB::ListColumnFamilies(db_options(*store.disk, store.options),
                                                  store.disk->path(), &names);
        }
        std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
        for (const std::string& name : op.cfs) {
            descriptors.emplace_back(name, cf_options(store.options, name));
        }
        std::vector<rocksdb::ColumnFamilyHandle*> opened;
        const rocksdb::Status status =
            rocksdb::DB::Open(db_options(*store.disk, store.options), store.disk->path(),
                              descriptors, &opened, &store.db);
        if (status.ok()) {
            store.adopt(opened);
        } else {
            store.db = nullptr;
        }
    }

    void close(ReplayedStore& store) {
        for (auto& [number, scan] : scans_) {
            if (scan.store == &store) {
                scan.release();
            }
        }
        store.close();
    }

    bool create(ReplayedStore& store, const StoreOp& op) {
        std::vector<rocksdb::ColumnFamilyHandle*> created;
        if (op.cfs.size() == 1) {
            rocksdb::ColumnFamilyHandle* h = nullptr;
            (void)store.db->CreateColumnFamily(cf_options(store.options, op.cfs[0]), op.cfs[0], &h);
            if (h != nullptr) {
                created.push_back(h);
            }
        } else {
            std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
            for (const std::string& name : op.cfs) {
                descriptors.emplace_back(name, cf_options(store.options, name));
            }
            (void)store.db->CreateColumnFamilies(descriptors, &created);
        }
        store.adopt(created);
        return true;
    }

    bool drop(ReplayedStore& store, const StoreOp& op) {
        std::vector<rocksdb::ColumnFamilyHandle*> dropped;
        for (const std::string& name : op.cfs) {
            if (rocksdb::ColumnFamilyHandle* h = store.handle(name); h != nullptr) {
                dropped.push_back(h);
            }
        }
        if (dropped.empty()) {
            return false;
        }
        if (dropped.size() == 1) {
            (void)store.db->DropColumnFamily(dropped[0]);
        } else {
            (void)store.db->DropColumnFamilies(dropped);
        }
        for (rocksdb::ColumnFamilyHandle* h : dropped) {
            store.handles.erase(h->GetName());
            (void)store.db->DestroyColumnFamilyHandle(h);
        }
        return true;
    }

    bool write(ReplayedStore& store, const StoreOp& op) {
        rocksdb::WriteBatch batch;
        for (const StoreOp::Entry& entry : op.entries) {
            rocksdb::ColumnFamilyHandle* h = store.handle(entry.cf);
            if (h == nullptr) {
                return false;
            }
            switch (entry.type) {
                case StoreOp::Entry::Type::put:
                    (void)batch.Put(h, slice(entry.key), slice(entry.value));
                    break;
                case StoreOp::Entry::Type::remove: (void)batch.Delete(h, slice(entry.key)); break;
                case StoreOp::Entry::Type::merge:
                    (void)batch.Merge(h, slice(entry.key), slice(entry.value));
                    break;
            }
        }
        (void)store.db->Write(write_options(op), &batch);
        return true;
    }

    bool single_key(ReplayedStore& store, const StoreOp& op) {
        rocksdb::ColumnFamilyHandle* h = store.handle(op.cfs.at(0));
        if (h == nullptr) {
            return false;
        }
        std::string value;
        switch (op.kind) {
            case StoreOp::Kind::put:
                (void)store.db->Put(write_options(op), h, slice(op.key), slice(op.value));
                return true;
            case StoreOp::Kind::remove:
                (void)store.db->Delete(write_options(op), h, slice(op.key));
                return true;
            case StoreOp::Kind::get:
                (void)store.db->Get(rocksdb::ReadOptions(), h, slice(op.key), &value);
                return true;
            case StoreOp::Kind::key_may_exist:
                (void)store.db->KeyMayExist(rocksdb::ReadOptions(), h, slice(op.key), &value);
                return true;
            case StoreOp::Kind::compact: {
                rocksdb::FlushOptions flush;
                flush.wait = true;
                (void)store.db->Flush(flush, h);
                rocksdb::CompactRangeOptions compact;
                compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
                (void)store.db->CompactRange(compact, h, nullptr, nullptr);
                return true;
            }
            default:
                FLOE_UNREACHABLE("store op {} is not a single-key call", static_cast<int>(op.kind));
        }
    }

    bool open_scan(ReplayedStore& store, const StoreOp& op) {
        rocksdb::ColumnFamilyHandle* h = store.handle(op.cfs.at(0));
        if (h == nullptr) {
            return false;
        }
        ReplayedScan& scan = scans_[op.scan];
        scan.store = &store;
        rocksdb::ReadOptions read;
        if (op.snapshot) {
            scan.snapshot = store.db->GetSnapshot();
            read.snapshot = scan.snapshot;
        }
        if (op.until.has_value()) {
            scan.until = *op.until;
            scan.until_slice = rocksdb::Slice(scan.until);
            read.iterate_upper_bound = &scan.until_slice;
        }
        scan.iterator.reset(store.db->NewIterator(read, h));
        if (op.from.has_value()) {
            scan.iterator->Seek(slice(*op.from));
        } else {
            scan.iterator->SeekToFirst();
        }
        return true;
    }

    bool next(const StoreOp& op) {
        auto it = scans_.find(op.scan);
        if (it == scans_.end() || it->second.iterator == nullptr || !it->second.iterator->Valid()) {
            return false;
        }
        it->second.iterator->Next();
        return true;
    }

    bool close_scan(const StoreOp& op) {
        auto it = scans_.find(op.scan);
        if (it == scans_.end()) {
            return false;
        }
        it->second.release();
        scans_.erase(it);
        return true;
    }

    const StoreOpLog& log_;
    std::map<uint32_t, ReplayedStore> stores_;
    std::map<uint64_t, ReplayedScan> scans_;
};

}  // namespace

uint32_t StoreOpLog::store_number(const std::string& disk_path) {
    return stores_.emplace(disk_path, static_cast<uint32_t>(stores_.size())).first->second;
}

StoreOpRecording::StoreOpRecording(StoreOpLog& log) {
    FLOE_ASSERT(detail::recording_store_ops == nullptr, "store-call recordings do not nest");
    detail::recording_store_ops = &log;
}

StoreOpRecording::~StoreOpRecording() {
    detail::recording_store_ops = nullptr;
}

uint64_t replay_store_ops(const StoreOpLog& log, StoreContents* contents) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // as NodeStore::open sets it
    Replay replay(log);
    const uint64_t calls = replay.run();
    if (contents != nullptr) {
        replay.read_contents(*contents);
    }
    return calls;
}

}  // namespace walrus
