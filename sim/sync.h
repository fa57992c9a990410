#pragma once
// Fiber-aware synchronisation primitives. All are FIFO and deterministic: waiters are served in
// the order they started waiting, and every wait takes a timeout (Duration::forever() is an
// explicit choice). Names appear in the deadlock report, so give them meaningful ones.
//
// Mutex and Semaphore hand ownership directly to the first waiter (no barging). A waiter that is
// unwound (task abort, host kill) while queued or just after being granted gives its grant back
// from its destructor, so a crash never leaks a permit.
//
// Watch wakes ALL waiters on every change. Walrus's bug before PR #3412 was a notify_one that
// woke a single waiter of a blob sync and left a second waiter blocked forever; this primitive is
// the fix, and tests pin the property.

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sim/result.h"
#include "sim/scheduler.h"

namespace sim {

// --- select ------------------------------------------------------------------------------------

// One operand of select(): a readiness check and the queue that is notified when it may change.
struct WaitOp {
    std::function<bool()> ready;
    WaitQueue* queue;
    WaitSite site;
};

// Waits until `a` or `b` is ready (checked in that order) or the timeout passes. Returns 0 or 1,
// or -1 on timeout. The caller then performs the non-blocking operation (try_recv, ...).
int select(const WaitOp& a, const WaitOp& b, Duration timeout = Duration::forever());

// --- Semaphore ---------------------------------------------------------------------------------

class Semaphore;

class [[nodiscard]] Permit {
public:
    Permit() = default;
    Permit(Semaphore* semaphore, uint64_t count) : semaphore_(semaphore), count_(count) {}
    Permit(Permit&& other) noexcept { *this = std::move(other); }
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { release(); }
    void release();
    uint64_t count() const { return count_; }

private:
    Semaphore* semaphore_ = nullptr;
    uint64_t count_ = 0;
};

class Semaphore {
public:
    explicit Semaphore(uint64_t permits, std::string name = "semaphore",
                       const char* kind = "semaphore");
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    ~Semaphore();

    Permit acquire(uint64_t count = 1);
    std::optional<Permit> acquire_for(Duration timeout, uint64_t count = 1);
    std::optional<Permit> try_acquire(uint64_t count = 1);
    void release(uint64_t count);
    void add_permits(uint64_t count) { release(count); }

    uint64_t available() const { return available_; }
    size_t waiters() const { return queue_.size(); }
    const std::string& name() const { return name_; }

private:
    struct Waiter;
    bool acquire_impl(uint64_t count, Instant deadline);
    void grant_waiters();

    uint64_t available_;
    std::string name_;
    const char* kind_;           // "semaphore" or "mutex", for the deadlock report
    std::deque<Waiter*> queue_;  // FIFO order of arrival; never sorted or hashed
};

// --- Mutex -------------------------------------------------------------------------------------

class Mutex {
public:
    explicit Mutex(std::string name = "mutex") : semaphore_(1, std::move(name), "mutex") {}
    Permit lock() { return semaphore_.acquire(); }
    std::optional<Permit> lock_for(Duration timeout) { return semaphore_.acquire_for(timeout); }
    std::optional<Permit> try_lock() { return semaphore_.try_acquire(); }
    bool is_locked() const { return semaphore_.available() == 0; }

private:
    Semaphore semaphore_;
};

// --- Notify and Event --------------------------------------------------------------------------

// Edge-triggered, like a condition variable: a notification with nobody waiting is lost.
class Notify {
public:
    explicit Notify(std::string name = "notify") : name_(std::move(name)) {}
    // True if notified, false on timeout.
    bool wait(Duration timeout = Duration::forever());
    bool notify_one();
    size_t notify_all();
    WaitOp op();

private:
    std::string name_;
    WaitQueue queue_;
    uint64_t generation_ = 0;
};

// Level-triggered latch: wait() returns at once while set.
class Event {
public:
    explicit Event(std::string name = "event") : name_(std::move(name)) {}
    bool wait(Duration timeout = Duration::forever());
    void set();
    void reset() { set_ = false; }
    bool is_set() const { return set_; }
    WaitOp op();

private:
    std::string name_;
    WaitQueue queue_;
    bool set_ = false;
};

// --- Oneshot -----------------------------------------------------------------------------------

enum class RecvError : uint8_t { closed, timeout };
enum class SendError : uint8_t { closed, timeout, full };
std::string_view recv_error_name(RecvError error);

namespace detail {
template <class T>
struct OneshotState {
    std::optional<T> value;
    bool sender_gone = false;
    WaitQueue queue;
    std::string name;
};
}  // namespace detail

template <class T>
class OneshotSender {
public:
    explicit OneshotSender(std::shared_ptr<detail::OneshotState<T>> state)
        : state_(std::move(state)) {}
    OneshotSender(OneshotSender&&) noexcept = default;
    OneshotSender& operator=(OneshotSender&&) noexcept = default;
    ~OneshotSender() { close(); }

