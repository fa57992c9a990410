#include "node/garbage_collector.h"

#include <fmt/format.h>

#include <algorithm>

#include "node/sites.h"
#include "sim/rng.h"

namespace walrus {
namespace {

// A write GC cannot do leaves the node unable to go on consistently (Walrus: phase 1's error
// stops the event loop); treated like the node's other own-database writes.
template <class T>
void must(const sim::Result<T, StoreError>& result, const char* what) {
    FLOE_ASSERT(result.ok(), "GC: {} failed: {}", what, store_error_name(result.error()));
}

}  // namespace

GarbageCollector::GarbageCollector(sim::Runtime& rt, NodeStorage& storage, NodeIndex node,
                                   GarbageCollectionConfig config)
    : rt_(rt), storage_(storage), node_(node), config_(config) {}

GarbageCollector::~GarbageCollector() {
    if (data_deletion_.has_value()) {
        data_deletion_->abort();  // Walrus garbage_collector.abort() at shutdown
    }
}

void GarbageCollector::start(Epoch epoch, std::optional<sim::Instant> epoch_start) {
    if (epoch <= 1 || !config_.enable_blob_info_cleanup) {
        return;  // GENESIS_EPOCH; and without phase 1 there is no phase 2
    }
    must(storage_.set_gc_last_started_epoch(epoch), "record the started epoch");
    expire_objects(epoch);
    if (config_.enable_data_deletion) {
        start_data_deletion(epoch, data_deletion_time(epoch, epoch_start.value_or(rt_.now())));
    }
}

bool GarbageCollector::must_resume(Epoch chain_epoch) const {
    const Epoch started = storage_.gc_last_started_epoch();
    // Done, or the chain moved on and the next EpochChangeStart collects.
    return started != storage_.gc_last_completed_epoch() && started == chain_epoch;
}

void GarbageCollector::resume_at_startup(Epoch chain_epoch,
                                         std::optional<sim::Instant> epoch_start) {
    if (!must_resume(chain_epoch)) {
        return;
    }
    rt_.mark(fmt::format("gc: resume epoch {}", chain_epoch));
    start(chain_epoch, epoch_start);
}

// Phase 1 (process_expired_blob_objects): the expired objects of a snapshot, in batches of
// blob_objects_batch_size, each one write; the §11 point before each object.
void GarbageCollector::expire_objects(Epoch epoch) {
    const auto expired = storage_.expired_objects(epoch);
    const size_t batch_size = std::max<size_t>(1, config_.blob_objects_batch_size);
    for (size_t begin = 0; begin < expired.size(); begin += batch_size) {
        const size_t end = std::min(expired.size(), begin + batch_size);
        for (size_t i = begin; i < end; ++i) {
            (void)rt_.fail_point(site::gc_process_expired_blob_objects);
        }
        must(storage_.expire_objects({expired.begin() + static_cast<std::ptrdiff_t>(begin),
                                      expired.begin() + static_cast<std::ptrdiff_t>(end)}),
             "expire objects");
    }
    if (!expired.empty()) {
        rt_.mark(fmt::format("gc: epoch {} phase 1 expired {} objects", epoch, expired.size()));
    }
}

sim::Instant GarbageCollector::data_deletion_time(Epoch epoch, sim::Instant epoch_start) const {
    if (!config_.enable_random_delay ||
        config_.randomization_time_window <= sim::Duration::zero()) {
        return epoch_start;
    }
    // Walrus: StdRng seeded with XxHash64(epoch, public key), uniform in [0, max delay) ms. The
    // node index stands for the key. (The epoch/2 cap needs the epoch duration, which the node
    // does not have; the window, 1 s in simtests, is far below it.)
    sim::SplitMix64 mixer{(static_cast<uint64_t>(epoch) << 32) ^
                          (0x9e3779b97f4a7c15ULL * (node_ + 1))};
    constexpr int64_t ns_per_ms = 1'000'000;
    const auto window_ms = static_cast<uint64_t>(
        std::max<int64_t>(1, config_.randomization_time_window.ns() / ns_per_ms));
    return epoch_start + sim::Duration::millis(static_cast<int64_t>(mixer.next() % window_ms));
}

// start_data_deletion_task: a running phase 2 (of an earlier epoch) is aborted and awaited
// first; its epoch is subsumed by this one (everything deletable then still is, unless
// registered again).
void GarbageCollector::start_data_deletion(Epoch epoch, sim::Instant at) {
    FLOE_SOMETIMES(rt_, site::gc_phase2_aborted_by_next_epoch,
                   data_deletion_.has_value() && !data_deletion_->is_finished());
    if (data_deletion_.has_value()) {
        data_deletion_->abort();
        (void)data_deletion_->join();
        data_deletion_.reset();
    }
    data_deletion_ = rt_.spawn(fmt::format("gc-data-deletion e{}", epoch), [this, epoch, at] {
        rt_.sleep_until(std::max(at, rt_.now()));
        (void)rt_.fail_point_async(site::data_deletion_start);
        if (!delete_expired_blob_data(epoch)) {
            return;
        }
        (void)rt_.fail_point(site::gc_set_last_completed_epoch);
        must(storage_.set_gc_last_completed_epoch(epoch), "record the completed epoch");
        rt_.mark(fmt::format("gc: epoch {} phase 2 completed", epoch));
    });
}

// delete_expired_blob_data(E): only on an Active node (checked once, at the start); the shards
// it deletes from are fixed then too. Each batch is a blocking call in Walrus, so other tasks
// (and an abort) get in between batches.
bool GarbageCollector::delete_expired_blob_data(Epoch epoch) {
    if (!storage_.status().is_active()) {
        FLOE_REACHABLE(rt_, site::gc_phase2_skipped_not_active);
        return false;
    }
    const std::vector<ShardIndex> shards = storage_.gc_shards();
    const auto blobs = blob_info_despite_read_errors();
    const size_t batch_size = std::max<size_t>(1, config_.data_deletion_batch_size);
    uint64_t deleted = 0;
    for (size_t i = 0; i < blobs.size(); ++i) {
        if (i > 0 && i % batch_size == 0) {
            rt_.yield();
        }
        (void)rt_.fail_point(site::gc_delete_expired_blob_data);
        const auto& [blob, info] = blobs[i];
        if (!info.can_data_be_deleted(epoch)) {
            continue;
        }
        // attempt_to_delete_blob_data_inner's errors (a read error of the blob info, a failed
        // commit) are logged and the loop goes on to the next blob (storage.rs l.919-936, 985-
        // 1003): its data is left to a later GC. An I/O error of the write has stopped the
        // process already (on_io_error), as RocksDB stops the database at it and Walrus's next
        // event-cursor write panics.
        auto result = storage_.delete_expired_blob_data(blob, epoch, shards, ReadErrors::to_caller);
        if (!result.ok()) {
            FLOE_SOMETIMES(rt_, site::gc_phase2_blob_read_error, result.error() == StoreError::io);
            rt_.mark(fmt::format("gc: epoch {} phase 2 left blob {}: {}", epoch, blob.short_hex(),
                                 store_error_name(result.error())));
            continue;
        }
        deleted += result.value() ? 1 : 0;
    }
    if (deleted > 0) {
        rt_.mark(fmt::format("gc: epoch {} phase 2 deleted the data of {} blobs", epoch, deleted));
    }
    return true;
}

// Walrus's phase 2 reads blob info in batches, each from a fresh iterator after the last blob
// it processed (storage.rs iterate_and_delete_expired_blob_data, l.871-945 at fb097a2262): a
// read error is logged and skipped, and since the iterator yields it again on every call, the
// rest of that batch goes with it; the next batch starts over after the last blob processed.
// So a transient error costs a re-read, and the node goes on. floe reads one snapshot; at a
// read error it starts a new scan after the last blob read, on the next turn of the scheduler.
std::vector<std::pair<BlobId, BlobInfo>> GarbageCollector::blob_info_despite_read_errors() {
    std::vector<std::pair<BlobId, BlobInfo>> blobs;
    std::optional<BlobId> after;
    while (!storage_.append_blob_info_after(after, blobs)) {
        FLOE_REACHABLE(rt_, site::gc_phase2_scan_read_error);
        if (!blobs.empty()) {
            after = blobs.back().first;
        }
        rt_.yield();
    }
    return blobs;
}

void GarbageCollector::delete_now_if_unregistered(const BlobId& blob, Epoch event_epoch) {
    if (!config_.enable_data_deletion || !config_.enable_immediate_data_deletion) {
        return;
    }
    const auto info = storage_.blob_info(blob);
    if (!info.has_value() || !info->can_data_be_deleted(event_epoch)) {
        return;
    }
    must(storage_.delete_expired_blob_data(blob, event_epoch, storage_.gc_shards()),
         "delete a deleted blob's data");
}

}  // namespace walrus
