#pragma once
// A storage node's persistent state, typed, on top of its RocksDB (node/store). Everything a
// restarted node knows comes from here: node status (§2), event cursor (§5), blob info (§4.1),
// metadata, slivers and shard status per shard (§3.1). Writes the spec calls atomic go in one
// WriteBatch. Every write passes the RocksDB fail points, so a crash can strike before or after
// any of them.

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "node/blob_info.h"
#include "node/encoding.h"
#include "node/recovery_cursor.h"
#include "node/status.h"
#include "node/store/node_store.h"
#include "node/types.h"

namespace walrus {

// Where a certified-blob scan starts (§4.2: Unbounded, Included(id), Excluded(id)).
struct BlobBound {
    enum class Kind : uint8_t { unbounded, included, excluded };
    Kind kind = Kind::unbounded;
    BlobId id;
    static BlobBound unbounded() { return {}; }
    static BlobBound included(const BlobId& id) { return {Kind::included, id}; }
    static BlobBound excluded(const BlobId& id) { return {Kind::excluded, id}; }
};

// §4.2 certified_blob_info_iter_before_epoch(E, bound): ascending blob-id byte order, over a
// snapshot (later writes do not affect it), yielding a blob iff it was first certified before E
// and is still certified at E.
class CertifiedBlobIterator {
public:
    CertifiedBlobIterator(Scan scan, Epoch epoch, BlobBound bound);
    // The next matching blob, or nullopt at the end (or at a read error, with
    // ReadErrors::to_caller).
    std::optional<std::pair<BlobId, BlobInfo>> next();
    // After next() returned nullopt: whether a read error ended the scan (to_caller only; a
    // reported one has already stopped the node).
    bool read_failed() const { return scan_.read_failed(); }

private:
    Scan scan_;
    Epoch epoch_;
    BlobBound bound_;
};

class NodeStorage {
public:
    using Error = StoreError;
    template <class T>
    using Result = sim::Result<T, StoreError>;

    explicit NodeStorage(std::unique_ptr<NodeStore> store);

    // §2: Standby when absent (T1). Writing asserts the §2.1 legal table (invariant 1).
    NodeStatus status() const { return status_; }
    Result<sim::Unit> set_status(const NodeStatus& next);
    // Runs before every status write (the node's checks of who may write what, invariant 2).
    void set_status_write_check(std::function<void(const NodeStatus& next)> check) {
        status_write_check_ = std::move(check);
    }

    // §5: the first event index not known to be complete.
    EventIndex event_cursor() const { return cursor_; }
    Result<sim::Unit> set_event_cursor(EventIndex next);

    // Blob info is never read, changed and written back: every change is a merge operand that
    // RocksDB folds into the record in write order (blob_info.h, merge_blob_info), so a write
    // cannot undo one that landed between another writer's read and its write.
    std::optional<BlobInfo> blob_info(const BlobId& blob) const;
    // The same, with a read error handed to the caller instead of stopping the node: for Walrus
    // code that returns it to a caller that decides (shard sync's recovery of pending slivers,
    // storage/shard.rs recover_missing_blobs: `is_blob_certified(..)?`).
    Result<std::optional<BlobInfo>> blob_info_or_read_error(const BlobId& blob) const;
    // Replaces the whole record (tests and tools; the node itself only merges).
    Result<sim::Unit> put_blob_info(const BlobId& blob, const BlobInfo& info);
    // Blob events are replayed after a crash, and their merges are not idempotent (a replayed
    // delete would count twice). As in Walrus (BlobInfoTable::update_blob_info with
    // latest_handled_event_index), each event's operand is written in one batch with its event
    // index, and an event at or below it is not applied again. The operand must apply to the
    // record as it is now (a delete needs the object it deletes): asserted here, on the node's
    // fiber, as the BlobInfo::apply_* functions do.
    bool blob_event_applied(EventIndex index) const {
        return latest_blob_event_.has_value() && index <= *latest_blob_event_;
    }
    // With the event's Sui object, its per-object record (GC phase 1 reads it) is written in the
    // same batch, as Walrus's update_blob_info does.
    Result<sim::Unit> apply_blob_event(EventIndex index, const BlobId& blob,
                                       const BlobInfoMergeOperand& operand,
                                       std::optional<uint64_t> object_id = std::nullopt);
    // Every blob info in blob-id byte order (a snapshot, §4.2).
    std::vector<std::pair<BlobId, BlobInfo>> all_blob_info();
    // The same, with a read error handed to the caller (nullopt) instead of stopping the node:
    // for Walrus code that logs it and goes on (the consistency check, §12).
    std::optional<std::vector<std::pair<BlobId, BlobInfo>>> all_blob_info_or_read_error();
    // Appends every blob info after `after` (all, if none) to `out`, in a snapshot; a read error
    // ends the scan and is handed to the caller: returns false then, with `out` holding what
    // was read before it (GC phase 2 starts again from there, as Walrus's next batch does).
    bool append_blob_info_after(const std::optional<BlobId>& after,
                                std::vector<std::pair<BlobId, BlobInfo>>& out);
    // `label` names the scan for scan-read-eio's aim (Disk::scan_label): a string literal.
    CertifiedBlobIterator certified_before_epoch(Epoch epoch, BlobBound bound,
                                                 ReadErrors read_errors = ReadErrors::report,
                                                 std::string_view label = "certified blobs");

