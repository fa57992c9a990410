#pragma once
// `floe bench kernel`: the scheduler's speed against the physical limit measured in the same
// run. Each event is a timer wake-up of a fiber that sleeps a random 1..1000 ns. The limit is a
// raw loop doing the same work with nothing else: a binary heap of (time, fiber) and a
// Boost.Context fiber switch per event.

#include <cstdint>
#include <cstdio>
#include <vector>

namespace floe::tools {

struct KernelBenchOptions {
    std::vector<size_t> fiber_counts = {16, 1000, 10000};
    uint64_t events = 2'000'000;  // per measurement
    int repetitions = 5;          // the median is reported
    size_t stack_size = 16 * 1024;
};

struct KernelBenchRow {
    size_t fibers = 0;
    double kernel_events_per_s = 0;  // median
    double raw_events_per_s = 0;     // median
    // Median of the per-repetition ratios: each repetition measures raw and kernel back to
    // back, so a machine that slows down for a moment slows both sides of one ratio.
    double ratio = 0;
};

struct KernelBenchReport {
    std::vector<KernelBenchRow> rows;
    double resident_bytes_per_idle_fiber = 0;
    size_t idle_fibers_measured = 0;
};

KernelBenchReport run_kernel_bench(const KernelBenchOptions& options, std::FILE* progress);
void print_kernel_bench(const KernelBenchOptions& options, const KernelBenchReport& report,
                        std::FILE* out);

}  // namespace floe::tools
