// The catalog of fail points and probes (node/sites.def): names are unique, the scenario lists
// come from it, a scenario's run reports its probes, and a scenario cannot arm a probe or name a
// site the catalog does not have. tools/check_catalog.py checks the catalog against the code.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "node/sites.h"
#include "scenarios/cluster.h"
#include "scenarios/scenario.h"
#include "scenarios/storage_faults.h"
#include "tests/death_test.h"

using namespace floe::scenarios;
namespace site = walrus::site;

TEST_CASE("site catalog: unique names, found by name, every kind listed once") {
    std::set<std::string_view> names;
    for (const site::Site& entry : site::all()) {
        CHECK_MESSAGE(names.insert(entry.name).second, entry.name);
        CHECK(site::find(entry.name) == &entry);  // the table itself
        CHECK_FALSE(entry.what.empty());
        // A probe is never a fault site, and a swarm only acts where the catalog says it fits.
        if (entry.is_probe()) {
            CHECK(entry.fits == site::fit_none);
        }
    }
    CHECK(site::find("no-such-site") == nullptr);
    CHECK(site::find(site::put_cf_before.name)->what == site::put_cf_before.what);
    // The scenario-side lists are views of the catalog, and together cover it exactly.
    const size_t listed = crash_node_fail_points.size() + model_fail_points.size() +
                          fs_fail_points.size() + model_probes.size();
    CHECK(listed == site::all().size());
    CHECK(crash_node_fail_points.size() == 11);
    CHECK(crash_node_fail_points.front() == "batch-write-before");
    CHECK(fs_fail_points.size() == 7);
    CHECK(std::find(model_probes.begin(), model_probes.end(),
                    "walrus_finding_f1_checkpoint_across_catch_up") != model_probes.end());
}

TEST_CASE("site catalog: a run reports the probes it reached and those never true") {
    ScenarioRunOptions options;
    options.seed = 1;
    std::string error;
    const ScenarioResult result = run_scenario(*find_scenario("checkpoint-resume"), options, error);
    REQUIRE(error.empty());
    CHECK(result.result.passed());
    const auto& probes = result.fail_points.probes;
    CHECK(probes.contains(std::string(site::fail_point_node_recovery_resumed_from_checkpoint)));
    CHECK(probes.contains(std::string(site::node_recovery_scan_blob)));
    // Probes are reported apart from fail points.
    CHECK_FALSE(result.fail_points.reached.contains(std::string(site::node_recovery_scan_blob)));
    // A SOMETIMES whose line ran without its condition holding is listed as never true.
    for (const std::string& name : result.fail_points.probes_never_true) {
        CHECK_FALSE(probes.contains(name));
    }
}

namespace {

// A scenario whose script arms `name`; the catalog check aborts it before anything runs.
void arm_in_a_scenario(const std::string& name) {
    ScenarioSpec spec;
    spec.name = "arm-test";
    spec.build = [](const Params&, sim::Rng&, ClusterConfig& config) { simtest_cluster(config); };
    spec.script = [name](Scenario& s) { s.arm(name, sim::FailPointAction::inject_error()); };
    std::string error;
    (void)run_scenario(spec, ScenarioRunOptions{}, error);
}

}  // namespace

TEST_CASE("site catalog: arming a probe, or a name the catalog lacks, is a bug") {
    const DeathResult probe = run_in_child([] { arm_in_a_scenario("node_recovery_scan_blob"); });
    CHECK(probe.aborted);
    CHECK(probe.stderr_text.find("'node_recovery_scan_blob' is a probe") != std::string::npos);
    const DeathResult typo = run_in_child([] { arm_in_a_scenario("put-cf-befor"); });
    CHECK(typo.aborted);
    CHECK(typo.stderr_text.find("'put-cf-befor' is not a fail point or probe") !=
          std::string::npos);
}