    std::optional<BlobMetadata> metadata(const BlobId& blob) const;
    // Metadata and the blob info's is_metadata_stored flag (a mark-metadata-stored operand), in
    // one batch.
    Result<sim::Unit> put_metadata(const BlobMetadata& metadata);

    bool has_shard(ShardIndex shard) const { return store_->has_shard(shard); }
    std::vector<ShardIndex> existing_shards() const { return store_->existing_shards(); }
    // Creates the shard's column families and records its status, in that order.
    Result<sim::Unit> create_shard(ShardIndex shard, ShardStatus status);
    // create_shard of each, in order (Walrus's loop over create_storage_for_shards). With
    // NodeConfig::batch_column_families, every shard's column families first, in one RocksDB
    // call, then every status.
    Result<sim::Unit> create_shards(const std::vector<ShardIndex>& shards, ShardStatus status);
    ShardStatus shard_status(ShardIndex shard) const;
    Result<sim::Unit> set_shard_status(ShardIndex shard, ShardStatus status);

    std::optional<Sliver> sliver(ShardIndex shard, SliverType type, const BlobId& blob) const;
    // sliver(...).has_value(), as Walrus asks it (a read); with NodeConfig::
    // index_sliver_existence, from the store's in-memory index of its sliver keys (no read).
    bool has_sliver(ShardIndex shard, SliverType type, const BlobId& blob) const;
    // The same with a read error as its result (shard sync: `is_sliver_stored(..)?`).
    Result<bool> check_sliver(ShardIndex shard, SliverType type, const BlobId& blob) const;
    Result<sim::Unit> put_sliver(ShardIndex shard, const BlobId& blob, const Sliver& sliver);
    // The planted bug `unlogged-sliver-writes` (node/behaviours.h): recovered slivers bypass the
    // WAL and the recovery checkpoint is fsynced, so a power loss keeps the checkpoint and loses
    // the slivers it vouches for. Walrus writes both through the WAL, in that order.
    void plant_unlogged_sliver_writes() { unlogged_sliver_writes_ = true; }
    // NodeConfig::compact_metadata: metadata that is its blob's computed metadata is stored as
    // BlobMetadata::encode_compact.
    void store_metadata_compactly() { compact_metadata_ = true; }
    // Primary and secondary of several shards plus the metadata and its is_metadata_stored
    // operand, atomically (a client store).
    Result<sim::Unit> put_blob(
        const BlobMetadata& metadata,
        const std::vector<std::pair<ShardIndex, std::pair<Sliver, Sliver>>>& slivers);
    // §4.3, as Walrus's is_stored_at_specific_shards (node.rs l.3138-3200 at fb097a2262): both
    // slivers present at every listed shard; false if a shard does not exist here. A read error
    // counts as not stored: Walrus logs it and answers false (the node goes on, and its caller
    // acts as for a missing sliver: a blob sync, a recovery sync); floe stopped the node until
    // 1 December 2026. Walrus's cheap pre-check (may_have_sliver_pair, KeyMayExist) makes no
    // disk read, so it is not modelled.
    bool is_stored_at_shards(const BlobId& blob, const std::vector<ShardIndex>& shards) const;
    // The same with a read error as its result: the consistency check's existence check (§12,
    // consistency_check.rs handle_existence_check_result: counted and logged), and floe's own
    // invariant checks, which cannot tell and skip the blob.
    Result<bool> check_stored_at_shards(const BlobId& blob,
                                        const std::vector<ShardIndex>& shards) const;

