#include "sim/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

// Boost's jump_fcontext leaves through a jmp, not a ret, so after every context switch the
// CPU's return-stack predictor is off by one and each `ret` out of a frame entered before the
// switch mispredicts. The functions on the switch path are therefore inlined into their one
// or two callers: fewer frames to return through is most of the kernel's speed.
#define FLOE_HOT_INLINE [[gnu::always_inline]] inline

namespace sim {

enum class FiberState : uint8_t { created, ready, running, blocked, finished };

struct Scheduler::Fiber {
    // Hot: read or written on every event of this fiber. Kept together in the first cache lines
    // (`floe bench kernel` is sensitive to it).
    FiberState state = FiberState::finished;
    WakeReason wake_reason = WakeReason::notified;
    bool unwind_requested = false;
    bool unwinding = false;
    bool started = false;
    bool completed = false;
    UnwindReason unwind_reason = UnwindReason::aborted;
    uint32_t slot = 0;
    HostId host = 0;
    uint32_t wake_index = 0;
    FiberId id = 0;
    // Sequence number of the fiber's pending timer / latest due-list entry (0: none). Any other
    // timer or run entry for this slot is stale.
    uint64_t timer_seq = 0;
    uint64_t run_seq = 0;
    // Bumped whenever a wait begins or ends: queue entries holding an older token are stale.
    uint64_t wait_token = 0;
    FContext context = nullptr;         // where the fiber resumes
    FContext return_context = nullptr;  // the scheduler, while the fiber runs

    // Warm: on waits and switches, and the spin count once an instant gets suspicious.
    Instant spin_time = Instant::never();
    uint64_t spin_count = 0;
    WaitSite waiting_on;
    Instant wait_deadline = Instant::never();
    Stack stack;
    void* asan_fake_stack = nullptr;

    // Cold: spawn, exit, reports.
    uint32_t host_index = 0;  // position in the host's fiber list (swap-remove)
    StackPool* pool = nullptr;
    std::string name;
    Body body;
    ExitFn on_exit;
};

// The state of a schedule strategy other than `random` (sim/sched_strategy.h).
struct Scheduler::StrategyState {
    explicit StrategyState(Rng stream) : rng(std::move(stream)) {}
    Rng rng;  // "sched-pct" or "sched-starve", folded into the trace

    // PCT. A priority is drawn when its owner first shows up at a choice point (0: not yet):
    // initial ones are in [depth, 2^64), the i-th change point demotes to i. A fiber keeps its
    // priority for its life (keyed by slot and checked by id); a callback has its own (keyed by
    // slot and checked by sequence number).
    struct Owned {
        uint64_t owner = 0;  // fiber id, or callback event sequence number
        uint64_t priority = 0;
    };
    std::vector<Owned> fiber_priorities;     // by fiber slot
    std::vector<Owned> callback_priorities;  // by callback slot
    std::vector<uint64_t> change_points;     // choice point numbers, ascending
    size_t next_change = 0;

