#pragma once
// Which keys some of a store's column families hold, in the node's memory: the sliver-existence
// economy (StoreOptions::index_sliver_keys, `--set sliver-existence=indexed`). Walrus answers
// "is this sliver stored?" with a RocksDB read of its shard's column family, and a mainnet-shaped
// run makes about 10,000 of those reads a blob (every node, at certification and at every
// epoch's consistency report): half of its time, most of it chasing memtable skip-list pointers
// (ARCHITECTURE.md, "How cost grows with the cluster"). The index answers the same question from
// memory. It is exact, not a cache that can be stale: NodeStore fills it by scanning the column
// families when it opens, and changes it after every successful write to them, in the same
// call; a crash drops it with the rest of the node's memory.
//
// Keys are numbered once each (the first time any indexed column family holds them), and each
// column family keeps one bit per number: at mainnet's shape a node holds some 200,000 slivers
// of 11,000 blob ids, which this keeps in about 1.5 MB instead of the tens of MB of a set of keys
// per column family.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace walrus {

class KeyIndex {
public:
    // Column families are named by their RocksDB id, which the database never reuses: a column
    // family dropped and created again under the same name starts empty, as its index does.
    bool contains(uint32_t cf_id, std::string_view key) const;
    void insert(uint32_t cf_id, std::string_view key);
    void erase(uint32_t cf_id, std::string_view key);
    void drop(uint32_t cf_id);
    size_t keys_numbered() const { return numbers_.size(); }

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
    };
    // Lookups only (never iterated), so the unordered map's order reaches no decision.
    std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> numbers_;
    std::map<uint32_t, std::vector<bool>> present_;  // by column family id, by key number
};

}  // namespace walrus
