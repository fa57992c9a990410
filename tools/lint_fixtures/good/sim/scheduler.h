// Fixture: our own virtual-time and rng accessors. Names like time(), clock() and random() are
// members here, and must not be mistaken for the C library functions.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace fixture {

class SimClock;
class Rng;
using Instant = std::int64_t;
using HostId = std::uint32_t;

class Scheduler {
 public:
  Instant now() const;
  Instant time() const;
  SimClock& clock();
  const SimClock& clock() const;
  Rng& random();
  std::unique_ptr<SimClock> make_clock() const;
  Instant elapsed() const { return time() - start_; }

 private:
  Instant start_ = 0;
  std::unordered_map<HostId, std::string> names_;  // looked up, never iterated
  std::map<HostId, std::string> ordered_names_;
};

}  // namespace fixture
