#pragma once
// `floe bench scale` (issue 18): how a seed's cost grows with the work. It runs mainnet-shape
// (scenarios/mainnet_shape.cpp) in a child process per point, growing one size at a time from a
// small base (nodes, then shards, then blobs), and prints each point's wall time and peak
// resident memory, the fitted growth exponent of each size (the slope of log cost against log
// size: 1 is linear), and the memory each added node and blob costs. The full sizes are Walrus
// mainnet's (100 nodes, 1,000 shards, 10,000 blobs), and the targets those of a mainnet-shaped
// seed: at most 60 s and 4 GiB on one core. Last, the full shape: the largest nodes and shards
// run at two blob counts and, where the largest blob count is too big to run (10,000 blobs need
// tens of GiB), wall and memory projected linearly in blobs, with the verdict on the targets.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace floe::tools {

// A mainnet-shape run's size.
struct ScaleSize {
    uint64_t nodes = 0;
    uint64_t shards = 0;
    uint64_t blobs = 0;
};

struct ScaleBenchOptions {
    ScaleSize base{10, 100, 100};
    ScaleSize max{100, 1000, 10'000};
    uint64_t points = 4;  // per size, from the base to the maximum, geometrically
    uint64_t seed = 1;
};

struct ScalePoint {
    ScaleSize size;
    double wall_seconds = 0;
    double peak_mib = 0;
    bool passed = false;
};

// `points` sizes from `base` to `max`, geometrically spaced, rounded, distinct, both ends in.
std::vector<uint64_t> geometric_sizes(uint64_t base, uint64_t max, uint64_t points);

// The least-squares slope of log(y) against log(x); 0 with fewer than two usable points.
double growth_exponent(const std::vector<double>& x, const std::vector<double>& y);

// The least-squares slope of y against x (memory per node, per blob).
double linear_slope(const std::vector<double>& x, const std::vector<double>& y);

// y at x on the line through (x1, y1) and (x2, y2) (x1 != x2): a cost projected in blobs.
double project_linear(double x1, double y1, double x2, double y2, double x);

// The full shape's verdict: the blobs at which the largest nodes and shards are measured (the
// base blobs and three times as many, each at most `max.blobs`), the full blob count being
// projected from them when it is larger than both.
std::vector<uint64_t> full_shape_blob_points(const ScaleSize& base, const ScaleSize& max);

int bench_scale_command(const std::string& self, const ScaleBenchOptions& options);

// The line a `floe bench scenarios NAME --one-seed S --floor-only` child prints: this tag, then
// the seed's RocksDB floor in CPU seconds (0: not measurable, storage faults on).
constexpr std::string_view floor_tag = "floe-bench-floor";

// The RocksDB floor under one seed of `scenario` with `sets` (the CPU seconds of its store calls
// made again against RocksDB alone), measured in such a child of `self`; nullopt if the child
// gave none (it died, or the run cannot be replayed).
std::optional<double> floor_seconds_in_child(const std::string& self, const std::string& scenario,
                                             uint64_t seed, const std::vector<std::string>& sets);

}  // namespace floe::tools
