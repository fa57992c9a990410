#include "node/store/options_file_check.h"

#include <dlfcn.h>
#include <rocksdb/convenience.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>
#include <rocksdb/version.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sim/assert.h"

static_assert(ROCKSDB_MAJOR == 7 && ROCKSDB_MINOR == 8 && ROCKSDB_PATCH == 3,
              "options_file_check mirrors the reads of RocksDB 7.8.3's options parser: check "
              "options/options_parser.cc, file/line_file_reader.cc and "
              "file/sequence_file_reader.cc of the new version before changing this");

// The mangled name of rocksdb::RocksDBOptionsParser::VerifyRocksDBOptionsFromFile(const
// ConfigOptions&, const DBOptions&, const std::vector<std::string>&, const
// std::vector<ColumnFamilyOptions>&, const std::string&, FileSystem*), as librocksdb exports it.
#define FLOE_VERIFY_OPTIONS_SYMBOL                                                               \
    "_ZN7rocksdb20RocksDBOptionsParser28VerifyRocksDBOptionsFromFileERKNS_13ConfigOptionsERKNS_" \
    "9DBOptionsERKSt6vectorINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEESaISD_EERKS7_"   \
    "INS_19ColumnFamilyOptionsESaISI_EERKSD_PNS_10FileSystemE"

// The replacement. Its name is the mangled name of RocksDB's own, so the dynamic linker binds
// librocksdb's PLT call in PersistRocksDBOptions to it (the executable comes first in the lookup
// order); RocksDB's stays reachable through dlsym(RTLD_NEXT).
rocksdb::Status floe_verify_rocksdb_options_from_file(
    const rocksdb::ConfigOptions& config, const rocksdb::DBOptions& db_options,
    const std::vector<std::string>& cf_names,
    const std::vector<rocksdb::ColumnFamilyOptions>& cf_options, const std::string& file_name,
    rocksdb::FileSystem* fs) __asm__(FLOE_VERIFY_OPTIONS_SYMBOL);

namespace walrus {

namespace {

std::atomic<OptionsFileCheck> check_mode{OptionsFileCheck::reads_only};
std::atomic<uint64_t> checked{0};

using VerifyFn = rocksdb::Status (*)(const rocksdb::ConfigOptions&, const rocksdb::DBOptions&,
                                     const std::vector<std::string>&,
                                     const std::vector<rocksdb::ColumnFamilyOptions>&,
                                     const std::string&, rocksdb::FileSystem*);

VerifyFn rocksdb_verify() {
    static const auto fn = [] {
        void* found = dlsym(RTLD_NEXT, FLOE_VERIFY_OPTIONS_SYMBOL);
        FLOE_ASSERT(found != nullptr, "librocksdb has no {}", FLOE_VERIFY_OPTIONS_SYMBOL);
        return reinterpret_cast<VerifyFn>(found);  // NOLINT: dlsym's only way
    }();
    return fn;
}

// RocksDB 7.8.3's RocksDBOptionsParser::Parse reads the file line by line through a
// LineFileReader, which asks for 8 KiB at a time until it gets fewer, from a
// SequentialFileReader (one read of the file per read asked, without a rate limiter) over a
// ReadaheadSequentialFile of `file_readahead_size` rounded up to the file's alignment (or over
// the file itself when the alignment is at least that: NewReadaheadSequentialFile). This
// replays the readahead file's bookkeeping (file/sequence_file_reader.cc) so that the file sees
// the same reads of the same sizes; only the bytes go unparsed.
class ParserReads {
public:
    ParserReads(rocksdb::FSSequentialFile& file, size_t file_readahead_size)
        : file_(file), alignment_(file.GetRequiredBufferAlignment()) {
        if (alignment_ < file_readahead_size) {
            readahead_ = (file_readahead_size + alignment_ - 1) / alignment_ * alignment_;
            // Not zero-filled, as RocksDB's AlignedBuffer is not: filling 512 KiB of fresh
            // pages at every OPTIONS file was 1-2 % of a simtest seed.
            buffer_ = std::make_unique_for_overwrite<char[]>(readahead_);
        }
    }

