#include "node/chain_service.h"

#include <fmt/format.h>

#include <algorithm>

namespace walrus {

ChainService::ChainService(ChainConfig config, std::vector<uint64_t> initial_stakes)
    : chain_(config, std::move(initial_stakes)) {}

void ChainService::add_stake(NodeIndex node, uint64_t amount) {
    chain_.add_stake(node, amount);
    changed_.notify_all();
}

void ChainService::withdraw_stake(NodeIndex node, uint64_t amount) {
    chain_.withdraw_stake(node, amount);
    changed_.notify_all();
}

void ChainService::boot(sim::Runtime& rt) {
    rt.serve<ReadEvents, std::vector<ChainEvent>>(
        method::read_events, [this](sim::HostId, ReadEvents request) {
            const auto& events = chain_.events();
            std::vector<ChainEvent> out;
            for (EventIndex i = request.from; i < events.size() && out.size() < request.max; ++i) {
                out.push_back(events[i]);
            }
            return out;
        });
    rt.serve<CommitteesRequest, CommitteesReply>(
        method::committees, [this](sim::HostId, CommitteesRequest request) {
            const Epoch epoch = request.epoch == 0 ? chain_.current_epoch() : request.epoch;
            const bool transitioning = chain_.state() == walrus::EpochState::change_sync;
            return CommitteesReply{
                chain_.current_epoch(), transitioning, chain_.committee_at(epoch),
                transitioning ? std::nullopt
                              : std::optional<sim::Instant>(chain_.epoch_change_done_time())};
        });
    rt.serve<SyncDoneRequest, SyncDoneReply>(
        method::sync_done, [this, &rt](sim::HostId, SyncDoneRequest request) {
            auto result = chain_.epoch_sync_done(request.node, request.epoch, rt.now());
            changed_.notify_all();
            SyncDoneReply reply{std::nullopt, chain_.current_epoch()};
            if (!result.ok()) {
                reply.error = result.error();
                if (result.error() == SyncDoneError::duplicate_sync_done) {
                    ++duplicates_[{request.epoch, request.node}];
                }
            }
            return reply;
        });
    rt.serve<BlobOp, BlobOpReply>(method::blob_op,
                                  [this](sim::HostId, BlobOp op) { return blob_op(op); });
    drive(rt);
}

// Sleeps until the next time-driven transition is due, or until an attestation or a stake move
// may have changed what is due.
void ChainService::drive(sim::Runtime& rt) {
    std::optional<std::pair<Epoch, EpochState>> reported;
    while (true) {
        chain_.advance_time(rt.now());
        report_epoch(rt, reported);
        const sim::Instant deadline = chain_.next_deadline();
        const sim::Duration wait =
            deadline.is_never() ? sim::Duration::forever() : deadline - rt.now();
        (void)changed_.wait(std::max(wait, sim::Duration::zero()));
    }
}

// The epoch and its phase as named states, for the timeline (epoch boundaries, §1.1 phases).
// Every change wakes the drive loop (time or `changed_`), so it is seen at the instant it
// happens.
void ChainService::report_epoch(sim::Runtime& rt,
                                std::optional<std::pair<Epoch, EpochState>>& reported) {
    const std::pair<Epoch, EpochState> now{chain_.current_epoch(), chain_.state()};
    if (!reported.has_value() || reported->first != now.first) {
        rt.state("epoch", fmt::format("{}", now.first));
    }
    if (!reported.has_value() || *reported != now) {
        rt.state("epoch-state", epoch_state_name(now.second));
    }
    reported = now;
}

BlobOpReply ChainService::blob_op(const BlobOp& op) {
    BlobOpReply reply;
    auto fill_error = [&](const auto& result) {
        if (!result.ok()) {
            reply.error = result.error();
        }
    };
    switch (op.kind) {
        case BlobOp::Kind::register_blob: {
            auto result = chain_.register_blob(op.blob_id, op.deletable, op.end_epoch);
            if (result.ok()) {
                reply.object_id = result.value();
            }
            fill_error(result);
            break;
        }
        case BlobOp::Kind::certify: fill_error(chain_.certify_blob(op.object_id)); break;
        case BlobOp::Kind::extend:
            fill_error(chain_.extend_blob(op.object_id, op.end_epoch));
            break;
        case BlobOp::Kind::remove: fill_error(chain_.delete_blob(op.object_id)); break;
        case BlobOp::Kind::object: break;
        case BlobOp::Kind::invalidate:
            fill_error(chain_.invalidate_blob(op.blob_id, op.cert_epoch, op.cert_weight));
            break;
    }
    reply.chain_epoch = chain_.current_epoch();
    reply.object = chain_.object(op.object_id != 0 ? op.object_id : reply.object_id);
    return reply;
}

const char* sync_shard_error_name(SyncShardError error) {
    switch (error) {
        case SyncShardError::invalid_epoch: return "invalid_epoch";
        case SyncShardError::unauthorized: return "unauthorized";
        case SyncShardError::too_many_slivers: return "too_many_slivers";
        case SyncShardError::shard_not_assigned: return "shard_not_assigned";
        case SyncShardError::injected: return "injected";
        case SyncShardError::storage: return "storage";
    }
    FLOE_UNREACHABLE();
}

const char* store_blob_error_name(StoreBlobError error) {
    switch (error) {
        case StoreBlobError::not_registered: return "not_registered";
        case StoreBlobError::invalid_blob: return "invalid_blob";
        case StoreBlobError::bad_sliver: return "bad_sliver";
        case StoreBlobError::not_owner: return "not_owner";
        case StoreBlobError::storage: return "storage";
    }
    FLOE_UNREACHABLE();
}

}  // namespace walrus
