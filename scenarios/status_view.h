#pragma once
// What each node last reported of its own status and of its shards' statuses (the "node-status"
// and "shard-N" state tracks NodeStorage writes to the trace), read by the strict fault budget
// (the default; `--set fault-budget=loose` drops it; docs/FINDINGS.md "Swarm 16232"). A passive
// trace sink: it reads what the trace already records, so attaching it changes no run.

#include <cstdint>
#include <map>
#include <string>

#include "node/types.h"
#include "sim/trace.h"

namespace floe::scenarios {

class StatusView final : public sim::TraceSink {
public:
    uint32_t wanted_kinds() const override { return sim::trace_kind_bit(sim::TraceKind::state); }
    void record(const sim::TraceRecord& record) override;

    // Whether the host last reported its node status as Active (false before any report).
    bool node_active(uint32_t host) const;
    // Whether the host last reported the shard Active (false if never reported or removed).
    bool shard_active(uint32_t host, walrus::ShardIndex shard) const;

private:
    std::map<uint32_t, std::string> node_status_;
    std::map<std::pair<uint32_t, walrus::ShardIndex>, std::string> shard_status_;
};

}  // namespace floe::scenarios
