#pragma once
// The encoding model (RedStuff, reduced to what recovery depends on). A blob is encoded into n
// sliver pairs; the shard s stores the pair at index (s + rotation(blob)) mod n (§1). A sliver's
// content is a digest of (blob id, pair index, kind), and the blob's metadata holds every
// digest, so a node can check a sliver it received or rebuilt.
//
// Recovery (§1, §6.4): rebuilding a primary sliver takes n - f recovery symbols and a secondary
// n - 2f, each from a distinct shard whose node holds the blob there. A symbol for a primary
// sliver comes from the source shard's secondary sliver and vice versa (the two dimensions are
// orthogonal), so a source that lacks the blob cannot help. The decoder needs the threshold
// number of symbols that agree; the result is checked against the metadata before it is stored.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "node/types.h"

namespace walrus {

struct EncodingParams {
    uint32_t n_shards = 0;
    uint32_t f() const { return max_faulty(n_shards); }
    // §1: source symbols; recovery of a primary sliver needs n - f symbols, a secondary n - 2f.
    uint32_t primary_source_symbols() const { return n_shards - 2 * f(); }
    uint32_t secondary_source_symbols() const { return n_shards - f(); }
    // A sliver is rebuilt from symbols of the orthogonal dimension, so it takes as many symbols
    // as that dimension has source symbols.
    uint32_t symbols_to_recover(SliverType type) const {
        return type == SliverType::primary ? secondary_source_symbols() : primary_source_symbols();
    }
};

uint32_t pair_index(ShardIndex shard, uint32_t n_shards, const BlobId& blob);
// The shard that stores a given pair index of a blob (inverse of pair_index).
ShardIndex shard_for_pair(uint32_t pair, uint32_t n_shards, const BlobId& blob);

using SliverDigest = uint64_t;
SliverDigest sliver_digest(const BlobId& blob, uint32_t pair, SliverType type);

struct Sliver {
    uint32_t pair = 0;
    SliverType type = SliverType::primary;
    SliverDigest digest = 0;
    bool operator==(const Sliver&) const = default;
};

// The blob's metadata: the digest of every sliver, by pair index.
struct BlobMetadata {
    BlobId blob_id;
    uint32_t n_shards = 0;
    std::vector<SliverDigest> primary;
    std::vector<SliverDigest> secondary;

    static BlobMetadata compute(const BlobId& blob, uint32_t n_shards);
    bool verifies(const Sliver& sliver) const;
    // The stored bytes, as Walrus stores them: the id, n and every digest.
    std::string encode() const;
    // A simulation economy (NodeConfig::compact_metadata): 40 bytes standing for
    // compute(blob_id, n_shards), the id and n with its top bit set. Only for metadata that is
    // exactly that; decode rebuilds it.
    std::string encode_compact() const;
    // Either form; nullopt for bytes that are neither.
    static std::optional<BlobMetadata> decode(const std::string& bytes);
    bool operator==(const BlobMetadata&) const = default;
};

// All 2n slivers of a blob, as the writer produces them.
Sliver encode_sliver(const BlobId& blob, uint32_t pair, SliverType type);

// Inconsistent encoding (Walrus walrus-core inconsistency.rs, "locally inconsistent" blobs; the
// E2E test test_inconsistency): the metadata of a blob with BlobId::has_inconsistent_encoding
// holds a wrong hash for the primary sliver of one pair. The writer's sliver there does not
// verify, so that pair's owner rejects it at upload; everyone else accepts the rest and the blob
// can be certified. Rebuilding that sliver from recovery symbols gives the encoding's sliver,
// which the metadata rejects: an inconsistency proof instead of a sliver.
uint32_t inconsistent_pair(const BlobId& blob, uint32_t n_shards);

// What a node that rebuilt a sliver its metadata rejects can show others (Walrus
// InconsistencyProof: the symbols and their proofs; here the decoded sliver's digest, which any
// node holding the metadata can recompute from the encoding).
struct InconsistencyProof {
    BlobId blob;
    uint32_t pair = 0;
    SliverType type = SliverType::primary;
    SliverDigest decoded = 0;
    bool operator==(const InconsistencyProof&) const = default;
};
// Walrus InconsistencyProof::verify: the symbols decode to `decoded`, and the metadata rejects
// it (MerkleRootMismatch).
bool verify_inconsistency_proof(const InconsistencyProof& proof, const BlobMetadata& metadata);

// What sliver recovery ends with (Walrus recover_sliver_or_generate_inconsistency_proof).
using RecoveredSliver = std::variant<Sliver, InconsistencyProof>;

// A recovery symbol for (blob, target pair, target type) produced by `source_shard` from the
// orthogonal sliver it stores.
struct RecoverySymbol {
    ShardIndex source_shard = 0;
    uint64_t value = 0;
};
// Produces a symbol; `source_sliver` must be the source shard's orthogonal sliver of the blob.
RecoverySymbol make_recovery_symbol(const BlobId& blob, uint32_t target_pair,
                                    SliverType target_type, ShardIndex source_shard,
                                    const Sliver& source_sliver);
// Decodes once `symbols` holds at least the threshold from distinct shards that agree; nullopt
// otherwise. The caller still checks the result against the metadata.
std::optional<Sliver> decode_sliver(const BlobId& blob, uint32_t target_pair,
                                    SliverType target_type, const EncodingParams& params,
                                    const std::vector<RecoverySymbol>& symbols);

std::string encode_sliver_value(const Sliver& sliver);
std::optional<Sliver> decode_sliver_value(const std::string& bytes);

}  // namespace walrus
