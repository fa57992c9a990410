// Fixture: code that mentions banned names only in comments, strings and member calls.
// std::chrono::system_clock::now(), rand(), std::thread, getenv("HOME") and std::mt19937
// are all fine inside a comment.
#include "scheduler.h"

#include <chrono>

namespace fixture {

/* A block comment is blanked too: std::mutex mu; for (auto& x : names_) {} time(nullptr);
   std::map<Node*, int> m; reinterpret_cast<uintptr_t>(p); */

Instant Scheduler::time() const { return now(); }
SimClock& Scheduler::clock() { return *clock_; }

struct Event {
  Instant time() const;
  Instant clock() const;
};

Instant use(Scheduler& sched, Scheduler* p, const Event& x) {
  Instant t1 = x.time();
  Instant t2 = p->time();
  auto& c1 = sched.clock();
  auto& c2 = p->clock();
  auto t3 = sched.clock().now();
  Instant t4 = x.clock();
  auto& r = sched.random();
  return t1 + t2 + t3 + t4 + c1.ticks() + c2.ticks() + r.below(6);
}

int operand(int v);
int brand(int v);
int strand(int v);
int uptime(int* v);
int runtime_clock();
int sum() { return operand(1) + brand(2) + strand(3) + uptime(nullptr) + runtime_clock(); }

const char* kHelp = "never call std::random_device or time(nullptr) or getenv(\"HOME\")";
const char* kRaw = R"(std::thread t; rand(); "quoted" std::mutex)";
const char* kRawDelim = R"sql(pthread_create )" still inside: std::mt19937 g;)sql";
const char kQuote = '"';
const char kApostrophe = '\'';
const long kBig = 1'000'000;
const std::chrono::milliseconds kTick{10};

}  // namespace fixture
