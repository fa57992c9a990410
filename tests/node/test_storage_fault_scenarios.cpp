// Storage faults seen from the scenario layer (issue 16): the storage-faults choice parameter,
// power losses and process exits as marks on the node's own timeline row (what the trace, the
// Perfetto file and the HTML report show), a data directory refusing storage faults, the
// planted bug only a power loss exposes, and unbounded mode checking safety only.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "node/chain/chain.h"
#include "scenarios/params.h"
#include "scenarios/scenario.h"
#include "scenarios/storage_faults.h"
#include "sim/timeline.h"

using namespace floe::scenarios;

namespace {

bool has_mark(const sim::Timeline& timeline, const std::string& host, const std::string& prefix) {
    return std::any_of(timeline.instants.begin(), timeline.instants.end(),
                       [&](const sim::TimelineInstant& instant) {
                           return instant.kind == sim::TimelineInstant::Kind::mark &&
                                  timeline.hosts[instant.host] == host &&
                                  instant.text.rfind(prefix, 0) == 0;
                       });
}

}  // namespace

TEST_CASE("params: a choice takes one of its words") {
    Params params(
        {ParamSpec::choice("storage-faults", "bounded", storage_fault_mode_names(), "mode")});
    CHECK(params.choice("storage-faults") == "bounded");
    CHECK(params.set("storage-faults=sometimes") ==
          "storage-faults=sometimes is not one of off|bounded|unbounded");
    CHECK(params.choice("storage-faults") == "bounded");
    CHECK(params.set("storage-faults=unbounded").empty());
    CHECK(params.choice("storage-faults") == "unbounded");
    CHECK(parse_storage_fault_mode(params.choice("storage-faults")) == StorageFaultMode::unbounded);
}

TEST_CASE("storage faults: power losses and what they took are marks on the node's row") {
    ScenarioRunOptions options;
    options.seed = 3;
    sim::TimelineRecorder recorder;
    options.timeline = &recorder;
    std::string error;
    const ScenarioResult run =
        run_scenario(*find_scenario("power-loss-during-recovery"), options, error);
    REQUIRE(error.empty());
    INFO(run.result.message);
    CHECK(run.result.passed());
    CHECK(run.reported.at("power_losses") == 2);
    const sim::Timeline timeline = recorder.finish(run.result.end_time);
    CHECK(has_mark(timeline, "node0", "power cut"));
    CHECK(has_mark(timeline, "node0", "power restored on /floe/node0: "));
    CHECK_FALSE(has_mark(timeline, "node1", "power cut"));
}

// A floe harness bug the first PCT hunt found (1 December 2026): the scenario armed its
// checkpoint power loss only once a status poll saw RecoveryInProgress, by which time this
// schedule's short pass had written all 26 of its checkpoints; it waited 300 s for a write that
// never came. Armed before the recovery starts, the power loss strikes at the pass's nth write.
TEST_CASE("storage faults: power-loss-during-recovery strikes a short pass (PCT seed 5074)") {
    ScenarioRunOptions options;
    options.seed = 5074;
    options.sched = sim::SchedStrategy::pct(3);
    std::string error;
    const ScenarioResult run =
        run_scenario(*find_scenario("power-loss-during-recovery"), options, error);
    REQUIRE(error.empty());
    INFO(run.result.message);
    CHECK(run.result.passed());
    CHECK(run.reported.at("power_losses") == 2);
}

TEST_CASE("storage faults: a failed metadata write stops the node's process, marked on its row") {
    ScenarioRunOptions options;
    options.seed = 2;
    sim::TimelineRecorder recorder;
    options.timeline = &recorder;
    std::string error;
    const ScenarioResult run =
        run_scenario(*find_scenario("fsync-and-rename-failures"), options, error);
    REQUIRE(error.empty());
    INFO(run.result.message);
    CHECK(run.result.passed());
    const sim::Timeline timeline = recorder.finish(run.result.end_time);
    CHECK(has_mark(timeline, "node0", "process exits: database I/O error"));
}

TEST_CASE("storage faults: a data directory refuses them with a one-line error") {
    ScenarioRunOptions options;
    options.data_dir = "/tmp/floe-unused-data-dir";
    std::string error;
    const ScenarioResult run =
        run_scenario(*find_scenario("power-loss-at-epoch-change"), options, error);
    CHECK(error ==
          "storage faults need the simulated disk: drop --data-dir or --set storage-faults=off");
    CHECK(run.result.trace_events == 0);
}

TEST_CASE("storage faults: the planted unlogged-sliver-writes bug survives process crashes") {
    ScenarioRunOptions options;
    options.seed = 1;
    REQUIRE(options.old.set("unlogged-sliver-writes"));
    std::string error;
    // A process crash closes the database, which flushes the unlogged slivers: no loss.
    const ScenarioResult crash_only =
        run_scenario(*find_scenario("checkpoint-resume"), options, error);
    REQUIRE(error.empty());
    INFO(crash_only.result.message);
    CHECK(crash_only.result.passed());
    // The power-loss scenario's death (an invariant-19 assertion) is a gate `fail` line
    // (each seed in its own process): here, the same run without the bug passes.
    options.old = {};
    const ScenarioResult clean =
        run_scenario(*find_scenario("power-loss-during-recovery"), options, error);
    INFO(clean.result.message);
    CHECK(clean.result.passed());
}

