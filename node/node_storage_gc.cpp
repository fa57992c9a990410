// NodeStorage's garbage-collection side (walrus-recovery-spec.md §4.1; Walrus
// node/storage/blob_info.rs process_expired_blob_objects and node/storage.rs
// delete_expired_blob_data / delete_blob_data at fb097a2262): per-object records, the two GC
// phases' writes, and GC's persisted epochs.
#include <fmt/format.h>

#include "node/node_storage.h"
#include "node/node_storage_internal.h"
#include "sim/assert.h"
#include "sim/runtime.h"

namespace walrus {
namespace {

using storage_internal::expect_ok;
using storage_internal::fixed;

const std::string gc_started_key = "last_started_epoch";
const std::string gc_completed_key = "last_completed_epoch";

std::string object_key(uint64_t object_id) {
    return encode_u64(object_id);
}

}  // namespace

std::string NodeStorage::ObjectInfo::encode() const {
    std::string out(blob.bytes.begin(), blob.bytes.end());
    out.push_back(static_cast<char>((deletable ? 1 : 0) | (certified ? 2 : 0)));
    append_u64(out, end_epoch);
    return out;
}

std::optional<NodeStorage::ObjectInfo> NodeStorage::ObjectInfo::decode(std::string_view bytes) {
    if (bytes.size() != 32 + 1 + 8 || (static_cast<uint8_t>(bytes[32]) & ~3U) != 0) {
        return std::nullopt;
    }
    ObjectInfo info;
    std::copy(bytes.begin(), bytes.begin() + 32, info.blob.bytes.begin());
    info.deletable = (bytes[32] & 1) != 0;
    info.certified = (bytes[32] & 2) != 0;
    const auto end = decode_u64(bytes.substr(33));
    if (!end.ok()) {
        return std::nullopt;
    }
    info.end_epoch = static_cast<Epoch>(end.value());
    return info;
}

std::optional<NodeStorage::ObjectInfo> NodeStorage::object_info(uint64_t object_id) const {
    const auto bytes = expect_ok(
        store_->get(fixed(Cf::per_object_blob_info), object_key(object_id)), "read object info");
    if (!bytes.has_value()) {
        return std::nullopt;
    }
    const auto info = ObjectInfo::decode(*bytes);
    FLOE_ASSERT(info.has_value(), "corrupt object info for object {}", object_id);
    return info;
}

// Walrus update_blob_info writes the per-object record with the aggregate's operand: registered,
// then certified (an extension moves the end epoch), removed at its deletion. An invalidation
// leaves it (phase 1 expires it later; the invalid aggregate ignores the operand).
void NodeStorage::add_object_change(WriteBatch& batch, const BlobInfoMergeOperand& operand,
                                    const BlobId& blob, uint64_t object_id) {
    const CfRef cf = fixed(Cf::per_object_blob_info);
    using Kind = BlobInfoMergeOperand::Kind;
    switch (operand.kind) {
        case Kind::register_blob:
            (void)batch.put(cf, object_key(object_id),
                            ObjectInfo{blob, operand.deletable, operand.end_epoch, false}.encode());
            return;
        case Kind::certify: {
            auto info = object_info(object_id);
            FLOE_ASSERT(info.has_value(), "certified object {} of blob {} was never registered",
                        object_id, blob.short_hex());
            info->certified = true;
            info->end_epoch = operand.end_epoch;
            (void)batch.put(cf, object_key(object_id), info->encode());
            return;
        }
        case Kind::delete_blob: (void)batch.remove(cf, object_key(object_id)); return;
        case Kind::mark_invalid:
        case Kind::mark_metadata_stored:
        case Kind::expire: return;
    }
    FLOE_UNREACHABLE("bad blob info operand kind {}", static_cast<int>(operand.kind));
}

std::vector<std::pair<uint64_t, NodeStorage::ObjectInfo>> NodeStorage::expired_objects(
    Epoch epoch) {
    std::vector<std::pair<uint64_t, ObjectInfo>> out;
    auto scan = expect_ok(store_->scan(fixed(Cf::per_object_blob_info)), "scan object info");
    for (; scan.valid(); scan.next()) {
        const auto info = ObjectInfo::decode(scan.value());
        FLOE_ASSERT(info.has_value(), "corrupt object info");
        // Walrus PerObjectBlobInfo::is_registered: end_epoch > epoch (and not deleted).
        if (info->end_epoch <= epoch) {
            out.emplace_back(expect_ok(decode_u64(scan.key()), "object key"), *info);
        }
    }
    return out;
}

sim::Result<sim::Unit, StoreError> NodeStorage::expire_objects(
    const std::vector<std::pair<uint64_t, ObjectInfo>>& objects) {
    WriteBatch batch(*store_);
    std::map<BlobId, BlobInfo> checked;  // the operands must apply, in batch order
    for (const auto& [object_id, info] : objects) {
        const auto operand = BlobInfoMergeOperand::expire(info.deletable, info.certified);
        auto [it, inserted] = checked.try_emplace(info.blob);
        if (inserted) {
            it->second = blob_info(info.blob).value_or(BlobInfo{});
        }
        it->second.apply(operand);
        (void)batch.remove(fixed(Cf::per_object_blob_info), object_key(object_id));
        (void)batch.merge(fixed(Cf::blob_info), key(info.blob), operand.encode());
    }
    return store_->write(batch);
}

void NodeStorage::remove_blob_data(WriteBatch& batch, const BlobId& blob,
                                   const std::vector<ShardIndex>& shards) {
    (void)batch.remove(fixed(Cf::metadata), key(blob));
    for (ShardIndex shard : shards) {
        (void)batch.remove(CfRef{Cf::shard_primary, shard}, key(blob));
        (void)batch.remove(CfRef{Cf::shard_secondary, shard}, key(blob));
    }
}

sim::Result<bool, StoreError> NodeStorage::delete_expired_blob_data(
    const BlobId& blob, Epoch epoch, const std::vector<ShardIndex>& shards,
    ReadErrors read_errors) {
    // Walrus reads the record with get_for_update in an optimistic transaction; here nothing
    // else runs between this read and the write, so the re-check is the whole of it.
    std::optional<BlobInfo> info;
    if (read_errors == ReadErrors::to_caller) {
        auto read = blob_info_or_read_error(blob);
        if (!read.ok()) {
            return sim::Err{read.error()};
        }
        info = std::move(read).value();
    } else {
        info = blob_info(blob);
    }
    if (!info.has_value() || !info->can_data_be_deleted(epoch)) {
        return false;
    }
    WriteBatch batch(*store_);
    if (info->can_be_deleted(epoch)) {
        (void)batch.remove(fixed(Cf::blob_info), key(blob));
    }
    remove_blob_data(batch, blob, shards);
    auto written = store_->write(batch);
    if (!written.ok()) {
        return sim::Err{written.error()};
    }
    return true;
}

sim::Result<sim::Unit, StoreError> NodeStorage::delete_blob_data(const BlobId& blob) {
    WriteBatch batch(*store_);
    remove_blob_data(batch, blob, existing_shards());
    return store_->write(batch);
}

std::vector<ShardIndex> NodeStorage::gc_shards() const {
    std::vector<ShardIndex> out;
    for (ShardIndex shard : existing_shards()) {
        if (shard_status(shard) != ShardStatus::locked_to_move) {
            out.push_back(shard);
        }
    }
    return out;
}

namespace {
Epoch read_epoch(const NodeStore& store, const std::string& key) {
    const auto bytes = expect_ok(store.get(fixed(Cf::garbage_collector), key), "read gc epoch");
    return bytes.has_value() ? static_cast<Epoch>(expect_ok(decode_u64(*bytes), "gc epoch")) : 0;
}
}  // namespace

Epoch NodeStorage::gc_last_started_epoch() const {
    return read_epoch(*store_, gc_started_key);
}

Epoch NodeStorage::gc_last_completed_epoch() const {
    return read_epoch(*store_, gc_completed_key);
}

sim::Result<sim::Unit, StoreError> NodeStorage::set_gc_last_started_epoch(Epoch epoch) {
    return store_->put(fixed(Cf::garbage_collector), gc_started_key, encode_u64(epoch));
}

sim::Result<sim::Unit, StoreError> NodeStorage::set_gc_last_completed_epoch(Epoch epoch) {
    return store_->put(fixed(Cf::garbage_collector), gc_completed_key, encode_u64(epoch));
}

}  // namespace walrus
