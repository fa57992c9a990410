#pragma once
// The chain's own answer to "which blobs must the committee hold at epoch e", computed from the
// Sui objects' lifecycles in the event stream, independently of the storage node's aggregate
// blob info (walrus-recovery-spec.md §4.1). A node's aggregate over-approximates it by design
// (counts and the latest seen end epoch, cleaned up only by GC phase 1), so a checker that
// replays the node's own merges can never notice an aggregate that says "certified" for a blob
// whose objects all expired or were deleted. This oracle can: a blob is certified at e iff some
// object of it is live (registered, not deleted), certified, and not expired at e (end_epoch >
// e), and the blob was not declared invalid.

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "node/blob_info.h"
#include "node/chain/events.h"
#include "node/types.h"

namespace floe::scenarios {

class BlobTruth {
public:
    // Every event before EpochChangeStart(`until`), or all of them when `until` is unset.
    static BlobTruth from_events(const std::vector<walrus::ChainEvent>& events,
                                 std::optional<walrus::Epoch> until = std::nullopt);

    // Some live certified object of the blob has end_epoch > e, and the blob is valid.
    bool certified_at(const walrus::BlobId& blob, walrus::Epoch e) const;
    // Some live object (certified or not) of the blob has end_epoch > e, and the blob is valid:
    // while this holds, no node may delete the blob's data (§4.1 can_data_be_deleted).
    bool registered_at(const walrus::BlobId& blob, walrus::Epoch e) const;
    bool invalid(const walrus::BlobId& blob) const { return invalid_.contains(blob); }
    // Every blob certified at e, in id order.
    std::vector<walrus::BlobId> certified_blobs(walrus::Epoch e) const;
    // Every blob that ever had an object, in id order.
    std::vector<walrus::BlobId> known_blobs() const;

private:
    struct Object {
        walrus::BlobId blob;
        walrus::Epoch end_epoch = 0;
        bool certified = false;
    };
    template <class Pred>
    bool any_live_object(const walrus::BlobId& blob, Pred pred) const;
    void apply(const walrus::ChainEvent& event);

    std::map<uint64_t, Object> live_;                       // by object id
    std::map<walrus::BlobId, std::set<uint64_t>> by_blob_;  // live object ids of each blob
    std::set<walrus::BlobId> known_;
    std::set<walrus::BlobId> invalid_;
};

// The node's view, computed apart from any node: the chain's history replayed into aggregate
// blob info exactly as a node's merges build it (§4.1), over every event before
// EpochChangeStart(`until`) (all events when unset). With `gc_phase1`, each
// EpochChangeStart(E > 1) first expires the objects that ended by E (DeletableExpired /
// PermanentExpired), as GC phase 1 does inline at that event, before the consistency report of E.
std::map<walrus::BlobId, walrus::BlobInfo> replay_node_blob_info(
    const std::vector<walrus::ChainEvent>& events, std::optional<walrus::Epoch> until,
    bool gc_phase1);

}  // namespace floe::scenarios
