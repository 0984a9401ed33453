// A redis-server child process on a free loopback port, with its files in a
// folder of its own, for tests and benchmarks.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "testing/free_port.h"

extern char** environ;

namespace smmhub::testing {

class LocalRedis {
 public:
  LocalRedis() = default;
  ~LocalRedis() {
    stop(SIGTERM);
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }
  LocalRedis(const LocalRedis&) = delete;
  LocalRedis& operator=(const LocalRedis&) = delete;

  // Adds redis-server options that override the defaults above, such as
  // {"--appendonly", "yes"}. Call before start().
  void addOptions(std::vector<std::string> options) {
    extra_args_.insert(extra_args_.end(), options.begin(), options.end());
  }

  // Starts the server on a free port, or on the last port after a stop.
  // Returns an empty string, or what went wrong.
  std::string start() {
    if (dir_.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "smmhub-redis-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) {
        return "cannot make a folder for redis-server";
      }
      dir_ = pattern;
    }
    if (port_ == 0) {
      port_ = freeLoopbackPort();
    }

    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.string(),
                                     "--maxmemory",
                                     "512mb",
                                     "--maxmemory-policy",
                                     "allkeys-lru",
                                     "--loglevel",
                                     "warning"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);

    // The server's own messages go to a log in its folder, not into the
    // output of the tests or the benchmark.
    std::string log = (dir_ / "redis.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int spawned = ::posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      pid_ = -1;
      return "redis-server is not installed; run scripts/setup";
    }

    for (int i = 0; i < 500 && !accepting(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return accepting() ? "" : "redis-server did not start on port " + std::to_string(port_);
  }

  // Stops the server with SIGNAL (SIGKILL: as a crash would) and waits.
  void stop(int signal) {
    if (pid_ > 0) {
      ::kill(pid_, signal);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  int port() const { return port_; }
  // The server's folder: its log, and its data files when persistence is on.
  const std::filesystem::path& dir() const { return dir_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  // Returns whether something accepts connections on the port.
  bool accepting() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    ::close(fd);
    return connected;
  }

  std::filesystem::path dir_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace smmhub::testing
