#include "node/store/sim_fs.h"

#include <fmt/format.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>   // lint: allow(thread) RocksDB's background jobs share the file system
#include <thread>  // lint: allow(thread) only to tell the simulation thread from RocksDB's

#include "sim/assert.h"
#include "sim/rng.h"

namespace walrus {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using Lock = std::lock_guard<std::mutex>;  // lint: allow(thread) RocksDB's jobs share the state

// "/a//b/" -> "/a/b"; relative paths are taken from the root.
std::string normalize(std::string_view path) {
    std::string out = "/";
    for (char c : path) {
        if (c == '/' && out.back() == '/') {
            continue;
        }
        out.push_back(c);
    }
    if (out.size() > 1 && out.back() == '/') {
        out.pop_back();
    }
    return out;
}

// ("/a/b/c") -> ("/a/b", "c"); the root's parent is the root.
std::pair<std::string, std::string> split(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == 0) {
        return {"/", path.substr(1)};
    }
    return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

std::string PowerLossReport::describe() const {
    std::string out = fmt::format(
        "{} bytes lost, {} file(s) cut ({} torn), {} entr{} undone, {} restored", bytes_lost,
        files_cut, files_torn, entries_undone, entries_undone == 1 ? "y" : "ies", entries_restored);
    constexpr size_t named = 4;
    for (size_t i = 0; i < lost_files.size() && i < named; ++i) {
        const size_t slash = lost_files[i].rfind('/');
        out += (i == 0 ? ": " : ", ") + lost_files[i].substr(slash + 1);
    }
    if (lost_files.size() > named) {
        out += fmt::format(" and {} more", lost_files.size() - named);
    }
    return out;
}

// --- the state --------------------------------------------------------------------------------

namespace {

struct Inode {
    std::string data;
    uint64_t synced = 0;      // bytes [0, synced) survive a power loss
    uint64_t loss_visit = 0;  // restore_power's mark: this inode's tail was already handled
};
using InodePtr = std::shared_ptr<Inode>;

struct Dir {
    std::map<std::string, InodePtr> live;     // what lookups see
    std::map<std::string, InodePtr> durable;  // the entries as of the last fsync of the directory
};

}  // namespace

struct SimFs::State {
    mutable std::mutex mu;            // lint: allow(thread) RocksDB's jobs and the fiber share it
    std::map<std::string, Dir> dirs;  // by normalized path; directories are durable once made
    std::map<std::string, bool> locks;
    uint64_t power_losses = 0;
    FaultGate gate;

    FaultGate::Verdict check(FsOp op, std::string_view path) { return gate.check(op, path); }
    IOStatus refusal() const { return gate.refusal(); }

    // Lookups, with `mu` held.
    Dir* dir_of(const std::string& path) {
        auto it = dirs.find(path);
        return it == dirs.end() ? nullptr : &it->second;
    }
    InodePtr find(const std::string& path) {
        auto [parent, name] = split(path);
        Dir* dir = dir_of(parent);
        if (dir == nullptr) {
            return nullptr;
        }
        auto it = dir->live.find(name);
        return it == dir->live.end() ? nullptr : it->second;
    }
};

// --- files ------------------------------------------------------------------------------------

namespace {

using StatePtr = std::shared_ptr<SimFs::State>;

class SimWritableFile final : public rocksdb::FSWritableFile {
public:
    SimWritableFile(StatePtr state, InodePtr inode, std::string path)
        : state_(std::move(state)), inode_(std::move(inode)), path_(std::move(path)) {}