TEST_CASE("storage faults: unbounded mode does not fail a run on liveness") {
    // A script whose wait can never be met: a liveness failure, unless the mode is unbounded
    // (a cluster may then really lose blobs: safety checks only).
    ScenarioSpec never{
        .name = "never-converges",
        .description = "waits for what never happens",
        .mirrors = "test",
        .params = {ParamSpec::choice("storage-faults", "bounded", storage_fault_mode_names(),
                                     "mode")},
        .catches = {},
        .fixed_by = {},
        .build = [](const Params&, sim::Rng&, ClusterConfig& config) { simtest_cluster(config); },
        .script =
            [](Scenario& s) {
                s.wait_until("never", sim::Duration::seconds(5), [] { return false; });
            }};
    ScenarioRunOptions options;
    std::string error;
    const ScenarioResult bounded = run_scenario(never, options, error);
    REQUIRE(error.empty());
    CHECK(bounded.result.failure == sim::FailureClass::liveness);
    options.sets = {"storage-faults=unbounded"};
    const ScenarioResult unbounded = run_scenario(never, options, error);
    REQUIRE(error.empty());
    INFO(unbounded.result.message);
    CHECK(unbounded.result.passed());
}

TEST_CASE("storage faults: swarm with storage-faults=off draws none of them") {
    ScenarioRunOptions options;
    options.seed = 11;
    options.sets = {"epochs=4", "storage-faults=off"};
    std::string error;
    const ScenarioResult off = run_scenario(*find_scenario("swarm"), options, error);
    REQUIRE(error.empty());
    CHECK(off.reported.count("power_losses") == 0);
    CHECK(off.reported.count("mix_storage") == 0);
    options.sets = {"epochs=4"};
    const ScenarioResult bounded = run_scenario(*find_scenario("swarm"), options, error);
    CHECK(bounded.reported.count("mix_storage") == 1);
}

TEST_CASE("storage faults: the data-loss budget holds at most f shards' worth of nodes per epoch") {
    // The simtest cluster: weights 1, 2, 3, 3, 4 over 13 shards, so f = 4 shards.
    const walrus::Chain chain(walrus::ChainConfig{13, sim::Duration::seconds(30)}, {1, 2, 3, 3, 4});
    const auto shards = [&](NodeIndex node) {
        return chain.current_committee().shards_of(node).size();
    };
    REQUIRE(shards(4) > 2);
    DataLossBudget budget;
    CHECK(budget.allows(chain, 13, 4));
    CHECK(budget.allows(chain, 13, 0));
    budget.record(chain.current_epoch(), 4);
    CHECK(budget.allows(chain, 13, 4));  // the same node again
    CHECK(shards(4) + shards(3) > 4);
    CHECK_FALSE(budget.allows(chain, 13, 3));     // a second node would exceed f
    budget.record(chain.current_epoch() + 1, 3);  // another epoch's ledger
    CHECK(budget.losses() == 2);
    CHECK_FALSE(budget.allows(chain, 13, 3));  // the chain is still at the first epoch
}

TEST_CASE("storage faults: a node that lost data counts until it reports every blob stored again") {
    // swarm 9626 (issue 17): three nodes lost everything in three epochs in a row, each still
    // recovering, and a blob lost its quorum. A loss now counts until the node heals.
    const walrus::Chain chain(walrus::ChainConfig{13, sim::Duration::seconds(30)}, {1, 2, 3, 3, 4});
    const Epoch now = chain.current_epoch();
    REQUIRE(now >= 1);
    DataLossBudget budget;
    budget.record(now - 1, 4);                 // an earlier epoch's loss
    CHECK_FALSE(budget.allows(chain, 13, 3));  // node 4 has not healed: 4 and 3 exceed f
    budget.healed(4, now - 1);                 // a report of the loss's own epoch does not heal
    CHECK_FALSE(budget.allows(chain, 13, 3));
    budget.healed(4, now);  // Active, every certified blob stored, at a later epoch
    CHECK(budget.allows(chain, 13, 3));
    budget.record(now, 4);  // this epoch's losses count whatever the reports say
    budget.healed(4, now + 1);
    CHECK_FALSE(budget.allows(chain, 13, 3));
}

TEST_CASE("storage faults: the budget counts the shards a node held in the previous epoch") {
    // swarm 21976 with buggify=on (issue 18 session): a node held 5 of 14 shards in one epoch
    // and 4 in the next; its power loss in the second epoch took the blobs certified in the
    // first below what recovery needs. A moved shard is LockedToMove at its old owner, the only
    // copy until the new owner's shard sync has read it.
    walrus::Chain chain(walrus::ChainConfig{13, sim::Duration::seconds(30)}, {1, 1, 1, 1, 6});
    const auto shards = [](const walrus::Committee& committee, NodeIndex node) {
        return committee.shards_of(node).size();
    };
    REQUIRE(shards(chain.current_committee(), 4) > 4);  // f = 4 of 13
    DataLossBudget budget;
    CHECK_FALSE(budget.allows(chain, 13, 4));
    for (NodeIndex node = 0; node < 4; ++node) {
        chain.add_stake(node, 5);  // before epoch 1's voting end: it shapes epoch 2's committee
    }
    for (const walrus::CommitteeMember& member : chain.current_committee().members) {
        REQUIRE(chain.epoch_sync_done(member.node, 1, sim::Instant::zero()).ok());
    }
    REQUIRE(chain.state() == walrus::EpochState::change_done);
    chain.advance_time(sim::Instant::zero() + sim::Duration::seconds(30));
    REQUIRE(chain.current_epoch() == 2);
    REQUIRE(chain.state() == walrus::EpochState::change_sync);
    REQUIRE_FALSE(chain.next_committee().has_value());
    REQUIRE(shards(chain.current_committee(), 4) <= 4);
    REQUIRE(shards(*chain.previous_committee(), 4) > 4);
    CHECK_FALSE(budget.allows(chain, 13, 4));  // its epoch-1 shards still matter
    CHECK(budget.allows(chain, 13, 1));
}
