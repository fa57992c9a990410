#include "sim/simulation.h"

#include <fmt/format.h>

#include <utility>

namespace sim {

namespace {
SchedulerConfig scheduler_config(const SimulationConfig& config) {
    SchedulerConfig out;
    out.seed = config.seed;
    out.shuffle_same_instant = config.shuffle_same_instant;
    out.strategy = config.sched;
    out.time_limit = config.time_limit;
    out.max_steps = config.max_steps;
    out.spin_limit = config.spin_limit;
    out.default_stack_size = config.stack_size;
    return out;
}
}  // namespace

Rng& Runtime::rng(std::string_view name) {
    auto it = rngs_.find(name);
    if (it == rngs_.end()) {
        it = rngs_
                 .emplace(std::string(name),
                          scheduler_.make_rng(fmt::format("{}/{}", host_name(), name)))
                 .first;
    }
    return it->second;
}

void Runtime::exit_process(std::string_view why, Duration restart_after) {
    FLOE_ASSERT(host_ != world_host, "the world cannot exit");
    mark(fmt::format("process exits: {}", why));
    if (restart_after.is_forever()) {
        scheduler_.kill(host_);
    } else {
        scheduler_.restart(host_, restart_after);
    }
    FLOE_UNREACHABLE("host {} kept running after exit_process", host_);
}

void Runtime::mark(std::string_view text) {
    scheduler_.trace().event(TraceKind::mark, scheduler_.now(), host_, scheduler_.current_fiber(),
                             stable_hash(text), [&] { return std::string(text); });
}

void Runtime::state(std::string_view track, std::string_view value) {
    scheduler_.trace().state(scheduler_.now(), host_, scheduler_.current_fiber(), track, value);
}

TraceSpan Runtime::span(std::string name, std::string_view details) {
    const uint64_t id = scheduler_.trace().span_begin(scheduler_.now(), host_,
                                                      scheduler_.current_fiber(), name, details);
    return TraceSpan(scheduler_, host_, id, std::move(name));
}

TraceSpan::TraceSpan(Scheduler& scheduler, HostId host, uint64_t id, std::string name)
    : scheduler_(&scheduler), host_(host), id_(id), name_(std::move(name)) {}

TraceSpan::TraceSpan(TraceSpan&& other) noexcept
    : scheduler_(std::exchange(other.scheduler_, nullptr)),
      host_(other.host_),
      id_(std::exchange(other.id_, 0)),
      name_(std::move(other.name_)) {}

TraceSpan& TraceSpan::operator=(TraceSpan&& other) noexcept {
    if (this != &other) {
        end();
        scheduler_ = std::exchange(other.scheduler_, nullptr);
        host_ = other.host_;
        id_ = std::exchange(other.id_, 0);
        name_ = std::move(other.name_);
    }
    return *this;
}

void TraceSpan::end() {
    if (scheduler_ == nullptr || id_ == 0) {
        return;
    }
    scheduler_->trace().span_end(scheduler_->now(), host_, scheduler_->current_fiber(), id_, name_);
    scheduler_ = nullptr;
    id_ = 0;
}

Simulation::Simulation(SimulationConfig config)
    : config_(config),
      scheduler_(scheduler_config(config)),
      network_(scheduler_, config.network),
      fail_points_(scheduler_) {
    runtimes_.push_back(std::make_unique<Runtime>(scheduler_, network_, fail_points_, world_host));
}

Simulation::~Simulation() {
    // Fibers may hold references into the network and fail points: unwind them while those
    // still exist.
    scheduler_.shutdown();
}

HostId Simulation::add_host(std::string name, BootFn boot) {
    const auto id = static_cast<HostId>(runtimes_.size());
    runtimes_.push_back(std::make_unique<Runtime>(scheduler_, network_, fail_points_, id));
    Runtime* runtime = runtimes_.back().get();
    const HostId assigned =
        scheduler_.add_host(std::move(name), [runtime, boot = std::move(boot)] { boot(*runtime); });
    FLOE_ASSERT(assigned == id, "host ids out of step");
    return id;
}

Runtime& Simulation::runtime(HostId host) {
    FLOE_ASSERT(host < runtimes_.size(), "unknown host {}", host);
    return *runtimes_[host];
}

RunResult Simulation::run(UniqueFunction<void(Runtime&)> driver) {
    Runtime& world = *runtimes_[world_host];
    RunResult result = result_of(
        scheduler_.run([&world, driver = std::move(driver)]() mutable { driver(world); }));
    // A driven run is over: unwind every fiber now, while the objects they wait on (often the
    // scenario's own) still exist.
    scheduler_.shutdown();
    return result;
}

RunResult Simulation::run_for(Duration duration) {
    return result_of(scheduler_.run_until(scheduler_.now() + duration));
}

RunResult Simulation::result_of(const StopReason& stop) {
    RunResult result;
    result.failure = stop.failure;
    result.message = stop.message;
    result.where = stop.where;
    result.seed = config_.seed;
    result.end_time = scheduler_.now();
    result.steps = scheduler_.steps();
    result.choice_points = scheduler_.choice_points();
    result.trace_events = scheduler_.trace().events();
    result.trace_hash = scheduler_.trace().hash();
    result.rng_draws = scheduler_.trace().rng_draws();
    return result;
}

}  // namespace sim
