#include "tools/bench_scale.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>

#include "tools/argv.h"
#include "tools/child_output.h"

extern char** environ;

namespace floe::tools {

namespace {

constexpr double target_wall_seconds = 60;
constexpr double target_peak_mib = 4096;

// One mainnet-shape seed at a size, in its own process: wall time and the child's peak RSS.
ScalePoint run_point(const std::string& self, uint64_t seed, const ScaleSize& size) {
    ScalePoint point{size};
    std::vector<std::string> args = {self,
                                     "run",
                                     "mainnet-shape",
                                     "--seed",
                                     std::to_string(seed),
                                     "--set",
                                     fmt::format("nodes={}", size.nodes),
                                     "--set",
                                     fmt::format("shards={}", size.shards),
                                     "--set",
                                     fmt::format("blobs={}", size.blobs)};
    std::vector<char*> argv = argv_of(args);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        return point;
    }
    int status = 0;
    rusage usage{};
    (void)wait4(pid, &status, 0, &usage);
    point.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    point.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: kilobytes
    point.passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return point;
}

void print_point(const ScalePoint& p) {
    fmt::print("  {:>6} {:>7} {:>7} {:>9.1f} {:>10.0f}  {}\n", p.size.nodes, p.size.shards,
               p.size.blobs, p.wall_seconds, p.peak_mib, p.passed ? "pass" : "FAIL");
    std::fflush(stdout);
}

// One size grown alone from the base; `per` names its unit for the memory per unit, or is null.
struct Series {
    const char* name;
    uint64_t ScaleSize::*size;
    const char* per;
    std::vector<ScalePoint> points;
};

// The exponents of wall and memory against the series' own size.
void print_fit(const Series& series) {
    std::vector<double> x, wall, mem;
    for (const ScalePoint& p : series.points) {
        x.push_back(static_cast<double>(p.size.*series.size));
        wall.push_back(p.wall_seconds);
        mem.push_back(p.peak_mib);
    }
    fmt::print("  {:<7} wall ~ {}^{:.2f}, memory ~ {}^{:.2f}", series.name, series.name,
               growth_exponent(x, wall), series.name, growth_exponent(x, mem));
    if (series.per != nullptr) {
        fmt::print(", {:.2f} MiB per {}", linear_slope(x, mem), series.per);
    }
    fmt::print("\n");
}

bool is_mainnet_size(const ScaleSize& size) {
    const ScaleSize mainnet = ScaleBenchOptions{}.max;
    return size.nodes == mainnet.nodes && size.shards == mainnet.shards &&
           size.blobs == mainnet.blobs;
}

// The RocksDB floor of the full shape at `blobs` (its store calls made again against RocksDB
// alone, in a child process): the CPU seconds, their share of the run measured there, and the
// floor at the full blob count, projected linearly from this one point (a lower bound: the floor
// grows faster than the blobs, its memtables with them). True unless that floor is above the
// wall target (true too when it could not be measured).
bool print_floor(const std::string& self, const ScaleBenchOptions& options, uint64_t blobs,
                 const ScalePoint& run) {
    const std::vector<std::string> sets = {fmt::format("nodes={}", options.max.nodes),
                                           fmt::format("shards={}", options.max.shards),
                                           fmt::format("blobs={}", blobs)};
    const std::optional<double> floor =
        floor_seconds_in_child(self, "mainnet-shape", options.seed, sets);
    if (!floor.has_value()) {
        fmt::print("RocksDB floor at {} blobs: not measured (the child gave none)\n", blobs);
        return true;
    }
    const double at_full =
        *floor * static_cast<double>(options.max.blobs) / static_cast<double>(blobs);
    fmt::print(
        "RocksDB floor at {} blobs (the run's store calls made again, RocksDB alone): {:.1f} s "
        "of CPU, {:.0f} % of the run's wall",
        blobs, *floor, run.wall_seconds > 0 ? 100 * *floor / run.wall_seconds : 0);
    if (blobs < options.max.blobs) {
        fmt::print("; at {} blobs at least {:.0f} s (linear in blobs; it grows faster)",
                   options.max.blobs, at_full);
    }
    fmt::print("\n");
    return at_full <= target_wall_seconds;
}

// The largest nodes and shards at the blob counts of full_shape_blob_points, then the largest
// blob count measured (when it is one of them) or projected, and the verdict. False if a run
// failed.
bool print_full_shape(const std::string& self, const ScaleBenchOptions& options) {
    const std::vector<uint64_t> blobs = full_shape_blob_points(options.base, options.max);
    fmt::print("\nthe full shape: {} nodes, {} shards, at {}:\n", options.max.nodes,
               options.max.shards,
               blobs.size() == 1 ? fmt::format("{} blobs", blobs[0])
                                 : fmt::format("{} and {} blobs", blobs[0], blobs[1]));
    std::vector<ScalePoint> points;
    bool passed = true;
    for (uint64_t count : blobs) {
        ScaleSize size = options.max;
        size.blobs = count;
        points.push_back(run_point(self, options.seed, size));
        print_point(points.back());
        passed = passed && points.back().passed;
    }
    double wall = points.back().wall_seconds;
    double peak = points.back().peak_mib;
    const bool measured = blobs.back() == options.max.blobs;
    if (!measured && points.size() == 2) {
        const auto x1 = static_cast<double>(blobs[0]);
        const auto x2 = static_cast<double>(blobs[1]);
        const auto x = static_cast<double>(options.max.blobs);
        wall = project_linear(x1, points[0].wall_seconds, x2, points[1].wall_seconds, x);
        peak = project_linear(x1, points[0].peak_mib, x2, points[1].peak_mib, x);
    }
    fmt::print("{} at {} blobs{}: {:.0f} s wall, {:.0f} MiB peak\n",
               measured ? "measured" : "projected", options.max.blobs,
               measured ? "" : " (linear in blobs)", wall, peak);
    const bool floor_below_target = print_floor(self, options, blobs.back(), points.back());
    if (!is_mainnet_size(options.max)) {
        fmt::print("target: no verdict, the full shape is not mainnet's (100 x 1,000 x 10,000)\n");
    } else if (!passed) {
        fmt::print("target: no verdict, a run failed\n");
    } else {
        fmt::print("target of a mainnet-shaped seed (<= {:.0f} s, <= {:.0f} MiB): {}\n",
                   target_wall_seconds, target_peak_mib,
                   wall <= target_wall_seconds && peak <= target_peak_mib ? "met" : "NOT met");
        if (!floor_below_target) {
            fmt::print(
                "the wall target is below the RocksDB floor: no faster floe meets it while every "
                "node makes Walrus's RocksDB calls\n");
        }
    }
    return passed;
}

}  // namespace