    // starve: the victim (world_host: none) stays one until a choice point ends it.
    HostId victim = world_host;
    std::vector<size_t> candidates;  // scratch
    std::vector<HostId> hosts;       // scratch
};

struct Scheduler::Host {
    std::string name;
    BootFn boot;
    bool alive = false;
    uint64_t incarnation = 0;
    std::vector<uint32_t> fiber_slots;
};

namespace {
thread_local Scheduler* t_current = nullptr;
// Every scheduler alive on this thread (a test may hold several). Only searched, never
// iterated for a decision.
thread_local std::vector<const Scheduler*> t_live_schedulers;

std::string now_text_for_assert() {
    Scheduler* scheduler = Scheduler::current_or_null();
    return scheduler != nullptr ? scheduler->now().to_string() : std::string("-");
}
}  // namespace

std::string_view failure_class_name(FailureClass failure) {
    switch (failure) {
        case FailureClass::none: return "pass";
        case FailureClass::invariant: return "invariant";
        case FailureClass::deadlock: return "deadlock";
        case FailureClass::liveness: return "liveness";
        case FailureClass::nondeterminism: return "nondeterminism";
    }
    FLOE_UNREACHABLE("failure class {}", static_cast<int>(failure));
}

// --- WaitQueue ---------------------------------------------------------------------------------

Scheduler* WaitQueue::live_owner() const {
    return owner_ != nullptr && Scheduler::is_live(owner_) ? owner_ : nullptr;
}

void WaitQueue::push(Entry entry) {
    // Drop stale entries so a primitive waited on with timeouts in a loop does not grow without
    // bound: cheap trimming at the front, and a full pass when the queue doubles.
    Scheduler& scheduler = Scheduler::current();
    FLOE_ASSERT(owner_ == nullptr || owner_ == &scheduler || !Scheduler::is_live(owner_),
                "a primitive is shared between two simulations");
    owner_ = &scheduler;
    while (!entries_.empty() && !scheduler.entry_live(entries_.front())) {
        entries_.pop_front();
    }
    if (entries_.size() >= compact_at_) {
        std::erase_if(entries_, [&](const Entry& e) { return !scheduler.entry_live(e); });
        compact_at_ = std::max<size_t>(64, entries_.size() * 2);
    }
    entries_.push_back(entry);
}

bool WaitQueue::notify_one() {
    Scheduler* owner = live_owner();
    if (owner == nullptr) {
        entries_.clear();
        return false;
    }
    Scheduler& scheduler = *owner;
    while (!entries_.empty()) {
        const Entry entry = entries_.front();
        entries_.pop_front();
        if (scheduler.wake(entry.slot, entry.token, WakeReason::notified, entry.index)) {
            return true;
        }
    }
    return false;
}

size_t WaitQueue::notify_all() {
    if (entries_.empty()) {
        return 0;
    }
    Scheduler* owner = live_owner();
    if (owner == nullptr) {
        entries_.clear();
        return 0;
    }
    Scheduler& scheduler = *owner;
    // Swap out first: a woken fiber cannot run before we return, but a wake may not re-enter
    // this queue either way, so the order of the snapshot is the FIFO order.
    std::deque<Entry> snapshot;
    snapshot.swap(entries_);
    size_t woken = 0;
    for (const Entry& entry : snapshot) {
        woken += scheduler.wake(entry.slot, entry.token, WakeReason::notified, entry.index) ? 1 : 0;
    }
    return woken;
}

bool WaitQueue::has_waiters() const {
    return !entries_.empty();
}

// --- construction ------------------------------------------------------------------------------

Scheduler::Scheduler(SchedulerConfig config)
    : config_(config), order_rng_(config.seed, "scheduler") {
    order_rng_.attach_trace(&trace_);
    t_live_schedulers.push_back(this);
    hosts_.push_back(Host{"world", {}, true, 1, {}});
    trace_.set_host_name(world_host, "world");
    const SchedStrategy& strategy = config_.strategy;
    switch (strategy.kind) {
        case SchedKind::random: break;
        case SchedKind::pct: {
            FLOE_ASSERT(strategy.pct_depth >= 1 && strategy.pct_horizon >= strategy.pct_depth - 1,
                        "pct:{}:{}", strategy.pct_depth, strategy.pct_horizon);
            strategy_ = std::make_unique<StrategyState>(make_rng("sched-pct"));
            // D-1 distinct change points, uniform in [1, K].
            std::vector<uint64_t>& points = strategy_->change_points;
            while (points.size() + 1 < strategy.pct_depth) {
                const uint64_t point = 1 + strategy_->rng.below(strategy.pct_horizon);
                if (std::find(points.begin(), points.end(), point) == points.end()) {
                    points.push_back(point);
                }
            }
            std::sort(points.begin(), points.end());
            break;
        }
        case SchedKind::starve:
            FLOE_ASSERT(strategy.starve_p > 0.0 && strategy.starve_p <= 1.0, "starve:{}",
                        strategy.starve_p);
            strategy_ = std::make_unique<StrategyState>(make_rng("sched-starve"));
            break;
    }
}

Scheduler::~Scheduler() {
    shutdown();
    std::erase(t_live_schedulers, this);
    if (t_current == this) {
        t_current = nullptr;
    }
}

Scheduler& Scheduler::current() {
    FLOE_ASSERT(t_current != nullptr, "no simulation is running on this thread");
    return *t_current;
}

Scheduler* Scheduler::current_or_null() {
    return t_current;
}

bool Scheduler::is_live(const Scheduler* scheduler) {
    return std::find(t_live_schedulers.begin(), t_live_schedulers.end(), scheduler) !=
           t_live_schedulers.end();
}

Rng Scheduler::make_rng(std::string_view stream_name) {
    Rng rng(config_.seed, stream_name);
    rng.attach_trace(&trace_);
    return rng;
}

size_t Scheduler::host_count() const {
    return hosts_.size();
}

// --- hosts -------------------------------------------------------------------------------------

HostId Scheduler::add_host(std::string name, BootFn boot) {
    const auto id = static_cast<HostId>(hosts_.size());
    trace_.set_host_name(id, name);
    hosts_.push_back(Host{std::move(name), std::move(boot), false, 0, {}});
    return id;
}

void Scheduler::start_host(HostId host) {
    FLOE_ASSERT(host < hosts_.size(), "unknown host {}", host);
    FLOE_ASSERT(host != world_host, "the world host is always up");
    FLOE_ASSERT(!hosts_[host].alive, "host {} is already up", hosts_[host].name);
    ++hosts_[host].incarnation;
    boot(host);
}

void Scheduler::boot(HostId host) {
    Host& h = hosts_[host];
    h.alive = true;
    trace_.event(TraceKind::host_started, now_, host, 0, h.incarnation,
                 [&] { return fmt::format("incarnation={}", h.incarnation); });
    BootFn boot_fn = h.boot;
    spawn(host, "main", [boot_fn = std::move(boot_fn)] { boot_fn(); });
}

void Scheduler::kill(HostId host) {
    if (kill_host(host)) {
        unwind_killer();
    }
}

bool Scheduler::kill_host(HostId host) {
    FLOE_ASSERT(host < hosts_.size(), "unknown host {}", host);
    FLOE_ASSERT(host != world_host, "the world host cannot be killed");
    Host& h = hosts_[host];
    // A kill also cancels a pending restart, which is why the incarnation moves even when the
    // host is already down.
    ++h.incarnation;
    if (!h.alive) {
        return false;
    }
    h.alive = false;
    trace_.event(TraceKind::host_killed, now_, host, current_fiber(), h.incarnation,
                 [&] { return fmt::format("live_fibers={}", h.fiber_slots.size()); });
    std::vector<uint32_t> victims = h.fiber_slots;
    std::sort(victims.begin(), victims.end(),
              [&](uint32_t a, uint32_t b) { return fibers_[a]->id > fibers_[b]->id; });
    for (uint32_t slot : victims) {
        request_unwind(*fibers_[slot], UnwindReason::killed);
    }
    const bool caller_unwinds =
        current_ != nullptr && current_->host == host && !current_->unwinding;
    if (caller_unwinds) {
        discard_unstarted(victims);
    }
    for (auto& listener : kill_listeners_) {
        listener(host);
    }
    return caller_unwinds;
}

// A fiber of the killed host killed it, and unwinds at once, before the others: the ones that
// never ran go first, here. They have no stack, but their bodies' captures may borrow from the
// caller's frames (a task spawned with a guard on its spawner's object, then a crash point
// before the spawner yielded): destroyed after the caller unwound, they would outlive what they
// borrow.
void Scheduler::discard_unstarted(const std::vector<uint32_t>& victims) {
    for (uint32_t slot : victims) {
        Fiber& fiber = *fibers_[slot];
        if (fiber.started || fiber.state == FiberState::finished || &fiber == current_) {
            continue;
        }
        std::erase(unwinds_, slot);  // the slot is free again: no stale unwind may name it
        fiber.run_seq = 0;
        fiber.body = nullptr;
        finish_fiber(fiber);
        release_fiber(fiber);
    }
}

void Scheduler::restart(HostId host, Duration delay) {
    // The boot is scheduled before the calling fiber unwinds: a fail point that crashes its own
    // host with a restart delay must still come back.
    const bool unwind_caller = kill_host(host);
    Host& h = hosts_[host];
    const uint64_t incarnation = ++h.incarnation;
    trace_.event(TraceKind::host_restarted, now_, host, current_fiber(), incarnation,
                 [&] { return fmt::format("delay={}", delay.to_string()); });
    schedule(now_ + delay, stable_hash("host.boot"), [this, host, incarnation] {
        if (hosts_[host].incarnation == incarnation && !hosts_[host].alive) {
            boot(host);
        }
    });
    if (unwind_caller) {
        unwind_killer();
    }
}

// The calling fiber killed its own host (a crash point, a process exit). Fibers it started may
// borrow from its frames (a shard-sync launcher holds a guard on a count its handler owns): as
// in a kill from outside, they unwind first, newest first, and the caller in its turn, before
// the older ones. With no newer fiber started it throws at once (swarm 20299, buggify=on: the
// storage node's main fiber exited on an I/O error while the shard-sync launcher it had started
// still held a guard on the handler main's frame owned). No code after the kill point runs:
// the caller is parked on the unwind list, and only unwinds run before its turn.
void Scheduler::unwind_killer() {
    Fiber& fiber = *current_;
    // kill_host queued the other victims newest first; the caller goes before the first older.
    const auto turn = std::find_if(unwinds_.begin(), unwinds_.end(),
                                   [&](uint32_t slot) { return fibers_[slot]->id < fiber.id; });
    if (turn != unwinds_.begin()) {
        unwinds_.insert(turn, fiber.slot);
        fiber.state = FiberState::ready;
        switch_to_scheduler(fiber, false);  // drain_unwinds resumes it in its turn
    }
    fiber.unwinding = true;
    throw Unwind{UnwindReason::killed};
}

bool Scheduler::is_alive(HostId host) const {
    FLOE_ASSERT(host < hosts_.size(), "unknown host {}", host);
    return hosts_[host].alive;
}

uint64_t Scheduler::incarnation(HostId host) const {
    FLOE_ASSERT(host < hosts_.size(), "unknown host {}", host);
    return hosts_[host].incarnation;
}

const std::string& Scheduler::host_name(HostId host) const {
    FLOE_ASSERT(host < hosts_.size(), "unknown host {}", host);
    return hosts_[host].name;
}

void Scheduler::on_host_killed(std::function<void(HostId)> listener) {
    kill_listeners_.push_back(std::move(listener));
}

// --- fibers ------------------------------------------------------------------------------------

FiberId Scheduler::spawn(HostId host, std::string name, Body body, ExitFn on_exit,
                         size_t stack_size) {
    FLOE_ASSERT(host < hosts_.size(), "unknown host {}", host);
    FLOE_ASSERT(!shut_down_, "spawn after shutdown");
    if (!hosts_[host].alive) {
        // A dead host runs nothing; the handle resolves as aborted.
        if (on_exit) {
            on_exit(false);
        }
        return 0;
    }
    uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<uint32_t>(fibers_.size());
        fibers_.push_back(std::make_unique<Fiber>());
    }
    Fiber& fiber = *fibers_[slot];
    FLOE_ASSERT(slot < Event::max_slots, "more than {} live fibers", Event::max_slots);
    const uint64_t wait_token = fiber.wait_token;
    fiber = Fiber{};
    // The wait token keeps growing across reuse of the slot, so stale queue entries of the
    // previous occupant can never match. (Timer and run entries carry unique sequence numbers.)
    fiber.wait_token = wait_token + 1;
    fiber.id = next_fiber_id_++;
    fiber.host = host;
    fiber.slot = slot;
    fiber.state = FiberState::created;
    fiber.name = std::move(name);
    fiber.body = std::move(body);
    fiber.on_exit = std::move(on_exit);
    fiber.host_index = static_cast<uint32_t>(hosts_[host].fiber_slots.size());
    hosts_[host].fiber_slots.push_back(slot);
    ++live_fibers_;

