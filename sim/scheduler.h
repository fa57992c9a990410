#pragma once
// The scheduler: one thread, virtual time, fibers grouped into hosts.
//
// Events are ordered by (time, sequence number). Everything due at the current instant sits in
// the due list; the scheduler runs them in FIFO order or, with `shuffle_same_instant`, picks the
// next one with the "scheduler" RNG stream (msim picks ready tasks at random the same way), or
// picks it by another schedule strategy (sim/sched_strategy.h: PCT, starvation). Time only moves
// when the due list is empty: it jumps to the earliest pending event.
//
// Fibers suspend only inside `block()` (every primitive's wait goes through it) and `yield()`.
// A fiber can be asked to unwind (task abort, host kill, shutdown): at its next resume the
// suspension point throws `Unwind`, a type outside std::exception, so destructors run and no
// ordinary code after the suspension point does. Unwinds run before any other due event, so a
// killed host's memory is gone before anything else happens.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/assert.h"
#include "sim/context.h"
#include "sim/event_queue.h"
#include "sim/function.h"
#include "sim/rng.h"
#include "sim/sched_strategy.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace sim {

using HostId = uint32_t;
using FiberId = uint64_t;
constexpr HostId world_host = 0;

enum class UnwindReason : uint8_t { killed, aborted, shutdown, failed };

// Thrown into a fiber to unwind it. Deliberately not a std::exception: a `catch (const
// std::exception&)` in model code must not swallow a crash. Code that catches `...` must rethrow.
struct Unwind {
    UnwindReason reason;
};

enum class WakeReason : uint8_t { notified, timeout };

// What a blocked fiber waits on, for the deadlock report. Both pointers must outlive the wait
// (they point into the primitive being waited on, or at string literals).
struct WaitSite {
    const char* primitive = "";
    const std::string* name = nullptr;
};

struct WaitResult {
    WakeReason reason;
    uint32_t index;  // which of the waited queues woke the fiber (notified only)
    bool timed_out() const { return reason == WakeReason::timeout; }
};

class Scheduler;

// FIFO list of fibers blocked on one primitive. Entries are (fiber slot, wait token); an entry
// whose fiber has since been woken by something else (timeout, another queue of a select, an
// unwind) is stale and skipped, which is how one fiber waits on two queues at once.
class WaitQueue {
public:
    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;

    bool notify_one();
    size_t notify_all();
    bool has_waiters() const;

private:
    friend class Scheduler;
    struct Entry {
        uint32_t slot;
        uint32_t index;
        uint64_t token;
    };
    void push(Entry entry);
    // The scheduler whose fibers wait here: a queue can be notified between runs, or after
    // its simulation is gone (then there is nobody left to wake).
    Scheduler* live_owner() const;
    Scheduler* owner_ = nullptr;
    std::deque<Entry> entries_;
    size_t compact_at_ = 64;
};

struct SchedulerConfig {
    uint64_t seed = 0;
    bool shuffle_same_instant = false;
    // Any strategy but `random` orders the due list by itself, whatever shuffle_same_instant
    // says; `random` is the uniform shuffle (or FIFO without shuffle_same_instant).
    SchedStrategy strategy;
    Instant time_limit = Instant::never();
    uint64_t max_steps = UINT64_MAX;
    // A fiber resumed this many times at one instant is spinning (a busy loop that never lets
    // time advance).
    uint64_t spin_limit = 1'000'000;
    size_t default_stack_size = 256 * 1024;
};

enum class FailureClass : uint8_t { none, invariant, deadlock, liveness, nondeterminism };
std::string_view failure_class_name(FailureClass failure);

struct StopReason {
    FailureClass failure = FailureClass::none;
    std::string message;
    // Where fail() was called ("scenarios/simtests.cpp:120"): what tells two failures with the
    // same message apart when a sweep groups them. Never traced, so never in the trace hash.
    std::string where;
};

class Scheduler {
public:
    using Callback = UniqueFunction<void()>;
    using Body = UniqueFunction<void()>;
    using ExitFn = UniqueFunction<void(bool)>;
    using BootFn = std::function<void()>;  // copyable: every boot calls it again

    explicit Scheduler(SchedulerConfig config);
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;
    ~Scheduler();

    // The scheduler running on this thread; asserts that one is.
    static Scheduler& current();
    static Scheduler* current_or_null();
    static bool is_live(const Scheduler* scheduler);

