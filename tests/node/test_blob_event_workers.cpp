// Walrus's blob-event workers (node/blob_event_workers.h): the worker of a blob is its first two
// bytes mod N, one blob's tasks run in order, different blobs' tasks interleave, and waiting
// for idle returns once every task handed out has returned.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/blob_event_workers.h"
#include "sim/simulation.h"

using namespace walrus;
using sim::Duration;

namespace {

BlobId blob_with_prefix(uint8_t b0, uint8_t b1) {
    BlobId blob;
    blob.bytes[0] = b0;
    blob.bytes[1] = b1;
    return blob;
}

}  // namespace

TEST_CASE("blob event workers: the worker is the first two bytes, big-endian, mod N") {
    CHECK(BlobEventWorkers::worker_of(blob_with_prefix(0, 5), 3) == 2);
    CHECK(BlobEventWorkers::worker_of(blob_with_prefix(1, 0), 3) == 256 % 3);
    CHECK(BlobEventWorkers::worker_of(blob_with_prefix(0xff, 0xff), 10) == 65535 % 10);
}

TEST_CASE("blob event workers: per-blob order, interleaving across blobs, wait until idle") {
    sim::SimulationConfig config;
    sim::Simulation sim(config);
    std::vector<std::string> log;
    bool idle_seen = false;
    const sim::HostId host = sim.add_host("node", [&](sim::Runtime& rt) {
        BlobEventWorkers workers(rt, 3);
        const BlobId slow = blob_with_prefix(0, 0);  // worker 0
        const BlobId fast = blob_with_prefix(0, 1);  // worker 1
        workers.dispatch(slow, [&] {
            rt.sleep(Duration::millis(25));
            log.push_back("slow-1");
        });
        workers.dispatch(slow, [&] { log.push_back("slow-2"); });
        workers.dispatch(fast, [&] { log.push_back("fast"); });
        CHECK(workers.pending() == 3);
        workers.wait_until_idle();
        idle_seen = workers.pending() == 0;
        log.push_back("idle");
        rt.sleep(Duration::seconds(1));
    });
    auto result = sim.run([&](sim::Runtime& rt) {
        sim.start(host);
        rt.sleep(Duration::seconds(2));
    });
    REQUIRE(result.passed());
    CHECK(idle_seen);
    CHECK(log == std::vector<std::string>{"fast", "slow-1", "slow-2", "idle"});
}