    IOStatus Append(const Slice& data, const IOOptions& /*options*/,
                    IODebugContext* /*dbg*/) override {
        const auto verdict = state_->check(FsOp::write, path_);
        if (!verdict.status.ok()) {
            return verdict.status;
        }
        Lock lock(state_->mu);
        inode_->data.append(data.data(), data.size());
        return IOStatus::OK();
    }
    IOStatus Append(const Slice& data, const IOOptions& options,
                    const rocksdb::DataVerificationInfo& /*info*/, IODebugContext* dbg) override {
        return Append(data, options, dbg);
    }
    IOStatus Truncate(uint64_t size, const IOOptions& /*options*/,
                      IODebugContext* /*dbg*/) override {
        if (IOStatus refused = state_->refusal(); !refused.ok()) {
            return refused;
        }
        Lock lock(state_->mu);
        inode_->data.resize(size);
        inode_->synced = std::min(inode_->synced, size);
        return IOStatus::OK();
    }
    // Closing a file makes nothing durable (only a sync does).
    IOStatus Close(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
        return IOStatus::OK();
    }
    IOStatus Flush(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
        return state_->refusal();
    }
    IOStatus Sync(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
        const auto verdict = state_->check(FsOp::sync, path_);
        if (!verdict.status.ok() || verdict.lie) {
            return verdict.status;
        }
        Lock lock(state_->mu);
        inode_->synced = inode_->data.size();
        return IOStatus::OK();
    }
    IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
        return Sync(options, dbg);
    }
    // bytes_per_sync is not set; a range sync promises nothing anyway.
    IOStatus RangeSync(uint64_t /*offset*/, uint64_t /*nbytes*/, const IOOptions& /*options*/,
                       IODebugContext* /*dbg*/) override {
        return IOStatus::OK();
    }
    uint64_t GetFileSize(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
        Lock lock(state_->mu);
        return inode_->data.size();
    }

private:
    StatePtr state_;
    InodePtr inode_;
    std::string path_;
};

// Copies `n` bytes from `offset` into `scratch` (RocksDB's buffer): never a pointer into a
// string another thread may grow.
IOStatus read_at(SimFs::State& state, const Inode& inode, const std::string& path, uint64_t offset,
                 size_t n, Slice* result, char* scratch) {
    const auto verdict = state.check(FsOp::read, path);
    if (!verdict.status.ok()) {
        return verdict.status;
    }
    Lock lock(state.mu);
    const uint64_t size = inode.data.size();
    const size_t count =
        offset >= size ? 0 : static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    if (count > 0) {
        std::memcpy(scratch, inode.data.data() + offset, count);
    }
    *result = Slice(scratch, count);
    return IOStatus::OK();
}

class SimSequentialFile final : public rocksdb::FSSequentialFile {
public:
    SimSequentialFile(StatePtr state, InodePtr inode, std::string path)
        : state_(std::move(state)), inode_(std::move(inode)), path_(std::move(path)) {}

    IOStatus Read(size_t n, const IOOptions& /*options*/, Slice* result, char* scratch,
                  IODebugContext* /*dbg*/) override {
        IOStatus status = read_at(*state_, *inode_, path_, position_, n, result, scratch);
        position_ += result->size();
        return status;
    }
    IOStatus Skip(uint64_t n) override {
        position_ += n;
        return IOStatus::OK();
    }

private:
    StatePtr state_;
    InodePtr inode_;
    std::string path_;
    uint64_t position_ = 0;
};

class SimRandomAccessFile final : public rocksdb::FSRandomAccessFile {
public:
    SimRandomAccessFile(StatePtr state, InodePtr inode, std::string path)
        : state_(std::move(state)), inode_(std::move(inode)), path_(std::move(path)) {}

    IOStatus Read(uint64_t offset, size_t n, const IOOptions& /*options*/, Slice* result,
                  char* scratch, IODebugContext* /*dbg*/) const override {
        return read_at(*state_, *inode_, path_, offset, n, result, scratch);
    }

private:
    StatePtr state_;
    InodePtr inode_;
    std::string path_;
};

class SimDirectory final : public rocksdb::FSDirectory {
public:
    SimDirectory(StatePtr state, std::string path)
        : state_(std::move(state)), path_(std::move(path)) {}

