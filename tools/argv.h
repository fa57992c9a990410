#pragma once
// The argv a posix_spawn call takes, pointing into `args` (which must outlive it), with the
// terminating null.

#include <string>
#include <vector>

namespace floe::tools {

inline std::vector<char*> argv_of(std::vector<std::string>& args) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    return argv;
}

}  // namespace floe::tools
