#include "sim/rng.h"

#include <cmath>

namespace sim {
Rng::Rng(uint64_t seed, std::string_view stream_name) : stream_id_(stable_hash(stream_name)) {
    SplitMix64 seeder{seed ^ stream_id_};
    for (uint64_t& word : s_) {
        word = seeder.next();
    }
    // xoshiro's state must not be all zero; splitmix64 cannot produce four zero words in a row,
    // but the check documents the requirement.
    FLOE_ASSERT((s_[0] | s_[1] | s_[2] | s_[3]) != 0);
}

Rng Rng::from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) {
    Rng rng;
    rng.s_[0] = s0;
    rng.s_[1] = s1;
    rng.s_[2] = s2;
    rng.s_[3] = s3;
    return rng;
}

int64_t Rng::range(int64_t lo, int64_t hi) {
    FLOE_ASSERT(lo <= hi, "range({}, {})", lo, hi);
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    if (span == UINT64_MAX) {
        return static_cast<int64_t>(next_u64());
    }
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + below(span + 1));
}

double Rng::uniform01() {
    return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double Rng::exponential(double mean) {
    FLOE_ASSERT(mean >= 0.0);
    // 1 - u is in (0, 1], so the log is finite.
    return -mean * std::log(1.0 - uniform01());
}

Duration Rng::exponential(Duration mean) {
    return Duration::nanos(static_cast<int64_t>(exponential(static_cast<double>(mean.ns()))));
}

Duration Rng::uniform(Duration lo, Duration hi) {
    return Duration::nanos(range(lo.ns(), hi.ns()));
}

bool Rng::bernoulli(double p) {
    FLOE_ASSERT(p >= 0.0 && p <= 1.0, "bernoulli({})", p);
    // No draw at the ends: arming a fault with p=0 or p=1 must not perturb the stream.
    if (p <= 0.0) {
        return false;
    }
    if (p >= 1.0) {
        return true;
    }
    return uniform01() < p;
}

}  // namespace sim
