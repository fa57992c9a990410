// The chain-truth oracle of the checkers (scenarios/blob_truth.h): a blob is certified at e iff
// a live, certified object of it outlives e and the blob is valid. It must disagree with the
// node's aggregate blob info exactly where the aggregate over-approximates (walrus-recovery-
// spec.md §4.1), which is why the checkers use it.
#include <doctest/doctest.h>

#include <vector>

#include "node/blob_info.h"
#include "scenarios/blob_truth.h"

using namespace walrus;
using floe::scenarios::BlobTruth;

namespace {

struct History {
    std::vector<ChainEvent> events;
    Epoch epoch = 1;

    void add(ChainEventBody body) {
        events.push_back(ChainEvent{events.size(), epoch, std::move(body)});
    }
    void registered(const BlobId& blob, uint64_t object, bool deletable, Epoch end) {
        add(BlobRegistered{blob, object, deletable, end});
    }
    void certified(const BlobId& blob, uint64_t object, bool deletable, Epoch end,
                   bool extension = false, Epoch first = 0) {
        add(BlobCertified{blob, object, deletable, end, extension, first == 0 ? epoch : first});
    }
    void deleted(const BlobId& blob, uint64_t object, Epoch end) {
        add(BlobDeleted{blob, object, end, true});
    }
    void epoch_start(Epoch e) {
        epoch = e;
        add(EpochChangeStart{e});
    }
    // The node's aggregate, replayed from the same events.
    BlobInfo aggregate(const BlobId& blob) const {
        BlobInfo info;
        for (const ChainEvent& event : events) {
            if (const auto* r = std::get_if<BlobRegistered>(&event.body); r && r->blob_id == blob) {
                info.apply_register(r->deletable, r->end_epoch);
            } else if (const auto* c = std::get_if<BlobCertified>(&event.body);
                       c && c->blob_id == blob) {
                info.apply_certify(c->certified_epoch, c->deletable, c->end_epoch, c->is_extension);
            } else if (const auto* d = std::get_if<BlobDeleted>(&event.body);
                       d && d->blob_id == blob) {
                info.apply_delete(d->was_certified);
            }
        }
        return info;
    }
};

}  // namespace

TEST_CASE("blob truth: certified while a live certified object outlives the epoch") {
    History h;
    const BlobId blob = BlobId::from_u64(1);
    h.registered(blob, 10, false, 4);
    BlobTruth truth = BlobTruth::from_events(h.events);
    CHECK(truth.registered_at(blob, 1));
    CHECK_FALSE(truth.certified_at(blob, 1));
    h.certified(blob, 10, false, 4);
    truth = BlobTruth::from_events(h.events);
    CHECK(truth.certified_at(blob, 3));
    CHECK_FALSE(truth.certified_at(blob, 4));  // end_epoch is exclusive
    CHECK_FALSE(truth.registered_at(blob, 4));
    h.certified(blob, 10, false, 7, true, 1);  // an extension moves the end
    truth = BlobTruth::from_events(h.events);
    CHECK(truth.certified_at(blob, 6));
    CHECK(truth.certified_blobs(6) == std::vector<BlobId>{blob});
}

TEST_CASE("blob truth: the aggregate keeps a deleted object's end epoch, the truth does not") {
    History h;
    const BlobId blob = BlobId::from_u64(2);
    h.registered(blob, 1, true, 10);
    h.certified(blob, 1, true, 10);
    h.registered(blob, 2, true, 5);
    h.certified(blob, 2, true, 5);
    h.deleted(blob, 1, 10);
    const BlobTruth truth = BlobTruth::from_events(h.events);
    CHECK(truth.certified_at(blob, 4));
    CHECK_FALSE(truth.certified_at(blob, 7));  // object 2 expired at 5, object 1 is gone
    // §4.1: count_deletable_certified = 1 and latest_seen_deletable_certified_end_epoch = 10,
    // so Walrus's aggregate still says certified at 7 until GC phase 1 cleans the count up.
    CHECK(h.aggregate(blob).is_certified(7));
}

TEST_CASE("blob truth: an invalid blob is neither certified nor registered") {
    History h;
    const BlobId blob = BlobId::from_u64(3);
    h.registered(blob, 1, false, 9);
    h.certified(blob, 1, false, 9);
    h.add(InvalidBlobId{blob});
    const BlobTruth truth = BlobTruth::from_events(h.events);
    CHECK(truth.invalid(blob));
    CHECK_FALSE(truth.certified_at(blob, 2));
    CHECK_FALSE(truth.registered_at(blob, 2));
    CHECK(truth.known_blobs() == std::vector<BlobId>{blob});
}

TEST_CASE("blob truth: history up to an epoch start") {
    History h;
    const BlobId blob = BlobId::from_u64(4);
    h.registered(blob, 1, true, 9);
    h.certified(blob, 1, true, 9);
    h.epoch_start(2);
    h.deleted(blob, 1, 9);
    CHECK(BlobTruth::from_events(h.events, Epoch{2}).certified_at(blob, 2));
    CHECK_FALSE(BlobTruth::from_events(h.events).certified_at(blob, 2));
}
