#pragma once
// A move-only std::function (std::move_only_function is C++23). Fiber bodies and callbacks
// often own move-only state — a oneshot sender, a permit — which std::function cannot hold.

#include <memory>
#include <type_traits>
#include <utility>

#include "sim/assert.h"

namespace sim {

template <class Signature>
class UniqueFunction;

template <class R, class... Args>
class UniqueFunction<R(Args...)> {
public:
    UniqueFunction() = default;
    UniqueFunction(std::nullptr_t) {}  // NOLINT: implicit like std::function
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction>>>
    UniqueFunction(F&& f)  // NOLINT: implicit like std::function
        : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}

    UniqueFunction(UniqueFunction&&) noexcept = default;
    UniqueFunction& operator=(UniqueFunction&&) noexcept = default;
    UniqueFunction& operator=(std::nullptr_t) {
        impl_.reset();
        return *this;
    }

    R operator()(Args... args) {
        FLOE_ASSERT(impl_ != nullptr, "call of an empty UniqueFunction");
        return impl_->call(std::forward<Args>(args)...);
    }
    explicit operator bool() const { return impl_ != nullptr; }

private:
    struct Base {
        virtual ~Base() = default;
        virtual R call(Args... args) = 0;
    };
    template <class F>
    struct Impl final : Base {
        explicit Impl(F&& f) : fn(std::move(f)) {}
        explicit Impl(const F& f) : fn(f) {}
        R call(Args... args) override { return fn(std::forward<Args>(args)...); }
        F fn;
    };
    std::unique_ptr<Base> impl_;
};

}  // namespace sim
