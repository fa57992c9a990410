#pragma once
// The simulated network: hosts addressed by id, typed request/response RPC with a timeout on
// every call, per-link latency distributions and loss, one-way clogs of a host or a link.
//
// Every message is a scheduler callback at (send time + sampled latency), so delivery order is
// the scheduler's (time, sequence) order. Payloads are C++ objects moved through shared_ptr; no
// serialisation. Failures are values: a call to a host that is down fails as `unreachable` after
// the connect timeout; a lost or clogged message, or a server that dies while handling the call,
// shows up as `timeout`.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <typeindex>
#include <utility>

#include "sim/result.h"
#include "sim/rng.h"
#include "sim/scheduler.h"

namespace sim {

enum class RpcError : uint8_t {
    timeout,      // no answer before the deadline (lost, clogged, or the server died mid-call)
    unreachable,  // the destination was down: connect timeout
    no_handler,   // the destination is up but serves no such method
};
std::string_view rpc_error_name(RpcError error);

struct LatencyModel {
    enum class Kind : uint8_t { constant, uniform, long_tail };
    Kind kind = Kind::uniform;
    Duration low = Duration::millis(1);
    Duration high = Duration::millis(10);
    double tail_probability = 0.0;  // long_tail: chance of an extra exponential delay
    Duration tail_mean = Duration::zero();

    static LatencyModel constant(Duration d) {
        return {Kind::constant, d, d, 0.0, Duration::zero()};
    }
    static LatencyModel uniform(Duration low, Duration high) {
        return {Kind::uniform, low, high, 0.0, Duration::zero()};
    }
    // Uniform body plus, with `tail_probability`, an exponential extra delay of mean `tail_mean`.
    static LatencyModel long_tail(Duration low, Duration high, double tail_probability,
                                  Duration tail_mean) {
        return {Kind::long_tail, low, high, tail_probability, tail_mean};
    }
    Duration sample(Rng& rng) const;
};

struct LinkConfig {
    LatencyModel latency;
    double loss = 0.0;  // probability that a message on this link is dropped
};

struct NetworkConfig {
    LinkConfig default_link;
    Duration connect_timeout = Duration::seconds(1);
};

struct NetworkStats {
    uint64_t sent = 0;
    uint64_t delivered = 0;
    uint64_t dropped = 0;
};

class Network {
public:
    Network(Scheduler& scheduler, NetworkConfig config);
    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;

    // --- topology and faults -------------------------------------------------------------------
    void set_default_link(LinkConfig link) { config_.default_link = link; }
    const LinkConfig& default_link() const { return config_.default_link; }
    void set_link(HostId from, HostId to, LinkConfig link);  // one direction
    void clear_link(HostId from, HostId to);
    void clog_out(HostId host);              // nothing leaves `host`
    void clog_in(HostId host);               // nothing reaches `host`
    void clog_link(HostId from, HostId to);  // one direction
    void unclog_out(HostId host);
    void unclog_in(HostId host);
    void unclog_link(HostId from, HostId to);
    // Clogs every link between the two groups, both ways.
    void partition(const std::vector<HostId>& side_a, const std::vector<HostId>& side_b);
    void heal_all();
    bool can_deliver(HostId from, HostId to) const;

    // --- RPC -----------------------------------------------------------------------------------
    // Serves `method` on `host` until the host is killed (a restarted host registers again in
    // its boot function). Each request runs the handler on a new fiber of `host`, which may
    // block.
    template <class Req, class Resp, class Handler>
    void serve(HostId host, const std::string& method, Handler handler) {
        RawHandler raw = [handler = std::move(handler)](
                             HostId from, std::shared_ptr<void> request) -> std::shared_ptr<void> {
            Req& typed = *static_cast<Req*>(request.get());
            return std::make_shared<Resp>(handler(from, std::move(typed)));
        };
        serve_raw(host, method, std::type_index(typeid(Req)), std::move(raw));
    }

    template <class Resp, class Req>
    Result<Resp, RpcError> call(HostId from, HostId to, const std::string& method, Req request,
                                Duration timeout) {
        auto response = call_raw(from, to, method, std::type_index(typeid(Req)),
                                 std::make_shared<Req>(std::move(request)), timeout);
        if (!response.ok()) {
            return Err{response.error()};
        }
        return std::move(*static_cast<Resp*>(response.value().get()));
    }

    const NetworkStats& stats() const { return stats_; }
    const NetworkConfig& config() const { return config_; }
    void set_connect_timeout(Duration timeout) { config_.connect_timeout = timeout; }

private:
    using RawHandler = std::function<std::shared_ptr<void>(HostId, std::shared_ptr<void>)>;
    struct Endpoint {
        std::type_index request_type;
        std::shared_ptr<RawHandler> handler;
    };
    struct PendingCall;

    void serve_raw(HostId host, const std::string& method, std::type_index request_type,
                   RawHandler handler);
    Result<std::shared_ptr<void>, RpcError> call_raw(HostId from, HostId to,
                                                     const std::string& method,
                                                     std::type_index request_type,
                                                     std::shared_ptr<void> request,
                                                     Duration timeout);
    // Sends one message; `on_arrival` runs at the destination unless the message is lost.
    // Returns false if the message was dropped at send time.
    void transmit(HostId from, HostId to, uint64_t call_id, const char* what,
                  UniqueFunction<void()> on_arrival);
    void deliver_request(uint64_t call_id, HostId from, HostId to, const std::string& method,
                         std::type_index request_type, std::shared_ptr<void> request,
                         Instant sent_at);
    void deliver_response(uint64_t call_id, Result<std::shared_ptr<void>, RpcError> response);
    const LinkConfig& link(HostId from, HostId to) const;
    void forget_host(HostId host);

    Scheduler& scheduler_;
    NetworkConfig config_;
    Rng rng_;
    NetworkStats stats_;
    std::map<std::pair<HostId, HostId>, LinkConfig> links_;
    std::set<HostId> clogged_out_;
    std::set<HostId> clogged_in_;
    std::set<std::pair<HostId, HostId>> clogged_links_;
    std::map<std::pair<HostId, std::string>, Endpoint> endpoints_;
    std::map<uint64_t, PendingCall*> pending_;  // by call id: deterministic order
    uint64_t next_call_id_ = 1;
};

}  // namespace sim
