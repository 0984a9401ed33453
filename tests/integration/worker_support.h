// Child processes for the worker tests: `smmhub` and `smmhub-worker` started
// with posix_spawn, their output in files, and killed and reaped when the
// object goes, so that a failed assertion leaves no process behind.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace smmhub::testing {

inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Returns how many times NEEDLE occurs in TEXT.
inline int countOf(const std::string& text, const std::string& needle) {
  int count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    count++;
  }
  return count;
}

inline std::int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Calls CONDITION every 50 ms until it returns true or TIMEOUT passes.
// Returns its last result.
inline bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return condition();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// A child process with its stdout and stderr in files. The destructor
// kills it with SIGKILL when it still runs, and reaps it.
class ChildProcess {
 public:
  // Starts BINARY with ARGS. ENV entries ("NAME=VALUE") are added to this
  // process's environment. Check started() after.
  ChildProcess(const std::string& binary, std::vector<std::string> args,
               const std::vector<std::string>& env, std::filesystem::path out,
               std::filesystem::path err)
      : out_(std::move(out)), err_(std::move(err)) {
    args.insert(args.begin(), binary);
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_strings(env.begin(), env.end());
    std::vector<char*> envp;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      envp.push_back(*entry);
    }
    for (std::string& entry : env_strings) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }

  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&&) = delete;
  ChildProcess& operator=(ChildProcess&&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Returns whether the process still runs, and reaps it when it ended.
  bool running() {
    if (pid_ <= 0 || exited_) {
      return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    return true;
  }

  void signal(int signal_number) {
    if (running()) {
      ::kill(pid_, signal_number);
    }
  }

  // Kills the process with SIGKILL, as a crash would, and reaps it.
  void kill() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      status_ = 128 + SIGKILL;
    }
  }

  // Waits up to TIMEOUT for the process to end. Returns its exit status
  // (128 + N for signal N), or -1 when it still runs.
  int wait(std::chrono::milliseconds timeout) {
    waitUntil([this] { return !running(); }, timeout);
    return exited_ ? status_ : -1;
  }

  std::string out() const { return readText(out_); }
  std::string err() const { return readText(err_); }

 private:
  std::filesystem::path out_;
  std::filesystem::path err_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
};

}  // namespace smmhub::testing
