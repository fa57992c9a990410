#pragma once
// Result<T, E>: a value or an expected error (std::expected is C++23). Expected failures —
// timeouts, a peer that is down, an injected fault — are values of this type, never exceptions.

#include <utility>
#include <variant>

#include "sim/assert.h"

namespace sim {

template <class E>
struct Err {
    E error;
};
template <class E>
Err(E) -> Err<E>;

template <class T, class E>
class [[nodiscard]] Result {
public:
    Result(T value)
        : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    template <class E2>
    Result(Err<E2> error)
        : storage_(std::in_place_index<1>, E(std::move(error.error))) {}  // NOLINT

    bool ok() const { return storage_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        FLOE_ASSERT(ok(), "value() of a failed Result");
        return std::get<0>(storage_);
    }
    const T& value() const& {
        FLOE_ASSERT(ok(), "value() of a failed Result");
        return std::get<0>(storage_);
    }
    T&& value() && {
        FLOE_ASSERT(ok(), "value() of a failed Result");
        return std::get<0>(std::move(storage_));
    }
    const E& error() const {
        FLOE_ASSERT(!ok(), "error() of a successful Result");
        return std::get<1>(storage_);
    }
    T* operator->() { return &value(); }
    T& operator*() { return value(); }

private:
    std::variant<T, E> storage_;
};

// For operations that return nothing but can fail.
struct Unit {
    bool operator==(const Unit&) const = default;
};

}  // namespace sim
