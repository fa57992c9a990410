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
// mutex. Fault decisions, the power switch and a crash raised inside RocksDB are the FaultGate's
// (fault_gate.h), shared with a real directory's FaultingFileSystem.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/store/fault_gate.h"

namespace rocksdb {
class FileSystem;
}
namespace sim {
class Rng;
}

namespace walrus {

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
    FaultGate& gate() const;

    // The gate's hook (FaultGate::set_hook).
    void set_fault_hook(FsFaultHook hook);

    // Power loss: from now on every operation fails with EIO and changes nothing, until
    // restore_power, which applies the loss (drawing tears from `rng`) and returns what it took.
    void cut_power();
    bool powered() const;
    PowerLossReport restore_power(sim::Rng& rng, const PowerLossOptions& options);

    // FaultGate::take_deferred_unwind.
    std::exception_ptr take_deferred_unwind();
    // A new incarnation opens the disk: the dead process's refusals and its file locks end.
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
