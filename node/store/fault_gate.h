#pragma once
// The fault decisions of a node's disk, whatever the medium (the simulated disk SimFs, or a real
// directory through FaultingFileSystem): the store's fault hook, the power switch, and the
// crash a hook raised inside a RocksDB call.
//
// Every operation asks check() first. A cut power or a dead process (a crash the hook raised,
// until the next incarnation reboots the disk) refuses it with EIO. Otherwise the hook decides,
// on the thread that made the gate (the simulation's) and on a thread acting for it (a RocksDB
// flush or compaction that BackgroundJobs runs in lock step while the simulation thread waits
// for it); never on a thread running beside the simulation. So a decision is a function of the
// run, never of RocksDB's thread timing. The hook may unwind the fiber (a crash fail point):
// the exception is caught here, never thrown through RocksDB, and the store rethrows it once
// RocksDB has returned (take_deferred_unwind).

#include <rocksdb/io_status.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>  // lint: allow(thread) RocksDB's background jobs share the gate
#include <string_view>
#include <thread>  // lint: allow(thread) only to tell the simulation thread from RocksDB's

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
    bool background = false;  // from a RocksDB flush or compaction (run in lock step)
};

// While alive, the current thread acts for the simulation thread, which is parked waiting for it
// (BackgroundJobs' lock-step jobs): the fault hook runs for its operations too.
class ActingForSimulation {
public:
    ActingForSimulation();
    ActingForSimulation(const ActingForSimulation&) = delete;
    ActingForSimulation& operator=(const ActingForSimulation&) = delete;
    ~ActingForSimulation();
};
using FsFaultHook = std::function<FsFault(const FsOpInfo&)>;

class FaultGate {
public:
    struct Verdict {
        rocksdb::IOStatus status;
        bool lie = false;  // a sync to report as done without doing it
    };

    // The store's hook (none: no faults). Set and called on the simulation thread only.
    void set_hook(FsFaultHook hook);
    // Decides an operation's fault before it runs (any thread).
    Verdict check(FsOp op, std::string_view path);
    // EIO while the power is cut or the process is dead, else OK.
    rocksdb::IOStatus refusal() const;

    void cut_power();
    bool powered() const;
    // The machine comes back: power on, no dead process, no pending crash.
    void power_on();

    // A crash the hook raised inside a RocksDB call (or null); until reboot() the dead process
    // writes nothing.
    std::exception_ptr take_deferred_unwind();
    void reboot();

    uint64_t faults() const;  // operations the hook failed (or lied about)
    uint64_t lies() const;    // of those, fsyncs reported done and not done (the lying disk)

private:
    using Lock = std::lock_guard<std::mutex>;  // lint: allow(thread) see the header
    Verdict fault(FsFault fault, FsOp op, std::string_view path);

    mutable std::mutex mu_;  // lint: allow(thread) see the header
    bool powered_ = true;
    bool dead_ = false;
    std::exception_ptr deferred_;
    uint64_t faults_ = 0;
    uint64_t lies_ = 0;
    FsFaultHook hook_;  // read and written on the owner thread only
    std::thread::id owner_ = std::this_thread::get_id();  // lint: allow(thread) see the header
};

}  // namespace walrus
