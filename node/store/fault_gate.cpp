#include "node/store/fault_gate.h"

#include <fmt/format.h>

#include <utility>

#include "sim/assert.h"

namespace walrus {

namespace {

using rocksdb::IOStatus;

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}
bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

const char* file_kind_name(FileKind kind) {
    switch (kind) {
        case FileKind::wal: return "wal";
        case FileKind::manifest: return "manifest";
        case FileKind::current: return "current";
        case FileKind::table: return "table";
        case FileKind::options: return "options";
        case FileKind::temp: return "temp";
        case FileKind::identity: return "identity";
        case FileKind::lock: return "lock";
        case FileKind::other: return "other";
    }
    FLOE_UNREACHABLE("bad FileKind {}", static_cast<int>(kind));
}

FileKind file_kind_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (ends_with(name, ".log")) {
        return FileKind::wal;
    }
    if (starts_with(name, "MANIFEST-")) {
        return FileKind::manifest;
    }
    if (name == "CURRENT") {
        return FileKind::current;
    }
    if (ends_with(name, ".sst")) {
        return FileKind::table;
    }
    if (starts_with(name, "OPTIONS-")) {
        return FileKind::options;
    }
    if (ends_with(name, ".dbtmp")) {
        return FileKind::temp;
    }
    if (name == "IDENTITY") {
        return FileKind::identity;
    }
    if (name == "LOCK") {
        return FileKind::lock;
    }
    return FileKind::other;
}

const char* fs_op_name(FsOp op) {
    switch (op) {
        case FsOp::read: return "read";
        case FsOp::write: return "write";
        case FsOp::sync: return "sync";
        case FsOp::dir_sync: return "dir-sync";
        case FsOp::rename: return "rename";
    }
    FLOE_UNREACHABLE("bad FsOp {}", static_cast<int>(op));
}

// --- FaultGate ----------------------------------------------------------------------------------

namespace {
thread_local bool acting_for_simulation = false;  // lint: allow(thread) see ActingForSimulation
}  // namespace

ActingForSimulation::ActingForSimulation() {
    acting_for_simulation = true;
}

ActingForSimulation::~ActingForSimulation() {
    acting_for_simulation = false;
}

void FaultGate::set_hook(FsFaultHook hook) {
    hook_ = std::move(hook);
}

// Never holds `mu_` while the hook runs: the hook may cut the power, which takes it.
FaultGate::Verdict FaultGate::check(FsOp op, std::string_view path) {
    if (IOStatus refused = refusal(); !refused.ok()) {
        return {refused};
    }
    // The hook is for the simulation thread's operations, and those of a thread acting for it
    // while it waits (only they read `hook_`).
    const bool on_owner = std::this_thread::get_id() == owner_;  // lint: allow(thread) see header
    if ((!on_owner && !acting_for_simulation) || !hook_) {
        return {IOStatus::OK()};
    }
    FsFault decided = FsFault::none;
    try {
        decided = hook_(FsOpInfo{op, file_kind_of(path), path, !on_owner});
    } catch (...) {
        // A crash fail point unwound the fiber inside RocksDB: nothing may unwind through
        // RocksDB, so keep the exception for the store and let the dead process write no more.
        Lock lock(mu_);
        deferred_ = std::current_exception();
        dead_ = true;
        return {IOStatus::IOError("simulated process crashed during ", fs_op_name(op))};
    }
    if (IOStatus refused = refusal(); !refused.ok()) {
        return {refused};  // the hook cut the power
    }
    return fault(decided, op, path);
}

FaultGate::Verdict FaultGate::fault(FsFault decided, FsOp op, std::string_view path) {
    switch (decided) {
        case FsFault::none: return {IOStatus::OK()};
        case FsFault::lie:
            if (op != FsOp::sync && op != FsOp::dir_sync) {
                return {IOStatus::OK()};
            }
            break;
        case FsFault::no_space:
            if (op != FsOp::write) {
                return {IOStatus::OK()};
            }
            break;
        case FsFault::io_error: break;
    }
    Lock lock(mu_);
    ++faults_;
    switch (decided) {
        case FsFault::lie: ++lies_; return {IOStatus::OK(), true};
        case FsFault::no_space: return {IOStatus::NoSpace("simulated ENOSPC writing ", path)};
        case FsFault::none:
        case FsFault::io_error: break;
    }
    return {IOStatus::IOError(fmt::format("simulated EIO ({})", fs_op_name(op)), path)};
}

IOStatus FaultGate::refusal() const {
    Lock lock(mu_);
    if (!powered_) {
        return IOStatus::IOError("simulated power loss");
    }
    if (dead_) {
        return IOStatus::IOError("simulated process crashed");
    }
    return IOStatus::OK();
}

void FaultGate::cut_power() {
    Lock lock(mu_);
    powered_ = false;
}

bool FaultGate::powered() const {
    Lock lock(mu_);
    return powered_;
}

void FaultGate::power_on() {
    Lock lock(mu_);
    powered_ = true;
    dead_ = false;
    deferred_ = nullptr;
}

std::exception_ptr FaultGate::take_deferred_unwind() {
    Lock lock(mu_);
    return std::exchange(deferred_, nullptr);
}

void FaultGate::reboot() {
    Lock lock(mu_);
    dead_ = false;
    deferred_ = nullptr;
}

uint64_t FaultGate::faults() const {
    Lock lock(mu_);
    return faults_;
}

uint64_t FaultGate::lies() const {
    Lock lock(mu_);
    return lies_;
}

}  // namespace walrus
