// A PostgreSQL server child process on a free loopback port, with its data
// folder, Unix socket and log in a temporary folder of its own, for tests.
//
// The server comes from Debian's postgresql package (initdb and postgres under
// /usr/lib/postgresql/VERSION/bin, the highest version found). It trusts every
// local connection, listens on 127.0.0.1 only, and runs with fsync=off, which
// is fast and loses data only if the machine itself crashes. Its superuser is
// "postgres", and start() creates the database "smmhub".
//
// PostgreSQL refuses to run as root, so when the tests run as root the server
// runs as the "postgres" system user (or "nobody" without it), which owns the
// temporary folder.
//
// Users of this header link libpq (PkgConfig::LIBPQ).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <libpq-fe.h>

#include "testing/free_port.h"

extern char** environ;

namespace smmhub::testing {

class LocalPostgres {
 public:
  LocalPostgres() = default;
  ~LocalPostgres() {
    stop(SIGINT);
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }
  LocalPostgres(const LocalPostgres&) = delete;
  LocalPostgres& operator=(const LocalPostgres&) = delete;
  LocalPostgres(LocalPostgres&&) = delete;
  LocalPostgres& operator=(LocalPostgres&&) = delete;

  // Adds server settings ("NAME=VALUE") that override the defaults, such as
  // "fsync=on" for a benchmark of durable commits. Call before start().
  void addSettings(std::vector<std::string> settings) {
    settings_.insert(settings_.end(), settings.begin(), settings.end());
  }

  // Starts the server: the first time on a free port with a new data folder
  // and the database "smmhub", after a stop on the same port and data.
  // Returns an empty string, or what went wrong with the end of the log.
  // NOTE: the server gets SIGQUIT when the thread that started it ends, so
  // start it from a thread that lives as long as the server, such as the
  // main thread.
  std::string start() {
    if (dir_.empty()) {
      std::string error = makeFolder();
      if (!error.empty()) {
        return error;
      }
    }
    if (!std::filesystem::exists(dir_ / "data" / "PG_VERSION")) {
      std::string error = initdb();
      if (!error.empty()) {
        return error;
      }
    }
    if (port_ == 0) {
      port_ = freeLoopbackPort();
    }

    // After a SIGKILL, the old server's backends take a moment to notice and
    // exit, and a new server refuses to start while they hold its shared
    // memory, so a server that exits at once is started again.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string error = launch();
    while (!error.empty() && killed_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      error = launch();
    }
    killed_ = false;
    return error.empty() ? ensureDatabase("smmhub") : error;
  }

  // Stops the server with SIGNAL and waits for it: SIGINT is PostgreSQL's fast
  // shutdown, SIGTERM waits for clients to disconnect, and SIGKILL stops it at
  // once, as a crash would. A server still running after 30 seconds is killed.
  void stop(int signal) {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, signal);
    killed_ = signal == SIGKILL;
    if (!waitForExit(pid_, std::chrono::seconds(30)).has_value()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  int port() const { return port_; }

  // Returns the URL of DATABASE on this server, for the superuser over TCP.
  std::string url(const std::string& database = "smmhub") const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }

  // Runs SQL (one or more statements without results) in DATABASE as the
  // superuser. Returns an empty string, or the server's error.
  std::string execute(const std::string& sql, const std::string& database = "postgres") const {
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                           " user=postgres connect_timeout=5 dbname=" + database;
    PGconn* connection = PQconnectdb(conninfo.c_str());
    std::string error;
    if (PQstatus(connection) != CONNECTION_OK) {
      error = PQerrorMessage(connection);
    } else {
      PGresult* result = PQexec(connection, sql.c_str());
      ExecStatusType status = PQresultStatus(result);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        error = PQresultErrorMessage(result);
      }
      PQclear(result);
    }
    PQfinish(connection);
    return error;
  }

  // Creates the empty database NAME. Returns an empty string, or the error.
  std::string createDatabase(const std::string& name) const {
    return execute("CREATE DATABASE \"" + name + "\"");
  }

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path logPath() const { return dir_ / "postgres.log"; }

 private:
  // Returns the bin folder of the highest PostgreSQL version installed, or an
  // empty path.
  static std::filesystem::path findBinDir() {
    std::filesystem::path best;
    int best_version = -1;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", error)) {
      std::string name = entry.path().filename().string();
      bool numeric = !name.empty() && std::all_of(name.begin(), name.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
      if (!numeric || !std::filesystem::exists(entry.path() / "bin" / "postgres")) {
        continue;
      }
      int version = std::stoi(name);
      if (version > best_version) {
        best_version = version;
        best = entry.path() / "bin";
      }
    }
    return best;
  }

  // Returns the last lines of the file at PATH, for error messages.
  static std::string tail(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    std::string all = text.str();
    constexpr std::size_t kMaxBytes = 2000;
    return all.size() > kMaxBytes ? "..." + all.substr(all.size() - kMaxBytes) : all;
  }

