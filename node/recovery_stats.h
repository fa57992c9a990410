#pragma once
// Counters of node recovery (walrus-recovery-spec.md §9), kept per incarnation and reported in
// the health info.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/time.h"

namespace walrus {

// Counters of this incarnation, for health info and tests.
struct NodeRecoveryStats {
    uint64_t tasks_started = 0;
    uint64_t passes = 0;
    uint64_t blobs_scanned = 0;
    uint64_t syncs_started = 0;
    uint64_t retries = 0;
    uint64_t readiness_waits = 0;        // sleeps because an owned shard did not exist yet
    uint64_t resumed = 0;                // passes that resumed from a checkpoint
    uint64_t checkpoints_discarded = 0;  // the owned shards had changed (invariant 20)
    uint64_t checkpoints_persisted = 0;
    uint64_t completed = 0;  // T8
    // The first retries of Cancelled-but-needed syncs, in the order scheduled; scenarios check
    // the 1, 2, 4 ... 30 s backoff per blob. The backoff lives in one pass (§9.3), so a retry
    // carries its pass: a blob's delays start again from 1 s only in a new pass.
    struct RetryDelay {
        std::string blob;  // short hex
        sim::Duration delay;
        uint64_t pass = 0;  // `passes` when it was scheduled
    };
    static constexpr size_t max_retry_delays = 64;
    std::vector<RetryDelay> retry_delays;
};

}  // namespace walrus
