#pragma once
// The attester (walrus-recovery-spec.md §1.1 contract service, §7.8): epoch_sync_done(E) is sent
// by exactly one component per processing of EpochChangeStart(E) (invariant 4). A component
// first claims the attestation, which checks invariant 4 and that every owned shard is Active,
// and gets an AttestationToken; the token is consumed exactly once, by queueing it for the
// attester task or by submitting it in the caller's own task (the finisher).

#include <map>
#include <utility>
#include <vector>

#include "node/committee_service.h"
#include "node/node_context.h"
#include "node/node_recovery.h"
#include "node/node_storage.h"
#include "node/shard_sync.h"
#include "sim/runtime.h"

namespace walrus {

// One component's right to attest one epoch. Move-only; spent by Attester::queue or
// Attester::submit. Destroying an unspent token is a bug, except while its fiber unwinds (a
// crash or an abort drops it, as Walrus drops the future that held it).
class AttestationToken {
public:
    AttestationToken(AttestationToken&& other) noexcept;
    AttestationToken& operator=(AttestationToken&&) = delete;
    AttestationToken(const AttestationToken&) = delete;
    AttestationToken& operator=(const AttestationToken&) = delete;
    ~AttestationToken();

    Epoch epoch() const { return epoch_; }
    const char* component() const { return component_; }

private:
    friend class Attester;
    AttestationToken(Epoch epoch, const char* component) : epoch_(epoch), component_(component) {}
    Epoch spend();

    Epoch epoch_;
    const char* component_;
    bool spent_ = false;
};

class Attester final : public ShardSyncAttester, public RecoveryAttester {
public:
    Attester(sim::Runtime& rt, const NodeContext& context, CommitteeService& committees,
             NodeStorage& storage);
    Attester(const Attester&) = delete;
    Attester& operator=(const Attester&) = delete;

    // ShardSyncAttester: the last shard sync of an epoch succeeded.
    void attest(Epoch epoch, bool resumed_at_startup) override {
        queue(claim(epoch, "shard-sync", resumed_at_startup));
    }
    // RecoveryAttester: T8.
    void attest_recovered(Epoch epoch, bool resumed_at_startup) override {
        queue(claim(epoch, "node-recovery", resumed_at_startup));
    }

    // Invariant 4: a new attestation round for `epoch` (this incarnation began processing
    // EpochChangeStart(epoch)).
    void begin_round(Epoch epoch) { epoch_change_started_.insert(epoch); }
    // §7.8, invariant 4: within one incarnation, one component attests an epoch.
    // `resumed_at_startup`: the claiming work was resumed from persisted state at startup, so it
    // belongs to no EpochChangeStart processing of this incarnation, whenever it finishes.
    AttestationToken claim(Epoch epoch, const char* component, bool resumed_at_startup = false);
    // Hands the attestation to the attester task.
    void queue(AttestationToken token);
    // Sends it from the caller's task; blocks until the chain took it or moved on.
    void submit(AttestationToken token);
    void attest_as(Epoch epoch, const char* component) { queue(claim(epoch, component)); }

    // The attester task's body: submits queued attestations one at a time, forever.
    void attester_loop();

    bool all_owned_shards_active(Epoch epoch) override;
    // "" when every shard the node owns in `epoch` is Active, else the first that is not and why
    // ("shard 5 is LockedToMove"): the false-attestation assertion names it.
    std::string first_owned_shard_not_active(Epoch epoch);

private:
    void submit_attestation(Epoch epoch);

    sim::Runtime& rt_;
    const NodeContext& context_;
    CommitteeService& committees_;
    NodeStorage& storage_;
    std::vector<Epoch> to_attest_;
    // Invariant 4, scoped to one processing of EpochChangeStart(E): keyed by (E, whether this
    // incarnation had begun processing EpochChangeStart(E) when the claim was made). Work resumed
    // at startup (restart_syncs, at the latest committee epoch) may attest E before the replayed
    // EpochChangeStart(E) routes the attestation afresh; Walrus re-sends then too, and the chain
    // drops the duplicate (EDuplicateSyncDone / LatestAttestedIsMoreRecent).
    std::map<std::pair<Epoch, bool>, const char*> attester_of_;
    std::set<Epoch> epoch_change_started_;
    sim::Notify attest_wakeup_{"attester"};
};

}  // namespace walrus