  // Waits up to TIMEOUT for the child PID to exit. Returns its wait status, or
  // nothing when it still runs.
  static std::optional<int> waitForExit(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        return status;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  static std::string describeExit(int status) {
    if (WIFEXITED(status)) {
      return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    return "was killed by signal " + std::to_string(WTERMSIG(status));
  }

  // Makes the temporary folder and, when running as root, picks the user
  // that runs the server and gives the folder to it.
  std::string makeFolder() {
    bin_dir_ = findBinDir();
    if (bin_dir_.empty()) {
      return "PostgreSQL is not installed in /usr/lib/postgresql; run scripts/setup";
    }
    std::string pattern =
        (std::filesystem::temp_directory_path() / "smmhub-postgres-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return "cannot make a folder for PostgreSQL from " + pattern;
    }
    dir_ = pattern;
    if (::geteuid() != 0) {
      return "";
    }

    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    for (const char* name : {"postgres", "nobody"}) {
      if (::getpwnam_r(name, &entry, buffer.data(), buffer.size(), &found) == 0 &&
          found != nullptr) {
        break;
      }
    }
    if (found == nullptr) {
      return "running as root, and neither the user postgres nor nobody exists to run PostgreSQL";
    }
    run_as_uid_ = found->pw_uid;
    run_as_gid_ = found->pw_gid;
    if (::chown(dir_.c_str(), run_as_uid_, run_as_gid_) != 0) {
      return "cannot give " + dir_.string() + " to the user " + found->pw_name;
    }
    return "";
  }

  // Starts the program ARGS[0] with ARGS as the server's user, with its output
  // appended to LOG. Returns the child's pid, or -1.
  pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) const {
    // The child of fork() in a process with threads may only make
    // async-signal-safe calls, so everything it needs is made here.
    std::vector<std::string> copies = args;
    std::vector<char*> argv;
    for (auto& arg : copies) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::string log_path = log.string();
    std::string work_dir = dir_.string();
    pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid != 0) {
      return pid;
    }
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || ::dup2(fd, STDOUT_FILENO) < 0 || ::dup2(fd, STDERR_FILENO) < 0) {
      ::_exit(126);
    }
    // The server keeps none of the test's files and sockets open.
    ::close_range(3, ~0U, 0);
    if (::chdir(work_dir.c_str()) != 0) {
      failChild("cannot change to the server's folder\n");
    }
    if (run_as_uid_ != 0 && (::setgroups(0, nullptr) != 0 || ::setgid(run_as_gid_) != 0 ||
                             ::setuid(run_as_uid_) != 0)) {
      failChild("cannot switch to the server's user\n");
    }
    // SIGQUIT is PostgreSQL's immediate shutdown: the server goes with the
    // test process even when that one crashes. Changing the user clears the
    // setting, hence its place after setuid().
    ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (::getppid() != parent) {
      ::_exit(126);
    }
    ::execve(argv[0], argv.data(), environ);
    failChild("cannot run the program\n");
  }

  // Writes MESSAGE to the log from the child of fork() and exits.
  [[noreturn]] static void failChild(std::string_view message) {
    ssize_t ignored = ::write(STDERR_FILENO, message.data(), message.size());
    (void)ignored;
    ::_exit(127);
  }

  std::string initdb() {
    std::filesystem::path log = dir_ / "initdb.log";
    std::vector<std::string> args = {(bin_dir_ / "initdb").string(),
                                     "--pgdata",
                                     (dir_ / "data").string(),
                                     "--username",
                                     "postgres",
                                     "--auth",
                                     "trust",
                                     "--encoding",
                                     "UTF8",
                                     "--locale",
                                     "C",
                                     "--no-sync"};
    pid_t pid = spawn(args, log);
    if (pid < 0) {
      return "cannot start initdb";
    }
    int status = waitForExit(pid, std::chrono::minutes(2)).value_or(-1);
    if (status == -1) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return "initdb did not finish in 2 minutes: " + tail(log);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return "initdb " + describeExit(status) + ": " + tail(log);
    }
    return "";
  }

  // Starts the server and waits until it accepts connections.
  std::string launch() {
    std::vector<std::string> args = {(bin_dir_ / "postgres").string(),
                                     "-D",
                                     (dir_ / "data").string(),
                                     "-p",
                                     std::to_string(port_),
                                     "-k",
                                     dir_.string(),
                                     "-c",
                                     "listen_addresses=127.0.0.1",
                                     "-c",
                                     "fsync=off",
                                     "-c",
                                     "synchronous_commit=off",
                                     "-c",
                                     "full_page_writes=off"};
    for (const std::string& setting : settings_) {
      args.insert(args.end(), {"-c", setting});
    }
    pid_ = spawn(args, logPath());
    if (pid_ < 0) {
      return "cannot start postgres";
    }

    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                           " user=postgres dbname=postgres connect_timeout=2";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) {
        return "";
      }
      std::optional<int> status = waitForExit(pid_, std::chrono::milliseconds(20));
      if (status.has_value()) {
        pid_ = -1;
        return "postgres on port " + std::to_string(port_) + " " + describeExit(*status) + ": " +
               tail(logPath());
      }
    }
    stop(SIGKILL);
    return "postgres did not accept connections on port " + std::to_string(port_) +
           " within 30 seconds: " + tail(logPath());
  }

  // Creates the database NAME unless it exists.
  std::string ensureDatabase(const std::string& name) const {
    std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                           " user=postgres dbname=postgres connect_timeout=5";
    PGconn* connection = PQconnectdb(conninfo.c_str());
    const char* values[] = {name.c_str()};
    PGresult* result = PQexecParams(connection, "SELECT 1 FROM pg_database WHERE datname = $1", 1,
                                    nullptr, values, nullptr, nullptr, 0);
    bool exists = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1;
    PQclear(result);
    PQfinish(connection);
    return exists ? "" : createDatabase(name);
  }

  std::filesystem::path bin_dir_;
  std::filesystem::path dir_;
  std::vector<std::string> settings_;
  uid_t run_as_uid_ = 0;
  gid_t run_as_gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
  // Whether the last stop was a SIGKILL.
  bool killed_ = false;
};

}  // namespace smmhub::testing
