#pragma once
// Death tests: run `body` in a forked child and report how it ended and what it printed on
// stderr. Used to pin that bugs abort (always-on assertions) with the message, the virtual time
// and the repro command.

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

struct DeathResult {
    bool aborted = false;  // killed by SIGABRT
    std::string stderr_text;
};

template <class Body>
DeathResult run_in_child(Body body) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        return {};
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(pipe_fds[1], STDERR_FILENO);
        close(pipe_fds[0]);
        body();
        std::_Exit(0);
    }
    close(pipe_fds[1]);
    DeathResult result;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
        result.stderr_text.append(buffer, static_cast<size_t>(n));
    }
    close(pipe_fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    return result;
}
