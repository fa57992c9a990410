#include "node/invalid_blob.h"

#include <fmt/format.h>

#include <algorithm>

#include "node/backoff.h"

namespace walrus {

std::optional<InvalidBlobAttestation> attest_invalid_blob(
    const NodeStorage& storage, NodeIndex self, Epoch committee_epoch,
    const InvalidBlobAttestationRequest& request) {
    if (request.epoch != committee_epoch) {
        return std::nullopt;
    }
    const auto metadata = storage.metadata(request.proof.blob);
    if (!metadata.has_value() || !verify_inconsistency_proof(request.proof, *metadata)) {
        return std::nullopt;
    }
    return InvalidBlobAttestation{self, committee_epoch};
}

namespace {

// bft::min_n_correct: n - f shards.
uint32_t certificate_weight(uint32_t n_shards) {
    return n_shards - max_faulty(n_shards);
}

// PendingInvalidBlobAttestations asks the members with the most shards first.
std::vector<CommitteeMember> by_weight(const Committee& committee) {
    std::vector<CommitteeMember> members = committee.members;
    std::stable_sort(members.begin(), members.end(),
                     [](const CommitteeMember& a, const CommitteeMember& b) {
                         return a.shards.size() > b.shards.size();
                     });
    return members;
}

}  // namespace

uint32_t InvalidBlobFiler::collect(const InconsistencyProof& proof, const Committee& committee,
                                   std::set<NodeIndex>& signers) {
    uint32_t weight = 0;
    for (const CommitteeMember& member : committee.members) {
        weight += signers.contains(member.node) ? static_cast<uint32_t>(member.shards.size()) : 0;
    }
    const uint32_t needed = certificate_weight(committee.n_shards);
    for (const CommitteeMember& member : by_weight(committee)) {
        if (weight >= needed) {
            break;
        }
        if (signers.contains(member.node)) {
            continue;
        }
        auto reply = rt.call<std::optional<InvalidBlobAttestation>>(
            directory.nodes[member.node], method::invalid_blob_attestation,
            InvalidBlobAttestationRequest{proof, committee.epoch}, config.invalidity_sync_timeout);
        if (reply.ok() && reply.value().has_value() && reply.value()->epoch == committee.epoch) {
            signers.insert(member.node);
            weight += static_cast<uint32_t>(member.shards.size());
        }
    }
    return weight;
}

bool InvalidBlobFiler::submit(const BlobId& blob, Epoch epoch, uint32_t weight) {
    // contract_service invalidate_blob_id: retried with backoff until the chain answers.
    ExponentialBackoff backoff(config.retry_interval_min, config.retry_interval_max);
    while (true) {
        BlobOp op{BlobOp::Kind::invalidate, blob, 0, false, 0};
        op.cert_epoch = epoch;
        op.cert_weight = weight;
        auto reply = rt.call<BlobOpReply>(directory.chain, method::blob_op, op,
                                          config.metadata_request_timeout);
        if (reply.ok()) {
            return !reply.value().error.has_value();
        }
        rt.sleep(backoff.next(rt.rng("invalidate-retry")));
    }
}

void InvalidBlobFiler::file(const InconsistencyProof& proof) {
    rt.mark(fmt::format("inconsistency proof: blob {} {} sliver {}", proof.blob.short_hex(),
                        sliver_type_name(proof.type), proof.pair));
    ExponentialBackoff backoff(config.retry_interval_min, config.retry_interval_max);
    std::set<NodeIndex> signers;
    Epoch signers_epoch = 0;
    while (true) {
        const Committee committee = current_committee();
        if (committee.epoch != signers_epoch) {
            signers.clear();  // the certificate restarts with the committee
            signers_epoch = committee.epoch;
        }
        const uint32_t weight = collect(proof, committee, signers);
        if (weight >= certificate_weight(committee.n_shards)) {
            if (submit(proof.blob, committee.epoch, weight)) {
                rt.mark(fmt::format("invalidated blob {}", proof.blob.short_hex()));
                return;
            }
            signers.clear();  // refused (the chain moved on): a new certificate
            continue;
        }
        rt.sleep(backoff.next(rt.rng("invalid-blob-certificate-retry")));
    }
}

}  // namespace walrus
