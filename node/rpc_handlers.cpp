#include "node/rpc_handlers.h"

#include "node/invalid_blob.h"
#include "node/sites.h"
#include "node/spawn_blocking.h"

#include <algorithm>

namespace walrus {

RpcHandlers::RpcHandlers(sim::Runtime& rt, const NodeContext& context, const RpcHandlerParts& parts)
    : rt_(rt),
      context_(context),
      storage_(parts.storage),
      committees_(parts.committees),
      parts_(parts) {}

void RpcHandlers::serve() {
    rt_.serve<StoreBlobRequest, StoreBlobReply>(method::store_blob,
                                                [this](sim::HostId, StoreBlobRequest request) {
                                                    return handle_store_blob(std::move(request));
                                                });
    rt_.serve<GetMetadata, std::optional<BlobMetadata>>(
        method::get_metadata, [this](sim::HostId, GetMetadata request) {
            // §11 (retrieve_metadata): the node answers Unavailable.
            if (rt_.fail_point(site::get_metadata_return_unavailable) ==
                sim::FailPointOutcome::inject_error) {
                return std::optional<BlobMetadata>();
            }
            // get_metadata in spawn_blocking (node.rs l.4476 at fb097a2262).
            return spawn_blocking(
                rt_, blocking_calls_as_tasks(), "get_metadata",
                [this, blob = request.blob_id] { return storage_.metadata(blob); });
        });
    rt_.serve<GetSliver, std::optional<Sliver>>(
        method::get_sliver, [this](sim::HostId, GetSliver request) {
            // retrieve_sliver_unchecked: get_sliver in spawn_blocking (node.rs l.3899).
            return spawn_blocking(rt_, blocking_calls_as_tasks(), "get_sliver", [this, request] {
                return storage_.sliver(request.shard, request.type, request.blob_id);
            });
        });
    rt_.serve<MissingSlivers, std::vector<MissingSliver>>(
        method::missing_slivers, [this](sim::HostId, const MissingSlivers& request) {
            std::vector<MissingSliver> missing;
            for (const BlobId& blob : request.blobs) {
                for (ShardIndex shard : request.shards) {
                    for (SliverType type : {SliverType::primary, SliverType::secondary}) {
                        if (!storage_.has_sliver(shard, type, blob)) {
                            missing.push_back({blob, shard, type});
                        }
                    }
                }
            }
            return missing;
        });
    rt_.serve<RecoverySymbolsRequest, std::vector<RecoverySymbol>>(
        method::recovery_symbols, [this](sim::HostId, RecoverySymbolsRequest request) {
            return handle_recovery_symbols(request);
        });
    rt_.serve<SyncShardRequest, SyncShardReply>(
        method::sync_shard,
        [this](sim::HostId, SyncShardRequest request) { return handle_sync_shard(request); });
    rt_.serve<InvalidBlobAttestationRequest, std::optional<InvalidBlobAttestation>>(
        method::invalid_blob_attestation,
        [this](sim::HostId, const InvalidBlobAttestationRequest& request) {
            return attest_invalid_blob(storage_, context_.index,
                                       committees_.current_committee_epoch(), request);
        });
    rt_.serve<HealthRequest, HealthInfo>(
        method::health, [this](sim::HostId, HealthRequest) { return handle_health(); });
    rt_.serve<ConsistencyRequest, ConsistencyReply>(
        method::consistency, [this](sim::HostId, ConsistencyRequest request) {
            auto it = parts_.consistency.find(request.epoch);
            return ConsistencyReply{it != parts_.consistency.end()
                                        ? std::optional<ConsistencyReport>(it->second)
                                        : std::nullopt};
        });
}

StoreBlobReply RpcHandlers::handle_store_blob(StoreBlobRequest request) {
    const BlobId& blob = request.metadata.blob_id;
    StoreBlobReply reply;
    if (!committees_.event_epoch().has_value()) {
        reply.error = StoreBlobError::not_registered;
        return reply;
    }
    const Epoch epoch = *committees_.event_epoch();
    const auto info = storage_.blob_info(blob);
    if (info.has_value() && info->invalid) {
        reply.error = StoreBlobError::invalid_blob;
        return reply;
    }
    if (!info.has_value() || !info->is_registered(epoch)) {
        reply.error = StoreBlobError::not_registered;
        return reply;
    }
    if (!(request.metadata == BlobMetadata::compute(blob, context_.n_shards))) {
        reply.error = StoreBlobError::bad_sliver;
        return reply;
    }
    const std::vector<ShardIndex> owned = committees_.owned_shards_at(epoch);
    std::vector<std::pair<ShardIndex, std::pair<Sliver, Sliver>>> slivers;
    for (const auto& part : request.slivers) {
        if (std::find(owned.begin(), owned.end(), part.shard) == owned.end() ||
            !storage_.has_shard(part.shard)) {
            reply.error = StoreBlobError::not_owner;
            return reply;
        }
        const uint32_t pair = pair_index(part.shard, context_.n_shards, blob);
        if (part.primary.pair != pair || part.secondary.pair != pair ||
            !request.metadata.verifies(part.primary) ||
            !request.metadata.verifies(part.secondary)) {
            reply.error = StoreBlobError::bad_sliver;
            return reply;
        }
        slivers.push_back({part.shard, {part.primary, part.secondary}});
    }
    if (!storage_.put_blob(request.metadata, slivers).ok()) {
        reply.error = StoreBlobError::storage;
        return reply;
    }
    for (const auto& part : request.slivers) {
        reply.stored_shards.push_back(part.shard);
    }
    return reply;
}

std::vector<RecoverySymbol> RpcHandlers::handle_recovery_symbols(
    const RecoverySymbolsRequest& request) {
    const SliverType source_type =
        request.target_type == SliverType::primary ? SliverType::secondary : SliverType::primary;
    const std::vector<ShardIndex> shards = storage_.existing_shards();
    std::vector<std::optional<Sliver>> sources;
    if (blocking_calls_as_tasks()) {
        // retrieve_multiple_recovery_symbols polls every symbol's retrieval at once
        // (FuturesOrdered), and each reads its source sliver in spawn_blocking
        // (retrieve_sliver_unchecked, node.rs l.3899): one task per sliver, all started before
        // any is joined, joined in order. A shard removed meanwhile gives no symbol.
        sim::TaskGroup<std::optional<Sliver>> reads;
        for (ShardIndex shard : shards) {
            reads.add(rt_.spawn("get_sliver", [this, shard, source_type, blob = request.blob_id] {
                return storage_.sliver(shard, source_type, blob);
            }));
        }
        sources = reads.join_all();
    } else {
        for (ShardIndex shard : shards) {
            sources.push_back(storage_.sliver(shard, source_type, request.blob_id));
        }
    }
    std::vector<RecoverySymbol> symbols;
    for (size_t i = 0; i < shards.size(); ++i) {
        if (sources[i].has_value()) {
            symbols.push_back(make_recovery_symbol(request.blob_id, request.target_pair,
                                                   request.target_type, shards[i], *sources[i]));
        }
    }
    return symbols;
}

// §8.5 server side (node.rs sync_shard). Requests are checked against the committee service's
// epoch: the latest chain epoch at startup, moved at the start of each EpochChangeStart's
// processing (§7.2) — not the event epoch, so a restarted or busy source still serves. A
// LockedToMove shard still serves: it is the sync source for the node that gained it.
SyncShardReply RpcHandlers::handle_sync_shard(const SyncShardRequest& request) {
    SyncShardReply reply;
    reply.server_epoch = committees_.current_committee_epoch();
    if (request.epoch != reply.server_epoch) {
        // §8.4: the requester retries a source behind it and forces recovery from one ahead.
        FLOE_SOMETIMES(rt_, site::sync_source_behind_requester, reply.server_epoch < request.epoch);
        FLOE_SOMETIMES(rt_, site::sync_source_ahead_of_requester,
                       reply.server_epoch > request.epoch);
        reply.error = SyncShardError::invalid_epoch;
        return reply;
    }
    const Committee& current = committees_.committee(request.epoch);
    const auto owned = current.shards_of(request.requester);
    if (std::find(owned.begin(), owned.end(), request.shard) == owned.end()) {
        FLOE_REACHABLE(rt_, site::sync_request_unauthorized);
        reply.error = SyncShardError::unauthorized;  // #3420
        return reply;
    }
    // storage.rs handle_sync_shard_request, after the request was validated: an Internal error,
    // which the requester answers with direct recovery (handle_sync_error).
    if (rt_.fail_point(site::fail_point_sync_shard_return_error) ==
        sim::FailPointOutcome::inject_error) {
        reply.error = SyncShardError::injected;
        return reply;
    }
    if (request.count > context_.config.shard_sync.max_sliver_count_per_sync_request) {
        reply.error = SyncShardError::too_many_slivers;
        return reply;
    }
    if (!storage_.has_shard(request.shard)) {
        reply.error = SyncShardError::shard_not_assigned;
        return reply;
    }
    if (rt_.fail_point(site::fail_point_sync_shard_return_empty) ==
        sim::FailPointOutcome::inject_error) {
        return reply;
    }
    // The batch is read in spawn_blocking (storage.rs l.1275 at fb097a2262) on the shard's
    // storage looked up before it. A shard removed while the task waited has its column families
    // dropped, and Walrus's read of them fails (typed-store's UnregisteredColumn, an Internal
    // error for the requester: errors.rs l.435-439).
    auto batch = spawn_blocking(
        rt_, blocking_calls_as_tasks(), "fetch_slivers",
        [this, request]() -> std::optional<std::vector<std::pair<BlobId, Sliver>>> {
            if (!storage_.has_shard(request.shard)) {
                return std::nullopt;
            }
            return storage_.slivers_for_sync(request.shard, request.type, request.start,
                                             request.count, request.epoch);
        });
    if (!batch.has_value()) {
        FLOE_REACHABLE(rt_, site::sync_source_shard_removed_during_fetch);
        reply.error = SyncShardError::storage;
        return reply;
    }
    reply.slivers = std::move(*batch);
    return reply;
}

HealthInfo RpcHandlers::handle_health() {
    HealthInfo info;
    info.status = storage_.status();
    info.node_status = info.status.to_string();
    info.event_epoch = committees_.event_epoch();
    info.persisted_cursor = storage_.event_cursor();
    info.blob_syncs_in_progress = parts_.blob_sync.in_progress_count();
    info.shard_syncs_running = parts_.shard_sync.running_tasks();
    info.transferred_slivers = parts_.shard_sync.stats().transferred_slivers;
    info.recovered_slivers = parts_.shard_sync.stats().recovered_slivers;
    info.shard_sync_inconsistency_proofs = parts_.shard_sync.stats().inconsistency_proofs;
    info.blob_sync_inconsistency_proofs = parts_.blob_sync_inconsistency_proofs;
    info.direct_recoveries = parts_.shard_sync.stats().direct_recoveries;
    info.recovery = parts_.recovery.stats();
    info.recovery_running = parts_.recovery.is_running();
    info.existing_shards = storage_.existing_shards();
    for (const auto& [outcome, count] : parts_.blob_events.event_sync_outcomes()) {
        (outcome == SyncOutcome::success     ? info.event_syncs_succeeded
         : outcome == SyncOutcome::cancelled ? info.event_syncs_cancelled
                                             : info.event_syncs_skipped) += count;
    }
    // health_info's shard_detail.owned: the shards of the latest committee.
    for (ShardIndex shard : committees_.owned_shards_at(committees_.current_committee_epoch())) {
        const ShardStatus status = storage_.shard_status(shard);
        info.owned_shards.push_back(ShardHealth{shard, status, shard_api_status(status)});
    }
    return info;
}

}  // namespace walrus
