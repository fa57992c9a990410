#include "node/storage_node.h"

#include "node/chain/events.h"
#include "node/must.h"
#include "node/overloaded.h"
#include "node/sites.h"

namespace walrus {

void run_storage_node(sim::Runtime& rt, const NodeContext& context) {
    FLOE_ASSERT(context.disk != nullptr, "node {} has no disk", context.index);
    StoreOptions options;
    options.sync_writes = context.config.sync_writes;
    options.batch_column_families = context.config.batch_column_families;
    options.index_sliver_keys = context.config.index_sliver_existence;
    const sim::Duration restart_after = context.config.restart_after_exit;
    options.on_io_error = [&rt, restart_after](const std::string& what) {
        FLOE_REACHABLE(rt, site::node_exits_on_io_error);
        rt.exit_process(fmt::format("database I/O error ({})", what), restart_after);
    };
    auto store = NodeStore::open(rt, *context.disk, options);
    // A disk that lied about an fsync can leave a database RocksDB calls corrupt (a table the
    // MANIFEST names, lost): the node cannot start, and its supervisor keeps trying, as Walrus's
    // would. Without a lie, a corrupt database is a bug of the simulated disk.
    if (!store.ok() && store.error() == StoreError::corrupt && context.disk->faults().lies() > 0) {
        rt.exit_process("database corrupt after a lying fsync", restart_after);
    }
    FLOE_ASSERT(store.ok(), "node {} cannot open its database: {}", context.index,
                store_error_name(store.error()));
    StorageNode node(rt, context, std::move(store).value());
    node.run();
}

namespace {

// The node's storage with its planted bugs and simulation economies.
NodeStorage configured(std::unique_ptr<NodeStore> store, const NodeConfig& config) {
    const Behaviours& old = config.old;
    NodeStorage storage(std::move(store));
    if (old.unlogged_sliver_writes) {
        storage.plant_unlogged_sliver_writes();
    }
    if (config.compact_metadata) {
        storage.store_metadata_compactly();
    }
    return storage;
}

}  // namespace

StorageNode::StorageNode(sim::Runtime& rt, const NodeContext& context,
                         std::unique_ptr<NodeStore> store)
    : rt_(rt),
      context_(context),
      storage_(configured(std::move(store), context.config)),
      sequencer_(storage_.event_cursor()),
      complete_fn_([this](EventIndex index) { complete_event(index); }),
      committees_(rt, context_),
      attester_(rt, context_, committees_, storage_),
      blob_recovery_(rt, context_, storage_, committees_),
      shard_sync_(rt, storage_, committees_, blob_recovery_, attester_, context.index,
                  context.n_shards, context.directory, context.config.shard_sync,
                  context.config.old, context.config.spawn_blocking),
      recovery_(rt, storage_, blob_recovery_.syncs(), shard_sync_, committees_, attester_,
                context.config.node_recovery, context.config.old),
      gc_(rt, storage_, context.index, context.config.garbage_collection),
      blob_events_(rt, storage_, committees_, blob_recovery_.syncs(), gc_,
                   context.config.events.blob_event_workers, context.config.spawn_blocking),
      epoch_change_(rt, context_,
                    EpochChange::Parts{storage_, committees_, attester_, blob_recovery_.syncs(),
                                       shard_sync_, recovery_, blob_events_, gc_}),
      rpc_(rt, context_,
           RpcHandlerParts{storage_, committees_, blob_recovery_.syncs(), shard_sync_, recovery_,
                           blob_events_, epoch_change_.consistency_reports(),
                           blob_recovery_.blob_sync_inconsistency_proofs()}) {}

StorageNode::~StorageNode() {
    // Our fibers borrow this object; the kernel unwinds them (newest first) before the frame
    // that owns the node, so none is left here.
    for (auto& task : tasks_) {
        task.abort();
    }
}

void StorageNode::run() {
    rpc_.serve();
    // §8.6 startup order: shard syncs resume from their persisted progress before any event.
    // §2.2 step 1: start at the latest on-chain committee.
    (void)committees_.current_committee_epoch();
    shard_sync_.restart_syncs();
    recovery_.restart_recovery();  // §2.2 item 7 (#2291): the task waits for the first event
    // check_and_start_garbage_collection_on_startup, before the event loop.
    if (const Epoch chain_epoch = committees_.tracked_epoch(); gc_.must_resume(chain_epoch)) {
        gc_.resume_at_startup(chain_epoch, committees_.epoch_start(chain_epoch));
    }
    tasks_.push_back(rt_.spawn("events", [this] { event_loop(); }));
    tasks_.push_back(rt_.spawn("blob-sync-monitor", [this] { blob_recovery_.monitor_loop(); }));
    tasks_.push_back(rt_.spawn("attester", [this] { attester_.attester_loop(); }));
    for (auto& task : tasks_) {
        (void)task.join();
    }
}

// --- events --------------------------------------------------------------------------------------

void StorageNode::event_loop() {
    event_task_ = rt_.current_task();
    // Invariant 2: Active is entered only by recovery completion (T8) and metadata recovery
    // (T10), never by the epoch-change handler, which runs on this task.
    storage_.set_status_write_check([this](const NodeStatus& next) {
        FLOE_ASSERT(!next.is_active() || rt_.current_task() != event_task_,
                    "node {}: the event-processing task sets the node Active (invariant 2: only "
                    "T8 and T10 may)",
                    context_.index);
    });
    // Replay everything after the persisted cursor; §11 storage_node_initial_cursor
    // (get_storage_node_cursor in msim builds) lets a test start elsewhere.
    EventIndex next = storage_.event_cursor();
    if (const auto args = rt_.fail_point_arg(site::storage_node_initial_cursor);
        args.has_value() && !args->empty()) {
        next = (*args)[0];
        sequencer_ = EventSequencer(next);
    }
    while (true) {
        std::vector<ChainEvent> events = read_events(next);
        if (events.empty()) {
            rt_.sleep(context_.config.events.poll_interval);
            continue;
        }
        for (const ChainEvent& event : events) {
            FLOE_ASSERT(event.index == next, "event {} arrived while expecting {}", event.index,
                        next);
            (void)rt_.fail_point(site::process_event_before);
            process_event(event);
            (void)rt_.fail_point(site::process_event_after);
            ++next;
        }
    }
}

std::vector<ChainEvent> StorageNode::read_events(EventIndex from) {
    auto reply =
        rt_.call<std::vector<ChainEvent>>(context_.directory.chain, method::read_events,
                                          ReadEvents{from, context_.config.events.events_per_poll},
                                          context_.config.events.chain_request_timeout);
    return reply.ok() ? std::move(reply).value() : std::vector<ChainEvent>{};
}

void StorageNode::complete_event(EventIndex index) {
    if (!sequencer_.complete(index)) {
        return;
    }
    (void)rt_.fail_point(site::write_event_before);
    must(storage_.set_event_cursor(sequencer_.cursor()), "persist event cursor");
    (void)rt_.fail_point(site::write_event_after);
}

void StorageNode::process_event(const ChainEvent& event) {
    (void)rt_.fail_point(site::fail_point_process_event);  // §11: first crash of restart tests
    (void)rt_.fail_point_async(site::before_process_event_impl);  // §11: slow event processing
    EventHandle handle(event.index, &complete_fn_);
    // ContractEvent::event_epoch: a blob extension carries none (BlobEvent::event_epoch of
    // Certified{is_extension}), so the lag check and the startup event epoch wait for the next
    // event that does (X12).
    const auto* certified = std::get_if<BlobCertified>(&event.body);
    if (certified == nullptr || !certified->is_extension) {
        check_if_lagging(event.epoch);
        if (!committees_.event_epoch().has_value() &&
            !std::holds_alternative<EpochChangeStart>(event.body)) {
            // §5: at startup, the first non-EpochChangeStart event.
            committees_.set_event_epoch(event.epoch);
        }
    }
    std::visit(Overloaded{
                   [&](const EpochChangeStart& start) {
                       epoch_change_.process_epoch_change_start(event, start.epoch,
                                                                std::move(handle));
                   },
                   [&](const EpochParametersSelected&) { handle.complete(); },
                   [&](const EpochChangeDone& done) {
                       // end_committee_change: the transition to the tracked epoch is over; an
                       // older one (a backlog) changes nothing.
                       committees_.end_committee_change(done.epoch);
                       handle.complete();
                   },
                   [&](const ShardsReceived&) { handle.complete(); },
                   [&](const auto&) { blob_events_.process_blob_event(event, std::move(handle)); },
               },
               event.body);
}

// §2.2 item 2: on the first event of an incarnation, a node that missed two or more epoch
// changes no longer knows the shard assignment of its event epoch: it catches up (T3 a).
void StorageNode::check_if_lagging(Epoch event_epoch) {
    if (lag_checked_) {
        return;
    }
    lag_checked_ = true;
    // §11 event_processing_epoch_check (node.rs process_events): a test's epoch in place of the
    // first event's.
    Epoch epoch_at_start = event_epoch;
    if (const auto args = rt_.fail_point_arg(site::event_processing_epoch_check);
        args.has_value() && !args->empty()) {
        epoch_at_start = (*args)[0];
    }
    if (epoch_at_start + 1 < committees_.current_committee_epoch() &&
        !storage_.status().is_catching_up()) {
        FLOE_REACHABLE(rt_, site::lag_check_sends_node_to_catch_up);
        epoch_change_.enter_recovery_mode();
    }
}

}  // namespace walrus
