// The blob model: aggregate blob info (§4.1), the certified-before-epoch filter (§4.2) and the
// encoding model's recovery thresholds.
#include <doctest/doctest.h>

#include "node/blob_info.h"
#include "node/encoding.h"
#include "sim/rng.h"

using namespace walrus;

TEST_CASE("blob info: register, certify, expire") {
    BlobInfo info;
    info.apply_register(/*deletable=*/false, /*end_epoch=*/5);
    CHECK(info.is_registered(4));
    CHECK_FALSE(info.is_certified(2));
    info.apply_certify(/*epoch=*/2, false, 5, false);
    CHECK(info.initial_certified_epoch == 2);
    CHECK_FALSE(info.is_certified(1));  // not yet certified at epoch 1
    CHECK(info.is_certified(2));
    CHECK(info.is_certified(4));
    CHECK_FALSE(info.is_certified(5));  // expired: end_epoch <= e
    CHECK(info.can_data_be_deleted(5));
}

TEST_CASE("blob info: extension moves the end epoch of permanent blobs") {
    BlobInfo info;
    info.apply_register(false, 4);
    info.apply_certify(1, false, 4, false);
    CHECK_FALSE(info.is_certified(4));
    info.apply_certify(3, false, 9, /*is_extension=*/true);
    CHECK(info.is_certified(8));
    CHECK(info.initial_certified_epoch == 1);  // an extension is not a first certification
    CHECK(info.permanent_total->end_epoch == 9);
}

TEST_CASE("blob info: deleting the last certified deletable object uncertifies") {
    BlobInfo info;
    info.apply_register(true, 10);
    info.apply_register(true, 10);
    info.apply_certify(1, true, 10, false);
    info.apply_certify(1, true, 10, false);
    info.apply_delete(true);
    CHECK(info.is_certified(2));  // one certified object left
    info.apply_delete(true);
    CHECK_FALSE(info.is_certified(2));
    CHECK_FALSE(info.is_registered(2));
}

TEST_CASE("blob info: invalid blobs are neither certified nor registered") {
    BlobInfo info;
    info.apply_register(false, 10);
    info.apply_certify(1, false, 10, false);
    info.apply_invalidate(3);
    CHECK_FALSE(info.is_certified(4));
    CHECK_FALSE(info.is_registered(4));
    CHECK(info.invalid_epoch == 3);
}

TEST_CASE("blob info: the last deletion forgets the end epochs and the initial epoch") {
    // Walrus decrement_deletable_counter_and_maybe_unset_latest_end_epoch and
    // maybe_unset_initial_certified_epoch (blob_info_v1.rs at fb097a2262).
    BlobInfo info;
    info.apply_register(true, 10);
    info.apply_certify(1, true, 10, false);
    info.apply_delete(true);
    CHECK(info.latest_seen_deletable_registered_end_epoch == 0);
    CHECK(info.latest_seen_deletable_certified_end_epoch == 0);
    CHECK_FALSE(info.initial_certified_epoch.has_value());
    // A new object certified later starts a new initial epoch: the blob was not certified
    // before it, so a recovery to an earlier epoch must not count it (§4.2).
    info.apply_register(true, 12);
    info.apply_certify(5, true, 12, false);
    CHECK(info.initial_certified_epoch == 5);
    CHECK_FALSE(info.is_certified(4));
}

TEST_CASE("blob info: a certification after every object expired restarts the initial epoch") {
    BlobInfo info;
    info.apply_register(false, 3);
    info.apply_certify(1, false, 3, false);
    info.apply_register(false, 9);
    info.apply_certify(6, false, 9, false);  // not certified at 6 (expired at 3): forced
    CHECK(info.initial_certified_epoch == 6);
    BlobInfo still;
    still.apply_register(false, 9);
    still.apply_certify(1, false, 9, false);
    still.apply_register(false, 12);
    still.apply_certify(6, false, 12, false);  // certified at 6 already: kept
    CHECK(still.initial_certified_epoch == 1);
}

