// Scenarios for the parts of Walrus that shape recovery from the side (walrus-recovery-spec.md
// §4.1, §5, §6.3, §6.4): the blob-event workers racing entry into catch-up (the #2216 Skipped
// outcome), garbage collection while a node recovers, and a blob a node proved inconsistent just
// before it processed an EpochChangeStart (finding F9). Each checks that it reached what it is
// about, so a model change that makes it pass without reaching it fails instead.
#include <fmt/format.h>

#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

// The node has handled every chain event so far and has no blob sync running.
bool caught_up(Scenario& s, NodeIndex node) {
    const auto info = s.health(node);
    return info.has_value() && info->persisted_cursor == s.chain().events().size() &&
           info->blob_syncs_in_progress == 0;
}

// Extends a live, certified permanent object by `epochs` (a BlobCertified with is_extension,
// which carries no event epoch). The blob, or nullopt if there is none.
std::optional<walrus::BlobId> extend_any_permanent_blob(Scenario& s, Epoch epochs) {
    walrus::Chain& chain = s.cluster().chain();
    for (const walrus::ChainEvent& event : chain.events()) {
        const auto* certified = std::get_if<walrus::BlobCertified>(&event.body);
        if (certified == nullptr || certified->deletable || certified->is_extension) {
            continue;
        }
        const auto object = chain.object(certified->object_id);
        if (object.has_value() && object->end_epoch > chain.current_epoch() + 1 &&
            chain.extend_blob(certified->object_id, object->end_epoch + epochs).ok()) {
            return certified->blob_id;
        }
    }
    return std::nullopt;
}

// --- skipped-at-catch-up ---------------------------------------------------------------------

void skipped_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    // One event per read: the event loop waits for the chain between any two events, so the
    // worker that got the extension runs before the next event is processed (Walrus's event
    // stream delivers in chunks; the race needs the extension at the end of one).
    config.node.events.events_per_poll = 1;
}

// #2216 (spec §6.3 step 1, §5): node 0 comes back two epochs behind, and the first event after
// its cursor is a blob extension, which has no event epoch, so the lag check waits for the next
// event. The extension goes to a blob-event worker, which passes its checks (Active, certified)
// and pauses at fail_point_process_blob_certified_event; meanwhile the next event shows the lag
// and the node enters RecoveryCatchUp, cancelling the syncs it has. The worker's start_sync
// comes after that: its sync sees RecoveryCatchUp first and ends Skipped.
void skipped_at_catch_up(Scenario& s) {
    s.sleep(60_s);
    s.stop_workload();
    if (!s.wait_until("node 0 has handled every event", 120_s, [&] { return caught_up(s, 0); })) {
        return;
    }
    s.kill(0);
    const auto extended = extend_any_permanent_blob(s, 10);
    if (!s.check(extended.has_value(), "no live permanent blob to extend")) {
        return;
    }
    s.mark(fmt::format("extended blob {} while node 0 is down", extended->short_hex()));
    s.start_workload();
    const Epoch down_at = s.epoch();
    if (!s.wait_until("two epoch changes while node 0 is down", 300_s,
                      [&] { return s.epoch() >= down_at + 2; })) {
        return;
    }
    s.arm("fail_point_process_blob_certified_event",
          sim::FailPointAction::sleep(200_ms).once().only_on(s.cluster().host(0)));
    s.restart(0);
    if (!s.wait_until("node 0's extension sync ended", 120_s, [&] {
            const auto info = s.health(0);
            return info.has_value() && info->event_syncs_skipped + info->event_syncs_cancelled +
                                               info->event_syncs_succeeded >
                                           0;
        })) {
        return;
    }
    const auto info = s.health(0);
    s.report("event_syncs_skipped", static_cast<int64_t>(info->event_syncs_skipped));
    if (!s.check(info->event_syncs_skipped > 0,
                 fmt::format("node 0's worker-started sync was not Skipped (skipped {}, "
                             "cancelled {}, succeeded {})",
                             info->event_syncs_skipped, info->event_syncs_cancelled,
                             info->event_syncs_succeeded))) {
        return;
    }
    finish_with_convergence(s);
}

// --- gc-during-recovery ----------------------------------------------------------------------

void gc_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    // Blobs that live two epochs and are often deleted: every epoch change expires some.
    config.client.max_lifetime = 1;
    config.client.deletable_share = 0.5;
    config.client.delete_probability = 0.3;
}

