#include "node/blob_info.h"

#include <algorithm>

#include "sim/assert.h"

namespace walrus {

bool BlobInfo::is_certified(Epoch e) const {
    if (invalid || !initial_certified_epoch.has_value() || *initial_certified_epoch > e) {
        return false;
    }
    const bool permanent = permanent_certified.has_value() && permanent_certified->count > 0 &&
                           permanent_certified->end_epoch > e;
    const bool deletable =
        count_deletable_certified > 0 && latest_seen_deletable_certified_end_epoch > e;
    return permanent || deletable;
}

bool BlobInfo::is_registered(Epoch e) const {
    if (invalid) {
        return false;
    }
    const bool permanent =
        permanent_total.has_value() && permanent_total->count > 0 && permanent_total->end_epoch > e;
    const bool deletable =
        count_deletable_total > 0 && latest_seen_deletable_registered_end_epoch > e;
    return permanent || deletable;
}

void BlobInfo::apply_register(bool deletable, Epoch end_epoch) {
    if (deletable) {
        ++count_deletable_total;
        latest_seen_deletable_registered_end_epoch =
            std::max(latest_seen_deletable_registered_end_epoch, end_epoch);
        return;
    }
    PermanentInfo& total = permanent_total.emplace(permanent_total.value_or(PermanentInfo{}));
    ++total.count;
    total.end_epoch = std::max(total.end_epoch, end_epoch);
}

void BlobInfo::apply_certify(Epoch epoch, bool deletable, Epoch end_epoch, bool is_extension) {
    // Walrus update_status computes this before the change: a certification of a blob that was
    // not certified at its epoch (all earlier objects expired or deleted) restarts the initial
    // certified epoch, even if an older one is recorded (update_initial_certified_epoch, force).
    const bool was_certified = is_certified(epoch);
    if (is_extension) {
        // Only permanent objects are extended: both aggregates see the later end epoch.
        FLOE_ASSERT(!deletable, "extension of a deletable blob");
        if (permanent_total.has_value()) {
            permanent_total->end_epoch = std::max(permanent_total->end_epoch, end_epoch);
        }
        if (permanent_certified.has_value()) {
            permanent_certified->end_epoch = std::max(permanent_certified->end_epoch, end_epoch);
        }
        return;
    }
    if (!was_certified || !initial_certified_epoch.has_value() ||
        epoch < *initial_certified_epoch) {
        initial_certified_epoch = epoch;
    }
    if (deletable) {
        ++count_deletable_certified;
        latest_seen_deletable_certified_end_epoch =
            std::max(latest_seen_deletable_certified_end_epoch, end_epoch);
        return;
    }
    PermanentInfo& certified =
        permanent_certified.emplace(permanent_certified.value_or(PermanentInfo{}));
    ++certified.count;
    certified.end_epoch = std::max(certified.end_epoch, end_epoch);
}

namespace {

// Walrus decrement_deletable_counter_and_maybe_unset_latest_end_epoch: the latest seen end epoch
// is forgotten with the last object it covered.
void decrement_deletable(uint32_t& counter, Epoch& latest_seen_end_epoch) {
    --counter;
    if (counter == 0) {
        latest_seen_end_epoch = 0;
    }
}

// Walrus PermanentBlobInfo::decrement: the record disappears with its last object.
void decrement_permanent(std::optional<PermanentInfo>& info) {
    if (--info->count == 0) {
        info.reset();
    }
}

}  // namespace

void BlobInfo::remove_deletable(bool was_certified) {
    decrement_deletable(count_deletable_total, latest_seen_deletable_registered_end_epoch);
    if (was_certified) {
        FLOE_ASSERT(count_deletable_certified > 0, "delete without a certified deletable object");
        decrement_deletable(count_deletable_certified, latest_seen_deletable_certified_end_epoch);
    }
    maybe_unset_initial_certified_epoch();
}

void BlobInfo::maybe_unset_initial_certified_epoch() {
    if (count_deletable_certified == 0 && !permanent_certified.has_value()) {
        initial_certified_epoch.reset();
    }
}

void BlobInfo::apply_delete(bool was_certified) {
    // Only deletable objects are deleted; the counts must cover them (events are replayed in
    // order, so an underflow is a bug, not an input error).
    FLOE_ASSERT(count_deletable_total > 0, "delete without a registered deletable object");
    remove_deletable(was_certified);
}

// GC phase 1 (Walrus DeletableExpired / PermanentExpired, blob_info_v1.rs at fb097a2262): one
// object of the blob expired; its counts go, as a deletion's would.
void BlobInfo::apply_expire(bool deletable, bool was_certified) {
    if (deletable) {
        FLOE_ASSERT(count_deletable_total > 0, "expiry without a registered deletable object");
        remove_deletable(was_certified);
        return;
    }
    FLOE_ASSERT(permanent_total.has_value(), "expiry without a registered permanent object");
    decrement_permanent(permanent_total);
    if (was_certified) {
        FLOE_ASSERT(permanent_certified.has_value(), "expiry without a certified permanent object");
        decrement_permanent(permanent_certified);
    }
    maybe_unset_initial_certified_epoch();
}

void BlobInfo::apply_invalidate(Epoch epoch) {
    if (!invalid) {
        invalid = true;
        invalid_epoch = epoch;
    }
}

void BlobInfo::apply(const BlobInfoMergeOperand& operand) {
    if (invalid) {
        return;  // blob_info_v1.rs: an Invalid record ignores every later operand
    }
    switch (operand.kind) {
        case BlobInfoMergeOperand::Kind::mark_metadata_stored: mark_metadata_stored(); return;
        case BlobInfoMergeOperand::Kind::mark_invalid: apply_invalidate(operand.epoch); return;
        case BlobInfoMergeOperand::Kind::register_blob:
            apply_register(operand.deletable, operand.end_epoch);
            return;
        case BlobInfoMergeOperand::Kind::certify:
            apply_certify(operand.epoch, operand.deletable, operand.end_epoch,
                          operand.is_extension);
            latest_certify_event = operand.event;
            return;
        case BlobInfoMergeOperand::Kind::delete_blob: apply_delete(operand.was_certified); return;
        case BlobInfoMergeOperand::Kind::expire:
            apply_expire(operand.deletable, operand.was_certified);
            return;
    }
    FLOE_UNREACHABLE("bad blob info operand kind {}", static_cast<int>(operand.kind));
}

bool BlobInfo::try_apply(const BlobInfoMergeOperand& operand) {
    // Exactly the conditions the apply_* functions assert, checked first so that apply() below
    // never fails (an assertion would touch the simulator from RocksDB's thread).
    if (invalid) {
        return true;  // ignored, as apply() does
    }
    switch (operand.kind) {
        case BlobInfoMergeOperand::Kind::mark_metadata_stored:
        case BlobInfoMergeOperand::Kind::mark_invalid:
        case BlobInfoMergeOperand::Kind::register_blob: break;
        case BlobInfoMergeOperand::Kind::certify:
            if (operand.is_extension && operand.deletable) {
                return false;
            }
            break;
        case BlobInfoMergeOperand::Kind::delete_blob:
            if (count_deletable_total == 0 ||
                (operand.was_certified && count_deletable_certified == 0)) {
                return false;
            }
            break;
        case BlobInfoMergeOperand::Kind::expire:
            if (operand.deletable
                    ? count_deletable_total == 0 ||
                          (operand.was_certified && count_deletable_certified == 0)
                    : !permanent_total.has_value() ||
                          (operand.was_certified && !permanent_certified.has_value())) {
                return false;
            }
            break;
        default: return false;
    }
    apply(operand);
    return true;
}

namespace {

void put_u32(std::string& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
}

uint32_t get_u32(std::string_view in, size_t& offset) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) {
        value = (value << 8) | static_cast<uint8_t>(in[offset + i]);
    }
    offset += 4;
    return value;
}

