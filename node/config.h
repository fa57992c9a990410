#pragma once
// One config struct with the defaults of walrus-recovery-spec.md §14. Every value can be
// overridden by a scenario. Durations are virtual time.

#include <cstdint>

#include "sim/time.h"

namespace walrus {

struct BlobRecoveryConfig {
    uint32_t max_concurrent_blob_syncs = 100;     // §14 blob_recovery.max_concurrent_blob_syncs
    uint32_t max_concurrent_sliver_syncs = 2000;  // §14 ... max_concurrent_sliver_syncs
    sim::Duration monitor_interval = sim::Duration::seconds(60);
};

struct CommitteeServiceConfig {
    sim::Duration retry_interval_min = sim::Duration::seconds(1);
    sim::Duration retry_interval_max = sim::Duration::seconds(3600);
    sim::Duration metadata_request_timeout = sim::Duration::seconds(5);
    sim::Duration sliver_request_timeout = sim::Duration::seconds(45);
    sim::Duration node_connect_timeout = sim::Duration::seconds(1);
};

struct EventProcessingConfig {
    uint32_t events_per_poll = 100;                            // events fetched per chain read
    sim::Duration poll_interval = sim::Duration::millis(100);  // when the chain has nothing new
    sim::Duration chain_request_timeout = sim::Duration::seconds(2);
};

struct ContractServiceConfig {
    // §1.1 node-side epoch_sync_done submission: retry 1 s → 1 h.
    sim::Duration sync_done_backoff_min = sim::Duration::seconds(1);
    sim::Duration sync_done_backoff_max = sim::Duration::seconds(3600);
};

struct NodeConfig {
    BlobRecoveryConfig blob_recovery;
    CommitteeServiceConfig committee;
    EventProcessingConfig events;
    ContractServiceConfig contract;
    sim::Duration blob_sync_db_error_retry = sim::Duration::zero();  // 30 s; 0 s in msim (§14)
};

}  // namespace walrus
