#pragma once
// Runs a child process of the floe CLI and collects what it printed, for the benches that run
// each seed or point in a process of its own (so that one that fails an assertion cannot end the
// bench).

#include <string>
#include <vector>

namespace floe::tools {

// What a child process printed, and how it ended.
struct ChildOutput {
    std::string out;
    std::string err;
    std::string how_it_ended;  // "exited with status N", "died of signal N", "could not start..."
};

// Runs `args` (args[0] is the executable) with stdout on a pipe and stderr in an unlinked
// temporary file (so a child that writes much to both never blocks on the one not being read),
// and waits for it.
ChildOutput run_child(std::vector<std::string> args);

}  // namespace floe::tools
