#pragma once
// Deterministic randomness. One root seed; every consumer draws from its own named stream, so
// adding a draw in one subsystem does not shift the numbers another subsystem sees.
//
// Generators are ours (splitmix64 for seeding, xoshiro256** for streams) and so are the bounded
// and real-valued draws: the <random> distributions are implementation-defined and give
// different numbers under libstdc++ and libc++. The only libm call is std::log in exponential(),
// which glibc computes the same way for gcc and clang builds.

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "sim/assert.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace sim {

// splitmix64 (Steele, Lea, Flood 2014): the standard seeder for xoshiro.
struct SplitMix64 {
    uint64_t state;
    constexpr uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
};

// FNV-1a over the stream name: stable across builds, platforms and standard libraries.
constexpr uint64_t stable_hash(std::string_view text) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : text) {
        h ^= static_cast<uint8_t>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

class Rng {
public:
    // A stream derived from (seed, name). The same pair always gives the same numbers.
    Rng(uint64_t seed, std::string_view stream_name);

    uint64_t next_u64() {
        const uint64_t value = raw();
        ++draws_;
        if (trace_ != nullptr) {
            trace_->fold_rng_draw(stream_id_, value);
        }
        return value;
    }
    // Uniform in [0, bound), bound > 0. Lemire's nearly-divisionless method: unbiased.
    uint64_t below(uint64_t bound) {
        FLOE_ASSERT(bound > 0, "below(0)");
        __extension__ typedef unsigned __int128 u128;
        u128 m = static_cast<u128>(next_u64()) * bound;
        auto low = static_cast<uint64_t>(m);
        if (low < bound) [[unlikely]] {
            const uint64_t threshold = (0 - bound) % bound;
            while (low < threshold) {
                m = static_cast<u128>(next_u64()) * bound;
                low = static_cast<uint64_t>(m);
            }
        }
        return static_cast<uint64_t>(m >> 64);
    }
    // Uniform in [lo, hi], inclusive.
    int64_t range(int64_t lo, int64_t hi);
    // Uniform in [0, 1) with 53 random bits.
    double uniform01();
    // Exponential with the given mean (inverse transform).
    double exponential(double mean);
    Duration exponential(Duration mean);
    Duration uniform(Duration lo, Duration hi);
    bool bernoulli(double p);

    // Fisher-Yates, drawing from this stream. Same permutation on every platform.
    template <class T>
    void shuffle(std::span<T> items) {
        for (size_t i = items.size(); i > 1; --i) {
            const size_t j = static_cast<size_t>(below(i));
            std::swap(items[i - 1], items[j]);
        }
    }
    template <class Container>
    void shuffle(Container& items) {
        shuffle(std::span(items));
    }
    template <class Container>
    auto& choose(Container& items) {
        FLOE_ASSERT(!items.empty(), "choose from an empty set");
        return items[static_cast<size_t>(below(items.size()))];
    }

    // A generator with an explicit xoshiro256** state, for known-answer tests against the
    // reference implementation.
    static Rng from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3);

    uint64_t stream_id() const { return stream_id_; }
    uint64_t draws() const { return draws_; }
    // Every draw is folded into the trace hash (stream id, value), so a run that draws a
    // different number of times, or from a different stream, gets a different hash.
    void attach_trace(Trace* trace) { trace_ = trace; }

private:
    Rng() = default;
    static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    // xoshiro256** 1.0 (Blackman, Vigna).
    uint64_t raw() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    uint64_t s_[4] = {0, 0, 0, 0};
    uint64_t stream_id_ = 0;
    uint64_t draws_ = 0;
    Trace* trace_ = nullptr;
};

}  // namespace sim
