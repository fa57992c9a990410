#pragma once
// A storage node's persistent medium (walrus-recovery-spec.md §12, §17 "persistence model").
//
// The Disk belongs to the world, not to the simulated node: a crash unwinds every fiber of the
// host and destroys the node's NodeStore, but the Disk and the bytes on it survive, and the next
// incarnation reopens the same database from it. That is how a Walrus simtest restarts a node on
// "the same on-disk storage path".
//
// Two media: RocksDB's in-memory Env (the default: hermetic, fast, leaves no files behind) and a
// real directory (for inspecting a database with RocksDB's tools, or for realistic I/O costs).
// A Disk must outlive every NodeStore opened on it, and holds at most one open store at a time.

#include <memory>
#include <string>
#include <string_view>

namespace rocksdb {
class Env;
}

namespace walrus {

class Disk {
public:
    // An in-memory file system of its own. `name` only labels it: its path is "/floe/<name>".
    static std::unique_ptr<Disk> in_memory(std::string_view name);
    // A database directory on the real file system (created if missing; its parent must exist).
    static std::unique_ptr<Disk> on_directory(std::string path);

    Disk(const Disk&) = delete;
    Disk& operator=(const Disk&) = delete;
    ~Disk();

    rocksdb::Env* env() const { return env_; }
    // The database directory inside env().
    const std::string& path() const { return path_; }
    bool is_in_memory() const { return owned_env_ != nullptr; }
    // Whether a NodeStore is open on this disk right now.
    bool in_use() const { return in_use_; }

private:
    friend class NodeStore;  // sets in_use_ while open
    Disk(std::unique_ptr<rocksdb::Env> owned_env, rocksdb::Env* env, std::string path);

    std::unique_ptr<rocksdb::Env> owned_env_;  // null for a directory (Env::Default is global)
    rocksdb::Env* env_;
    std::string path_;
    bool in_use_ = false;
};

}  // namespace walrus
