#include "node/blob_recovery.h"

#include <fmt/format.h>

#include <algorithm>

#include "node/must.h"
#include "node/sites.h"
#include "node/spawn_blocking.h"
#include "node/walrus_panic.h"

namespace walrus {

BlobRecovery::BlobRecovery(sim::Runtime& rt, const NodeContext& context, NodeStorage& storage,
                           CommitteeService& committees)
    : rt_(rt),
      context_(context),
      storage_(storage),
      committees_(committees),
      params_{context.n_shards},
      syncs_(rt, *this, context.config.blob_recovery, context.config.old.notify_one_sync_waiter) {
    if (persists_proofs()) {
        for (const BlobId& blob : storage_.proofs_awaiting_invalidation()) {
            syncs_.note_proven_inconsistent(blob);
        }
    }
}

std::optional<BlobMetadata> BlobRecovery::recover_metadata_unless_retired(const BlobId& blob,
                                                                          Epoch certified_epoch) {
    return recover_metadata(blob, certified_epoch, [this, blob] { return is_retired(blob); });
}

void BlobRecovery::monitor_loop() {
    while (true) {
        rt_.sleep(context_.config.blob_recovery.monitor_interval);
        // cancel_all_expired_syncs_and_mark_events_completed: is_blob_certified at the committee
        // epoch.
        const Epoch epoch = committees_.current_committee_epoch();
        syncs_.cancel_syncs_where_not([&](const BlobId& blob) {
            const auto info = storage_.blob_info(blob);
            return info.has_value() && info->is_certified(epoch);
        });
    }
}

// §6.4 BlobSynchronizer::run. The shard set is recomputed from the event epoch on every pass
// (recover_blob_slivers); a shard removed while its sliver is being written (Walrus's
// UnregisteredColumn) makes the pass retry. A shard owned at the event epoch that does not exist
// when its sliver recovery starts makes Walrus panic (blob_sync.rs recover_sliver); the new
// behaviour blob-sync-skips-missing-shards skips it instead.
void BlobRecovery::synchronize_blob(const BlobId& blob, Epoch certified_epoch,
                                    sim::Semaphore& sliver_permits) {
    // BlobSynchronizer::run awaits current_event_epoch(): a sync a blob-event worker started
    // just after a restart waits for the first event that carries an epoch.
    committees_.wait_for_event_epoch();
    // Invariant 9: no blob sync runs while catching up (entering catch-up cancels them all, and
    // one dispatched later ends Skipped before it gets here).
    FLOE_ASSERT(!storage_.status().is_catching_up(),
                "blob {} synced while catching up (invariant 9)", blob.short_hex());
    const bool skip_missing = context_.config.old.blob_sync_skips_missing_shards;
    auto shards_now = [&] {
        std::vector<ShardIndex> shards;
        for (ShardIndex shard : committees_.shards_for_blob_sync(*committees_.event_epoch())) {
            if (!skip_missing || storage_.has_shard(shard)) {
                shards.push_back(shard);
            }
        }
        return shards;
    };
    // Step 1: an unknown shard assignment only logs here (is_stored_at_all_shards_at_epoch's
    // error); a missing shard is "not stored".
    if (committees_.shard_assignment_known(*committees_.event_epoch()) &&
        storage_.is_stored_at_shards(blob,
                                     committees_.owned_shards_at(*committees_.event_epoch()))) {
        return;
    }
    // recover_metadata (blob_sync.rs l.863-888 at fb097a2262): get_metadata and put_metadata's
    // batch write in spawn_blocking.
    BlobMetadata metadata =
        spawn_blocking(rt_, blocking_calls_as_tasks(), "get_metadata", [this, blob] {
            return storage_.metadata(blob);
        }).value_or(BlobMetadata{});
    if (metadata.n_shards == 0) {
        // Bounded by the sync's cancellation, not by retirement (BlobSynchronizer::run).
        metadata = *recover_metadata(blob, certified_epoch, [] { return false; });
        must(spawn_blocking(rt_, blocking_calls_as_tasks(), "put_metadata",
                            [this, metadata] { return storage_.put_metadata(metadata); }),
             "metadata");
    }
    while (true) {
        // recover_blob_slivers (blob_sync.rs): every shard at once, each under one sliver-pair
        // permit, its primary and secondary sliver at once (try_join). A sliver that cannot be
        // decoded yet must not hold back the other type, whose recovery may be what makes it
        // decodable (docs/FINDINGS.md, class C).
        sim::TaskGroup<PairOutcome> shards;
        const Epoch pass_epoch = *committees_.event_epoch();
        for (ShardIndex shard : shards_now()) {
            shards.add(
                rt_.spawn(fmt::format("recover-slivers {}", shard),
                          [this, &sliver_permits, metadata, shard, pass_epoch, certified_epoch] {
                              sim::Permit permit = sliver_permits.acquire();
                              return recover_pair(metadata, shard, pass_epoch, certified_epoch);
                          }));
        }
        const PairOutcome outcome = merge(shards.join_all());
        if (outcome.proof.has_value()) {
            // sync_inconsistency_proof: the blob is invalid; the sync ends (Success) once the
            // chain took the certificate, and the InvalidBlobId event drops its data.
            FLOE_REACHABLE(rt_, site::blob_sync_found_inconsistency);
            file_inconsistency_proof(*outcome.proof);
            ++blob_sync_inconsistency_proofs_;
            return;
        }
        if (!outcome.shard_removed) {
            return;
        }
        FLOE_REACHABLE(rt_, site::blob_sync_shard_removed_retry);
        rt_.sleep(context_.config.blob_sync_db_error_retry);  // §6.4 step 3: then recompute
    }
}

BlobRecovery::PairOutcome BlobRecovery::merge(const std::vector<PairOutcome>& outcomes) {
    PairOutcome merged;
    for (const PairOutcome& outcome : outcomes) {
        merged.shard_removed = merged.shard_removed || outcome.shard_removed;
        if (!merged.proof.has_value()) {
            merged.proof = outcome.proof;
        }
    }
    return merged;
}

// One shard's sliver pair of a blob sync: whether the shard was removed meanwhile (Walrus's
// UnregisteredColumn), or a sliver turned out inconsistent. Walrus's try_join stops the other
// slivers at the first proof; here they finish (the other slivers of an inconsistent blob
// decode, only the bad one does not).
BlobRecovery::PairOutcome BlobRecovery::recover_pair(const BlobMetadata& metadata, ShardIndex shard,
                                                     Epoch pass_epoch, Epoch certified_epoch) {
    const BlobId& blob = metadata.blob_id;
    if (!storage_.has_shard(shard) && !context_.config.old.blob_sync_skips_missing_shards) {
        FLOE_REACHABLE(rt_, site::walrus_panic_blob_sync_missing_shard);
        WALRUS_PANIC("blob_sync.rs recover_sliver",
                     "node {}: shard {} is managed by this node (owned at event epoch {}) but has "
                     "no storage; blob {}",
                     context_.index, shard, committees_.event_epoch().value_or(0),
                     blob.short_hex());
    }
    const uint32_t pair = pair_index(shard, context_.n_shards, blob);
    sim::TaskGroup<PairOutcome> types;
    const bool as_tasks = blocking_calls_as_tasks();
    for (SliverType type : {SliverType::primary, SliverType::secondary}) {
        // Inline, the existence check comes before the sliver's task (floe's model until 2
        // December 2026); as tasks, inside it, as Walrus's recover_sliver makes it.
        if (!storage_.has_shard(shard) || (!as_tasks && storage_.has_sliver(shard, type, blob))) {
            continue;
        }
        types.add(rt_.spawn(
            fmt::format("recover-sliver {}", sliver_type_name(type)),
            [this, metadata, shard, pair, type, pass_epoch, certified_epoch,
             as_tasks]() -> PairOutcome {
                // recover_sliver (blob_sync.rs l.913-939 at fb097a2262): is_sliver_stored in
                // spawn_blocking.
                if (as_tasks && spawn_blocking(rt_, true, "is_sliver_stored",
                                               [this, shard, type, blob = metadata.blob_id] {
                                                   return storage_.has_sliver(shard, type, blob);
                                               })) {
                    return PairOutcome{false, std::nullopt};
                }
                // Bounded by the sync's cancellation (§16 item 11), not by
                // retirement.
                RecoveredSliver recovered =
                    *recover_sliver(metadata, pair, type, certified_epoch, [] { return false; });
                if (const auto* proof = std::get_if<InconsistencyProof>(&recovered)) {
                    return PairOutcome{false, *proof};
                }
                (void)rt_.fail_point_async(site::fail_point_recover_sliver_before_put_sliver);
                check_blob_sync_target(metadata.blob_id, shard, pass_epoch);
                // put_sliver's insert in spawn_blocking (storage/shard.rs l.450-470): it lands
                // even if this sync is cancelled while it waits.
                auto put = spawn_blocking(rt_, as_tasks, "put_sliver",
                                          [this, shard, blob = metadata.blob_id,
                                           sliver = std::get<Sliver>(std::move(recovered))] {
                                              return storage_.put_sliver(shard, blob, sliver);
                                          });
                FLOE_ASSERT(put.ok() || put.error() == StoreError::no_such_shard, "put sliver: {}",
                            store_error_name(put.error()));
                return PairOutcome{!put.ok(), std::nullopt};
            }));
    }
    return merge(types.join_all());
}

// Invariant 10: a blob sync writes slivers only for shards owned at the event epoch its pass
// took the shard set from (§6.4: the event epoch, not the committee epoch, whose new shards
// may not exist yet), and that epoch is the node's event epoch or the one before.
void BlobRecovery::check_blob_sync_target(const BlobId& blob, ShardIndex shard, Epoch pass_epoch) {
    const std::vector<ShardIndex> owned = committees_.owned_shards_at(pass_epoch);
    FLOE_ASSERT(std::find(owned.begin(), owned.end(), shard) != owned.end(),
                "node {}: blob sync of {} writes shard {}, not owned at event epoch {} "
                "(invariant 10)",
                context_.index, blob.short_hex(), shard, pass_epoch);
    FLOE_ASSERT(committees_.event_epoch().has_value() && pass_epoch <= *committees_.event_epoch(),
                "node {}: blob sync of {} targets epoch {} ahead of the event epoch (invariant 10)",
                context_.index, blob.short_hex(), pass_epoch);
}

// Walrus notifies retirement on BlobDeleted and InvalidBlobId events and at every epoch change
// (blob_retirement_notifier.rs); a blob is retired when it is no longer certified at the
// committee epoch. floe reads the blob info before and after each attempt instead of
// interrupting one: an attempt during which the blob retired counts as retired, as the race
// between the operation and the notification decides in Walrus.
bool BlobRecovery::is_retired(const BlobId& blob) {
    const auto info = storage_.blob_info(blob);
    return !info.has_value() || !info->is_certified(committees_.current_committee_epoch());
}

std::optional<RecoveredSliver> BlobRecovery::recover_sliver_unless_retired(
    const BlobMetadata& metadata, uint32_t pair, SliverType type, Epoch certified_epoch) {
    return recover_sliver(metadata, pair, type, certified_epoch,
                          [this, blob = metadata.blob_id] { return is_retired(blob); });
}

std::optional<BlobMetadata> BlobRecovery::recover_metadata(const BlobId& blob,
                                                           Epoch certified_epoch,
                                                           const std::function<bool()>& retired) {
    // The outer optional: the attempt ended (metadata, or nothing once retired).
    return retry_with_backoff(
        rt_, committees_.retry_policy("metadata-retry"),
        [&]() -> std::optional<std::optional<BlobMetadata>> {
            if (retired()) {
                return std::optional<BlobMetadata>();
            }
            auto metadata = metadata_from_peers(blob, certified_epoch);
            if (!metadata.has_value()) {
                return std::nullopt;
            }
            if (retired()) {
                return std::optional<BlobMetadata>();  // retired during the attempt: dropped
            }
            return std::optional<std::optional<BlobMetadata>>(std::in_place, std::move(metadata));
        });
}

// One round of recover_metadata: each other member of the read committee, in random order,
// until one returns metadata that verifies.
std::optional<BlobMetadata> BlobRecovery::metadata_from_peers(const BlobId& blob,
                                                              Epoch certified_epoch) {
    const Committee& current =
        committees_.committee(committees_.read_committee_epoch(certified_epoch));
    std::vector<NodeIndex> members;
    for (const CommitteeMember& member : current.members) {
        if (member.node != context_.index) {
            members.push_back(member.node);
        }
    }
    rt_.rng("metadata-peers").shuffle(members);
    for (NodeIndex peer : members) {
        auto reply = rt_.call<std::optional<BlobMetadata>>(
            context_.directory.nodes[peer], method::get_metadata, GetMetadata{blob},
            context_.config.committee.metadata_request_timeout);
        if (reply.ok() && reply.value().has_value() &&
            *reply.value() == BlobMetadata::compute(blob, context_.n_shards)) {
            return *reply.value();
        }
    }
    return std::nullopt;
}

// Collects recovery symbols from every committee member in parallel until enough distinct
// shards answered, decodes, and checks the result against the metadata (§6.4). Retries with
// backoff while too few peers answer.
std::optional<RecoveredSliver> BlobRecovery::recover_sliver(const BlobMetadata& metadata,
                                                            uint32_t pair, SliverType type,
                                                            Epoch certified_epoch,
                                                            const std::function<bool()>& retired) {
    // The outer optional: the attempt ended (a sliver or a proof, or nothing once retired).
    return retry_with_backoff(rt_, committees_.retry_policy("sliver-retry"),
                              [&]() -> std::optional<std::optional<RecoveredSliver>> {
                                  if (retired()) {
                                      return std::optional<RecoveredSliver>();
                                  }
                                  std::optional<RecoveredSliver> recovered =
                                      sliver_from_committee(metadata, pair, type, certified_epoch);
                                  if (!recovered.has_value()) {
                                      return std::nullopt;  // too few symbols
                                  }
                                  if (retired()) {
                                      // execute_with_retirement_check races the recovery against
                                      // the retirement notification: a blob retired while its
                                      // symbols were collected is dropped, whatever the attempt
                                      // decoded (a sliver, or a proof nobody could sign now).
                                      return std::optional<RecoveredSliver>();
                                  }
                                  return std::optional<std::optional<RecoveredSliver>>(
                                      std::in_place, std::move(recovered));
                              });
}

// One round of recover_sliver: the decoded sliver if it verifies against the metadata, else the
// proof that it does not (the symbols verified against the metadata, so the encoding is at
// fault, not a peer).
std::optional<RecoveredSliver> BlobRecovery::sliver_from_committee(const BlobMetadata& metadata,
                                                                   uint32_t pair, SliverType type,
                                                                   Epoch certified_epoch) {
    const Committee& current =
        committees_.committee(committees_.read_committee_epoch(certified_epoch));
    std::vector<sim::JoinHandle<std::vector<RecoverySymbol>>> requests;
    for (const CommitteeMember& member : current.members) {
        const sim::HostId host = context_.directory.nodes[member.node];
        requests.push_back(rt_.spawn("symbols", [this, host, blob = metadata.blob_id, pair, type] {
            auto reply = rt_.call<std::vector<RecoverySymbol>>(
                host, method::recovery_symbols, RecoverySymbolsRequest{blob, pair, type},
                context_.config.committee.sliver_request_timeout);
            return reply.ok() ? std::move(reply).value() : std::vector<RecoverySymbol>{};
        }));
    }
    std::vector<RecoverySymbol> symbols;
    for (auto& request : requests) {
        auto answer = request.join();
        if (answer.ok()) {
            symbols.insert(symbols.end(), answer.value().begin(), answer.value().end());
        }
    }
    const auto sliver = decode_sliver(metadata.blob_id, pair, type, params_, symbols);
    if (!sliver.has_value()) {
        return std::nullopt;
    }
    if (metadata.verifies(*sliver)) {
        return RecoveredSliver(*sliver);
    }
    return RecoveredSliver(InconsistencyProof{metadata.blob_id, pair, type, sliver->digest});
}

void BlobRecovery::file_inconsistency_proof(const InconsistencyProof& proof) {
    if (persists_proofs() && !syncs_.awaits_invalidation(proof.blob)) {
        must(storage_.add_proof_awaiting_invalidation(proof.blob), "persist a proof");
    }
    syncs_.note_proven_inconsistent(proof.blob);
    InvalidBlobFiler filer{rt_, context_.directory, context_.config.committee, [this] {
                               return committees_.committee(committees_.current_committee_epoch());
                           }};
    (void)filer.file(
        proof, [this, blob = proof.blob] { return is_retired(blob); },
        context_.config.old.retire_inconsistency_filing);
}

void BlobRecovery::proof_invalidated(const BlobId& blob) {
    if (persists_proofs()) {
        must(storage_.remove_proof_awaiting_invalidation(blob), "forget a proof");
    }
}

}  // namespace walrus
