#include "node/store/disk.h"

#include <rocksdb/env.h>

#include <utility>

#include "sim/assert.h"

namespace walrus {

Disk::Disk(std::unique_ptr<rocksdb::Env> owned_env, rocksdb::Env* env, std::string path)
    : owned_env_(std::move(owned_env)), env_(env), path_(std::move(path)) {}

Disk::~Disk() {
    // A database still open on a destroyed Env would write into freed memory: the world must
    // destroy its disks after the simulation has unwound every node.
    FLOE_ASSERT(!in_use_, "disk '{}' destroyed while a NodeStore is open on it", path_);
}

std::unique_ptr<Disk> Disk::in_memory(std::string_view name) {
    FLOE_ASSERT(!name.empty(), "an in-memory disk needs a name");
    // The memory Env keeps files in memory and borrows only the base Env's thread pools and
    // clock; RocksDB's timing never feeds a simulation decision (DETERMINISM.md).
    std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    FLOE_ASSERT(env != nullptr, "rocksdb::NewMemEnv failed");
    rocksdb::Env* raw = env.get();
    return std::unique_ptr<Disk>(new Disk(std::move(env), raw, "/floe/" + std::string(name)));
}

std::unique_ptr<Disk> Disk::on_directory(std::string path) {
    FLOE_ASSERT(!path.empty(), "a directory disk needs a path");
    return std::unique_ptr<Disk>(new Disk(nullptr, rocksdb::Env::Default(), std::move(path)));
}

}  // namespace walrus