std::vector<uint64_t> geometric_sizes(uint64_t base, uint64_t max, uint64_t points) {
    std::vector<uint64_t> sizes;
    if (base == 0 || max < base) {
        return sizes;
    }
    const uint64_t n = std::max<uint64_t>(points, 2);
    const double ratio = std::pow(static_cast<double>(max) / static_cast<double>(base),
                                  1.0 / static_cast<double>(n - 1));
    for (uint64_t i = 0; i < n; ++i) {
        const auto size = i + 1 == n ? max
                                     : static_cast<uint64_t>(std::llround(
                                           static_cast<double>(base) * std::pow(ratio, i)));
        if (sizes.empty() || size > sizes.back()) {
            sizes.push_back(size);
        }
    }
    return sizes;
}

double project_linear(double x1, double y1, double x2, double y2, double x) {
    return y1 + (y2 - y1) / (x2 - x1) * (x - x1);
}

std::vector<uint64_t> full_shape_blob_points(const ScaleSize& base, const ScaleSize& max) {
    const uint64_t low = std::min(base.blobs, max.blobs);
    const uint64_t high = std::min(3 * base.blobs, max.blobs);
    return high > low ? std::vector<uint64_t>{low, high} : std::vector<uint64_t>{low};
}

double linear_slope(const std::vector<double>& x, const std::vector<double>& y) {
    const size_t n = std::min(x.size(), y.size());
    if (n < 2) {
        return 0;
    }
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; ++i) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    const double denominator = static_cast<double>(n) * sxx - sx * sx;
    return denominator == 0 ? 0 : (static_cast<double>(n) * sxy - sx * sy) / denominator;
}

double growth_exponent(const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> lx, ly;
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
        if (x[i] > 0 && y[i] > 0) {
            lx.push_back(std::log(x[i]));
            ly.push_back(std::log(y[i]));
        }
    }
    return linear_slope(lx, ly);
}

std::optional<double> floor_seconds_in_child(const std::string& self, const std::string& scenario,
                                             uint64_t seed, const std::vector<std::string>& sets) {
    std::vector<std::string> args = {
        self, "bench", "scenarios", scenario, "--one-seed", std::to_string(seed), "--floor-only"};
    for (const std::string& set : sets) {
        args.emplace_back("--set");
        args.push_back(set);
    }
    std::istringstream in(run_child(args).out);
    std::string tag;
    double seconds = 0;
    in >> tag >> seconds;
    if (!in || tag != floor_tag || seconds <= 0) {
        return std::nullopt;
    }
    return seconds;
}

int bench_scale_command(const std::string& self, const ScaleBenchOptions& options) {
    fmt::print(
        "floe bench scale: mainnet-shape, seed {}, one child process per point (one core)\n"
        "base: {} nodes, {} shards, {} blobs; each size grown alone to {} nodes, {} shards, {} "
        "blobs\n"
        "target of a mainnet-shaped seed (100 nodes, 1,000 shards, 10,000 blobs): <= {:.0f} s "
        "wall, <= {:.0f} MiB peak\n\n",
        options.seed, options.base.nodes, options.base.shards, options.base.blobs,
        options.max.nodes, options.max.shards, options.max.blobs, target_wall_seconds,
        target_peak_mib);
    fmt::print("  {:>6} {:>7} {:>7} {:>9} {:>10}\n", "nodes", "shards", "blobs", "wall s",
               "peak MiB");
    // The base point is run once and starts every series.
    const ScalePoint base = run_point(self, options.seed, options.base);
    print_point(base);
    bool all_passed = base.passed;
    std::vector<Series> series = {{"nodes", &ScaleSize::nodes, "node", {}},
                                  {"shards", &ScaleSize::shards, nullptr, {}},
                                  {"blobs", &ScaleSize::blobs, "blob", {}}};
    for (Series& grown : series) {
        grown.points.push_back(base);
        const std::vector<uint64_t> sizes =
            geometric_sizes(options.base.*grown.size, options.max.*grown.size, options.points);
        for (size_t i = 1; i < sizes.size(); ++i) {
            ScaleSize size = options.base;
            size.*grown.size = sizes[i];
            grown.points.push_back(run_point(self, options.seed, size));
            print_point(grown.points.back());
            all_passed = all_passed && grown.points.back().passed;
        }
    }
    fmt::print("\ngrowth (least squares on log-log; 1.00 is linear):\n");
    for (const Series& grown : series) {
        print_fit(grown);
    }
    all_passed = print_full_shape(self, options) && all_passed;
    return all_passed ? 0 : 1;
}

}  // namespace floe::tools