    void send(T value) {
        FLOE_ASSERT(state_ != nullptr, "oneshot sent twice");
        state_->value.emplace(std::move(value));
        close();
    }

private:
    void close() {
        if (state_ != nullptr) {
            state_->sender_gone = true;
            state_->queue.notify_all();
            state_.reset();
        }
    }
    std::shared_ptr<detail::OneshotState<T>> state_;
};

template <class T>
class OneshotReceiver {
public:
    explicit OneshotReceiver(std::shared_ptr<detail::OneshotState<T>> state)
        : state_(std::move(state)) {}

    Result<T, RecvError> recv(Duration timeout = Duration::forever()) {
        Scheduler& scheduler = Scheduler::current();
        const Instant deadline = scheduler.now() + timeout;
        WaitQueue* queues[] = {&state_->queue};
        while (!state_->sender_gone) {
            if (scheduler.block(queues, deadline, WaitSite{"oneshot", &state_->name}).timed_out()) {
                return Err{RecvError::timeout};
            }
        }
        return try_recv();
    }
    Result<T, RecvError> try_recv() {
        if (state_->value.has_value()) {
            T value = std::move(*state_->value);
            state_->value.reset();
            return value;
        }
        return Err{state_->sender_gone ? RecvError::closed : RecvError::timeout};
    }
    WaitOp recv_op() {
        auto state = state_;
        return WaitOp{[state] { return state->sender_gone; }, &state_->queue,
                      WaitSite{"oneshot", &state_->name}};
    }

private:
    std::shared_ptr<detail::OneshotState<T>> state_;
};

template <class T>
std::pair<OneshotSender<T>, OneshotReceiver<T>> oneshot(std::string name = "oneshot") {
    auto state = std::make_shared<detail::OneshotState<T>>();
    state->name = std::move(name);
    return {OneshotSender<T>(state), OneshotReceiver<T>(state)};
}

// --- Watch -------------------------------------------------------------------------------------

enum class WatchError : uint8_t { closed, timeout };

namespace detail {
template <class T>
struct WatchState {
    T value;
    uint64_t version = 0;
    bool sender_gone = false;
    WaitQueue queue;
    std::string name;
};
}  // namespace detail

template <class T>
class WatchReceiver {
public:
    explicit WatchReceiver(std::shared_ptr<detail::WatchState<T>> state)
        : state_(std::move(state)), seen_version_(state_->version) {}

    const T& borrow() const { return state_->value; }
    // Marks the current value as seen and returns it.
    const T& borrow_and_update() {
        seen_version_ = state_->version;
        return state_->value;
    }
    bool has_changed() const { return state_->version != seen_version_; }

    // Waits for a value newer than the last one seen.
    Result<Unit, WatchError> changed(Duration timeout = Duration::forever()) {
        Scheduler& scheduler = Scheduler::current();
        const Instant deadline = scheduler.now() + timeout;
        WaitQueue* queues[] = {&state_->queue};
        while (state_->version == seen_version_) {
            if (state_->sender_gone) {
                return Err{WatchError::closed};
            }
            if (scheduler.block(queues, deadline, WaitSite{"watch", &state_->name}).timed_out()) {
                return Err{WatchError::timeout};
            }
        }
        seen_version_ = state_->version;
        return Unit{};
    }

    // Returns the first value (the current one included) for which `predicate` holds.
    template <class Predicate>
    Result<T, WatchError> wait_for(Predicate predicate, Duration timeout = Duration::forever()) {
        Scheduler& scheduler = Scheduler::current();
        const Instant deadline = scheduler.now() + timeout;
        WaitQueue* queues[] = {&state_->queue};
        while (!predicate(state_->value)) {
            if (state_->sender_gone) {
                return Err{WatchError::closed};
            }
            if (scheduler.block(queues, deadline, WaitSite{"watch", &state_->name}).timed_out()) {
                return Err{WatchError::timeout};
            }
        }
        seen_version_ = state_->version;
        return state_->value;
    }

