#pragma once
// The persisted event cursor only advances over the contiguous prefix of completed event
// indices (walrus-recovery-spec.md §5, invariant 6). Events complete out of order — a
// BlobCertified event stays incomplete until its blob sync finishes — so the sequencer keeps the
// completed indices above the cursor and reports how far the cursor may move.

#include <cstdint>
#include <set>

#include "node/types.h"
#include "sim/assert.h"

namespace walrus {

class EventSequencer {
public:
    explicit EventSequencer(EventIndex next_unprocessed) : cursor_(next_unprocessed) {}

    // Marks `index` complete. Returns true when the cursor moved (the caller persists it).
    bool complete(EventIndex index) {
        FLOE_ASSERT(index >= cursor_, "event {} completed twice (cursor at {})", index, cursor_);
        const bool inserted = completed_.insert(index).second;
        FLOE_ASSERT(inserted, "event {} completed twice", index);
        const EventIndex before = cursor_;
        while (!completed_.empty() && *completed_.begin() == cursor_) {
            completed_.erase(completed_.begin());
            ++cursor_;
        }
        return cursor_ != before;
    }

    // The first index not yet known to be complete: everything below it is done.
    EventIndex cursor() const { return cursor_; }
    size_t completed_above_cursor() const { return completed_.size(); }

private:
    EventIndex cursor_;
    std::set<EventIndex> completed_;
};

}  // namespace walrus
