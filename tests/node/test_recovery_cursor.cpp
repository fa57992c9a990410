// The pure core of PR #3407's checkpointed recovery (§9.3): the resume decision, the settle
// cursor with in-flight and retry-pending blobs, the retry backoff and the persist interval.
#include <doctest/doctest.h>

#include "node/recovery_cursor.h"

using namespace walrus;
using namespace sim::time_literals;

namespace {
// Blob ids ordered by their first byte, so tables read in order.
BlobId id(uint8_t n) {
    BlobId blob;
    blob.bytes[0] = n;
    return blob;
}
const sim::Instant t0 = sim::Instant::zero();
}  // namespace

TEST_CASE("recovery: resume only with exactly the same owned shards (invariant 20)") {
    const NodeRecoveryProgress checkpoint{7, {1, 2, 3}, id(40)};
    struct Row {
        std::optional<NodeRecoveryProgress> checkpoint;
        std::set<ShardIndex> owned;
        ResumeDecision::Kind expected;
    };
    const Row rows[] = {
        {std::nullopt, {1, 2, 3}, ResumeDecision::Kind::start_fresh},
        {checkpoint, {1, 2, 3}, ResumeDecision::Kind::resume},
        {checkpoint, {1, 2, 3, 4}, ResumeDecision::Kind::discard_and_start_fresh},  // gained
        {checkpoint, {1, 2}, ResumeDecision::Kind::discard_and_start_fresh},        // lost
        {NodeRecoveryProgress{3, {1, 2, 3}, id(40)},
         {1, 2, 3},
         ResumeDecision::Kind::resume},  // the epoch is deliberately not compared
    };
    for (const Row& row : rows) {
        const ResumeDecision decision = resume_decision(row.checkpoint, row.owned);
        CHECK(decision.kind == row.expected);
        if (decision.kind == ResumeDecision::Kind::resume) {
            CHECK(decision.resume_after == id(40));
        }
    }
}

TEST_CASE("recovery: the settle cursor never passes an unfinished blob (invariant 17)") {
    SettleCursor cursor(std::nullopt, 1000);
    cursor.scanned(id(10));
    cursor.settle(id(10));  // stored already
    CHECK(cursor.last_settled() == id(10));
    cursor.scanned(id(20));
    cursor.start(id(20));
    cursor.scanned(id(30));
    cursor.settle(id(30));  // blocked by 20, in flight
    CHECK(cursor.last_settled() == id(10));
    cursor.scanned(id(40));
    cursor.start(id(40));
    cursor.succeeded(id(40));  // out of order: 20 still in flight
    CHECK(cursor.last_settled() == id(10));
    CHECK(cursor.eligible_checkpoint() == id(10));
    cursor.succeeded(id(20));
    CHECK(cursor.last_settled() == id(20));
    // Nothing unfinished: everything scanned counts as settled.
    CHECK(cursor.eligible_checkpoint() == id(40));
    CHECK(cursor.done(/*scan_finished=*/true));
}

TEST_CASE("recovery: a cancelled blob still needed is retried after 1, 2, 4, 8, 16, 30, 30 s") {
    SettleCursor cursor(std::nullopt, 1000);
    cursor.scanned(id(5));
    sim::Instant now = t0;
    const int64_t expected[] = {1, 2, 4, 8, 16, 30, 30};
    cursor.start(id(5));
    for (int64_t seconds : expected) {
        const auto deadline = cursor.cancelled(id(5), /*still_needed=*/true, now);
        REQUIRE(deadline.has_value());
        CHECK(*deadline - now == sim::Duration::seconds(seconds));
        CHECK(cursor.take_due_retries(*deadline - 1_ns).empty());
        CHECK(cursor.next_retry_deadline() == *deadline);
        CHECK(cursor.eligible_checkpoint() == std::nullopt);  // nothing settled below it
        now = *deadline;
        CHECK(cursor.take_due_retries(now) == std::vector<BlobId>{id(5)});
        cursor.start(id(5));
    }
    cursor.succeeded(id(5));
    CHECK_FALSE(cursor.backoff_of(id(5)).has_value());  // reset when it settles
    CHECK(cursor.last_settled() == id(5));
}

