#include "node/chain/committee_selection.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <utility>

#include "sim/assert.h"

namespace walrus {

namespace {

uint64_t sum(const std::vector<uint32_t>& counts) {
    uint64_t total = 0;
    for (uint32_t count : counts) {
        total += count;
    }
    return total;
}

uint32_t count_of(const std::vector<uint32_t>& counts, NodeIndex node) {
    return node < counts.size() ? counts[node] : 0;
}

}  // namespace

Committee initial_committee(Epoch epoch, const std::vector<uint32_t>& counts, uint32_t n_shards) {
    FLOE_ASSERT(n_shards <= uint32_t{std::numeric_limits<ShardIndex>::max()} + 1,
                "{} shards do not fit ShardIndex", n_shards);
    FLOE_ASSERT(sum(counts) == n_shards, "counts sum to {}, not {} shards", sum(counts), n_shards);
    Committee committee{.epoch = epoch, .n_shards = n_shards, .members = {}};
    uint32_t next_shard = 0;
    for (size_t node = 0; node < counts.size(); ++node) {
        if (counts[node] == 0) {
            continue;  // §18 step 5: no shards, not a member
        }
        CommitteeMember member{.node = static_cast<NodeIndex>(node), .shards = {}};
        for (uint32_t k = 0; k < counts[node]; ++k) {
            member.shards.push_back(static_cast<ShardIndex>(next_shard++));
        }
        committee.members.push_back(std::move(member));
    }
    return committee;
}

Committee transition_committee(const Committee& previous, const std::vector<uint32_t>& counts,
                               Epoch epoch) {
    uint64_t previous_total = 0;
    for (const CommitteeMember& member : previous.members) {
        previous_total += member.shards.size();
    }
    FLOE_ASSERT(previous_total == previous.n_shards, "committee of epoch {} owns {} shards, not {}",
                previous.epoch, previous_total, previous.n_shards);
    // The contract aborts with EInvalidShardAssignment on a different total.
    FLOE_ASSERT(sum(counts) == previous.n_shards, "counts sum to {}, not {} shards", sum(counts),
                previous.n_shards);

    Committee next{.epoch = epoch, .n_shards = previous.n_shards, .members = {}};
    std::vector<ShardIndex> to_move;  // a stack: the last shard given up is the first handed out

    // Walk the previous committee in node order; leaving and shrinking nodes free shards.
    for (const CommitteeMember& member : previous.members) {
        const uint32_t assigned = count_of(counts, member.node);
        const size_t have = member.shards.size();
        if (assigned == 0) {
            to_move.insert(to_move.end(), member.shards.begin(), member.shards.end());
        } else if (have >= assigned) {
            CommitteeMember kept = member;
            while (kept.shards.size() > assigned) {
                to_move.push_back(kept.shards.back());
                kept.shards.pop_back();
            }
            next.members.push_back(std::move(kept));
        }
        // A growing node is served below, once every freed shard is on the stack.
    }

    // Growing and new nodes, in node order, keep what they had and pop the rest off the stack.
    for (size_t node = 0; node < counts.size(); ++node) {
        const auto node_index = static_cast<NodeIndex>(node);
        const CommitteeMember* before = previous.member(node_index);
        const size_t have = before != nullptr ? before->shards.size() : 0;
        if (counts[node] == 0 || counts[node] <= have) {
            continue;
        }
        CommitteeMember grown{
            .node = node_index,
            .shards = before != nullptr ? before->shards : std::vector<ShardIndex>{}};
        while (grown.shards.size() < counts[node]) {
            FLOE_ASSERT(!to_move.empty(), "no freed shard left for node {}", node);
            grown.shards.push_back(to_move.back());
            to_move.pop_back();
        }
        next.members.push_back(std::move(grown));
    }
    FLOE_ASSERT(to_move.empty(), "{} freed shards were not reassigned", to_move.size());

    std::sort(next.members.begin(), next.members.end(),
              [](const CommitteeMember& a, const CommitteeMember& b) { return a.node < b.node; });
    return next;
}

}  // namespace walrus
