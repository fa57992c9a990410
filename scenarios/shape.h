#pragma once
// The cluster's shape as typed parameters every scenario takes (issue 18): how many nodes and
// their weights, how many shards, the epoch's length, the workload's pace, and the recovery knobs
// of walrus-recovery-spec.md §14. Each is unset unless `--set` gives it, and then the scenario's
// own value stays (the simtests' cluster for most, the seed's draw for swarm); a given value
// replaces the scenario's after its build step. A scenario that declares a parameter of the same
// name itself (an `epoch` whose range its script needs) keeps its own.

#include <string>
#include <vector>

#include "scenarios/cluster.h"
#include "scenarios/params.h"

namespace floe::scenarios {

// The shape parameters, for every scenario (all_scenarios adds those it does not declare).
std::vector<ParamSpec> shape_params();

// Applies the shape parameters that were set. Returns an empty string, or a one-line usage error
// (weights and nodes that disagree).
std::string apply_shape(const Params& params, ClusterConfig& config);

}  // namespace floe::scenarios