TEST_CASE("recovery: a cancelled blob that is no longer needed settles at once") {
    SettleCursor cursor(std::nullopt, 1000);
    cursor.scanned(id(1));
    cursor.start(id(1));
    cursor.scanned(id(2));
    cursor.start(id(2));
    CHECK_FALSE(cursor.cancelled(id(1), /*still_needed=*/false, t0).has_value());
    CHECK(cursor.last_settled() == id(1));
    // A retry pending below also blocks the cursor.
    const auto retry = cursor.cancelled(id(2), /*still_needed=*/true, t0);
    REQUIRE(retry.has_value());
    cursor.scanned(id(3));
    cursor.settle(id(3));
    CHECK(cursor.last_settled() == id(1));
    CHECK_FALSE(cursor.done(true));
    for (const BlobId& blob : cursor.take_due_retries(*retry)) {
        cursor.settle(blob);  // found stored on retry
    }
    CHECK(cursor.last_settled() == id(2));
    CHECK(cursor.done(true));
    CHECK(cursor.eligible_checkpoint() == id(3));
}

TEST_CASE("recovery: checkpoints persist first, then every N settled blobs, only forward") {
    SettleCursor cursor(std::nullopt, 3);
    CHECK_FALSE(cursor.take_checkpoint_to_persist().has_value());  // nothing settled yet
    cursor.scanned(id(1));
    cursor.settle(id(1));
    CHECK(cursor.take_checkpoint_to_persist() == id(1));  // the first one always
    cursor.scanned(id(2));
    cursor.settle(id(2));
    cursor.scanned(id(3));
    cursor.settle(id(3));
    CHECK_FALSE(cursor.take_checkpoint_to_persist().has_value());  // 2 settled < 3
    cursor.scanned(id(4));
    cursor.settle(id(4));
    CHECK(cursor.take_checkpoint_to_persist() == id(4));
    CHECK(cursor.last_persisted() == id(4));
    cursor.scanned(id(9));
    cursor.start(id(9));
    CHECK_FALSE(cursor.take_final_checkpoint().has_value());  // 9 unfinished: nothing newer
}

TEST_CASE("recovery: a resumed pass starts settled at its checkpoint") {
    SettleCursor cursor(id(50), 10);
    CHECK(cursor.last_settled() == id(50));
    CHECK(cursor.last_persisted() == id(50));
    cursor.scanned(id(60));
    cursor.start(id(60));
    CHECK(cursor.eligible_checkpoint() == id(50));
    cursor.succeeded(id(60));
    CHECK(cursor.take_final_checkpoint() == id(60));
}

// The PR drops a Skipped blob from in_flight and may then persist a scan position past it
// (§9.3 steps 5 and 7); floe keeps it unfinished, so the aborted pass persists only below it.
TEST_CASE("recovery: a Skipped blob stays below the checkpoint of the aborted pass") {
    SettleCursor cursor(std::nullopt, 1);
    cursor.scanned(id(10));
    cursor.settle(id(10));
    cursor.scanned(id(20));
    cursor.start(id(20));
    cursor.scanned(id(30));
    cursor.settle(id(30));
    cursor.abandon(id(20));  // Skipped: the node went to RecoveryCatchUp
    CHECK(cursor.in_flight() == 0);
    CHECK(cursor.eligible_checkpoint() == id(10));
    CHECK(cursor.take_final_checkpoint() == id(10));
}

// #3407 (§9.3 steps 5 and 7, §16 item 1): the Skipped blob leaves the blockers, so the aborted
// pass persists a scan position past a blob that was never synced.
TEST_CASE("recovery, #3407 rule: a Skipped blob no longer blocks the checkpoint") {
    SettleCursor cursor(std::nullopt, 1, RecoveryBackoff{}, CheckpointRule::pr_3407);
    cursor.scanned(id(10));
    cursor.settle(id(10));
    cursor.scanned(id(20));
    cursor.start(id(20));
    cursor.scanned(id(30));
    cursor.settle(id(30));
    cursor.abandon(id(20));
    CHECK(cursor.eligible_checkpoint() == id(30));
    CHECK(cursor.take_final_checkpoint() == id(30));
}

