#pragma once
// A simulation: the scheduler, the network, the fail points and the hosts, built from one seed.
// This is the scenario side of the kernel (it can kill, restart, partition); simulated host code
// only ever sees its Runtime.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/fail_points.h"
#include "sim/network.h"
#include "sim/runtime.h"
#include "sim/scheduler.h"

namespace sim {

struct SimulationConfig {
    uint64_t seed = 1;
    bool shuffle_same_instant = true;  // as msim: ready tasks at one instant in random order
    SchedStrategy sched;               // random: the shuffle above; else overrides it
    Instant time_limit = Instant::never();
    uint64_t max_steps = UINT64_MAX;
    uint64_t spin_limit = 1'000'000;
    size_t stack_size = 256 * 1024;
    NetworkConfig network;
};

struct RunResult {
    FailureClass failure = FailureClass::none;
    std::string message;
    std::string where;  // the failing check's "file:line"; "" when passed
    uint64_t seed = 0;
    Instant end_time;
    uint64_t steps = 0;
    uint64_t choice_points = 0;  // same-instant picks among several entries
    uint64_t trace_events = 0;
    uint64_t trace_hash = 0;
    uint64_t rng_draws = 0;

    bool passed() const { return failure == FailureClass::none; }
    std::string outcome() const { return std::string(failure_class_name(failure)); }
};

class Simulation {
public:
    using BootFn = std::function<void(Runtime&)>;

    explicit Simulation(SimulationConfig config);
    Simulation(const Simulation&) = delete;
    Simulation& operator=(const Simulation&) = delete;
    ~Simulation();

    HostId add_host(std::string name, BootFn boot);
    void start(HostId host) { scheduler_.start_host(host); }
    void kill(HostId host) { scheduler_.kill(host); }
    void restart(HostId host, Duration delay) { scheduler_.restart(host, delay); }
    bool is_alive(HostId host) const { return scheduler_.is_alive(host); }

    Runtime& runtime(HostId host);  // world_host's runtime is the driver's
    Scheduler& scheduler() { return scheduler_; }
    Network& net() { return network_; }
    FailPoints& fail_points() { return fail_points_; }
    Trace& trace() { return scheduler_.trace(); }
    const SimulationConfig& config() const { return config_; }

    // Runs `driver` on the world host until it returns (pass) or the run fails, then unwinds
    // every fiber (RAII runs). A simulation runs one driver.
    RunResult run(UniqueFunction<void(Runtime&)> driver);
    // Runs with no driver until `duration` has passed or nothing is left to run.
    RunResult run_for(Duration duration);
    // Ends the run as a failure of `failure` class (invariant checkers call this).
    void fail(FailureClass failure, std::string message, const char* file = __builtin_FILE(),
              int line = __builtin_LINE()) {
        scheduler_.fail(failure, std::move(message), file, line);
    }

private:
    RunResult result_of(const StopReason& stop);

    SimulationConfig config_;
    Scheduler scheduler_;
    Network network_;
    FailPoints fail_points_;
    std::vector<std::unique_ptr<Runtime>> runtimes_;  // by host id
};

}  // namespace sim
