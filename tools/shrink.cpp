#include "tools/shrink.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>

namespace floe::tools {

std::string failure_signature(const std::string& failure_class, const std::string& message) {
    const std::string first_line = message.substr(0, message.find('\n'));
    static const std::regex hex_id("\\b[0-9a-f]{8,}\\b");
    static const std::regex number("[0-9]+(\\.[0-9]+)?");
    std::string masked = std::regex_replace(first_line, hex_id, "<id>");
    masked = std::regex_replace(masked, number, "#");
    return failure_class + ": " + masked;
}

namespace {

// `faults` cut into n parts of nearly equal size, in order.
std::vector<std::vector<uint64_t>> split(const std::vector<uint64_t>& faults, size_t n) {
    std::vector<std::vector<uint64_t>> parts;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
        const size_t end = start + (faults.size() - start) / (n - i);
        parts.emplace_back(faults.begin() + static_cast<std::ptrdiff_t>(start),
                           faults.begin() + static_cast<std::ptrdiff_t>(end));
        start = end;
    }
    return parts;
}

std::vector<uint64_t> without(const std::vector<uint64_t>& all, const std::vector<uint64_t>& cut) {
    std::vector<uint64_t> out;
    for (uint64_t id : all) {
        if (std::find(cut.begin(), cut.end(), id) == cut.end()) {
            out.push_back(id);
        }
    }
    return out;
}

// Tests candidates in order, `batch` at a time, with a cache; the index of the first that fails.
class Searcher {
public:
    Searcher(const CandidateTest& test, size_t batch, uint64_t max_tests, DdminStats& stats)
        : test_(test), batch_(std::max<size_t>(1, batch)), max_tests_(max_tests), stats_(stats) {}

    std::optional<size_t> first_failing(const std::vector<std::vector<uint64_t>>& candidates) {
        for (size_t begin = 0; begin < candidates.size(); begin += batch_) {
            const size_t end = std::min(candidates.size(), begin + batch_);
            std::vector<std::vector<uint64_t>> to_run;
            for (size_t i = begin; i < end; ++i) {
                if (!cache_.contains(candidates[i])) {
                    to_run.push_back(candidates[i]);
                }
            }
            if (stats_.tests + to_run.size() > max_tests_) {
                stats_.capped = true;
                return std::nullopt;
            }
            if (!to_run.empty()) {
                const std::vector<bool> fails = test_(to_run);
                stats_.tests += to_run.size();
                for (size_t i = 0; i < to_run.size(); ++i) {
                    cache_[to_run[i]] = fails[i];
                }
            }
            for (size_t i = begin; i < end; ++i) {
                if (cache_.at(candidates[i])) {
                    return i;
                }
            }
        }
        return std::nullopt;
    }

private:
    const CandidateTest& test_;
    size_t batch_;
    uint64_t max_tests_;
    DdminStats& stats_;
    std::map<std::vector<uint64_t>, bool> cache_;
};

}  // namespace

std::vector<uint64_t> ddmin(const std::vector<uint64_t>& faults, const CandidateTest& test,
                            size_t batch, uint64_t max_tests, DdminStats& stats) {
    Searcher search(test, batch, max_tests, stats);
    if (search.first_failing({{}}).has_value()) {
        return {};  // the failure needs no fault at all
    }
    std::vector<uint64_t> current = faults;
    size_t n = 2;
    while (current.size() >= 2 && !stats.capped) {
        n = std::min(n, current.size());
        const auto parts = split(current, n);
        std::vector<std::vector<uint64_t>> candidates = parts;  // subsets first ...
        for (const auto& part : parts) {
            candidates.push_back(without(current, part));  // ... then complements
        }
        const auto found = search.first_failing(candidates);
        if (found.has_value()) {
            const bool subset = *found < parts.size();
            current = candidates[*found];
            n = subset ? 2 : std::max<size_t>(n - 1, 2);
            continue;
        }
        if (n >= current.size()) {
            break;  // 1-minimal: no single fault can go
        }
        n = std::min(current.size(), n * 2);
    }
    return current;
}

}  // namespace floe::tools