TEST_CASE("recovery, #3407 rule: persist when the blob-id prefix advanced by the interval") {
    // Prefix distance: the first 8 bytes as a big-endian integer, saturating.
    BlobId low;
    BlobId high;
    high.bytes[7] = 5;
    CHECK(blob_id_distance(low, high) == 5);
    CHECK(blob_id_distance(high, low) == 0);
    high.bytes[8] = 0xff;  // beyond the prefix: no distance
    CHECK(blob_id_distance(low, high) == 5);
    CHECK(blob_id_distance(id(1), id(2)) == (uint64_t{1} << 56U));

    auto at = [](uint8_t prefix_low_byte) {
        BlobId blob;
        blob.bytes[7] = prefix_low_byte;
        return blob;
    };
    SettleCursor cursor(std::nullopt, 10, RecoveryBackoff{}, CheckpointRule::pr_3407);
    cursor.scanned(at(1));
    cursor.settle(at(1));
    CHECK(cursor.take_checkpoint_to_persist() == at(1));  // the first one always
    for (uint8_t b = 2; b <= 10; ++b) {  // nine settled blobs, prefix advanced by 9
        cursor.scanned(at(b));
        cursor.settle(at(b));
    }
    CHECK_FALSE(cursor.take_checkpoint_to_persist().has_value());
    cursor.scanned(at(11));
    cursor.settle(at(11));  // advanced by 10: due, after ten blobs here
    CHECK(cursor.take_checkpoint_to_persist() == at(11));
    cursor.scanned(at(200));
    cursor.settle(at(200));  // one blob, a long way in id space: due at once
    CHECK(cursor.take_checkpoint_to_persist() == at(200));
}

// Table-driven: sequences of scan/settle/start/outcome events, with the settled cursor and the
// eligible checkpoint after each step (invariants 17 and 22).
TEST_CASE("recovery: settle cursor table — in flight, retries, out-of-order, cancellations") {
    enum class Op : uint8_t { settle, start, succeed, cancel_needed, cancel_unneeded, retry_due };
    struct Step {
        Op op;
        uint8_t blob;
        std::optional<uint8_t> settled;     // last_settled after the step
        std::optional<uint8_t> checkpoint;  // eligible_checkpoint after the step
    };
    struct Table {
        const char* name;
        std::vector<Step> steps;
        bool done;
    };
    const std::vector<Table> tables = {
        {"all stored", {{Op::settle, 1, 1, 1}, {Op::settle, 2, 2, 2}, {Op::settle, 3, 3, 3}}, true},
        {"in order",
         {{Op::start, 1, {}, {}},
          {Op::start, 2, {}, {}},
          {Op::succeed, 1, 1, 1},
          {Op::succeed, 2, 2, 2}},
         true},
        {"out of order",
         {{Op::start, 1, {}, {}},
          {Op::start, 2, {}, {}},
          {Op::start, 3, {}, {}},
          {Op::succeed, 3, {}, {}},
          {Op::succeed, 2, {}, {}},
          {Op::succeed, 1, 1, 3}},
         true},
        {"cancelled, retried, then stored",
         {{Op::settle, 1, 1, 1},
          {Op::start, 2, 1, 1},
          {Op::cancel_needed, 2, 1, 1},
          {Op::settle, 3, 1, 1},
          {Op::retry_due, 2, 1, 1},
          {Op::start, 2, 1, 1},
          {Op::succeed, 2, 2, 3}},
         true},
        {"cancelled, no longer certified",
         {{Op::start, 1, {}, {}}, {Op::settle, 2, {}, {}}, {Op::cancel_unneeded, 1, 1, 2}},
         true},
        {"retry pending at the end",
         {{Op::settle, 1, 1, 1}, {Op::start, 2, 1, 1}, {Op::cancel_needed, 2, 1, 1}},
         false},
    };
    for (const Table& table : tables) {
        CAPTURE(table.name);
        SettleCursor cursor(std::nullopt, 1000);
        sim::Instant now = t0;
        std::set<uint8_t> scanned;
        for (const Step& step : table.steps) {
            if (scanned.insert(step.blob).second) {
                cursor.scanned(id(step.blob));
            }
            switch (step.op) {
                case Op::settle: cursor.settle(id(step.blob)); break;
                case Op::start: cursor.start(id(step.blob)); break;
                case Op::succeed: cursor.succeeded(id(step.blob)); break;
                case Op::cancel_needed: (void)cursor.cancelled(id(step.blob), true, now); break;
                case Op::cancel_unneeded: (void)cursor.cancelled(id(step.blob), false, now); break;
                case Op::retry_due:
                    now = *cursor.next_retry_deadline();
                    CHECK(cursor.take_due_retries(now) == std::vector<BlobId>{id(step.blob)});
                    break;
            }
            const auto expect = [](std::optional<uint8_t> n) {
                return n.has_value() ? std::optional<BlobId>(id(*n)) : std::nullopt;
            };
            CHECK(cursor.last_settled() == expect(step.settled));
            CHECK(cursor.eligible_checkpoint() == expect(step.checkpoint));
        }
        CHECK(cursor.done(true) == table.done);
    }
}
