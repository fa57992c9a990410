#pragma once
// The simulated Sui contract: stake, committees, the epoch state machine and blob objects
// (walrus-recovery-spec.md §1.1, §18). Pure logic: always available, never fails by itself, and
// time only moves when the caller passes a later instant. Every state change appends to one
// ordered event stream (§5).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "node/chain/events.h"
#include "node/types.h"
#include "sim/result.h"
#include "sim/time.h"

namespace walrus {

struct ChainConfig {
    uint32_t n_shards = 13;
    sim::Duration epoch_duration = sim::Duration::seconds(30);
};

// §1.1 `EpochState`. The instant of change_done and next_params_selected is the time the quorum
// of attestations was reached; both later deadlines are measured from it.
enum class EpochState : uint8_t { change_sync, change_done, next_params_selected };
const char* epoch_state_name(EpochState state);

// epoch_sync_done aborts, checked in this order (§1.1).
enum class SyncDoneError : uint8_t { invalid_sync_epoch, duplicate_sync_done, not_in_committee };
const char* sync_done_error_name(SyncDoneError error);

enum class BlobError : uint8_t {
    unknown_object,     // no live object with that id (never registered, or deleted)
    already_certified,  // certify of a certified object
    not_certified,      // extend of an object that was never certified
    expired,            // end_epoch <= current epoch
    not_deletable,      // delete of a permanent object
    not_permanent,      // extend of a deletable object
    bad_end_epoch,      // register: end_epoch <= current epoch; extend: not after the old end
    invalid_blob,       // register of a blob id that was declared invalid
    // invalidate_blob_id (system_state_inner.move): the certificate is not of the current epoch
    // (EInvalidIdEpoch), or its signers hold too few shards (verify_one_correct_node_in_epoch).
    invalid_id_epoch,
    not_enough_weight,
};
const char* blob_error_name(BlobError error);

// One registration of a blob: a Sui object with its own id (`blob.move::Blob`).
struct BlobObject {
    uint64_t object_id = 0;
    BlobId blob_id;
    bool deletable = false;
    Epoch registered_epoch = 0;
    Epoch end_epoch = 0;                   // exclusive: stored while current epoch < end_epoch
    std::optional<Epoch> certified_epoch;  // the epoch it was first certified in
    bool operator==(const BlobObject&) const = default;
};

class Chain {
public:
    // Genesis: nodes 0..initial_stakes.size()-1 exist forever; epoch 1's committee comes from
    // the initial stakes, and epoch 1 starts in change_sync like every later epoch (event 0 is
    // EpochChangeStart{1}), so its committee attests it with epoch_sync_done.
    Chain(ChainConfig config, std::vector<uint64_t> initial_stakes);

    const ChainConfig& config() const { return config_; }
    uint32_t n_nodes() const { return static_cast<uint32_t>(stakes_.size()); }

    // --- Epochs (§1.1) -------------------------------------------------------------------------

    Epoch current_epoch() const { return epoch_; }
    EpochState state() const { return state_; }
    // Time of the EpochChangeDone of the current epoch; only in change_done and
    // next_params_selected.
    sim::Instant epoch_change_done_time() const;
    // Shard weight attested for the current epoch so far (including attestations after quorum).
    uint32_t attested_weight() const { return attested_weight_; }
    bool has_attested(NodeIndex node, Epoch epoch) const;

    // `node` says it holds all data of its shards for `epoch`. Performs the transitions due at
    // `now` first, so an attestation is judged against the epoch the chain is really in.
    sim::Result<sim::Unit, SyncDoneError> epoch_sync_done(NodeIndex node, Epoch epoch,
                                                          sim::Instant now);
    // Performs every time-driven transition due at or before `now` (voting_end at t + d/2,
    // advance_epoch at t + d, t = EpochChangeDone time). `now` never goes backwards.
    void advance_time(sim::Instant now);
    // When the next time-driven transition becomes due; never in change_sync (only attestations
    // move the chain on).
    sim::Instant next_deadline() const;

    // --- Stake and committees (§18) -----------------------------------------------------------

    // A stake change counts at the next voting_end: before voting_end of E it shapes the
    // committee of E+1, after it that of E+2 (§1.1 consequence b).
    void add_stake(NodeIndex node, uint64_t amount);
    // Withdraws stake (all of it: the node leaves the next committee it can shape). Asserts the
    // node has that much and that some stake remains in the system.
    void withdraw_stake(NodeIndex node, uint64_t amount);
    uint64_t stake(NodeIndex node) const;

    const Committee& current_committee() const;
    std::optional<Committee> previous_committee() const;  // none in epoch 1
    std::optional<Committee> next_committee() const;      // set from voting_end on
    // Every committee ever selected, by epoch (1 .. current, plus the next one once selected).
    std::optional<Committee> committee_at(Epoch epoch) const;

    // --- Blob objects (`blob.move`) -----------------------------------------------------------

    sim::Result<uint64_t, BlobError> register_blob(BlobId blob_id, bool deletable, Epoch end_epoch);
    sim::Result<sim::Unit, BlobError> certify_blob(uint64_t object_id);
    sim::Result<sim::Unit, BlobError> extend_blob(uint64_t object_id, Epoch new_end_epoch);
    sim::Result<sim::Unit, BlobError> delete_blob(uint64_t object_id);
    // invalidate_blob_id with an invalid-blob certificate of `cert_epoch` signed by nodes that
    // hold `cert_weight` shards in it: needs the current epoch and one correct signer
    // (3 * weight >= n_shards + 1). Emits InvalidBlobId on every accepted call, as the contract
    // does (no deduplication: each node that files a proof adds an event).
    sim::Result<sim::Unit, BlobError> invalidate_blob(BlobId blob_id, Epoch cert_epoch,
                                                      uint32_t cert_weight);
    bool is_invalid(const BlobId& blob_id) const { return invalid_blobs_.contains(blob_id); }
    std::optional<BlobObject> object(uint64_t object_id) const;

    // --- Events (§5) --------------------------------------------------------------------------

    const std::vector<ChainEvent>& events() const { return events_; }
    EventIndex next_event_index() const { return events_.size(); }

private:
    void emit(ChainEventBody body);
    void voting_end();
    void advance_epoch();
    std::vector<uint32_t> select_counts() const;

    ChainConfig config_;
    std::vector<uint64_t> stakes_;  // by node index

    Epoch epoch_ = 1;
    EpochState state_ = EpochState::change_sync;
    sim::Instant change_done_time_;  // t of change_done(t) / next_params_selected(t)
    sim::Instant now_;               // the latest instant seen; time never goes backwards
    uint32_t attested_weight_ = 0;
    std::set<std::pair<Epoch, NodeIndex>> attestations_;  // every successful epoch_sync_done

    std::map<Epoch, Committee> committees_;

    std::map<uint64_t, BlobObject> objects_;  // live objects only
    uint64_t next_object_id_ = 1;
    std::set<BlobId> invalid_blobs_;

    std::vector<ChainEvent> events_;
};

}  // namespace walrus
