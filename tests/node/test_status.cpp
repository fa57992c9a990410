// The node status machine of walrus-recovery-spec.md §2.1, the whole table (HEAD's
// can_transition_to is the oracle of invariant 1), and the health strings the simtests read.
#include <doctest/doctest.h>

#include "node/status.h"

using namespace walrus;

TEST_CASE("status: the §2.1 transition table, every pair") {
    using K = NodeStatus::Kind;
    const NodeStatus all[] = {NodeStatus::standby(), NodeStatus::active(),
                              NodeStatus::recover_metadata(), NodeStatus::recovery_catch_up(),
                              NodeStatus::recovery_in_progress(5)};
    // Rows: from; columns: to (Standby, Active, RecoverMetadata, RecoveryCatchUp,
    // RecoveryInProgress).
    const bool legal[5][5] = {
        {true, false, true, true, false},  // Standby (T9, T3)
        {true, true, false, true, false},  // Active (T11, T3)
        {true, true, true, true, false},   // RecoverMetadata (T11, T10, T3)
        {true, false, true, true, true},   // RecoveryCatchUp (T4, T5, T6)
        {true, true, false, true, true},   // RecoveryInProgress (T11, T8, T3, T7)
    };
    for (int from = 0; from < 5; ++from) {
        for (int to = 0; to < 5; ++to) {
            CAPTURE(all[from].to_string());
            CAPTURE(all[to].to_string());
            CHECK(all[from].can_transition_to(all[to]) == legal[from][to]);
        }
    }
    // T7: the same variant with a newer target is legal.
    CHECK(
        NodeStatus::recovery_in_progress(5).can_transition_to(NodeStatus::recovery_in_progress(8)));
    CHECK(NodeStatus::recovery_in_progress(5).kind == K::recovery_in_progress);
}

TEST_CASE("status: health strings and the persisted encoding") {
    CHECK(NodeStatus::recovery_in_progress(7).to_string() == "RecoveryInProgress (7)");
    CHECK(NodeStatus::recovery_catch_up().to_string() == "RecoveryCatchUp");
    for (const NodeStatus& status :
         {NodeStatus::standby(), NodeStatus::active(), NodeStatus::recover_metadata(),
          NodeStatus::recovery_catch_up(), NodeStatus::recovery_in_progress(123456)}) {
        CHECK(NodeStatus::decode(status.encode()) == status);
    }
    CHECK_FALSE(NodeStatus::decode("x").has_value());
}
