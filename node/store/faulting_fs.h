#pragma once
// A real directory's file system (`--data-dir`) behind a node's FaultGate: the fs-* faults a
// scenario arms (EIO, ENOSPC, a failed fsync or rename, a crash inside an operation) reach
// RocksDB on a real disk too, with process-crash semantics: nothing is lost, since the real disk
// keeps what it keeps and power loss needs the simulated disk (SimFs). A lying fsync skips the
// fsync, which only a power loss would show.

#include <memory>

#include "node/store/fault_gate.h"

namespace rocksdb {
class FileSystem;
}

namespace walrus {

std::shared_ptr<rocksdb::FileSystem> faulting_file_system(std::shared_ptr<rocksdb::FileSystem> base,
                                                          std::shared_ptr<FaultGate> gate);

}  // namespace walrus
