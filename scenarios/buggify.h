#pragma once
// The fail-point swarm (FoundationDB's BUGGIFY over floe's catalog): per seed, each site of
// node/sites.def that a swarm may act at (its `fits`) is enabled with probability enable_p, and
// an enabled site then fires at each hit with probability fire_p, a bounded number of times,
// with an action that fits it: a crash (within the fault budget; the node boots again after a
// drawn down time), an injected error, a delay, or a hold that releases the fibers it caught
// together. The simulated disk's faults take part when the run has storage faults (a lying fsync
// only when unbounded).
//
// Everything is drawn from the run's seed (stream "buggify"; per-hit draws from "buggify-fire"),
// so a run is reproduced by its seed and `--set buggify=on` alone; the run notes every choice
// ("buggify: put-cf-after crash p=0.25 down=12s x2") in its trace, summary and JSON record. The
// actions live in the fail points' background layer: a scenario's own arm/disarm neither
// replaces nor removes them. They stop when the scenario's liveness phase begins.

#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace floe::scenarios {

struct BuggifyOptions {
    double enable_p = 0.25;  // FoundationDB's: a site is enabled for a run with p = 0.25 ...
    double fire_p = 0.25;    // ... and an enabled site fires with p = 0.25 per hit
    // `--set buggify-scan-errors=on`: scan-read-eio (a scenario-only site) takes part too, as
    // an error in the scans whose read errors Walrus logs and goes on from. Off by default, so
    // that the sites drawn, and every seed's run, stay what they were.
    bool scan_errors = false;
};

enum class BuggifyAction : uint8_t { crash, error, delay, hold };

struct BuggifyChoice {
    std::string site;
    BuggifyAction action = BuggifyAction::crash;
    double fire_p = 0.25;
    sim::Duration param;  // crash: down time; delay: its length; hold: the release period
    uint64_t max_fires = 1;
};

// The `buggify` parameter every scenario takes: off, on, or drawn (per seed, from its own
// stream, so the rest of the run draws as with off).
ParamSpec buggify_param();
// `buggify-scan-errors`: off or on (BuggifyOptions::scan_errors).
ParamSpec buggify_scan_errors_param();

std::vector<BuggifyChoice> draw_buggify(sim::Rng& rng, const BuggifyOptions& options,
                                        StorageFaultMode storage_faults);
std::string describe(const BuggifyChoice& choice);

// At the start of a run: when the `buggify` parameter asks for it, draws the choices, notes them
// and installs them. Returns how many sites were enabled.
size_t start_buggify(Scenario& s, const BuggifyOptions& options = {});
// At the liveness phase: no more background actions.
void stop_buggify(Scenario& s);

}  // namespace floe::scenarios
