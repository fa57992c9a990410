#include "scenarios/status_view.h"

#include <charconv>

namespace floe::scenarios {

namespace {
constexpr std::string_view shard_track_prefix = "shard-";
}  // namespace

void StatusView::record(const sim::TraceRecord& record) {
    if (record.name == "node-status") {
        node_status_[record.host] = std::string(record.value);
        return;
    }
    if (!record.name.starts_with(shard_track_prefix)) {
        return;
    }
    const std::string_view digits = record.name.substr(shard_track_prefix.size());
    walrus::ShardIndex shard = 0;
    const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), shard);
    if (parsed.ec != std::errc() || parsed.ptr != digits.data() + digits.size()) {
        return;  // another track of that name shape, not a shard's
    }
    shard_status_[{record.host, shard}] = std::string(record.value);
}

bool StatusView::node_active(uint32_t host) const {
    const auto it = node_status_.find(host);
    return it != node_status_.end() && it->second == "Active";
}

bool StatusView::shard_active(uint32_t host, walrus::ShardIndex shard) const {
    const auto it = shard_status_.find({host, shard});
    return it != shard_status_.end() && it->second == "Active";
}

}  // namespace floe::scenarios
