#include "node/chain/events.h"

#include "node/overloaded.h"

#include <fmt/format.h>

#include <iterator>

namespace walrus {

namespace {

// Overload set for std::visit.
std::string shard_list(const std::vector<ShardIndex>& shards) {
    std::string out = "[";
    for (size_t i = 0; i < shards.size(); ++i) {
        fmt::format_to(std::back_inserter(out), "{}{}", i == 0 ? "" : ",", shards[i]);
    }
    out += "]";
    return out;
}

}  // namespace

std::string_view event_name(const ChainEvent& event) {
    return std::visit(
        Overloaded{
            [](const BlobRegistered&) { return std::string_view("BlobRegistered"); },
            [](const BlobCertified&) { return std::string_view("BlobCertified"); },
            [](const BlobDeleted&) { return std::string_view("BlobDeleted"); },
            [](const InvalidBlobId&) { return std::string_view("InvalidBlobId"); },
            [](const EpochParametersSelected&) {
                return std::string_view("EpochParametersSelected");
            },
            [](const EpochChangeStart&) { return std::string_view("EpochChangeStart"); },
            [](const EpochChangeDone&) { return std::string_view("EpochChangeDone"); },
            [](const ShardsReceived&) { return std::string_view("ShardsReceived"); },
        },
        event.body);
}

std::string describe(const ChainEvent& event) {
    const std::string details = std::visit(
        Overloaded{
            [](const BlobRegistered& e) {
                return fmt::format("blob={} object={} deletable={} end_epoch={}",
                                   e.blob_id.short_hex(), e.object_id, e.deletable, e.end_epoch);
            },
            [](const BlobCertified& e) {
                return fmt::format(
                    "blob={} object={} deletable={} end_epoch={} extension={} certified_epoch={}",
                    e.blob_id.short_hex(), e.object_id, e.deletable, e.end_epoch, e.is_extension,
                    e.certified_epoch);
            },
            [](const BlobDeleted& e) {
                return fmt::format("blob={} object={} end_epoch={} was_certified={}",
                                   e.blob_id.short_hex(), e.object_id, e.end_epoch,
                                   e.was_certified);
            },
            [](const InvalidBlobId& e) { return fmt::format("blob={}", e.blob_id.short_hex()); },
            [](const EpochParametersSelected& e) {
                return fmt::format("next_epoch={}", e.next_epoch);
            },
            [](const EpochChangeStart& e) { return fmt::format("epoch={}", e.epoch); },
            [](const EpochChangeDone& e) { return fmt::format("epoch={}", e.epoch); },
            [](const ShardsReceived& e) {
                return fmt::format("epoch={} node={} shards={}", e.epoch, e.node,
                                   shard_list(e.shards));
            },
        },
        event.body);
    return fmt::format("#{} e{} {} {}", event.index, event.epoch, event_name(event), details);
}

}  // namespace walrus
