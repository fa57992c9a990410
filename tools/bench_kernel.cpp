#include "tools/bench_kernel.h"

#include <fmt/format.h>
#include <unistd.h>
#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <queue>

#include "sim/simulation.h"

// Wall-clock timing is what a benchmark is for; tools/ is outside the determinism lint, and
// nothing measured here feeds a simulation decision.

namespace floe::tools {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// --- the raw loop: heap + Boost.Context, nothing else -------------------------------------------

struct RawLoop {
    struct Entry {
        uint64_t time;
        uint32_t fiber;
        bool operator>(const Entry& other) const {
            return time != other.time ? time > other.time : fiber > other.fiber;
        }
    };
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    std::vector<boost::context::fiber> fibers;
    sim::Rng rng{1, "raw"};
    uint64_t now = 0;
    uint32_t running = 0;
    bool stop = false;

    void spawn_all(size_t count, size_t stack_size) {
        for (size_t i = 0; i < count; ++i) {
            fibers.emplace_back(std::allocator_arg, boost::context::fixedsize_stack(stack_size),
                                [this](boost::context::fiber&& sink) {
                                    while (!stop) {
                                        heap.push(Entry{now + 1 + rng.below(1000), running});
                                        sink = std::move(sink).resume();
                                    }
                                    return std::move(sink);
                                });
        }
    }
    void step() {
        const Entry next = heap.top();
        heap.pop();
        now = next.time;
        running = next.fiber;
        fibers[running] = std::move(fibers[running]).resume();
    }
    double run(size_t count, uint64_t events, size_t stack_size) {
        spawn_all(count, stack_size);
        for (uint32_t i = 0; i < count; ++i) {  // warm-up: first touch of every stack
            running = i;
            fibers[i] = std::move(fibers[i]).resume();
        }
        const auto start = Clock::now();
        for (uint64_t e = 0; e < events; ++e) {
            step();
        }
        const double elapsed = seconds_since(start);
        stop = true;
        for (uint32_t i = 0; i < count; ++i) {  // let every fiber return
            running = i;
            fibers[i] = std::move(fibers[i]).resume();
        }
        return static_cast<double>(events) / elapsed;
    }
};

// --- the kernel: the same workload through sim::Simulation ---------------------------------------

double measure_kernel(size_t count, uint64_t events, size_t stack_size) {
    using namespace sim::time_literals;
    sim::SimulationConfig config;
    config.seed = 1;
    config.stack_size = stack_size;
    sim::Simulation sim(config);
    sim::Runtime& world = sim.runtime(sim::world_host);
    uint64_t wakeups = 0;
    for (size_t i = 0; i < count; ++i) {
        world.spawn("sleeper", [&world, &wakeups] {
            sim::Rng& rng = world.rng("bench");
            while (true) {
                world.sleep(sim::Duration::nanos(static_cast<int64_t>(1 + rng.below(1000))));
                ++wakeups;
            }
        });
    }
    (void)sim.run_for(1001_ns);  // warm-up: every fiber has run once
    // Mean sleep is ~500 ns, so `count` fibers wake count/500 times per virtual ns.
    const auto span = static_cast<int64_t>(events * 500 / count);
    const uint64_t before = wakeups;
    const auto start = Clock::now();
    (void)sim.run_for(sim::Duration::nanos(span));
    const double elapsed = seconds_since(start);
    return static_cast<double>(wakeups - before) / elapsed;
}

size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    size_t size_pages = 0;
    size_t resident_pages = 0;
    statm >> size_pages >> resident_pages;
    return resident_pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

double measure_idle_fiber_bytes(size_t count, size_t stack_size) {
    sim::SimulationConfig config;
    config.stack_size = stack_size;
    sim::Simulation sim(config);
    sim::Notify never("never");
    const size_t before = resident_bytes();
    for (size_t i = 0; i < count; ++i) {
        sim.runtime(sim::world_host).spawn("idle", [&never] { (void)never.wait(); });
    }
    (void)sim.run_for(sim::Duration::nanos(1));
    const size_t after = resident_bytes();
    sim.scheduler().shutdown();
    return static_cast<double>(after - before) / static_cast<double>(count);
}

}  // namespace

KernelBenchReport run_kernel_bench(const KernelBenchOptions& options, std::FILE* progress) {
    KernelBenchReport report;
    for (size_t fibers : options.fiber_counts) {
        std::vector<double> kernel;
        std::vector<double> raw;
        std::vector<double> ratios;
        for (int rep = 0; rep < options.repetitions; ++rep) {
            if (progress != nullptr) {
                fmt::print(progress, "  measuring {} fibers, repetition {}/{}\r", fibers, rep + 1,
                           options.repetitions);
                std::fflush(progress);
            }
            RawLoop loop;
            raw.push_back(loop.run(fibers, options.events, options.stack_size));
            kernel.push_back(measure_kernel(fibers, options.events, options.stack_size));
            ratios.push_back(kernel.back() / raw.back());
        }
        report.rows.push_back(KernelBenchRow{fibers, median(kernel), median(raw), median(ratios)});
    }
    if (progress != nullptr) {
        fmt::print(progress, "{:60}\r", "");
    }
    report.idle_fibers_measured = 10'000;
    report.resident_bytes_per_idle_fiber =
        measure_idle_fiber_bytes(report.idle_fibers_measured, options.stack_size);
    return report;
}

void print_kernel_bench(const KernelBenchOptions& options, const KernelBenchReport& report,
                        std::FILE* out) {
    fmt::print(out, "floe bench kernel: timer wake-ups of fibers sleeping a random 1..1000 ns\n");
    fmt::print(out, "  {} events per measurement, median of {}, {} KiB stacks\n", options.events,
               options.repetitions, options.stack_size / 1024);
    fmt::print(out, "  kernel = sim::Simulation (same-instant shuffle on, trace hash on)\n");
    fmt::print(out, "  raw    = binary heap + Boost.Context fiber switch, nothing else\n\n");
    fmt::print(out, "  {:>8}  {:>14}  {:>14}  {:>10}\n", "fibers", "kernel ev/s", "raw ev/s",
               "kernel/raw");
    for (const KernelBenchRow& row : report.rows) {
        fmt::print(out, "  {:>8}  {:>14.0f}  {:>14.0f}  {:>9.0f}%{}\n", row.fibers,
                   row.kernel_events_per_s, row.raw_events_per_s, row.ratio * 100,
                   row.fibers == 1000
                       ? (row.ratio >= 0.5 ? "  (target >= 50%: met)" : "  (target >= 50%: MISSED)")
                       : "");
    }
    fmt::print(out,
               "\n  memory per idle fiber: {:.0f} bytes resident ({} idle fibers; each reserves "
               "a {} KiB stack, a guard page and an untouched colour page)\n",
               report.resident_bytes_per_idle_fiber, report.idle_fibers_measured,
               options.stack_size / 1024);
}

}  // namespace floe::tools
