#include "node/invalid_blob.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "node/backoff.h"
#include "node/sites.h"

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

// PendingInvalidBlobAttestations: requests to the members go out at once (most shards first)
// and the certificate is complete as soon as the signers hold enough shards; a member that does
// not answer does not hold up the others.
uint32_t InvalidBlobFiler::collect(const InconsistencyProof& proof, const Committee& committee,
                                   std::set<NodeIndex>& signers) {
    // Shared with the request fibers, which may outlive this frame for an instant (the caller's
    // task can be cancelled while it waits): they touch nothing else.
    struct Round {
        uint32_t weight = 0;
        size_t outstanding = 0;
        std::set<NodeIndex> signed_now;
        sim::Event settled{"invalid-blob-certificate"};
    };
    auto round = std::make_shared<Round>();
    for (const CommitteeMember& member : committee.members) {
        round->weight +=
            signers.contains(member.node) ? static_cast<uint32_t>(member.shards.size()) : 0;
    }
    const uint32_t needed = certificate_weight(committee.n_shards);
    std::vector<sim::JoinHandle<sim::Unit>> requests;
    // Enough signers, or this task cancelled: the requests still out are not needed.
    struct AbortRequests {
        std::vector<sim::JoinHandle<sim::Unit>>& requests;
        ~AbortRequests() {
            for (auto& request : requests) {
                request.abort();
            }
        }
    } abort_requests{requests};
    for (const CommitteeMember& member : by_weight(committee)) {
        if (round->weight >= needed || signers.contains(member.node)) {
            continue;
        }
        ++round->outstanding;
        requests.push_back(rt.spawn(
            "invalid-blob-attestation",
            [rt = &rt, round, host = directory.nodes[member.node], proof, epoch = committee.epoch,
             node = member.node, weight = static_cast<uint32_t>(member.shards.size()), needed,
             timeout = config.invalidity_sync_timeout] {
                auto reply = rt->call<std::optional<InvalidBlobAttestation>>(
                    host, method::invalid_blob_attestation,
                    InvalidBlobAttestationRequest{proof, epoch}, timeout);
                if (reply.ok() && reply.value().has_value() && reply.value()->epoch == epoch) {
                    round->signed_now.insert(node);
                    round->weight += weight;
                }
                if (--round->outstanding == 0 || round->weight >= needed) {
                    round->settled.set();
                }
            }));
    }
    if (round->outstanding > 0 && round->weight < needed) {
        (void)round->settled.wait();
    }
    signers.insert(round->signed_now.begin(), round->signed_now.end());
    return round->weight;
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

bool InvalidBlobFiler::file(const InconsistencyProof& proof, const std::function<bool()>& retired,
                            bool give_up_when_retired) {
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
                return true;
            }
            FLOE_REACHABLE(rt, site::invalid_blob_certificate_refused);
            signers.clear();  // refused (the chain moved on): a new certificate
            continue;
        }
        if (retired()) {
            FLOE_REACHABLE(rt, site::walrus_finding_f7_certificate_for_retired_blob);
            if (give_up_when_retired) {
                rt.mark(fmt::format("inconsistency proof of retired blob {} given up",
                                    proof.blob.short_hex()));
                return false;
            }
        }
        rt.sleep(backoff.next(rt.rng("invalid-blob-certificate-retry")));
    }
}

}  // namespace walrus