    const size_t size =
        effective_stack_size(stack_size != 0 ? stack_size : config_.default_stack_size);
    auto pool = std::find_if(stack_pools_.begin(), stack_pools_.end(),
                             [&](const auto& p) { return p->usable_size() == size; });
    if (pool == stack_pools_.end()) {
        stack_pools_.push_back(std::make_unique<StackPool>(size));
        pool = stack_pools_.end() - 1;
    }
    fiber.pool = pool->get();
    fiber.stack = fiber.pool->acquire();
    fiber.context = make_context(fiber.stack, &Scheduler::fiber_entry);

    trace_.event(TraceKind::fiber_spawned, now_, host, fiber.id, stable_hash(fiber.name),
                 [&] { return fmt::format("name={} by=f{}", fiber.name, current_fiber()); });
    enqueue_run(fiber);
    return fiber.id;
}

Scheduler::Fiber* Scheduler::fiber_by_id(FiberId id) {
    // Fibers are found by scanning slots: abort() is rare, and a map by id would cost every
    // spawn.
    for (auto& fiber : fibers_) {
        if (fiber->id == id && fiber->state != FiberState::finished) {
            return fiber.get();
        }
    }
    return nullptr;
}

void Scheduler::abort(FiberId id) {
    Fiber* fiber = fiber_by_id(id);
    if (fiber == nullptr) {
        return;  // already finished: aborting a finished task is a no-op
    }
    request_unwind(*fiber, UnwindReason::aborted);
    if (fiber == current_ && !fiber->unwinding) {
        fiber->unwinding = true;
        throw Unwind{UnwindReason::aborted};
    }
}

