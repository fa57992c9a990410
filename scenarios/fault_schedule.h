#pragma once
// A run's fault schedule: every fault the scenario injected, in order, with its virtual time and
// parameters, as a JSON file. `floe run --record-faults FILE` writes it; `floe run --faults FILE`
// replays a run from it (the seed still drives everything else); `floe shrink` cuts it down.
//
// Replay has two forms. The swarm plays the file: its fault driver draws and injects nothing,
// and each event is issued again at its time through the same code. A scripted scenario keeps
// its script, and a fault verb whose ordinal is not in the file does nothing (its parameters,
// such as a down time, come from the file). In both, the fail-point swarm installs only the
// choices the file lists.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/time.h"

namespace floe::scenarios {

struct FaultEvent {
    uint64_t id = 0;   // its ordinal among the run's faults (scripted replay keys on it)
    sim::Instant at;   // when it was injected
    std::string kind;  // "crash", "partition", "buggify", ... (see fault_schedule.cpp)
    std::optional<uint32_t> node;
    sim::Duration down;      // restart delay
    sim::Duration length;    // how long a network fault lasts
    bool tear = false;       // a power loss keeps torn tails
    uint64_t nth = 0;        // power_loss_at_wal_write: the write
    std::string point;       // io_error: the fs-* point; buggify: the site
    uint64_t amount = 0;     // stake, withdraw
    double loss = 0;         // degrade
    sim::Duration latency;   // degrade: the upper bound (0 = unchanged)
    std::string action;      // buggify: crash | error | delay | hold
    double p = 0;            // buggify: per-hit probability
    uint64_t max_fires = 0;  // buggify
    // Not a fault of its own: the end of a network fault, always replayed (never shrunk away).
    bool structural() const { return kind == "heal"; }
};

struct FaultSchedule {
    std::string scenario;
    uint64_t seed = 0;
    std::vector<FaultEvent> events;
    // Faults by kind, structural events left out ("crash 2, partition 1").
    std::string counts() const;
    size_t fault_count() const;
};

// "" when written; else a one-line error.
std::string write_schedule(const FaultSchedule& schedule, const std::string& path);
// A one-line error ("FILE: ...") in `error` when the file is missing or malformed.
std::optional<FaultSchedule> read_schedule(const std::string& path, std::string& error);

}  // namespace floe::scenarios
