// Fixture: wall-clock reads the lint must flag. Every flagged line carries an "expect:" marker
// listing the rules the self-test requires on that line (and no others may appear).
#include <chrono>
#include <ctime>
#include <sys/time.h>

namespace fixture {

long read_clocks() {
  auto a = std::chrono::system_clock::now();           // expect: wall-clock
  auto b = std::chrono::steady_clock::now();           // expect: wall-clock
  auto c = std::chrono::high_resolution_clock::now();  // expect: wall-clock
  std::time_t d = std::time(nullptr);                  // expect: wall-clock
  std::time_t e = time(NULL);                          // expect: wall-clock
  std::time_t f = ::time(0);                           // expect: wall-clock
  std::time_t g = time(&f);                            // expect: wall-clock
  timeval tv;
  gettimeofday(&tv, nullptr);                          // expect: wall-clock
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);                 // expect: wall-clock
  std::clock_t h = clock();                            // expect: wall-clock
  std::clock_t i = std::clock();                       // expect: wall-clock
  return static_cast<long>(d + e + f + g + h + i + tv.tv_sec + ts.tv_sec) +
         (a.time_since_epoch() + b.time_since_epoch() + c.time_since_epoch()).count();
}

using HostClock =
    std::chrono::steady_clock;                         // expect: wall-clock

}  // namespace fixture