    WaitOp changed_op() {
        auto state = state_;
        const uint64_t seen = seen_version_;
        return WaitOp{[state, seen] { return state->version != seen || state->sender_gone; },
                      &state_->queue, WaitSite{"watch", &state_->name}};
    }

private:
    std::shared_ptr<detail::WatchState<T>> state_;
    uint64_t seen_version_;
};

template <class T>
class WatchSender {
public:
    explicit WatchSender(std::shared_ptr<detail::WatchState<T>> state) : state_(std::move(state)) {}
    WatchSender(WatchSender&&) noexcept = default;
    WatchSender& operator=(WatchSender&&) noexcept = default;
    ~WatchSender() {
        if (state_ != nullptr) {
            state_->sender_gone = true;
            state_->queue.notify_all();
        }
    }

    // Stores a new value and wakes every waiter.
    void send(T value) {
        state_->value = std::move(value);
        bump();
    }
    template <class Fn>
    void send_modify(Fn modify) {
        modify(state_->value);
        bump();
    }
    const T& borrow() const { return state_->value; }
    WatchReceiver<T> subscribe() const { return WatchReceiver<T>(state_); }
    size_t receiver_count() const { return static_cast<size_t>(state_.use_count() - 1); }

private:
    void bump() {
        ++state_->version;
        state_->queue.notify_all();
    }
    std::shared_ptr<detail::WatchState<T>> state_;
};

template <class T>
std::pair<WatchSender<T>, WatchReceiver<T>> watch_channel(T initial, std::string name = "watch") {
    auto state = std::make_shared<detail::WatchState<T>>();
    state->value = std::move(initial);
    state->name = std::move(name);
    return {WatchSender<T>(state), WatchReceiver<T>(state)};
}

// --- Channel -----------------------------------------------------------------------------------

// Bounded multi-producer channel. Items are delivered in send order; blocked senders and
// receivers are woken in the order they blocked.
template <class T>
class Channel {
public:
    explicit Channel(size_t capacity, std::string name = "channel")
        : capacity_(capacity), name_(std::move(name)) {
        FLOE_ASSERT(capacity > 0, "channel '{}' needs a capacity", name_);
    }

    Result<Unit, SendError> send(T value, Duration timeout = Duration::forever()) {
        Scheduler& scheduler = Scheduler::current();
        const Instant deadline = scheduler.now() + timeout;
        WaitQueue* queues[] = {&not_full_};
        while (!closed_ && items_.size() >= capacity_) {
            if (scheduler.block(queues, deadline, WaitSite{"channel-send", &name_}).timed_out()) {
                return Err{SendError::timeout};
            }
        }
        return try_send(std::move(value));
    }
    Result<Unit, SendError> try_send(T value) {
        if (closed_) {
            return Err{SendError::closed};
        }
        if (items_.size() >= capacity_) {
            return Err{SendError::full};
        }
        items_.push_back(std::move(value));
        not_empty_.notify_one();
        return Unit{};
    }
    Result<T, RecvError> recv(Duration timeout = Duration::forever()) {
        Scheduler& scheduler = Scheduler::current();
        const Instant deadline = scheduler.now() + timeout;
        WaitQueue* queues[] = {&not_empty_};
        while (items_.empty() && !closed_) {
            if (scheduler.block(queues, deadline, WaitSite{"channel-recv", &name_}).timed_out()) {
                return Err{RecvError::timeout};
            }
        }
        return try_recv();
    }
    Result<T, RecvError> try_recv() {
        if (items_.empty()) {
            return Err{closed_ ? RecvError::closed : RecvError::timeout};
        }
        T value = std::move(items_.front());
        items_.pop_front();
        not_full_.notify_one();
        if (!items_.empty()) {
            not_empty_.notify_one();  // pass the baton: another receiver may be waiting
        }
        return value;
    }
    // Wakes everyone; queued items can still be received.
    void close() {
        closed_ = true;
        not_full_.notify_all();
        not_empty_.notify_all();
    }
    WaitOp recv_op() {
        return WaitOp{[this] { return !items_.empty() || closed_; }, &not_empty_,
                      WaitSite{"channel-recv", &name_}};
    }
    size_t size() const { return items_.size(); }
    bool is_closed() const { return closed_; }

private:
    size_t capacity_;
    std::string name_;
    std::deque<T> items_;
    bool closed_ = false;
    WaitQueue not_full_;
    WaitQueue not_empty_;
};

}  // namespace sim