    Instant now() const { return now_; }
    uint64_t steps() const { return steps_; }
    // Picks from a due list of more than one entry (stale ones included), whatever the
    // strategy: what a PCT horizon K is calibrated against.
    uint64_t choice_points() const { return choice_points_; }
    uint64_t seed() const { return config_.seed; }
    Trace& trace() { return trace_; }
    const SchedulerConfig& config() const { return config_; }
    // A named stream of the root seed, folded into the trace.
    Rng make_rng(std::string_view stream_name);

    // --- hosts ---------------------------------------------------------------------------------
    HostId add_host(std::string name, BootFn boot);
    void start_host(HostId host);
    // Unwinds every fiber of the host (newest first, so children go before the fibers whose
    // locals they borrow); pending restarts are cancelled. If the calling fiber belongs to the
    // host, it unwinds at once: no code after the kill point runs.
    void kill(HostId host);
    // Kills the host if it is up, then boots it again after `delay`.
    void restart(HostId host, Duration delay);
    bool is_alive(HostId host) const;
    uint64_t incarnation(HostId host) const;
    const std::string& host_name(HostId host) const;
    size_t host_count() const;
    // Observers of kills (the network forgets a dead host's handlers, for example).
    void on_host_killed(std::function<void(HostId)> listener);

    // --- fibers --------------------------------------------------------------------------------
    // `on_exit(completed)` runs when the fiber ends: completed = the body returned; false when it
    // was unwound or never started.
    FiberId spawn(HostId host, std::string name, Body body, ExitFn on_exit = nullptr,
                  size_t stack_size = 0);
    // Requests an unwind at the fiber's next suspension (or now, if it is blocked).
    void abort(FiberId fiber);
    bool in_fiber() const { return current_ != nullptr; }
    FiberId current_fiber() const;
    HostId current_host() const;
    size_t live_fibers() const { return live_fibers_; }
    // Pending timers and callbacks, stale entries included (a diagnostic).
    size_t pending_events() const { return heap_.size(); }

    // Suspends the calling fiber until one of `queues` wakes it or the deadline passes.
    WaitResult block(std::span<WaitQueue* const> queues, Instant deadline, WaitSite site);
    void sleep(Duration duration) { sleep_until(now_ + duration); }
    void sleep_until(Instant deadline);
    void yield();

    // --- callbacks -----------------------------------------------------------------------------
    // Runs `callback` in scheduler context (not a fiber: it must not block) at `when`. `label`
    // names it in the trace.
    void schedule(Instant when, uint64_t label_hash, Callback callback);

    // --- running -------------------------------------------------------------------------------
    // Runs until `until`, until `fail()` is called, or until nothing can happen any more.
    StopReason run_until(Instant until);
    // Runs `driver` as a fiber of the world host; the run passes when it returns.
    StopReason run(Body driver);
    // Ends the run with a failure; from inside a fiber, that fiber unwinds at once. `file` and
    // `line` default to the caller's (wrappers pass their own caller's on).
    void fail(FailureClass failure, std::string message, const char* file = __builtin_FILE(),
              int line = __builtin_LINE());
    // Unwinds every remaining fiber so RAII runs and stacks return to the pool. Idempotent.
    void shutdown();

    // The deadlock report: every blocked fiber, its host, the primitive and its name.
    std::string describe_blocked_fibers() const;
    // The same for one host's fibers whose names start with one of `prefixes` (all when empty),
    // one "f12 'name' waits on kind 'what' [until T]" per fiber, joined by "; ".
    std::string describe_blocked_fibers_of(HostId host,
                                           const std::vector<std::string>& prefixes) const;

private:
    struct Fiber;
    struct Host;
    enum class EventKind : uint8_t { run_fiber = 0, timer = 1, callback = 2 };
    // 16 bytes, so the heap stays cache-friendly: the time, then one key that packs the
    // sequence number (high 40 bits: it orders ties and identifies the event), the kind and the
    // slot (a fiber slot, or a callback slot). A timer or run entry is valid only while its
    // fiber still records its sequence number, so stale entries need no removal.
    struct Event {
        int64_t time;
        uint64_t key;
        static constexpr int slot_bits = 22;
        static constexpr uint64_t max_slots = uint64_t{1} << slot_bits;
        static Event make(int64_t time, uint64_t seq, EventKind kind, uint32_t slot) {
            return Event{time, (seq << 24) | (static_cast<uint64_t>(kind) << slot_bits) | slot};
        }
        uint64_t seq() const { return key >> 24; }
        EventKind kind() const { return static_cast<EventKind>((key >> slot_bits) & 3); }
        uint32_t slot() const { return static_cast<uint32_t>(key & (max_slots - 1)); }
    };
    // (A single 128-bit comparison was tried here and measured 20% slower.)
    struct EventBefore {
        bool operator()(const Event& a, const Event& b) const {
            return a.time != b.time ? a.time < b.time : a.key < b.key;
        }
    };

