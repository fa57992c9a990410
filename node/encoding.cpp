#include "node/encoding.h"

#include <map>
#include <set>

#include "sim/assert.h"
#include "sim/rng.h"

namespace walrus {
namespace {

// §1, §6.4, §17, in the spec's own terms and apart from EncodingParams: rebuilding a primary
// sliver takes n - f recovery symbols, a secondary n - 2f.
uint32_t spec_recovery_threshold(SliverType type, uint32_t n_shards) {
    const uint32_t f = max_faulty(n_shards);
    return type == SliverType::primary ? n_shards - f : n_shards - 2 * f;
}

uint64_t mix(uint64_t a, uint64_t b) {
    sim::SplitMix64 mixer{a ^ (b * 0x9e3779b97f4a7c15ULL)};
    return mixer.next();
}

uint64_t blob_hash(const BlobId& blob) {
    uint64_t h = 0;
    for (size_t word = 0; word < 4; ++word) {
        uint64_t value = 0;
        for (size_t byte = 0; byte < 8; ++byte) {
            value = (value << 8) | blob.bytes[word * 8 + byte];
        }
        h = mix(h, value);
    }
    return h;
}

SliverType orthogonal(SliverType type) {
    return type == SliverType::primary ? SliverType::secondary : SliverType::primary;
}

// What a source shard contributes: the target's digest masked by a value only the pair
// (source sliver, target) determines, so a symbol is useless without the source's sliver.
uint64_t symbol_mask(const BlobId& blob, uint32_t target_pair, SliverType target_type,
                     ShardIndex source_shard, SliverDigest source_digest) {
    return mix(mix(blob_hash(blob), source_digest), (static_cast<uint64_t>(target_pair) << 20) |
                                                        (static_cast<uint64_t>(source_shard) << 2) |
                                                        static_cast<uint64_t>(target_type));
}

void put_u64(std::string& out, uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
}

uint64_t get_u64(const std::string& in, size_t offset) {
    uint64_t value = 0;
    for (size_t i = 0; i < 8; ++i) {
        value = (value << 8) | static_cast<uint8_t>(in[offset + i]);
    }
    return value;
}

}  // namespace

uint32_t pair_index(ShardIndex shard, uint32_t n_shards, const BlobId& blob) {
    FLOE_ASSERT(shard < n_shards, "shard {} of {}", shard, n_shards);
    return static_cast<uint32_t>((shard + blob.prefix_u64() % n_shards) % n_shards);
}

ShardIndex shard_for_pair(uint32_t pair, uint32_t n_shards, const BlobId& blob) {
    const auto rotation = static_cast<uint32_t>(blob.prefix_u64() % n_shards);
    return static_cast<ShardIndex>((pair + n_shards - rotation) % n_shards);
}

namespace {

// sliver_digest with the blob's hash computed once by the caller: a whole blob's metadata is
// 2n digests, computed by every node a blob is stored on (issue 18: recomputing the hash for
// each was 13 % of a mainnet-shape run).
SliverDigest sliver_digest_of_hash(uint64_t hash, uint32_t pair, SliverType type) {
    return mix(hash, (static_cast<uint64_t>(pair) << 1) | static_cast<uint64_t>(type));
}

}  // namespace

SliverDigest sliver_digest(const BlobId& blob, uint32_t pair, SliverType type) {
    return sliver_digest_of_hash(blob_hash(blob), pair, type);
}

Sliver encode_sliver(const BlobId& blob, uint32_t pair, SliverType type) {
    return Sliver{pair, type, sliver_digest(blob, pair, type)};
}

BlobMetadata BlobMetadata::compute(const BlobId& blob, uint32_t n_shards) {
    BlobMetadata metadata;
    metadata.blob_id = blob;
    metadata.n_shards = n_shards;
    const uint64_t hash = blob_hash(blob);
    metadata.primary.reserve(n_shards);
    metadata.secondary.reserve(n_shards);
    for (uint32_t pair = 0; pair < n_shards; ++pair) {
        metadata.primary.push_back(sliver_digest_of_hash(hash, pair, SliverType::primary));
        metadata.secondary.push_back(sliver_digest_of_hash(hash, pair, SliverType::secondary));
    }
    if (blob.has_inconsistent_encoding()) {
        metadata.primary[inconsistent_pair(blob, n_shards)] ^= 0x6261642068617368ULL;  // garbage
    }
    return metadata;
}

uint32_t inconsistent_pair(const BlobId& blob, uint32_t n_shards) {
    FLOE_ASSERT(blob.has_inconsistent_encoding(), "blob {} is encoded consistently",
                blob.short_hex());
    return static_cast<uint32_t>(mix(blob_hash(blob), 0x1badULL) % n_shards);
}

bool verify_inconsistency_proof(const InconsistencyProof& proof, const BlobMetadata& metadata) {
    return proof.blob == metadata.blob_id && proof.pair < metadata.n_shards &&
           proof.decoded == sliver_digest(proof.blob, proof.pair, proof.type) &&
           !metadata.verifies(Sliver{proof.pair, proof.type, proof.decoded});
}

bool BlobMetadata::verifies(const Sliver& sliver) const {
    if (sliver.pair >= n_shards) {
        return false;
    }
    const auto& digests = sliver.type == SliverType::primary ? primary : secondary;
    return digests[sliver.pair] == sliver.digest;
}

std::string BlobMetadata::encode() const {
    std::string out(blob_id.bytes.begin(), blob_id.bytes.end());
    put_u64(out, n_shards);
    for (uint32_t pair = 0; pair < n_shards; ++pair) {
        put_u64(out, primary[pair]);
        put_u64(out, secondary[pair]);
    }
    return out;
}

namespace {
constexpr uint64_t compact_flag = uint64_t{1} << 63;  // no full encoding has n this large
}  // namespace

std::string BlobMetadata::encode_compact() const {
    std::string out(blob_id.bytes.begin(), blob_id.bytes.end());
    put_u64(out, compact_flag | n_shards);
    return out;
}

std::optional<BlobMetadata> BlobMetadata::decode(const std::string& bytes) {
    if (bytes.size() < 40) {
        return std::nullopt;
    }
    BlobMetadata metadata;
    std::copy(bytes.begin(), bytes.begin() + 32, metadata.blob_id.bytes.begin());
    const uint64_t n = get_u64(bytes, 32);
    if ((n & compact_flag) != 0) {
        const uint64_t shards = n & ~compact_flag;
        if (bytes.size() != 40 || shards == 0 || shards > UINT32_MAX) {
            return std::nullopt;
        }
        return compute(metadata.blob_id, static_cast<uint32_t>(shards));
    }
    metadata.n_shards = static_cast<uint32_t>(n);
    if (bytes.size() != 40 + 16 * static_cast<size_t>(metadata.n_shards)) {
        return std::nullopt;
    }
    for (uint32_t pair = 0; pair < metadata.n_shards; ++pair) {
        metadata.primary.push_back(get_u64(bytes, 40 + 16 * pair));
        metadata.secondary.push_back(get_u64(bytes, 48 + 16 * pair));
    }
    return metadata;
}

RecoverySymbol make_recovery_symbol(const BlobId& blob, uint32_t target_pair,
                                    SliverType target_type, ShardIndex source_shard,
                                    const Sliver& source_sliver) {
    FLOE_ASSERT(source_sliver.type == orthogonal(target_type), "a {} symbol comes from a {} sliver",
                sliver_type_name(target_type), sliver_type_name(orthogonal(target_type)));
    const uint64_t mask =
        symbol_mask(blob, target_pair, target_type, source_shard, source_sliver.digest);
    return RecoverySymbol{source_shard, sliver_digest(blob, target_pair, target_type) ^ mask};
}

std::optional<Sliver> decode_sliver(const BlobId& blob, uint32_t target_pair,
                                    SliverType target_type, const EncodingParams& params,
                                    const std::vector<RecoverySymbol>& symbols) {
    // Distinct shards only: a second symbol from one shard adds no information.
    std::map<ShardIndex, uint64_t> by_shard;
    for (const RecoverySymbol& symbol : symbols) {
        by_shard.emplace(symbol.source_shard, symbol.value);
    }
    if (by_shard.size() < params.symbols_to_recover(target_type)) {
        return std::nullopt;
    }
    std::optional<SliverDigest> decoded;
    for (const auto& [shard, value] : by_shard) {
        const uint32_t source_pair = pair_index(shard, params.n_shards, blob);
        const SliverDigest source_digest =
            sliver_digest(blob, source_pair, orthogonal(target_type));
        const SliverDigest candidate =
            value ^ symbol_mask(blob, target_pair, target_type, shard, source_digest);
        if (decoded.has_value() && *decoded != candidate) {
            return std::nullopt;  // inconsistent symbols
        }
        decoded = candidate;
    }
    // Counted again from the raw symbols against the spec's threshold, so a decoder that accepts
    // too few distinct sources (a wrong threshold, shards counted twice) aborts the run rather
    // than store a sliver no RedStuff decoder could have rebuilt.
    std::set<ShardIndex> sources;
    for (const RecoverySymbol& symbol : symbols) {
        sources.insert(symbol.source_shard);
    }
    FLOE_ASSERT(sources.size() >= spec_recovery_threshold(target_type, params.n_shards),
                "{} sliver {} of blob {} decoded from {} distinct source shards, fewer than the "
                "{} needed (§6.4)",
                sliver_type_name(target_type), target_pair, blob.short_hex(), sources.size(),
                spec_recovery_threshold(target_type, params.n_shards));
    return Sliver{target_pair, target_type, *decoded};
}

std::string encode_sliver_value(const Sliver& sliver) {
    std::string out;
    put_u64(out, (static_cast<uint64_t>(sliver.pair) << 8) | static_cast<uint64_t>(sliver.type));
    put_u64(out, sliver.digest);
    return out;
}

std::optional<Sliver> decode_sliver_value(const std::string& bytes) {
    if (bytes.size() != 16) {
        return std::nullopt;
    }
    const uint64_t head = get_u64(bytes, 0);
    const auto type = static_cast<uint8_t>(head & 0xff);
    if (type > 1) {
        return std::nullopt;
    }
    return Sliver{static_cast<uint32_t>(head >> 8), static_cast<SliverType>(type),
                  get_u64(bytes, 8)};
}

}  // namespace walrus
