// Cluster tests on the kernel (issue 3): the simtests' cluster under the writer workload, with
// random crashes at the crash fail points, checked as the run goes and at the end.
#include <doctest/doctest.h>

#include "scenarios/cluster_scenario.h"

using floe::scenarios::ClusterScenarioOptions;
using floe::scenarios::ClusterScenarioReport;

namespace {
ClusterScenarioReport run(uint64_t seed, int epochs, bool crashes) {
    std::string error;
    auto report = floe::scenarios::run_cluster_scenario(
        ClusterScenarioOptions{seed, epochs, crashes, "", ""}, error);
    REQUIRE(error.empty());
    return report;
}
}  // namespace

TEST_CASE("cluster: a healthy cluster stores, certifies and reads blobs across epochs") {
    const auto report = run(1, 3, false);
    INFO(report.result.message);
    REQUIRE(report.result.passed());
    CHECK(report.final_epoch >= 3);
    CHECK(report.blobs_written > 20);
    CHECK(report.blobs_read >= report.blobs_written);
    CHECK(report.crashes == 0);
}

TEST_CASE("cluster: workload for 5 epochs with random crashes at the crash fail points") {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
        CAPTURE(seed);
        const auto report = run(seed, 5, true);
        INFO(report.result.message);
        CHECK(report.result.passed());
        CHECK(report.final_epoch >= 5);
        CHECK(report.blobs_written > 20);
        CHECK(report.crashes > 0);
    }
}

TEST_CASE("cluster: the same seed gives the same trace hash") {
    const auto a = run(42, 2, true);
    const auto b = run(42, 2, true);
    REQUIRE(a.result.passed());
    CHECK(a.result.trace_hash == b.result.trace_hash);
    CHECK(a.result.trace_events == b.result.trace_events);
    CHECK(run(43, 2, true).result.trace_hash != a.result.trace_hash);
}

// The bar: every checker passes on at least 50 seeds. Slow under sanitizers, so
// tools/test.sh runs it in the optimised build only.
TEST_CASE("cluster sweep: 50 seeds, 5 epochs, random crashes, all checkers pass") {
    int passed = 0;
    for (uint64_t seed = 1; seed <= 50; ++seed) {
        CAPTURE(seed);
        const auto report = run(seed, 5, true);
        INFO(report.result.message);
        CHECK(report.result.passed());
        passed += report.result.passed() ? 1 : 0;
    }
    CHECK(passed == 50);
}
