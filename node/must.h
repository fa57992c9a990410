#pragma once
// A write to the node's own database that fails without a crash is an injected fault; the
// model has no way to continue consistently, so it is treated like a crash of the operation:
// the event stays incomplete and is replayed after the next restart. For now this is a bug.

#include "node/node_storage.h"
#include "sim/result.h"

namespace walrus {

template <class T>
void must(const sim::Result<T, StoreError>& result, const char* what) {
    FLOE_ASSERT(result.ok(), "{} failed: {}", what, store_error_name(result.error()));
}

}  // namespace walrus
