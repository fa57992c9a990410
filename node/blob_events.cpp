#include "node/blob_events.h"

#include "node/must.h"
#include "node/overloaded.h"
#include "node/sites.h"
#include "node/walrus_panic.h"

namespace walrus {

BlobEvents::BlobEvents(sim::Runtime& rt, NodeStorage& storage, CommitteeService& committees,
                       BlobSyncHandler& blob_sync, GarbageCollector& gc, uint32_t workers,
                       SpawnBlockingModel spawn_blocking)
    : rt_(rt),
      storage_(storage),
      committees_(committees),
      blob_sync_(blob_sync),
      spawn_blocking_(spawn_blocking),
      gc_(gc),
      workers_(rt, workers) {}

// Writes a blob event's merge operand (§4.1), once: a replayed event finds its update already
// written and only redoes the rest (syncs, cancellations). Walrus's "must be sequential": always
// on the event task, before the event goes to a worker.
void BlobEvents::update_blob_info(const ChainEvent& event, const BlobId& blob,
                                  const BlobInfoMergeOperand& operand,
                                  std::optional<uint64_t> object_id) {
    if (storage_.blob_event_applied(event.index)) {
        return;
    }
    must(storage_.apply_blob_event(event.index, blob, operand, object_id), "blob info");
}

void BlobEvents::process_blob_event(const ChainEvent& event, EventHandle handle) {
    const BlobId blob = std::visit(
        Overloaded{
            [&](const BlobRegistered& registered) {
                update_blob_info(
                    event, registered.blob_id,
                    BlobInfoMergeOperand::register_blob(registered.deletable, registered.end_epoch),
                    registered.object_id);
                return registered.blob_id;
            },
            [&](const BlobCertified& certified) {
                update_blob_info(event, certified.blob_id,
                                 BlobInfoMergeOperand::certify(
                                     certified.certified_epoch, certified.deletable,
                                     certified.end_epoch, certified.is_extension, event.index),
                                 certified.object_id);
                return certified.blob_id;
            },
            [&](const BlobDeleted& deleted) {
                update_blob_info(event, deleted.blob_id,
                                 BlobInfoMergeOperand::delete_blob(deleted.was_certified),
                                 deleted.object_id);
                return deleted.blob_id;
            },
            [&](const InvalidBlobId& invalid) {
                update_blob_info(event, invalid.blob_id,
                                 BlobInfoMergeOperand::mark_invalid(event.epoch), std::nullopt);
                return invalid.blob_id;
            },
            [&](const auto&) -> BlobId { FLOE_UNREACHABLE("not a blob event"); },
        },
        event.body);
    if (std::holds_alternative<BlobRegistered>(event.body)) {
        handle.complete();  // handle_registered_event: complete at once
        return;
    }
    workers_.dispatch(blob, [this, event, handle = std::move(handle)]() mutable {
        process_in_worker(event, std::move(handle));
    });
}

void BlobEvents::process_in_worker(const ChainEvent& event, EventHandle handle) {
    if (const auto* certified = std::get_if<BlobCertified>(&event.body)) {
        process_certified(*certified, std::move(handle));
    } else if (const auto* deleted = std::get_if<BlobDeleted>(&event.body)) {
        process_deleted(event, *deleted, std::move(handle));
    } else {
        process_invalid(std::get<InvalidBlobId>(event.body), std::move(handle));
    }
}

// process_blob_certified_event. The stored-at-shards check of a known event epoch goes through
// owned_shards_at_epoch, which errs outside {committee epoch, committee epoch - 1}; the worker
// then stops and the node shuts down (any-epoch-shard-assignment: floe reads any committee).
void BlobEvents::process_certified(const BlobCertified& certified, EventHandle handle) {
    const bool skip =
        rt_.fail_point(site::skip_non_extension_certified_event_triggered_blob_sync) ==
            sim::FailPointOutcome::inject_error &&
        !certified.is_extension;
    const std::optional<Epoch> event_epoch = committees_.event_epoch();
    // is_blob_certified: the blob info and the committee epoch as of the read.
    const bool certified_now = blocking_read("is_blob_certified", [this, blob = certified.blob_id] {
        const auto info = storage_.blob_info(blob);
        return info.has_value() && info->is_certified(committees_.current_committee_epoch());
    });
    const bool wanted = !skip && certified_now && !storage_.status().is_catching_up();
    if (wanted && event_epoch.has_value() && !committees_.shard_assignment_known(*event_epoch)) {
        FLOE_REACHABLE(rt_, site::walrus_panic_unknown_shard_assignment_epoch);
        WALRUS_PANIC("blob_event_processor.rs process_blob_certified_event",
                     "unknown epoch {} when checking shard assignment (committee epoch {})",
                     *event_epoch, committees_.current_committee_epoch());
    }
    if (!wanted || (event_epoch.has_value() &&
                    storage_.is_stored_at_shards(certified.blob_id,
                                                 committees_.owned_shards_at(*event_epoch)))) {
        handle.complete();
        return;
    }
    (void)rt_.fail_point_async(site::fail_point_process_blob_certified_event);  // §11: jitter
    watch_event_sync(
        certified.blob_id,
        blob_sync_.start_sync(certified.blob_id, certified.certified_epoch, std::move(handle)));
}

// process_blob_deleted_event: the blob info already includes this deletion.
void BlobEvents::process_deleted(const ChainEvent& event, const BlobDeleted& deleted,
                                 EventHandle handle) {
    const Epoch committee_epoch = committees_.current_committee_epoch();  // before the read
    const auto info = blocking_read(
        "get_blob_info", [this, blob = deleted.blob_id] { return storage_.blob_info(blob); });
    if (info.has_value()) {
        if (!info->is_certified(committee_epoch)) {
            blob_sync_.cancel_sync_and_mark_event_complete(deleted.blob_id);
        }
        gc_.delete_now_if_unregistered(deleted.blob_id, event.epoch);
    }
    handle.complete();
}

// process_blob_invalid_event: cancel, then delete_blob_data at every existing shard.
void BlobEvents::process_invalid(const InvalidBlobId& invalid, EventHandle handle) {
    blob_sync_.cancel_sync_and_mark_event_complete(invalid.blob_id);
    blob_sync_.forget_proven_inconsistent(invalid.blob_id);
    must(storage_.delete_blob_data(invalid.blob_id), "delete an invalid blob's data");
    handle.complete();
}

// The event path subscribes to the sync it started or joined and counts its outcome (health
// info). It is the first waiter of a blob an extension re-certified while recovery also needs it:
// the two waiters of #3412 (§6.2).
void BlobEvents::watch_event_sync(const BlobId& blob, SyncWaiter waiter) {
    (void)rt_.spawn("blob-event-waiter " + blob.short_hex(),
                    [this, waiter = std::move(waiter)]() mutable {
                        const auto outcome = waiter.wait();
                        ++event_sync_outcomes_[outcome.value_or(SyncOutcome::cancelled)];
                    });
}

}  // namespace walrus
