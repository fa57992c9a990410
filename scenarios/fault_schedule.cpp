#include "scenarios/fault_schedule.h"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace floe::scenarios {

namespace {

using nlohmann::json;

const std::set<std::string>& known_kinds() {
    static const std::set<std::string> kinds = {"crash",         "crash_at_crash_point",
                                                "power_loss",    "power_loss_at_crash_point",
                                                "power_loss_at", "power_loss_at_wal_write",
                                                "io_error",      "lying_disk",
                                                "partition",     "degrade",
                                                "heal",          "stake",
                                                "withdraw",      "kill",
                                                "buggify"};
    return kinds;
}

json to_json(const FaultEvent& event) {
    json out = {{"id", event.id}, {"at_ns", event.at.ns()}, {"kind", event.kind}};
    if (event.node) {
        out["node"] = *event.node;
    }
    auto put = [&out](const char* key, auto value, auto unset) {
        if (value != unset) {
            out[key] = value;
        }
    };
    put("down_ns", event.down.ns(), int64_t{0});
    put("length_ns", event.length.ns(), int64_t{0});
    put("tear", event.tear, false);
    put("nth", event.nth, uint64_t{0});
    put("point", event.point, std::string());
    put("amount", event.amount, uint64_t{0});
    put("loss", event.loss, 0.0);
    put("latency_ns", event.latency.ns(), int64_t{0});
    put("action", event.action, std::string());
    put("p", event.p, 0.0);
    put("max_fires", event.max_fires, uint64_t{0});
    out["at"] = event.at.to_string();  // for the reader; at_ns is what counts
    return out;
}

FaultEvent from_json(const json& in) {
    FaultEvent event;
    event.id = in.at("id").get<uint64_t>();
    event.at = sim::Instant::from_ns(in.at("at_ns").get<int64_t>());
    event.kind = in.at("kind").get<std::string>();
    if (!known_kinds().contains(event.kind)) {
        throw std::runtime_error(fmt::format("unknown fault kind '{}'", event.kind));
    }
    if (in.contains("node")) {
        event.node = in.at("node").get<uint32_t>();
    }
    event.down = sim::Duration::nanos(in.value("down_ns", int64_t{0}));
    event.length = sim::Duration::nanos(in.value("length_ns", int64_t{0}));
    event.tear = in.value("tear", false);
    event.nth = in.value("nth", uint64_t{0});
    event.point = in.value("point", std::string());
    event.amount = in.value("amount", uint64_t{0});
    event.loss = in.value("loss", 0.0);
    event.latency = sim::Duration::nanos(in.value("latency_ns", int64_t{0}));
    event.action = in.value("action", std::string());
    event.p = in.value("p", 0.0);
    event.max_fires = in.value("max_fires", uint64_t{0});
    return event;
}

}  // namespace

size_t FaultSchedule::fault_count() const {
    size_t n = 0;
    for (const FaultEvent& event : events) {
        n += event.structural() ? 0 : 1;
    }
    return n;
}

std::string FaultSchedule::counts() const {
    std::map<std::string, size_t> by_kind;
    for (const FaultEvent& event : events) {
        if (!event.structural()) {
            ++by_kind[event.kind];
        }
    }
    std::string out;
    for (const auto& [kind, n] : by_kind) {
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", kind, n);
    }
    return out.empty() ? "none" : out;
}

std::string write_schedule(const FaultSchedule& schedule, const std::string& path) {
    json events = json::array();
    for (const FaultEvent& event : schedule.events) {
        events.push_back(to_json(event));
    }
    const json out = {{"scenario", schedule.scenario},
                      {"seed", schedule.seed},
                      {"faults", schedule.fault_count()},
                      {"events", events}};
    std::ofstream file(path, std::ios::trunc);
    file << out.dump(1) << '\n';
    file.flush();
    if (!file) {
        return fmt::format("cannot write the fault schedule {}", path);
    }
    return {};
}

std::optional<FaultSchedule> read_schedule(const std::string& path, std::string& error) {
    std::ifstream file(path);
    if (!file) {
        error = fmt::format("cannot read the fault schedule {}", path);
        return std::nullopt;
    }
    try {
        const json in = json::parse(file);
        FaultSchedule schedule;
        schedule.scenario = in.at("scenario").get<std::string>();
        schedule.seed = in.at("seed").get<uint64_t>();
        for (const json& event : in.at("events")) {
            schedule.events.push_back(from_json(event));
        }
        return schedule;
    } catch (const std::exception& e) {
        error = fmt::format("{}: not a fault schedule ({})", path, e.what());
        return std::nullopt;
    }
}

}  // namespace floe::scenarios