// §4.1: node 0 is down for three epoch changes; while it catches up and recovers, GC phase 1 runs
// at every EpochChangeStart it processes, and the other nodes' phase 2 deletes the data of the
// blobs that expired, some of which node 0's recovery is syncing. Node 0 must converge, and
// every blob certified at the end must be stored everywhere.
void gc_during_recovery(Scenario& s) {
    s.sleep(45_s);
    const Epoch down_at = s.epoch();
    s.kill(0);
    if (!s.wait_until("three epoch changes while node 0 is down", 400_s,
                      [&] { return s.epoch() >= down_at + 3; })) {
        return;
    }
    const uint64_t expired_before = hits_on(s, "gc_process_expired_blob_objects", 0);
    s.restart(0);
    if (!wait_recovered(s, 0, 600_s)) {
        return;
    }
    const uint64_t expired_while_recovering =
        hits_on(s, "gc_process_expired_blob_objects", 0) - expired_before;
    uint64_t deleted_elsewhere = 0;
    for (NodeIndex node : s.all_nodes()) {
        deleted_elsewhere += node == 0 ? 0 : hits_on(s, "gc_delete_expired_blob_data", node);
    }
    s.report("expired_while_recovering", static_cast<int64_t>(expired_while_recovering));
    s.report("gc_items_elsewhere", static_cast<int64_t>(deleted_elsewhere));
    if (!s.check(expired_while_recovering > 0,
                 "node 0's GC phase 1 expired no object while it caught up and recovered") ||
        !s.check(deleted_elsewhere > 0, "no other node's GC phase 2 looked at any blob")) {
        return;
    }
    finish_with_convergence(s);
}

// --- proven-inconsistent-at-epoch-boundary (Walrus finding F9) --------------------------------

// The index of the blob's certify event on the chain.
std::optional<walrus::EventIndex> certify_event_of(Scenario& s, const walrus::BlobId& blob) {
    for (const walrus::ChainEvent& event : s.chain().events()) {
        const auto* certified = std::get_if<walrus::BlobCertified>(&event.body);
        if (certified != nullptr && certified->blob_id == blob) {
            return event.index;
        }
    }
    return std::nullopt;
}

// How the F9 scenarios reach the report once node 0 proved the blob: at once, or after a crash
// that kept the certify event complete and the EpochChangeStart not (swarm 24704).
enum class AfterProof : uint8_t { report, crash_then_report };

// Finding F9 (§12; consistency_check.rs, blob_event_processor.rs, blob_sync.rs
// sync_inconsistency_proof). Node 0 is down while a blob whose bad sliver belongs to one of its
// shards is certified, and stays down until the next epoch started, so the chain's
// EpochChangeStart(E+1) comes after the BlobCertified and before any InvalidBlobId. Restarted,
// node 0 replays the certify event; its blob sync recovers the bad sliver, proves the blob
// inconsistent, gets it invalidated on chain and ends. The sync is over, the blob still
// certified in node 0's blob info (the InvalidBlobId waits behind the EpochChangeStart), and
// never to be stored: node 0's consistency report for E+1, which skips only blobs with a sync
// in progress, counts it as not stored, and the checker (the simtests' "every existence fraction
// is 1.0") fails the run. A delay at epoch_change_start_entry on node 0 lets the sync end first,
// as a busy node's event backlog does. With --new-behaviour
// existence-check-skips-proven-inconsistent the report skips the blob and the run passes.
void proven_inconsistent_scenario(Scenario& s, AfterProof after_proof) {
    s.sleep(30_s);
    s.stop_workload();
    // Early in an epoch, so the blob is certified well before the next one starts.
    const Epoch started = s.epoch();
    if (!s.wait_until("the next epoch started", 120_s, [&] { return s.epoch() > started; }) ||
        !s.wait_until("node 0 has handled every event", 120_s, [&] { return caught_up(s, 0); })) {
        return;
    }
    const Epoch epoch = s.epoch();
    const auto committee = s.chain().committee_at(epoch);
    const std::vector<walrus::ShardIndex> shards =
        committee.has_value() ? committee->shards_of(0) : std::vector<walrus::ShardIndex>{};
    if (!s.check(!shards.empty(), fmt::format("node 0 owns no shard at epoch {}", epoch))) {
        return;
    }
    const walrus::ShardIndex shard = shards[s.rng().below(shards.size())];
    s.kill(0);
    const walrus::BlobId blob =
        inconsistent_blob_at(shard, s.cluster().n_shards(), s.rng().next_u64());
    const auto written = s.write_blob(blob, 10);
    s.mark(fmt::format("inconsistent blob {} (bad sliver at node 0's shard {}, node 0 down)",
                       blob.short_hex(), shard));
    if (!s.check(written.has_value(), "the inconsistent blob could not be certified") ||
        !s.check(s.epoch() == epoch,
                 fmt::format("the blob was certified in epoch {}, not {}", s.epoch(), epoch)) ||
        !s.wait_until("the next epoch started while node 0 is down", 120_s,
                      [&] { return s.epoch() > epoch; }) ||
        !s.check(s.epoch() == epoch + 1, "two epochs started while node 0 was down")) {
        return;
    }
    s.arm("epoch_change_start_entry",
          sim::FailPointAction::sleep(20_s).once().only_on(s.cluster().host(0)));
    const Counter counted =
        s.counter("walrus_finding_f9_existence_check_counts_proven_inconsistent", 0);
    s.restart(0);
    if (!s.wait_until("node 0 proved the blob inconsistent and the chain invalidated it", 120_s,
                      [&] { return s.chain().is_invalid(blob); })) {
        return;
    }
    if (after_proof == AfterProof::crash_then_report) {
        // The sync that proved the blob completed the certify event; the EpochChangeStart behind
        // it is still held at its entry. A crash now leaves nothing to replay that would prove
        // the blob again.
        const auto certify = certify_event_of(s, blob);
        if (!s.check(certify.has_value(), "the blob's certify event is not on the chain") ||
            !s.wait_until("node 0 persisted the certify event as complete", 60_s, [&] {
                const auto info = s.health(0);
                return info.has_value() && info->persisted_cursor > *certify;
            })) {
            return;
        }
        s.kill(0);
        s.mark("node 0 crashed after the proof, before its EpochChangeStart");
        s.restart(0);
    }
    if (!s.wait_until("node 0's consistency report met the blob it proved inconsistent", 120_s,
                      [&] { return counted.value() > 0; })) {
        return;
    }
    s.report("epoch", static_cast<int64_t>(epoch + 1));
    // The checker compares epoch E+1's reports once E+2 started.
    if (!s.wait_until("the checker compared the reports of the epoch after the blob's", 300_s,
                      [&] { return s.cluster().consistency_checked_epoch() > epoch; })) {
        return;
    }
    finish_with_convergence(s);
}

