// The scheduler's 4-ary heap against std::priority_queue as the reference.
#include <doctest/doctest.h>

#include <functional>
#include <queue>
#include <vector>

#include "sim/event_queue.h"
#include "sim/rng.h"

namespace {
struct Item {
    uint64_t time;
    uint64_t seq;
    bool operator>(const Item& o) const { return time != o.time ? time > o.time : seq > o.seq; }
    bool operator==(const Item& o) const = default;
};
struct ItemBefore {
    bool operator()(const Item& a, const Item& b) const { return b > a; }
};
}  // namespace

TEST_CASE("event queue: pops in the same order as a reference binary heap") {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        sim::Rng rng(seed, "heap");
        sim::QuaternaryHeap<Item, ItemBefore> heap;
        std::priority_queue<Item, std::vector<Item>, std::greater<>> reference;
        uint64_t seq = 0;
        for (int step = 0; step < 5'000; ++step) {
            const bool push = reference.empty() || rng.below(100) < 55;
            if (push) {
                const Item item{rng.below(50), seq++};  // many equal times: ties by seq
                heap.push(item);
                reference.push(item);
            } else {
                REQUIRE(heap.top() == reference.top());
                heap.pop();
                reference.pop();
            }
            REQUIRE(heap.size() == reference.size());
        }
        while (!reference.empty()) {
            REQUIRE(heap.top() == reference.top());
            heap.pop();
            reference.pop();
        }
        CHECK(heap.empty());
    }
}
