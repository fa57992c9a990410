#pragma once
// The simulated disk under each node's RocksDB: an in-memory POSIX file system that knows, per
// file, which bytes were written and which were synced, and per directory, which entries were
// made durable by a directory fsync. RocksDB runs unchanged on top of it (it is a
// rocksdb::FileSystem); what it adds is what a real machine does when something goes wrong:
//
//  - a process crash (Disk's default; today's crash): the OS page cache survives, nothing is
//    lost, the next incarnation reopens every byte ever written;
//  - a power loss (cut_power, then restore_power at the next open): every unsynced byte is lost,
//    optionally keeping a sector-aligned prefix of a file's unsynced tail (a torn write: the
//    page cache had written back part of it), and every create, rename or delete not followed
//    by a fsync of its directory is undone (the old name comes back, the new one is gone);
//  - faults on single operations (EIO on read, write or fsync; ENOSPC; a failed rename; a fsync
//    that reports success and keeps nothing, the lying disk), decided by a hook the store
//    installs (NodeStore maps it onto named fail points, so scenarios arm them like any other).
//
// Which RocksDB writes are synced (research: docs/design/issue16-storage-faults-research.md
// §4.2): the WAL only with WriteOptions::sync or before a memtable flush; SSTs before the
// MANIFEST names them, with their directory; the MANIFEST at every edit; CURRENT through a synced
// temp file, a rename and a directory fsync. Deletes are never followed by a directory fsync.
//
// Threads: RocksDB calls a FileSystem from the node's fiber and from its background jobs
// (BackgroundJobs runs those one at a time, while the fiber waits). The state is behind one
// mutex. The fault hook runs only for operations on the thread that created the file system
// (the simulation's): a decision there is a function of the run, never of thread timing. The
// hook may unwind the fiber (a crash fail point): the exception is caught here, never thrown
// through RocksDB, the file system refuses every later write of the dead process, and the store
// rethrows it once RocksDB has returned (take_deferred_unwind).

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class FileSystem;
}
namespace sim {
class Rng;
}

namespace walrus {

// What a file is to RocksDB, from its name.
enum class FileKind : uint8_t {
    wal,       // NNNNNN.log
    manifest,  // MANIFEST-NNNNNN
    current,   // CURRENT
    table,     // NNNNNN.sst
    options,   // OPTIONS-NNNNNN
    temp,      // NNNNNN.dbtmp (the next CURRENT or OPTIONS file)
    identity,  // IDENTITY
    lock,      // LOCK
    other,
};
const char* file_kind_name(FileKind kind);
FileKind file_kind_of(std::string_view path);

// The operations a fault can hit.
enum class FsOp : uint8_t { read, write, sync, dir_sync, rename };
const char* fs_op_name(FsOp op);

enum class FsFault : uint8_t {
    none,
    io_error,  // EIO
    no_space,  // ENOSPC (writes only)
    lie,       // fsync only: reports success, makes nothing durable
};

// One operation as the fault hook sees it.
struct FsOpInfo {
    FsOp op;
    FileKind kind;
    std::string_view path;
};
using FsFaultHook = std::function<FsFault(const FsOpInfo&)>;

struct PowerLossOptions {
    // Keep a random sector-aligned prefix of each file's unsynced tail instead of dropping it.
    bool tear = false;
    uint64_t sector_bytes = 4096;
};

// What a power loss took, for the trace and the report.
struct PowerLossReport {
    uint32_t entries_undone = 0;    // directory entries not made durable (creates, renames)
    uint32_t entries_restored = 0;  // deleted or replaced entries that came back
    uint32_t files_cut = 0;         // files that lost unsynced bytes
    uint32_t files_torn = 0;        // of those, files that kept part of their unsynced tail
    uint64_t bytes_lost = 0;
    std::vector<std::string> lost_files;  // paths that vanished or lost bytes, sorted

    std::string describe() const;
};

struct SimFsStats {
    uint64_t files = 0;
    uint64_t bytes = 0;
    uint64_t unsynced_bytes = 0;
    uint64_t faults = 0;  // operations the hook failed
};

class SimFs {
public:
    SimFs();
    SimFs(const SimFs&) = delete;
    SimFs& operator=(const SimFs&) = delete;
    ~SimFs();

    const std::shared_ptr<rocksdb::FileSystem>& file_system() const;

    // The store's fault hook (none: no faults). Called on the simulation thread only.
    void set_fault_hook(FsFaultHook hook);

    // Power loss: from now on every operation fails with EIO and changes nothing, until
    // restore_power, which applies the loss (drawing tears from `rng`) and returns what it took.
    void cut_power();
    bool powered() const;
    PowerLossReport restore_power(sim::Rng& rng, const PowerLossOptions& options);

    // A crash the hook raised inside a RocksDB call: the exception to rethrow once RocksDB has
    // returned, or null. Until reboot(), the dead process writes nothing.
    std::exception_ptr take_deferred_unwind();
    // A new incarnation opens the disk: the dead process's refusals end.
    void reboot();

    SimFsStats stats() const;
    // For tests and the report: a file's current bytes and its synced length, if it exists.
    std::optional<std::string> contents(std::string_view path) const;
    std::optional<uint64_t> synced_bytes(std::string_view path) const;
    std::vector<std::string> children(std::string_view dir) const;

    struct State;  // the file system proper (sim_fs.cpp)

private:
    std::shared_ptr<State> state_;
    std::shared_ptr<rocksdb::FileSystem> fs_;
};

}  // namespace walrus
