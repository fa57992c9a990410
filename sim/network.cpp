#include "sim/network.h"

#include <fmt/format.h>

#include "sim/sync.h"

namespace sim {

std::string_view rpc_error_name(RpcError error) {
    switch (error) {
        case RpcError::timeout: return "timeout";
        case RpcError::unreachable: return "unreachable";
        case RpcError::no_handler: return "no_handler";
    }
    FLOE_UNREACHABLE();
}

Duration LatencyModel::sample(Rng& rng) const {
    switch (kind) {
        case Kind::constant: return low;
        case Kind::uniform: return rng.uniform(low, high);
        case Kind::long_tail: {
            Duration delay = rng.uniform(low, high);
            if (rng.bernoulli(tail_probability)) {
                delay += rng.exponential(tail_mean);
            }
            return delay;
        }
    }
    FLOE_UNREACHABLE();
}

// A call in flight. Lives on the caller's stack; the destructor unregisters it on every way out
// (answer, timeout, unwind), so a late response finds nothing and is dropped.
struct Network::PendingCall {
    Network& network;
    uint64_t id;
    std::optional<Result<std::shared_ptr<void>, RpcError>> response;
    WaitQueue wake;

    PendingCall(Network& n, uint64_t call_id) : network(n), id(call_id) {
        network.pending_.emplace(id, this);
    }
    PendingCall(const PendingCall&) = delete;
    PendingCall& operator=(const PendingCall&) = delete;
    ~PendingCall() { network.pending_.erase(id); }
};

Network::Network(Scheduler& scheduler, NetworkConfig config)
    : scheduler_(scheduler), config_(config), rng_(scheduler.make_rng("net")) {
    scheduler_.on_host_killed([this](HostId host) { forget_host(host); });
}

void Network::set_link(HostId from, HostId to, LinkConfig link) {
    links_[{from, to}] = link;
}
void Network::clear_link(HostId from, HostId to) {
    links_.erase({from, to});
}
void Network::clog_out(HostId host) {
    clogged_out_.insert(host);
}
void Network::clog_in(HostId host) {
    clogged_in_.insert(host);
}
void Network::clog_link(HostId from, HostId to) {
    clogged_links_.insert({from, to});
}
void Network::unclog_out(HostId host) {
    clogged_out_.erase(host);
}
void Network::unclog_in(HostId host) {
    clogged_in_.erase(host);
}
void Network::unclog_link(HostId from, HostId to) {
    clogged_links_.erase({from, to});
}

void Network::partition(const std::vector<HostId>& side_a, const std::vector<HostId>& side_b) {
    for (HostId a : side_a) {
        for (HostId b : side_b) {
            clog_link(a, b);
            clog_link(b, a);
        }
    }
}

void Network::heal_all() {
    clogged_out_.clear();
    clogged_in_.clear();
    clogged_links_.clear();
}

bool Network::can_deliver(HostId from, HostId to) const {
    return !clogged_out_.contains(from) && !clogged_in_.contains(to) &&
           !clogged_links_.contains({from, to});
}

const LinkConfig& Network::link(HostId from, HostId to) const {
    auto it = links_.find({from, to});
    return it != links_.end() ? it->second : config_.default_link;
}

void Network::forget_host(HostId host) {
    // A killed host serves nothing; its boot function registers its handlers again.
    std::erase_if(endpoints_, [host](const auto& entry) { return entry.first.first == host; });
}

void Network::serve_raw(HostId host, const std::string& method, std::type_index request_type,
                        RawHandler handler) {
    FLOE_ASSERT(scheduler_.is_alive(host), "serve '{}' on a dead host", method);
    endpoints_.insert_or_assign(
        {host, method}, Endpoint{request_type, std::make_shared<RawHandler>(std::move(handler))});
}

void Network::transmit(HostId from, HostId to, uint64_t call_id, const char* what,
                       UniqueFunction<void()> on_arrival) {
    ++stats_.sent;
    const LinkConfig& config = link(from, to);
    const bool clogged = !can_deliver(from, to);
    const bool lost = !clogged && rng_.bernoulli(config.loss);
    auto& trace = scheduler_.trace();
    if (clogged || lost) {
        ++stats_.dropped;
        trace.event(TraceKind::message_dropped, scheduler_.now(), from, scheduler_.current_fiber(),
                    call_id, [&] {
                        return fmt::format("{} call={} to={} reason={}", what, call_id,
                                           scheduler_.host_name(to), clogged ? "clog" : "loss");
                    });
        return;
    }
    const Duration latency = config.latency.sample(rng_);
    trace.event(TraceKind::message_sent, scheduler_.now(), from, scheduler_.current_fiber(),
                call_id, [&] {
                    return fmt::format("{} call={} to={} latency={}", what, call_id,
                                       scheduler_.host_name(to), latency.to_string());
                });
    scheduler_.schedule(
        scheduler_.now() + latency, stable_hash(what),
        [this, from, to, call_id, what, on_arrival = std::move(on_arrival)]() mutable {
            // A clog that starts while the message is in flight drops it too.
            if (!can_deliver(from, to)) {
                ++stats_.dropped;
                scheduler_.trace().event(
                    TraceKind::message_dropped, scheduler_.now(), to, 0, call_id,
                    [&] { return fmt::format("{} call={} reason=clog", what, call_id); });
                return;
            }
            ++stats_.delivered;
            scheduler_.trace().event(TraceKind::message_delivered, scheduler_.now(), to, 0, call_id,
                                     [&] { return fmt::format("{} call={}", what, call_id); });
            on_arrival();
        });
}

Result<std::shared_ptr<void>, RpcError> Network::call_raw(HostId from, HostId to,
                                                          const std::string& method,
                                                          std::type_index request_type,
                                                          std::shared_ptr<void> request,
                                                          Duration timeout) {
    FLOE_ASSERT(scheduler_.in_fiber(), "RPC '{}' outside a fiber", method);
    FLOE_ASSERT(to < scheduler_.host_count(), "RPC '{}' to unknown host {}", method, to);
    const Instant deadline = scheduler_.now() + timeout;
    PendingCall call(*this, next_call_id_++);
    const Instant sent_at = scheduler_.now();
    transmit(from, to, call.id, "request",
             [this, id = call.id, from, to, method, request_type, request = std::move(request),
              sent_at]() mutable {
                 deliver_request(id, from, to, method, request_type, std::move(request), sent_at);
             });
    WaitQueue* queues[] = {&call.wake};
    while (!call.response.has_value()) {
        if (scheduler_.block(queues, deadline, WaitSite{"rpc", &method}).timed_out()) {
            return Err{RpcError::timeout};
        }
    }
    return std::move(*call.response);
}

void Network::deliver_request(uint64_t call_id, HostId from, HostId to, const std::string& method,
                              std::type_index request_type, std::shared_ptr<void> request,
                              Instant sent_at) {
    if (!scheduler_.is_alive(to)) {
        // Nobody accepts the connection: the caller learns it when its connect attempt times out.
        const Instant when = std::max(scheduler_.now(), sent_at + config_.connect_timeout);
        scheduler_.schedule(when, stable_hash("rpc.unreachable"), [this, call_id] {
            deliver_response(call_id, Err{RpcError::unreachable});
        });
        return;
    }
    auto endpoint = endpoints_.find({to, method});
    if (endpoint == endpoints_.end()) {
        transmit(to, from, call_id, "response",
                 [this, call_id] { deliver_response(call_id, Err{RpcError::no_handler}); });
        return;
    }
    FLOE_ASSERT(endpoint->second.request_type == request_type,
                "RPC '{}' called with a request type its handler does not take", method);
    std::shared_ptr<RawHandler> handler = endpoint->second.handler;
    scheduler_.spawn(to, "rpc:" + method,
                     [this, handler, call_id, from, to, request = std::move(request)]() mutable {
                         std::shared_ptr<void> response = (*handler)(from, std::move(request));
                         transmit(to, from, call_id, "response",
                                  [this, call_id, response = std::move(response)]() mutable {
                                      deliver_response(call_id, std::move(response));
                                  });
                     });
}

void Network::deliver_response(uint64_t call_id, Result<std::shared_ptr<void>, RpcError> response) {
    auto it = pending_.find(call_id);
    if (it == pending_.end()) {
        return;  // the caller gave up (timeout) or died
    }
    it->second->response.emplace(std::move(response));
    it->second->wake.notify_one();
}

}  // namespace sim
