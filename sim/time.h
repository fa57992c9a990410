#pragma once
// Virtual time. Integer nanoseconds in strong types: an Instant is a point on the simulation's
// clock (it starts at 0 and only moves when the scheduler jumps to the next event), a Duration
// is a difference of two instants. Nothing here reads a real clock.

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace sim {

class Duration {
public:
    constexpr Duration() = default;
    static constexpr Duration nanos(int64_t n) { return Duration(n); }
    static constexpr Duration micros(int64_t n) { return Duration(n * 1'000); }
    static constexpr Duration millis(int64_t n) { return Duration(n * 1'000'000); }
    static constexpr Duration seconds(int64_t n) { return Duration(n * 1'000'000'000); }
    static constexpr Duration minutes(int64_t n) { return seconds(n * 60); }
    static constexpr Duration zero() { return Duration(0); }
    // "Wait without a deadline." Every wait takes a timeout; forever is an explicit choice.
    static constexpr Duration forever() { return Duration(std::numeric_limits<int64_t>::max()); }

    constexpr int64_t ns() const { return ns_; }
    constexpr double seconds_f() const { return static_cast<double>(ns_) / 1e9; }
    constexpr bool is_forever() const { return ns_ == std::numeric_limits<int64_t>::max(); }

    constexpr auto operator<=>(const Duration&) const = default;
    constexpr Duration operator+(Duration o) const { return Duration(saturating_add(ns_, o.ns_)); }
    constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
    constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
    constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
    constexpr Duration& operator+=(Duration o) { return *this = *this + o; }

    std::string to_string() const;

private:
    constexpr explicit Duration(int64_t ns) : ns_(ns) {}
    static constexpr int64_t saturating_add(int64_t a, int64_t b) {
        constexpr int64_t max = std::numeric_limits<int64_t>::max();
        if (b > 0 && a > max - b) {
            return max;
        }
        return a + b;
    }
    int64_t ns_ = 0;
};

class Instant {
public:
    constexpr Instant() = default;
    static constexpr Instant from_ns(int64_t ns) { return Instant(ns); }
    static constexpr Instant zero() { return Instant(0); }
    static constexpr Instant never() { return Instant(std::numeric_limits<int64_t>::max()); }

    constexpr int64_t ns() const { return ns_; }
    constexpr bool is_never() const { return ns_ == std::numeric_limits<int64_t>::max(); }

    constexpr auto operator<=>(const Instant&) const = default;
    // Adding forever (or anything that overflows) gives never, so deadlines compose.
    constexpr Instant operator+(Duration d) const {
        if (d.is_forever() || ns_ > std::numeric_limits<int64_t>::max() - d.ns()) {
            return never();
        }
        return Instant(ns_ + d.ns());
    }
    constexpr Duration operator-(Instant o) const { return Duration::nanos(ns_ - o.ns_); }
    constexpr Instant operator-(Duration d) const { return Instant(ns_ - d.ns()); }

    // "12.345678901s": fixed width fraction so traces line up and diff cleanly.
    std::string to_string() const;

private:
    constexpr explicit Instant(int64_t ns) : ns_(ns) {}
    int64_t ns_ = 0;
};

namespace time_literals {
constexpr Duration operator""_ns(unsigned long long n) {
    return Duration::nanos(static_cast<int64_t>(n));
}
constexpr Duration operator""_us(unsigned long long n) {
    return Duration::micros(static_cast<int64_t>(n));
}
constexpr Duration operator""_ms(unsigned long long n) {
    return Duration::millis(static_cast<int64_t>(n));
}
constexpr Duration operator""_s(unsigned long long n) {
    return Duration::seconds(static_cast<int64_t>(n));
}
}  // namespace time_literals

}  // namespace sim