FiberId Scheduler::current_fiber() const {
    return current_ != nullptr ? current_->id : 0;
}

HostId Scheduler::current_host() const {
    return current_ != nullptr ? current_->host : world_host;
}

void Scheduler::request_unwind(Fiber& fiber, UnwindReason reason) {
    if (fiber.state == FiberState::finished || fiber.unwind_requested) {
        return;
    }
    fiber.unwind_requested = true;
    fiber.unwind_reason = reason;
    if (&fiber == current_) {
        return;  // the caller throws
    }
    if (fiber.state == FiberState::blocked) {
        if (fiber.timer_seq != 0) {
            --live_heap_events_;
            fiber.timer_seq = 0;
        }
        ++fiber.wait_token;
        fiber.state = FiberState::ready;
    }
    unwinds_.push_back(fiber.slot);
}

FLOE_HOT_INLINE uint64_t Scheduler::next_seq() {
    FLOE_ASSERT(seq_ < (uint64_t{1} << 40), "event sequence numbers exhausted");
    return seq_++;
}

FLOE_HOT_INLINE void Scheduler::enqueue_run(Fiber& fiber) {
    fiber.run_seq = next_seq();
    due_.push_back(Event::make(now_.ns(), fiber.run_seq, EventKind::run_fiber, fiber.slot));
}

bool Scheduler::entry_live(const WaitQueue::Entry& entry) const {
    const Fiber& fiber = *fibers_[entry.slot];
    return fiber.state == FiberState::blocked && fiber.wait_token == entry.token;
}

bool Scheduler::wake(uint32_t slot, uint64_t token, WakeReason reason, uint32_t index) {
    Fiber& fiber = *fibers_[slot];
    if (fiber.state != FiberState::blocked || fiber.wait_token != token) {
        return false;
    }
    if (fiber.timer_seq != 0) {
        --live_heap_events_;
        fiber.timer_seq = 0;
    }
    ++fiber.wait_token;
    fiber.state = FiberState::ready;
    fiber.wake_reason = reason;
    fiber.wake_index = index;
    enqueue_run(fiber);
    return true;
}

FLOE_HOT_INLINE WaitResult Scheduler::block_impl(std::span<WaitQueue* const> queues,
                                                 Instant deadline, WaitSite site) {
    FLOE_ASSERT(current_ != nullptr, "block() outside a fiber");
    Fiber& fiber = *current_;
    FLOE_ASSERT(!fiber.unwinding,
                "fiber f{} '{}' tried to block on {} while unwinding: destructors must not wait",
                fiber.id, fiber.name, site.primitive);
    if (fiber.unwind_requested) {
        fiber.unwinding = true;
        throw Unwind{fiber.unwind_reason};
    }
    if (deadline <= now_) {
        return WaitResult{WakeReason::timeout, 0};
    }
    const uint64_t token = ++fiber.wait_token;
    for (uint32_t i = 0; i < queues.size(); ++i) {
        queues[i]->push(WaitQueue::Entry{fiber.slot, i, token});
    }
    if (!deadline.is_never()) {
        fiber.timer_seq = next_seq();
        heap_.push(Event::make(deadline.ns(), fiber.timer_seq, EventKind::timer, fiber.slot));
        ++live_heap_events_;
    }
    FLOE_ASSERT(!queues.empty() || !deadline.is_never(), "a wait on nothing with no deadline");
    fiber.state = FiberState::blocked;
    fiber.waiting_on = site;
    fiber.wait_deadline = deadline;
    switch_to_scheduler(fiber, false);
    after_resume(fiber);
    return WaitResult{fiber.wake_reason, fiber.wake_index};
}

WaitResult Scheduler::block(std::span<WaitQueue* const> queues, Instant deadline, WaitSite site) {
    return block_impl(queues, deadline, site);
}

