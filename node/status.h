#pragma once
// The node status machine (walrus-recovery-spec.md §2) and the shard status machine (§3.2),
// with the legal transitions of §2.1 (HEAD's can_transition_to, the oracle of invariant 1).

#include <cstdint>
#include <optional>
#include <string>

#include "node/types.h"

namespace walrus {

struct NodeStatus {
    enum class Kind : uint8_t {
        standby = 0,
        active = 1,
        recover_metadata = 2,
        recovery_catch_up = 3,
        recovery_in_progress = 4,
    };
    Kind kind = Kind::standby;
    Epoch recovery_epoch = 0;  // RecoveryInProgress(E) only

    static NodeStatus standby() { return {Kind::standby, 0}; }
    static NodeStatus active() { return {Kind::active, 0}; }
    static NodeStatus recover_metadata() { return {Kind::recover_metadata, 0}; }
    static NodeStatus recovery_catch_up() { return {Kind::recovery_catch_up, 0}; }
    static NodeStatus recovery_in_progress(Epoch e) { return {Kind::recovery_in_progress, e}; }

    bool is_active() const { return kind == Kind::active; }
    bool is_catching_up() const { return kind == Kind::recovery_catch_up; }
    bool is_recovering() const { return kind == Kind::recovery_in_progress; }

    // §2.1 (HEAD oracle): the same variant is always legal (RecoveryInProgress(5) → (8) too).
    bool can_transition_to(const NodeStatus& next) const;
    // "Standby", "Active", "RecoverMetadata", "RecoveryCatchUp", "RecoveryInProgress (E)".
    std::string to_string() const;

    std::string encode() const;
    static std::optional<NodeStatus> decode(const std::string& bytes);
    bool operator==(const NodeStatus&) const = default;
};

enum class ShardStatus : uint8_t {
    none = 0,            // just created, no status record yet
    active = 1,          // serving reads and writes
    active_sync = 2,     // being filled by transfer from the previous owner
    active_recover = 3,  // transfer done, some blobs missing: per-blob recovery
    locked_to_move = 4,  // moved away this epoch; read-only sync source
};

const char* shard_status_name(ShardStatus status);
// The health API's view of a shard status (§3.2 api_status_from_shard_status).
const char* shard_api_status(
    ShardStatus status);  // Unknown, Ready, InTransfer, InRecovery, ReadOnly

}  // namespace walrus
