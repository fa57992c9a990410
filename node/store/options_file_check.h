#pragma once
// RocksDB's check of every OPTIONS file it writes, without the parse (ARCHITECTURE.md, "Where a
// seed's time goes").
//
// RocksDB 7.8 rewrites the database's OPTIONS file on every open and on every column family it
// creates or drops, listing every column family open, then reads the file back and parses it to
// verify it (PersistRocksDBOptions -> RocksDBOptionsParser::VerifyRocksDBOptionsFromFile). The
// parse builds every option of every column family from its string: 45 % of a
// lagging-node-recovery seed, with no option to turn it off. floe replaces that function (the
// executable's definition interposes on librocksdb's, which calls it through its PLT) with one
// that makes exactly the reads the parser makes, through the same FileSystem, and returns what
// they return. On floe's disks the parse cannot fail otherwise: the file holds exactly the bytes
// RocksDB serialized and synced a moment earlier in the same call (neither SimFs nor a real
// directory corrupts a read; a fault fails the read itself), and RocksDB verifies its own
// serialization. So every fault decision, every status and every trace stay what they were.
//
// Tied to Debian's RocksDB 7.8.3 (a static_assert says so): the replacement mirrors that
// version's reads, and a node test checks that it is the one RocksDB calls.

#include <cstdint>
#include <string>
#include <vector>

namespace rocksdb {
struct ColumnFamilyOptions;
struct ConfigOptions;
struct DBOptions;
class FileSystem;
class Status;
}  // namespace rocksdb

namespace walrus {

enum class OptionsFileCheck : uint8_t {
    reads_only,     // the default: the parser's reads, no parse
    rocksdb_parse,  // RocksDB's own function (tests compare the two)
};

void set_options_file_check(OptionsFileCheck check);
OptionsFileCheck options_file_check();
// How many OPTIONS files the replacement has been asked to check in this process, either way.
uint64_t options_files_checked();
// Checks an OPTIONS file as RocksDB does after writing one (through the replacement, so as the
// current mode says).
rocksdb::Status check_options_file(const rocksdb::ConfigOptions& config,
                                   const rocksdb::DBOptions& db_options,
                                   const std::vector<std::string>& cf_names,
                                   const std::vector<rocksdb::ColumnFamilyOptions>& cf_options,
                                   const std::string& file_name, rocksdb::FileSystem* fs);

}  // namespace walrus
