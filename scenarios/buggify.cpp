#include "scenarios/buggify.h"

#include <fmt/format.h>

#include "node/sites.h"
#include "scenarios/storage_faults.h"

namespace floe::scenarios {

using namespace sim::time_literals;
using walrus::site::Kind;
using walrus::site::Site;

namespace {

constexpr uint64_t delay_fires = 20;

bool eligible(const Site& site, StorageFaultMode storage_faults) {
    if (site.fits == walrus::site::fit_none) {
        return false;
    }
    if (site.kind == Kind::fs_fault) {
        return storage_faults != StorageFaultMode::off &&
               (!fs_fault_loses_data(site.name) || storage_faults == StorageFaultMode::unbounded);
    }
    return true;
}

// scan-read-eio, with BuggifyOptions::scan_errors: fits only an error.
bool is_scan_error_site(const Site& site) {
    return site.name == walrus::site::scan_read_eio.name;
}

BuggifyChoice draw_choice(sim::Rng& rng, const Site& site, double fire_p) {
    BuggifyChoice choice;
    choice.site = std::string(site.name);
    choice.fire_p = fire_p;
    if (is_scan_error_site(site)) {
        choice.action = BuggifyAction::error;
        choice.max_fires = 1 + rng.below(5);
    } else if ((site.fits & walrus::site::fit_crash) != 0) {
        choice.action = BuggifyAction::crash;
        choice.param = rng.uniform(1_s, 30_s);
        choice.max_fires = 1 + rng.below(3);
    } else if ((site.fits & walrus::site::fit_error) != 0) {
        choice.action = BuggifyAction::error;
        choice.max_fires = 1 + rng.below(5);
    } else {
        const bool hold = rng.below(2) == 0;
        choice.action = hold ? BuggifyAction::hold : BuggifyAction::delay;
        choice.param = hold ? rng.uniform(1_s, 10_s) : rng.uniform(100_ms, 5_s);
        choice.max_fires = delay_fires;
    }
    return choice;
}

const char* action_name(BuggifyAction action) {
    switch (action) {
        case BuggifyAction::crash: return "crash";
        case BuggifyAction::error: return "error";
        case BuggifyAction::delay: return "delay";
        case BuggifyAction::hold: return "hold";
    }
    return "?";
}

// Where a crash or an error that stops the process may strike: on a storage node, within the
// fault budget.
std::function<bool()> on_a_node_within_budget(Scenario& s) {
    return [&s] {
        const auto node = s.node_of_host(s.sim().scheduler().current_host());
        return node.has_value() && s.within_fault_budget(*node);
    };
}

sim::FailPointAction action_for(Scenario& s, const BuggifyChoice& choice) {
    switch (choice.action) {
        case BuggifyAction::crash: {
            const sim::Duration down = choice.param;
            return sim::FailPointAction::call(
                       [&s, down] { s.sim().restart(s.sim().scheduler().current_host(), down); })
                .only_when(on_a_node_within_budget(s));
        }
        case BuggifyAction::error: {
            auto action = sim::FailPointAction::inject_error();
            if (choice.site == walrus::site::scan_read_eio.name) {
                // Only where Walrus's code gets the error to decide on (ReadErrors::to_caller):
                // elsewhere floe's node exits at it, which fs-read-eio covers within the budget.
                return std::move(action).only_when([&s] {
                    const auto node = s.node_of_host(s.sim().scheduler().current_host());
                    return node.has_value() && s.disk(*node).in_scan_with_errors_to_caller;
                });
            }
            if (walrus::site::find(choice.site)->kind == Kind::fs_fault) {
                // The node's process exits on it: within the budget, and not while the database
                // opens (walrus::Disk::opening says why).
                auto within_budget = on_a_node_within_budget(s);
                return std::move(action).only_when([&s, within_budget] {
                    const auto node = s.node_of_host(s.sim().scheduler().current_host());
                    return within_budget() && !s.disk(*node).opening;
                });
            }
            return action;
        }
        case BuggifyAction::delay: return sim::FailPointAction::sleep(choice.param);
        case BuggifyAction::hold: {
            // Fibers caught here wait for the next multiple of the period, then go together.
            const int64_t period = choice.param.ns();
            return sim::FailPointAction::hold_until(
                [&s, period] { return s.now().ns() % period < (100_ms).ns(); }, 100_ms);
        }
    }
    FLOE_UNREACHABLE();
}

FaultEvent as_fault(const BuggifyChoice& choice) {
    FaultEvent event;
    event.kind = "buggify";
    event.point = choice.site;
    event.action = action_name(choice.action);
    event.p = choice.fire_p;
    event.down = choice.param;
    event.max_fires = choice.max_fires;
    return event;
}

BuggifyChoice from_fault(const FaultEvent& event) {
    BuggifyChoice choice;
    choice.site = event.point;
    for (const BuggifyAction action :
         {BuggifyAction::crash, BuggifyAction::error, BuggifyAction::delay, BuggifyAction::hold}) {
        if (event.action == action_name(action)) {
            choice.action = action;
        }
    }
    choice.fire_p = event.p;
    choice.param = event.down;
    choice.max_fires = event.max_fires;
    return choice;
}

}  // namespace

ParamSpec buggify_param() {
    return ParamSpec::choice("buggify", "off", {"off", "on", "drawn"},
                             "the fail-point swarm (BUGGIFY): off, on, or drawn per seed");
}

ParamSpec buggify_scan_errors_param() {
    return ParamSpec::choice("buggify-scan-errors", "off", {"off", "on"},
                             "with buggify: scan-read-eio takes part, failing steps of the scans "
                             "whose read errors Walrus logs and goes on from");
}

std::vector<BuggifyChoice> draw_buggify(sim::Rng& rng, const BuggifyOptions& options,
                                        StorageFaultMode storage_faults) {
    std::vector<BuggifyChoice> out;
    for (const Site& site : walrus::site::all()) {
        const bool takes_part =
            eligible(site, storage_faults) || (options.scan_errors && is_scan_error_site(site));
        if (takes_part && rng.bernoulli(options.enable_p)) {
            out.push_back(draw_choice(rng, site, options.fire_p));
        }
    }
    return out;
}

std::string describe(const BuggifyChoice& choice) {
    std::string text =
        fmt::format("{} {} p={}", choice.site, action_name(choice.action), choice.fire_p);
    switch (choice.action) {
        case BuggifyAction::crash: text += " down=" + choice.param.to_string(); break;
        case BuggifyAction::delay: text += " for=" + choice.param.to_string(); break;
        case BuggifyAction::hold: text += " release-every=" + choice.param.to_string(); break;
        case BuggifyAction::error: break;
    }
    return text + fmt::format(" x{}", choice.max_fires);
}

size_t start_buggify(Scenario& s, const BuggifyOptions& options) {
    if (!s.params().has("buggify")) {
        return 0;
    }
    const std::string& mode = s.params().choice("buggify");
    if (mode == "off" || (mode == "drawn" && s.stream("buggify-mix").below(2) == 0)) {
        return 0;
    }
    BuggifyOptions drawn_with = options;
    drawn_with.scan_errors =
        s.params().has("buggify-scan-errors") && s.params().choice("buggify-scan-errors") == "on";
    const std::vector<BuggifyChoice> choices =
        draw_buggify(s.stream("buggify"), drawn_with, s.cluster().storage_faults());
    size_t installed = 0;
    for (const BuggifyChoice& drawn : choices) {
        // A fault of the run's schedule: recorded, or left out by a replayed one.
        FaultEvent event = as_fault(drawn);
        if (!s.admit(event)) {
            continue;
        }
        const BuggifyChoice choice = from_fault(event);
        ++installed;
        s.note("buggify: " + describe(choice));
        s.sim().fail_points().set_background(choice.site, std::move(action_for(s, choice))
                                                              .with_probability(choice.fire_p)
                                                              .at_most(choice.max_fires));
    }
    s.report("buggify_sites", static_cast<int64_t>(installed));
    return installed;
}

void stop_buggify(Scenario& s) {
    if (s.sim().fail_points().has_background()) {
        s.mark("buggify off: the liveness phase");
        s.sim().fail_points().clear_background();
    }
}

}  // namespace floe::scenarios