TEST_CASE("blob info: GC phase 1 expiry operands") {
    BlobInfo info;
    info.apply_register(true, 4);
    info.apply_certify(1, true, 4, false);
    info.apply_register(false, 6);
    info.apply_certify(1, false, 6, false);
    info.apply_expire(/*deletable=*/true, /*was_certified=*/true);
    CHECK(info.count_deletable_total == 0);
    CHECK(info.latest_seen_deletable_certified_end_epoch == 0);
    CHECK(info.initial_certified_epoch == 1);  // the permanent object is still certified
    CHECK_FALSE(info.can_be_deleted(6));
    info.apply_expire(/*deletable=*/false, /*was_certified=*/true);
    CHECK_FALSE(info.permanent_total.has_value());
    CHECK_FALSE(info.permanent_certified.has_value());
    CHECK_FALSE(info.initial_certified_epoch.has_value());
    CHECK(info.can_be_deleted(6));
    // Through the merge operator too; an expiry with nothing to expire is corruption.
    BlobInfo merged;
    CHECK(merged.try_apply(BlobInfoMergeOperand::register_blob(false, 6)));
    CHECK(merged.try_apply(BlobInfoMergeOperand::expire(false, false)));
    CHECK_FALSE(merged.permanent_total.has_value());
    CHECK_FALSE(merged.try_apply(BlobInfoMergeOperand::expire(false, false)));
    const auto operand = BlobInfoMergeOperand::expire(true, true);
    CHECK(BlobInfoMergeOperand::decode(operand.encode()) == operand);
}

TEST_CASE("blob info: an invalid record ignores every later operand") {
    BlobInfo info;
    info.apply_register(true, 10);
    info.apply(BlobInfoMergeOperand::mark_invalid(2));
    const BlobInfo before = info;
    info.apply(BlobInfoMergeOperand::register_blob(true, 12));
    info.apply(BlobInfoMergeOperand::delete_blob(false));
    CHECK(info == before);
    CHECK_FALSE(info.can_be_deleted(20));  // kept: the data was deleted at the event
}

TEST_CASE("blob info: the certified-before-epoch filter of §4.2") {
    BlobInfo info;
    info.apply_register(false, 10);
    info.apply_certify(3, false, 10, false);
    CHECK_FALSE(certified_before_epoch(info, 3));  // certified AT 3: the event path's job
    CHECK(certified_before_epoch(info, 4));
    CHECK_FALSE(certified_before_epoch(info, 10));  // expired
}

TEST_CASE("blob info: encoding round trips") {
    BlobInfo info;
    info.apply_register(true, 7);
    info.apply_register(false, 9);
    info.apply_certify(2, false, 9, false);
    info.mark_metadata_stored();
    const auto decoded = BlobInfo::decode(info.encode());
    REQUIRE(decoded.has_value());
    CHECK(*decoded == info);
    CHECK_FALSE(BlobInfo::decode("junk").has_value());
}

TEST_CASE("blob ids sort in byte order and derive deterministically") {
    CHECK(BlobId::from_u64(1) == BlobId::from_u64(1));
    CHECK(BlobId::from_u64(1) != BlobId::from_u64(2));
    BlobId low;
    BlobId high;
    high.bytes[0] = 1;
    low.bytes[31] = 0xff;
    CHECK(low < high);  // lexicographic: the first byte decides
}

TEST_CASE("encoding: pair index rotation is a bijection per blob") {
    const uint32_t n = 13;
    for (uint64_t seed = 0; seed < 50; ++seed) {
        const BlobId blob = BlobId::from_u64(seed);
        std::vector<bool> seen(n, false);
        for (ShardIndex shard = 0; shard < n; ++shard) {
            const uint32_t pair = pair_index(shard, n, blob);
            CHECK_FALSE(seen[pair]);
            seen[pair] = true;
            CHECK(shard_for_pair(pair, n, blob) == shard);
        }
    }
}