    // --- node recovery checkpoint (§9.3, PR #3407) ---
    std::optional<NodeRecoveryProgress> recovery_progress() const;
    Result<sim::Unit> set_recovery_progress(const NodeRecoveryProgress& progress);
    Result<sim::Unit> clear_recovery_progress();

    // --- inconsistency proofs awaiting their InvalidBlobId (F9's fix, not Walrus's) ---
    // Blobs this node filed an inconsistency proof for, persisted by
    // --new-behaviour existence-check-skips-proven-inconsistent only (Walrus keeps no such
    // record): keys in the event-cursor column family, beside the cursor, so the default path
    // opens and writes exactly what Walrus's does.
    std::vector<BlobId> proofs_awaiting_invalidation();
    Result<sim::Unit> add_proof_awaiting_invalidation(const BlobId& blob);
    Result<sim::Unit> remove_proof_awaiting_invalidation(const BlobId& blob);

    // --- shard sync state (§3.1, §3.2, §8) ---
    struct SyncProgress {
        SliverType type = SliverType::primary;
        BlobId last_synced;
        bool operator==(const SyncProgress&) const = default;
    };
    // None also at a read error, as Walrus reads it around an attempt to tell whether it made
    // progress (storage/shard.rs start_sync_shard_before_epoch: `.ok().flatten()`).
    std::optional<SyncProgress> sync_progress(ShardIndex shard) const;
    // The progress an attempt resumes from, or the read error (get_last_sync_status: `get(&())?`).
    Result<std::optional<SyncProgress>> sync_progress_or_read_error(ShardIndex shard) const;
    // record_start_shard_sync: ActiveSync and no progress, in one batch.
    Result<sim::Unit> start_shard_sync(ShardIndex shard);
    // One transfer batch, atomically: the slivers, the blobs the source did not return (now
    // pending recovery), and the new progress (invariant 14: monotone within a phase).
    Result<sim::Unit> write_transfer_batch(ShardIndex shard,
                                           const std::vector<std::pair<BlobId, Sliver>>& slivers,
                                           const std::vector<BlobId>& pending, SliverType type,
                                           const std::optional<SyncProgress>& progress);
    // The shard's pending-recovery entries, or the read error that ended the scan (Walrus's
    // `pending_recover_slivers.safe_iter()?` returns it to shard sync's error handling).
    Result<std::vector<std::pair<SliverType, BlobId>>> pending_recover(ShardIndex shard);
    Result<sim::Unit> add_pending_recover(ShardIndex shard, SliverType type, const BlobId& blob);
    Result<sim::Unit> remove_pending_recover(ShardIndex shard, SliverType type, const BlobId& blob);
    // End of a sync: Active and no progress, in one batch (only from ActiveSync/ActiveRecover).
    Result<sim::Unit> finish_shard_sync(ShardIndex shard);
    Result<sim::Unit> remove_shard(ShardIndex shard);

    // §8.5 server side: up to `count` slivers of `type` held by `shard`, of blobs certified
    // before `epoch`, in blob-id order from `start` (included). Missing ones are skipped.
    std::vector<std::pair<BlobId, Sliver>> slivers_for_sync(ShardIndex shard, SliverType type,
                                                            const BlobId& start, uint32_t count,
                                                            Epoch epoch);

