// The gate's reach check (tools/gate_reached.h): reading and writing the reach file, and which
// sites fail the gate.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/test_files.h"
#include "tools/gate_reached.h"

using floe::tools::add_reached_sites;
using floe::tools::check_reach;
using floe::tools::ExpectedReach;
using floe::tools::reach_path_for;
using floe::tools::read_expected_reach;
using floe::tools::write_expected_reach;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("gate reach: a record's fail points and probes are reached, nothing else") {
    std::set<std::string> reached;
    add_reached_sites(
        R"({"fail_points_reached":{"put-cf-before":3},"probes":{"recovery_resumed_at_startup":1},)"
        R"("fail_points_armed_hit":["not-counted"]})",
        reached);
    add_reached_sites("not json", reached);
    add_reached_sites(R"({"scenario":"x","outcome":"fail"})", reached);  // a crash record
    CHECK(reached == std::set<std::string>{"put-cf-before", "recovery_resumed_at_startup"});
}

TEST_CASE("gate reach: lost, unaccounted and unknown sites fail; newly reached ones do not") {
    const std::vector<std::string> catalog = {"a", "b", "c", "d", "e"};
    ExpectedReach expected;
    expected.reached = {"a", "b"};
    expected.unreachable = {{"c", "needs a planted bug"}};
    SUBCASE("everything as expected") {
        const auto check = check_reach(expected, {"a", "b"}, catalog);
        CHECK_FALSE(check.passed());  // d and e are in the catalog but nowhere in the file
        CHECK(check.unaccounted == std::vector<std::string>{"d", "e"});
        CHECK(check.lost.empty());
    }
    expected.unreachable["d"] = "r";
    expected.reached.insert("e");
    SUBCASE("a site no longer reached") {
        const auto check = check_reach(expected, {"a", "e"}, catalog);
        CHECK_FALSE(check.passed());
        CHECK(check.lost == std::vector<std::string>{"b"});
    }
    SUBCASE("a site reached that the file calls unreachable is news, not a failure") {
        const auto check = check_reach(expected, {"a", "b", "c", "e"}, catalog);
        CHECK(check.passed());
        CHECK(check.newly == std::vector<std::string>{"c"});
    }
    SUBCASE("a name the catalog lost") {
        expected.reached.insert("gone");
        const auto check = check_reach(expected, {"a", "b", "e"}, catalog);
        CHECK_FALSE(check.passed());
        CHECK(check.unknown == std::vector<std::string>{"gone"});
    }
}

TEST_CASE("gate reach: the file written is read back to the same expectation") {
    floe::testing::ScratchDir dir;
    const std::string path = dir.file("gate.reached");
    ExpectedReach previous;
    previous.unreachable = {{"c", "only with a planted bug"}};
    REQUIRE(write_expected_reach(path, {"a", "b"}, {"a", "b", "c", "d"}, previous).empty());
    const std::string text = read_all(path);
    CHECK(text.find("unreachable c only with a planted bug\n") != std::string::npos);
    CHECK(text.find("unreachable d not reached by the gate's seeds\n") != std::string::npos);
    ExpectedReach back;
    REQUIRE(read_expected_reach(path, back).empty());
    CHECK(back.reached == std::set<std::string>{"a", "b"});
    CHECK(back.unreachable.size() == 2);
    CHECK(check_reach(back, {"a", "b"}, {"a", "b", "c", "d"}).passed());
}

TEST_CASE("gate reach: a bad line or a missing file is a one-line error") {
    floe::testing::ScratchDir dir;
    ExpectedReach out;
    CHECK(read_expected_reach(dir.file("missing"), out).find("cannot read") == 0);
    std::ofstream(dir.file("bad")) << "a b\n";
    CHECK(read_expected_reach(dir.file("bad"), out).find(":1: expected") != std::string::npos);
    std::ofstream(dir.file("noreason")) << "# fine\nunreachable x\n";
    CHECK(read_expected_reach(dir.file("noreason"), out).find(":2: 'unreachable' needs") !=
          std::string::npos);
    CHECK(reach_path_for("tools/gate.txt") == "tools/gate.reached");
    CHECK(reach_path_for("my-list") == "my-list.reached");
}
