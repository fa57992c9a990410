// Fixture: OS threading the lint must flag.
#include <thread>              // expect: thread
#include <mutex>               // expect: thread
#include <future>              // expect: thread
#include <condition_variable>  // expect: thread

namespace fixture {

std::mutex g_mu;                   // expect: thread
std::recursive_mutex g_rmu;        // expect: thread
std::shared_mutex g_smu;           // expect: thread
std::timed_mutex g_tmu;            // expect: thread
std::condition_variable g_cv;      // expect: thread

void run() {
  std::thread t([] {});                      // expect: thread
  std::jthread jt([] {});                    // expect: thread
  auto fut = std::async([] { return 1; });  // expect: thread
  pthread_create(nullptr, nullptr, nullptr, nullptr);  // expect: thread
  t.join();
}

}  // namespace fixture
