#include "tools/kernel_demo.h"

#include <fmt/format.h>

#include <map>
#include <tuple>
#include <vector>

namespace floe::tools {
namespace {

using namespace sim::time_literals;
using sim::HostId;
using sim::Runtime;

struct Push {
    HostId origin;
    uint64_t incarnation;
    uint64_t version;
};

struct DemoWorld {
    sim::Simulation& sim;
    std::vector<HostId> hosts;
    DemoReport& report;
    // The checker's view, outside any host: the last (origin incarnation, version) each
    // observer incarnation applied from each origin.
    std::map<std::tuple<HostId, uint64_t, HostId>, std::pair<uint64_t, uint64_t>> applied;

    // Invariant, checked on every apply: within one incarnation of an observer, what it applies
    // from an origin strictly increases. Messages arrive out of order (long-tailed latency,
    // retries after timeouts), so the host must discard stale pushes for this to hold.
    void check_applied(HostId observer, uint64_t observer_incarnation, const Push& push) {
        const auto key = std::make_tuple(observer, observer_incarnation, push.origin);
        const std::pair<uint64_t, uint64_t> now{push.incarnation, push.version};
        auto it = applied.find(key);
        if (it != applied.end() && !(it->second < now)) {
            sim.fail(
                sim::FailureClass::invariant,
                fmt::format("host {} applied {}.{} from host {} after {}.{}", observer, now.first,
                            now.second, push.origin, it->second.first, it->second.second));
        }
        applied[key] = now;
    }

    void boot(Runtime& rt) {
        const HostId self = rt.host();
        const uint64_t incarnation = sim.scheduler().incarnation(self);
        // The host's RAM: lives in this frame, so a crash drops it.
        std::map<HostId, std::pair<uint64_t, uint64_t>> latest;
        rt.serve<Push, bool>("push", [this, self, incarnation, &rt, &latest](HostId, Push push) {
            rt.sleep(rt.rng("apply").uniform(0_ms, 2_ms));
            (void)rt.fail_point("demo.apply");
            auto& current = latest[push.origin];
            const std::pair<uint64_t, uint64_t> incoming{push.incarnation, push.version};
            if (!(current < incoming)) {
                return false;  // stale: an older push overtaken by a newer one
            }
            current = incoming;
            check_applied(self, incarnation, push);
            return true;
        });
        uint64_t version = 0;
        while (true) {
            ++version;
            const HostId peer = rt.rng("peer").choose(hosts);
            auto reply = rt.call<bool>(peer, "push", Push{self, incarnation, version}, 300_ms);
            ++(reply.ok() ? report.rpc_ok : report.rpc_failed);
            rt.sleep(rt.rng("pace").exponential(20_ms));
        }
    }

    void drive(Runtime& rt, sim::Duration duration) {
        sim.fail_points().arm("demo.apply",
                              sim::FailPointAction::crash(500_ms).with_probability(0.002));
        for (HostId host : hosts) {
            sim.start(host);
        }
        const sim::Instant end = rt.now() + duration;
        sim::Rng& chaos = rt.rng("chaos");
        while (rt.now() < end) {
            rt.sleep(chaos.uniform(500_ms, 3_s));
            if (chaos.bernoulli(0.3)) {
                const HostId cut = chaos.choose(hosts);
                sim.net().partition({cut}, hosts);
                rt.sleep(chaos.uniform(100_ms, 2_s));
                sim.net().heal_all();
            } else {
                const HostId victim = chaos.choose(hosts);
                if (sim.is_alive(victim)) {
                    ++report.crashes;
                    sim.restart(victim, chaos.uniform(10_ms, 2_s));
                }
            }
        }
    }
};

}  // namespace

DemoReport run_kernel_demo(const DemoOptions& options, std::string& error) {
    DemoReport report;
    if (options.hosts < 2 || options.hosts > 1000) {
        error = fmt::format("--hosts must be between 2 and 1000, got {}", options.hosts);
        return report;
    }
    sim::SimulationConfig config;
    config.seed = options.seed;
    config.time_limit = sim::Instant::zero() + options.duration + sim::Duration::minutes(10);
    config.network.default_link =
        sim::LinkConfig{sim::LatencyModel::long_tail(1_ms, 10_ms, 0.02, 100_ms), 0.01};
    sim::Simulation sim(config);
    if (!options.trace_path.empty()) {
        error = sim.trace().open_text(options.trace_path);
        if (!error.empty()) {
            return report;
        }
    }
    DemoWorld world{sim, {}, report, {}};
    for (int i = 0; i < options.hosts; ++i) {
        world.hosts.push_back(
            sim.add_host(fmt::format("h{}", i), [&world](Runtime& rt) { world.boot(rt); }));
    }
    report.result = sim.run([&world, &options](Runtime& rt) { world.drive(rt, options.duration); });
    report.fail_point_fires = sim.fail_points().fires("demo.apply");
    return report;
}

}  // namespace floe::tools
