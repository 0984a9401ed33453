// Child processes for the benchmarks: start one with its output in a file
// descriptor, or run one to the end and keep its standard output.
#pragma once

#include <spawn.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace smmhub::bench {

inline double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// Starts ARGS[0] with ARGS, its stdout to OUT_FD and stderr to ERR_FD when
// they are not -1. Returns the pid, or -1.
inline pid_t spawn(std::vector<std::string> args, int out_fd, int err_fd) {
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  }
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  }
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Runs ARGS to the end and returns its exit status and standard output.
inline std::pair<int, std::string> runCommand(const std::vector<std::string>& args, int err_fd) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    return {-1, ""};
  }
  pid_t pid = spawn(args, pipe_fds[1], err_fd);
  close(pipe_fds[1]);
  std::string output;
  std::array<char, 512> buffer{};
  for (ssize_t n; (n = read(pipe_fds[0], buffer.data(), buffer.size())) > 0;) {
    output.append(buffer.data(), static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    return {-1, output};
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

}  // namespace smmhub::bench
