#pragma once
// The arithmetic of `floe shrink` (tools/shrink_command.h runs the children): the failure
// signature two runs must share, and delta debugging (ddmin, Zeller and Hildebrandt 2002) over
// the faults of a schedule.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace floe::tools {

// A failure's signature: its class and its message with ids and numbers masked ("node 2 is
// RecoverMetadata" and "node 4 is RecoverMetadata" are one failure). Only the message's first
// line counts (a crash's message carries the child's stderr after it).
std::string failure_signature(const std::string& failure_class, const std::string& message);

// Runs a batch of candidates (each a set of fault ids to keep) and says, for each, whether it
// still fails with the signature. A batch lets the caller run candidates in parallel.
using CandidateTest = std::function<std::vector<bool>(const std::vector<std::vector<uint64_t>>&)>;

struct DdminStats {
    uint64_t tests = 0;  // candidates run (cached ones not counted)
    bool capped = false;
};

// A 1-minimal subset of `faults` that still fails: removing any single fault of it makes the
// failure go (unless `max_tests` ran out first: then `capped`). Candidates are tried in ddmin's
// order, `batch` at a time; the first failing one in order is taken, so the result does not
// depend on the batch size.
std::vector<uint64_t> ddmin(const std::vector<uint64_t>& faults, const CandidateTest& test,
                            size_t batch, uint64_t max_tests, DdminStats& stats);

}  // namespace floe::tools
