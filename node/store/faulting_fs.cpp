#include "node/store/faulting_fs.h"

#include <rocksdb/file_system.h>

#include <string>
#include <utility>

namespace walrus {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using GatePtr = std::shared_ptr<FaultGate>;

class FaultingWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
public:
    FaultingWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, GatePtr gate,
                         std::string path)
        : FSWritableFileOwnerWrapper(std::move(file)),
          gate_(std::move(gate)),
          path_(std::move(path)) {}

    IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
        const auto verdict = gate_->check(FsOp::write, path_);
        return verdict.status.ok() ? target()->Append(data, options, dbg) : verdict.status;
    }
    IOStatus Append(const Slice& data, const IOOptions& options,
                    const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
        const auto verdict = gate_->check(FsOp::write, path_);
        return verdict.status.ok() ? target()->Append(data, options, info, dbg) : verdict.status;
    }
    IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
        return gated_sync([&] { return target()->Sync(options, dbg); });
    }
    IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
        return gated_sync([&] { return target()->Fsync(options, dbg); });
    }

private:
    template <class Sync>
    IOStatus gated_sync(Sync sync) {
        const auto verdict = gate_->check(FsOp::sync, path_);
        if (!verdict.status.ok() || verdict.lie) {
            return verdict.status;  // a lie skips the fsync (only a power loss would show it)
        }
        return sync();
    }

    GatePtr gate_;
    std::string path_;
};

class FaultingSequentialFile final : public rocksdb::FSSequentialFileOwnerWrapper {
public:
    FaultingSequentialFile(std::unique_ptr<rocksdb::FSSequentialFile> file, GatePtr gate,
                           std::string path)
        : FSSequentialFileOwnerWrapper(std::move(file)),
          gate_(std::move(gate)),
          path_(std::move(path)) {}

    IOStatus Read(size_t n, const IOOptions& options, Slice* result, char* scratch,
                  IODebugContext* dbg) override {
        const auto verdict = gate_->check(FsOp::read, path_);
        return verdict.status.ok() ? target()->Read(n, options, result, scratch, dbg)
                                   : verdict.status;
    }

private:
    GatePtr gate_;
    std::string path_;
};

class FaultingRandomAccessFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
public:
    FaultingRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> file, GatePtr gate,
                             std::string path)
        : FSRandomAccessFileOwnerWrapper(std::move(file)),
          gate_(std::move(gate)),
          path_(std::move(path)) {}

    IOStatus Read(uint64_t offset, size_t n, const IOOptions& options, Slice* result, char* scratch,
                  IODebugContext* dbg) const override {
        const auto verdict = gate_->check(FsOp::read, path_);
        return verdict.status.ok() ? target()->Read(offset, n, options, result, scratch, dbg)
                                   : verdict.status;
    }

private:
    GatePtr gate_;
    std::string path_;
};

class FaultingDirectory final : public rocksdb::FSDirectoryWrapper {
public:
    FaultingDirectory(std::unique_ptr<rocksdb::FSDirectory> dir, GatePtr gate, std::string path)
        : FSDirectoryWrapper(std::move(dir)), gate_(std::move(gate)), path_(std::move(path)) {}

    IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
        const auto verdict = gate_->check(FsOp::dir_sync, path_);
        if (!verdict.status.ok() || verdict.lie) {
            return verdict.status;
        }
        return FSDirectoryWrapper::Fsync(options, dbg);
    }
    IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                                 const rocksdb::DirFsyncOptions& dir_options) override {
        const auto verdict = gate_->check(FsOp::dir_sync, path_);
        if (!verdict.status.ok() || verdict.lie) {
            return verdict.status;
        }
        return FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    }

private:
    GatePtr gate_;
    std::string path_;
};

class FaultingFileSystem final : public rocksdb::FileSystemWrapper {
public:
    FaultingFileSystem(std::shared_ptr<rocksdb::FileSystem> base, GatePtr gate)
        : FileSystemWrapper(std::move(base)), gate_(std::move(gate)) {}

    const char* Name() const override { return "FloeFaultingFs"; }

    IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                             IODebugContext* dbg) override {
        if (const auto verdict = gate_->check(FsOp::write, fname); !verdict.status.ok()) {
            return verdict.status;
        }
        return wrap<FaultingWritableFile>(fname, result,
                                          target()->NewWritableFile(fname, options, result, dbg));
    }
    IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                IODebugContext* dbg) override {
        if (IOStatus refused = gate_->refusal(); !refused.ok()) {
            return refused;
        }
        return wrap<FaultingWritableFile>(
            fname, result, target()->ReopenWritableFile(fname, options, result, dbg));
    }
    // Only with recycle_log_file_num > 0 (unset): FileSystemWrapper would bypass the gate.
    IOStatus ReuseWritableFile(const std::string& /*fname*/, const std::string& /*old_fname*/,
                               const rocksdb::FileOptions& /*options*/,
                               std::unique_ptr<rocksdb::FSWritableFile>* /*result*/,
                               IODebugContext* /*dbg*/) override {
        return IOStatus::NotSupported("floe does not recycle files");
    }
    IOStatus NewSequentialFile(const std::string& fname, const rocksdb::FileOptions& options,
                               std::unique_ptr<rocksdb::FSSequentialFile>* result,
                               IODebugContext* dbg) override {
        return wrap<FaultingSequentialFile>(
            fname, result, target()->NewSequentialFile(fname, options, result, dbg));
    }
    IOStatus NewRandomAccessFile(const std::string& fname, const rocksdb::FileOptions& options,
                                 std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                 IODebugContext* dbg) override {
        return wrap<FaultingRandomAccessFile>(
            fname, result, target()->NewRandomAccessFile(fname, options, result, dbg));
    }
    IOStatus NewDirectory(const std::string& name, const IOOptions& options,
                          std::unique_ptr<rocksdb::FSDirectory>* result,
                          IODebugContext* dbg) override {
        return wrap<FaultingDirectory>(name, result,
                                       target()->NewDirectory(name, options, result, dbg));
    }
    IOStatus RenameFile(const std::string& src, const std::string& target_name,
                        const IOOptions& options, IODebugContext* dbg) override {
        if (const auto verdict = gate_->check(FsOp::rename, target_name); !verdict.status.ok()) {
            return verdict.status;
        }
        return target()->RenameFile(src, target_name, options, dbg);
    }
    IOStatus DeleteFile(const std::string& fname, const IOOptions& options,
                        IODebugContext* dbg) override {
        if (IOStatus refused = gate_->refusal(); !refused.ok()) {
            return refused;
        }
        return target()->DeleteFile(fname, options, dbg);
    }

private:
    // Puts the gate in front of a file the base file system just opened.
    template <class Faulting, class File>
    IOStatus wrap(const std::string& path, std::unique_ptr<File>* result, IOStatus opened) {
        if (opened.ok()) {
            *result = std::make_unique<Faulting>(std::move(*result), gate_, path);
        }
        return opened;
    }

    GatePtr gate_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> faulting_file_system(std::shared_ptr<rocksdb::FileSystem> base,
                                                          std::shared_ptr<FaultGate> gate) {
    return std::make_shared<FaultingFileSystem>(std::move(base), std::move(gate));
}

}  // namespace walrus
