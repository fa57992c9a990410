#pragma once
// Aggregate blob info (walrus-recovery-spec.md §4.1): one record per blob id, updated by every
// blob event in event order. Several Sui objects can register and certify the same blob id, so
// the record keeps counts and the latest end epochs rather than one object's state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/types.h"

namespace walrus {

struct PermanentInfo {
    uint32_t count = 0;
    Epoch end_epoch = 0;
    bool operator==(const PermanentInfo&) const = default;
};

// One change to a blob's info, as written to the blob_info column family: RocksDB merges the
// operands of a key in write order (Walrus BlobInfoMergeOperand, node/storage/blob_info.rs at
// fb097a2262: MarkMetadataStored, MarkInvalid, ChangeStatus{Register, Certify, Extend, Delete}).
// A writer never reads the record to change it, so a change cannot overwrite a concurrent one.
struct BlobInfoMergeOperand {
    enum class Kind : uint8_t {
        mark_metadata_stored = 1,
        mark_invalid = 2,   // epoch
        register_blob = 3,  // deletable, end_epoch
        certify = 4,        // epoch, deletable, end_epoch, is_extension, event
        delete_blob = 5,    // was_certified
        expire = 6,         // deletable, was_certified (GC phase 1: one object expired)
    };
    Kind kind = Kind::mark_metadata_stored;
    bool deletable = false;
    bool is_extension = false;
    bool was_certified = false;
    Epoch epoch = 0;
    Epoch end_epoch = 0;
    // certify: the BlobCertified event's index, recorded as latest_certify_event (Walrus keeps
    // the status event in the operand's BlobStatusChangeInfo).
    EventIndex event = 0;

    static BlobInfoMergeOperand mark_metadata_stored() { return {}; }
    static BlobInfoMergeOperand mark_invalid(Epoch epoch);
    static BlobInfoMergeOperand register_blob(bool deletable, Epoch end_epoch);
    static BlobInfoMergeOperand certify(Epoch epoch, bool deletable, Epoch end_epoch,
                                        bool is_extension, EventIndex event);
    static BlobInfoMergeOperand delete_blob(bool was_certified);
    static BlobInfoMergeOperand expire(bool deletable, bool was_certified);

    std::string encode() const;
    static std::optional<BlobInfoMergeOperand> decode(std::string_view bytes);
    bool operator==(const BlobInfoMergeOperand&) const = default;
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
    // the latest certified object in PermanentBlobInfo.event). Carried by the certify operand:
    // while it is at or after the node's persisted event cursor, the event path still owes the
    // blob's sync (§5: the event is replayed after a crash).
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
    void apply_expire(bool deletable, bool was_certified);
    void apply_invalidate(Epoch epoch);
    void mark_metadata_stored() { is_metadata_stored = true; }
    // Applies one operand (the apply_* above; certify also sets latest_certify_event). Asserts
    // like them when the operand does not apply.
    void apply(const BlobInfoMergeOperand& operand);
    // The merge operator's form: never asserts (it may run on a RocksDB background thread);
    // false, and *this unchanged, when the operand does not apply (a delete without the object
    // it deletes, an extension of a deletable blob).
    [[nodiscard]] bool try_apply(const BlobInfoMergeOperand& operand);

    // GC phase 2 (can_blob_info_be_deleted): no object left and nothing registered; an invalid
    // record is kept, since nobody knows how many deletable objects it still has.
    bool can_be_deleted(Epoch e) const {
        return !invalid && count_deletable_total == 0 && !permanent_total.has_value() &&
               can_data_be_deleted(e);
    }

    std::string encode() const;
    static std::optional<BlobInfo> decode(std::string_view bytes);
    bool operator==(const BlobInfo&) const = default;

private:
    void remove_deletable(bool was_certified);
    void maybe_unset_initial_certified_epoch();
};

// The blob_info column family's full merge (Walrus merge_mergeable::<BlobInfo>): the stored
// value (an absent one is BlobInfo{}), then every operand in write order. A pure function of
// the bytes: RocksDB calls it from a read on the node's fiber or from a flush or compaction on
// its own threads, so it touches no simulator state and asserts nothing. Folding operands one
// by one makes it associative: merging a prefix into a value and the rest later gives the same
// bytes as merging them all at once, whenever RocksDB does either. nullopt when the value or an
// operand does not decode or an operand does not apply (RocksDB then reports corruption).
std::optional<std::string> merge_blob_info(std::optional<std::string_view> existing,
                                           const std::vector<std::string_view>& operands);

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
