#pragma once
// Tasks: a fiber with a join handle. `spawn(host, name, fn)` runs fn on a new fiber of `host`;
// the handle's join() waits for its result. A task that is aborted, or whose host is killed,
// resolves as aborted. Dropping a handle detaches the task (it keeps running), as in tokio.

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/result.h"
#include "sim/scheduler.h"

namespace sim {

enum class JoinError : uint8_t { aborted, timeout };
std::string_view join_error_name(JoinError error);

namespace detail {
template <class T>
struct TaskState {
    enum class Status : uint8_t { running, done, aborted };
    Status status = Status::running;
    FiberId fiber = 0;
    std::optional<T> value;
    WaitQueue done_waiters;
    std::string wait_name;
};
}  // namespace detail

template <class T>
class JoinHandle {
public:
    JoinHandle() = default;
    explicit JoinHandle(std::shared_ptr<detail::TaskState<T>> state) : state_(std::move(state)) {}

    // Waits for the task. The value is moved out: join a task once.
    Result<T, JoinError> join(Duration timeout = Duration::forever()) {
        FLOE_ASSERT(state_ != nullptr, "join() of an empty handle");
        Scheduler& scheduler = Scheduler::current();
        const Instant deadline = scheduler.now() + timeout;
        WaitQueue* queues[] = {&state_->done_waiters};
        while (state_->status == detail::TaskState<T>::Status::running) {
            if (scheduler.block(queues, deadline, WaitSite{"join", &state_->wait_name})
                    .timed_out()) {
                return Err{JoinError::timeout};
            }
        }
        if (state_->status == detail::TaskState<T>::Status::aborted) {
            return Err{JoinError::aborted};
        }
        FLOE_ASSERT(state_->value.has_value(), "task result joined twice");
        T value = std::move(*state_->value);
        state_->value.reset();
        return value;
    }

    // Unwinds the task at its next suspension (RAII runs). If the task is the caller, it unwinds
    // at once.
    void abort() {
        if (state_ != nullptr && state_->status == detail::TaskState<T>::Status::running) {
            Scheduler::current().abort(state_->fiber);
        }
    }
    bool is_finished() const {
        return state_ != nullptr && state_->status != detail::TaskState<T>::Status::running;
    }
    bool was_aborted() const {
        return state_ != nullptr && state_->status == detail::TaskState<T>::Status::aborted;
    }
    FiberId fiber() const { return state_ != nullptr ? state_->fiber : 0; }

private:
    std::shared_ptr<detail::TaskState<T>> state_;
};

template <class F>
using TaskResult =
    std::conditional_t<std::is_void_v<std::invoke_result_t<F&>>, Unit, std::invoke_result_t<F&>>;

template <class F>
JoinHandle<TaskResult<F>> spawn(Scheduler& scheduler, HostId host, std::string name, F body,
                                size_t stack_size = 0) {
    using T = TaskResult<F>;
    auto state = std::make_shared<detail::TaskState<T>>();
    state->wait_name = name;
    auto run = [state, body = std::move(body)]() mutable {
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            body();
            state->value.emplace();
        } else {
            state->value.emplace(body());
        }
    };
    auto on_exit = [state](bool completed) {
        using Status = typename detail::TaskState<T>::Status;
        state->status = completed ? Status::done : Status::aborted;
        if (!completed) {
            state->value.reset();
        }
        state->done_waiters.notify_all();
    };
    state->fiber =
        scheduler.spawn(host, std::move(name), std::move(run), std::move(on_exit), stack_size);
    return JoinHandle<T>(std::move(state));
}

// Children of one parent task that end with it: joined together, and aborted if the parent
// unwinds first (an abort or a crash of its host), so none outlives the frame it borrows from.
template <class T>
class TaskGroup {
public:
    TaskGroup() = default;
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup() {
        for (JoinHandle<T>& task : tasks_) {
            task.abort();
        }
    }
    void add(JoinHandle<T> task) { tasks_.push_back(std::move(task)); }
    // Every child's value, in the order they were added; an aborted child is left out.
    std::vector<T> join_all() {
        std::vector<T> values;
        for (JoinHandle<T>& task : tasks_) {
            auto value = task.join();
            if (value.ok()) {
                values.push_back(std::move(value).value());
            }
        }
        return values;
    }

private:
    std::vector<JoinHandle<T>> tasks_;
};

// Spawns on the calling fiber's host.
template <class F>
JoinHandle<TaskResult<F>> spawn_here(std::string name, F body) {
    Scheduler& scheduler = Scheduler::current();
    return spawn(scheduler, scheduler.current_host(), std::move(name), std::move(body));
}

}  // namespace sim