    IOStatus Fsync(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
        const auto verdict = state_->check(FsOp::dir_sync, path_);
        if (!verdict.status.ok() || verdict.lie) {
            return verdict.status;
        }
        Lock lock(state_->mu);
        if (Dir* dir = state_->dir_of(path_); dir != nullptr) {
            dir->durable = dir->live;
        }
        return IOStatus::OK();
    }
    IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                                 const rocksdb::DirFsyncOptions& /*dir_options*/) override {
        return Fsync(options, dbg);
    }
    IOStatus Close(const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
        return IOStatus::OK();
    }

private:
    StatePtr state_;
    std::string path_;
};

class SimFileLock final : public rocksdb::FileLock {
public:
    explicit SimFileLock(std::string locked) : path(std::move(locked)) {}
    std::string path;
};

// --- the file system --------------------------------------------------------------------------

class SimFileSystem final : public rocksdb::FileSystem {
public:
    explicit SimFileSystem(StatePtr state) : state_(std::move(state)) { state_->dirs["/"]; }

    const char* Name() const override { return "FloeSimFs"; }

    IOStatus NewSequentialFile(const std::string& fname, const rocksdb::FileOptions& /*options*/,
                               std::unique_ptr<rocksdb::FSSequentialFile>* result,
                               IODebugContext* /*dbg*/) override {
        return open_reader<SimSequentialFile>(fname, result);
    }

    IOStatus NewRandomAccessFile(const std::string& fname, const rocksdb::FileOptions& /*options*/,
                                 std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                 IODebugContext* /*dbg*/) override {
        return open_reader<SimRandomAccessFile>(fname, result);
    }

