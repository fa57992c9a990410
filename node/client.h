#pragma once
// The writer workload of the simtests (walrus-recovery-spec.md §12): write blobs, read them
// back, sometimes extend or delete them. "All requests should succeed even if a node crashes":
// every operation must finish within its deadline while at most f shards' worth of nodes are
// down; an operation that cannot is reported through `on_failure` and fails the run.

#include <functional>
#include <string>
#include <vector>

#include "node/messages.h"
#include "sim/runtime.h"

namespace walrus {

struct ClientConfig {
    sim::Duration pace = sim::Duration::millis(500);  // pause between operations
    sim::Duration op_deadline = sim::Duration::seconds(120);
    sim::Duration request_timeout = sim::Duration::seconds(2);  // §14 simtest reqwest timeout
    double deletable_share = 0.5;
    double extend_probability = 0.1;
    double delete_probability = 0.1;
    Epoch max_lifetime = 5;  // epochs a new blob is registered for: 1..max_lifetime
    // Share of writes that are inconsistently encoded (encoding.h): a malicious writer's blob,
    // certified if the honest shards reach a quorum, later invalidated by the node that cannot
    // recover its sliver. Best effort: such a write that cannot be certified is dropped, not a
    // failure. 0 draws nothing (the simtests' workload).
    double invalid_share = 0.0;
};

struct ClientStats {
    uint64_t written = 0;
    uint64_t read = 0;
    uint64_t extended = 0;
    uint64_t deleted = 0;
    uint64_t retries = 0;
    uint64_t invalid_written = 0;     // inconsistently encoded blobs certified
    uint64_t invalid_dropped = 0;     // ... that could not be
    uint64_t expired_while_read = 0;  // reads given up: the blob expired meanwhile
};

struct WrittenBlob {
    BlobId blob_id;
    uint64_t object_id = 0;
    bool deletable = false;
    Epoch end_epoch = 0;
    bool deleted = false;
};

class Client {
public:
    // Told what failed and where in the client it was found (file and line, for grouping
    // failures; never traced).
    using OnFailure = std::function<void(const std::string& what, const char* file, int line)>;
    Client(sim::Runtime& rt, Directory directory, uint32_t n_shards, ClientConfig config,
           OnFailure on_failure);

    // Runs the workload until stopped (the task is aborted) or an operation fails.
    void run();

    const ClientStats& stats() const { return stats_; }
    const std::vector<WrittenBlob>& blobs() const { return blobs_; }

private:
    bool write_blob();
    bool store_on_committee(const BlobMetadata& metadata, const Committee& committee,
                            sim::Instant deadline);
    // Reads the blob back; gives up (true) once the committee's epoch reaches `end_epoch`: the
    // blob expired, and the nodes may already have deleted its data.
    bool read_blob(const BlobId& blob, Epoch end_epoch, sim::Instant deadline);
    bool extend_or_delete();
    std::optional<BlobOpReply> chain_op(const BlobOp& op, sim::Instant deadline);
    std::optional<Committee> latest_committee(sim::Instant deadline);
    void fail(const std::string& what, const char* file = __builtin_FILE(),
              int line = __builtin_LINE());

    sim::Runtime& rt_;
    Directory directory_;
    uint32_t n_shards_;
    ClientConfig config_;
    OnFailure on_failure_;
    ClientStats stats_;
    std::vector<WrittenBlob> blobs_;
};

}  // namespace walrus
