// The pure plan of an epoch change (walrus-recovery-spec.md §7.3-§7.8): every path of §7.3's
// routing, one row each, inputs → the whole plan.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/epoch_change.h"

using namespace walrus;

namespace {

using Kind = NodeStatus::Kind;
using Owner = AttestationOwner;
using Path = EpochChangePath;
using Route = EpochChangeRoute;

Behaviours with(const std::vector<std::string>& names) {
    Behaviours behaviours;
    for (const std::string& name : names) {
        FLOE_ASSERT(behaviours.set(name), "no behaviour {}", name);
    }
    return behaviours;
}

// The inputs of one row. Routing: catching up or not, the tracked epoch and (if asked) the
// chain's; the status stage's chain answer and memberships; the shard diff's three sets.
struct Given {
    NodeStatus status;
    Epoch epoch = 5;
    Epoch committee_epoch = 5;
    std::optional<Epoch> chain_epoch;  // routing's answer (asked only when E != committee epoch)
    std::optional<Epoch> catch_up_chain_epoch;  // the catch-up routine's answer
    std::optional<bool> member_now = true;
    std::optional<bool> member_before;
    std::vector<ShardIndex> before;
    std::vector<ShardIndex> now;
    std::vector<ShardIndex> existing;
    std::map<ShardIndex, ShardStatus> status_of_existing;
    std::vector<ShardIndex> syncing;
    bool shard_sync_in_progress = false;
    bool has_recovery_checkpoint = false;
    Behaviours behaviours;
};

template <class Fill>
Given given(Fill fill) {
    Given filled;
    fill(filled);
    return filled;
}

EpochChangeInputs inputs(const Given& given) {
    EpochChangeInputs in;
    in.route = RouteInputs{given.epoch, given.status.is_catching_up(), given.committee_epoch,
                           given.chain_epoch};
    in.status.epoch = given.epoch;
    in.status.status = given.status;
    in.status.chain_epoch = given.catch_up_chain_epoch;
    in.status.member_now = given.member_now;
    in.status.member_before = given.member_before;
    in.status.has_recovery_checkpoint = given.has_recovery_checkpoint;
    in.status.behaviours = given.behaviours;
    in.shards.owned_before = given.before;
    in.shards.owned_now = given.now;
    in.shards.existing = given.existing;
    in.shards.status_of_existing = given.status_of_existing;
    in.shards.syncing = given.syncing;
    in.shards.shard_sync_in_progress = given.shard_sync_in_progress;
    in.shards.member_now = given.member_now.value_or(false);
    in.shards.behaviours = given.behaviours;
    return in;
}

struct Row {
    const char* name;
    Given given;
    EpochChangePlan expected;
};

StatusPlan status_plan(Path path) {
    StatusPlan plan;
    plan.path = path;
    return plan;
}

// T4, the catch-up exit of a node that is no longer a member.
StatusPlan leaving_committee() {
    StatusPlan status = status_plan(EpochChangePath::leave_committee);
    status.begin_committee_change = true;
    status.set_standby = true;
    return status;
}

const NodeStatus catching_up = NodeStatus::recovery_catch_up();
const NodeStatus active = NodeStatus::active();
const NodeStatus standby = NodeStatus::standby();
const NodeStatus recovering = NodeStatus::recovery_in_progress(4);

std::vector<Row> rows() {
    std::vector<Row> table;
    // --- catching up: execute_epoch_change_while_catching_up ---
    table.push_back({"catch-up backlog: E behind the chain, only completed",
                     given([](Given& g) {
                         g.status = catching_up;
                         g.epoch = 3;
                         g.catch_up_chain_epoch = 5;
                         g.member_now = std::nullopt;
                     }),
                     {Route::catch_up, status_plan(Path::backlog), std::nullopt}});
    {
        const StatusPlan status = leaving_committee();
        table.push_back({"catch-up exit T4: not a member, Standby",
                         given([](Given& g) {
                             g.status = catching_up;
                             g.catch_up_chain_epoch = 5;
                             g.member_now = false;
                         }),
                         {Route::catch_up, status, std::nullopt}});
    }
    {
        StatusPlan status = status_plan(Path::join_as_new_member);
        status.begin_committee_change = true;
        status.joining = true;
        ShardPlan shards;
        shards.create = {1, 2};
        shards.set_recover_metadata = true;
        shards.gained = {{1, false, false}, {2, false, false}};
        shards.start_shard_sync = true;
        shards.finisher = FinisherPlan{{}, true, true, {1, 2}};
        shards.attester = Owner::shard_sync;
        table.push_back({"catch-up exit T5: a new member joins, shard sync attests",
                         given([](Given& g) {
                             g.status = catching_up;
                             g.catch_up_chain_epoch = 5;
                             g.member_before = false;
                             g.now = {1, 2};
                         }),
                         {Route::catch_up, status, shards}});
    }
    StatusPlan continuing = status_plan(Path::recover_continuing_member);
    continuing.begin_committee_change = true;
    continuing.checkpoint_outlived_catch_up = true;
    continuing.set_recovery_in_progress = true;
    ShardPlan recover_all;
    recover_all.force_active = {{2, false}, {3, true}};
    recover_all.lock = {1};
    recover_all.start_recovery = true;
    recover_all.finisher = FinisherPlan{{4}, true, true, {}};
    recover_all.attester = Owner::recovery_task;
    const Given continuing_member = given([](Given& g) {
        g.status = catching_up;
        g.catch_up_chain_epoch = 5;
        g.member_before = true;
        g.before = {1, 2};
        g.now = {2, 3};
        g.existing = {1, 2, 4};
        g.has_recovery_checkpoint = true;
    });
    table.push_back(
        {"catch-up exit T6: a continuing member, every owned shard forced Active, "
         "recovery attests (F1: the checkpoint survives)",
         continuing_member,
         {Route::catch_up, continuing, recover_all}});
    {
        Given fixed = continuing_member;
        fixed.behaviours = with({"clear-checkpoint-on-catch-up-exit"});
        StatusPlan status = continuing;
        status.clear_recovery_checkpoint = true;
        table.push_back({"catch-up exit T6 with F1's fix: the checkpoint is cleared",
                         fixed,
                         {Route::catch_up, status, recover_all}});
    }
    {
        Given fixed = continuing_member;
        fixed.behaviours = with({"recovery-status-after-shard-storage"});
        StatusPlan status = continuing;
        status.set_recovery_in_progress = false;  // written after the shards (F8, WAL-1273)
        status.defer_recovery_in_progress = true;
        table.push_back({"catch-up exit T6 with F8's fix: RecoveryInProgress after the shards",
                         fixed,
                         {Route::catch_up, status, recover_all}});
    }
    // --- EpochIsLess: the chain is past E ---
    table.push_back(
        {"EpochIsLess: T3, then the catch-up routine finds a backlog",
         given([](Given& g) {
             g.status = active;
             g.epoch = 4;
             g.committee_epoch = 3;
             g.chain_epoch = 6;
             g.catch_up_chain_epoch = 6;
             g.member_now = std::nullopt;
         }),
         {Route::enter_recovery_and_catch_up, status_plan(Path::backlog), std::nullopt}});
    {
        const StatusPlan status = leaving_committee();
        table.push_back({"EpochIsLess at the chain's last change: T3, then T4",
                         given([](Given& g) {
                             g.status = active;
                             g.epoch = 5;
                             g.committee_epoch = 3;
                             g.chain_epoch = 6;
                             g.catch_up_chain_epoch = 5;
                             g.member_now = false;
                         }),
                         {Route::enter_recovery_and_catch_up, status, std::nullopt}});
    }
    // --- in sync: execute_epoch_change_when_node_is_in_sync ---
    ShardPlan finisher_attests;
    finisher_attests.finisher = FinisherPlan{{}, false, true, {}};
    finisher_attests.attester = Owner::finisher;
    table.push_back(
        {"EpochIsTheSameAsCurrent: in sync without asking the chain; no gained "
         "shards, the finisher attests",
         given([](Given& g) {
             g.status = active;
             g.before = {1};
             g.now = {1};
             g.existing = {1};
         }),
         {Route::in_sync, status_plan(Path::in_sync), finisher_attests}});
    {
        ShardPlan shards;
        shards.create = {2};
        shards.gained = {{2, false, false}};
        shards.start_shard_sync = true;
        shards.finisher = FinisherPlan{{7}, true, true, {2}};
        shards.attester = Owner::shard_sync;
        table.push_back(
            {"in sync, the chain at E: a gained shard is shard-synced and shard sync "
             "attests; a shard unowned for two epochs is removed",
             given([](Given& g) {
                 g.status = active;
                 g.committee_epoch = 4;
                 g.chain_epoch = 5;
                 g.before = {1};
                 g.now = {1, 2};
                 g.existing = {1, 7};
             }),
             {Route::in_sync, status_plan(Path::in_sync), shards}});
    }
    {
        ShardPlan shards;
        shards.finisher = FinisherPlan{{}, true, true, {}};
        shards.attester = Owner::shard_sync;
        table.push_back(
            {"in sync, HEAD's rules: an older shard sync still runs, so shard sync "
             "attests",
             given([](Given& g) {
                 g.status = active;
                 g.before = {1};
                 g.now = {1};
                 g.existing = {1};
                 g.shard_sync_in_progress = true;
                 g.behaviours = with({"head-attestation-rules"});
             }),
             {Route::in_sync, status_plan(Path::in_sync), shards}});
        table.push_back({"in sync, #3464's rules: an older shard sync does not stop the finisher",
                         given([](Given& g) {
                             g.status = active;
                             g.before = {1};
                             g.now = {1};
                             g.existing = {1};
                             g.shard_sync_in_progress = true;
                         }),
                         {Route::in_sync, status_plan(Path::in_sync), finisher_attests}});
    }
    {
        StatusPlan status = status_plan(Path::in_sync);
        status.set_standby = true;
        ShardPlan shards;
        shards.lock = {1};
        shards.finisher = FinisherPlan{{}, false, false, {}};
        const auto former_member = [](NodeStatus before) {
            return given([before](Given& g) {
                g.status = before;
                g.member_now = false;
                g.before = {1};
                g.existing = {1};
            });
        };
        table.push_back(
            {"in sync, left the committee: T11 Standby, lost shards locked, nobody "
             "attests",
             former_member(active),
             {Route::in_sync, status, shards}});
        table.push_back(
            {"in sync while recovering but no longer a member: Standby ends the "
             "recovery, the in-sync path runs",
             former_member(recovering),
             {Route::in_sync, status, shards}});
    }
    {
        StatusPlan status = status_plan(Path::in_sync);
        status.joining = true;
        ShardPlan shards;
        shards.create = {3};
        shards.set_recover_metadata = true;
        shards.gained = {{3, false, false}};
        shards.start_shard_sync = true;
        shards.finisher = FinisherPlan{{}, true, true, {3}};
        shards.attester = Owner::shard_sync;
        table.push_back({"in sync, a Standby node joins: T9 RecoverMetadata",
                         given([](Given& g) {
                             g.status = standby;
                             g.now = {3};
                         }),
                         {Route::in_sync, status, shards}});
    }
    {
        StatusPlan status = status_plan(Path::in_sync);
        status.joining = true;
        table.push_back({"in sync, a Standby member owning no shards: no RecoverMetadata",
                         given([](Given& g) { g.status = standby; }),
                         {Route::in_sync, status, finisher_attests}});
    }
    {
        StatusPlan status = status_plan(Path::while_recovering);
        status.set_recovery_in_progress = true;
        ShardPlan shards;
        shards.create = {2};
        shards.gained = {{2, false, false}};
        shards.start_shard_sync = true;
        shards.start_recovery = true;
        shards.attester = Owner::recovery_task;
        table.push_back(
            {"in sync while recovering (#3464, T7): gained shards shard-synced, "
             "recovery restarts and attests, the event completes at once",
             given([](Given& g) {
                 g.status = recovering;
                 g.before = {1};
                 g.now = {1, 2};
                 g.existing = {1};
             }),
             {Route::in_sync, status, shards}});
    }
    {
        StatusPlan status = status_plan(Path::force_active_while_recovering);
        status.set_recovery_in_progress = true;
        ShardPlan shards;
        shards.force_active = {{1, false}, {2, true}};
        shards.start_recovery = true;
        shards.finisher = FinisherPlan{{9}, true, true, {}};
        shards.attester = Owner::recovery_task;
        table.push_back({"in sync while recovering, before #3464: gained shards forced Active",
                         given([](Given& g) {
                             g.status = recovering;
                             g.before = {1};
                             g.now = {1, 2};
                             g.existing = {1, 9};
                             g.behaviours = with({"force-active-gained-shards"});
                         }),
                         {Route::in_sync, status, shards}});
    }
    // --- gained shards that already exist (F2) and the sync-start record (F4) ---
    {
        StatusPlan joining = status_plan(Path::in_sync);
        joining.joining = true;
        ShardPlan shards;
        shards.set_recover_metadata = true;
        shards.gained = {{5, true, false}};
        shards.start_shard_sync = true;
        shards.finisher = FinisherPlan{{}, true, true, {5}};
        shards.attester = Owner::shard_sync;
        const Given rejoining = given([](Given& g) {
            g.status = standby;
            g.now = {5};
            g.existing = {5};
            g.status_of_existing = {{5, ShardStatus::active}};
        });
        table.push_back({"a joining node's re-gained shard still Active is taken as synced (F2)",
                         rejoining,
                         {Route::in_sync, joining, shards}});
        Given fixed = rejoining;
        fixed.behaviours = with({"resync-regained-active-shards"});
        shards.gained = {{5, true, true}};
        table.push_back({"a re-gained Active shard is synced again (resync-regained-active-shards)",
                         fixed,
                         {Route::in_sync, joining, shards}});
        // A continuing member's gained shard that this epoch's own resumed sync just finished is
        // synced: no switch syncs it again (swarm 9715 with buggify=on, issue 17).
        ShardPlan synced;
        synced.gained = {{5, false, false}};
        synced.start_shard_sync = true;
        synced.finisher = FinisherPlan{{}, true, true, {5}};
        synced.attester = Owner::shard_sync;
        table.push_back({"a continuing member's freshly synced gained shard is not F2's",
                         given([](Given& g) {
                             g.status = active;
                             g.now = {5};
                             g.existing = {5};
                             g.status_of_existing = {{5, ShardStatus::active}};
                             g.behaviours = with({"resync-regained-active-shards",
                                                  "record-shard-sync-before-finisher"});
                         }),
                         {Route::in_sync, status_plan(Path::in_sync), synced}});
    }
    {
        ShardPlan shards;
        shards.create = {6};
        shards.gained = {{5, false, false}, {6, false, true}};
        shards.start_shard_sync = true;
        shards.finisher = FinisherPlan{{}, true, true, {5, 6}};
        shards.attester = Owner::shard_sync;
        table.push_back(
            {"the sync start is recorded before the finisher, except for a shard "
             "whose sync runs (record-shard-sync-before-finisher)",
             given([](Given& g) {
                 g.status = active;
                 g.now = {5, 6};
                 g.existing = {5};
                 g.status_of_existing = {{5, ShardStatus::active_sync}};
                 g.syncing = {5};
                 g.behaviours = with({"record-shard-sync-before-finisher"});
             }),
             {Route::in_sync, status_plan(Path::in_sync), shards}});
    }
    return table;
}

}  // namespace

