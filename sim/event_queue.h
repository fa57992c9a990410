#pragma once
// A 4-ary min-heap. The scheduler pops one event per step; with a binary heap the sift-down
// walks log2(n) levels of cache lines that the fiber just ran has evicted. Four children per
// node halve the depth, and the four siblings compared at each level sit in one or two cache
// lines. (`floe bench kernel` shows the difference against the raw binary-heap loop.)

#include <cstddef>
#include <utility>
#include <vector>

#include "sim/assert.h"

namespace sim {

// `Before(a, b)` is true when `a` must come out before `b`; it must be a strict total order
// on the elements actually stored (the scheduler's (time, sequence) is), so the pop order does
// not depend on the heap's shape.
template <class T, class Before>
class QuaternaryHeap {
public:
    bool empty() const { return items_.empty(); }
    size_t size() const { return items_.size(); }
    const T& top() const {
        FLOE_ASSERT(!items_.empty(), "top() of an empty heap");
        return items_.front();
    }

    void push(const T& item) {
        size_t hole = items_.size();
        items_.push_back(item);
        while (hole > 0) {
            const size_t parent = (hole - 1) / 4;
            if (!before_(item, items_[parent])) {
                break;
            }
            items_[hole] = items_[parent];
            hole = parent;
        }
        items_[hole] = item;
    }

    void pop() {
        FLOE_ASSERT(!items_.empty(), "pop() of an empty heap");
        const T last = items_.back();
        items_.pop_back();
        const size_t count = items_.size();
        if (count == 0) {
            return;
        }
        size_t hole = 0;
        while (true) {
            const size_t first_child = hole * 4 + 1;
            if (first_child >= count) {
                break;
            }
            size_t best = first_child;
            const size_t end = first_child + 4 < count ? first_child + 4 : count;
            for (size_t child = first_child + 1; child < end; ++child) {
                if (before_(items_[child], items_[best])) {
                    best = child;
                }
            }
            if (!before_(items_[best], last)) {
                break;
            }
            items_[hole] = items_[best];
            hole = best;
        }
        items_[hole] = last;
    }

private:
    std::vector<T> items_;
    [[no_unique_address]] Before before_;
};

}  // namespace sim
