#pragma once
// Invalid blobs (walrus-recovery-spec.md §6.4 step 3; Walrus blob_sync.rs
// sync_inconsistency_proof, committee request_futures.rs GetInvalidBlobCertificate, node.rs
// verify_inconsistency_proof, system_state_inner.move invalidate_blob_id, at fb097a2262).
//
// A node whose sliver recovery yields an inconsistency proof collects signed attestations of it
// from the current committee (largest shard holders first) until the signers hold
// n - floor((n - 1) / 3) shards, then calls invalidate_blob_id with that certificate; the chain
// emits InvalidBlobId, and every node drops the blob's data when it processes that event. The
// node side asks for more than the contract needs (one correct signer, 3w >= n + 1).

#include <functional>

#include "node/config.h"
#include "node/encoding.h"
#include "node/messages.h"
#include "node/node_storage.h"
#include "sim/runtime.h"

namespace walrus {

// The responder: signs for its committee epoch when the request is of that epoch, it holds the
// blob's metadata and the proof verifies against it.
std::optional<InvalidBlobAttestation> attest_invalid_blob(
    const NodeStorage& storage, NodeIndex self, Epoch committee_epoch,
    const InvalidBlobAttestationRequest& request);

struct InvalidBlobFiler {
    sim::Runtime& rt;
    const Directory& directory;
    const CommitteeServiceConfig& config;
    // The committee service's current committee (its epoch included); may wait for the chain.
    std::function<Committee()> current_committee;

    // Collects a certificate and submits it until the chain takes one; retries forever, as
    // Walrus's get_invalid_blob_certificate does (a blob sync's task is cancelled if the blob is
    // retired meanwhile; shard recovery is not). Between rounds `retired()` says whether the blob
    // was invalidated, deleted or expired here: the peers that dropped it cannot sign any more
    // (finding F7). With `give_up_when_retired` the filing then ends. True: the chain took it.
    bool file(const InconsistencyProof& proof, const std::function<bool()>& retired,
              bool give_up_when_retired);

private:
    uint32_t collect(const InconsistencyProof& proof, const Committee& committee,
                     std::set<NodeIndex>& signers);
    // true: the chain took it; false: its epoch is over, collect again.
    bool submit(const BlobId& blob, Epoch epoch, uint32_t weight);
};

}  // namespace walrus
