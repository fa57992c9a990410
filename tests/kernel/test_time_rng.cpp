// Virtual time types and the deterministic RNG: known answers pin the generators so that any
// compiler, standard library or optimisation level gives the same numbers.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

#include "sim/rng.h"
#include "sim/time.h"

using namespace sim;
using namespace sim::time_literals;

TEST_CASE("time: durations and instants are exact integer nanoseconds") {
    CHECK((1_s).ns() == 1'000'000'000);
    CHECK((3_ms + 250_us).ns() == 3'250'000);
    CHECK((Instant::zero() + 1500_ms).to_string() == "1.500000000s");
    CHECK((Instant::from_ns(2'000'000'123) - Instant::from_ns(1'000'000'000)).ns() ==
          1'000'000'123);
    CHECK(Duration::millis(1500).to_string() == "1.500s");
    CHECK(Duration::micros(12).to_string() == "12.000us");
}

TEST_CASE("time: forever saturates instead of overflowing") {
    CHECK((Instant::from_ns(5) + Duration::forever()).is_never());
    CHECK((Duration::forever() + 1_s).is_forever());
    CHECK(Instant::from_ns(5) < Instant::never());
}

TEST_CASE("rng: splitmix64 known answers") {
    // Reference values of splitmix64 seeded with 0 (Vigna's splitmix64.c).
    SplitMix64 seeder{0};
    CHECK(seeder.next() == 0xe220a8397b1dcdafULL);
    CHECK(seeder.next() == 0x6e789e6aa1b965f4ULL);
    CHECK(seeder.next() == 0x06c45d188009454fULL);
}

TEST_CASE("rng: xoshiro256** known answers from the reference implementation") {
    // State {1, 2, 3, 4}: the sequence published with the reference C code and reproduced by
    // every port (e.g. rand_xoshiro's test vectors).
    Rng rng = Rng::from_state(1, 2, 3, 4);
    const std::array<uint64_t, 10> expected = {11520ULL,
                                               0ULL,
                                               1509978240ULL,
                                               1215971899390074240ULL,
                                               1216172134540287360ULL,
                                               607988272756665600ULL,
                                               16172922978634559625ULL,
                                               8476171486693032832ULL,
                                               10595114339597558777ULL,
                                               2904607092377533576ULL};
    for (uint64_t value : expected) {
        CHECK(rng.next_u64() == value);
    }
}

TEST_CASE("rng: named streams are pinned, independent and reproducible") {
    Rng a(42, "net");
    Rng b(42, "net");
    Rng c(42, "failpoints");
    Rng d(43, "net");
    const uint64_t first = a.next_u64();
    CHECK(first == b.next_u64());
    CHECK(first != c.next_u64());
    CHECK(first != d.next_u64());
    // Pinned: changing the stream derivation breaks every recorded seed, so it must be
    // deliberate. These values were cross-checked with an independent Python model of
    // FNV-1a + splitmix64 + xoshiro256** + Lemire.
    Rng pinned(42, "net");
    CHECK(pinned.next_u64() == 0xa15c1a0ee74af717ULL);
    CHECK(pinned.below(1000) == 387);
    CHECK(stable_hash("net") == 0x2138d2192571b218ULL);
}

TEST_CASE("rng: below is in range and unbiased enough to cover every value") {
    Rng rng(7, "below");
    std::array<int, 10> counts{};
    for (int i = 0; i < 100'000; ++i) {
        const uint64_t value = rng.below(10);
        REQUIRE(value < 10);
        ++counts[value];
    }
    for (int count : counts) {
        CHECK(count > 9'000);
        CHECK(count < 11'000);
    }
    CHECK(rng.below(1) == 0);
}

TEST_CASE("rng: range, uniform01, exponential, bernoulli") {
    Rng rng(9, "draws");
    for (int i = 0; i < 10'000; ++i) {
        const int64_t v = rng.range(-3, 3);
        REQUIRE(v >= -3);
        REQUIRE(v <= 3);
        const double u = rng.uniform01();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
    }
    double sum = 0;
    for (int i = 0; i < 20'000; ++i) {
        sum += rng.exponential(2.0);
    }
    CHECK(sum / 20'000 == doctest::Approx(2.0).epsilon(0.05));
    int heads = 0;
    for (int i = 0; i < 10'000; ++i) {
        heads += rng.bernoulli(0.3) ? 1 : 0;
    }
    CHECK(heads > 2'700);
    CHECK(heads < 3'300);
    const uint64_t draws = rng.draws();
    CHECK_FALSE(rng.bernoulli(0.0));
    CHECK(rng.bernoulli(1.0));
    CHECK(rng.draws() == draws);  // p = 0 and p = 1 draw nothing
}

TEST_CASE("rng: shuffle and choose are permutations fixed by the seed") {
    std::vector<int> items(20);
    std::iota(items.begin(), items.end(), 0);
    std::vector<int> first = items;
    std::vector<int> second = items;
    Rng a(5, "shuffle");
    Rng b(5, "shuffle");
    a.shuffle(first);
    b.shuffle(second);
    CHECK(first == second);
    CHECK(first != items);
    std::vector<int> sorted = first;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == items);
    const int chosen = a.choose(items);
    CHECK(chosen >= 0);
    CHECK(chosen < 20);
}
