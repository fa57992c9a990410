#pragma once
// The runtime interface: everything a simulated host's code (node/) may use of the kernel.
// Time, named random streams, tasks, RPC, fail points; the sync primitives come from
// sim/sync.h. Node code holds a Runtime& and nothing else of the kernel: it cannot see other
// hosts, kill anything, or ask whether it is simulated.

#include <map>
#include <string>
#include <string_view>

#include "sim/fail_points.h"
#include "sim/network.h"
#include "sim/result.h"
#include "sim/rng.h"
#include "sim/sync.h"
#include "sim/task.h"
#include "sim/time.h"

namespace sim {

class Runtime;

// A unit of work in the trace, from construction to destruction: a crash that unwinds the fiber
// ends the span there. Movable, so a function can return one.
class TraceSpan {
public:
    TraceSpan() = default;
    TraceSpan(Scheduler& scheduler, HostId host, uint64_t id, std::string name);
    TraceSpan(TraceSpan&& other) noexcept;
    TraceSpan& operator=(TraceSpan&& other) noexcept;
    TraceSpan(const TraceSpan&) = delete;
    TraceSpan& operator=(const TraceSpan&) = delete;
    ~TraceSpan() { end(); }

    void end();

private:
    Scheduler* scheduler_ = nullptr;
    HostId host_ = 0;
    uint64_t id_ = 0;
    std::string name_;
};

class Runtime {
public:
    Runtime(Scheduler& scheduler, Network& network, FailPoints& fail_points, HostId host)
        : scheduler_(scheduler), network_(network), fail_points_(fail_points), host_(host) {}
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    HostId host() const { return host_; }
    const std::string& host_name() const { return scheduler_.host_name(host_); }

    Instant now() const { return scheduler_.now(); }
    void sleep(Duration duration) { scheduler_.sleep(duration); }
    void sleep_until(Instant deadline) { scheduler_.sleep_until(deadline); }
    void yield() { scheduler_.yield(); }

    // A random stream private to this host: "<host name>/<name>" of the root seed.
    Rng& rng(std::string_view name);

    template <class F>
    JoinHandle<TaskResult<F>> spawn(std::string name, F body) {
        return sim::spawn(scheduler_, host_, std::move(name), std::move(body));
    }

    template <class Resp, class Req>
    Result<Resp, RpcError> call(HostId to, const std::string& method, Req request,
                                Duration timeout) {
        return network_.call<Resp>(host_, to, method, std::move(request), timeout);
    }
    template <class Req, class Resp, class Handler>
    void serve(const std::string& method, Handler handler) {
        network_.serve<Req, Resp>(host_, method, std::move(handler));
    }

    // The running task (Walrus's tokio::task::id): lets a checker tell which task writes.
    FiberId current_task() const { return scheduler_.current_fiber(); }

    FailPointOutcome fail_point(std::string_view name) { return fail_points_.hit(name); }
    std::optional<FailPointArgs> fail_point_arg(std::string_view name) {
        return fail_points_.hit_arg(name);
    }
    FailPointOutcome fail_point_async(std::string_view name) {
        return fail_points_.hit_async(name);
    }
    // A probe: counts that a state was reached (`holds`: that its condition held). Never armed,
    // never in the trace: probes do not change a run.
    void probe(std::string_view name, bool holds) { fail_points_.probe(name, holds); }

    // The process exits on an error it cannot go on from (a storage node whose database failed):
    // the host is killed here, unwinding every fiber, and its supervisor boots it again after
    // `restart_after` (Duration::forever(): never). No code after this call runs.
    [[noreturn]] void exit_process(std::string_view why, Duration restart_after);

    // A free-form line in the trace (folded into the hash like any other event).
    void mark(std::string_view text);
    // What this host is doing, for the trace, the Perfetto file and the HTML timeline: a named
    // state's new value ("node-status", "Active"), and spans of work ("blob-sync", "blob=ab12").
    // Both are folded into the hash (so the caller's strings are always built); the trace line
    // is formatted only when a sink wants it. An empty value ends the state (a shard that was
    // removed).
    void state(std::string_view track, std::string_view value);
    [[nodiscard]] TraceSpan span(std::string name, std::string_view details);

private:
    Scheduler& scheduler_;
    Network& network_;
    FailPoints& fail_points_;
    HostId host_;
    std::map<std::string, Rng, std::less<>> rngs_;
};

}  // namespace sim
