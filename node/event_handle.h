#pragma once
// An event's completion token (walrus-recovery-spec.md §5): every event must be marked complete
// exactly once, and the persisted cursor only passes completed events. A BlobCertified event's
// handle travels with its blob sync and is completed when the sync ends (or by whoever cancels
// it). A crash simply drops handles: the events are replayed after restart.

#include <functional>
#include <utility>

#include "node/types.h"
#include "sim/assert.h"

namespace walrus {

class EventHandle {
public:
    using CompleteFn = std::function<void(EventIndex)>;

    EventHandle(EventIndex index, CompleteFn* complete) : index_(index), complete_(complete) {}
    EventHandle(EventHandle&& other) noexcept
        : index_(other.index_), complete_(std::exchange(other.complete_, nullptr)) {}
    EventHandle& operator=(EventHandle&& other) noexcept {
        FLOE_ASSERT(complete_ == nullptr, "event {} handle overwritten before completion", index_);
        index_ = other.index_;
        complete_ = std::exchange(other.complete_, nullptr);
        return *this;
    }
    EventHandle(const EventHandle&) = delete;
    EventHandle& operator=(const EventHandle&) = delete;
    ~EventHandle() = default;  // dropped incomplete: replayed after a restart

    void complete() {
        FLOE_ASSERT(complete_ != nullptr, "event {} completed twice", index_);
        auto* complete = std::exchange(complete_, nullptr);
        (*complete)(index_);
    }
    EventIndex index() const { return index_; }
    bool pending() const { return complete_ != nullptr; }

private:
    EventIndex index_;
    CompleteFn* complete_;
};

}  // namespace walrus
