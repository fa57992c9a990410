// Fixture: the sanctioned replacements, and properly allow-listed lines.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <vector>

namespace fixture {

void shuffle_seeded(Rng& rng, std::vector<int>& v) {
  Rng::shuffle(rng, v);
  rng.shuffle(v);
  sim::Rng::choose(rng, v);
  int die = rng.below(6);
  double u = rng.uniform01() + rng.exponential(1.0) + rng_.bernoulli(0.5);
  (void)die;
  (void)u;
}

void fibers(sim::Mutex& mu, sim::Semaphore& sem, sim::Notify& note) {
  sim::Mutex mutex_;
  spawn([&] { mu.lock(); sem.acquire(); note.notify_one(); });
}

const char* config_value(const Config& cfg) { return cfg.get("seed"); }

// Host-side helpers that have a reason to touch the host, allow-listed one rule at a time.
auto t0 = std::chrono::steady_clock::now();  // lint: allow(wall-clock) progress bar shows host time only
unsigned entropy = std::random_device{}();   // lint: allow(random) --seed=random picks a seed, then logs it
const char* dir = std::getenv("TMPDIR"); unsigned s2 = std::random_device{}();  // lint: allow(getenv, random) CLI bootstrap, logged

}  // namespace fixture
