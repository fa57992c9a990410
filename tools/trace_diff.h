#pragma once
// The first divergence between two text traces (one event per line), for a run that was not
// deterministic: the lines just before it say what both runs agreed on, the two differing lines
// say where they parted. Both files are streamed; traces can be hundreds of MB.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace floe::tools {

struct Divergence {
    bool identical = false;           // same lines (a missing final newline is no difference)
    uint64_t equal_lines = 0;         // lines equal before the divergence, or all when identical
    uint64_t line = 0;                // 1-based number of the first differing line
    std::vector<std::string> before;  // up to `context` equal lines just before it: "   41  <text>"
    std::string left;                 // the differing lines; "<end of trace>" for the shorter side
    std::string right;
};

// nullopt with a one-line explanation in `error` if a file cannot be read.
std::optional<Divergence> first_divergence(const std::string& left_path,
                                           const std::string& right_path, size_t context,
                                           std::string& error);

// "first divergence at line N (event N)", the context lines, then "- left_name: <left line>"
// and "+ right_name: <right line>"; or one line saying the traces are identical.
void print_divergence(const Divergence& divergence, const std::string& left_name,
                      const std::string& right_name, std::FILE* out);

}  // namespace floe::tools
