#pragma once
// Aggregate blob info (walrus-recovery-spec.md §4.1): one record per blob id, updated by every
// blob event in event order. Several Sui objects can register and certify the same blob id, so
// the record keeps counts and the latest end epochs rather than one object's state.

#include <cstdint>
#include <optional>
#include <string>

#include "node/types.h"

namespace walrus {

struct PermanentInfo {
    uint32_t count = 0;
    Epoch end_epoch = 0;
    bool operator==(const PermanentInfo&) const = default;
};

struct BlobInfo {
    bool invalid = false;
    Epoch invalid_epoch = 0;
    bool is_metadata_stored = false;
    uint32_t count_deletable_total = 0;
    uint32_t count_deletable_certified = 0;
    std::optional<PermanentInfo> permanent_total;
    std::optional<PermanentInfo> permanent_certified;
    std::optional<Epoch> initial_certified_epoch;
    Epoch latest_seen_deletable_registered_end_epoch = 0;
    Epoch latest_seen_deletable_certified_end_epoch = 0;
    // The index of the latest BlobCertified event this node applied (Walrus keeps the event of
    // the latest certified object in PermanentBlobInfo.event). Set by the node, not a merge
    // operand: while it is at or after the node's persisted event cursor, the event path still
    // owes the blob's sync (§5: the event is replayed after a crash).
    std::optional<EventIndex> latest_certify_event;

    // §4.1: certified at epoch e while valid, first certified at or before e, and some
    // certified object (permanent, or a deletable one) has not expired at e.
    bool is_certified(Epoch e) const;
    bool is_registered(Epoch e) const;
    bool can_data_be_deleted(Epoch e) const { return !is_registered(e); }

    // The merge operands of §4.1, applied in event order.
    void apply_register(bool deletable, Epoch end_epoch);
    void apply_certify(Epoch epoch, bool deletable, Epoch end_epoch, bool is_extension);
    void apply_delete(bool was_certified);
    void apply_invalidate(Epoch epoch);
    void mark_metadata_stored() { is_metadata_stored = true; }

    std::string encode() const;
    static std::optional<BlobInfo> decode(const std::string& bytes);
    bool operator==(const BlobInfo&) const = default;
};

// §4.2: the certified-blob iterator yields a blob iff it was first certified before `epoch`
// and is still certified at `epoch`. Blobs certified at or after `epoch` are the event path's
// job.
inline bool certified_before_epoch(const BlobInfo& info, Epoch epoch) {
    return info.initial_certified_epoch.has_value() && *info.initial_certified_epoch < epoch &&
           info.is_certified(epoch);
}

// The digest of a list of certified blob ids, in id order (§12: nodes and the checker compute
// it the same way, so their lists can be compared by one number).
struct BlobIdDigest {
    uint64_t value = 0xcbf29ce484222325ULL;
    uint64_t count = 0;
    void add(const BlobId& blob) {
        for (uint8_t byte : blob.bytes) {
            value = (value ^ byte) * 0x100000001b3ULL;
        }
        ++count;
    }
};

}  // namespace walrus