TEST_CASE("encoding: recovery needs n-f symbols for a primary and n-2f for a secondary") {
    const EncodingParams params{13};  // f = 4
    REQUIRE(params.f() == 4);
    const BlobId blob = BlobId::from_u64(99);
    const BlobMetadata metadata = BlobMetadata::compute(blob, 13);
    const uint32_t target = 5;
    for (SliverType type : {SliverType::primary, SliverType::secondary}) {
        const SliverType source_type =
            type == SliverType::primary ? SliverType::secondary : SliverType::primary;
        std::vector<RecoverySymbol> symbols;
        for (ShardIndex shard = 0; shard < 13; ++shard) {
            const Sliver source = encode_sliver(blob, pair_index(shard, 13, blob), source_type);
            symbols.push_back(make_recovery_symbol(blob, target, type, shard, source));
        }
        const uint32_t needed = params.symbols_to_recover(type);
        CHECK(needed == (type == SliverType::primary ? 9u : 5u));
        std::vector<RecoverySymbol> few(symbols.begin(), symbols.begin() + needed - 1);
        CHECK_FALSE(decode_sliver(blob, target, type, params, few).has_value());
        few.push_back(few.front());  // a duplicate shard does not count
        CHECK_FALSE(decode_sliver(blob, target, type, params, few).has_value());
        std::vector<RecoverySymbol> enough(symbols.begin(), symbols.begin() + needed);
        const auto sliver = decode_sliver(blob, target, type, params, enough);
        REQUIRE(sliver.has_value());
        CHECK(metadata.verifies(*sliver));
        // A symbol made from the wrong source sliver decodes to garbage that fails the check.
        enough.back().value ^= 1;
        const auto bad = decode_sliver(blob, target, type, params, enough);
        CHECK_FALSE((bad.has_value() && metadata.verifies(*bad)));
    }
}

TEST_CASE("encoding: metadata and sliver values round trip") {
    const BlobMetadata metadata = BlobMetadata::compute(BlobId::from_u64(3), 7);
    CHECK(BlobMetadata::decode(metadata.encode()) == metadata);
    const Sliver sliver = encode_sliver(BlobId::from_u64(3), 4, SliverType::secondary);
    CHECK(decode_sliver_value(encode_sliver_value(sliver)) == sliver);
    CHECK(metadata.verifies(sliver));
}

#include "node/status.h"

TEST_CASE("node status: the legal transitions of §2.1") {
    using S = NodeStatus;
    const S all[] = {S::standby(), S::active(), S::recover_metadata(), S::recovery_catch_up(),
                     S::recovery_in_progress(3)};
    int legal = 0;
    for (const S& from : all) {
        for (const S& to : all) {
            legal += from.can_transition_to(to) ? 1 : 0;
        }
    }
    CHECK(legal == 5 + 2 + 2 + 3 + 3 + 3);  // 5 self-transitions + the table
    // The spec's illegal examples.
    CHECK_FALSE(S::recovery_catch_up().can_transition_to(S::active()));
    CHECK_FALSE(S::active().can_transition_to(S::recovery_in_progress(4)));
    CHECK_FALSE(S::standby().can_transition_to(S::active()));
    CHECK_FALSE(S::active().can_transition_to(S::recover_metadata()));
    CHECK(S::recovery_in_progress(5).can_transition_to(S::recovery_in_progress(8)));
    CHECK(S::recovery_in_progress(5).to_string() == "RecoveryInProgress (5)");
    CHECK(NodeStatus::decode(S::recovery_in_progress(7).encode()) == S::recovery_in_progress(7));
    CHECK(std::string(shard_api_status(ShardStatus::active_sync)) == "InTransfer");
}

#include "node/backoff.h"
#include "node/event_sequencer.h"

TEST_CASE("event sequencer: the cursor only passes a contiguous prefix") {
    EventSequencer sequencer(10);
    CHECK_FALSE(sequencer.complete(11));  // 10 still pending: the cursor stays
    CHECK(sequencer.cursor() == 10);
    CHECK_FALSE(sequencer.complete(13));
    CHECK(sequencer.complete(10));  // 10 and 11 done
    CHECK(sequencer.cursor() == 12);
    CHECK(sequencer.complete(12));  // 12 and 13 done
    CHECK(sequencer.cursor() == 14);
    CHECK(sequencer.completed_above_cursor() == 0);
}

TEST_CASE("backoff: doubles from min to max with up to 1 s of jitter") {
    sim::Rng rng(1, "backoff");
    ExponentialBackoff exact(sim::Duration::seconds(1), sim::Duration::seconds(30), false);
    const int64_t expected[] = {1, 2, 4, 8, 16, 30, 30};
    for (int64_t seconds : expected) {
        CHECK(exact.next(rng) == sim::Duration::seconds(seconds));
    }
    ExponentialBackoff jittered(sim::Duration::seconds(1), sim::Duration::seconds(3600));
    for (int i = 0; i < 5; ++i) {
        const sim::Duration d = jittered.next(rng);
        CHECK(d >= sim::Duration::seconds(int64_t{1} << i));
        CHECK(d <= sim::Duration::seconds(int64_t{1} << i) + sim::Duration::seconds(1));
    }
}
