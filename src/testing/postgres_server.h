// A real PostgreSQL server for tests: started on a free loopback port with its
// data in a temporary folder, and stopped when the object goes. Starting takes
// about a second, so a fixture usually makes one in SetUpTestSuite and gives
// each test a database of its own with createDatabase().
#pragma once

#include <signal.h>

#include <string>

#include <gtest/gtest.h>

#include "testing/local_postgres.h"

namespace smmhub::testing {

class PostgresServer {
 public:
  PostgresServer() : start_error_(postgres_.start()) { EXPECT_EQ(start_error_, ""); }

  // What went wrong when the server started, or an empty string.
  const std::string& startError() const { return start_error_; }

  int port() const { return postgres_.port(); }
  std::string url(const std::string& database = "smmhub") const { return postgres_.url(database); }

  // Creates the empty database NAME and returns its URL.
  std::string createDatabase(const std::string& name) {
    EXPECT_EQ(postgres_.createDatabase(name), "");
    return postgres_.url(name);
  }

  // Runs SQL in DATABASE as the superuser. Returns an empty string, or the error.
  std::string execute(const std::string& sql, const std::string& database = "postgres") {
    return postgres_.execute(sql, database);
  }

  // Kills the server at once, as a crash would.
  void kill() { postgres_.stop(SIGKILL); }

  // Starts the server again on the same port and data after a crash.
  void restart() {
    postgres_.stop(SIGKILL);
    start_error_ = postgres_.start();
    EXPECT_EQ(start_error_, "");
  }

 private:
  LocalPostgres postgres_;
  std::string start_error_;
};

}  // namespace smmhub::testing
