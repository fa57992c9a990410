#include "node/types.h"

#include <fmt/format.h>

#include "sim/assert.h"
#include "sim/rng.h"

namespace walrus {

namespace {
constexpr uint64_t inconsistent_tag = 0x494e434f4e534953ULL;  // "INCONSIS"
}  // namespace

BlobId BlobId::with_inconsistent_encoding(uint64_t seed) {
    BlobId id = from_u64(seed);
    for (size_t byte = 0; byte < 8; ++byte) {
        id.bytes[24 + byte] = static_cast<uint8_t>(inconsistent_tag >> (56 - 8 * byte));
    }
    return id;
}

bool BlobId::has_inconsistent_encoding() const {
    uint64_t tail = 0;
    for (size_t byte = 0; byte < 8; ++byte) {
        tail = (tail << 8) | bytes[24 + byte];
    }
    return tail == inconsistent_tag;
}

BlobId BlobId::from_u64(uint64_t seed) {
    BlobId id;
    sim::SplitMix64 mixer{seed};
    for (size_t word = 0; word < 4; ++word) {
        const uint64_t value = mixer.next();
        for (size_t byte = 0; byte < 8; ++byte) {
            id.bytes[word * 8 + byte] = static_cast<uint8_t>(value >> (56 - 8 * byte));
        }
    }
    return id;
}

std::string BlobId::to_hex() const {
    std::string out;
    out.reserve(64);
    for (uint8_t byte : bytes) {
        fmt::format_to(std::back_inserter(out), "{:02x}", byte);
    }
    return out;
}

uint64_t BlobId::prefix_u64() const {
    uint64_t value = 0;
    for (size_t byte = 0; byte < 8; ++byte) {
        value = (value << 8) | bytes[byte];
    }
    return value;
}

const char* sliver_type_name(SliverType type) {
    switch (type) {
        case SliverType::primary: return "primary";
        case SliverType::secondary: return "secondary";
    }
    FLOE_UNREACHABLE();
}

const CommitteeMember* Committee::member(NodeIndex node) const {
    for (const CommitteeMember& m : members) {
        if (m.node == node) {
            return &m;
        }
    }
    return nullptr;
}

std::vector<ShardIndex> Committee::shards_of(NodeIndex node) const {
    const CommitteeMember* m = member(node);
    return m != nullptr ? m->shards : std::vector<ShardIndex>{};
}

NodeIndex Committee::owner_of(ShardIndex shard) const {
    for (const CommitteeMember& m : members) {
        for (ShardIndex s : m.shards) {
            if (s == shard) {
                return m.node;
            }
        }
    }
    FLOE_UNREACHABLE("shard {} has no owner in the committee of epoch {}", shard, epoch);
}

}  // namespace walrus
