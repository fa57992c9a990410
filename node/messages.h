#pragma once
// RPC messages between storage nodes, the chain and clients. Each request type is served under
// one method name (the string constants below); payloads are C++ values moved through the
// simulated network.

#include <optional>
#include <string>
#include <vector>

#include "node/chain/chain.h"
#include "node/chain/events.h"
#include "node/encoding.h"
#include "node/recovery_stats.h"
#include "node/status.h"
#include "node/types.h"
#include "sim/runtime.h"

namespace walrus {

// Where everybody lives on the simulated network.
struct Directory {
    sim::HostId chain = 0;
    std::vector<sim::HostId> nodes;  // by NodeIndex
};

namespace method {
inline const std::string read_events = "chain.read_events";
inline const std::string committees = "chain.committees";
inline const std::string sync_done = "chain.epoch_sync_done";
inline const std::string blob_op = "chain.blob_op";
inline const std::string store_blob = "node.store_blob";
inline const std::string get_metadata = "node.get_metadata";
inline const std::string get_sliver = "node.get_sliver";
inline const std::string missing_slivers = "node.missing_slivers";
inline const std::string recovery_symbols = "node.recovery_symbols";
inline const std::string health = "node.health";
inline const std::string consistency = "node.consistency";
inline const std::string sync_shard = "node.sync_shard";
inline const std::string invalid_blob_attestation = "node.invalid_blob_attestation";
}  // namespace method

// --- chain ---------------------------------------------------------------------------------------

struct ReadEvents {
    EventIndex from = 0;
    uint32_t max = 100;
};

struct CommitteesRequest {
    Epoch epoch = 0;  // 0: the latest
};
struct CommitteesReply {
    Epoch chain_epoch = 0;
    // The chain is between EpochChangeStart and EpochChangeDone of chain_epoch (Walrus's
    // ActiveCommittees::is_transitioning).
    bool transitioning = false;
    std::optional<Committee> committee;  // the committee of the requested epoch, if known
    // Walrus EpochState::start_of_current_epoch: the EpochChangeDone time of chain_epoch; none
    // while transitioning (GC phase 2's delay counts from it, §4.1).
    std::optional<sim::Instant> epoch_start;
};

struct SyncDoneRequest {
    NodeIndex node = 0;
    Epoch epoch = 0;
};
struct SyncDoneReply {
    std::optional<SyncDoneError> error;
    Epoch chain_epoch = 0;
};

struct BlobOp {
    enum class Kind : uint8_t { register_blob, certify, extend, remove, object, invalidate } kind;
    BlobId blob_id;
    uint64_t object_id = 0;
    bool deletable = false;
    Epoch end_epoch = 0;
    // invalidate: the invalid-blob certificate's epoch and its signers' shard weight.
    Epoch cert_epoch = 0;
    uint32_t cert_weight = 0;
};
struct BlobOpReply {
    std::optional<BlobError> error;
    uint64_t object_id = 0;
    Epoch chain_epoch = 0;
    std::optional<BlobObject> object;
};

// --- storage nodes -------------------------------------------------------------------------------

enum class StoreBlobError : uint8_t {
    not_registered,  // the node has not seen the blob registered (yet)
    invalid_blob,
    bad_sliver,  // does not verify against the metadata
    not_owner,   // the node does not own the shard at its current epoch
    storage,     // the write failed
};
const char* store_blob_error_name(StoreBlobError error);

struct StoreBlobRequest {
    BlobMetadata metadata;
    struct ShardSlivers {
        ShardIndex shard = 0;
        Sliver primary;
        Sliver secondary;
    };
    std::vector<ShardSlivers> slivers;
};
struct StoreBlobReply {
    std::optional<StoreBlobError> error;
    std::vector<ShardIndex> stored_shards;
};

struct GetMetadata {
    BlobId blob_id;
};
struct GetSliver {
    BlobId blob_id;
    ShardIndex shard = 0;
    SliverType type = SliverType::primary;
};

// An operator's inventory check (the harness's final convergence check uses it): which of these
// slivers does the node not hold? One request answers for many blobs and shards at one instant,
// so the answer cannot straddle an epoch change the way thousands of get_sliver calls would.
struct MissingSlivers {
    std::vector<BlobId> blobs;
    std::vector<ShardIndex> shards;
};
struct MissingSliver {
    BlobId blob_id;
    ShardIndex shard = 0;
    SliverType type = SliverType::primary;
};
struct RecoverySymbolsRequest {
    BlobId blob_id;
    uint32_t target_pair = 0;
    SliverType target_type = SliverType::primary;
};

struct HealthRequest {};
struct ShardHealth {
    ShardIndex shard = 0;
    ShardStatus status = ShardStatus::none;
    std::string api_status;  // Unknown, Ready, InTransfer, InRecovery, ReadOnly
};
struct HealthInfo {
    std::string node_status;
    NodeStatus status;
    std::optional<Epoch> event_epoch;
    EventIndex persisted_cursor = 0;
    std::vector<ShardHealth> owned_shards;  // owned at the latest committee
    // Every shard whose storage exists here, owned or not (§3.3 `exist`): a lost shard stays
    // until the finisher removes it (§7.7), so this must be within owned(E-1) ∪ owned(E).
    std::vector<ShardIndex> existing_shards;
    size_t blob_syncs_in_progress = 0;
    // Shard sync since this incarnation booted (§8).
    size_t shard_syncs_running = 0;
    uint64_t transferred_slivers = 0;
    uint64_t recovered_slivers = 0;
    // Inconsistency proofs filed (invalid blobs), by shard sync and by blob syncs.
    uint64_t shard_sync_inconsistency_proofs = 0;
    uint64_t blob_sync_inconsistency_proofs = 0;
    uint64_t direct_recoveries = 0;
    // Node recovery (§9) and the outcomes of event-path blob syncs, this incarnation.
    NodeRecoveryStats recovery;
    bool recovery_running = false;
    uint64_t event_syncs_succeeded = 0;
    uint64_t event_syncs_cancelled = 0;
    uint64_t event_syncs_skipped = 0;
};

// §8.5 server side: a batch of a shard's slivers for the node that gained the shard.
struct SyncShardRequest {
    NodeIndex requester = 0;
    ShardIndex shard = 0;
    SliverType type = SliverType::primary;
    BlobId start;  // Included(start)
    uint32_t count = 0;
    Epoch epoch = 0;
};
enum class SyncShardError : uint8_t {
    invalid_epoch,       // request.epoch != the server's current committee epoch
    unauthorized,        // the requester does not own the shard in the current committee
    too_many_slivers,    // count > max_sliver_count_per_sync_request
    shard_not_assigned,  // the server no longer has the shard
    injected,            // fail_point_sync_shard_return_error
    storage,             // the batch's read failed: the shard was removed while it waited
};
const char* sync_shard_error_name(SyncShardError error);
struct SyncShardReply {
    std::optional<SyncShardError> error;
    Epoch server_epoch = 0;
    std::vector<std::pair<BlobId, Sliver>> slivers;  // in blob-id order
};

// SubmitProofForInvalidBlobAttestation (Walrus node.rs verify_inconsistency_proof): a node that
// holds the blob's metadata and finds the proof valid signs InvalidBlobIdMsg(its committee
// epoch, blob). The reply names the epoch signed and the signer's shards in it.
struct InvalidBlobAttestationRequest {
    InconsistencyProof proof;
    Epoch epoch = 0;  // the requester's committee epoch
};
struct InvalidBlobAttestation {
    NodeIndex node = 0;
    Epoch epoch = 0;
};

// §12 BlobInfoConsistencyCheck: what a node reports per epoch, computed when it processes
// EpochChangeStart(E) live (not replayed).
struct ConsistencyRequest {
    Epoch epoch = 0;
};
struct ConsistencyReport {
    Epoch epoch = 0;
    uint64_t certified_digest = 0;  // digest of the certified-before-E blob ids, in id order
    uint64_t certified_count = 0;
    bool was_active = false;
    uint64_t checked = 0;  // certified blobs checked for existence (in-flight syncs excluded)
    uint64_t stored = 0;   // ... of which stored at all Active shards
    uint64_t errors = 0;   // ... of which a read error left unknown (Walrus counts, logs, goes on)
};
struct ConsistencyReply {
    std::optional<ConsistencyReport> report;  // none if the node has not reported this epoch
};

}  // namespace walrus
