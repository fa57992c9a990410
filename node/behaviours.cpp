#include "node/behaviours.h"

namespace walrus {

namespace {

bool Behaviours::*member_of(std::string_view name) {
    if (name == "rescan-recovery") {
        return &Behaviours::rescan_recovery;
    }
    if (name == "notify-one-sync-waiter") {
        return &Behaviours::notify_one_sync_waiter;
    }
    if (name == "force-active-gained-shards") {
        return &Behaviours::force_active_gained_shards;
    }
    if (name == "no-shard-readiness-wait") {
        return &Behaviours::no_shard_readiness_wait;
    }
    if (name == "attest-after-failed-shard-sync") {
        return &Behaviours::attest_after_failed_shard_sync;
    }
    if (name == "clear-checkpoint-on-catch-up-exit") {
        return &Behaviours::clear_checkpoint_on_catch_up_exit;
    }
    if (name == "resync-regained-active-shards") {
        return &Behaviours::resync_regained_active_shards;
    }
    return nullptr;
}

}  // namespace

const std::vector<BehaviourInfo>& behaviour_switches() {
    using enum BehaviourKind;
    static const std::vector<BehaviourInfo> names = {
        {"rescan-recovery", old_behaviour,
         "before #3407: no recovery checkpoint; every start rescans from the first blob id and "
         "repeats verification passes (WAL-669)"},
        {"notify-one-sync-waiter", old_behaviour,
         "before #3412: a finished blob sync wakes one waiter; a second waiter blocks forever"},
        {"force-active-gained-shards", old_behaviour,
         "before #3464: an epoch change while recovering force-sets gained shards Active and "
         "fills them per blob, with no wait for shard syncs"},
        {"no-shard-readiness-wait", old_behaviour,
         "before #3453: recovery scans while an owned shard does not exist yet"},
        {"attest-after-failed-shard-sync", old_behaviour,
         "WAL-1271: a terminally failed shard sync leaves its shard ActiveSync and the next "
         "attester attests anyway"},
        {"clear-checkpoint-on-catch-up-exit", new_behaviour,
         "fix of finding F1 (#3407): leaving catch-up clears the recovery checkpoint, whose "
         "blobs certified since were skipped by the catch-up's event replay",
         "walrus_finding_f1_checkpoint_across_catch_up"},
        {"resync-regained-active-shards", new_behaviour,
         "fix of finding F2: a gained shard found Active locally (kept since the node left the "
         "committee through catch-up) is synced again, not taken as synced",
         "walrus_finding_f2_regained_shard_active"},
    };
    return names;
}

std::optional<BehaviourKind> behaviour_kind(std::string_view name) {
    for (const BehaviourInfo& info : behaviour_switches()) {
        if (info.name == name) {
            return info.kind;
        }
    }
    return std::nullopt;
}

const char* behaviour_flag(std::string_view name) {
    return behaviour_kind(name) == BehaviourKind::new_behaviour ? "--new-behaviour"
                                                                : "--old-behaviour";
}

bool Behaviours::set(std::string_view name, bool on) {
    bool Behaviours::*member = member_of(name);
    if (member == nullptr) {
        return false;
    }
    this->*member = on;
    return true;
}

std::vector<std::string> Behaviours::enabled() const {
    std::vector<std::string> out;
    for (const BehaviourInfo& info : behaviour_switches()) {
        if (this->*member_of(info.name)) {
            out.emplace_back(info.name);
        }
    }
    return out;
}

}  // namespace walrus
