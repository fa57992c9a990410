#include "node/old_behaviours.h"

namespace walrus {

namespace {

bool OldBehaviours::*member_of(std::string_view name) {
    if (name == "rescan-recovery") {
        return &OldBehaviours::rescan_recovery;
    }
    if (name == "notify-one-sync-waiter") {
        return &OldBehaviours::notify_one_sync_waiter;
    }
    if (name == "force-active-gained-shards") {
        return &OldBehaviours::force_active_gained_shards;
    }
    if (name == "no-shard-readiness-wait") {
        return &OldBehaviours::no_shard_readiness_wait;
    }
    if (name == "attest-after-failed-shard-sync") {
        return &OldBehaviours::attest_after_failed_shard_sync;
    }
    return nullptr;
}

}  // namespace

const std::vector<OldBehaviourInfo>& old_behaviour_names() {
    static const std::vector<OldBehaviourInfo> names = {
        {"rescan-recovery",
         "before #3407: no recovery checkpoint; every start rescans from the first blob id and "
         "repeats verification passes (WAL-669)"},
        {"notify-one-sync-waiter",
         "before #3412: a finished blob sync wakes one waiter; a second waiter blocks forever"},
        {"force-active-gained-shards",
         "before #3464: an epoch change while recovering force-sets gained shards Active and "
         "fills them per blob, with no wait for shard syncs"},
        {"no-shard-readiness-wait",
         "before #3453: recovery scans while an owned shard does not exist yet"},
        {"attest-after-failed-shard-sync",
         "WAL-1271: a terminally failed shard sync leaves its shard ActiveSync and the next "
         "attester attests anyway"},
    };
    return names;
}

bool OldBehaviours::set(std::string_view name, bool on) {
    bool OldBehaviours::*member = member_of(name);
    if (member == nullptr) {
        return false;
    }
    this->*member = on;
    return true;
}

std::vector<std::string> OldBehaviours::enabled() const {
    std::vector<std::string> out;
    for (const OldBehaviourInfo& info : old_behaviour_names()) {
        if (this->*member_of(info.name)) {
            out.emplace_back(info.name);
        }
    }
    return out;
}

}  // namespace walrus
