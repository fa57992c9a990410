#include "sim/sync.h"

#include "sim/task.h"

#include <algorithm>

namespace sim {

std::string_view recv_error_name(RecvError error) {
    switch (error) {
        case RecvError::closed: return "closed";
        case RecvError::timeout: return "timeout";
    }
    FLOE_UNREACHABLE();
}

// --- select ------------------------------------------------------------------------------------

int select(const WaitOp& a, const WaitOp& b, Duration timeout) {
    Scheduler& scheduler = Scheduler::current();
    const Instant deadline = scheduler.now() + timeout;
    const std::string name =
        fmt::format("{} '{}' | {} '{}'", a.site.primitive, a.site.name ? *a.site.name : "",
                    b.site.primitive, b.site.name ? *b.site.name : "");
    WaitQueue* queues[] = {a.queue, b.queue};
    while (true) {
        if (a.ready()) {
            return 0;
        }
        if (b.ready()) {
            return 1;
        }
        if (scheduler.block(queues, deadline, WaitSite{"select", &name}).timed_out()) {
            return a.ready() ? 0 : (b.ready() ? 1 : -1);
        }
    }
}

// --- Semaphore ---------------------------------------------------------------------------------

// Lives on the waiting fiber's stack. Its destructor runs on every way out of a wait — grant,
// timeout, or unwind — and gives back a grant the fiber never got to use.
struct Semaphore::Waiter {
    Semaphore* semaphore;
    uint64_t need;
    bool queued = true;
    bool granted = false;
    bool consumed = false;
    WaitQueue wake;

    Waiter(Semaphore* s, uint64_t n) : semaphore(s), need(n) {}
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    ~Waiter() {
        if (queued) {
            auto& queue = semaphore->queue_;
            queue.erase(std::find(queue.begin(), queue.end(), this));
            semaphore->grant_waiters();  // a large request at the head may have blocked others
        }
        if (granted && !consumed) {
            semaphore->release(need);
        }
    }
};

Semaphore::Semaphore(uint64_t permits, std::string name, const char* kind)
    : available_(permits), name_(std::move(name)), kind_(kind) {}

Semaphore::~Semaphore() {
    FLOE_ASSERT(queue_.empty(), "semaphore '{}' destroyed with {} waiters", name_, queue_.size());
}

Permit Semaphore::acquire(uint64_t count) {
    const bool acquired = acquire_impl(count, Instant::never());
    FLOE_ASSERT(acquired);
    return Permit(this, count);
}

std::optional<Permit> Semaphore::acquire_for(Duration timeout, uint64_t count) {
    Scheduler& scheduler = Scheduler::current();
    if (!acquire_impl(count, scheduler.now() + timeout)) {
        return std::nullopt;
    }
    return Permit(this, count);
}

std::optional<Permit> Semaphore::try_acquire(uint64_t count) {
    if (queue_.empty() && available_ >= count) {
        available_ -= count;
        return Permit(this, count);
    }
    return std::nullopt;
}

bool Semaphore::acquire_impl(uint64_t count, Instant deadline) {
    FLOE_ASSERT(count > 0, "acquire of zero permits on '{}'", name_);
    if (queue_.empty() && available_ >= count) {
        available_ -= count;
        return true;
    }
    Scheduler& scheduler = Scheduler::current();
    Waiter waiter(this, count);
    queue_.push_back(&waiter);
    WaitQueue* queues[] = {&waiter.wake};
    while (!waiter.granted) {
        if (scheduler.block(queues, deadline, WaitSite{kind_, &name_}).timed_out() &&
            !waiter.granted) {
            return false;  // the waiter's destructor leaves the queue
        }
    }
    waiter.consumed = true;
    return true;
}

void Semaphore::release(uint64_t count) {
    available_ += count;
    grant_waiters();
}

void Semaphore::grant_waiters() {
    while (!queue_.empty() && queue_.front()->need <= available_) {
        Waiter* waiter = queue_.front();
        queue_.pop_front();
        waiter->queued = false;
        available_ -= waiter->need;
        waiter->granted = true;
        waiter->wake.notify_one();
    }
}

Permit& Permit::operator=(Permit&& other) noexcept {
    if (this != &other) {
        release();
        semaphore_ = std::exchange(other.semaphore_, nullptr);
        count_ = std::exchange(other.count_, 0);
    }
    return *this;
}

void Permit::release() {
    if (semaphore_ != nullptr) {
        std::exchange(semaphore_, nullptr)->release(std::exchange(count_, 0));
    }
}

// --- Notify ------------------------------------------------------------------------------------

bool Notify::wait(Duration timeout) {
    Scheduler& scheduler = Scheduler::current();
    WaitQueue* queues[] = {&queue_};
    return !scheduler.block(queues, scheduler.now() + timeout, WaitSite{"notify", &name_})
                .timed_out();
}

bool Notify::notify_one() {
    ++generation_;
    return queue_.notify_one();
}

size_t Notify::notify_all() {
    ++generation_;
    return queue_.notify_all();
}

WaitOp Notify::op() {
    const uint64_t start = generation_;
    return WaitOp{[this, start] { return generation_ != start; }, &queue_,
                  WaitSite{"notify", &name_}};
}

// --- Event -------------------------------------------------------------------------------------

bool Event::wait(Duration timeout) {
    Scheduler& scheduler = Scheduler::current();
    const Instant deadline = scheduler.now() + timeout;
    WaitQueue* queues[] = {&queue_};
    while (!set_) {
        if (scheduler.block(queues, deadline, WaitSite{"event", &name_}).timed_out()) {
            return set_;
        }
    }
    return true;
}

void Event::set() {
    set_ = true;
    queue_.notify_all();
}

WaitOp Event::op() {
    return WaitOp{[this] { return set_; }, &queue_, WaitSite{"event", &name_}};
}

}  // namespace sim

namespace sim {
std::string_view join_error_name(JoinError error) {
    switch (error) {
        case JoinError::aborted: return "aborted";
        case JoinError::timeout: return "timeout";
    }
    FLOE_UNREACHABLE();
}
}  // namespace sim
