#include "node/node_storage.h"

#include "node/node_storage_internal.h"
#include "node/sites.h"

#include <fmt/format.h>

#include "sim/assert.h"
#include "sim/runtime.h"

namespace walrus {
namespace {

const std::string status_key = "status";
const std::string cursor_key = "cursor";
const std::string latest_blob_event_key = "latest_blob_event";
const std::string shard_status_key = "status";

using storage_internal::expect_ok;
using storage_internal::fixed;

CfRef shard_cf(Cf cf, ShardIndex shard) {
    return CfRef{cf, shard};
}
Cf sliver_cf(SliverType type) {
    return type == SliverType::primary ? Cf::shard_primary : Cf::shard_secondary;
}

}  // namespace

NodeStorage::NodeStorage(std::unique_ptr<NodeStore> store) : store_(std::move(store)) {
    const auto status = expect_ok(store_->get(fixed(Cf::node_status), status_key), "read status");
    if (status.has_value()) {
        const auto decoded = NodeStatus::decode(*status);
        FLOE_ASSERT(decoded.has_value(), "corrupt node status");
        status_ = *decoded;
    }
    const auto cursor = expect_ok(store_->get(fixed(Cf::event_cursor), cursor_key), "read cursor");
    if (cursor.has_value()) {
        cursor_ = expect_ok(decode_u64(*cursor), "decode cursor");
    }
    const auto latest =
        expect_ok(store_->get(fixed(Cf::event_cursor), latest_blob_event_key), "read latest");
    if (latest.has_value()) {
        latest_blob_event_ = expect_ok(decode_u64(*latest), "decode latest blob event");
    }
    // After a restart the timeline shows what the node rebuilt from its database.
    report_status();
    for (ShardIndex shard : store_->existing_shards()) {
        report_shard_status(shard, shard_status(shard));
    }
}

void NodeStorage::report_status() {
    store_->runtime().state("node-status", status_.to_string());
}

void NodeStorage::report_shard_status(ShardIndex shard, ShardStatus status) {
    store_->runtime().state(fmt::format("shard-{}", shard), shard_status_name(status));
}

sim::Result<sim::Unit, StoreError> NodeStorage::apply_blob_event(
    EventIndex index, const BlobId& blob, const BlobInfoMergeOperand& operand,
    std::optional<uint64_t> object_id) {
    FLOE_ASSERT(!blob_event_applied(index), "blob event {} applied twice", index);
    // Only a check (the merge operator cannot assert): what is written is the operand, not this.
    blob_info(blob).value_or(BlobInfo{}).apply(operand);
    WriteBatch batch(*store_);
    (void)batch.merge(fixed(Cf::blob_info), key(blob), operand.encode());
    if (object_id.has_value()) {
        add_object_change(batch, operand, blob, *object_id);
    }
    (void)batch.put(fixed(Cf::event_cursor), latest_blob_event_key, encode_u64(index));
    auto written = store_->write(batch);
    if (written.ok()) {
        latest_blob_event_ = index;
    }
    return written;
}

std::string NodeStorage::key(const BlobId& blob) {
    return std::string(blob.bytes.begin(), blob.bytes.end());
}

sim::Result<sim::Unit, StoreError> NodeStorage::set_status(const NodeStatus& next) {
    FLOE_ASSERT(status_.can_transition_to(next), "illegal node status transition {} -> {} (§2.1)",
                status_.to_string(), next.to_string());
    if (status_write_check_) {
        status_write_check_(next);
    }
    auto written = store_->put(fixed(Cf::node_status), status_key, next.encode());
    if (written.ok()) {
        status_ = next;
        report_status();
    }
    return written;
}

sim::Result<sim::Unit, StoreError> NodeStorage::set_event_cursor(EventIndex next) {
    FLOE_ASSERT(next >= cursor_, "event cursor moved back from {} to {}", cursor_, next);
    auto written = store_->put(fixed(Cf::event_cursor), cursor_key, encode_u64(next));
    if (written.ok()) {
        cursor_ = next;
    }
    return written;
}

std::optional<BlobInfo> NodeStorage::blob_info(const BlobId& blob) const {
    const auto bytes = expect_ok(store_->get(fixed(Cf::blob_info), key(blob)), "read blob info");
    if (!bytes.has_value()) {
        return std::nullopt;
    }
    const auto info = BlobInfo::decode(*bytes);
    FLOE_ASSERT(info.has_value(), "corrupt blob info for {}", blob.short_hex());
    return info;
}

sim::Result<std::optional<BlobInfo>, StoreError> NodeStorage::blob_info_or_read_error(
    const BlobId& blob) const {
    auto bytes = store_->get(fixed(Cf::blob_info), key(blob), ReadErrors::to_caller);
    if (!bytes.ok()) {
        return sim::Err{bytes.error()};
    }
    if (!bytes.value().has_value()) {
        return std::optional<BlobInfo>{};
    }
    const auto info = BlobInfo::decode(*bytes.value());
    FLOE_ASSERT(info.has_value(), "corrupt blob info for {}", blob.short_hex());
    return info;
}

sim::Result<sim::Unit, StoreError> NodeStorage::put_blob_info(const BlobId& blob,
                                                              const BlobInfo& info) {
    return store_->put(fixed(Cf::blob_info), key(blob), info.encode());
}

std::vector<std::pair<BlobId, BlobInfo>> NodeStorage::all_blob_info() {
    return scan_blob_info(ReadErrors::report).value_or(std::vector<std::pair<BlobId, BlobInfo>>{});
}

std::optional<std::vector<std::pair<BlobId, BlobInfo>>> NodeStorage::all_blob_info_or_read_error() {
    return scan_blob_info(ReadErrors::to_caller);
}

std::optional<std::vector<std::pair<BlobId, BlobInfo>>> NodeStorage::scan_blob_info(
    ReadErrors read_errors) {
    std::vector<std::pair<BlobId, BlobInfo>> out;
    if (!scan_blob_info_into(std::nullopt, read_errors, "blob info", out)) {
        return std::nullopt;
    }
    return out;
}

bool NodeStorage::append_blob_info_after(const std::optional<BlobId>& after,
                                         std::vector<std::pair<BlobId, BlobInfo>>& out) {
    return scan_blob_info_into(after, ReadErrors::to_caller, "gc blob info", out);
}

bool NodeStorage::scan_blob_info_into(const std::optional<BlobId>& after, ReadErrors read_errors,
                                      std::string_view label,
                                      std::vector<std::pair<BlobId, BlobInfo>>& out) {
    std::optional<std::string> from;
    if (after.has_value()) {
        from = key(*after);
        from->push_back('\0');  // the smallest key after it
    }
    auto scan = expect_ok(
        store_->scan(fixed(Cf::blob_info), std::move(from), std::nullopt, read_errors, label),
        "scan blob info");
    for (; scan.valid(); scan.next()) {
        BlobId blob;
        FLOE_ASSERT(scan.key().size() == 32, "blob info key of {} bytes", scan.key().size());
        std::copy(scan.key().begin(), scan.key().end(), blob.bytes.begin());
        const auto info = BlobInfo::decode(std::string(scan.value()));
        FLOE_ASSERT(info.has_value(), "corrupt blob info");
        out.emplace_back(blob, *info);
    }
    return read_errors != ReadErrors::to_caller || !scan.read_failed();
}

CertifiedBlobIterator::CertifiedBlobIterator(Scan scan, Epoch epoch, BlobBound bound)
    : scan_(std::move(scan)), epoch_(epoch), bound_(bound) {}

std::optional<std::pair<BlobId, BlobInfo>> CertifiedBlobIterator::next() {
    for (; scan_.valid(); scan_.next()) {
        BlobId blob;
        FLOE_ASSERT(scan_.key().size() == 32, "blob info key of {} bytes", scan_.key().size());
        std::copy(scan_.key().begin(), scan_.key().end(), blob.bytes.begin());
        if (bound_.kind == BlobBound::Kind::excluded && blob == bound_.id) {
            continue;  // the scan started at the bound itself
        }
        const auto info = BlobInfo::decode(std::string(scan_.value()));
        FLOE_ASSERT(info.has_value(), "corrupt blob info for {}", blob.short_hex());
        if (certified_before_epoch(*info, epoch_)) {
            scan_.next();
            return std::make_pair(blob, *info);
        }
    }
    return std::nullopt;
}

CertifiedBlobIterator NodeStorage::certified_before_epoch(Epoch epoch, BlobBound bound,
                                                          ReadErrors read_errors,
                                                          std::string_view label) {
    std::optional<std::string> from;
    if (bound.kind != BlobBound::Kind::unbounded) {
        from = key(bound.id);
    }
    return CertifiedBlobIterator(
        expect_ok(store_->scan(fixed(Cf::blob_info), from, std::nullopt, read_errors, label),
                  "scan"),
        epoch, bound);
}

namespace {
const std::string progress_key = "progress";

std::string pending_key(SliverType type, const BlobId& blob) {
    std::string key(1, static_cast<char>(type));
    key.append(blob.bytes.begin(), blob.bytes.end());
    return key;
}
}  // namespace

namespace {
const std::string recovery_key = "progress";
}  // namespace

std::optional<NodeRecoveryProgress> NodeStorage::recovery_progress() const {
    const auto bytes =
        expect_ok(store_->get(fixed(Cf::node_recovery_progress), recovery_key), "recovery");
    if (!bytes.has_value()) {
        return std::nullopt;
    }
    const std::string& value = *bytes;
    FLOE_ASSERT(value.size() >= 36 && (value.size() - 36) % 2 == 0, "corrupt recovery progress");
    NodeRecoveryProgress progress;
    size_t offset = 0;
    for (int i = 0; i < 4; ++i) {
        progress.epoch = (progress.epoch << 8) | static_cast<uint8_t>(value[offset++]);
    }
    std::copy(value.begin() + 4, value.begin() + 36, progress.last_settled.bytes.begin());
    for (offset = 36; offset < value.size(); offset += 2) {
        progress.owned_shards.insert(static_cast<ShardIndex>(
            (static_cast<uint8_t>(value[offset]) << 8) | static_cast<uint8_t>(value[offset + 1])));
    }
    return progress;
}

sim::Result<sim::Unit, StoreError> NodeStorage::set_recovery_progress(
    const NodeRecoveryProgress& progress) {
    // Invariant 18: within one pass the persisted cursor only moves forward.
    const auto before = recovery_progress();
    FLOE_ASSERT(!before.has_value() || before->owned_shards != progress.owned_shards ||
                    before->epoch != progress.epoch ||
                    !(progress.last_settled < before->last_settled),
                "recovery checkpoint moved back (invariant 18)");
    std::string value;
    for (int shift = 24; shift >= 0; shift -= 8) {
        value.push_back(static_cast<char>((progress.epoch >> shift) & 0xff));
    }
    value.append(progress.last_settled.bytes.begin(), progress.last_settled.bytes.end());
    for (ShardIndex shard : progress.owned_shards) {
        value.push_back(static_cast<char>(shard >> 8));
        value.push_back(static_cast<char>(shard & 0xff));
    }
    return store_->put(fixed(Cf::node_recovery_progress), recovery_key, value,
                       unlogged_sliver_writes_ ? WriteMode::synced : WriteMode::logged);
}

sim::Result<sim::Unit, StoreError> NodeStorage::clear_recovery_progress() {
    return store_->remove(fixed(Cf::node_recovery_progress), recovery_key);
}

namespace {
// Sorts after "cursor" and "latest_blob_event", the column family's other keys; '0' is '/' + 1.
const std::string proof_prefix = "proof/";
const std::string proof_prefix_end = "proof0";
}  // namespace

std::vector<BlobId> NodeStorage::proofs_awaiting_invalidation() {
    std::vector<BlobId> blobs;
    auto scan = expect_ok(store_->scan(fixed(Cf::event_cursor), proof_prefix, proof_prefix_end),
                          "scan proofs");
    for (; scan.valid(); scan.next()) {
        const std::string_view key = scan.key();
        FLOE_ASSERT(key.size() == proof_prefix.size() + 32, "proof key of {} bytes", key.size());
        BlobId blob;
        std::copy(key.begin() + static_cast<ptrdiff_t>(proof_prefix.size()), key.end(),
                  blob.bytes.begin());
        blobs.push_back(blob);
    }
    return blobs;
}

sim::Result<sim::Unit, StoreError> NodeStorage::add_proof_awaiting_invalidation(
    const BlobId& blob) {
    return store_->put(fixed(Cf::event_cursor), proof_prefix + key(blob), "");
}

sim::Result<sim::Unit, StoreError> NodeStorage::remove_proof_awaiting_invalidation(
    const BlobId& blob) {
    return store_->remove(fixed(Cf::event_cursor), proof_prefix + key(blob));
}

std::optional<NodeStorage::SyncProgress> NodeStorage::sync_progress(ShardIndex shard) const {
    auto progress = sync_progress_or_read_error(shard);
    return progress.ok() ? progress.value() : std::nullopt;
}

sim::Result<std::optional<NodeStorage::SyncProgress>, StoreError>
NodeStorage::sync_progress_or_read_error(ShardIndex shard) const {
    if (!store_->has_shard(shard)) {
        return std::optional<SyncProgress>{};
    }
    auto bytes =
        store_->get(shard_cf(Cf::shard_sync_progress, shard), progress_key, ReadErrors::to_caller);
    if (!bytes.ok()) {
        if (bytes.error() == StoreError::no_such_shard) {
            return std::optional<SyncProgress>{};  // removed meanwhile
        }
        return sim::Err{bytes.error()};
    }
    if (!bytes.value().has_value() || bytes.value()->size() != 33) {
        return std::optional<SyncProgress>{};
    }
    const std::string& value = *bytes.value();
    SyncProgress progress;
    progress.type = static_cast<SliverType>(value[0]);
    std::copy(value.begin() + 1, value.end(), progress.last_synced.bytes.begin());
    return std::optional<SyncProgress>{progress};
}

sim::Result<sim::Unit, StoreError> NodeStorage::start_shard_sync(ShardIndex shard) {
    WriteBatch batch(*store_);
    auto put = batch.put(shard_cf(Cf::shard_status, shard), shard_status_key,
                         std::string(1, static_cast<char>(ShardStatus::active_sync)));
    if (!put.ok()) {
        return put;
    }
    (void)batch.remove(shard_cf(Cf::shard_sync_progress, shard), progress_key);
    auto written = store_->write(batch);
    if (written.ok()) {
        report_shard_status(shard, ShardStatus::active_sync);
    }
    return written;
}

sim::Result<sim::Unit, StoreError> NodeStorage::write_transfer_batch(
    ShardIndex shard, const std::vector<std::pair<BlobId, Sliver>>& slivers,
    const std::vector<BlobId>& pending, SliverType type,
    const std::optional<SyncProgress>& progress) {
    if (progress.has_value()) {
        // Invariant 14: progress is monotone within a phase (primary ids ascending, then
        // secondary ids ascending).
        const auto before = sync_progress(shard);
        FLOE_ASSERT(
            !before.has_value() || before->type < progress->type ||
                (before->type == progress->type && before->last_synced < progress->last_synced),
            "shard {} sync progress moved back", shard);
    }
    WriteBatch batch(*store_);
    for (const auto& [blob, sliver] : slivers) {
        FLOE_ASSERT(sliver.type == type, "a {} sliver in a {} batch", sliver_type_name(sliver.type),
                    sliver_type_name(type));
        auto put =
            batch.put(shard_cf(sliver_cf(type), shard), key(blob), encode_sliver_value(sliver));
        if (!put.ok()) {
            return put;
        }
    }
    for (const BlobId& blob : pending) {
        (void)batch.put(shard_cf(Cf::shard_pending_recover, shard), pending_key(type, blob), "");
    }
    if (progress.has_value()) {
        std::string value(1, static_cast<char>(progress->type));
        value.append(progress->last_synced.bytes.begin(), progress->last_synced.bytes.end());
        (void)batch.put(shard_cf(Cf::shard_sync_progress, shard), progress_key, value);
    }
    if (batch.empty()) {
        return sim::Unit{};
    }
    return store_->write(batch);
}

sim::Result<std::vector<std::pair<SliverType, BlobId>>, StoreError> NodeStorage::pending_recover(
    ShardIndex shard) {
    std::vector<std::pair<SliverType, BlobId>> out;
    if (!store_->has_shard(shard)) {
        return out;
    }
    auto scan = store_->scan(shard_cf(Cf::shard_pending_recover, shard), std::nullopt, std::nullopt,
                             ReadErrors::to_caller, "pending recover");
    if (!scan.ok()) {
        return out;  // removed meanwhile
    }
    Scan& it = scan.value();
    for (; it.valid(); it.next()) {
        FLOE_ASSERT(it.key().size() == 33, "pending key of {} bytes", it.key().size());
        BlobId blob;
        std::copy(it.key().begin() + 1, it.key().end(), blob.bytes.begin());
        out.emplace_back(static_cast<SliverType>(it.key()[0]), blob);
    }
    if (it.read_failed()) {
        return sim::Err{StoreError::io};
    }
    return out;
}

sim::Result<sim::Unit, StoreError> NodeStorage::add_pending_recover(ShardIndex shard,
                                                                    SliverType type,
                                                                    const BlobId& blob) {
    return store_->put(shard_cf(Cf::shard_pending_recover, shard), pending_key(type, blob), "");
}

sim::Result<sim::Unit, StoreError> NodeStorage::remove_pending_recover(ShardIndex shard,
                                                                       SliverType type,
                                                                       const BlobId& blob) {
    return store_->remove(shard_cf(Cf::shard_pending_recover, shard), pending_key(type, blob));
}

sim::Result<sim::Unit, StoreError> NodeStorage::finish_shard_sync(ShardIndex shard) {
    const ShardStatus status = shard_status(shard);
    if (status != ShardStatus::active_sync && status != ShardStatus::active_recover) {
        return sim::Unit{};  // e.g. LockedToMove meanwhile: left unchanged (§3.2)
    }
    WriteBatch batch(*store_);
    auto put = batch.put(shard_cf(Cf::shard_status, shard), shard_status_key,
                         std::string(1, static_cast<char>(ShardStatus::active)));
    if (!put.ok()) {
        return put;
    }
    (void)batch.remove(shard_cf(Cf::shard_sync_progress, shard), progress_key);
    auto written = store_->write(batch);
    if (written.ok()) {
        report_shard_status(shard, ShardStatus::active);
    }
    return written;
}

std::vector<std::pair<BlobId, Sliver>> NodeStorage::slivers_for_sync(ShardIndex shard,
                                                                     SliverType type,
                                                                     const BlobId& start,
                                                                     uint32_t count, Epoch epoch) {
    std::vector<std::pair<BlobId, Sliver>> out;
    auto blobs = certified_before_epoch(epoch, BlobBound::included(start));
    while (out.size() < count) {
        const auto next = blobs.next();
        if (!next.has_value()) {
            break;
        }
        if (auto held = sliver(shard, type, next->first)) {
            out.emplace_back(next->first, *held);
        }
    }
    return out;
}

std::optional<BlobMetadata> NodeStorage::metadata(const BlobId& blob) const {
    const auto bytes = expect_ok(store_->get(fixed(Cf::metadata), key(blob)), "read metadata");
    if (!bytes.has_value()) {
        return std::nullopt;
    }
    return BlobMetadata::decode(*bytes);
}

std::string NodeStorage::metadata_value(const BlobMetadata& metadata) const {
    const bool derived =
        compact_metadata_ && metadata == BlobMetadata::compute(metadata.blob_id, metadata.n_shards);
    return derived ? metadata.encode_compact() : metadata.encode();
}

sim::Result<sim::Unit, StoreError> NodeStorage::put_metadata(const BlobMetadata& metadata) {
    WriteBatch batch(*store_);
    (void)batch.put(fixed(Cf::metadata), key(metadata.blob_id), metadata_value(metadata));
    (void)batch.merge(fixed(Cf::blob_info), key(metadata.blob_id),
                      BlobInfoMergeOperand::mark_metadata_stored().encode());
    return store_->write(batch);
}

sim::Result<sim::Unit, StoreError> NodeStorage::create_shard(ShardIndex shard, ShardStatus status) {
    if (!store_->has_shard(shard)) {
        auto created = store_->create_shard(shard);
        if (!created.ok()) {
            return created;
        }
    }
    return set_shard_status(shard, status);
}

sim::Result<sim::Unit, StoreError> NodeStorage::create_shards(const std::vector<ShardIndex>& shards,
                                                              ShardStatus status) {
    if (!store_->batches_column_families()) {
        for (ShardIndex shard : shards) {
            if (auto created = create_shard(shard, status); !created.ok()) {
                return created;
            }
        }
        return sim::Unit{};
    }
    if (auto created = store_->create_shards(shards); !created.ok()) {
        return created;
    }
    for (ShardIndex shard : shards) {
        if (auto set = set_shard_status(shard, status); !set.ok()) {
            return set;
        }
    }
    return sim::Unit{};
}

sim::Result<sim::Unit, StoreError> NodeStorage::remove_shard(ShardIndex shard) {
    auto dropped = store_->drop_shard(shard);
    if (dropped.ok()) {
        store_->runtime().state(fmt::format("shard-{}", shard), "");  // the lane ends
    }
    return dropped;
}

ShardStatus NodeStorage::shard_status(ShardIndex shard) const {
    if (!store_->has_shard(shard)) {
        return ShardStatus::none;
    }
    const auto bytes =
        expect_ok(store_->get(shard_cf(Cf::shard_status, shard), shard_status_key), "shard status");
    if (!bytes.has_value() || bytes->size() != 1) {
        return ShardStatus::none;
    }
    return static_cast<ShardStatus>((*bytes)[0]);
}

sim::Result<sim::Unit, StoreError> NodeStorage::set_shard_status(ShardIndex shard,
                                                                 ShardStatus status) {
    auto written = store_->put(shard_cf(Cf::shard_status, shard), shard_status_key,
                               std::string(1, static_cast<char>(status)));
    if (written.ok()) {
        report_shard_status(shard, status);
    }
    return written;
}

std::optional<Sliver> NodeStorage::sliver(ShardIndex shard, SliverType type,
                                          const BlobId& blob) const {
    if (!store_->has_shard(shard)) {
        return std::nullopt;
    }
    const std::string blob_key = key(blob);
    if (store_->indexed_contains(shard_cf(sliver_cf(type), shard), blob_key) == false) {
        return std::nullopt;  // the sliver-existence economy knows it absent: no read
    }
    auto bytes = store_->get(shard_cf(sliver_cf(type), shard), blob_key);
    if (!bytes.ok() || !bytes.value().has_value()) {
        return std::nullopt;  // no_such_shard: removed meanwhile
    }
    return decode_sliver_value(*bytes.value());
}

sim::Result<sim::Unit, StoreError> NodeStorage::put_sliver(ShardIndex shard, const BlobId& blob,
                                                           const Sliver& sliver) {
    return store_->put(shard_cf(sliver_cf(sliver.type), shard), key(blob),
                       encode_sliver_value(sliver),
                       unlogged_sliver_writes_ ? WriteMode::unlogged : WriteMode::logged);
}

sim::Result<sim::Unit, StoreError> NodeStorage::put_blob(
    const BlobMetadata& metadata,
    const std::vector<std::pair<ShardIndex, std::pair<Sliver, Sliver>>>& slivers) {
    WriteBatch batch(*store_);
    const std::string blob_key = key(metadata.blob_id);
    for (const auto& [shard, pair] : slivers) {
        auto put = batch.put(shard_cf(Cf::shard_primary, shard), blob_key,
                             encode_sliver_value(pair.first));
        if (!put.ok()) {
            return put;
        }
        (void)batch.put(shard_cf(Cf::shard_secondary, shard), blob_key,
                        encode_sliver_value(pair.second));
    }
    (void)batch.put(fixed(Cf::metadata), blob_key, metadata_value(metadata));
    (void)batch.merge(fixed(Cf::blob_info), blob_key,
                      BlobInfoMergeOperand::mark_metadata_stored().encode());
    return store_->write(batch);
}

sim::Result<bool, StoreError> NodeStorage::sliver_stored(ShardIndex shard, SliverType type,
                                                         const BlobId& blob,
                                                         ReadErrors read_errors) const {
    if (!store_->has_shard(shard)) {
        return false;
    }
    const CfRef ref = shard_cf(sliver_cf(type), shard);
    const std::string blob_key = key(blob);
    if (const std::optional<bool> indexed = store_->indexed_contains(ref, blob_key)) {
        return *indexed;
    }
    const auto bytes = store_->get(ref, blob_key, read_errors);
    if (!bytes.ok()) {
        if (bytes.error() == StoreError::no_such_shard) {
            return false;  // removed meanwhile
        }
        return sim::Err{bytes.error()};
    }
    return bytes.value().has_value();
}

sim::Result<bool, StoreError> NodeStorage::check_sliver(ShardIndex shard, SliverType type,
                                                        const BlobId& blob) const {
    return sliver_stored(shard, type, blob, ReadErrors::to_caller);
}

bool NodeStorage::has_sliver(ShardIndex shard, SliverType type, const BlobId& blob) const {
    // A reported read error has gone to on_io_error (the node exits); where that returns, absent.
    const auto stored = sliver_stored(shard, type, blob, ReadErrors::report);
    return stored.ok() && stored.value();
}

sim::Result<bool, StoreError> NodeStorage::check_stored_at_shards(
    const BlobId& blob, const std::vector<ShardIndex>& shards) const {
    for (ShardIndex shard : shards) {
        for (SliverType type : {SliverType::primary, SliverType::secondary}) {
            const auto stored = sliver_stored(shard, type, blob, ReadErrors::to_caller);
            if (!stored.ok() || !stored.value()) {
                return stored;
            }
        }
    }
    return true;
}

bool NodeStorage::is_stored_at_shards(const BlobId& blob,
                                      const std::vector<ShardIndex>& shards) const {
    const auto stored = check_stored_at_shards(blob, shards);
    FLOE_SOMETIMES(store_->runtime(), site::stored_check_read_error, !stored.ok());
    return stored.ok() && stored.value();
}

}  // namespace walrus
