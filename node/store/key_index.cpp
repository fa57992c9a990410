#include "node/store/key_index.h"

namespace walrus {

bool KeyIndex::contains(uint32_t cf_id, std::string_view key) const {
    const auto number = numbers_.find(key);
    if (number == numbers_.end()) {
        return false;
    }
    const auto cf = present_.find(cf_id);
    return cf != present_.end() && number->second < cf->second.size() && cf->second[number->second];
}

void KeyIndex::insert(uint32_t cf_id, std::string_view key) {
    auto number = numbers_.find(key);
    if (number == numbers_.end()) {
        const auto next = static_cast<uint32_t>(numbers_.size());
        number = numbers_.emplace(std::string(key), next).first;
    }
    std::vector<bool>& bits = present_[cf_id];
    if (bits.size() <= number->second) {
        bits.resize(number->second + 1);
    }
    bits[number->second] = true;
}

void KeyIndex::erase(uint32_t cf_id, std::string_view key) {
    const auto number = numbers_.find(key);
    if (number == numbers_.end()) {
        return;
    }
    const auto cf = present_.find(cf_id);
    if (cf != present_.end() && number->second < cf->second.size()) {
        cf->second[number->second] = false;
    }
}

void KeyIndex::drop(uint32_t cf_id) {
    present_.erase(cf_id);
}

}  // namespace walrus
