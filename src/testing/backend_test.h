// A gtest fixture base for tests that run on both SQL back ends: SQLite in
// a temporary folder, and PostgreSQL from one server per test suite with an
// empty database per test.
//
//   class LedgerTest : public smmhub::testing::BackendTest {};
//   TEST_P(LedgerTest, ...) { auto db = store::Database::open({.url = makeDatabaseUrl()}); }
//   INSTANTIATE_TEST_SUITE_P(Backends, LedgerTest, smmhub::testing::kBackends,
//                            smmhub::testing::backendName);
#pragma once

#include <unistd.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/database.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace smmhub::testing {

inline const auto kBackends =
    ::testing::Values(store::Backend::kSqlite, store::Backend::kPostgresql);

// Names a test case after its back end: "Sqlite" or "Postgresql".
inline std::string backendName(const ::testing::TestParamInfo<store::Backend>& info) {
  return info.param == store::Backend::kSqlite ? "Sqlite" : "Postgresql";
}

class BackendTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  static void TearDownTestSuite() {
    delete postgres_;
    postgres_ = nullptr;
  }

  // Opens an empty, migrated database for the running test. Returns null,
  // with a test failure, when it cannot.
  std::unique_ptr<store::Database> openTestDatabase() {
    Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = makeDatabaseUrl()});
    EXPECT_TRUE(db.ok()) << db.status().toString();
    return db.ok() ? std::move(*db) : nullptr;
  }

  // Returns the URL of an empty database for the running test. The
  // PostgreSQL server starts at the suite's first use, on this thread.
  std::string makeDatabaseUrl() {
    if (GetParam() == store::Backend::kSqlite) {
      return "sqlite:" + database_dir_.file("test.db").string();
    }
    if (postgres_ == nullptr) {
      postgres_ = new PostgresServer();
    }
    static int made = 0;
    return postgres_->createDatabase("test_" + std::to_string(::getpid()) + "_" +
                                     std::to_string(made++));
  }

 private:
  inline static PostgresServer* postgres_ = nullptr;
  TempDir database_dir_;
};

}  // namespace smmhub::testing