    // Creates or truncates: a new inode takes the name (the old one stays durable under it until
    // the directory is synced, as with open(O_TRUNC) of a replaced file).
    IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& /*options*/,
                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                             IODebugContext* /*dbg*/) override {
        const std::string path = normalize(fname);
        const auto verdict = state_->check(FsOp::write, path);
        if (!verdict.status.ok()) {
            return verdict.status;
        }
        auto inode = std::make_shared<Inode>();
        {
            Lock lock(state_->mu);
            auto [parent, name] = split(path);
            Dir* dir = state_->dir_of(parent);
            if (dir == nullptr) {
                return IOStatus::PathNotFound("no such directory: ", parent);
            }
            dir->live[name] = inode;
        }
        *result = std::make_unique<SimWritableFile>(state_, std::move(inode), path);
        return IOStatus::OK();
    }

    IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                IODebugContext* dbg) override {
        const std::string path = normalize(fname);
        InodePtr inode = lookup(path);
        if (inode == nullptr) {
            return NewWritableFile(fname, options, result, dbg);
        }
        if (IOStatus refused = state_->refusal(); !refused.ok()) {
            return refused;
        }
        *result = std::make_unique<SimWritableFile>(state_, std::move(inode), path);
        return IOStatus::OK();
    }

    // Only with recycle_log_file_num > 0, which neither floe nor Walrus sets.
    IOStatus ReuseWritableFile(const std::string& /*fname*/, const std::string& /*old_fname*/,
                               const rocksdb::FileOptions& /*options*/,
                               std::unique_ptr<rocksdb::FSWritableFile>* /*result*/,
                               IODebugContext* /*dbg*/) override {
        return IOStatus::NotSupported("SimFs does not recycle files");
    }

    IOStatus NewDirectory(const std::string& name, const IOOptions& /*io_opts*/,
                          std::unique_ptr<rocksdb::FSDirectory>* result,
                          IODebugContext* /*dbg*/) override {
        const std::string path = normalize(name);
        {
            Lock lock(state_->mu);
            if (state_->dir_of(path) == nullptr) {
                return IOStatus::PathNotFound("no such directory: ", path);
            }
        }
        *result = std::make_unique<SimDirectory>(state_, path);
        return IOStatus::OK();
    }

    IOStatus FileExists(const std::string& fname, const IOOptions& /*options*/,
                        IODebugContext* /*dbg*/) override {
        const std::string path = normalize(fname);
        Lock lock(state_->mu);
        if (state_->find(path) != nullptr || state_->dir_of(path) != nullptr) {
            return IOStatus::OK();
        }
        return IOStatus::NotFound();
    }

    IOStatus GetChildren(const std::string& dir, const IOOptions& /*options*/,
                         std::vector<std::string>* result, IODebugContext* /*dbg*/) override {
        const std::string path = normalize(dir);
        Lock lock(state_->mu);
        const Dir* found = state_->dir_of(path);
        if (found == nullptr) {
            return IOStatus::PathNotFound("no such directory: ", path);
        }
        result->clear();
        for (const auto& [name, inode] : found->live) {
            result->push_back(name);
        }
        for (const auto& [child, unused] : state_->dirs) {
            if (child != path && split(child).first == path) {
                result->push_back(split(child).second);
            }
        }
        return IOStatus::OK();
    }

    IOStatus DeleteFile(const std::string& fname, const IOOptions& /*options*/,
                        IODebugContext* /*dbg*/) override {
        const std::string path = normalize(fname);
        if (IOStatus refused = state_->refusal(); !refused.ok()) {
            return refused;
        }
        Lock lock(state_->mu);
        auto [parent, name] = split(path);
        Dir* dir = state_->dir_of(parent);
        if (dir == nullptr || dir->live.erase(name) == 0) {
            return IOStatus::PathNotFound("no such file: ", path);
        }
        return IOStatus::OK();
    }

    IOStatus CreateDir(const std::string& dirname, const IOOptions& options,
                       IODebugContext* dbg) override {
        if (FileExists(dirname, options, dbg).ok()) {
            return IOStatus::IOError("already exists: ", dirname);
        }
        return CreateDirIfMissing(dirname, options, dbg);
    }

    // Makes missing parents too; directories are durable as soon as they exist (RocksDB makes
    // its database directory once, before anything in it is synced).
    IOStatus CreateDirIfMissing(const std::string& dirname, const IOOptions& /*options*/,
                                IODebugContext* /*dbg*/) override {
        if (IOStatus refused = state_->refusal(); !refused.ok()) {
            return refused;
        }
        Lock lock(state_->mu);
        std::string path = normalize(dirname);
        while (path != "/" && state_->dir_of(path) == nullptr) {
            if (state_->find(path) != nullptr) {
                return IOStatus::IOError("a file is in the way: ", path);
            }
            state_->dirs[path];
            path = split(path).first;
        }
        return IOStatus::OK();
    }

    IOStatus DeleteDir(const std::string& dirname, const IOOptions& /*options*/,
                       IODebugContext* /*dbg*/) override {
        const std::string path = normalize(dirname);
        Lock lock(state_->mu);
        const Dir* dir = state_->dir_of(path);
        if (dir == nullptr) {
            return IOStatus::PathNotFound("no such directory: ", path);
        }
        if (!dir->live.empty()) {
            return IOStatus::IOError("directory not empty: ", path);
        }
        state_->dirs.erase(path);
        return IOStatus::OK();
    }

    IOStatus GetFileSize(const std::string& fname, const IOOptions& /*options*/,
                         uint64_t* file_size, IODebugContext* /*dbg*/) override {
        const std::string path = normalize(fname);
        Lock lock(state_->mu);
        InodePtr inode = state_->find(path);
        if (inode == nullptr) {
            return IOStatus::PathNotFound("no such file: ", path);
        }
        *file_size = inode->data.size();
        return IOStatus::OK();
    }

    // No clock here: RocksDB reads modification times only for archived-WAL expiry.
    IOStatus GetFileModificationTime(const std::string& fname, const IOOptions& options,
                                     uint64_t* file_mtime, IODebugContext* dbg) override {
        *file_mtime = 0;
        return FileExists(fname, options, dbg);
    }

    IOStatus RenameFile(const std::string& src, const std::string& target,
                        const IOOptions& /*options*/, IODebugContext* /*dbg*/) override {
        const std::string from = normalize(src);
        const std::string to = normalize(target);
        const auto verdict = state_->check(FsOp::rename, to);
        if (!verdict.status.ok()) {
            return verdict.status;
        }
        Lock lock(state_->mu);
        auto [from_parent, from_name] = split(from);
        auto [to_parent, to_name] = split(to);
        Dir* from_dir = state_->dir_of(from_parent);
        Dir* to_dir = state_->dir_of(to_parent);
        if (from_dir == nullptr || to_dir == nullptr || !from_dir->live.contains(from_name)) {
            return IOStatus::PathNotFound("cannot rename ", from);
        }
        InodePtr inode = from_dir->live[from_name];
        from_dir->live.erase(from_name);
        to_dir->live[to_name] = std::move(inode);
        return IOStatus::OK();
    }

    IOStatus LockFile(const std::string& fname, const IOOptions& options, rocksdb::FileLock** lock,
                      IODebugContext* dbg) override {
        const std::string path = normalize(fname);
        {
            Lock guard(state_->mu);
            if (state_->locks.contains(path)) {
                return IOStatus::IOError("lock held: ", path);
            }
        }
        if (lookup(path) == nullptr) {
            std::unique_ptr<rocksdb::FSWritableFile> file;
            if (IOStatus made = NewWritableFile(path, rocksdb::FileOptions(), &file, dbg);
                !made.ok()) {
                return made;
            }
        }
        (void)options;
        Lock guard(state_->mu);
        state_->locks[path] = true;
        *lock = new SimFileLock(path);
        return IOStatus::OK();
    }

    // Always succeeds: a store closing after a crash or a power cut must still let go.
    IOStatus UnlockFile(rocksdb::FileLock* lock, const IOOptions& /*options*/,
                        IODebugContext* /*dbg*/) override {
        auto* ours = static_cast<SimFileLock*>(lock);
        {
            Lock guard(state_->mu);
            state_->locks.erase(ours->path);
        }
        delete ours;
        return IOStatus::OK();
    }

    IOStatus GetTestDirectory(const IOOptions& /*options*/, std::string* path,
                              IODebugContext* /*dbg*/) override {
        *path = "/floe-test";
        return IOStatus::OK();
    }

    IOStatus GetAbsolutePath(const std::string& db_path, const IOOptions& /*options*/,
                             std::string* output_path, IODebugContext* /*dbg*/) override {
        *output_path = normalize(db_path);
        return IOStatus::OK();
    }

    IOStatus IsDirectory(const std::string& path, const IOOptions& /*options*/, bool* is_dir,
                         IODebugContext* /*dbg*/) override {
        Lock lock(state_->mu);
        *is_dir = state_->dir_of(normalize(path)) != nullptr;
        return IOStatus::OK();
    }

