#pragma once
// Where Walrus panics. Every Walrus build profile sets panic = 'abort' (Cargo.toml), so a panic
// kills the storage node's process. floe models #3464 as it is, panics included: a run that
// reaches one fails at once, naming the Walrus source that panics, so the seed is a finding
// about Walrus (docs/FINDINGS.md), not a bug of floe. The call site hits the fail point its
// --new-behaviour names as condition first, so `floe sweep --explain` can re-run the seed with
// floe's earlier, non-panicking behaviour.
#include "sim/assert.h"

// WALRUS_PANIC("blob_sync.rs recover_sliver", "shard {} is managed by this node", shard)
#define WALRUS_PANIC(walrus_source, ...)                         \
    ::sim::assertion_failed("Walrus panics (" walrus_source ")", \
                            ::sim::detail::assert_message(__VA_ARGS__), __FILE__, __LINE__)
