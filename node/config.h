#pragma once
// One config struct with the defaults of walrus-recovery-spec.md §14. Every value can be
// overridden by a scenario (the simtests' overrides are noted in brackets). Some groups are
// read by code that arrives with later issues (shard sync: issue 4; node recovery: issue 5);
// they are here so that scenarios are written against one complete config.

#include <cstdint>

#include "node/behaviours.h"
#include "sim/time.h"

namespace walrus {

struct BlobRecoveryConfig {
    uint32_t max_concurrent_blob_syncs = 100;     // blob_recovery.max_concurrent_blob_syncs
    uint32_t max_concurrent_sliver_syncs = 2000;  // ... max_concurrent_sliver_syncs
    sim::Duration monitor_interval = sim::Duration::seconds(60);  // [5 s]
    uint32_t max_proof_cache_elements = 7500;
};

struct CommitteeServiceConfig {
    sim::Duration retry_interval_min = sim::Duration::seconds(1);
    sim::Duration retry_interval_max = sim::Duration::seconds(3600);
    sim::Duration metadata_request_timeout = sim::Duration::seconds(5);
    uint32_t max_concurrent_metadata_requests = 1;
    sim::Duration sliver_request_timeout = sim::Duration::seconds(45);
    sim::Duration invalidity_sync_timeout = sim::Duration::seconds(300);
    sim::Duration node_connect_timeout = sim::Duration::seconds(1);
    uint32_t experimental_sliver_recovery_additional_symbols = 0;
};

struct NodeRecoveryConfig {
    uint32_t max_concurrent_blob_syncs_during_recovery = 1000;        // [1-3 in 20% of simtests]
    uint32_t checkpoint_persist_interval = 1000;                      // #3407 only
    sim::Duration retry_backoff_initial = sim::Duration::seconds(1);  // #3407
    sim::Duration retry_backoff_max = sim::Duration::seconds(30);     // #3407
    sim::Duration shard_not_created_backoff_min = sim::Duration::seconds(1);   // #3453
    sim::Duration shard_not_created_backoff_max = sim::Duration::seconds(60);  // #3453
    sim::Duration scan_read_error_backoff_min = sim::Duration::seconds(1);     // HEAD (#3645)
    sim::Duration scan_read_error_backoff_max = sim::Duration::seconds(60);    // HEAD (#3645)
    // Off: as Walrus's msim builds, whose existence checks run inline. On (`--set
    // existence-checks=thread-pool`): as its production builds, where the #3407 pass's check
    // (is_stored_at_specific_shards) waits for a thread pool, so the node can enter catch-up
    // between the pass's status check and its next sync's start (the #2216 race inside node
    // recovery). Each check is then a yield and the async fail point recovery_existence_check_hop.
    bool thread_pool_existence_checks = false;
    // How often the recovery task polls for the first processed event (§9.1 step a).
};

struct ShardSyncConfig {
    uint32_t sliver_count_per_sync_request = 1000;
    uint32_t max_sliver_count_per_sync_request = 100'000;           // server-side cap
    sim::Duration retry_min_backoff = sim::Duration::seconds(60);   // [1 s]
    sim::Duration retry_max_backoff = sim::Duration::seconds(600);  // [3 s]
    sim::Duration retry_switch_to_recovery_interval = sim::Duration::seconds(43'200);
    uint32_t max_concurrent_blob_recovery_during_shard_recovery = 100;
    uint32_t max_concurrent_metadata_fetch = 100;
    uint32_t shard_sync_concurrency = 10;
    bool restart_shard_sync_always_retry_transfer_first = true;
    sim::Duration recovery_round_sleep = sim::Duration::seconds(60);
};

struct EpochChangeConfig {
    sim::Duration finisher_backoff_min = sim::Duration::seconds(10);
    sim::Duration finisher_backoff_max = sim::Duration::minutes(5);
    sim::Duration slow_threshold = sim::Duration::seconds(300);  // warning only
};

// How floe makes the calls Walrus makes in tokio::task::spawn_blocking (MODEL.md X16,
// node/spawn_blocking.h). Walrus's simtests run them as msim does: a task of its own the caller
// awaits (mysten-sim msim/src/sim/task.rs: spawn_blocking is spawn(async move { f() })).
enum class SpawnBlockingModel : uint8_t {
    // In the caller, with no suspension: floe's model until 1 December 2026, which the gate's
    // older swarm seeds keep (`--set spawn-blocking=inline`).
    inline_calls,
    // The blob event processor's two reads with a yield before and after, the rest inline: floe's
    // model of 1 December 2026, which gate seeds found under it keep (`spawn-blocking=events`).
    event_reads,
    // As msim runs them (the default, `spawn-blocking=task`): the blob event processor's two
    // reads, the blob sync's metadata read and write and its sliver existence reads and writes,
    // shard sync's metadata read and write and its recovered slivers' writes, and the RPC
    // handlers' metadata and sliver reads, each run in a task of its own the caller joins.
    tasks,
};

struct EventProcessingConfig {
    uint32_t events_per_poll = 100;                            // events fetched per chain read
    sim::Duration poll_interval = sim::Duration::millis(100);  // when the chain has nothing new
    sim::Duration chain_request_timeout = sim::Duration::seconds(2);
    uint32_t blob_event_workers = 10;  // [3] blob_event_processor_config.num_workers
};

struct ContractServiceConfig {
    // §1.1 node-side epoch_sync_done submission: retry 1 s → 1 h.
    sim::Duration sync_done_backoff_min = sim::Duration::seconds(1);
    sim::Duration sync_done_backoff_max = sim::Duration::seconds(3600);
};

// Walrus GarbageCollectionConfig (node/garbage_collector.rs at fb097a2262). The values are
// default_for_test(), which every simtest uses; production's differ where noted.
struct GarbageCollectionConfig {
    bool enable_blob_info_cleanup = true;        // phase 1; phase 2 needs it too
    bool enable_data_deletion = true;            // phase 2
    bool enable_immediate_data_deletion = true;  // on BlobDeleted [production: false]
    bool enable_random_delay = true;
    // Phase 2 starts at the epoch start plus a delay below min(window, epoch / 2).
    sim::Duration randomization_time_window = sim::Duration::seconds(1);  // [production: epoch/2]
    uint32_t blob_objects_batch_size = 10;  // phase 1 items per write [production: 5000]
    uint32_t data_deletion_batch_size = 5;  // phase 2 items between yields [production: 2000]
};

struct NodeConfig {
    BlobRecoveryConfig blob_recovery;
    CommitteeServiceConfig committee;
    NodeRecoveryConfig node_recovery;
    ShardSyncConfig shard_sync;
    EpochChangeConfig epoch_change;
    EventProcessingConfig events;
    ContractServiceConfig contract;
    GarbageCollectionConfig garbage_collection;
    sim::Duration blob_sync_db_error_retry = sim::Duration::zero();  // 30 s; 0 s in msim (§14)
    // A storage node whose database returns an I/O error stops (Walrus panics or returns the
    // error from StorageNode::run and the process exits: docs/design/issue16-walrus-storage-
    // errors.md); the operator's supervisor (systemd) starts it again after this long.
    sim::Duration restart_after_exit = sim::Duration::seconds(10);
    // Walrus's SUI_DB_SYNC_TO_DISK (typed-store ReadWriteOptions, off by default): fsync the WAL
    // on every write (StoreOptions::sync_writes).
    bool sync_writes = false;
    // A simulation economy, not a Walrus behaviour (off: as Walrus): create the column families of
    // all the shards one epoch change adds in one RocksDB call (StoreOptions::
    // batch_column_families). It saves the OPTIONS rewrites that make shard-heavy shapes slow and
    // gives up the crash points and disk operations between those column families. mainnet-shape
    // turns it on; `--set column-families=batched` does anywhere.
    bool batch_column_families = false;
    // A simulation economy (off: as Walrus): store a blob's metadata, when it is the one its id
    // and shard count give (every blob's but a malicious writer's), as 40 bytes that stand for
    // it (BlobMetadata::encode_compact) instead of Walrus's 16 bytes a shard. Every node stores
    // every blob's metadata: at 1,000 shards and 100 nodes that is 1.6 MB a blob, twice over
    // (WAL and memtable). It changes the bytes on disk, so flush and compaction timing and what
    // a power loss can lose. mainnet-shape turns it on; `--set metadata=compact` does anywhere.
    bool compact_metadata = false;
    // A simulation economy (off: as Walrus): answer "is this sliver stored here?" from an
    // in-memory index of the node's sliver keys (StoreOptions::index_sliver_keys, node/store/
    // key_index.h) instead of a RocksDB read. Walrus reads; at mainnet's shape those reads, about
    // 10,000 a blob across the cluster, are half of a run. The answers are the same (the index is
    // exact), but the reads' disk operations and their faults are gone, and the scan that fills
    // the index at every open adds some. mainnet-shape turns it on; `--set
    // sliver-existence=indexed` does anywhere.
    bool index_sliver_existence = false;
    SpawnBlockingModel spawn_blocking = SpawnBlockingModel::tasks;
    Behaviours old;  // all off: the behaviour of #3407 + #3464
};

}  // namespace walrus