void put_permanent(std::string& out, const std::optional<PermanentInfo>& info) {
    out.push_back(info.has_value() ? 1 : 0);
    put_u32(out, info ? info->count : 0);
    put_u32(out, info ? info->end_epoch : 0);
}

std::optional<PermanentInfo> get_permanent(std::string_view in, size_t& offset) {
    const bool present = in[offset++] != 0;
    const uint32_t count = get_u32(in, offset);
    const uint32_t end_epoch = get_u32(in, offset);
    return present ? std::optional<PermanentInfo>(PermanentInfo{count, end_epoch}) : std::nullopt;
}

constexpr size_t encoded_size = 1 + 4 + 1 + 4 + 4 + 9 + 9 + 1 + 4 + 4 + 4 + 9;
constexpr char format_version = 2;

// An operand: kind, flags (deletable, is_extension, was_certified), epoch, end epoch, event.
constexpr size_t operand_size = 1 + 1 + 4 + 4 + 8;
constexpr uint8_t flag_deletable = 1;
constexpr uint8_t flag_extension = 2;
constexpr uint8_t flag_was_certified = 4;

}  // namespace

std::string BlobInfo::encode() const {
    std::string out;
    out.push_back(format_version);
    out.push_back(invalid ? 1 : 0);
    put_u32(out, invalid_epoch);
    out.push_back(is_metadata_stored ? 1 : 0);
    put_u32(out, count_deletable_total);
    put_u32(out, count_deletable_certified);
    put_permanent(out, permanent_total);
    put_permanent(out, permanent_certified);
    out.push_back(initial_certified_epoch.has_value() ? 1 : 0);
    put_u32(out, initial_certified_epoch.value_or(0));
    put_u32(out, latest_seen_deletable_registered_end_epoch);
    put_u32(out, latest_seen_deletable_certified_end_epoch);
    out.push_back(latest_certify_event.has_value() ? 1 : 0);
    put_u32(out, static_cast<uint32_t>(latest_certify_event.value_or(0) >> 32));
    put_u32(out, static_cast<uint32_t>(latest_certify_event.value_or(0)));
    FLOE_ASSERT(out.size() == encoded_size + 1);
    return out;
}

