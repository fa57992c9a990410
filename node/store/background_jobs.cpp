#include "node/store/background_jobs.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/perf_level.h>

#include <condition_variable>  // lint: allow(thread) RocksDB's jobs need a thread of their own
#include <deque>
#include <mutex>   // lint: allow(thread) see above
#include <thread>  // lint: allow(thread) see above
#include <utility>
#include <vector>

#include "node/store/fault_gate.h"
#include "sim/assert.h"

namespace walrus {

namespace {
using Lock = std::lock_guard<std::mutex>;         // lint: allow(thread) see the header
using UniqueLock = std::unique_lock<std::mutex>;  // lint: allow(thread) see the header
}  // namespace

struct BackgroundJobs::Queue {
    struct Job {
        void (*function)(void*);
        void* arg;
        rocksdb::Env::Priority priority;
        void* tag;
        void (*unschedule)(void*);
    };

    std::mutex mu;               // lint: allow(thread) see the header
    std::condition_variable cv;  // lint: allow(thread) see the header
    std::deque<Job> jobs;        // FIFO: jobs run in the order RocksDB scheduled them
    int released = 0;            // settle() or a FreeRun is waiting: jobs may run
    int free_runs = 0;           // of those, FreeRun scopes (the simulation thread is in RocksDB)
    bool running = false;
    bool stopping = false;
    std::thread worker;  // lint: allow(thread) see the header

    void run() {
        rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // as NodeStore::open does
        UniqueLock lock(mu);
        for (;;) {
            cv.wait(lock, [&] { return stopping || (released > 0 && !jobs.empty()); });
            if (stopping) {
                return;
            }
            const Job job = jobs.front();
            jobs.pop_front();
            running = true;
            // Only settle() has released it: the simulation thread is parked in drain(), so this
            // job acts for it (its file operations can be faulted, deterministically).
            const bool lock_step = free_runs == 0;
            lock.unlock();
            if (lock_step) {
                const ActingForSimulation acting;
                job.function(job.arg);
            } else {
                job.function(job.arg);
            }
            lock.lock();
            running = false;
            cv.notify_all();
        }
    }

    void schedule(const Job& job) {
        Lock lock(mu);
        if (!worker.joinable()) {
            worker = std::thread([this] { run(); });  // lint: allow(thread) see the header
        }
        jobs.push_back(job);
        cv.notify_all();
    }

    int unschedule(void* tag, rocksdb::Env::Priority priority) {
        std::vector<Job> removed;
        {
            Lock lock(mu);
            for (auto it = jobs.begin(); it != jobs.end();) {
                if (it->tag == tag && it->priority == priority) {
                    removed.push_back(*it);
                    it = jobs.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (const Job& job : removed) {
            if (job.unschedule != nullptr) {
                job.unschedule(job.arg);
            }
        }
        return static_cast<int>(removed.size());
    }

    unsigned queued(rocksdb::Env::Priority priority) {
        Lock lock(mu);
        unsigned count = 0;
        for (const Job& job : jobs) {
            count += job.priority == priority ? 1 : 0;
        }
        return count;
    }

    void release() {
        Lock lock(mu);
        ++released;
        ++free_runs;
        cv.notify_all();
    }
    void hold() {
        Lock lock(mu);
        --released;
        --free_runs;
    }
    void drain() {
        UniqueLock lock(mu);
        if (jobs.empty() && !running) {
            return;  // the common case: nothing queued, no need to wake the worker
        }
        ++released;
        cv.notify_all();
        cv.wait(lock, [&] { return jobs.empty() && !running; });
        --released;
    }
    void stop() {
        {
            // A job's last lines can still be running after RocksDB's Close saw its count drop.
            UniqueLock lock(mu);
            cv.wait(lock, [&] { return !running; });
            FLOE_ASSERT(jobs.empty(), "{} background job(s) left at shutdown", jobs.size());
            stopping = true;
            cv.notify_all();
        }
        if (worker.joinable()) {
            worker.join();
        }
    }
};

namespace {

// Env::Default's clock and everything else, the simulated file system's files, and the queue's
// background jobs. One flush and one compaction "thread" (RocksDB's defaults for
// max_background_jobs = 2): HIGH must have threads, or RocksDB sends flushes to LOW.
class QueuedEnv final : public rocksdb::EnvWrapper {
public:
    QueuedEnv(std::shared_ptr<rocksdb::FileSystem> fs, std::shared_ptr<BackgroundJobs::Queue> queue)
        : rocksdb::EnvWrapper(rocksdb::NewCompositeEnv(fs)), queue_(std::move(queue)) {
        file_system_ = std::move(fs);
    }

    const char* Name() const override { return "FloeQueuedEnv"; }

    void Schedule(void (*function)(void*), void* arg, Priority priority, void* tag,
                  void (*unschedule)(void*)) override {
        queue_->schedule({function, arg, priority, tag, unschedule});
    }
    int UnSchedule(void* tag, Priority priority) override {
        return queue_->unschedule(tag, priority);
    }
    unsigned int GetThreadPoolQueueLen(Priority priority) const override {
        return queue_->queued(priority);
    }
    int GetBackgroundThreads(Priority priority) override {
        return priority == Priority::LOW || priority == Priority::HIGH ? 1 : 0;
    }
    void SetBackgroundThreads(int /*number*/, Priority /*priority*/) override {}
    void IncBackgroundThreadsIfNeeded(int /*number*/, Priority /*priority*/) override {}

private:
    std::shared_ptr<BackgroundJobs::Queue> queue_;
};

}  // namespace

BackgroundJobs::BackgroundJobs(std::shared_ptr<rocksdb::FileSystem> fs)
    : queue_(std::make_shared<Queue>()), env_(std::make_unique<QueuedEnv>(std::move(fs), queue_)) {}

BackgroundJobs::~BackgroundJobs() {
    queue_->stop();
}

rocksdb::Env* BackgroundJobs::env() const {
    return env_.get();
}

void BackgroundJobs::settle() {
    queue_->drain();
}

BackgroundJobs::FreeRun::FreeRun(BackgroundJobs* jobs) : jobs_(jobs) {
    if (jobs_ != nullptr) {
        jobs_->queue_->release();
    }
}

BackgroundJobs::FreeRun::~FreeRun() {
    if (jobs_ != nullptr) {
        jobs_->queue_->hold();
    }
}

}  // namespace walrus
