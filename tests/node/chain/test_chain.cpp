// The simulated contract: D'Hondt shard counts and committee transitions against the known
// answers of walrus-recovery-spec.md §18, the epoch state machine of §1.1, and blob objects.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "../../death_test.h"
#include "node/chain/chain.h"
#include "node/chain/committee_selection.h"
#include "node/chain/dhondt.h"
#include "node/chain/events.h"
#include "sim/rng.h"
#include "sim/time.h"

using namespace walrus;
using namespace sim::time_literals;

namespace {

__extension__ typedef unsigned __int128 u128;

using Counts = std::vector<uint32_t>;
using Shards = std::vector<ShardIndex>;

uint64_t total(const Counts& counts) {
    uint64_t sum = 0;
    for (uint32_t c : counts) {
        sum += c;
    }
    return sum;
}

// The plain D'Hondt greedy from zero shards, with the same cap and tie rule: the
// Hagenbach-Bischoff start of the real implementation must never change its answer.
Counts reference_dhondt(const std::vector<uint64_t>& stakes, uint32_t n_shards) {
    uint32_t active = 0;
    for (uint64_t s : stakes) {
        active += s > 0 ? 1 : 0;
    }
    const uint32_t cap = max_shards_per_node(active, n_shards);
    Counts shards(stakes.size(), 0);
    for (uint32_t k = 0; k < n_shards; ++k) {
        std::optional<size_t> best;
        for (size_t i = 0; i < stakes.size(); ++i) {
            if (stakes[i] == 0 || shards[i] >= cap) {
                continue;
            }
            // stakes[i] / (shards[i] + 1) > stakes[best] / (shards[best] + 1), exactly.
            if (!best || static_cast<u128>(stakes[i]) * (shards[*best] + 1) >
                             static_cast<u128>(stakes[*best]) * (shards[i] + 1)) {
                best = i;
            }
        }
        REQUIRE(best.has_value());
        ++shards[*best];
    }
    return shards;
}

Committee make_committee(Epoch epoch, uint32_t n_shards,
                         std::vector<std::pair<NodeIndex, Shards>> members) {
    Committee committee{.epoch = epoch, .n_shards = n_shards, .members = {}};
    for (auto& [node, shards] : members) {
        committee.members.push_back(CommitteeMember{.node = node, .shards = shards});
    }
    return committee;
}

// Every shard owned exactly once, members sorted by node and non-empty, counts as asked.
void check_committee(const Committee& committee, const Counts& counts) {
    std::vector<int> owners(committee.n_shards, 0);
    NodeIndex last = 0;
    for (size_t m = 0; m < committee.members.size(); ++m) {
        const CommitteeMember& member = committee.members[m];
        CHECK(!member.shards.empty());
        if (m > 0) {
            CHECK(member.node > last);
        }
        last = member.node;
        CHECK(member.shards.size() == counts[member.node]);
        for (ShardIndex s : member.shards) {
            REQUIRE(s < committee.n_shards);
            ++owners[s];
        }
    }
    for (size_t node = 0; node < counts.size(); ++node) {
        CHECK(committee.shards_of(static_cast<NodeIndex>(node)).size() == counts[node]);
    }
    CHECK(std::all_of(owners.begin(), owners.end(), [](int n) { return n == 1; }));
}

const std::vector<uint64_t> unit_weights = {1, 2, 3, 3, 4};

// §18 known answer: the first committee of stakes [1,2,3,3,4] on 13 shards.
Committee known_first(Epoch epoch) {
    return make_committee(
        epoch, 13, {{0, {0}}, {1, {1, 2}}, {2, {3, 4, 5}}, {3, {6, 7, 8}}, {4, {9, 10, 11, 12}}});
}

// §18 known answer: after node 0 staked +3.
Committee known_after_stake(Epoch epoch) {
    return make_committee(
        epoch, 13, {{0, {0, 12, 8, 5}}, {1, {1, 2}}, {2, {3, 4}}, {3, {6, 7}}, {4, {9, 10, 11}}});
}

sim::Instant at(sim::Duration d) {
    return sim::Instant::zero() + d;
}

// Every member of the current committee attests, in node order, at `now`.
void attest_all(Chain& chain, sim::Instant now) {
    const Committee committee = chain.current_committee();
    for (const CommitteeMember& member : committee.members) {
        REQUIRE(chain.epoch_sync_done(member.node, chain.current_epoch(), now).ok());
    }
}

// Quorum at `now`, then on to the start of the next epoch. Returns the instant it started.
sim::Instant finish_epoch(Chain& chain, sim::Instant now) {
    attest_all(chain, now);
    REQUIRE(chain.state() == EpochState::change_done);
    const sim::Instant start = chain.next_deadline() + chain.config().epoch_duration / 2;
    chain.advance_time(start);
    REQUIRE(chain.state() == EpochState::change_sync);
    return start;
}

template <class T>
const T& body(const ChainEvent& event) {
    REQUIRE(std::holds_alternative<T>(event.body));
    return std::get<T>(event.body);
}

}  // namespace

