#pragma once
// Walrus's tokio::task::spawn_blocking, as Walrus's simtests run it (MODEL.md X16). msim makes
// the closure a task of its own (mysten-sim msim/src/sim/task.rs: spawn_blocking is
// spawn(async move { f() })) and the caller awaits its JoinHandle. So the caller is suspended
// before the closure runs and again before it resumes, and other tasks of the node (an epoch
// change, a later event, a cancellation) can run at both points. A caller dropped meanwhile (a
// cancelled blob sync) detaches the task, which still runs to its end: a write it was making
// lands. Only the node's death stops it, with every other task of the node.
//
// The closure runs in a fiber of its own, after its caller has returned if the caller was
// aborted, so it must own what it reads: capture by value, never a reference into the caller's
// frame.

#include <string>
#include <type_traits>
#include <utility>

#include "sim/assert.h"
#include "sim/runtime.h"

namespace walrus {

// `call` in a task of its own the caller joins, or inline when `as_task` is false.
template <class Call>
std::invoke_result_t<Call&> spawn_blocking(sim::Runtime& rt, bool as_task, std::string name,
                                           Call call) {
    if (!as_task) {
        return call();
    }
    auto joined = rt.spawn(std::move(name), std::move(call)).join();
    // The task is aborted only with its node, which aborts the caller too.
    FLOE_ASSERT(joined.ok(), "a spawn_blocking task ended without a result");
    if constexpr (!std::is_void_v<std::invoke_result_t<Call&>>) {
        return std::move(joined).value();
    }
}

}  // namespace walrus
