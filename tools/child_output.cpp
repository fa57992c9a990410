#include "tools/child_output.h"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tools/argv.h"

extern char** environ;

namespace floe::tools {

namespace {

std::string read_all(int fd) {
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return text;
        }
        text.append(buffer, static_cast<size_t>(n));
    }
}

}  // namespace

ChildOutput run_child(std::vector<std::string> args) {
    ChildOutput child;
    char err_pattern[] = "/tmp/floe-bench-err-XXXXXX";
    const int err_fd = mkstemp(err_pattern);
    int out_pipe[2] = {-1, -1};
    if (err_fd < 0 || pipe(out_pipe) != 0) {
        child.how_it_ended = "could not start (no temporary file or pipe)";
        if (err_fd >= 0) {
            close(err_fd);
            unlink(err_pattern);
        }
        return child;
    }
    unlink(err_pattern);
    std::vector<char*> argv = argv_of(args);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    if (spawned != 0) {
        close(out_pipe[0]);
        close(err_fd);
        child.how_it_ended = fmt::format("could not start: {}", std::strerror(spawned));
        return child;
    }
    child.out = read_all(out_pipe[0]);
    close(out_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    (void)lseek(err_fd, 0, SEEK_SET);
    child.err = read_all(err_fd);
    close(err_fd);
    child.how_it_ended = WIFSIGNALED(status)
                             ? fmt::format("died of signal {}", WTERMSIG(status))
                             : fmt::format("exited with status {}", WEXITSTATUS(status));
    return child;
}

}  // namespace floe::tools