private:
    template <class File, class Result>
    IOStatus open_reader(const std::string& fname, std::unique_ptr<Result>* result) {
        const std::string path = normalize(fname);
        InodePtr inode = lookup(path);
        if (inode == nullptr) {
            return IOStatus::PathNotFound("no such file: ", path);
        }
        *result = std::make_unique<File>(state_, std::move(inode), path);
        return IOStatus::OK();
    }

    InodePtr lookup(const std::string& path) {
        Lock lock(state_->mu);
        return state_->find(path);
    }

    StatePtr state_;
};

}  // namespace

// --- SimFs ------------------------------------------------------------------------------------

SimFs::SimFs() : state_(std::make_shared<State>()), fs_(std::make_shared<SimFileSystem>(state_)) {}

SimFs::~SimFs() = default;

const std::shared_ptr<rocksdb::FileSystem>& SimFs::file_system() const {
    return fs_;
}

FaultGate& SimFs::gate() const {
    return state_->gate;
}

void SimFs::set_fault_hook(FsFaultHook hook) {
    state_->gate.set_hook(std::move(hook));
}

void SimFs::cut_power() {
    state_->gate.cut_power();
}

bool SimFs::powered() const {
    return state_->gate.powered();
}

namespace {

// Where a power loss cuts a file: at its synced length, or with tearing at a sector boundary
// drawn between that and the end of what was written (the page cache wrote back a prefix).
uint64_t cut_point(const Inode& inode, sim::Rng& rng, const PowerLossOptions& options) {
    if (!options.tear || options.sector_bytes == 0) {
        return inode.synced;
    }
    const uint64_t sector = options.sector_bytes;
    const uint64_t boundaries = inode.data.size() / sector - inode.synced / sector;
    const uint64_t pick = rng.below(boundaries + 1);
    return pick == 0 ? inode.synced : (inode.synced / sector + pick) * sector;
}

}  // namespace

