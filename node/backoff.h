#pragma once
// Exponential backoff as Walrus computes it (walrus-recovery-spec.md §14, walrus-utils
// backoff.rs): delay_i = min(max, min * 2^i + U[0, 1000] ms). The jitter comes from the
// caller's named random stream, so retries are deterministic.

#include <cstdint>

#include "sim/rng.h"
#include "sim/time.h"

namespace walrus {

class ExponentialBackoff {
public:
    ExponentialBackoff(sim::Duration min, sim::Duration max, bool jitter = true)
        : min_(min), max_(max), jitter_(jitter) {}

    sim::Duration next(sim::Rng& rng) {
        sim::Duration delay = min_;
        for (uint32_t i = 0; i < attempt_ && delay < max_; ++i) {
            delay = delay * 2;
        }
        if (jitter_) {
            delay += sim::Duration::millis(static_cast<int64_t>(rng.below(1001)));
        }
        ++attempt_;
        return delay < max_ ? delay : max_;
    }
    void reset() { attempt_ = 0; }

private:
    sim::Duration min_;
    sim::Duration max_;
    bool jitter_;
    uint32_t attempt_ = 0;
};

}  // namespace walrus
