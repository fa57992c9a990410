#pragma once
// A storage node's persistent medium (walrus-recovery-spec.md §12, §17 "persistence model").
//
// The Disk belongs to the world, not to the simulated node: a crash unwinds every fiber of the
// host and destroys the node's NodeStore, but the Disk and the bytes on it survive, and the next
// incarnation reopens the same database from it. That is how a Walrus simtest restarts a node on
// "the same on-disk storage path".
//
// Two media: the simulated disk (SimFs, the default: in memory, hermetic, and able to lose power,
// tear writes and fail operations) and a real directory (for inspecting a database with
// RocksDB's tools, or for realistic I/O costs; process crashes and single-operation faults
// through FaultingFileSystem, no power loss). Both
// run RocksDB's background jobs through BackgroundJobs, so that the database's state at every
// point the simulation observes follows from the calls made, not from thread timing.
// A Disk must outlive every NodeStore opened on it, and holds at most one open store at a time.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "node/store/background_jobs.h"
#include "node/store/sim_fs.h"

namespace rocksdb {
class Env;
}

namespace walrus {

class Disk {
public:
    // A simulated disk of its own. `name` only labels it: its path is "/floe/<name>".
    static std::unique_ptr<Disk> in_memory(std::string_view name);
    // A database directory on the real file system (created if missing; its parent must exist).
    static std::unique_ptr<Disk> on_directory(std::string path);
    // The medium before issue 16, for `floe bench scenarios` only: RocksDB's own memory Env,
    // its background jobs on Env::Default's thread pools. No storage faults, and the bytes on it
    // at a crash depend on thread timing (harmless here: it never loses any).
    static std::unique_ptr<Disk> in_rocksdb_memory_env(std::string_view name);

    Disk(const Disk&) = delete;
    Disk& operator=(const Disk&) = delete;
    ~Disk();

    rocksdb::Env* env() const { return jobs_ != nullptr ? jobs_->env() : legacy_env_.get(); }
    // The database directory inside env().
    const std::string& path() const { return path_; }
    bool is_in_memory() const { return sim_fs_ != nullptr; }
    // The simulated disk (null for a real directory, which cannot lose power).
    SimFs* sim_fs() const { return sim_fs_.get(); }
    // The fault decisions of either medium (a real directory's go through FaultingFileSystem).
    FaultGate& faults() const { return sim_fs_ != nullptr ? sim_fs_->gate() : *gate_; }
    // RocksDB's background jobs, run while the simulation waits (null for the bench-only medium).
    BackgroundJobs* background_jobs() const { return jobs_.get(); }
    // Runs the queued background jobs to completion (BackgroundJobs::settle), if there is a queue.
    void settle() const;

    // Power loss (simulated disks only): every operation fails from now on; the next NodeStore
    // open restores the power and applies the loss (walrus::NodeStore::open).
    void cut_power();
    bool power_cut() const { return sim_fs_ != nullptr && !sim_fs_->powered(); }
    // How the next power loss treats unsynced tails (a scenario's choice).
    PowerLossOptions power_loss_options;
    // What the last power loss took (set when the next open restores the power).
    std::optional<PowerLossReport> last_power_loss;
    // The operation the open store's fault hook is deciding right now: a scenario's condition
    // on an fs-* fail point reads it ("fail the next MANIFEST sync").
    struct FsOpNow {
        FsOp op = FsOp::read;
        FileKind kind = FileKind::other;
        bool background = false;  // a RocksDB flush or compaction's (FsOpInfo::background)
    } current_fs_op;
    // Whether the open store is moving a scan that hands its read errors to its caller
    // (ReadErrors::to_caller: node recovery's scan of certified blobs, the consistency check's
    // scan of blob info) right now: a scenario's condition on scan-read-eio reads it ("fail a
    // step of the recovery scan").
    bool in_scan_with_errors_to_caller = false;
    // The label of the scan moving right now (NodeStore::scan's: "certified blobs" for the
    // §4.2 iterator, "blob info" for every blob info, "gc blob info" for GC phase 2's), empty
    // otherwise.
    std::string_view scan_label;
    // Whether a NodeStore is open on this disk right now.
    bool in_use() const { return in_use_; }
    // Whether rocksdb::DB::Open runs on this disk right now (NodeStore::open). The fail-point
    // swarm keeps its disk faults out of it: Debian's RocksDB 7.8.3, built with assertions,
    // aborts in ~ColumnFamilySet (`last_ref`) when an open fails after its OPTIONS file could not
    // be written (docs/FINDINGS.md, "RocksDB 7.8.3's failed open").
    bool opening = false;

private:
    friend class NodeStore;  // sets in_use_ while open
    Disk(std::unique_ptr<SimFs> sim_fs, std::shared_ptr<rocksdb::FileSystem> fs, std::string path);

    std::unique_ptr<SimFs> sim_fs_;  // null for a directory
    std::unique_ptr<BackgroundJobs> jobs_;
    std::unique_ptr<rocksdb::Env> legacy_env_;                         // in_rocksdb_memory_env only
    std::shared_ptr<FaultGate> gate_ = std::make_shared<FaultGate>();  // unless sim_fs_
    std::string path_;
    bool in_use_ = false;
};

}  // namespace walrus
