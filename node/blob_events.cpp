#include "node/blob_events.h"

#include "node/must.h"
#include "node/overloaded.h"

namespace walrus {

BlobEvents::BlobEvents(sim::Runtime& rt, NodeStorage& storage, CommitteeService& committees,
                       BlobSyncHandler& blob_sync)
    : rt_(rt), storage_(storage), committees_(committees), blob_sync_(blob_sync) {}

// Writes a blob event's merge operand (§4.1), once: a replayed event finds its update already
// written and only redoes the rest (syncs, cancellations). Returns the blob info after it.
BlobInfo BlobEvents::update_blob_info(const ChainEvent& event, const BlobId& blob,
                                      const BlobInfoMergeOperand& operand) {
    if (!storage_.blob_event_applied(event.index)) {
        must(storage_.apply_blob_event(event.index, blob, operand), "blob info");
    }
    return storage_.blob_info(blob).value_or(BlobInfo{});
}

void BlobEvents::process_blob_event(const ChainEvent& event, EventHandle handle) {
    std::visit(Overloaded{
                   [&](const BlobRegistered& registered) {
                       (void)update_blob_info(event, registered.blob_id,
                                              BlobInfoMergeOperand::register_blob(
                                                  registered.deletable, registered.end_epoch));
                       handle.complete();
                   },
                   [&](const BlobCertified& certified) {
                       process_certified(event, certified, std::move(handle));
                   },
                   [&](const BlobDeleted& deleted) {
                       const BlobInfo info = update_blob_info(
                           event, deleted.blob_id,
                           BlobInfoMergeOperand::delete_blob(deleted.was_certified));
                       // process_blob_deleted_event: not certified at the committee epoch.
                       if (!info.is_certified(committees_.current_committee_epoch())) {
                           blob_sync_.cancel_sync_and_mark_event_complete(deleted.blob_id);
                       }
                       handle.complete();
                   },
                   [&](const InvalidBlobId& invalid) {
                       (void)update_blob_info(event, invalid.blob_id,
                                              BlobInfoMergeOperand::mark_invalid(event.epoch));
                       blob_sync_.cancel_sync_and_mark_event_complete(invalid.blob_id);
                       handle.complete();
                   },
                   [&](const auto&) { FLOE_UNREACHABLE("not a blob event"); },
               },
               event.body);
}

// blob_event_processor.rs process_blob_certified_event: skipped when the blob is not certified at
// the committee epoch, the node catches up, or the blob is stored at every shard owned at the
// event epoch (not checked while the event epoch is unknown, just after a start); otherwise a
// blob sync for the event's epoch. The §11 jitter point comes after those checks.
void BlobEvents::process_certified(const ChainEvent& event, const BlobCertified& certified,
                                   EventHandle handle) {
    const BlobInfo info = update_blob_info(
        event, certified.blob_id,
        BlobInfoMergeOperand::certify(certified.certified_epoch, certified.deletable,
                                      certified.end_epoch, certified.is_extension, event.index));
    const bool skip = rt_.fail_point("skip_non_extension_certified_event_triggered_blob_sync") ==
                          sim::FailPointOutcome::inject_error &&
                      !certified.is_extension;
    if (skip || !info.is_certified(committees_.current_committee_epoch()) ||
        storage_.status().is_catching_up() ||
        (committees_.event_epoch().has_value() &&
         storage_.is_stored_at_shards(certified.blob_id,
                                      committees_.owned_shards_at(*committees_.event_epoch())))) {
        handle.complete();
        return;
    }
    (void)rt_.fail_point_async("fail_point_process_blob_certified_event");  // §11: jitter
    watch_event_sync(
        certified.blob_id,
        blob_sync_.start_sync(certified.blob_id, certified.certified_epoch, std::move(handle)));
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
