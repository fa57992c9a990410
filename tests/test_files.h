#pragma once
// Files for tests: a scratch directory, and a FILE* whose output a test can read.
#include <doctest/doctest.h>

#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace floe::testing {

// A fresh directory under /tmp, removed with everything in it.
struct ScratchDir {
    explicit ScratchDir(const std::string& prefix = "floe-test") {
        path = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        REQUIRE(mkdtemp(path.data()) != nullptr);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() { std::filesystem::remove_all(path); }

    std::string file(const std::string& name) const { return path + "/" + name; }
    // The names in the directory, sorted.
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(path)) {
            names.push_back(entry.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    std::string path;
};

// Everything a FILE* receives (open_memstream), for checking what a command prints.
struct CapturedOutput {
    CapturedOutput() : file(open_memstream(&buffer, &size)) { REQUIRE(file != nullptr); }
    CapturedOutput(const CapturedOutput&) = delete;
    CapturedOutput& operator=(const CapturedOutput&) = delete;
    ~CapturedOutput() {
        if (file != nullptr) {
            std::fclose(file);
        }
        std::free(buffer);
    }
    std::string text() {
        std::fflush(file);
        return std::string(buffer, size);
    }
    char* buffer = nullptr;
    size_t size = 0;
    std::FILE* file;
};

}  // namespace floe::testing
