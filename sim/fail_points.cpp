#include "sim/fail_points.h"

#include <fmt/format.h>

namespace sim {

FailPointAction FailPointAction::call(std::function<void()> fn) {
    FailPointAction action;
    action.kind = Kind::callback;
    action.callback = std::move(fn);
    return action;
}

FailPointAction FailPointAction::inject_error() {
    FailPointAction action;
    action.kind = Kind::error;
    return action;
}

FailPointAction FailPointAction::crash(Duration restart_after) {
    FailPointAction action;
    action.kind = Kind::crash;
    action.duration = restart_after;
    return action;
}

FailPointAction FailPointAction::sleep(Duration duration) {
    FailPointAction action;
    action.kind = Kind::sleep;
    action.duration = duration;
    return action;
}

FailPointAction FailPointAction::hold() {
    FailPointAction action;
    action.kind = Kind::hold;
    return action;
}

FailPointAction FailPointAction::hold_until(std::function<bool()> predicate, Duration poll) {
    FLOE_ASSERT(poll > Duration::zero(), "hold_until needs a positive poll interval");
    FailPointAction action;
    action.kind = Kind::hold_until;
    action.predicate = std::move(predicate);
    action.duration = poll;
    return action;
}

FailPointAction FailPointAction::arg(FailPointArgs values) {
    FailPointAction action;
    action.kind = Kind::arg;
    action.args = std::move(values);
    return action;
}

FailPoints::FailPoints(Scheduler& scheduler)
    : scheduler_(scheduler),
      rng_(scheduler.make_rng("failpoints")),
      background_rng_(scheduler.make_rng("buggify-fire")) {}

FailPoints::~FailPoints() {
    for (const auto* table : {&armed_, &background_}) {
        for (const auto& [name, armed] : *table) {
            FLOE_ASSERT(!armed->held.has_waiters() || Scheduler::current_or_null() == nullptr,
                        "fail point '{}' destroyed while fibers are held", name);
        }
    }
}

void FailPoints::set_background(const std::string& name, FailPointAction action) {
    FLOE_ASSERT(!probes_.contains(name), "'{}' is a probe: probes cannot be armed", name);
    auto& slot = background_[name];
    if (slot == nullptr) {
        slot = std::make_unique<Armed>();
        slot->name = name;
    }
    slot->action = std::move(action);  // fibers an older action holds wait on as before
}

void FailPoints::clear_background() {
    for (auto it = background_.begin(); it != background_.end();) {
        it->second->held.notify_all();
        if (it->second->held_count == 0) {
            it = background_.erase(it);
        } else {
            // Its held fibers still reference it: keep it, inert, as disarm does.
            it->second->action = FailPointAction::call([] {});
            it->second->action.max_fires = 0;
            ++it;
        }
    }
}

void FailPoints::arm(const std::string& name, FailPointAction action) {
    FLOE_ASSERT(!probes_.contains(name), "'{}' is a probe: probes cannot be armed", name);
    auto& slot = armed_[name];
    if (slot != nullptr && slot->held_count > 0) {
        // Re-arming keeps the fibers already held; they wait for release() as before.
        slot->action = std::move(action);
    } else {
        slot = std::make_unique<Armed>();
        slot->action = std::move(action);
        slot->name = name;
    }
    stats_[name].armed_ever = true;
}

void FailPoints::disarm(const std::string& name) {
    auto it = armed_.find(name);
    if (it == armed_.end()) {
        return;
    }
    // Held fibers must not be stranded by a disarm: release them first.
    it->second->held.notify_all();
    if (it->second->held_count == 0) {
        armed_.erase(it);
    } else {
        it->second->action = FailPointAction::call([] {});
        it->second->action.max_fires = 0;
    }
}

void FailPoints::disarm_all() {
    std::vector<std::string> names;
    for (const auto& [name, armed] : armed_) {
        names.push_back(name);
    }
    for (const auto& name : names) {
        disarm(name);
    }
}

void FailPoints::release(const std::string& name) {
    auto it = armed_.find(name);
    if (it != armed_.end()) {
        it->second->held.notify_all();
    }
}

bool FailPoints::is_armed(std::string_view name) const {
    auto it = armed_.find(name);
    return it != armed_.end() && it->second->action.max_fires > 0;
}

FailPointOutcome FailPoints::hit(std::string_view name) {
    return hit_impl(name, false, nullptr);
}

FailPointOutcome FailPoints::hit_async(std::string_view name) {
    return hit_impl(name, true, nullptr);
}

std::optional<FailPointArgs> FailPoints::hit_arg(std::string_view name) {
    // Any sync action may arm an arg site: `arg` hands its values over, `error` hands none (the
    // site's default fault), the others act as anywhere else and hand nothing.
    FailPointArgs args;
    if (hit_impl(name, false, &args) != FailPointOutcome::inject_error) {
        return std::nullopt;
    }
    return args;
}

FailPointOutcome FailPoints::hit_impl(std::string_view name, bool may_suspend,
                                      FailPointArgs* args) {
    const HostId host = scheduler_.current_host();
    auto stats = stats_.find(name);
    if (stats == stats_.end()) {
        FLOE_ASSERT(!probes_.contains(name), "'{}' is a probe, not a fail point", name);
        stats = stats_.emplace(std::string(name), FailPointStats{}).first;
    }
    ++stats->second.hits;
    ++stats->second.hits_by_host[host];
    Rng* rng = nullptr;
    Armed* acting_action = acting(name, rng);
    if (acting_action == nullptr) {
        return FailPointOutcome::proceed;
    }
    Armed& armed = *acting_action;
    const FailPointAction& action = armed.action;
    if (action.max_fires == 0 || (action.host.has_value() && *action.host != host)) {
        return FailPointOutcome::proceed;
    }
    if (action.condition && !action.condition()) {
        return FailPointOutcome::proceed;
    }
    if (!rng->bernoulli(action.probability)) {
        return FailPointOutcome::proceed;
    }
    --armed.action.max_fires;
    ++stats->second.fires;
    const bool background = rng == &background_rng_;
    stats->second.background_fires += background ? 1 : 0;
    scheduler_.trace().event(
        TraceKind::fail_point_hit, scheduler_.now(), host, scheduler_.current_fiber(),
        stable_hash(name),
        [&] { return background ? "buggify " + std::string(name) : std::string(name); });
    return fire(armed, may_suspend, args);
}

FailPoints::Armed* FailPoints::acting(std::string_view name, Rng*& rng) {
    if (auto it = armed_.find(name); it != armed_.end()) {
        rng = &rng_;
        return it->second.get();
    }
    if (background_.empty()) {
        return nullptr;
    }
    auto it = background_.find(name);
    if (it == background_.end()) {
        return nullptr;
    }
    rng = &background_rng_;
    return it->second.get();
}

FailPointOutcome FailPoints::fire(Armed& armed, bool may_suspend, FailPointArgs* args) {
    // Copy what the action needs: a callback may re-arm or disarm this very point.
    const FailPointAction action = armed.action;
    FLOE_ASSERT(may_suspend || !action.suspends(),
                "fail point '{}' is reached by a sync call site but armed with an action that "
                "suspends; use hit_async there or arm a sync action",
                armed.name);
    switch (action.kind) {
        case FailPointAction::Kind::callback: action.callback(); return FailPointOutcome::proceed;
        case FailPointAction::Kind::error: return FailPointOutcome::inject_error;
        case FailPointAction::Kind::crash: {
            const HostId host = scheduler_.current_host();
            FLOE_ASSERT(host != world_host, "fail point '{}' tried to crash the world", armed.name);
            if (action.duration.is_forever()) {
                scheduler_.kill(host);
            } else {
                scheduler_.restart(host, action.duration);
            }
            FLOE_UNREACHABLE("a crashed host kept running after fail point '{}'", armed.name);
        }
        case FailPointAction::Kind::sleep:
            scheduler_.sleep(action.duration);
            return FailPointOutcome::proceed;
        case FailPointAction::Kind::hold: {
            WaitQueue* queues[] = {&armed.held};
            ++armed.held_count;
            struct Unhold {
                size_t& count;
                ~Unhold() { --count; }
            } unhold{armed.held_count};
            scheduler_.block(queues, Instant::never(), WaitSite{"failpoint-hold", &armed.name});
            return FailPointOutcome::proceed;
        }
        case FailPointAction::Kind::arg:
            FLOE_ASSERT(args != nullptr,
                        "fail point '{}' is armed with values but its call site takes none",
                        armed.name);
            *args = action.args;
            return FailPointOutcome::inject_error;  // hit_arg: "values handed over"
        case FailPointAction::Kind::hold_until:
            while (!action.predicate()) {
                scheduler_.sleep(action.duration);
            }
            return FailPointOutcome::proceed;
    }
    FLOE_UNREACHABLE();
}

void FailPoints::probe(std::string_view name, bool holds) {
    auto it = probes_.find(name);
    if (it == probes_.end()) {
        FLOE_ASSERT(!stats_.contains(name), "'{}' is a fail point, not a probe", name);
        it = probes_.emplace(std::string(name), ProbeStats{}).first;
    }
    ++it->second.evaluated;
    if (holds) {
        ++it->second.hits;
        ++it->second.hits_by_host[scheduler_.current_host()];
    }
}

namespace {

template <class Stats>
uint64_t host_hits(const Stats& stats, HostId host) {
    auto by_host = stats.hits_by_host.find(host);
    return by_host == stats.hits_by_host.end() ? 0 : by_host->second;
}

}  // namespace

uint64_t FailPoints::hits(std::string_view name) const {
    if (auto it = stats_.find(name); it != stats_.end()) {
        return it->second.hits;
    }
    auto probe = probes_.find(name);
    return probe == probes_.end() ? 0 : probe->second.hits;
}

uint64_t FailPoints::hits(std::string_view name, HostId host) const {
    if (auto it = stats_.find(name); it != stats_.end()) {
        return host_hits(it->second, host);
    }
    auto probe = probes_.find(name);
    return probe == probes_.end() ? 0 : host_hits(probe->second, host);
}

uint64_t FailPoints::fires(std::string_view name) const {
    auto it = stats_.find(name);
    return it == stats_.end() ? 0 : it->second.fires;
}

size_t FailPoints::held(std::string_view name) const {
    auto it = armed_.find(name);
    return it == armed_.end() ? 0 : it->second->held_count;
}

std::vector<std::string> FailPoints::armed_never_hit() const {
    std::vector<std::string> names;
    for (const auto& [name, stats] : stats_) {
        if (stats.armed_ever && stats.hits == 0) {
            names.push_back(name);
        }
    }
    return names;
}

}  // namespace sim