std::optional<BlobInfo> BlobInfo::decode(std::string_view bytes) {
    if (bytes.size() != encoded_size + 1 || bytes[0] != format_version) {
        return std::nullopt;
    }
    BlobInfo info;
    size_t offset = 1;
    info.invalid = bytes[offset++] != 0;
    info.invalid_epoch = get_u32(bytes, offset);
    info.is_metadata_stored = bytes[offset++] != 0;
    info.count_deletable_total = get_u32(bytes, offset);
    info.count_deletable_certified = get_u32(bytes, offset);
    info.permanent_total = get_permanent(bytes, offset);
    info.permanent_certified = get_permanent(bytes, offset);
    const bool has_initial = bytes[offset++] != 0;
    const uint32_t initial = get_u32(bytes, offset);
    if (has_initial) {
        info.initial_certified_epoch = initial;
    }
    info.latest_seen_deletable_registered_end_epoch = get_u32(bytes, offset);
    info.latest_seen_deletable_certified_end_epoch = get_u32(bytes, offset);
    const bool has_event = bytes[offset++] != 0;
    const uint64_t high = get_u32(bytes, offset);
    const uint64_t event = (high << 32) | get_u32(bytes, offset);
    if (has_event) {
        info.latest_certify_event = event;
    }
    return info;
}

BlobInfoMergeOperand BlobInfoMergeOperand::mark_invalid(Epoch epoch) {
    return {.kind = Kind::mark_invalid, .epoch = epoch};
}

BlobInfoMergeOperand BlobInfoMergeOperand::register_blob(bool deletable, Epoch end_epoch) {
    return {.kind = Kind::register_blob, .deletable = deletable, .end_epoch = end_epoch};
}

BlobInfoMergeOperand BlobInfoMergeOperand::certify(Epoch epoch, bool deletable, Epoch end_epoch,
                                                   bool is_extension, EventIndex event) {
    return {.kind = Kind::certify,
            .deletable = deletable,
            .is_extension = is_extension,
            .epoch = epoch,
            .end_epoch = end_epoch,
            .event = event};
}

BlobInfoMergeOperand BlobInfoMergeOperand::delete_blob(bool was_certified) {
    return {.kind = Kind::delete_blob, .was_certified = was_certified};
}

BlobInfoMergeOperand BlobInfoMergeOperand::expire(bool deletable, bool was_certified) {
    return {.kind = Kind::expire, .deletable = deletable, .was_certified = was_certified};
}

std::string BlobInfoMergeOperand::encode() const {
    std::string out;
    out.reserve(operand_size);
    out.push_back(static_cast<char>(kind));
    out.push_back(static_cast<char>((deletable ? flag_deletable : 0) |
                                    (is_extension ? flag_extension : 0) |
                                    (was_certified ? flag_was_certified : 0)));
    put_u32(out, epoch);
    put_u32(out, end_epoch);
    put_u32(out, static_cast<uint32_t>(event >> 32));
    put_u32(out, static_cast<uint32_t>(event));
    return out;
}

std::optional<BlobInfoMergeOperand> BlobInfoMergeOperand::decode(std::string_view bytes) {
    if (bytes.size() != operand_size) {
        return std::nullopt;
    }
    const auto kind = static_cast<uint8_t>(bytes[0]);
    const auto flags = static_cast<uint8_t>(bytes[1]);
    if (kind < static_cast<uint8_t>(Kind::mark_metadata_stored) ||
        kind > static_cast<uint8_t>(Kind::expire) ||
        (flags & ~(flag_deletable | flag_extension | flag_was_certified)) != 0) {
        return std::nullopt;
    }
    BlobInfoMergeOperand operand;
    operand.kind = static_cast<Kind>(kind);
    operand.deletable = (flags & flag_deletable) != 0;
    operand.is_extension = (flags & flag_extension) != 0;
    operand.was_certified = (flags & flag_was_certified) != 0;
    size_t offset = 2;
    operand.epoch = get_u32(bytes, offset);
    operand.end_epoch = get_u32(bytes, offset);
    const uint64_t high = get_u32(bytes, offset);
    operand.event = (high << 32) | get_u32(bytes, offset);
    return operand;
}

std::optional<std::string> merge_blob_info(std::optional<std::string_view> existing,
                                           const std::vector<std::string_view>& operands) {
    BlobInfo info;
    if (existing.has_value()) {
        auto decoded = BlobInfo::decode(*existing);
        if (!decoded.has_value()) {
            return std::nullopt;
        }
        info = *decoded;
    }
    for (std::string_view bytes : operands) {
        const auto operand = BlobInfoMergeOperand::decode(bytes);
        if (!operand.has_value() || !info.try_apply(*operand)) {
            return std::nullopt;
        }
    }
    return info.encode();
}

}  // namespace walrus
