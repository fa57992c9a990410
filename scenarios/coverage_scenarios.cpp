// Scenarios that drive node recovery into states the random and simtest scenarios reach rarely or
// never, and fail the run when the state is not reached, so a change elsewhere cannot quietly stop
// covering it (walrus-recovery-spec.md §6.4, §7.6, §9.1, §9.3, §9.5; §10 invariants 3, 21, 22):
//
//   retry-backoff-cap                    one blob's cancelled recovery sync retried until the 30 s
//                                        cap of #3407's backoff, within one pass
//   recovery-superseded-by-epoch-change  a pass for E still running when the node moves to
//                                        RecoveryInProgress(E+1): only the new pass completes
//   recovery-at-decoding-threshold       a blob sync with one source shard fewer than the decoding
//                                        threshold reachable waits, and succeeds once one more
//                                        node is reachable
#include <fmt/ranges.h>

#include <algorithm>

#include "scenarios/scenario_library.h"

namespace floe::scenarios {

using namespace sim::time_literals;

namespace {

// Disarms a fail point when the script ends, passed or failed (a failed run unwinds the script):
// the action's closure refers to the script's locals.
class DisarmAtExit {
public:
    DisarmAtExit(Scenario& s, std::string fail_point) : s_(s), fail_point_(std::move(fail_point)) {}
    DisarmAtExit(const DisarmAtExit&) = delete;
    DisarmAtExit& operator=(const DisarmAtExit&) = delete;
    ~DisarmAtExit() { s_.disarm(fail_point_); }

private:
    Scenario& s_;
    std::string fail_point_;
};

// A trace sink on one node's records of one kind, attached for its lifetime. Sinks only observe:
// they see the events the kernel folds into the hash anyway, and change nothing.
class NodeTraceWatch : public sim::TraceSink {
public:
    NodeTraceWatch(Scenario& s, NodeIndex node, sim::TraceKind kind)
        : trace_(s.sim().trace()), host_(s.cluster().host(node)), kind_(kind) {}
    NodeTraceWatch(const NodeTraceWatch&) = delete;
    NodeTraceWatch& operator=(const NodeTraceWatch&) = delete;
    ~NodeTraceWatch() override = default;

    uint32_t wanted_kinds() const final { return sim::trace_kind_bit(kind_); }
    void record(const sim::TraceRecord& record) final {
        if (record.host == host_) {
            on_record(record);
        }
    }

protected:
    virtual void on_record(const sim::TraceRecord& record) = 0;
    // Called by the most derived constructor and destructor: the trace reads wanted_kinds() as
    // it attaches.
    void attach() { trace_.attach(*this); }
    void detach() { trace_.detach(*this); }

private:
    sim::Trace& trace_;
    sim::HostId host_;
    sim::TraceKind kind_;
};

// The node statuses one node went through, in order, repeats dropped (NodeStorage reports each
// successful status write as the "node-status" state).
class StatusHistory final : public NodeTraceWatch {
public:
    StatusHistory(Scenario& s, NodeIndex node) : NodeTraceWatch(s, node, sim::TraceKind::state) {
        attach();
    }
    ~StatusHistory() override { detach(); }

    // From the first time `status` was entered on; empty if it never was.
    std::vector<std::string> since(const std::string& status) const {
        auto first = std::find(values_.begin(), values_.end(), status);
        return {first, values_.end()};
    }

private:
    void on_record(const sim::TraceRecord& record) override {
        if (record.name == "node-status" && (values_.empty() || values_.back() != record.value)) {
            values_.emplace_back(record.value);
        }
    }

    std::vector<std::string> values_;
};

// The blob of the recovery blob sync running now on one node. The cancellation fail point carries
// no blob id, but BlobSyncHandler::run_sync begins its "blob-sync" span (details "blob=<id>
// recovery") in the same fiber just before it, with no suspension in between.
class RecoverySyncBlob final : public NodeTraceWatch {
public:
    RecoverySyncBlob(Scenario& s, NodeIndex node)
        : NodeTraceWatch(s, node, sim::TraceKind::span_begin), scheduler_(s.sim().scheduler()) {
        attach();
    }
    ~RecoverySyncBlob() override { detach(); }