    // --- garbage collection (§4.1; Walrus node/garbage_collector.rs, storage/blob_info.rs) ---
    // One Sui object's record (Walrus PerObjectBlobInfo): written by its blob events, removed
    // by its deletion or, once expired, by GC phase 1.
    struct ObjectInfo {
        BlobId blob;
        bool deletable = false;
        Epoch end_epoch = 0;
        bool certified = false;
        std::string encode() const;
        static std::optional<ObjectInfo> decode(std::string_view bytes);
        bool operator==(const ObjectInfo&) const = default;
    };
    std::optional<ObjectInfo> object_info(uint64_t object_id) const;
    // Objects expired at `epoch` (end_epoch <= epoch), in object-id order (a snapshot).
    std::vector<std::pair<uint64_t, ObjectInfo>> expired_objects(Epoch epoch);
    // Phase 1, one batch in one write: each object's record goes and its blob info gets an
    // expire operand (DeletableExpired / PermanentExpired).
    Result<sim::Unit> expire_objects(const std::vector<std::pair<uint64_t, ObjectInfo>>& objects);
    // Phase 2, one blob in one write (Walrus attempt_to_delete_blob_data_inner): if its data can
    // be deleted at `epoch` (re-checked here), its metadata and the slivers at `shards` go, and
    // the blob info too when nothing references it any more. False when it could not be. A
    // read error of the blob info goes to on_io_error (report) or into the result (to_caller).
    Result<bool> delete_expired_blob_data(const BlobId& blob, Epoch epoch,
                                          const std::vector<ShardIndex>& shards,
                                          ReadErrors read_errors = ReadErrors::report);
    // InvalidBlobID (Walrus Storage::delete_blob_data): metadata and both slivers at every
    // existing shard, in one write; the (invalid) blob info stays.
    Result<sim::Unit> delete_blob_data(const BlobId& blob);
    // Shards GC phase 2 deletes from: every existing one except those LockedToMove.
    std::vector<ShardIndex> gc_shards() const;
    Epoch gc_last_started_epoch() const;
    Epoch gc_last_completed_epoch() const;
    Result<sim::Unit> set_gc_last_started_epoch(Epoch epoch);
    Result<sim::Unit> set_gc_last_completed_epoch(Epoch epoch);

    NodeStore& store() { return *store_; }

private:
    static std::string key(const BlobId& blob);
    void add_object_change(WriteBatch& batch, const BlobInfoMergeOperand& operand,
                           const BlobId& blob, uint64_t object_id);
    void remove_blob_data(WriteBatch& batch, const BlobId& blob,
                          const std::vector<ShardIndex>& shards);
    // Whether the sliver is stored (from the key index when the store keeps one); a read error
    // goes to on_io_error (report) or into the result (to_caller).
    Result<bool> sliver_stored(ShardIndex shard, SliverType type, const BlobId& blob,
                               ReadErrors read_errors) const;
    // Every blob info; nullopt if a read error ended the scan (ReadErrors::to_caller only).
    std::optional<std::vector<std::pair<BlobId, BlobInfo>>> scan_blob_info(ReadErrors read_errors);
    // Appends the blob infos after `after` to `out`; false if a read error ended the scan.
    // `label`: a string literal (NodeStore::scan).
    bool scan_blob_info_into(const std::optional<BlobId>& after, ReadErrors read_errors,
                             std::string_view label, std::vector<std::pair<BlobId, BlobInfo>>& out);
    // The node status and shard statuses as named states in the trace (Runtime::state), for
    // the timeline; written after each successful write and once at startup.
    void report_status();
    void report_shard_status(ShardIndex shard, ShardStatus status);
    std::unique_ptr<NodeStore> store_;
    NodeStatus status_;
    std::function<void(const NodeStatus&)> status_write_check_;
    EventIndex cursor_ = 0;
    std::optional<EventIndex> latest_blob_event_;
    bool unlogged_sliver_writes_ = false;
    bool compact_metadata_ = false;
    std::string metadata_value(const BlobMetadata& metadata) const;
};

}  // namespace walrus
