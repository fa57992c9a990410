// The fail-point swarm (scenarios/buggify.h): which sites it draws, that a seed draws the same
// choices every time, that its choices reach the run's record, and that it finds a bug a plain
// run of the same seeds does not.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "node/sites.h"
#include "scenarios/buggify.h"
#include "scenarios/scenario.h"

using namespace floe::scenarios;
namespace site = walrus::site;

namespace {

std::vector<BuggifyChoice> draw(uint64_t seed, StorageFaultMode mode, double enable_p = 1.0) {
    sim::Rng rng(seed, "buggify");
    return draw_buggify(rng, BuggifyOptions{.enable_p = enable_p, .fire_p = 0.25}, mode);
}

std::set<std::string> sites_of(const std::vector<BuggifyChoice>& choices) {
    std::set<std::string> out;
    for (const BuggifyChoice& choice : choices) {
        out.insert(choice.site);
    }
    return out;
}

}  // namespace

TEST_CASE("buggify: only sites the catalog says fit, disk faults only with storage faults on") {
    const auto off = sites_of(draw(1, StorageFaultMode::off));
    const auto bounded = sites_of(draw(1, StorageFaultMode::bounded));
    const auto unbounded = sites_of(draw(1, StorageFaultMode::unbounded));
    for (const site::Site& entry : site::all()) {
        const std::string name(entry.name);
        if (entry.fits == site::fit_none) {
            CHECK_MESSAGE(!unbounded.contains(name), name);  // probes, args, scenario-only sites
        } else if (entry.kind != site::Kind::fs_fault) {
            CHECK_MESSAGE(off.contains(name), name);
        }
    }
    CHECK_FALSE(off.contains("fs-write-eio"));
    CHECK(bounded.contains("fs-write-eio"));
    CHECK_FALSE(bounded.contains("fs-fsync-lie"));  // it loses data: unbounded only
    CHECK(unbounded.contains("fs-fsync-lie"));
    CHECK_FALSE(off.contains("fail_point_shard_sync_task_finished"));  // a probe
    CHECK_FALSE(off.contains("fail_point_shard_sync_no_retry"));       // fit_none
}

// `buggify-scan-errors=on` adds scan-read-eio (scenario-only, fit_none) as an error; off, the
// draws are exactly those of a build without the option, so pinned buggify seeds keep their runs.
TEST_CASE("buggify: scan errors take part only when asked, as an error") {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        sim::Rng plain(seed, "buggify");
        sim::Rng with(seed, "buggify");
        const auto off = draw_buggify(plain, BuggifyOptions{}, StorageFaultMode::bounded);
        const auto on =
            draw_buggify(with, BuggifyOptions{.scan_errors = true}, StorageFaultMode::bounded);
        CHECK_FALSE(sites_of(off).contains("scan-read-eio"));
        for (const BuggifyChoice& choice : on) {
            if (choice.site == "scan-read-eio") {
                CHECK(choice.action == BuggifyAction::error);
            }
        }
    }
    sim::Rng rng(1, "buggify");
    auto all_on = sites_of(draw_buggify(rng, BuggifyOptions{.enable_p = 1.0, .scan_errors = true},
                                        StorageFaultMode::bounded));
    CHECK(all_on.erase("scan-read-eio") == 1);
    CHECK(all_on == sites_of(draw(1, StorageFaultMode::bounded)));  // and nothing else changes
}