    // nullopt if the calling fiber did not begin a recovery blob-sync span.
    std::optional<std::string> current() const {
        if (fiber_ != scheduler_.current_fiber()) {  // also when no span was seen yet
            return std::nullopt;
        }
        return blob_;
    }

private:
    void on_record(const sim::TraceRecord& record) override {
        constexpr std::string_view prefix = "blob=";
        constexpr std::string_view suffix = " recovery";
        if (record.name == "blob-sync" && record.value.starts_with(prefix) &&
            record.value.ends_with(suffix)) {
            fiber_ = record.fiber;
            blob_ = record.value.substr(prefix.size(),
                                        record.value.size() - prefix.size() - suffix.size());
        }
    }

    sim::Scheduler& scheduler_;
    std::optional<sim::FiberId> fiber_;
    std::string blob_;
};

// Node `node` is killed at its next crash point after 60 s of workload and started again once the
// chain is two epochs further: it comes back lagging (§2.2), catches up, and its recovery starts
// near the beginning of an epoch. False (and the run failed) if a step timed out.
bool lag_node(Scenario& s, NodeIndex node) {
    s.sleep(60_s);
    auto killed_in = std::make_shared<Epoch>(0);
    const sim::HostId host = s.cluster().host(node);
    for (const std::string& name : crash_node_fail_points) {
        s.arm(name, sim::FailPointAction::call([&s, killed_in, host] {
                        if (*killed_in == 0) {
                            *killed_in = s.cluster().chain().current_epoch();
                            s.sim().kill(host);
                        }
                    }).only_on(host));
    }
    const bool killed = s.wait_until(fmt::format("node {} killed at a crash point", node), 60_s,
                                     [&] { return *killed_in != 0; });
    s.disarm_crash_points();
    if (!killed) {
        return false;
    }
    s.mark(fmt::format("node{} killed in epoch {}", node, *killed_in));
    const sim::Duration deadline = s.cluster().epoch_duration() * 3 + 60_s;
    if (!s.wait_until("two epoch changes", deadline, [&] { return s.epoch() >= *killed_in + 2; })) {
        return false;
    }
    s.restart(node);
    return true;
}

// --- retry-backoff-cap ---------------------------------------------------------------------------

// Long epochs: every epoch change restarts recovery (§7.6) and a new pass forgets the backoff,
// so the 1+2+4+8+16+30 s of a retry run up to the cap, and one more 30 s, must fit in one epoch.
// No extensions: extending the target re-certifies it, and the event path's sync (which the
// cancellation fail point spares) stores it in the middle of its retry run.
void long_epoch_build(const Params& params, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.epoch_duration = params.duration("epoch");
    config.node.node_recovery.max_concurrent_blob_syncs_during_recovery = 1;
    config.client.extend_probability = 0.0;
}

// A permanent blob whose object outlives the next two epoch changes: its recovery sync cannot
// settle by expiry or deletion in the middle of a retry run.
bool long_lived(const walrus::Chain& chain, std::string_view blob_hex) {
    for (const walrus::ChainEvent& event : chain.events()) {
        const auto* certified = std::get_if<walrus::BlobCertified>(&event.body);
        if (certified == nullptr || certified->deletable ||
            certified->blob_id.short_hex() != blob_hex) {
            continue;
        }
        const auto object = chain.object(certified->object_id);
        if (object.has_value() && object->end_epoch >= chain.current_epoch() + 3) {
            return true;
        }
    }
    return false;
}

struct CapTarget {
    std::optional<std::string> blob;  // the first long-lived blob node 0's recovery syncs
    bool capped = false;              // its retries reached the cap: let it sync
    uint64_t cancelled = 0;
    uint64_t unidentified = 0;  // cancellation hits whose blob the span did not name
};

// Cancels every recovery sync of one blob on node 0 until `capped`, so that blob alone walks the
// backoff (the stats keep only the first 64 retries: cancelling many blobs would fill them with
// 1 s retries).
void cancel_one_blob(Scenario& s, const RecoverySyncBlob& syncs,
                     const std::shared_ptr<CapTarget>& target) {
    s.arm("fail_point_recovery_blob_sync_cancelled",
          sim::FailPointAction::inject_error()
              .only_when([&s, &syncs, target] {
                  if (target->capped) {
                      return false;
                  }
                  const auto blob = syncs.current();
                  if (!blob.has_value()) {
                      ++target->unidentified;
                      return false;
                  }
                  if (!target->blob.has_value() && long_lived(s.cluster().chain(), *blob)) {
                      target->blob = *blob;
                  }
                  const bool cancel = target->blob == blob;
                  target->cancelled += cancel ? 1 : 0;
                  return cancel;
              })
              .only_on(s.cluster().host(0)));
}

void retry_backoff_cap(Scenario& s) {
    const RecoverySyncBlob syncs(s, 0);
    auto target = std::make_shared<CapTarget>();
    cancel_one_blob(s, syncs, target);
    const DisarmAtExit disarm(s, "fail_point_recovery_blob_sync_cancelled");
    if (!lag_node(s, 0)) {
        return;
    }
    const walrus::NodeRecoveryConfig config;  // the build keeps #3407's 1 s / 30 s
    // Invariant 21 up to the cap and one step past it: ... 16, 30, 30 s for one blob in one pass.
    // A retry off the backoff fails the run at once, as an invariant.
    RetryRuns runs;
    const bool capped =
        s.wait_until("one blob's recovery retries reach the 30 s cap twice in one pass",
                     s.cluster().epoch_duration() * 3, [&] {
                         const auto info = s.health(0);
                         runs = info.has_value() ? retry_runs(info->recovery, config) : RetryRuns{};
                         return runs.most_capped >= 2 || !runs.violation.empty();
                     });
    target->capped = true;
    s.report("target_cancellations", static_cast<int64_t>(target->cancelled));
    if (!capped || !s.check(runs.violation.empty(), runs.violation)) {
        return;
    }
    s.mark(
        fmt::format("blob {} retried at the cap; cancellations stop", target->blob.value_or("?")));
    const bool recovered = wait_recovered(s, 0, 400_s);
    report_node0_recovery(s);
    const auto info = s.health(0);
    if (!recovered || !s.check(info.has_value(), "node 0 does not answer")) {
        return;
    }
    // The whole incarnation against the backoff rule; the cap must still show (a restart would
    // have emptied the stats).
    runs = check_retry_backoff(s, info->recovery, config);
    s.check(runs.most_capped >= 2,
            fmt::format("no blob's retries reached the {} cap twice in one pass",
                        config.retry_backoff_max.to_string()));
    s.check(target->unidentified == 0,
            fmt::format("{} recovery-sync cancellation hits could not be tied to a blob",
                        target->unidentified));
    finish_with_convergence(s);
}

// --- recovery-superseded-by-epoch-change ---------------------------------------------------------

void epoch_build(const Params& params, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.epoch_duration = params.duration("epoch");
}

std::string recovering(Epoch epoch) {
    return walrus::NodeStatus::recovery_in_progress(epoch).to_string();
}

// Node 0's recovery pass for E has syncs in flight (held at the sliver put) and has not
// completed; returns E, or 0 if that state was not reached in time (the run failed).
Epoch wait_first_pass_in_flight(Scenario& s) {
    Epoch first = 0;
    const bool reached =
        s.wait_until("node 0's first recovery pass has blob syncs in flight", 240_s, [&] {
            const auto info = s.health(0);
            if (!info.has_value() || !info->status.is_recovering() || !info->recovery_running ||
                info->recovery.syncs_started == 0 || info->blob_syncs_in_progress == 0) {
                return false;
            }
            first = info->status.recovery_epoch;
            return true;
        });
    return reached ? first : 0;
}

// The recovery task for E is superseded: node 0 is RecoveryInProgress(E+1) with the same shards,
// a second task runs, and nothing completed.
bool check_superseded(Scenario& s, Epoch first) {
    const auto before = s.chain().committee_at(first);
    const auto after = s.chain().committee_at(first + 1);
    if (!s.check(
            before.has_value() && after.has_value() && before->shards_of(0) == after->shards_of(0),
            fmt::format("node 0's shards differ between epochs {} and {}: not the "
                        "no-new-shards case",
                        first, first + 1))) {
        return false;
    }
    const auto info = s.health(0);
    return s.check(
        info.has_value() && info->recovery.tasks_started == 2 && info->recovery.completed == 0,
        "node 0 did not restart its recovery task at the epoch change, or a task "
        "completed while the syncs were held");
}

// Invariant 3 and §7.6 from the outside: the chain holds no attestation of E by node 0 and one of
// E+1; node 0 went RecoveryInProgress(E) → RecoveryInProgress(E+1) → Active, never Active in
// between; one task completed (the second: the first never set Active).
void check_only_new_pass_completed(Scenario& s, const StatusHistory& history, Epoch first) {
    s.check(!s.chain().has_attested(0, first),
            fmt::format("node 0 attested epoch {} from a superseded recovery pass", first));
    s.check(s.chain().has_attested(0, first + 1),
            fmt::format("node 0's new recovery pass did not attest epoch {}", first + 1));
    const std::vector<std::string> expected = {recovering(first), recovering(first + 1), "Active"};
    const std::vector<std::string> seen = history.since(recovering(first));
    s.check(seen == expected,
            fmt::format("node 0's statuses from {} on were [{}], expected [{}]", recovering(first),
                        fmt::join(seen, ", "), fmt::join(expected, ", ")));
    const auto info = s.health(0);
    s.check(info.has_value() && info->recovery.completed == 1,
            "node 0's recovery should have completed exactly once (the new pass)");
}

void recovery_superseded_by_epoch_change(Scenario& s) {
    const StatusHistory history(s, 0);
    // Node 0's sliver puts wait for the release: its first pass starts syncs it cannot finish,
    // and is still running at the next epoch change.
    auto released = std::make_shared<bool>(false);
    s.arm("fail_point_recover_sliver_before_put_sliver",
          sim::FailPointAction::hold_until([released] { return *released; }, 1_s)
              .only_on(s.cluster().host(0)));
    const DisarmAtExit disarm(s, "fail_point_recover_sliver_before_put_sliver");
    if (!lag_node(s, 0)) {
        return;
    }
    const Epoch first = wait_first_pass_in_flight(s);
    if (first == 0) {
        return;
    }
    s.mark(fmt::format("node0 recovers for epoch {} with its syncs held", first));
    if (!s.wait_until(fmt::format("node 0 is {}", recovering(first + 1)),
                      s.cluster().epoch_duration() * 2 + 60_s,
                      [&] { return s.status(0) == recovering(first + 1); }) ||
        !check_superseded(s, first)) {
        return;
    }
    *released = true;
    s.mark("node0's syncs released");
    const bool recovered = wait_recovered(s, 0, 400_s);
    report_node0_recovery(s);
    if (!recovered) {
        return;
    }
    check_only_new_pass_completed(s, history, first);
    finish_with_convergence(s);
}

// --- recovery-at-decoding-threshold --------------------------------------------------------------

// A clogged peer costs a recovery attempt its request timeout; 5 s instead of 45 s lets the
// waiting window span several of the 1, 2, 4 ... s retries of the sliver recovery.
void threshold_build(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.node.committee.sliver_request_timeout = 5_s;
}

// The nodes cut off from node 0 at first: node 0 and the others together own one shard fewer
// than a primary sliver's n - f sources. The simtest weights give the first choice, nodes 1 and
// 2: node 0 owns 1 shard and nodes 1..4 own 2, 3, 3, 4, so nodes 3 and 4 give 7 source shards,
// node 0's own secondary sliver an 8th (it answers itself), one short of n - f = 9; node 1, the
// first cut-off node, then adds 2. Checked against the committee and the stored slivers in the
// run.
const std::vector<NodeIndex> simtest_cut_off = {1, 2};

// Shards each node owns in `committee`, node 0 first.
std::vector<uint32_t> shard_counts(Scenario& s, const walrus::Committee& committee) {
    std::vector<uint32_t> counts;
    for (NodeIndex node : s.all_nodes()) {
        counts.push_back(static_cast<uint32_t>(committee.shards_of(node).size()));
    }
    return counts;
}

// Another cluster shape: nodes other than 0 that node 0 keeps, whose shards with node 0's make
// `target` (subset sum, the lowest-indexed solution); nullopt when none does.
std::optional<std::vector<NodeIndex>> nodes_summing_to(const std::vector<uint32_t>& counts,
                                                       uint32_t target) {
    if (counts.empty() || counts[0] > target) {
        return std::nullopt;
    }
    const uint32_t rest = target - counts[0];
    // reach[i][v]: the nodes from i on can own exactly v shards together.
    std::vector<std::vector<bool>> reach(counts.size() + 1, std::vector<bool>(rest + 1, false));
    reach[counts.size()][0] = true;
    for (size_t i = counts.size(); i-- > 1;) {
        for (uint32_t v = 0; v <= rest; ++v) {
            reach[i][v] = reach[i + 1][v] || (counts[i] <= v && reach[i + 1][v - counts[i]]);
        }
    }
    if (!reach[1][rest]) {
        return std::nullopt;
    }
    std::vector<NodeIndex> kept;
    uint32_t left = rest;
    for (size_t i = 1; i < counts.size(); ++i) {
        if (counts[i] <= left && reach[i + 1][left - counts[i]]) {
            kept.push_back(static_cast<NodeIndex>(i));
            left -= counts[i];
        }
    }
    return kept;
}

// The nodes to cut node 0 off from: reaching the others leaves node 0 one source shard short of
// `threshold`, and the first of them brings it to the threshold again. Empty when the shape has
// no such set.
std::vector<NodeIndex> threshold_cut_off(Scenario& s, uint32_t threshold) {
    const std::vector<uint32_t> counts = shard_counts(s, s.chain().current_committee());
    const auto owned_without = [&](const std::vector<NodeIndex>& cut) {
        uint32_t owned = 0;
        for (NodeIndex node : s.all_nodes()) {
            const bool cut_node = std::find(cut.begin(), cut.end(), node) != cut.end();
            owned += cut_node ? 0 : counts[node];
        }
        return owned;
    };
    if (counts.size() > simtest_cut_off.back() && owned_without(simtest_cut_off) + 1 == threshold) {
        return simtest_cut_off;
    }
    const auto kept = nodes_summing_to(counts, threshold - 1);
    std::vector<NodeIndex> cut;
    for (NodeIndex node : s.all_nodes()) {
        if (node != 0 && kept.has_value() &&
            std::find(kept->begin(), kept->end(), node) == kept->end() && counts[node] > 0) {
            cut.push_back(node);
        }
    }
    return kept.has_value() && owned_without(cut) + 1 == threshold ? cut : std::vector<NodeIndex>{};
}

// Clogs (or unclogs) both directions between node 0 and each of `hosts`; other links stay.
void set_clogged(Scenario& s, const std::vector<sim::HostId>& hosts, bool clogged) {
    const sim::HostId node0 = s.cluster().host(0);
    for (sim::HostId host : hosts) {
        if (clogged) {
            s.sim().net().clog_link(node0, host);
            s.sim().net().clog_link(host, node0);
        } else {
            s.sim().net().unclog_link(node0, host);
            s.sim().net().unclog_link(host, node0);
        }
    }
}

std::vector<sim::HostId> hosts_of(Scenario& s, const std::vector<NodeIndex>& nodes) {
    std::vector<sim::HostId> hosts;
    hosts.reserve(nodes.size());
    for (NodeIndex node : nodes) {
        hosts.push_back(s.cluster().host(node));
    }
    return hosts;
}

// The slivers of `blob` that `node` lacks at `shards`, asked from the world side (whose links are
// never clogged); nullopt if it does not answer.
std::optional<std::vector<walrus::MissingSliver>> missing_slivers(
    Scenario& s, NodeIndex node, const walrus::BlobId& blob,
    const std::vector<walrus::ShardIndex>& shards) {
    sim::Runtime& world = s.sim().runtime(sim::world_host);
    auto reply = world.call<std::vector<walrus::MissingSliver>>(
        s.cluster().host(node), walrus::method::missing_slivers,
        walrus::MissingSlivers{{blob}, shards}, 2_s);
    if (!reply.ok()) {
        return std::nullopt;
    }
    return std::move(reply).value();
}

uint32_t count_type(const std::vector<walrus::MissingSliver>& missing, walrus::SliverType type) {
    return static_cast<uint32_t>(
        std::count_if(missing.begin(), missing.end(),
                      [type](const walrus::MissingSliver& m) { return m.type == type; }));
}

// Source shards for `blob`'s primary slivers at node 0 that node 0 can reach: shards of node 0 and
// of `reachable` storing the blob's secondary sliver (a primary is rebuilt from secondaries).
std::optional<uint32_t> reachable_sources(Scenario& s, const walrus::BlobId& blob,
                                          const std::vector<NodeIndex>& reachable) {
    const walrus::Committee& committee = s.chain().current_committee();
    uint32_t sources = 0;
    for (NodeIndex node : reachable) {
        const std::vector<walrus::ShardIndex> shards = committee.shards_of(node);
        const auto missing = missing_slivers(s, node, blob, shards);
        if (!missing.has_value()) {
            return std::nullopt;
        }
        sources += static_cast<uint32_t>(shards.size()) -
                   count_type(*missing, walrus::SliverType::secondary);
    }
    return sources;
}

struct ThresholdBlob {
    walrus::BlobId blob;
    uint64_t object_id = 0;
};

// A permanent, live blob first certified from event `from` on, of which node 0 stores no sliver.
std::optional<ThresholdBlob> blob_node0_lacks(Scenario& s, walrus::EventIndex from) {
    const std::vector<walrus::ShardIndex> own = s.chain().current_committee().shards_of(0);
    const std::vector<walrus::ChainEvent>& events = s.chain().events();
    for (size_t i = from; i < events.size(); ++i) {
        const auto* certified = std::get_if<walrus::BlobCertified>(&events[i].body);
        if (certified == nullptr || certified->is_extension || certified->deletable) {
            continue;
        }
        const auto object = s.chain().object(certified->object_id);
        const auto missing = missing_slivers(s, 0, certified->blob_id, own);
        if (object.has_value() && object->end_epoch > s.epoch() + 1 && missing.has_value() &&
            missing->size() == 2 * own.size()) {
            return ThresholdBlob{certified->blob_id, certified->object_id};
        }
    }
    return std::nullopt;
}

// Node 0 stores `blob`'s sliver of `type` at every shard it owns.
bool stored_at_node0(Scenario& s, const walrus::BlobId& blob, walrus::SliverType type) {
    const auto missing = missing_slivers(s, 0, blob, s.chain().current_committee().shards_of(0));
    return missing.has_value() && count_type(*missing, type) == 0;
}

// `expected` source shards for the blob's primary slivers are reachable from node 0; the run fails
// otherwise.
bool check_sources(Scenario& s, const walrus::BlobId& blob, const std::vector<NodeIndex>& reachable,
                   uint32_t expected, const char* when) {
    const auto sources = reachable_sources(s, blob, reachable);
    return s.check(sources == expected,
                   fmt::format("{}: node 0 reaches {} source shards for blob {}'s primary "
                               "sliver, the scenario needs {}",
                               when, sources.has_value() ? fmt::format("{}", *sources) : "?",
                               blob.short_hex(), expected));
}

// §6.4: for `window`, node 0 must not store the primary sliver; the node itself asserts that no
// sliver decodes from fewer distinct sources than the threshold (encoding.cpp).
bool primary_waits(Scenario& s, const walrus::BlobId& blob, sim::Duration window) {
    const sim::Instant until = s.now() + window;
    while (s.now() < until) {
        if (!s.check(!stored_at_node0(s, blob, walrus::SliverType::primary),
                     fmt::format("node 0 stored blob {}'s primary sliver with one source shard "
                                 "fewer than the decoding threshold reachable",
                                 blob.short_hex()))) {
            return false;
        }
        s.sleep(1_s);
    }
    return true;
}

void recovery_at_decoding_threshold(Scenario& s) {
    s.sleep(60_s);
    const uint32_t n = s.cluster().n_shards();
    const uint32_t threshold = n - walrus::max_faulty(n);  // §6.4: a primary sliver takes n - f
    const std::vector<NodeIndex> cut_off = threshold_cut_off(s, threshold);
    if (!s.check(!cut_off.empty(),
                 "no set of nodes leaves node 0 exactly one source shard short "
                 "of the decoding threshold in this cluster")) {
        return;
    }
    const NodeIndex reachable_again = cut_off.front();
    std::vector<NodeIndex> reachable = {0};
    for (NodeIndex node : s.all_nodes()) {
        if (node != 0 && std::find(cut_off.begin(), cut_off.end(), node) == cut_off.end()) {
            reachable.push_back(node);
        }
    }
    // Node 0 stops hearing from the cut-off nodes and from the client, so the blobs written from
    // now on reach it only through its own blob syncs.
    std::vector<sim::HostId> clogged = hosts_of(s, cut_off);
    clogged.push_back(s.cluster().client_host());
    set_clogged(s, clogged, true);
    s.mark(fmt::format("node0 cut off from nodes {} and the client", fmt::join(cut_off, ", ")));
    const walrus::EventIndex from = s.chain().next_event_index();
    std::optional<ThresholdBlob> target;
    if (!s.wait_until("a permanent blob certified that node 0 lacks", 120_s, [&] {
            target = blob_node0_lacks(s, from);
            return target.has_value();
        })) {
        return;
    }
    // Certified well past the scenario's end, so neither expiry nor the monitor cancels its sync.
    const bool extended = s.cluster().chain().extend_blob(target->object_id, s.epoch() + 30).ok();
    s.stop_workload();
    const walrus::BlobId blob = target->blob;
    s.mark(fmt::format("threshold blob {}", blob.short_hex()));
    if (!s.check(extended, fmt::format("could not extend blob {}", blob.short_hex())) ||
        !s.wait_until("node 0 stores the blob's secondary sliver and reaches one source too few",
                      120_s,
                      [&] {
                          return stored_at_node0(s, blob, walrus::SliverType::secondary) &&
                                 reachable_sources(s, blob, reachable) == threshold - 1;
                      }) ||
        !primary_waits(s, blob, s.duration("window")) ||
        !check_sources(s, blob, reachable, threshold - 1, "after the window")) {
        return;
    }
    const sim::Instant healed_at = s.now();
    set_clogged(s, hosts_of(s, {reachable_again}), false);
    reachable.push_back(reachable_again);
    s.mark(fmt::format("node0 reaches node{} again", reachable_again));
    const auto sources = reachable_sources(s, blob, reachable);
    if (!s.check(sources.has_value() && *sources >= threshold,
                 "node 0 still reaches too few source shards after one node came back") ||
        !s.wait_until("node 0 stores the blob's primary sliver", 180_s,
                      [&] { return stored_at_node0(s, blob, walrus::SliverType::primary); })) {
        return;
    }
    s.report("threshold", threshold);
    s.report("primary_after_heal_ms", (s.now() - healed_at).ns() / 1'000'000);
    s.heal();
    finish_with_convergence(s);
}

// --- Walrus's injected errors (§11) ------------------------------------------------------------

void walrus_cluster(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
}

void long_epoch_walrus_cluster(const Params&, sim::Rng&, ClusterConfig& config) {
    short_shard_sync_cluster(config);
    config.epoch_duration = 120_s;
}

// fail_point_sync_shard_return_error (storage.rs handle_sync_shard_request): the source answers
// one transfer request of node 0's gained shards with an Internal error. handle_sync_error
// retries with direct recovery (Walrus's own sync_shard_src_abnormal_return test), so node 0
// ends with every shard Ready through per-blob recovery.
void source_returns_error(Scenario& s) {
    s.sleep(65_s);
    const size_t initial = owned_shard_count(s, 0);
    s.stake(0, 3);
    s.arm("fail_point_sync_shard_return_error", sim::FailPointAction::inject_error().once());
    if (!s.wait_until("node 0 owns more shards, all Ready", 400_s,
                      [&] { return owned_shard_count(s, 0) > initial && s.all_shards_ready(0); })) {
        return;
    }
    const uint64_t fired = s.sim().fail_points().fires("fail_point_sync_shard_return_error");
    const auto info = s.health(0);
    const uint64_t direct = info.has_value() ? info->direct_recoveries : 0;
    s.report("direct_recoveries", static_cast<int64_t>(direct));
    s.check(fired == 1, fmt::format("the source's error fired {} times, not once", fired));
    s.check(direct > 0, "node 0 answered the source's Internal error without direct recovery");
    finish_with_convergence(s);
}

// fail_point_shard_sync_recovery_metadata_error_before_fetch (shard_sync.rs
// sync_certified_blob_metadata): node 0 leaves the committee, is staked back and joins (T9,
// RecoverMetadata); its metadata sync fails once. sync_shards_task ends there: no shard sync
// starts and the node stays RecoverMetadata until something restarts the task. A restart does
// (restart_syncs → restart_metadata_sync), and node 0 ends Active (T10) with its shards Ready.
// Long epochs: at an epoch change without gains, #3464's finisher would attest for the stuck
// node (finding F5); this scenario is about the metadata sync, so all of it fits in one epoch.
void metadata_sync_fails_once(Scenario& s) {
    if (!s.wait_until("node 0 is Active", 60_s, [&] { return s.status(0) == "Active"; })) {
        return;
    }
    s.withdraw(0, s.chain().stake(0));
    if (!s.wait_until("node 0 is Standby", 600_s, [&] { return s.status(0) == "Standby"; })) {
        return;
    }
    s.arm("fail_point_shard_sync_recovery_metadata_error_before_fetch",
          sim::FailPointAction::inject_error().once().only_on(s.cluster().host(0)));
    s.stake(0, 1);
    if (!s.wait_until("node 0's metadata sync failed", 300_s, [&] {
            return s.sim().fail_points().fires(
                       "fail_point_shard_sync_recovery_metadata_error_before_fetch") > 0;
        })) {
        return;
    }
    s.sleep(s.duration("stuck-for"));
    if (!s.check(s.status(0) == "RecoverMetadata",
                 fmt::format("node 0 is {} after its metadata sync failed; Walrus stays in "
                             "RecoverMetadata until the task is restarted",
                             s.status(0)))) {
        return;
    }
    s.sim().restart(s.cluster().host(0), 1_s);
    if (!s.wait_until("node 0 Active with every shard Ready", 300_s,
                      [&] { return s.status(0) == "Active" && s.all_shards_ready(0); })) {
        return;
    }
    finish_with_convergence(s);
}

}  // namespace

std::vector<ScenarioSpec> coverage_scenarios() {
    return {
        scripted_spec("source-returns-error",
                      "a shard-sync source answers one of node 0's transfer requests with an "
                      "Internal error: node 0 must switch to direct recovery and end with every "
                      "shard Ready",
                      "§11 fail_point_sync_shard_return_error, §8.4 handle_sync_error",
                      walrus_cluster, source_returns_error),
        scripted_spec("metadata-sync-fails-once",
                      "node 0 rejoins the committee and its metadata sync fails once: it must "
                      "stay RecoverMetadata (no shard sync starts) until a restart, then end "
                      "Active with every shard Ready",
                      "§11 fail_point_shard_sync_recovery_metadata_error_before_fetch, §8.3 "
                      "sync_shards_task, §2.1 T9/T10",
                      long_epoch_walrus_cluster, metadata_sync_fails_once,
                      {ParamSpec::duration("stuck-for", 60_s, 0_s, 1800_s,
                                           "how long node 0 must stay RecoverMetadata before "
                                           "it is restarted")}),
        scripted_spec(
            "retry-backoff-cap",
            "node 0 lags two epochs (120 s by default) and recovers one sync at a time; every "
            "recovery "
            "sync of one long-lived blob is cancelled until its retries went 1, 2, 4, 8, 16, 30, "
            "30 s in one pass, then it syncs",
            "PR #3407 (spec §9.3 step 5, invariant 21)", long_epoch_build, retry_backoff_cap,
            {ParamSpec::duration("epoch", 120_s, 90_s, 600_s,
                                 "epoch duration: a retry run to the cap must fit in one")}),
        scripted_spec(
            "recovery-superseded-by-epoch-change",
            "node 0 lags two epochs; its recovery pass for E has blob syncs in flight (sliver "
            "puts held) when node 0 moves to RecoveryInProgress(E+1) with the same shards: the "
            "old pass must neither set Active nor attest E, the new one attests E+1",
            "PR #3464 (spec §7.6, §9.1 steps 1 and e, invariant 3)", epoch_build,
            recovery_superseded_by_epoch_change,
            {ParamSpec::duration("epoch", 60_s, 30_s, 600_s, "epoch duration")}),
        scripted_spec(
            "recovery-at-decoding-threshold",
            "node 0 is cut off from the client and from nodes owning enough shards that a blob "
            "written then has one reachable source too few for node 0's primary sliver (n - f; "
            "the simtest cluster: nodes 1 and 2, 8 of 9); the sync stores the secondary "
            "(n - 2f) but must wait for the primary until the first of them is reachable again",
            "spec §6.4 and §17 (primary n - f, secondary n - 2f recovery symbols)", threshold_build,
            recovery_at_decoding_threshold,
            {ParamSpec::duration("window", 60_s, 10_s, 600_s,
                                 "how long the primary sliver must stay unrecovered")}),
    };
}

}  // namespace floe::scenarios