void Scheduler::sleep_until(Instant deadline) {
    static const std::string name = "sleep";
    if (deadline <= now_) {
        yield();
        return;
    }
    block_impl({}, deadline, WaitSite{"sleep", &name});
}

void Scheduler::yield() {
    FLOE_ASSERT(current_ != nullptr, "yield() outside a fiber");
    Fiber& fiber = *current_;
    FLOE_ASSERT(!fiber.unwinding, "fiber f{} yielded while unwinding", fiber.id);
    fiber.state = FiberState::ready;
    enqueue_run(fiber);
    switch_to_scheduler(fiber, false);
    after_resume(fiber);
}

FLOE_HOT_INLINE void Scheduler::after_resume(Fiber& fiber) {
    if (fiber.unwind_requested && !fiber.unwinding) {
        fiber.unwinding = true;
        throw Unwind{fiber.unwind_reason};
    }
}

// --- context switching -------------------------------------------------------------------------

FLOE_HOT_INLINE void Scheduler::resume(Fiber& fiber) {
    current_ = &fiber;
    fiber.state = FiberState::running;
    asan_start_switch(&main_fake_stack_, fiber.stack.bottom(), fiber.stack.usable_size);
    const Transfer back = jump_context(fiber.context, &fiber);
    asan_finish_switch(main_fake_stack_, nullptr, nullptr);
    fiber.context = back.fctx;
    current_ = nullptr;
    if (fiber.state == FiberState::finished) {
        release_fiber(fiber);
    }
}

FLOE_HOT_INLINE void Scheduler::switch_to_scheduler(Fiber& fiber, bool final_switch) {
    // On the final switch the fiber's fake stack is released (nullptr save slot).
    asan_start_switch(final_switch ? nullptr : &fiber.asan_fake_stack, main_stack_bottom_,
                      main_stack_size_);
    const Transfer back = jump_context(fiber.return_context, nullptr);
    asan_finish_switch(fiber.asan_fake_stack, &main_stack_bottom_, &main_stack_size_);
    fiber.return_context = back.fctx;
}

void Scheduler::fiber_entry(Transfer transfer) {
    auto* fiber = static_cast<Fiber*>(transfer.data);
    Scheduler& self = *t_current;
    asan_finish_switch(nullptr, &self.main_stack_bottom_, &self.main_stack_size_);
    fiber->return_context = transfer.fctx;
    self.run_fiber_body(*fiber);
    self.finish_fiber(*fiber);
    self.switch_to_scheduler(*fiber, true);
    FLOE_UNREACHABLE("a finished fiber was resumed");
}

void Scheduler::run_fiber_body(Fiber& fiber) {
    try {
        fiber.body();
        fiber.completed = true;
    } catch (const Unwind&) {
        // The expected end of an aborted or killed fiber.
    } catch (const std::exception& error) {
        FLOE_UNREACHABLE("fiber f{} '{}' on {} threw: {}", fiber.id, fiber.name,
                         hosts_[fiber.host].name, error.what());
    } catch (...) {
        FLOE_UNREACHABLE("fiber f{} '{}' threw a non-std exception", fiber.id, fiber.name);
    }
    FLOE_ASSERT(!(fiber.completed && fiber.unwind_requested && fiber.unwinding),
                "fiber f{} '{}' swallowed its Unwind (catch (...) without rethrow)", fiber.id,
                fiber.name);
    // Captures die here, on the fiber's own stack and before its handle resolves.
    fiber.body = nullptr;
}

void Scheduler::finish_fiber(Fiber& fiber) {
    fiber.state = FiberState::finished;
    Host& host = hosts_[fiber.host];
    const uint32_t index = fiber.host_index;
    FLOE_ASSERT(index < host.fiber_slots.size() && host.fiber_slots[index] == fiber.slot);
    host.fiber_slots[index] = host.fiber_slots.back();
    fibers_[host.fiber_slots[index]]->host_index = index;
    host.fiber_slots.pop_back();
    --live_fibers_;
    trace_.event(TraceKind::fiber_finished, now_, fiber.host, fiber.id, fiber.completed ? 1 : 0,
                 [&] { return fmt::format("completed={}", fiber.completed); });
    if (fiber.on_exit) {
        auto on_exit = std::move(fiber.on_exit);
        fiber.on_exit = nullptr;
        on_exit(fiber.completed);
    }
}

void Scheduler::release_fiber(Fiber& fiber) {
    fiber.pool->release(fiber.stack);
    fiber.stack = Stack{};
    fiber.context = nullptr;
    free_slots_.push_back(fiber.slot);
}

// --- callbacks ---------------------------------------------------------------------------------

void Scheduler::schedule(Instant when, uint64_t label_hash, Callback callback) {
    FLOE_ASSERT(when >= now_, "callback scheduled in the past ({} < {})", when.to_string(),
                now_.to_string());
    uint32_t slot;
    if (!free_callback_slots_.empty()) {
        slot = free_callback_slots_.back();
        free_callback_slots_.pop_back();
        callbacks_[slot] = std::move(callback);
        callback_labels_[slot] = label_hash;
    } else {
        slot = static_cast<uint32_t>(callbacks_.size());
        callbacks_.push_back(std::move(callback));
        callback_labels_.push_back(label_hash);
    }
    FLOE_ASSERT(slot < Event::max_slots, "more than {} pending callbacks", Event::max_slots);
    heap_.push(Event::make(when.ns(), next_seq(), EventKind::callback, slot));
    ++live_heap_events_;
}

// --- the run loop ------------------------------------------------------------------------------

