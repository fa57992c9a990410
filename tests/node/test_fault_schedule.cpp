// Fault schedules (scenarios/fault_schedule.h): a run records what it injected; the file reads
// back; a replay of the whole schedule runs the same faults at the same times; a schedule with
// faults left out runs without them; a bad file is a one-line error.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "scenarios/fault_schedule.h"
#include "scenarios/scenario.h"
#include "tests/test_files.h"

using namespace floe::scenarios;

namespace {

ScenarioResult run(const std::string& scenario, uint64_t seed, std::vector<std::string> sets,
                   FaultSchedule* record, const FaultSchedule* replay) {
    ScenarioRunOptions options;
    options.seed = seed;
    options.sets = std::move(sets);
    options.record_faults = record;
    options.replay_faults = replay;
    std::string error;
    ScenarioResult result = run_scenario(*find_scenario(scenario), options, error);
    REQUIRE(error.empty());
    return result;
}

}  // namespace

TEST_CASE("fault schedule: the swarm records its faults, and replays them at the same times") {
    FaultSchedule recorded{"swarm", 5, {}};
    const ScenarioResult original = run("swarm", 5, {"epochs=4"}, &recorded, nullptr);
    REQUIRE(recorded.fault_count() > 3);
    CHECK(original.reported.at("faults") >= static_cast<int64_t>(recorded.fault_count()));

    floe::testing::ScratchDir dir;
    REQUIRE(write_schedule(recorded, dir.file("s.json")).empty());
    std::string error;
    const auto back = read_schedule(dir.file("s.json"), error);
    REQUIRE(back.has_value());
    REQUIRE(back->events.size() == recorded.events.size());
    for (size_t i = 0; i < recorded.events.size(); ++i) {
        CHECK(back->events[i].kind == recorded.events[i].kind);
        CHECK(back->events[i].at == recorded.events[i].at);
        CHECK(back->events[i].down == recorded.events[i].down);
        CHECK(back->events[i].node == recorded.events[i].node);
    }

    // The replay issues the very faults again, at their times (the replayed run records them).
    FaultSchedule replayed{"swarm", 5, {}};
    const ScenarioResult again = run("swarm", 5, {"epochs=4"}, &replayed, &*back);
    CHECK(again.result.passed() == original.result.passed());
    REQUIRE(replayed.fault_count() == recorded.fault_count());
    CHECK(replayed.counts() == recorded.counts());

    // With the faults left out, none is injected (the structural heals stay).
    FaultSchedule empty{"swarm", 5, {}};
    for (const FaultEvent& event : recorded.events) {
        if (event.structural()) {
            empty.events.push_back(event);
        }
    }
    const ScenarioResult none = run("swarm", 5, {"epochs=4"}, nullptr, &empty);
    CHECK(none.reported.at("faults") == 0);
}

TEST_CASE("fault schedule: a scripted fault left out by the file does not happen") {
    FaultSchedule recorded{"checkpoint-resume", 1, {}};
    (void)run("checkpoint-resume", 1, {}, &recorded, nullptr);
    REQUIRE(recorded.fault_count() >= 1);
    FaultSchedule without_first = recorded;
    without_first.events.erase(without_first.events.begin());
    FaultSchedule replayed{"checkpoint-resume", 1, {}};
    (void)run("checkpoint-resume", 1, {}, &replayed, &without_first);
    CHECK(replayed.fault_count() == recorded.fault_count() - 1);
}

TEST_CASE("fault schedule: a missing file, bad JSON or an unknown kind is a one-line error") {
    floe::testing::ScratchDir dir;
    std::string error;
    CHECK_FALSE(read_schedule(dir.file("none.json"), error).has_value());
    CHECK(error.find("cannot read the fault schedule") == 0);
    std::ofstream(dir.file("bad.json")) << "{not json";
    CHECK_FALSE(read_schedule(dir.file("bad.json"), error).has_value());
    CHECK(error.find("not a fault schedule") != std::string::npos);
    std::ofstream(dir.file("kind.json"))
        << R"({"scenario":"swarm","seed":1,"events":[{"id":0,"at_ns":0,"kind":"meteor"}]})";
    CHECK_FALSE(read_schedule(dir.file("kind.json"), error).has_value());
    CHECK(error.find("unknown fault kind 'meteor'") != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
}
