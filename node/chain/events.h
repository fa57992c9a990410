#pragma once
// The chain's event stream (walrus-recovery-spec.md §1 "Events", §5): one ordered stream,
// indexed 0, 1, 2, ... Storage nodes consume it strictly in order and persist a cursor into it.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "node/types.h"

namespace walrus {

struct BlobRegistered {
    BlobId blob_id;
    uint64_t object_id = 0;
    bool deletable = false;
    Epoch end_epoch = 0;
    bool operator==(const BlobRegistered&) const = default;
};

struct BlobCertified {
    BlobId blob_id;
    uint64_t object_id = 0;
    bool deletable = false;
    Epoch end_epoch = 0;
    bool is_extension = false;
    // The epoch the object was first certified in. For a first certification it equals
    // ChainEvent::epoch; an extension carries the original epoch, as `blob.move::emit_certified`
    // does ("the committee that has a quorum that hold the resource").
    Epoch certified_epoch = 0;
    bool operator==(const BlobCertified&) const = default;
};

struct BlobDeleted {
    BlobId blob_id;
    uint64_t object_id = 0;
    Epoch end_epoch = 0;
    bool was_certified = false;
    bool operator==(const BlobDeleted&) const = default;
};

struct InvalidBlobId {
    BlobId blob_id;
    bool operator==(const InvalidBlobId&) const = default;
};

// voting_end of the chain epoch selected the committee of `next_epoch` (§1.1).
struct EpochParametersSelected {
    Epoch next_epoch = 0;
    bool operator==(const EpochParametersSelected&) const = default;
};

// advance_epoch: `epoch` is now current and its committee must sync (§1.1).
struct EpochChangeStart {
    Epoch epoch = 0;
    bool operator==(const EpochChangeStart&) const = default;
};

// A quorum of shards attested `epoch` with epoch_sync_done (§1.1).
struct EpochChangeDone {
    Epoch epoch = 0;
    bool operator==(const EpochChangeDone&) const = default;
};

// One successful epoch_sync_done(epoch) by `node`, holding `shards` in that epoch.
struct ShardsReceived {
    Epoch epoch = 0;
    NodeIndex node = 0;
    std::vector<ShardIndex> shards;
    bool operator==(const ShardsReceived&) const = default;
};

using ChainEventBody =
    std::variant<BlobRegistered, BlobCertified, BlobDeleted, InvalidBlobId, EpochParametersSelected,
                 EpochChangeStart, EpochChangeDone, ShardsReceived>;

struct ChainEvent {
    EventIndex index = 0;
    Epoch epoch = 0;  // the chain's epoch when the event was emitted
    ChainEventBody body;
    bool operator==(const ChainEvent&) const = default;
};

// "BlobCertified", "EpochChangeStart", ...
std::string_view event_name(const ChainEvent& event);
// One line of stable text for traces, e.g. "#7 e2 EpochChangeDone epoch=2".
std::string describe(const ChainEvent& event);

}  // namespace walrus