StopReason Scheduler::run(Body driver) {
    FLOE_ASSERT(!shut_down_, "run after shutdown");
    spawn(world_host, "driver", std::move(driver), [this](bool completed) {
        if (!stopping_) {
            stopping_ = true;
            if (!completed) {
                stop_ = StopReason{FailureClass::invariant, "the driver was unwound",
                                   source_location_text(__FILE__, __LINE__)};
            }
        }
    });
    return run_until(config_.time_limit);
}

void Scheduler::fail(FailureClass failure, std::string message, const char* file, int line) {
    FLOE_ASSERT(failure != FailureClass::none);
    if (!stopping_) {
        stopping_ = true;
        stop_ = StopReason{failure, std::move(message), source_location_text(file, line)};
    }
    if (current_ != nullptr && !current_->unwinding) {
        current_->unwinding = true;
        current_->unwind_requested = true;
        current_->unwind_reason = UnwindReason::failed;
        throw Unwind{UnwindReason::failed};
    }
}

StopReason Scheduler::run_until(Instant until) {
    FLOE_ASSERT(current_ == nullptr, "run_until() from inside a fiber");
    Scheduler* previous = t_current;
    t_current = this;
    set_repro_time_source(&now_text_for_assert);
    stopping_ = false;
    stop_ = StopReason{};
    Event event{};
    while (!stopping_) {
        if (!unwinds_.empty()) {
            drain_unwinds();
            continue;
        }
        if (!next_event(event)) {
            const Advance advanced = advance_time(until, event);
            if (advanced == Advance::stop) {
                break;
            }
            if (advanced == Advance::filled_due_list) {
                continue;
            }
            // Advance::single_event: the only event at the new instant, dispatched directly.
        }
        if (++steps_ > config_.max_steps) {
            fail(FailureClass::liveness, fmt::format("step limit of {} reached at {}",
                                                     config_.max_steps, now_.to_string()));
            break;
        }
        dispatch(event);
    }
    t_current = previous;
    return stop_;
}

FLOE_HOT_INLINE bool Scheduler::next_event(Event& out) {
    const size_t pending = due_.size() - due_head_;
    if (pending == 0) {
        due_.clear();
        due_head_ = 0;
        return false;
    }
    if (pending > 1) {
        ++choice_points_;
        if (strategy_ != nullptr) [[unlikely]] {
            std::swap(due_[due_head_], due_[pick_by_strategy()]);
        } else if (config_.shuffle_same_instant) {
            const size_t pick = due_head_ + static_cast<size_t>(order_rng_.below(pending));
            std::swap(due_[due_head_], due_[pick]);
        }
    }
    out = due_[due_head_++];
    return true;
}

// --- schedule strategies -----------------------------------------------------------------------

size_t Scheduler::pick_by_strategy() {
    switch (config_.strategy.kind) {
        case SchedKind::pct: return pick_pct();
        case SchedKind::starve: return pick_starve();
        case SchedKind::random: break;
    }
    FLOE_UNREACHABLE("no strategy state for the random strategy");
}

bool Scheduler::due_entry_live(const Event& event) const {
    switch (event.kind()) {
        case EventKind::run_fiber: {
            const Fiber& fiber = *fibers_[event.slot()];
            return fiber.run_seq == event.seq() && fiber.state != FiberState::finished;
        }
        case EventKind::timer: {
            const Fiber& fiber = *fibers_[event.slot()];
            return fiber.state == FiberState::blocked && fiber.timer_seq == event.seq();
        }
        case EventKind::callback: return true;
    }
    FLOE_UNREACHABLE("event kind {}", static_cast<int>(event.kind()));
}

// A callback is not a host's (its trace event is the world's).
HostId Scheduler::due_entry_host(const Event& event) const {
    return event.kind() == EventKind::callback ? world_host : fibers_[event.slot()]->host;
}

uint64_t Scheduler::pct_priority(const Event& event) {
    StrategyState& s = *strategy_;
    const bool callback = event.kind() == EventKind::callback;
    std::vector<StrategyState::Owned>& table =
        callback ? s.callback_priorities : s.fiber_priorities;
    const uint32_t slot = event.slot();
    const uint64_t owner = callback ? event.seq() : fibers_[slot]->id;
    if (table.size() <= slot) {
        table.resize(slot + 1);
    }
    StrategyState::Owned& entry = table[slot];
    if (entry.owner != owner || entry.priority == 0) {
        const uint64_t depth = config_.strategy.pct_depth;
        entry = StrategyState::Owned{owner, depth + s.rng.below(UINT64_MAX - depth)};
    }
    return entry.priority;
}

void Scheduler::set_pct_priority(const Event& event, uint64_t priority) {
    (void)pct_priority(event);  // the entry exists and is this owner's
    auto& table = event.kind() == EventKind::callback ? strategy_->callback_priorities
                                                      : strategy_->fiber_priorities;
    table[event.slot()].priority = priority;
}