    friend class WaitQueue;
    static void fiber_entry(Transfer transfer);
    bool kill_host(HostId host);  // true when the calling fiber must unwind
    void discard_unstarted(const std::vector<uint32_t>& victims);
    [[noreturn]] void unwind_killer();
    WaitResult block_impl(std::span<WaitQueue* const> queues, Instant deadline, WaitSite site);
    bool entry_live(const WaitQueue::Entry& entry) const;
    void run_fiber_body(Fiber& fiber);
    void resume(Fiber& fiber);
    void switch_to_scheduler(Fiber& fiber, bool final_switch);
    void after_resume(Fiber& fiber);
    void finish_fiber(Fiber& fiber);
    void release_fiber(Fiber& fiber);
    void enqueue_run(Fiber& fiber);
    bool wake(uint32_t slot, uint64_t token, WakeReason reason, uint32_t index);
    void request_unwind(Fiber& fiber, UnwindReason reason);
    void boot(HostId host);
    Fiber* fiber_by_id(FiberId id);

    uint64_t next_seq();
    bool next_event(Event& out);
    // The schedule strategies other than `random`: an index into due_[due_head_..]. Cold, and
    // out of line, so next_event stays small.
    struct StrategyState;
    [[gnu::noinline, gnu::cold]] size_t pick_by_strategy();
    size_t pick_pct();
    size_t pick_starve();
    bool due_entry_live(const Event& event) const;  // as dispatch decides it
    HostId due_entry_host(const Event& event) const;
    uint64_t pct_priority(const Event& event);
    void set_pct_priority(const Event& event, uint64_t priority);
    enum class Advance : uint8_t { stop, single_event, filled_due_list };
    Advance advance_time(Instant until, Event& single);
    void dispatch(const Event& event);
    void dispatch_run(Fiber& fiber);
    void check_spin(Fiber& fiber);
    void on_quiescent();
    void drain_unwinds();

    SchedulerConfig config_;
    Trace trace_;
    Rng order_rng_;
    Instant now_ = Instant::zero();
    Instant spin_instant_ = Instant::never();
    uint64_t resumes_at_instant_ = 0;
    uint64_t seq_ = 1;  // 0 marks "no event" in a fiber's timer_seq / run_seq
    uint64_t steps_ = 0;
    uint64_t choice_points_ = 0;
    bool stopping_ = false;
    bool shut_down_ = false;
    StopReason stop_;

    QuaternaryHeap<Event, EventBefore> heap_;
    uint64_t live_heap_events_ = 0;  // heap entries not known to be stale
    std::vector<Event> due_;
    size_t due_head_ = 0;
    std::deque<uint32_t> unwinds_;             // fiber slots to unwind before anything else runs
    std::unique_ptr<StrategyState> strategy_;  // null for `random`

    std::vector<std::unique_ptr<Fiber>> fibers_;  // by slot; slots are reused
    std::vector<uint32_t> free_slots_;
    FiberId next_fiber_id_ = 1;
    size_t live_fibers_ = 0;
    Fiber* current_ = nullptr;

    std::vector<Callback> callbacks_;  // by slot
    std::vector<uint32_t> free_callback_slots_;
    std::vector<uint64_t> callback_labels_;

    std::vector<Host> hosts_;
    std::vector<std::function<void(HostId)>> kill_listeners_;
    std::vector<std::unique_ptr<StackPool>> stack_pools_;

    // The scheduler's own stack, learned at the first switch into a fiber (for ASan).
    const void* main_stack_bottom_ = nullptr;
    size_t main_stack_size_ = 0;
    void* main_fake_stack_ = nullptr;
};

}  // namespace sim
