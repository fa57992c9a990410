#pragma once
// Named fail points. Model code marks a point with `hit(name)` (sync form: cannot suspend) or
// `hit_async(name)` (may suspend). A scenario arms a name with an action; unarmed points only
// count their hits. Actions:
//   callback      run a function (sync)
//   error         make the call site return its injected-fault error (sync)
//   crash         kill the current host, restarting it after a delay (sync; no code after it runs)
//   sleep         suspend the caller for a while (async only)
//   hold          suspend until release(name) (async only)
//   hold_until    suspend until a predicate holds, polled every `poll` (async only)
//   arg           hand values to an arg call site (Walrus's fail_point_arg!); other sites
//                 must not be armed with it. The site decides whether the values apply to this
//                 hit, and a fire is counted (at_most, once) whether or not they do: arm an arg
//                 action without a count when its trigger may lie beyond the first hit
// Each action can be limited to one host and to the hits where a condition holds (Walrus's
// fail_point_if!: the scenario decides per hit from what it observes), fire with a seeded
// probability (stream "failpoints"; drawn only where the point is armed and the filters pass,
// so arming one point does not shift other streams) and fire a bounded number of times. Hits
// are counted per name and host; armed names that were never hit are reportable.
//
// A background action (`set_background`, the fail-point swarm: BUGGIFY) acts at a point only
// while no scenario action is armed there; arm/disarm never touch it, and its probability draws
// come from a stream of its own ("buggify-fire"), so a run without background actions draws
// exactly as before.
//
// A probe (`probe(name, holds)`) is a point that is never armed: model code says "this state was
// reached" (REACHABLE) or "this condition held here at least once" (SOMETIMES, as Antithesis's
// sometimes-assertions). Probes are counted per name and host, in their own table, and touch
// nothing else: no trace event, no draw, no wake-up, so adding or removing a probe never changes
// a trace hash.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/rng.h"
#include "sim/scheduler.h"

namespace sim {

enum class FailPointOutcome : uint8_t { proceed, inject_error };
// What an `arg` action hands to its call site; the site gives the values their meaning.
using FailPointArgs = std::vector<uint64_t>;

struct FailPointAction {
    enum class Kind : uint8_t { callback, error, crash, sleep, hold, hold_until, arg };
    Kind kind = Kind::callback;
    std::function<void()> callback;
    std::function<bool()> predicate;
    FailPointArgs args;
    Duration duration = Duration::zero();  // sleep length, restart delay, or poll interval
    std::optional<HostId> host;            // fire only on this host
    std::function<bool()> condition;       // fire only on hits where it returns true
    double probability = 1.0;
    uint64_t max_fires = UINT64_MAX;

    static FailPointAction call(std::function<void()> fn);
    static FailPointAction inject_error();
    // `restart_after` = Duration::forever() kills the host for good.
    static FailPointAction crash(Duration restart_after);
    static FailPointAction sleep(Duration duration);
    static FailPointAction hold();
    static FailPointAction hold_until(std::function<bool()> predicate,
                                      Duration poll = Duration::millis(10));
    static FailPointAction arg(FailPointArgs values);

    FailPointAction&& only_on(HostId h) && {
        host = h;
        return std::move(*this);
    }
    // The condition runs at each hit that passes the host filter, in the hitting fiber; it must
    // not suspend, nor arm or disarm this point (the action it belongs to is in use). A hit it
    // rejects proceeds, draws nothing and does not count as a fire.
    FailPointAction&& only_when(std::function<bool()> c) && {
        condition = std::move(c);
        return std::move(*this);
    }
    FailPointAction&& with_probability(double p) && {
        probability = p;
        return std::move(*this);
    }
    FailPointAction&& at_most(uint64_t n) && {
        max_fires = n;
        return std::move(*this);
    }
    FailPointAction&& once() && {
        max_fires = 1;
        return std::move(*this);
    }
    bool suspends() const {
        return kind == Kind::sleep || kind == Kind::hold || kind == Kind::hold_until;
    }
};

struct FailPointStats {
    uint64_t hits = 0;   // times the point was reached
    uint64_t fires = 0;  // times an armed action ran (background ones included)
    uint64_t background_fires = 0;
    std::map<HostId, uint64_t> hits_by_host;
    bool armed_ever = false;
};

struct ProbeStats {
    uint64_t evaluated = 0;  // times the probe's line ran
    uint64_t hits = 0;       // times its condition held (REACHABLE: every evaluation)
    std::map<HostId, uint64_t> hits_by_host;
};

class FailPoints {
public:
    explicit FailPoints(Scheduler& scheduler);
    FailPoints(const FailPoints&) = delete;
    FailPoints& operator=(const FailPoints&) = delete;
    ~FailPoints();

    void arm(const std::string& name, FailPointAction action);
    void disarm(const std::string& name);
    void disarm_all();
    // The background layer: `action` acts at `name` whenever no scenario action is armed there.
    void set_background(const std::string& name, FailPointAction action);
    // Removes every background action; fibers held by one are released.
    void clear_background();
    bool has_background() const { return !background_.empty(); }

    // Releases every fiber held at `name` (hold action). The point stays armed.
    void release(const std::string& name);
    bool is_armed(std::string_view name) const;

    // Call sites. The sync form asserts that the armed action does not suspend.
    FailPointOutcome hit(std::string_view name);
    FailPointOutcome hit_async(std::string_view name);
    // An arg call site (sync): the values of an `arg` action, or no values for an `error`
    // action (the site's default fault); nullopt when nothing fired or another action ran.
    std::optional<FailPointArgs> hit_arg(std::string_view name);

    // A probe's line ran; `holds` says whether its condition held there.
    void probe(std::string_view name, bool holds);

    // Hits of a fail point, or of a probe (the times its condition held).
    uint64_t hits(std::string_view name) const;
    uint64_t hits(std::string_view name, HostId host) const;
    uint64_t fires(std::string_view name) const;
    size_t held(std::string_view name) const;
    const std::map<std::string, FailPointStats, std::less<>>& stats() const { return stats_; }
    const std::map<std::string, ProbeStats, std::less<>>& probe_stats() const { return probes_; }
    // Names that a scenario armed at some point and that no code ever reached.
    std::vector<std::string> armed_never_hit() const;

private:
    struct Armed {
        FailPointAction action;
        WaitQueue held;
        size_t held_count = 0;
        std::string name;
    };
    FailPointOutcome hit_impl(std::string_view name, bool may_suspend, FailPointArgs* args);
    FailPointOutcome fire(Armed& armed, bool may_suspend, FailPointArgs* args);
    // The action that acts at `name` now, and the stream its probability draws from.
    Armed* acting(std::string_view name, Rng*& rng);

    Scheduler& scheduler_;
    Rng rng_;
    std::map<std::string, FailPointStats, std::less<>> stats_;
    std::map<std::string, ProbeStats, std::less<>> probes_;
    std::map<std::string, std::unique_ptr<Armed>, std::less<>> armed_;
    Rng background_rng_;
    std::map<std::string, std::unique_ptr<Armed>, std::less<>> background_;
};

}  // namespace sim
