#pragma once
// Helpers shared by the files that implement NodeStorage (node_storage.cpp, node_storage_gc.cpp);
// not part of its interface.

#include <utility>

#include "node/store/node_store.h"
#include "sim/assert.h"

namespace walrus::storage_internal {

inline CfRef fixed(Cf cf) {
    return CfRef{cf, 0};
}

template <class T>
T expect_ok(sim::Result<T, StoreError> result, const char* what) {
    // Reads of a node's own database do not fail in the simulation (the disk model has no read
    // faults yet); a failure here is a bug in the store layer.
    FLOE_ASSERT(result.ok(), "{} failed: {}", what, store_error_name(result.error()));
    return std::move(result).value();
}

}  // namespace walrus::storage_internal