// PCT: the live entry of highest priority runs (the first in the due list on a tie). At the
// i-th change point the entry that would run is demoted to priority i first, below every
// initial priority: the preemption a depth-D bug needs, D-1 times.
size_t Scheduler::pick_pct() {
    StrategyState& s = *strategy_;
    const auto best_live = [&] {
        size_t best = due_.size();
        uint64_t best_priority = 0;
        for (size_t i = due_head_; i < due_.size(); ++i) {
            if (!due_entry_live(due_[i])) {
                continue;
            }
            const uint64_t priority = pct_priority(due_[i]);
            if (best == due_.size() || priority > best_priority) {
                best = i;
                best_priority = priority;
            }
        }
        return best;
    };
    size_t best = best_live();
    if (best == due_.size()) {
        return due_head_;  // nothing live: dispatch drops the head
    }
    if (s.next_change < s.change_points.size() &&
        s.change_points[s.next_change] == choice_points_) {
        ++s.next_change;
        set_pct_priority(due_[best], s.next_change);
        best = best_live();
    }
    return best;
}

// starve: with no victim, one is drawn among the hosts (not the world) with a live entry. The
// victim's entries are passed over while another live entry exists; after each choice point the
// starvation ends with probability P. Picks are uniform among the entries allowed.
size_t Scheduler::pick_starve() {
    StrategyState& s = *strategy_;
    if (s.victim == world_host) {
        s.hosts.clear();
        for (size_t i = due_head_; i < due_.size(); ++i) {
            const HostId host = due_entry_host(due_[i]);
            if (host != world_host && due_entry_live(due_[i]) &&
                std::find(s.hosts.begin(), s.hosts.end(), host) == s.hosts.end()) {
                s.hosts.push_back(host);
            }
        }
        if (!s.hosts.empty()) {
            s.victim = s.hosts[static_cast<size_t>(s.rng.below(s.hosts.size()))];
        }
    }
    s.candidates.clear();
    size_t live = 0;
    for (size_t i = due_head_; i < due_.size(); ++i) {
        if (!due_entry_live(due_[i])) {
            continue;
        }
        ++live;
        if (due_entry_host(due_[i]) != s.victim) {
            s.candidates.push_back(i);
        }
    }
    if (s.candidates.empty() && live > 0) {  // only the victim is ready: it runs
        for (size_t i = due_head_; i < due_.size(); ++i) {
            if (due_entry_live(due_[i])) {
                s.candidates.push_back(i);
            }
        }
    }
    const size_t pick = s.candidates.empty()
                            ? due_head_
                            : s.candidates[static_cast<size_t>(s.rng.below(s.candidates.size()))];
    if (s.victim != world_host && s.rng.bernoulli(config_.strategy.starve_p)) {
        s.victim = world_host;
    }
    return pick;
}

// Moves time to the earliest live event. If it is the only event at that instant it is returned
// in `single`; otherwise everything at that instant goes to the due list. Stops when a limit is
// reached or nothing is left to do.
Scheduler::Advance Scheduler::advance_time(Instant until, Event& single) {
    while (!heap_.empty() && live_heap_events_ > 0) {
        const Event& top = heap_.top();
        if (top.kind() == EventKind::timer) {
            const Fiber& fiber = *fibers_[top.slot()];
            if (fiber.state != FiberState::blocked || fiber.timer_seq != top.seq()) {
                heap_.pop();  // stale: the wait already ended
                continue;
            }
        }
        const int64_t due_time = top.time;  // copy: `top` refers to the heap's first slot
        const Instant when = Instant::from_ns(due_time);
        if (when > until) {
            if (until == config_.time_limit) {
                fail(FailureClass::liveness,
                     fmt::format("virtual time limit {} reached with work pending",
                                 until.to_string()));
            } else {
                now_ = until;
            }
            return Advance::stop;
        }
        now_ = when;
        single = top;
        heap_.pop();
        if (heap_.empty() || heap_.top().time != due_time) {
            return Advance::single_event;  // the common case: skip the due list
        }
        due_.push_back(single);
        while (!heap_.empty() && heap_.top().time == due_time) {
            due_.push_back(heap_.top());
            heap_.pop();
        }
        return Advance::filled_due_list;
    }
    on_quiescent();
    return Advance::stop;
}

void Scheduler::on_quiescent() {
    // Nothing runnable, nothing pending. If some fiber still waits, it waits forever.
    for (const auto& fiber : fibers_) {
        if (fiber->state == FiberState::blocked) {
            fail(FailureClass::deadlock,
                 fmt::format("deadlock at {}: no fiber can run and no timer is pending\n{}",
                             now_.to_string(), describe_blocked_fibers()));
            return;
        }
    }
    stopping_ = true;  // everything finished: a pass
}

std::string Scheduler::describe_blocked_fibers() const {
    std::vector<const Fiber*> blocked;
    for (const auto& fiber : fibers_) {
        if (fiber->state == FiberState::blocked) {
            blocked.push_back(fiber.get());
        }
    }
    std::sort(blocked.begin(), blocked.end(),
              [](const Fiber* a, const Fiber* b) { return a->id < b->id; });
    std::string report;
    for (const Fiber* fiber : blocked) {
        fmt::format_to(std::back_inserter(report),
                       "  fiber f{} '{}' on host {} waits on {} '{}'{}\n", fiber->id, fiber->name,
                       hosts_[fiber->host].name, fiber->waiting_on.primitive,
                       fiber->waiting_on.name != nullptr ? *fiber->waiting_on.name : std::string(),
                       fiber->wait_deadline.is_never()
                           ? std::string()
                           : fmt::format(" until {}", fiber->wait_deadline.to_string()));
    }
    return report;
}

