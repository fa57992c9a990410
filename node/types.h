#pragma once
// Vocabulary of the Walrus model (walrus-recovery-spec.md §1). Plain value types shared by the
// chain, the storage nodes, the client and the checkers.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace walrus {

using Epoch = uint32_t;
using ShardIndex = uint16_t;
using NodeIndex = uint32_t;  // index of a storage node in the cluster (the spec's "node id")
using EventIndex = uint64_t;

// 32 raw bytes, ordered lexicographically (RocksDB key order, §4.2).
struct BlobId {
    std::array<uint8_t, 32> bytes{};

    auto operator<=>(const BlobId&) const = default;
    bool operator==(const BlobId&) const = default;
    // Deterministic id from a 64-bit seed (the client derives ids from its own RNG stream).
    static BlobId from_u64(uint64_t seed);
    // A blob id that stands for inconsistently encoded metadata (encoding.h): in Walrus the id
    // is the hash of the metadata, so a writer who puts a wrong hash in it gets a different,
    // valid-looking id; here the id carries a tag in its last 8 bytes (a random id has it with
    // probability 2^-64) and the metadata follows from the id.
    static BlobId with_inconsistent_encoding(uint64_t seed);
    bool has_inconsistent_encoding() const;
    std::string to_hex() const;
    std::string short_hex() const { return to_hex().substr(0, 12); }
    uint64_t prefix_u64() const;  // first 8 bytes, big-endian
};

enum class SliverType : uint8_t { primary, secondary };
const char* sliver_type_name(SliverType type);

// n shards, f = max faulty (§1): the largest f with 3f + 1 <= n.
constexpr uint32_t max_faulty(uint32_t n_shards) {
    return (n_shards - 1) / 3;
}
// Quorum of shard weight: 3w >= 2n + 1.
constexpr bool is_quorum(uint32_t weight, uint32_t n_shards) {
    return 3 * weight >= 2 * n_shards + 1;
}

// Shard ownership of one committee: for each member, its shard indices.
struct CommitteeMember {
    NodeIndex node = 0;
    std::vector<ShardIndex> shards;
    bool operator==(const CommitteeMember&) const = default;
};

struct Committee {
    Epoch epoch = 0;
    uint32_t n_shards = 0;
    std::vector<CommitteeMember> members;  // sorted by node index

    const CommitteeMember* member(NodeIndex node) const;
    bool contains(NodeIndex node) const { return member(node) != nullptr; }
    std::vector<ShardIndex> shards_of(NodeIndex node) const;  // empty if not a member
    NodeIndex owner_of(ShardIndex shard) const;               // asserts it is assigned
    bool operator==(const Committee&) const = default;
};

}  // namespace walrus
