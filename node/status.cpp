#include "node/status.h"

#include <fmt/format.h>

#include "sim/assert.h"

namespace walrus {

bool NodeStatus::can_transition_to(const NodeStatus& next) const {
    using K = Kind;
    if (kind == next.kind) {
        return true;
    }
    switch (kind) {
        case K::standby:
            return next.kind == K::recover_metadata || next.kind == K::recovery_catch_up;
        case K::active: return next.kind == K::standby || next.kind == K::recovery_catch_up;
        case K::recover_metadata:
            return next.kind == K::active || next.kind == K::standby ||
                   next.kind == K::recovery_catch_up;
        case K::recovery_catch_up:
            return next.kind == K::standby || next.kind == K::recover_metadata ||
                   next.kind == K::recovery_in_progress;
        case K::recovery_in_progress:
            return next.kind == K::active || next.kind == K::standby ||
                   next.kind == K::recovery_catch_up;
    }
    FLOE_UNREACHABLE("node status kind {}", static_cast<int>(kind));
}

std::string NodeStatus::to_string() const {
    switch (kind) {
        case Kind::standby: return "Standby";
        case Kind::active: return "Active";
        case Kind::recover_metadata: return "RecoverMetadata";
        case Kind::recovery_catch_up: return "RecoveryCatchUp";
        case Kind::recovery_in_progress:
            return fmt::format("RecoveryInProgress ({})", recovery_epoch);
    }
    FLOE_UNREACHABLE("node status kind {}", static_cast<int>(kind));
}

std::string NodeStatus::encode() const {
    std::string out(1, static_cast<char>(kind));
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((recovery_epoch >> shift) & 0xff));
    }
    return out;
}

std::optional<NodeStatus> NodeStatus::decode(const std::string& bytes) {
    if (bytes.size() != 5 || static_cast<uint8_t>(bytes[0]) > 4) {
        return std::nullopt;
    }
    Epoch epoch = 0;
    for (size_t i = 1; i < 5; ++i) {
        epoch = (epoch << 8) | static_cast<uint8_t>(bytes[i]);
    }
    return NodeStatus{static_cast<Kind>(bytes[0]), epoch};
}

const char* shard_status_name(ShardStatus status) {
    switch (status) {
        case ShardStatus::none: return "None";
        case ShardStatus::active: return "Active";
        case ShardStatus::active_sync: return "ActiveSync";
        case ShardStatus::active_recover: return "ActiveRecover";
        case ShardStatus::locked_to_move: return "LockedToMove";
    }
    FLOE_UNREACHABLE("shard status {}", static_cast<int>(status));
}

const char* shard_api_status(ShardStatus status) {
    switch (status) {
        case ShardStatus::none: return "Unknown";
        case ShardStatus::active: return "Ready";
        case ShardStatus::active_sync: return "InTransfer";
        case ShardStatus::active_recover: return "InRecovery";
        case ShardStatus::locked_to_move: return "ReadOnly";
    }
    FLOE_UNREACHABLE("shard status {}", static_cast<int>(status));
}

}  // namespace walrus
