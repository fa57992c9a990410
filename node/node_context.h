#pragma once
// What a storage node is built from (besides its database): its place in the world.

#include <cstdint>

#include "node/config.h"
#include "node/messages.h"
#include "node/store/disk.h"

namespace walrus {

struct NodeContext {
    NodeIndex index = 0;
    uint32_t n_shards = 0;
    NodeConfig config;
    Directory directory;
    Disk* disk = nullptr;  // the node's medium, owned by the world (it survives crashes)
};

}  // namespace walrus
