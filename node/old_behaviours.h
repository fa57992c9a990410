#pragma once
// Old behaviours, switchable (issue 5): each switch makes the node behave as Walrus did before a
// fix, so a scenario can reproduce the bug that fix removed. All are off by default; floe's
// default is the behaviour of PRs #3407 + #3464 (walrus-recovery-spec.md §9.5).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace walrus {

struct OldBehaviours {
    // Before #3407: no checkpoint; every (re)start of recovery scans from the first blob id and
    // repeats whole verification passes until one finds nothing to sync (TODO WAL-669, §9.1 c.iii).
    bool rescan_recovery = false;
    // Before #3412: a finished blob sync wakes only one waiter (an Arc<Notify> with notify_one);
    // a second waiter on the same blob blocks forever (§6.2).
    bool notify_one_sync_waiter = false;
    // Before #3464: an epoch change while recovering reuses the full-recovery path (§7.5):
    // gained shards are force-set Active and filled by per-blob recovery instead of shard sync,
    // and the recovery task does not wait for running shard syncs (§9.2).
    bool force_active_gained_shards = false;
    // Before #3453: recovery scans while a shard owned at the latest committee does not exist
    // locally yet (§9.1 step i, §15 #3430/#3431).
    bool no_shard_readiness_wait = false;
    // WAL-1271 (§15, §16 item 4): a terminally failed shard sync leaves its shard ActiveSync with
    // no running task, and the next attester attests epoch_sync_done anyway.
    bool attest_after_failed_shard_sync = false;

    // Sets the switch called `name` (the names of old_behaviour_names()); false if unknown.
    bool set(std::string_view name, bool on = true);
    std::vector<std::string> enabled() const;
    bool operator==(const OldBehaviours&) const = default;
};

struct OldBehaviourInfo {
    const char* name;
    const char* description;
};
const std::vector<OldBehaviourInfo>& old_behaviour_names();

}  // namespace walrus
