#include "scenarios/blob_truth.h"

#include <type_traits>
#include <variant>

#include "sim/assert.h"

namespace floe::scenarios {

using walrus::BlobId;
using walrus::Epoch;

BlobTruth BlobTruth::from_events(const std::vector<walrus::ChainEvent>& events,
                                 std::optional<Epoch> until) {
    BlobTruth truth;
    for (const walrus::ChainEvent& event : events) {
        if (const auto* start = std::get_if<walrus::EpochChangeStart>(&event.body);
            start != nullptr && until.has_value() && start->epoch == *until) {
            break;
        }
        truth.apply(event);
    }
    return truth;
}

void BlobTruth::apply(const walrus::ChainEvent& event) {
    std::visit(
        [&](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, walrus::BlobRegistered>) {
                FLOE_ASSERT(!live_.contains(body.object_id), "object {} registered twice",
                            body.object_id);
                live_[body.object_id] = Object{body.blob_id, body.end_epoch, false};
                by_blob_[body.blob_id].insert(body.object_id);
                known_.insert(body.blob_id);
            } else if constexpr (std::is_same_v<T, walrus::BlobCertified>) {
                auto it = live_.find(body.object_id);
                FLOE_ASSERT(it != live_.end(), "certified object {} is not live", body.object_id);
                it->second.certified = true;
                it->second.end_epoch = body.end_epoch;  // an extension moves the end
            } else if constexpr (std::is_same_v<T, walrus::BlobDeleted>) {
                FLOE_ASSERT(live_.erase(body.object_id) == 1, "deleted object {} is not live",
                            body.object_id);
                by_blob_[body.blob_id].erase(body.object_id);
            } else if constexpr (std::is_same_v<T, walrus::InvalidBlobId>) {
                invalid_.insert(body.blob_id);
            }
        },
        event.body);
}

template <class Pred>
bool BlobTruth::any_live_object(const BlobId& blob, Pred pred) const {
    if (invalid_.contains(blob)) {
        return false;
    }
    const auto objects = by_blob_.find(blob);
    if (objects == by_blob_.end()) {
        return false;
    }
    for (uint64_t id : objects->second) {
        if (pred(live_.at(id))) {
            return true;
        }
    }
    return false;
}

bool BlobTruth::certified_at(const BlobId& blob, Epoch e) const {
    return any_live_object(blob, [e](const Object& o) { return o.certified && o.end_epoch > e; });
}

bool BlobTruth::registered_at(const BlobId& blob, Epoch e) const {
    return any_live_object(blob, [e](const Object& o) { return o.end_epoch > e; });
}

std::vector<BlobId> BlobTruth::certified_blobs(Epoch e) const {
    std::vector<BlobId> out;
    for (const BlobId& blob : known_) {
        if (certified_at(blob, e)) {
            out.push_back(blob);
        }
    }
    return out;
}

std::vector<BlobId> BlobTruth::known_blobs() const {
    return {known_.begin(), known_.end()};
}

namespace {

struct ReplayedObject {
    BlobId blob;
    bool deletable = false;
    Epoch end_epoch = 0;
    bool certified = false;
};

class NodeViewReplay {
public:
    explicit NodeViewReplay(bool gc_phase1) : gc_phase1_(gc_phase1) {}

    void epoch_start(Epoch epoch) {
        if (!gc_phase1_ || epoch <= 1) {
            return;
        }
        for (auto it = objects_.begin(); it != objects_.end();) {
            if (it->second.end_epoch > epoch) {
                ++it;
                continue;
            }
            infos_[it->second.blob].apply(
                walrus::BlobInfoMergeOperand::expire(it->second.deletable, it->second.certified));
            it = objects_.erase(it);
        }
    }

    void apply(const walrus::ChainEvent& event) {
        using Op = walrus::BlobInfoMergeOperand;
        std::visit(
            [&](const auto& body) {
                using T = std::decay_t<decltype(body)>;
                if constexpr (std::is_same_v<T, walrus::BlobRegistered>) {
                    infos_[body.blob_id].apply(Op::register_blob(body.deletable, body.end_epoch));
                    objects_[body.object_id] =
                        ReplayedObject{body.blob_id, body.deletable, body.end_epoch, false};
                } else if constexpr (std::is_same_v<T, walrus::BlobCertified>) {
                    infos_[body.blob_id].apply(Op::certify(body.certified_epoch, body.deletable,
                                                           body.end_epoch, body.is_extension,
                                                           event.index));
                    ReplayedObject& object = objects_.at(body.object_id);
                    object.certified = true;
                    object.end_epoch = body.end_epoch;
                } else if constexpr (std::is_same_v<T, walrus::BlobDeleted>) {
                    infos_[body.blob_id].apply(Op::delete_blob(body.was_certified));
                    objects_.erase(body.object_id);
                } else if constexpr (std::is_same_v<T, walrus::InvalidBlobId>) {
                    infos_[body.blob_id].apply(Op::mark_invalid(event.epoch));
                }
            },
            event.body);
    }

    std::map<BlobId, walrus::BlobInfo> take() { return std::move(infos_); }

private:
    bool gc_phase1_;
    std::map<BlobId, walrus::BlobInfo> infos_;
    std::map<uint64_t, ReplayedObject> objects_;  // live, by object id (GC phase 1's order)
};

}  // namespace

std::map<BlobId, walrus::BlobInfo> replay_node_blob_info(
    const std::vector<walrus::ChainEvent>& events, std::optional<Epoch> until, bool gc_phase1) {
    NodeViewReplay replay(gc_phase1);
    for (const walrus::ChainEvent& event : events) {
        if (const auto* start = std::get_if<walrus::EpochChangeStart>(&event.body)) {
            replay.epoch_start(start->epoch);
            if (until.has_value() && start->epoch == *until) {
                break;
            }
        }
        replay.apply(event);
    }
    return replay.take();
}

}  // namespace floe::scenarios