PowerLossReport SimFs::restore_power(sim::Rng& rng, const PowerLossOptions& options) {
    FLOE_ASSERT(!state_->gate.powered(), "restore_power without a power cut");
    Lock lock(state_->mu);
    PowerLossReport report;
    const uint64_t visit = ++state_->power_losses;
    for (auto& [path, dir] : state_->dirs) {
        const std::string prefix = path == "/" ? "/" : path + "/";
        for (const auto& [name, inode] : dir.live) {
            auto durable = dir.durable.find(name);
            if (durable == dir.durable.end() || durable->second != inode) {
                ++report.entries_undone;
                report.bytes_lost += inode->data.size();
                report.lost_files.push_back(prefix + name);
            }
        }
        for (const auto& [name, inode] : dir.durable) {
            auto live = dir.live.find(name);
            if (live == dir.live.end() || live->second != inode) {
                ++report.entries_restored;
            }
        }
        dir.live = dir.durable;
        for (const auto& [name, inode] : dir.durable) {
            if (inode->loss_visit == visit || inode->data.size() <= inode->synced) {
                continue;
            }
            inode->loss_visit = visit;
            const uint64_t cut = cut_point(*inode, rng, options);
            report.bytes_lost += inode->data.size() - cut;
            ++report.files_cut;
            report.files_torn += cut > inode->synced ? 1 : 0;
            inode->data.resize(cut);
            inode->synced = cut;
            report.lost_files.push_back(prefix + name);
        }
    }
    std::sort(report.lost_files.begin(), report.lost_files.end());
    report.lost_files.erase(std::unique(report.lost_files.begin(), report.lost_files.end()),
                            report.lost_files.end());
    state_->locks.clear();
    state_->gate.power_on();
    return report;
}

std::exception_ptr SimFs::take_deferred_unwind() {
    return state_->gate.take_deferred_unwind();
}

void SimFs::reboot() {
    state_->gate.reboot();
    Lock lock(state_->mu);
    state_->locks.clear();
}

SimFsStats SimFs::stats() const {
    Lock lock(state_->mu);
    SimFsStats out;
    out.faults = state_->gate.faults();
    for (const auto& [path, dir] : state_->dirs) {
        for (const auto& [name, inode] : dir.live) {
            ++out.files;
            out.bytes += inode->data.size();
            out.unsynced_bytes +=
                inode->data.size() - std::min<uint64_t>(inode->synced, inode->data.size());
        }
    }
    return out;
}

std::optional<std::string> SimFs::contents(std::string_view path) const {
    Lock lock(state_->mu);
    InodePtr inode = state_->find(normalize(path));
    if (inode == nullptr) {
        return std::nullopt;
    }
    return inode->data;
}

std::optional<uint64_t> SimFs::synced_bytes(std::string_view path) const {
    Lock lock(state_->mu);
    InodePtr inode = state_->find(normalize(path));
    if (inode == nullptr) {
        return std::nullopt;
    }
    return inode->synced;
}

std::vector<std::string> SimFs::children(std::string_view dir) const {
    Lock lock(state_->mu);
    std::vector<std::string> out;
    const Dir* found = state_->dir_of(normalize(dir));
    if (found != nullptr) {
        for (const auto& [name, inode] : found->live) {
            out.push_back(name);
        }
    }
    return out;
}

}  // namespace walrus
