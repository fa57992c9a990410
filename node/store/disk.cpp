#include "node/store/disk.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <utility>

#include "node/store/faulting_fs.h"
#include "sim/assert.h"

namespace walrus {

Disk::Disk(std::unique_ptr<SimFs> sim_fs, std::shared_ptr<rocksdb::FileSystem> fs, std::string path)
    : sim_fs_(std::move(sim_fs)),
      jobs_(std::make_unique<BackgroundJobs>(std::move(fs))),
      path_(std::move(path)) {}

Disk::~Disk() {
    // A database still open on a destroyed Env would write into freed memory: the world must
    // destroy its disks after the simulation has unwound every node.
    FLOE_ASSERT(!in_use_, "disk '{}' destroyed while a NodeStore is open on it", path_);
}

std::unique_ptr<Disk> Disk::in_memory(std::string_view name) {
    FLOE_ASSERT(!name.empty(), "an in-memory disk needs a name");
    auto fs = std::make_unique<SimFs>();
    std::shared_ptr<rocksdb::FileSystem> files = fs->file_system();
    return std::unique_ptr<Disk>(
        new Disk(std::move(fs), std::move(files), "/floe/" + std::string(name)));
}

std::unique_ptr<Disk> Disk::on_directory(std::string path) {
    FLOE_ASSERT(!path.empty(), "a directory disk needs a path");
    auto gate = std::make_shared<FaultGate>();
    std::unique_ptr<Disk> disk(new Disk(
        nullptr, faulting_file_system(rocksdb::FileSystem::Default(), gate), std::move(path)));
    disk->gate_ = std::move(gate);
    return disk;
}

std::unique_ptr<Disk> Disk::in_rocksdb_memory_env(std::string_view name) {
    FLOE_ASSERT(!name.empty(), "an in-memory disk needs a name");
    std::unique_ptr<Disk> disk(
        new Disk(nullptr, rocksdb::FileSystem::Default(), "/floe/" + std::string(name)));
    disk->jobs_.reset();
    disk->legacy_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    FLOE_ASSERT(disk->legacy_env_ != nullptr, "rocksdb::NewMemEnv failed");
    return disk;
}

void Disk::settle() const {
    if (jobs_ != nullptr) {
        jobs_->settle();
    }
}

void Disk::cut_power() {
    FLOE_ASSERT(sim_fs_ != nullptr, "disk '{}' is a real directory: it cannot lose power", path_);
    sim_fs_->cut_power();
}

}  // namespace walrus
