// floe shrink's arithmetic (tools/shrink.h): the failure signature and ddmin over fault ids.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "tools/shrink.h"

using floe::tools::ddmin;
using floe::tools::DdminStats;
using floe::tools::failure_signature;

namespace {

// A failure that needs every fault of `needed` (and any others may be present).
floe::tools::CandidateTest needs(std::set<uint64_t> needed, uint64_t& runs) {
    return [needed, &runs](const std::vector<std::vector<uint64_t>>& candidates) {
        std::vector<bool> out;
        for (const auto& candidate : candidates) {
            ++runs;
            out.push_back(std::all_of(needed.begin(), needed.end(), [&](uint64_t id) {
                return std::find(candidate.begin(), candidate.end(), id) != candidate.end();
            }));
        }
        return out;
    };
}

std::vector<uint64_t> ids(uint64_t n) {
    std::vector<uint64_t> out;
    for (uint64_t i = 0; i < n; ++i) {
        out.push_back(i);
    }
    return out;
}

}  // namespace

TEST_CASE("shrink: ids and numbers are masked, the class and the words kept") {
    CHECK(failure_signature("liveness",
                            "the cluster did not converge within 600.000s: node 2 is "
                            "RecoverMetadata, not Active") ==
          "liveness: the cluster did not converge within #s: node # is RecoverMetadata, not "
          "Active");
    CHECK(failure_signature("invariant", "blob 46cea8f7b045 lost at 84.05s\nstderr...") ==
          "invariant: blob <id> lost at #s");
    CHECK(failure_signature("invariant", "x") != failure_signature("liveness", "x"));
}

TEST_CASE("shrink: ddmin finds the two faults of twenty a failure needs, in any batch size") {
    for (size_t batch : {size_t{1}, size_t{2}, size_t{8}}) {
        uint64_t runs = 0;
        DdminStats stats;
        const auto result = ddmin(ids(20), needs({3, 17}, runs), batch, 1000, stats);
        CHECK(result == std::vector<uint64_t>{3, 17});
        CHECK_FALSE(stats.capped);
        CHECK(stats.tests == runs);
        CHECK(runs < 100);  // ddmin, not the 2^20 subsets
    }
}

TEST_CASE("shrink: no fault needed, one fault needed, and a cap on the runs") {
    uint64_t runs = 0;
    DdminStats none;
    CHECK(ddmin(ids(10), needs({}, runs), 2, 100, none).empty());
    DdminStats one;
    CHECK(ddmin(ids(10), needs({9}, runs), 2, 100, one) == std::vector<uint64_t>{9});
    DdminStats capped;
    const auto partial = ddmin(ids(40), needs({1, 20, 39}, runs), 1, 5, capped);
    CHECK(capped.capped);
    CHECK(capped.tests <= 5);
    CHECK(partial.size() > 3);  // stopped before it was minimal, still a failing set
}