TEST_SUITE("chain") {
    // --- D'Hondt (§18 "Counts") -----------------------------------------------------------------

    TEST_CASE("chain: dhondt known answers of the spec") {
        CHECK(dhondt_shard_counts({1, 2, 3, 3, 4}, 13) == Counts{1, 2, 3, 3, 4});
        CHECK(dhondt_shard_counts({4, 2, 3, 3, 4}, 13) == Counts{4, 2, 2, 2, 3});
        // Scaled stakes give the same apportionment.
        CHECK(dhondt_shard_counts({1'000'000, 2'000'000, 3'000'000, 3'000'000, 4'000'000}, 13) ==
              Counts{1, 2, 3, 3, 4});
    }

    TEST_CASE("chain: dhondt max_shards per node") {
        CHECK(max_shards_per_node(5, 13) == 6);  // the spec's example: ceil(13*20 / (5*10))
        CHECK(max_shards_per_node(1, 13) == 26);
        CHECK(max_shards_per_node(19, 1000) == 106);
        CHECK(max_shards_per_node(20, 1000) == 100);
        CHECK(max_shards_per_node(20, 13) == 1);
        CHECK(max_shards_per_node(100, 1000) == 100);
    }

    TEST_CASE("chain: dhondt caps a dominant stake") {
        // Node 0 would take every shard; it stops at 6 and the rest is shared, ties to the earlier.
        CHECK(dhondt_shard_counts({100, 1, 1, 1, 1}, 13) == Counts{6, 2, 2, 2, 1});
        // A single node is only limited by ceil(2n / 1).
        CHECK(dhondt_shard_counts({7}, 13) == Counts{13});
    }

    TEST_CASE("chain: dhondt ties go to the earlier node") {
        CHECK(dhondt_shard_counts({1, 1}, 3) == Counts{2, 1});
        CHECK(dhondt_shard_counts({5, 5, 5}, 4) == Counts{2, 1, 1});
        CHECK(dhondt_shard_counts({5, 5, 5}, 5) == Counts{2, 2, 1});
        CHECK(dhondt_shard_counts({2, 4, 2}, 5) == Counts{1, 3, 1});  // 4/3 > 2/2 = 2/2 = 4/4
        CHECK(dhondt_shard_counts({2, 4, 2}, 6) == Counts{2, 3, 1});
    }

    TEST_CASE("chain: dhondt gives nothing to a node without stake") {
        CHECK(dhondt_shard_counts({0, 3, 0, 3}, 4) == Counts{0, 2, 0, 2});
        // The cap counts only the active set: with 2 staked nodes out of 22 the cap is
        // ceil(4*20 / (2*10)) = 4, not 4 / 10 = 0 (which could not distribute anything).
        std::vector<uint64_t> stakes(22, 0);
        stakes[1] = 5;
        stakes[21] = 5;
        Counts expected(22, 0);
        expected[1] = 2;
        expected[21] = 2;
        CHECK(dhondt_shard_counts(stakes, 4) == expected);
        CHECK(dhondt_shard_counts({0, 1, 0, 9}, 4) == Counts{0, 0, 0, 4});  // 9/4 > 1/1
    }

    TEST_CASE("chain: dhondt with 20 or more nodes caps at n_shards / 10") {
        std::vector<uint64_t> stakes(20, 1);
        stakes[7] = 1'000'000;
        const Counts counts = dhondt_shard_counts(stakes, 100);
        CHECK(counts[7] == 10);
        CHECK(total(counts) == 100);
        CHECK(*std::max_element(counts.begin(), counts.end()) == 10);
        // 13 shards over 20 equal nodes: a cap of 1, and the 13 earliest nodes win the ties.
        const Counts equal = dhondt_shard_counts(std::vector<uint64_t>(20, 5), 13);
        for (size_t i = 0; i < 20; ++i) {
            CHECK(equal[i] == (i < 13 ? 1U : 0U));
        }
    }

    TEST_CASE("chain: dhondt matches the plain greedy and always distributes n_shards") {
        sim::Rng rng(20240611, "chain-dhondt");
        int checked = 0;
        for (int round = 0; round < 400; ++round) {
            const auto n_nodes = static_cast<size_t>(rng.range(1, 30));
            const auto n_shards = static_cast<uint32_t>(rng.range(10, 300));
            std::vector<uint64_t> stakes(n_nodes);
            const bool big = rng.bernoulli(0.3);
            for (uint64_t& s : stakes) {
                s = rng.bernoulli(0.2) ? 0 : (big ? rng.next_u64() >> 4 : rng.below(20));
            }
            if (std::all_of(stakes.begin(), stakes.end(), [](uint64_t s) { return s == 0; })) {
                stakes[0] = 1;
            }
            uint32_t active = 0;
            for (uint64_t s : stakes) {
                active += s > 0 ? 1 : 0;
            }
            if (uint64_t{active} * max_shards_per_node(active, n_shards) < n_shards) {
                continue;  // not distributable (the contract assumes enough nodes)
            }
            const Counts counts = dhondt_shard_counts(stakes, n_shards);
            ++checked;
            CAPTURE(round);
            CHECK(total(counts) == n_shards);
            CHECK(counts == reference_dhondt(stakes, n_shards));
            for (size_t i = 0; i < n_nodes; ++i) {
                CHECK(counts[i] <= max_shards_per_node(active, n_shards));
                if (stakes[i] == 0) {
                    CHECK(counts[i] == 0);
                }
            }
        }
        CHECK(checked > 300);
    }

    // --- Committees (§18 "Indices") -------------------------------------------------------------

    TEST_CASE("chain: initial committee hands out shards sequentially") {
        const Committee first = initial_committee(1, {1, 2, 3, 3, 4}, 13);
        CHECK(first == known_first(1));
        // Nodes without shards are not members, and indices stay contiguous across them.
        const Committee gaps = initial_committee(3, {0, 2, 0, 1}, 3);
        CHECK(gaps == make_committee(3, 3, {{1, {0, 1}}, {3, {2}}}));
        CHECK(!gaps.contains(0));
    }

    TEST_CASE("chain: transition known answer of the spec") {
        const Committee next = transition_committee(known_first(1), {4, 2, 2, 2, 3}, 2);
        CHECK(next == known_after_stake(2));
        // The shard-sync sources of node 0's new shards.
        CHECK(known_first(1).owner_of(12) == 4);
        CHECK(known_first(1).owner_of(8) == 3);
        CHECK(known_first(1).owner_of(5) == 2);
    }

    TEST_CASE("chain: transition with the same counts moves nothing") {
        const Committee next = transition_committee(known_first(1), {1, 2, 3, 3, 4}, 2);
        CHECK(next.members == known_first(1).members);
        CHECK(next.epoch == 2);
    }

    TEST_CASE("chain: a node leaving gives all its shards") {
        // Node 4 leaves: 9, 10, 11, 12 go on the stack and node 3 pops 12, 11, 10, 9.
        const Committee next = transition_committee(known_first(1), {1, 2, 3, 7, 0}, 2);
        CHECK(next ==
              make_committee(
                  2, 13, {{0, {0}}, {1, {1, 2}}, {2, {3, 4, 5}}, {3, {6, 7, 8, 12, 11, 10, 9}}}));
        // Node 1 leaves and a new node 5 joins with its count: it gets node 1's shards, last first.
        const Committee joined = transition_committee(known_first(1), {1, 0, 3, 3, 4, 2}, 2);
        CHECK(joined ==
              make_committee(
                  2, 13,
                  {{0, {0}}, {2, {3, 4, 5}}, {3, {6, 7, 8}}, {4, {9, 10, 11, 12}}, {5, {2, 1}}}));
    }

    TEST_CASE("chain: growing nodes are served in node order from the stack") {
        // Node 4 shrinks 4 -> 1 (pushes 12, 11, 10); node 0 grows by 2 (pops 10, 11), node 2 by 1.
        const Committee next = transition_committee(known_first(1), {3, 2, 4, 3, 1}, 2);
        CHECK(next ==
              make_committee(
                  2, 13,
                  {{0, {0, 10, 11}}, {1, {1, 2}}, {2, {3, 4, 5, 12}}, {3, {6, 7, 8}}, {4, {9}}}));
    }

    TEST_CASE("chain: total shard count is invariant over random stake sequences") {
        sim::Rng rng(7, "chain-transition");
        for (int run = 0; run < 20; ++run) {
            const auto n_nodes = static_cast<size_t>(rng.range(1, 25));
            const auto n_shards = static_cast<uint32_t>(rng.range(10, 120));
            std::vector<uint64_t> stakes(n_nodes);
            for (uint64_t& s : stakes) {
                s = rng.below(10);
            }
            stakes[static_cast<size_t>(rng.below(n_nodes))] += 1;
            Counts counts = dhondt_shard_counts(stakes, n_shards);
            Committee committee = initial_committee(1, counts, n_shards);
            check_committee(committee, counts);
            for (Epoch epoch = 2; epoch < 40; ++epoch) {
                CAPTURE(run);
                CAPTURE(epoch);
                const size_t changes = static_cast<size_t>(rng.range(0, 3));
                for (size_t k = 0; k < changes; ++k) {
                    uint64_t& s = stakes[static_cast<size_t>(rng.below(n_nodes))];
                    s = rng.bernoulli(0.3) ? 0 : rng.below(15);
                }
                if (std::all_of(stakes.begin(), stakes.end(), [](uint64_t s) { return s == 0; })) {
                    stakes[0] = 1;
                }
                counts = dhondt_shard_counts(stakes, n_shards);
                const Committee next = transition_committee(committee, counts, epoch);
                check_committee(next, counts);
                CHECK(next.epoch == epoch);
                // Minimal movement: a node keeps min(old, new) of its shards, as a prefix.
                for (const CommitteeMember& member : next.members) {
                    const Shards before = committee.shards_of(member.node);
                    const size_t kept = std::min(before.size(), member.shards.size());
                    CHECK(std::equal(before.begin(),
                                     before.begin() + static_cast<std::ptrdiff_t>(kept),
                                     member.shards.begin()));
                }
                committee = next;
            }
        }
    }

    // --- Epoch state machine (§1.1) -------------------------------------------------------------

    TEST_CASE("chain: genesis starts epoch 1 in change_sync") {
        const Chain chain(ChainConfig{}, unit_weights);
        CHECK(chain.current_epoch() == 1);
        CHECK(chain.state() == EpochState::change_sync);
        REQUIRE(chain.events().size() == 1);
        CHECK(chain.events()[0] ==
              ChainEvent{.index = 0, .epoch = 1, .body = EpochChangeStart{.epoch = 1}});
        CHECK(chain.next_event_index() == 1);
        CHECK(chain.current_committee() == known_first(1));
        CHECK(chain.committee_at(1) == known_first(1));
        CHECK(!chain.previous_committee().has_value());
        CHECK(!chain.next_committee().has_value());
        CHECK(!chain.committee_at(0).has_value());
        CHECK(chain.next_deadline().is_never());
        CHECK(chain.attested_weight() == 0);
    }

    TEST_CASE("chain: quorum is reached exactly at 3w >= 2n + 1") {
        Chain chain(ChainConfig{}, unit_weights);
        // 13 shards: quorum needs 9. Nodes 4 and 3 hold 4 + 3 = 7.
        REQUIRE(chain.epoch_sync_done(4, 1, at(1_s)).ok());
        REQUIRE(chain.epoch_sync_done(3, 1, at(2_s)).ok());
        CHECK(chain.attested_weight() == 7);
        CHECK(chain.state() == EpochState::change_sync);
        CHECK(chain.next_deadline().is_never());
        // Node 2 brings 10 >= 9.
        REQUIRE(chain.epoch_sync_done(2, 1, at(3_s)).ok());
        CHECK(chain.attested_weight() == 10);
        CHECK(chain.state() == EpochState::change_done);
        CHECK(chain.epoch_change_done_time() == at(3_s));

        const std::vector<ChainEvent>& events = chain.events();
        REQUIRE(events.size() == 5);
        CHECK(body<ShardsReceived>(events[1]) ==
              ShardsReceived{.epoch = 1, .node = 4, .shards = {9, 10, 11, 12}});
        CHECK(body<ShardsReceived>(events[2]) ==
              ShardsReceived{.epoch = 1, .node = 3, .shards = {6, 7, 8}});
        // As in the contract, EpochChangeDone precedes the ShardsReceived of the deciding node.
        CHECK(body<EpochChangeDone>(events[3]).epoch == 1);
        CHECK(body<ShardsReceived>(events[4]).node == 2);
        for (size_t i = 0; i < events.size(); ++i) {
            CHECK(events[i].index == i);
            CHECK(events[i].epoch == 1);
        }

        // Later attestations are still accepted and recorded; the quorum time does not move.
        REQUIRE(chain.epoch_sync_done(0, 1, at(4_s)).ok());
        CHECK(chain.attested_weight() == 11);
        CHECK(chain.has_attested(0, 1));
        CHECK(!chain.has_attested(1, 1));
        CHECK(chain.epoch_change_done_time() == at(3_s));
        CHECK(body<ShardsReceived>(chain.events().back()).node == 0);
        CHECK(chain.events().size() == 6);
    }

    TEST_CASE("chain: quorum threshold with weights 1,2,3,3,4") {
        // Every subset of the five nodes: quorum exactly when its weight is at least 9.
        for (uint32_t mask = 0; mask < 32; ++mask) {
            Chain chain(ChainConfig{}, unit_weights);
            uint32_t weight = 0;
            for (NodeIndex node = 0; node < 5; ++node) {
                if ((mask >> node & 1U) != 0) {
                    REQUIRE(chain.epoch_sync_done(node, 1, at(1_s)).ok());
                    weight += static_cast<uint32_t>(unit_weights[node]);
                }
            }
            CAPTURE(mask);
            CHECK((chain.state() == EpochState::change_done) == (weight >= 9));
            CHECK(is_quorum(weight, 13) == (weight >= 9));
        }
    }

    TEST_CASE("chain: epoch_sync_done errors, in the contract's order") {
        // Node 5 has no stake: it exists but is in no committee.
        Chain chain(ChainConfig{}, {1, 2, 3, 3, 4, 0});
        CHECK(chain.current_committee() == known_first(1));
        const size_t events_before = chain.events().size();

        auto attempt = [&](NodeIndex node, Epoch epoch) {
            const auto result = chain.epoch_sync_done(node, epoch, at(1_s));
            return result.ok() ? std::optional<SyncDoneError>{} : result.error();
        };
        CHECK(attempt(1, 2) == SyncDoneError::invalid_sync_epoch);
        CHECK(attempt(1, 0) == SyncDoneError::invalid_sync_epoch);
        CHECK(attempt(5, 2) == SyncDoneError::invalid_sync_epoch);  // epoch is checked first
        CHECK(attempt(5, 1) == SyncDoneError::not_in_committee);
        CHECK(attempt(5, 1) == SyncDoneError::not_in_committee);  // a failure records nothing
        CHECK(chain.events().size() == events_before);
        CHECK(chain.attested_weight() == 0);

        CHECK(attempt(1, 1) == std::nullopt);
        CHECK(attempt(1, 1) == SyncDoneError::duplicate_sync_done);
        CHECK(attempt(1, 2) == SyncDoneError::invalid_sync_epoch);
        CHECK(chain.attested_weight() == 2);
        CHECK(chain.events().size() == events_before + 1);

        CHECK(std::string(sync_done_error_name(SyncDoneError::duplicate_sync_done)) ==
              "duplicate_sync_done");
    }

    TEST_CASE("chain: voting_end at t + d/2 and the epoch change at t + d from EpochChangeDone") {
        Chain chain(ChainConfig{.n_shards = 13, .epoch_duration = 30_s}, unit_weights);
        chain.advance_time(at(100_s));  // nothing is due in change_sync, however late
        CHECK(chain.state() == EpochState::change_sync);
        CHECK(chain.events().size() == 1);

        const sim::Instant t = at(105_s);
        attest_all(chain, t);
        REQUIRE(chain.state() == EpochState::change_done);
        CHECK(chain.next_deadline() == t + 15_s);

        chain.advance_time(t + (15_s - 1_ns));
        CHECK(chain.state() == EpochState::change_done);
        CHECK(!chain.next_committee().has_value());

        const size_t before_voting = chain.events().size();
        chain.advance_time(t + 15_s);
        CHECK(chain.state() == EpochState::next_params_selected);
        CHECK(chain.current_epoch() == 1);
        CHECK(chain.epoch_change_done_time() == t);  // t stays the EpochChangeDone time
        CHECK(chain.next_deadline() == t + 30_s);
        REQUIRE(chain.events().size() == before_voting + 1);
        CHECK(chain.events().back() ==
              ChainEvent{.index = before_voting,
                         .epoch = 1,
                         .body = EpochParametersSelected{.next_epoch = 2}});
        REQUIRE(chain.next_committee().has_value());
        CHECK(chain.next_committee()->epoch == 2);
        CHECK(chain.next_committee()->members == known_first(1).members);  // no stake change
        CHECK(chain.committee_at(2) == chain.next_committee());

        chain.advance_time(t + (30_s - 1_ns));
        CHECK(chain.current_epoch() == 1);
        CHECK(chain.state() == EpochState::next_params_selected);

        chain.advance_time(t + 30_s);
        CHECK(chain.current_epoch() == 2);
        CHECK(chain.state() == EpochState::change_sync);
        CHECK(chain.attested_weight() == 0);
        CHECK(chain.next_deadline().is_never());
        CHECK(chain.events().back() == ChainEvent{.index = before_voting + 1,
                                                  .epoch = 2,
                                                  .body = EpochChangeStart{.epoch = 2}});
        CHECK(chain.previous_committee() == known_first(1));
        CHECK(chain.current_committee().epoch == 2);
        CHECK(!chain.next_committee().has_value());
        CHECK(chain.committee_at(1) == known_first(1));

        // Epoch 1 is over: attesting it now is a stale attestation; epoch 2 needs its own quorum.
        CHECK(chain.epoch_sync_done(0, 1, t + 31_s).error() == SyncDoneError::invalid_sync_epoch);
        CHECK(chain.epoch_sync_done(0, 2, t + 31_s).ok());
    }

    TEST_CASE("chain: one late advance_time performs every transition due") {
        Chain chain(ChainConfig{}, unit_weights);
        attest_all(chain, at(1_s));
        chain.advance_time(at(1000_s));
        CHECK(chain.current_epoch() == 2);
        CHECK(chain.state() == EpochState::change_sync);  // no further quorum: it waits there
        const std::vector<ChainEvent>& events = chain.events();
        CHECK(body<EpochParametersSelected>(events[events.size() - 2]).next_epoch == 2);
        CHECK(body<EpochChangeStart>(events.back()).epoch == 2);
    }

    TEST_CASE("chain: epoch_sync_done performs the transitions due at its instant first") {
        Chain chain(ChainConfig{.n_shards = 13, .epoch_duration = 10_s}, unit_weights);
        attest_all(chain, at(0_s));
        // The epoch change to 2 is due at 10 s; nobody called advance_time.
        CHECK(chain.current_epoch() == 1);
        CHECK(chain.epoch_sync_done(4, 2, at(10_s)).ok());
        CHECK(chain.current_epoch() == 2);
        CHECK(chain.has_attested(4, 2));
    }

    TEST_CASE("chain: stake before voting_end shapes E+1, after it E+2") {
        SUBCASE("before voting_end: during change_sync") {
            Chain chain(ChainConfig{}, unit_weights);
            chain.add_stake(0, 3);
            CHECK(chain.stake(0) == 4);
            CHECK(chain.current_committee() == known_first(1));  // the current epoch is fixed
            const sim::Instant start = finish_epoch(chain, at(1_s));
            CHECK(chain.current_epoch() == 2);
            CHECK(chain.current_committee() == known_after_stake(2));
            finish_epoch(chain, start);
            CHECK(chain.current_committee().members == known_after_stake(3).members);
        }
        SUBCASE("before voting_end: during change_done") {
            Chain chain(ChainConfig{}, unit_weights);
            attest_all(chain, at(1_s));
            chain.advance_time(sim::Instant::from_ns(chain.next_deadline().ns() - 1));
            REQUIRE(chain.state() == EpochState::change_done);
            chain.add_stake(0, 3);
            chain.advance_time(chain.next_deadline());
            CHECK(chain.next_committee() == known_after_stake(2));
        }
        SUBCASE("after voting_end") {
            Chain chain(ChainConfig{}, unit_weights);
            attest_all(chain, at(1_s));
            chain.advance_time(chain.next_deadline());
            REQUIRE(chain.state() == EpochState::next_params_selected);
            chain.add_stake(0, 3);
            chain.advance_time(chain.next_deadline());
            REQUIRE(chain.current_epoch() == 2);
            CHECK(chain.current_committee().members == known_first(1).members);
            // Epoch 3 is the first selected from the new stake: node 0 gains 12, 8 and 5.
            attest_all(chain, at(100_s));
            chain.advance_time(chain.next_deadline());
            REQUIRE(chain.next_committee().has_value());
            CHECK(*chain.next_committee() == known_after_stake(3));
            chain.advance_time(chain.next_deadline());
            CHECK(chain.current_epoch() == 3);
            CHECK(chain.current_committee() == known_after_stake(3));
            CHECK(chain.previous_committee()->members == known_first(1).members);
        }
    }

    TEST_CASE("chain: a node that loses all shards leaves the committee and cannot attest") {
        Chain chain(ChainConfig{}, {1, 2, 3, 3, 4, 0});
        // Node 5 joins with a dominant stake. Six staked nodes: a cap of ceil(260 / 60) = 5.
        chain.add_stake(5, 100);
        const sim::Instant start = finish_epoch(chain, at(1_s));
        // Counts [0,1,2,2,3,5]: node 0 leaves (pushes 0), nodes 1..4 shrink (push 2, 5, 8, 12)
        // and node 5 pops 12, 8, 5, 2, 0.
        CHECK(chain.current_committee() ==
              make_committee(
                  2, 13,
                  {{1, {1}}, {2, {3, 4}}, {3, {6, 7}}, {4, {9, 10, 11}}, {5, {12, 8, 5, 2, 0}}}));
        CHECK(chain.epoch_sync_done(0, 2, start).error() == SyncDoneError::not_in_committee);
        CHECK(chain.epoch_sync_done(5, 2, start).ok());
        CHECK(chain.previous_committee()->shards_of(0) == Shards{0});
    }

    TEST_CASE("chain: a node whose stake is withdrawn leaves, and rejoins when staked again") {
        Chain chain(ChainConfig{}, {1, 2, 3, 3, 4});
        chain.withdraw_stake(0, 1);
        CHECK(chain.stake(0) == 0);
        CHECK(chain.current_committee().contains(0));  // the current epoch is fixed
        sim::Instant start = finish_epoch(chain, at(1_s));
        REQUIRE(chain.current_epoch() == 2);
        CHECK_FALSE(chain.current_committee().contains(0));
        CHECK(chain.previous_committee()->shards_of(0) == Shards{0});
        CHECK(chain.epoch_sync_done(0, 2, start).error() == SyncDoneError::not_in_committee);
        chain.add_stake(0, 1);
        start = finish_epoch(chain, start);
        REQUIRE(chain.current_epoch() == 3);
        CHECK(chain.current_committee().contains(0));
        CHECK(chain.current_committee().shards_of(0).size() == 1);
    }

    TEST_CASE("chain: withdrawing more than a node has, or every stake, is a bug") {
        // Death tests: the assertion aborts the child.
        const DeathResult too_much = run_in_child([] {
            Chain chain(ChainConfig{}, {1, 2, 3, 3, 4});
            chain.withdraw_stake(0, 2);
        });
        CHECK(too_much.aborted);
        CHECK(too_much.stderr_text.find("cannot withdraw 2") != std::string::npos);
        const DeathResult everything = run_in_child([] {
            Chain chain(ChainConfig{}, {1, 0});
            chain.withdraw_stake(0, 1);
        });
        CHECK(everything.aborted);
        CHECK(everything.stderr_text.find("leaves no stake at all") != std::string::npos);
    }

    TEST_CASE("chain: many epochs with random stake keep every committee consistent") {
        sim::Rng rng(99, "chain-epochs");
        Chain chain(ChainConfig{.n_shards = 40, .epoch_duration = 20_s},
                    {5, 5, 5, 5, 5, 5, 5, 5, 0, 0});
        sim::Instant now = sim::Instant::zero();
        while (chain.current_epoch() < 30) {
            now = now + rng.uniform(1_ms, 15_s);
            if (rng.bernoulli(0.3)) {
                chain.add_stake(static_cast<NodeIndex>(rng.below(chain.n_nodes())), rng.below(8));
            }
            if (chain.state() == EpochState::change_sync) {
                const Committee committee = chain.current_committee();
                const CommitteeMember& member =
                    committee.members[static_cast<size_t>(rng.below(committee.members.size()))];
                const auto result = chain.epoch_sync_done(member.node, chain.current_epoch(), now);
                CHECK((result.ok() || result.error() == SyncDoneError::duplicate_sync_done));
            } else {
                chain.advance_time(now);
            }
        }
        // The event stream tells the same story as the committees.
        Epoch expected_start = 1;
        for (size_t i = 0; i < chain.events().size(); ++i) {
            const ChainEvent& event = chain.events()[i];
            CHECK(event.index == i);
            if (const auto* start = std::get_if<EpochChangeStart>(&event.body)) {
                CHECK(start->epoch == expected_start);
                CHECK(event.epoch == expected_start);
                ++expected_start;
            }
            if (const auto* received = std::get_if<ShardsReceived>(&event.body)) {
                CHECK(chain.committee_at(received->epoch)->shards_of(received->node) ==
                      received->shards);
            }
        }
        CHECK(expected_start == chain.current_epoch() + 1);
        for (Epoch epoch = 2; epoch <= chain.current_epoch(); ++epoch) {
            const Committee committee = *chain.committee_at(epoch);
            uint32_t owned = 0;
            for (const CommitteeMember& member : committee.members) {
                owned += static_cast<uint32_t>(member.shards.size());
            }
            CHECK(owned == 40);
            CHECK(committee.epoch == epoch);
        }
    }

    // --- Blob objects ---------------------------------------------------------------------------

    TEST_CASE("chain: register and certify a blob object") {
        Chain chain(ChainConfig{}, unit_weights);
        const BlobId blob = BlobId::from_u64(1);
        const auto first = chain.register_blob(blob, false, 5);
        REQUIRE(first.ok());
        CHECK(first.value() == 1);
        // The same blob id may be registered again: a second object.
        const auto second = chain.register_blob(blob, true, 3);
        REQUIRE(second.ok());
        CHECK(second.value() == 2);
        CHECK(chain.events()[1] ==
              ChainEvent{.index = 1,
                         .epoch = 1,
                         .body = BlobRegistered{
                             .blob_id = blob, .object_id = 1, .deletable = false, .end_epoch = 5}});
        CHECK(chain.object(1) == BlobObject{.object_id = 1,
                                            .blob_id = blob,
                                            .deletable = false,
                                            .registered_epoch = 1,
                                            .end_epoch = 5,
                                            .certified_epoch = std::nullopt});

        REQUIRE(chain.certify_blob(1).ok());
        CHECK(chain.object(1)->certified_epoch == 1);
        CHECK(chain.events().back() == ChainEvent{.index = 3,
                                                  .epoch = 1,
                                                  .body = BlobCertified{.blob_id = blob,
                                                                        .object_id = 1,
                                                                        .deletable = false,
                                                                        .end_epoch = 5,
                                                                        .is_extension = false,
                                                                        .certified_epoch = 1}});
        CHECK(chain.certify_blob(1).error() == BlobError::already_certified);
        CHECK(chain.certify_blob(99).error() == BlobError::unknown_object);
        CHECK(chain.certify_blob(0).error() == BlobError::unknown_object);
        CHECK(!chain.object(99).has_value());
    }

    TEST_CASE("chain: register rejects an end epoch that is not in the future") {
        Chain chain(ChainConfig{}, unit_weights);
        CHECK(chain.register_blob(BlobId::from_u64(1), false, 1).error() ==
              BlobError::bad_end_epoch);
        CHECK(chain.register_blob(BlobId::from_u64(1), true, 0).error() ==
              BlobError::bad_end_epoch);
        CHECK(chain.events().size() == 1);
        // A failed registration uses no object id.
        CHECK(chain.register_blob(BlobId::from_u64(1), true, 2).value() == 1);
    }

    TEST_CASE("chain: certify fails once the object expired") {
        Chain chain(ChainConfig{}, unit_weights);
        const uint64_t object = chain.register_blob(BlobId::from_u64(2), false, 2).value();
        finish_epoch(chain, at(1_s));
        REQUIRE(chain.current_epoch() == 2);
        CHECK(chain.certify_blob(object).error() == BlobError::expired);
        CHECK(chain.register_blob(BlobId::from_u64(2), false, 2).error() ==
              BlobError::bad_end_epoch);
    }

    TEST_CASE("chain: extend a permanent certified blob") {
        Chain chain(ChainConfig{}, unit_weights);
        const BlobId blob = BlobId::from_u64(3);
        const uint64_t permanent = chain.register_blob(blob, false, 3).value();
        const uint64_t deletable = chain.register_blob(blob, true, 3).value();

        CHECK(chain.extend_blob(permanent, 6).error() == BlobError::not_certified);
        REQUIRE(chain.certify_blob(permanent).ok());
        REQUIRE(chain.certify_blob(deletable).ok());
        CHECK(chain.extend_blob(deletable, 6).error() == BlobError::not_permanent);
        CHECK(chain.extend_blob(permanent, 3).error() == BlobError::bad_end_epoch);
        CHECK(chain.extend_blob(permanent, 2).error() == BlobError::bad_end_epoch);
        CHECK(chain.extend_blob(77, 6).error() == BlobError::unknown_object);

        finish_epoch(chain, at(1_s));
        REQUIRE(chain.current_epoch() == 2);
        REQUIRE(chain.extend_blob(permanent, 6).ok());
        CHECK(chain.object(permanent)->end_epoch == 6);
        CHECK(chain.object(permanent)->certified_epoch == 1);
        // The extension is emitted in epoch 2 and carries the original certified epoch.
        CHECK(chain.events().back().epoch == 2);
        CHECK(body<BlobCertified>(chain.events().back()) == BlobCertified{.blob_id = blob,
                                                                          .object_id = permanent,
                                                                          .deletable = false,
                                                                          .end_epoch = 6,
                                                                          .is_extension = true,
                                                                          .certified_epoch = 1});
    }

    TEST_CASE("chain: an expired blob cannot be extended or deleted") {
        Chain chain(ChainConfig{}, unit_weights);
        const uint64_t permanent = chain.register_blob(BlobId::from_u64(4), false, 2).value();
        const uint64_t deletable = chain.register_blob(BlobId::from_u64(5), true, 2).value();
        REQUIRE(chain.certify_blob(permanent).ok());
        finish_epoch(chain, at(1_s));
        CHECK(chain.extend_blob(permanent, 9).error() == BlobError::expired);
        CHECK(chain.delete_blob(deletable).error() == BlobError::expired);
        CHECK(chain.object(deletable).has_value());
    }

    TEST_CASE("chain: delete a deletable blob object") {
        Chain chain(ChainConfig{}, unit_weights);
        const BlobId blob = BlobId::from_u64(6);
        const uint64_t permanent = chain.register_blob(blob, false, 4).value();
        const uint64_t uncertified = chain.register_blob(blob, true, 4).value();
        const uint64_t certified = chain.register_blob(blob, true, 5).value();
        REQUIRE(chain.certify_blob(certified).ok());

        CHECK(chain.delete_blob(permanent).error() == BlobError::not_deletable);
        REQUIRE(chain.delete_blob(uncertified).ok());
        CHECK(body<BlobDeleted>(chain.events().back()) == BlobDeleted{.blob_id = blob,
                                                                      .object_id = uncertified,
                                                                      .end_epoch = 4,
                                                                      .was_certified = false});
        CHECK(!chain.object(uncertified).has_value());
        CHECK(chain.delete_blob(uncertified).error() == BlobError::unknown_object);
        CHECK(chain.certify_blob(uncertified).error() == BlobError::unknown_object);

        REQUIRE(chain.delete_blob(certified).ok());
        CHECK(body<BlobDeleted>(chain.events().back()).was_certified);
        CHECK(body<BlobDeleted>(chain.events().back()).end_epoch == 5);
        CHECK(chain.object(permanent).has_value());
    }

    TEST_CASE(
        "chain: an invalid blob id is announced per certificate and cannot be registered "
        "again") {
        Chain chain(ChainConfig{}, unit_weights);
        const BlobId blob = BlobId::from_u64(7);
        const uint64_t object = chain.register_blob(blob, false, 4).value();
        const uint32_t n = chain.config().n_shards;
        const uint32_t one_correct = (n + 1 + 2) / 3;  // 3w >= n + 1
        CHECK(chain.invalidate_blob(blob, 2, n).error() == BlobError::invalid_id_epoch);
        CHECK(chain.invalidate_blob(blob, 1, one_correct - 1).error() ==
              BlobError::not_enough_weight);
        CHECK_FALSE(chain.is_invalid(blob));
        CHECK(chain.invalidate_blob(blob, 1, one_correct).ok());
        CHECK(chain.is_invalid(blob));
        CHECK(chain.events().back() ==
              ChainEvent{.index = 2, .epoch = 1, .body = InvalidBlobId{.blob_id = blob}});
        CHECK(chain.invalidate_blob(blob, 1, n).ok());  // the contract does not deduplicate
        CHECK(chain.events().size() == 4);
        CHECK(chain.register_blob(blob, false, 4).error() == BlobError::invalid_blob);
        CHECK(chain.register_blob(blob, true, 1).error() == BlobError::invalid_blob);
        CHECK(chain.object(object).has_value());  // existing objects stay
        CHECK(!chain.is_invalid(BlobId::from_u64(8)));
        CHECK(std::string(blob_error_name(BlobError::invalid_blob)) == "invalid_blob");
    }

    // --- Event text -----------------------------------------------------------------------------

    TEST_CASE("chain: describe gives one stable line per event") {
        const BlobId blob = BlobId::from_u64(1);
        const std::string hex = blob.short_hex();
        CHECK(describe(ChainEvent{.index = 0, .epoch = 1, .body = EpochChangeStart{.epoch = 1}}) ==
              "#0 e1 EpochChangeStart epoch=1");
        CHECK(describe(ChainEvent{.index = 4, .epoch = 1, .body = EpochChangeDone{.epoch = 1}}) ==
              "#4 e1 EpochChangeDone epoch=1");
        CHECK(describe(ChainEvent{
                  .index = 9, .epoch = 1, .body = EpochParametersSelected{.next_epoch = 2}}) ==
              "#9 e1 EpochParametersSelected next_epoch=2");
        CHECK(describe(ChainEvent{
                  .index = 3,
                  .epoch = 2,
                  .body = ShardsReceived{.epoch = 2, .node = 0, .shards = {0, 12, 8, 5}}}) ==
              "#3 e2 ShardsReceived epoch=2 node=0 shards=[0,12,8,5]");
        CHECK(describe(ChainEvent{
                  .index = 5,
                  .epoch = 2,
                  .body =
                      BlobRegistered{
                          .blob_id = blob, .object_id = 3, .deletable = true, .end_epoch = 4}}) ==
              "#5 e2 BlobRegistered blob=" + hex + " object=3 deletable=true end_epoch=4");
        CHECK(describe(ChainEvent{.index = 6,
                                  .epoch = 3,
                                  .body = BlobCertified{.blob_id = blob,
                                                        .object_id = 3,
                                                        .deletable = false,
                                                        .end_epoch = 7,
                                                        .is_extension = true,
                                                        .certified_epoch = 2}}) ==
              "#6 e3 BlobCertified blob=" + hex +
                  " object=3 deletable=false end_epoch=7 extension=true certified_epoch=2");
        CHECK(describe(ChainEvent{.index = 7,
                                  .epoch = 3,
                                  .body = BlobDeleted{.blob_id = blob,
                                                      .object_id = 3,
                                                      .end_epoch = 4,
                                                      .was_certified = false}}) ==
              "#7 e3 BlobDeleted blob=" + hex + " object=3 end_epoch=4 was_certified=false");
        CHECK(
            describe(ChainEvent{.index = 8, .epoch = 3, .body = InvalidBlobId{.blob_id = blob}}) ==
            "#8 e3 InvalidBlobId blob=" + hex);
        CHECK(event_name(
                  ChainEvent{.index = 8, .epoch = 3, .body = InvalidBlobId{.blob_id = blob}}) ==
              "InvalidBlobId");
    }

    TEST_CASE("chain: the same calls give the same event stream") {
        auto run = [] {
            Chain chain(ChainConfig{}, unit_weights);
            sim::Rng rng(5, "chain-determinism");
            sim::Instant now;
            for (int step = 0; step < 200; ++step) {
                now = now + rng.uniform(1_ms, 10_s);
                const auto node = static_cast<NodeIndex>(rng.below(5));
                switch (rng.below(4)) {
                    case 0: (void)chain.epoch_sync_done(node, chain.current_epoch(), now); break;
                    case 1: chain.add_stake(node, rng.below(4)); break;
                    case 2:
                        (void)chain.register_blob(
                            BlobId::from_u64(rng.below(20)), rng.bernoulli(0.5),
                            chain.current_epoch() + 1 + static_cast<Epoch>(rng.below(3)));
                        break;
                    default: (void)chain.certify_blob(rng.below(30) + 1); break;
                }
                chain.advance_time(now);
            }
            std::vector<std::string> lines;
            for (const ChainEvent& event : chain.events()) {
                lines.push_back(describe(event));
            }
            return lines;
        };
        const std::vector<std::string> a = run();
        CHECK(a.size() > 50);
        CHECK(a == run());
    }

}  // TEST_SUITE("chain")