std::string Scheduler::describe_blocked_fibers_of(HostId host,
                                                  const std::vector<std::string>& prefixes) const {
    std::vector<const Fiber*> blocked;
    for (const auto& fiber : fibers_) {
        const bool named = prefixes.empty() ||
                           std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) {
                               return fiber->name.starts_with(p);
                           });
        if (fiber->state == FiberState::blocked && fiber->host == host && named) {
            blocked.push_back(fiber.get());
        }
    }
    std::sort(blocked.begin(), blocked.end(),
              [](const Fiber* a, const Fiber* b) { return a->id < b->id; });
    std::string report;
    for (const Fiber* fiber : blocked) {
        fmt::format_to(std::back_inserter(report), "{}f{} '{}' waits on {} '{}'{}",
                       report.empty() ? "" : "; ", fiber->id, fiber->name,
                       fiber->waiting_on.primitive,
                       fiber->waiting_on.name != nullptr ? *fiber->waiting_on.name : std::string(),
                       fiber->wait_deadline.is_never()
                           ? std::string()
                           : fmt::format(" until {}", fiber->wait_deadline.to_string()));
    }
    return report;
}

FLOE_HOT_INLINE void Scheduler::dispatch(const Event& event) {
    switch (event.kind()) {
        case EventKind::run_fiber: {
            Fiber& fiber = *fibers_[event.slot()];
            if (fiber.run_seq != event.seq() || fiber.state == FiberState::finished) {
                return;  // superseded (the fiber was moved to the unwind queue)
            }
            fiber.run_seq = 0;
            trace_.event(TraceKind::fiber_resumed, now_, fiber.host, fiber.id, 0);
            dispatch_run(fiber);
            return;
        }
        case EventKind::timer: {
            Fiber& fiber = *fibers_[event.slot()];
            if (fiber.state != FiberState::blocked || fiber.timer_seq != event.seq()) {
                return;  // the wait ended before its deadline
            }
            --live_heap_events_;
            fiber.timer_seq = 0;
            ++fiber.wait_token;
            fiber.wake_reason = WakeReason::timeout;
            // One trace event for "timer fired, fiber resumed": the pair always goes together.
            trace_.event(TraceKind::timer_fired, now_, fiber.host, fiber.id, 0);
            dispatch_run(fiber);
            return;
        }
        case EventKind::callback: {
            const uint32_t slot = event.slot();
            --live_heap_events_;
            Callback callback = std::move(callbacks_[slot]);
            callbacks_[slot] = nullptr;
            free_callback_slots_.push_back(slot);
            trace_.event(TraceKind::callback, now_, world_host, 0, callback_labels_[slot]);
            callback();
            return;
        }
    }
    FLOE_UNREACHABLE("event kind {}", static_cast<int>(event.kind()));
}

FLOE_HOT_INLINE void Scheduler::dispatch_run(Fiber& fiber) {
    check_spin(fiber);
    if (stopping_) {
        return;
    }
    fiber.started = true;
    resume(fiber);
}

// A spin is one fiber resumed more than spin_limit times at one instant. Counting per fiber on
// every event would write to every fiber record; instead the instant's total is a pre-filter,
// and fibers are counted individually only once the instant has seen spin_limit resumes.
FLOE_HOT_INLINE void Scheduler::check_spin(Fiber& fiber) {
    if (spin_instant_ != now_) {
        spin_instant_ = now_;
        resumes_at_instant_ = 0;
    }
    if (++resumes_at_instant_ <= config_.spin_limit) [[likely]] {
        return;
    }
    if (fiber.spin_time != now_) {
        fiber.spin_time = now_;
        fiber.spin_count = 0;
    }
    if (++fiber.spin_count > config_.spin_limit) {
        fail(FailureClass::liveness,
             fmt::format("spin: fiber f{} '{}' on host {} resumed over {} times at {} without time "
                         "advancing",
                         fiber.id, fiber.name, hosts_[fiber.host].name, config_.spin_limit,
                         now_.to_string()));
    }
}

void Scheduler::drain_unwinds() {
    while (!unwinds_.empty()) {
        const uint32_t slot = unwinds_.front();
        unwinds_.pop_front();
        Fiber& fiber = *fibers_[slot];
        if (fiber.state == FiberState::finished) {
            continue;
        }
        fiber.run_seq = 0;  // any entry in the due list is now superseded
        if (!fiber.started) {
            // Never ran: nothing to unwind on its stack. Its body's captures die here.
            fiber.body = nullptr;
            finish_fiber(fiber);
            release_fiber(fiber);
            continue;
        }
        trace_.event(TraceKind::fiber_resumed, now_, fiber.host, fiber.id, 1,
                     [] { return std::string("unwind"); });
        resume(fiber);
    }
}

void Scheduler::shutdown() {
    if (shut_down_) {
        return;
    }
    FLOE_ASSERT(current_ == nullptr, "shutdown() from inside a fiber");
    Scheduler* previous = t_current;
    t_current = this;
    trace_.stop_folding();
    std::vector<Fiber*> remaining;
    for (auto& fiber : fibers_) {
        if (fiber->state != FiberState::finished) {
            remaining.push_back(fiber.get());
        }
    }
    std::sort(remaining.begin(), remaining.end(),
              [](const Fiber* a, const Fiber* b) { return a->id > b->id; });
    for (Fiber* fiber : remaining) {
        request_unwind(*fiber, UnwindReason::shutdown);
    }
    drain_unwinds();
    FLOE_ASSERT(live_fibers_ == 0, "{} fibers survived shutdown", live_fibers_);
    shut_down_ = true;
    t_current = previous;
}

}  // namespace sim