TEST_CASE("epoch change plan: every path of §7.3, inputs to plan") {
    for (const Row& row : rows()) {
        INFO(row.name);
        const EpochChangePlan planned = plan(inputs(row.given));
        CHECK(planned.route == row.expected.route);
        CHECK(epoch_change_path_name(planned.status.path) ==
              std::string(epoch_change_path_name(row.expected.status.path)));
        CHECK(planned.status == row.expected.status);
        REQUIRE(planned.shards.has_value() == row.expected.shards.has_value());
        if (planned.shards.has_value()) {
            CHECK(attestation_owner_name(planned.shards->attester) ==
                  std::string(attestation_owner_name(row.expected.shards->attester)));
            CHECK(planned.shards->create == row.expected.shards->create);
            CHECK(planned.shards->gained == row.expected.shards->gained);
            CHECK(planned.shards->force_active == row.expected.shards->force_active);
            CHECK(planned.shards->lock == row.expected.shards->lock);
            CHECK(planned.shards->finisher == row.expected.shards->finisher);
            CHECK(*planned.shards == *row.expected.shards);
        }
    }
}

TEST_CASE("epoch change plan: routing asks the chain only when E is not the tracked epoch") {
    CHECK_FALSE(route_asks_chain(RouteInputs{5, false, 5, std::nullopt}));
    CHECK(route_asks_chain(RouteInputs{5, false, 4, std::nullopt}));
    CHECK_FALSE(route_asks_chain(RouteInputs{5, true, 4, std::nullopt}));
    CHECK(plan_route(RouteInputs{5, false, 4, 5}) == Route::in_sync);
    CHECK(plan_route(RouteInputs{5, false, 4, 7}) == Route::enter_recovery_and_catch_up);
    CHECK(plan_route(RouteInputs{5, true, 4, std::nullopt}) == Route::catch_up);
}
