#pragma once
// floe's RocksDB options, shared by NodeStore and the replay of recorded store calls
// (store_ops.h), so that the replay's RocksDB is configured as the run's was.

#include <rocksdb/options.h>

#include <string_view>

#include "node/store/disk.h"
#include "node/store/node_store.h"

namespace walrus {

// The database's options on `disk`: its Env, memtable size, no stats dumps, OPTIONS-file errors
// as errors, floe's OPTIONS-file check, RocksDB's LOG as StoreOptions::info_log says.
rocksdb::Options db_options(const Disk& disk, const StoreOptions& options);
// A column family's options: memtable size, and blob_info's merge operator.
rocksdb::ColumnFamilyOptions cf_options(const StoreOptions& options, std::string_view name);

}  // namespace walrus
