#pragma once
// RocksDB's background work (memtable flushes, compactions) for one disk, run one job at a
// time on a thread of its own, and only while the simulation waits for it.
//
// RocksDB hands its jobs to Env::Schedule. Left to Env::Default's shared pools they run
// whenever the OS likes, concurrently with the node's fiber: the bytes on the simulated disk at
// the moment of a power cut, and the order of file-system operations a fault can hit, would
// depend on thread timing. Here Schedule only queues. The store calls settle() after each call
// into RocksDB: the queue (and whatever the jobs schedule in turn) drains before the fiber goes
// on, so the disk's state at every point the simulation can observe is a function of the calls
// made. Calls that themselves wait for background work (a manual flush or compaction, Close)
// run inside a FreeRun scope, in which jobs run as they come; the store settles the queue
// first, so that no job queued before such a call races it (Close's UnSchedule against the
// worker: docs/FINDINGS.md, "A storage-fault run that was not deterministic").
//
// A stall would deadlock this (a write waiting for a flush that only settle() can run); none
// arises: settle() after every call leaves at most one immutable memtable per column family
// (RocksDB stops writes at max_write_buffer_number = 2) and keeps level 0 compacted.

#include <memory>

namespace rocksdb {
class Env;
class FileSystem;
}  // namespace rocksdb

namespace walrus {

class BackgroundJobs {
public:
    // An Env whose files are `fs` and whose background jobs are this queue's.
    explicit BackgroundJobs(std::shared_ptr<rocksdb::FileSystem> fs);
    BackgroundJobs(const BackgroundJobs&) = delete;
    BackgroundJobs& operator=(const BackgroundJobs&) = delete;
    ~BackgroundJobs();

    rocksdb::Env* env() const;

    // Runs every queued job, and the jobs they schedule, to completion; then returns.
    void settle();

    // While alive, jobs run as soon as they are queued (for RocksDB calls that wait for them).
    class FreeRun {
    public:
        explicit FreeRun(BackgroundJobs* jobs);  // null: nothing to release
        FreeRun(const FreeRun&) = delete;
        FreeRun& operator=(const FreeRun&) = delete;
        ~FreeRun();

    private:
        BackgroundJobs* jobs_;
    };

    struct Queue;  // background_jobs.cpp

private:
    std::shared_ptr<Queue> queue_;
    std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace walrus