    // Every LineFileReader read until a short one or a failed one, whose status it returns.
    rocksdb::Status read_to_end() {
        constexpr size_t line_reader_buffer = 8192;  // LineFileReader::buf_
        std::string scratch(line_reader_buffer, '\0');
        for (;;) {
            size_t got = 0;
            const rocksdb::IOStatus status =
                readahead_ == 0 ? read_file(line_reader_buffer, scratch.data(), got)
                                : read_ahead(line_reader_buffer, scratch.data(), got);
            if (!status.ok()) {
                return status;
            }
            if (got != line_reader_buffer) {
                return rocksdb::Status::OK();
            }
        }
    }

private:
    rocksdb::IOStatus read_file(size_t n, char* into, size_t& got) {
        rocksdb::Slice result;
        const rocksdb::IOStatus status =
            file_.Read(n, rocksdb::IOOptions(), &result, into, nullptr);
        got = status.ok() ? result.size() : 0;
        return status;
    }

    // ReadaheadSequentialFile::TryReadFromCache, without copying.
    bool from_buffer(size_t n, size_t& cached) {
        if (read_offset_ < buffer_offset_ || read_offset_ >= buffer_offset_ + buffer_size_) {
            cached = 0;
            return false;
        }
        cached = std::min<size_t>(buffer_offset_ + buffer_size_ - read_offset_, n);
        read_offset_ += cached;
        return true;
    }

    // ReadaheadSequentialFile::Read.
    rocksdb::IOStatus read_ahead(size_t n, char* into, size_t& got) {
        size_t cached = 0;
        if (from_buffer(n, cached) && (cached == n || buffer_size_ < readahead_)) {
            got = cached;
            return rocksdb::IOStatus::OK();
        }
        n -= cached;
        if (n + alignment_ >= readahead_) {
            size_t direct = 0;
            const rocksdb::IOStatus status = read_file(n, into, direct);
            read_offset_ += direct;
            got = cached + direct;
            buffer_size_ = 0;
            return status;
        }
        size_t filled = 0;
        const rocksdb::IOStatus status = read_file(readahead_, buffer_.get(), filled);
        if (!status.ok()) {
            return status;
        }
        buffer_offset_ = read_offset_;
        buffer_size_ = filled;
        size_t rest = 0;
        (void)from_buffer(n, rest);
        got = cached + rest;
        return status;
    }

    rocksdb::FSSequentialFile& file_;
    const size_t alignment_;
    size_t readahead_ = 0;  // 0: no readahead file
    std::unique_ptr<char[]> buffer_;
    uint64_t buffer_offset_ = 0;
    size_t buffer_size_ = 0;
    uint64_t read_offset_ = 0;
};

// The reads RocksDB 7.8.3's RocksDBOptionsParser::Parse makes, and their status: it opens the
// file with default FileOptions, reads it to the end, and a failed read ends the parse with
// that read's status (LineFileReader::GetStatus).
rocksdb::Status make_the_parsers_reads(const rocksdb::ConfigOptions& config,
                                       const std::string& file_name, rocksdb::FileSystem* fs) {
    std::unique_ptr<rocksdb::FSSequentialFile> file;
    const rocksdb::IOStatus opened =
        fs->NewSequentialFile(file_name, rocksdb::FileOptions(), &file, nullptr);
    if (!opened.ok()) {
        return opened;
    }
    return ParserReads(*file, config.file_readahead_size).read_to_end();
}

}  // namespace

void set_options_file_check(OptionsFileCheck check) {
    check_mode.store(check);
}

OptionsFileCheck options_file_check() {
    return check_mode.load();
}

uint64_t options_files_checked() {
    return checked.load();
}

rocksdb::Status check_options_file(const rocksdb::ConfigOptions& config,
                                   const rocksdb::DBOptions& db_options,
                                   const std::vector<std::string>& cf_names,
                                   const std::vector<rocksdb::ColumnFamilyOptions>& cf_options,
                                   const std::string& file_name, rocksdb::FileSystem* fs) {
    return floe_verify_rocksdb_options_from_file(config, db_options, cf_names, cf_options,
                                                 file_name, fs);
}

}  // namespace walrus

rocksdb::Status floe_verify_rocksdb_options_from_file(
    const rocksdb::ConfigOptions& config, const rocksdb::DBOptions& db_options,
    const std::vector<std::string>& cf_names,
    const std::vector<rocksdb::ColumnFamilyOptions>& cf_options, const std::string& file_name,
    rocksdb::FileSystem* fs) {
    ++walrus::checked;
    if (walrus::check_mode.load() == walrus::OptionsFileCheck::rocksdb_parse) {
        return walrus::rocksdb_verify()(config, db_options, cf_names, cf_options, file_name, fs);
    }
    return walrus::make_the_parsers_reads(config, file_name, fs);
}