TEST_CASE("buggify: a seed draws the same choices; actions fit their sites") {
    const auto first = draw(7, StorageFaultMode::bounded, 0.25);
    const auto again = draw(7, StorageFaultMode::bounded, 0.25);
    const auto other = draw(8, StorageFaultMode::bounded, 0.25);
    REQUIRE(first.size() == again.size());
    for (size_t i = 0; i < first.size(); ++i) {
        CHECK(describe(first[i]) == describe(again[i]));
    }
    CHECK(sites_of(first) != sites_of(other));
    for (const BuggifyChoice& choice : draw(3, StorageFaultMode::bounded)) {
        const site::Site& entry = *site::find(choice.site);
        switch (choice.action) {
            case BuggifyAction::crash: CHECK((entry.fits & site::fit_crash) != 0); break;
            case BuggifyAction::error: CHECK((entry.fits & site::fit_error) != 0); break;
            case BuggifyAction::delay:
            case BuggifyAction::hold: CHECK(entry.kind == site::Kind::async_point); break;
        }
        CHECK(choice.max_fires >= 1);
    }
    const BuggifyChoice crash{.site = "put-cf-after",
                              .action = BuggifyAction::crash,
                              .fire_p = 0.25,
                              .param = sim::Duration::seconds(12),
                              .max_fires = 2};
    CHECK(describe(crash) == "put-cf-after crash p=0.25 down=12.000s x2");
}

TEST_CASE("buggify: a run notes its choices, fires them, and reproduces from the seed") {
    ScenarioRunOptions options;
    options.seed = 3;
    options.sets = {"buggify=on", "epochs=3"};
    std::string error;
    const ScenarioSpec& swarm = *find_scenario("swarm");
    const ScenarioResult first = run_scenario(swarm, options, error);
    REQUIRE(error.empty());
    REQUIRE_FALSE(first.notes.empty());
    CHECK(first.notes.front().rfind("buggify: ", 0) == 0);
    CHECK(first.reported.at("buggify_sites") == static_cast<int64_t>(first.notes.size()));
    CHECK_FALSE(first.fail_points.buggify_fired.empty());
    const ScenarioResult again = run_scenario(swarm, options, error);
    CHECK(again.result.trace_hash == first.result.trace_hash);
    CHECK(again.notes == first.notes);
    CHECK(repro_command(swarm, options) ==
          "floe run swarm --seed 3 --set buggify=on --set epochs=3");
    // Off, the same seed runs without a background action and draws nothing of the swarm's.
    options.sets = {"epochs=3"};
    const ScenarioResult off = run_scenario(swarm, options, error);
    CHECK(off.notes.empty());
    CHECK(off.fail_points.buggify_fired.empty());
    CHECK(off.result.trace_hash != first.result.trace_hash);
}

TEST_CASE("buggify: finds a bug the same seed's uniform faults miss (finding F8)") {
    // swarm 38 with the fixes of the findings it would reach first: its uniform faults pass; the
    // fail-point swarm crashes node 2 at create-cf-before on its catch-up exit and recovery then
    // waits forever for a shard whose storage the replayed epoch change never creates (F8).
    // Found under the loose fault budget (before strict was the default) and inline
    // spawn_blocking calls (before task was, MODEL.md X16): pinned with both.
    ScenarioRunOptions options;
    options.seed = 38;
    options.sets = {"spawn-blocking=inline", "fault-budget=loose"};
    for (const char* fix : {"record-shard-sync-before-finisher", "blob-sync-skips-missing-shards",
                            "head-attestation-rules", "resync-regained-active-shards",
                            "clear-checkpoint-on-catch-up-exit", "active-shard-sync-is-success",
                            "any-epoch-shard-assignment"}) {
        REQUIRE(options.old.set(fix));
    }
    std::string error;
    const ScenarioSpec& swarm = *find_scenario("swarm");
    CHECK(run_scenario(swarm, options, error).result.passed());
    options.sets.emplace_back("buggify=on");
    const ScenarioResult found = run_scenario(swarm, options, error);
    CHECK_FALSE(found.result.passed());
    CHECK(found.fail_points.probes.contains(
        std::string(site::walrus_finding_f8_recovery_without_shard_storage)));
    // ... and F8's fix makes it pass.
    REQUIRE(options.old.set("recovery-status-after-shard-storage"));
    CHECK(run_scenario(swarm, options, error).result.passed());
}