void proven_inconsistent_at_epoch_boundary(Scenario& s) {
    proven_inconsistent_scenario(s, AfterProof::report);
}

void proven_inconsistent_then_restart(Scenario& s) {
    proven_inconsistent_scenario(s, AfterProof::crash_then_report);
}

}  // namespace

std::vector<ScenarioSpec> model_scenarios() {
    return {
        scripted_spec("skipped-at-catch-up",
                      "node 0 restarts two epochs behind with a blob extension first after its "
                      "cursor: the blob-event worker's sync starts after the node entered "
                      "RecoveryCatchUp and must end Skipped; then everyone converges",
                      "#2216 (spec §6.3 step 1), blob_event_processor.rs workers (§5)",
                      skipped_build, skipped_at_catch_up),
        scripted_spec("gc-during-recovery",
                      "node 0 is down three epoch changes while short-lived and deleted blobs "
                      "expire; GC phase 1 runs on node 0 during its catch-up and recovery and "
                      "phase 2 deletes expired data elsewhere; everyone converges",
                      "spec §4.1 (garbage_collector.rs phases 1 and 2)", gc_build,
                      gc_during_recovery),
        scripted_spec("proven-inconsistent-at-epoch-boundary",
                      "node 0 is down while a blob with a bad sliver at one of its shards is "
                      "certified and the next epoch starts; restarted, its blob sync proves the "
                      "blob inconsistent before it processes EpochChangeStart, whose consistency "
                      "report then counts the blob, still certified until its InvalidBlobId, as "
                      "not stored (Walrus finding F9)",
                      "consistency_check.rs existence check (spec §12), blob_sync.rs "
                      "sync_inconsistency_proof",
                      [](const Params&, sim::Rng&, ClusterConfig&) {},
                      proven_inconsistent_at_epoch_boundary, {}, {},
                      {"existence-check-skips-proven-inconsistent"}),
        scripted_spec("proven-inconsistent-then-restart",
                      "as proven-inconsistent-at-epoch-boundary, but node 0 crashes after its "
                      "proof completed the certify event and before its EpochChangeStart: "
                      "restarted, it replays only the EpochChangeStart, and its report counts "
                      "the blob it proved before the crash as not stored (Walrus finding F9, "
                      "swarm 24704; the fix persists its proofs)",
                      "consistency_check.rs existence check (spec §12), blob_sync.rs "
                      "sync_inconsistency_proof",
                      [](const Params&, sim::Rng&, ClusterConfig&) {},
                      proven_inconsistent_then_restart, {}, {},
                      {"existence-check-skips-proven-inconsistent"}),
    };
}

}  // namespace floe::scenarios
