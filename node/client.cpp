#include "node/client.h"

#include <fmt/format.h>

#include <algorithm>

namespace walrus {

Client::Client(sim::Runtime& rt, Directory directory, uint32_t n_shards, ClientConfig config,
               OnFailure on_failure)
    : rt_(rt),
      directory_(std::move(directory)),
      n_shards_(n_shards),
      config_(config),
      on_failure_(std::move(on_failure)) {}

void Client::fail(const std::string& what, const char* file, int line) {
    on_failure_(fmt::format("client operation failed at {}: {}", rt_.now().to_string(), what), file,
                line);
}

void Client::run() {
    sim::Rng& rng = rt_.rng("client-ops");
    while (true) {
        if (!write_blob()) {
            return;
        }
        if (!blobs_.empty() && rng.bernoulli(0.5)) {
            // Read back an older blob that should still be certified.
            const WrittenBlob& old = blobs_[rng.below(blobs_.size())];
            auto object =
                chain_op(BlobOp{BlobOp::Kind::object, old.blob_id, old.object_id, false, 0},
                         rt_.now() + config_.op_deadline);
            if (!object.has_value()) {
                return;
            }
            const bool live = object->object.has_value() && object->object->certified_epoch &&
                              object->object->end_epoch > object->chain_epoch + 1;
            if (live && !read_blob(old.blob_id, object->object->end_epoch,
                                   rt_.now() + config_.op_deadline)) {
                return;
            }
        }
        if (!extend_or_delete()) {
            return;
        }
        rt_.sleep(config_.pace);
    }
}

std::optional<BlobOpReply> Client::chain_op(const BlobOp& op, sim::Instant deadline) {
    while (rt_.now() < deadline) {
        auto reply =
            rt_.call<BlobOpReply>(directory_.chain, method::blob_op, op, config_.request_timeout);
        if (reply.ok()) {
            return std::move(reply).value();
        }
        ++stats_.retries;
        rt_.sleep(sim::Duration::millis(100));
    }
    fail("the chain did not answer");
    return std::nullopt;
}

std::optional<Committee> Client::latest_committee(sim::Instant deadline) {
    while (rt_.now() < deadline) {
        auto reply = rt_.call<CommitteesReply>(directory_.chain, method::committees,
                                               CommitteesRequest{0}, config_.request_timeout);
        if (reply.ok() && reply.value().committee.has_value()) {
            return reply.value().committee;
        }
        rt_.sleep(sim::Duration::millis(100));
    }
    fail("no committee from the chain");
    return std::nullopt;
}

// Register, store on a quorum, certify, read back. Racing an epoch change is expected: a
// registration whose end epoch the chain has just reached, or an object that expired before it
// was certified, is registered again (a retry, not a failure).
bool Client::write_blob() {
    sim::Rng& rng = rt_.rng("client-blobs");
    const bool invalid = config_.invalid_share > 0.0 && rng.bernoulli(config_.invalid_share);
    // An invalid write gives up sooner: its pair's owner never confirms, and with too many
    // shards there no quorum ever forms.
    constexpr sim::Duration invalid_write_deadline = sim::Duration::seconds(30);
    const sim::Instant deadline =
        rt_.now() +
        (invalid ? std::min(config_.op_deadline, invalid_write_deadline) : config_.op_deadline);
    const BlobId blob = invalid ? BlobId::with_inconsistent_encoding(rng.next_u64())
                                : BlobId::from_u64(rng.next_u64());
    const bool deletable = rng.bernoulli(config_.deletable_share);
    const Epoch lifetime = 2 + static_cast<Epoch>(rng.below(config_.max_lifetime));
    const BlobMetadata metadata = BlobMetadata::compute(blob, n_shards_);
    std::optional<uint64_t> object_id;
    Epoch end_epoch = 0;
    while (rt_.now() < deadline) {
        auto committee = latest_committee(deadline);
        if (!committee.has_value()) {
            return false;
        }
        if (!object_id.has_value()) {
            end_epoch = committee->epoch + lifetime;
            auto registered = chain_op(
                BlobOp{BlobOp::Kind::register_blob, blob, 0, deletable, end_epoch}, deadline);
            if (!registered.has_value()) {
                return false;
            }
            if (registered->error == BlobError::bad_end_epoch) {
                ++stats_.retries;
                continue;
            }
            if (registered->error.has_value()) {
                fail(fmt::format("register {}: {}", blob.short_hex(),
                                 blob_error_name(*registered->error)));
                return false;
            }
            object_id = registered->object_id;
        }
        if (!store_on_committee(metadata, *committee, deadline)) {
            continue;  // the committee moved on: ask again, keep the object
        }
        auto certified =
            chain_op(BlobOp{BlobOp::Kind::certify, blob, *object_id, deletable, 0}, deadline);
        if (!certified.has_value()) {
            return false;
        }
        if (certified->error == BlobError::expired) {
            ++stats_.retries;
            object_id.reset();  // register again
            continue;
        }
        if (certified->error.has_value()) {
            fail(fmt::format("certify {}: {}", blob.short_hex(),
                             blob_error_name(*certified->error)));
            return false;
        }
        if (invalid) {
            ++stats_.invalid_written;  // not read back: the nodes will drop it
            rt_.mark(fmt::format("client: certified inconsistent blob {}", blob.short_hex()));
            return true;
        }
        ++stats_.written;
        blobs_.push_back(WrittenBlob{blob, *object_id, deletable, end_epoch, false});
        return read_blob(blob, end_epoch, deadline);
    }
    if (invalid) {
        ++stats_.invalid_dropped;
        return true;
    }
    fail(fmt::format("store {}: no quorum of shards confirmed before the deadline",
                     blob.short_hex()));
    return false;
}

// Stores each member's slivers on it, in parallel; succeeds once members holding a quorum of
// shards confirmed. A member that has not processed the registration yet is asked again.
bool Client::store_on_committee(const BlobMetadata& metadata, const Committee& committee,
                                sim::Instant deadline) {
    uint32_t confirmed = 0;
    bool stale = false;  // a member no longer owns its shards: the committee moved on
    sim::Event quorum("store-quorum");
    std::vector<sim::JoinHandle<sim::Unit>> stores;
    for (const CommitteeMember& member : committee.members) {
        StoreBlobRequest request;
        request.metadata = metadata;
        for (ShardIndex shard : member.shards) {
            const uint32_t pair = pair_index(shard, n_shards_, metadata.blob_id);
            request.slivers.push_back(
                {shard, encode_sliver(metadata.blob_id, pair, SliverType::primary),
                 encode_sliver(metadata.blob_id, pair, SliverType::secondary)});
        }
        const sim::HostId host = directory_.nodes[member.node];
        const auto weight = static_cast<uint32_t>(member.shards.size());
        stores.push_back(rt_.spawn(
            "store", [this, host, weight, request, deadline, &confirmed, &quorum, &stale] {
                while (rt_.now() < deadline) {
                    auto reply = rt_.call<StoreBlobReply>(host, method::store_blob, request,
                                                          config_.request_timeout);
                    if (reply.ok() && reply.value().error == StoreBlobError::bad_sliver) {
                        return;  // an inconsistent blob's pair: this member never confirms
                    }
                    if (reply.ok() && reply.value().error == StoreBlobError::not_owner) {
                        stale = true;
                        quorum.set();  // wake the waiter: it re-reads the committee
                        return;
                    }
                    if (reply.ok() && !reply.value().error.has_value()) {
                        confirmed += weight;
                        if (is_quorum(confirmed, n_shards_)) {
                            quorum.set();
                        }
                        return;
                    }
                    ++stats_.retries;
                    rt_.sleep(sim::Duration::millis(200));
                }
            }));
    }
    const bool reached =
        quorum.wait(deadline - rt_.now()) && !stale && is_quorum(confirmed, n_shards_);
    for (auto& store : stores) {
        store.abort();  // members still missing will get the blob by blob sync
    }
    return reached;
}

// Reads n - 2f distinct primary slivers that verify against the metadata (§1 source symbols).
bool Client::read_blob(const BlobId& blob, Epoch end_epoch, sim::Instant deadline) {
    const BlobMetadata metadata = BlobMetadata::compute(blob, n_shards_);
    const uint32_t needed = EncodingParams{n_shards_}.primary_source_symbols();
    while (rt_.now() < deadline) {
        auto committee = latest_committee(deadline);
        if (!committee.has_value()) {
            return false;
        }
        if (committee->epoch >= end_epoch) {
            // A blob certified in the last epoch of its lifetime expires at the next epoch
            // change, and garbage collection deletes its slivers everywhere (swarm 12217 with
            // buggify=on, issue 19: certified 10 ms before epoch 5, end epoch 5, then read for
            // 120 s and found nowhere). Not a failure: nothing promises an expired blob.
            ++stats_.expired_while_read;
            rt_.mark(fmt::format("client: {} expired while being read", blob.short_hex()));
            return true;
        }
        uint32_t verified = 0;
        for (const CommitteeMember& member : committee->members) {
            for (ShardIndex shard : member.shards) {
                if (verified >= needed) {
                    break;
                }
                auto reply = rt_.call<std::optional<Sliver>>(
                    directory_.nodes[member.node], method::get_sliver,
                    GetSliver{blob, shard, SliverType::primary}, config_.request_timeout);
                if (!reply.ok()) {
                    break;  // the node is down or slow: try the next one
                }
                if (reply.value().has_value() && metadata.verifies(*reply.value())) {
                    ++verified;
                }
            }
        }
        if (verified >= needed) {
            ++stats_.read;
            return true;
        }
        ++stats_.retries;
        rt_.sleep(sim::Duration::millis(500));
    }
    fail(fmt::format("read {}: fewer than {} verified slivers", blob.short_hex(), needed));
    return false;
}

bool Client::extend_or_delete() {
    sim::Rng& rng = rt_.rng("client-ops");
    if (blobs_.empty()) {
        return true;
    }
    WrittenBlob& blob = blobs_[rng.below(blobs_.size())];
    if (blob.deleted) {
        return true;
    }
    const sim::Instant deadline = rt_.now() + config_.op_deadline;
    if (blob.deletable && rng.bernoulli(config_.delete_probability)) {
        auto reply =
            chain_op(BlobOp{BlobOp::Kind::remove, blob.blob_id, blob.object_id, true, 0}, deadline);
        if (!reply.has_value()) {
            return false;
        }
        blob.deleted = !reply->error.has_value();
        stats_.deleted += blob.deleted ? 1 : 0;
    } else if (!blob.deletable && rng.bernoulli(config_.extend_probability)) {
        const Epoch new_end = blob.end_epoch + 1 + static_cast<Epoch>(rng.below(3));
        auto reply = chain_op(
            BlobOp{BlobOp::Kind::extend, blob.blob_id, blob.object_id, false, new_end}, deadline);
        if (!reply.has_value()) {
            return false;
        }
        if (!reply->error.has_value()) {
            blob.end_epoch = new_end;
            ++stats_.extended;
        }
    }
    return true;
}

}  // namespace walrus
