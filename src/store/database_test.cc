#include "store/database.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <soci/soci.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace smmhub::store {
namespace {

using namespace std::chrono_literals;

// A credit ledger row with the columns the tests vary.
struct Entry {
  std::string tenant = "acme";
  std::string op_key;
  std::string kind = "topup";
  std::int64_t amount = 100;
};

// Inserts ENTRY unless a row with its tenant and op_key exists. Returns the
// number of rows inserted.
std::int64_t insertEntry(soci::session& sql, const Entry& entry) {
  const std::int64_t created_at_ms = 1'767'225'600'000;
  const std::string event_id = "event-" + entry.op_key;
  soci::statement insert =
      (sql.prepare << "INSERT INTO ledger_entries (tenant, kind, amount, available_change, "
                      "held_change, op_key, event_id, created_at_ms, recorded_at_ms) "
                      "VALUES (:tenant, :kind, :amount, :available_change, 0, :op_key, "
                      ":event_id, :created_at_ms, :recorded_at_ms) "
                      "ON CONFLICT (tenant, op_key) DO NOTHING",
       soci::use(entry.tenant), soci::use(entry.kind), soci::use(entry.amount),
       soci::use(entry.amount), soci::use(entry.op_key), soci::use(event_id),
       soci::use(created_at_ms), soci::use(created_at_ms));
  insert.execute(true);
  return insert.get_affected_rows();
}

// Returns the number of rows in TABLE, or -1 when the read fails.
std::int64_t countRows(Database& database, const std::string& table) {
  std::int64_t rows = -1;
  Status status = database.read([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM " + table, soci::into(rows);
    return okStatus();
  });
  EXPECT_TRUE(status.ok()) << status.toString();
  return rows;
}

// Returns a loopback port that nothing listens on.
int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
               ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  EXPECT_TRUE(bound) << "cannot bind a socket on 127.0.0.1";
  return ntohs(address.sin_port);
}

std::unique_ptr<Database> openOrFail(DatabaseOptions options) {
  Result<std::unique_ptr<Database>> database = Database::open(std::move(options));
  EXPECT_TRUE(database.ok()) << database.status().toString();
  return database.ok() ? std::move(database).value() : nullptr;
}

// Runs every test on a SQLite file in a temporary folder and on a database of
// its own on a PostgreSQL server.
class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void TearDownTestSuite() { postgres_.reset(); }

  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      url_ = "sqlite:" + temp_.file("smmhub.db").string();
      return;
    }
    // One server serves the whole suite, started by its first PostgreSQL
    // test, so that a run of only the SQLite tests starts none.
    if (postgres_ == nullptr) {
      postgres_ = std::make_unique<testing::PostgresServer>();
    }
    ASSERT_EQ(postgres_->startError(), "");
    url_ = postgres_->createDatabase(databaseName());
  }

  std::unique_ptr<Database> open(DatabaseOptions options = {}) {
    options.url = url_;
    return openOrFail(std::move(options));
  }

  // Returns a PostgreSQL database name made from the test's name.
  static std::string databaseName() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      c = std::isalnum(static_cast<unsigned char>(c)) != 0
              ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
              : '_';
    }
    return name.substr(0, 63);
  }

  static std::unique_ptr<testing::PostgresServer> postgres_;
  testing::TempDir temp_;
  std::string url_;
};

std::unique_ptr<testing::PostgresServer> DatabaseTest::postgres_;

TEST_P(DatabaseTest, OpensAndMigrates) {
  auto database = open();
  ASSERT_NE(database, nullptr);
  int version = 0;
  std::string name;

  Status status = database->read([&](soci::session& sql) {
    sql << "SELECT version, name FROM schema_migrations WHERE version = 1", soci::into(version),
        soci::into(name);
    return okStatus();
  });

  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(database->backend(), GetParam());
  EXPECT_EQ(database->schemaVersion(), latestSchemaVersion());
  EXPECT_EQ(version, 1);
  EXPECT_EQ(name, "credit ledger");
  EXPECT_EQ(countRows(*database, "schema_migrations"), latestSchemaVersion());
  EXPECT_EQ(countRows(*database, "ledger_entries"), 0);
}

TEST_P(DatabaseTest, OpeningAgainAppliesNothing) {
  auto first = open();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first
                  ->write([](soci::session& sql) {
                    insertEntry(sql, {.op_key = "topup-1"});
                    return okStatus();
                  })
                  .ok());
  first.reset();

  auto second = open();

  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->schemaVersion(), latestSchemaVersion());
  EXPECT_EQ(countRows(*second, "schema_migrations"), latestSchemaVersion());
  EXPECT_EQ(countRows(*second, "ledger_entries"), 1);
}

TEST_P(DatabaseTest, ConcurrentOpenOfFreshDatabaseMigratesOnce) {
  constexpr int kOpeners = 4;
  std::latch start(kOpeners);
  std::vector<Status> statuses(kOpeners);
  std::vector<int> versions(kOpeners, -1);

  std::vector<std::thread> threads;
  threads.reserve(kOpeners);
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      Result<std::unique_ptr<Database>> database = Database::open({.url = url_});
      statuses[i] = database.ok() ? okStatus() : database.status();
      versions[i] = database.ok() ? (*database)->schemaVersion() : -1;
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  auto database = open();

  for (int i = 0; i < kOpeners; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << "opener " << i << ": " << statuses[i].toString();
    EXPECT_EQ(versions[i], latestSchemaVersion()) << "opener " << i;
  }
  ASSERT_NE(database, nullptr);
  EXPECT_EQ(countRows(*database, "schema_migrations"), latestSchemaVersion());
}

TEST_P(DatabaseTest, NewerSchemaIsRejected) {
  const int newer = latestSchemaVersion() + 6;
  auto database = open();
  ASSERT_NE(database, nullptr);
  ASSERT_TRUE(database
                  ->write([&](soci::session& sql) {
                    sql << "INSERT INTO schema_migrations (version, name) VALUES (:version, "
                           "'from a newer build')",
                        soci::use(newer);
                    return okStatus();
                  })
                  .ok());
  database.reset();

  Result<std::unique_ptr<Database>> reopened = Database::open({.url = url_});

  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reopened.status().message(),
            "database schema version " + std::to_string(newer) + " is newer than this build's " +
                std::to_string(latestSchemaVersion()) + "; upgrade smmhub");
}

TEST_P(DatabaseTest, WriteCommitsWhenFnSucceeds) {
  auto database = open();
  ASSERT_NE(database, nullptr);
  // 2^53 + 1: a double cannot hold it, so it shows that no step converts
  // through floating point.
  const std::int64_t amount = 9'007'199'254'740'993;
  std::int64_t inserted = 0;

  Status status = database->write([&](soci::session& sql) {
    inserted = insertEntry(sql, {.op_key = "topup-1", .amount = amount});
    inserted += insertEntry(sql, {.op_key = "refund-1", .kind = "adjustment", .amount = -amount});
    return okStatus();
  });
  // SOCI's own type for BIGINT, and the fixed-width one, which is long on
  // x86-64 Linux and reaches SOCI as long long too.
  long long read_amount = 0;  // NOLINT(google-runtime-int)
  std::int64_t read_negative = 0;
  std::string kind;
  Status read = database->read([&](soci::session& sql) {
    sql << "SELECT amount FROM ledger_entries WHERE op_key = 'topup-1'", soci::into(read_amount);
    sql << "SELECT amount, kind FROM ledger_entries WHERE op_key = 'refund-1'",
        soci::into(read_negative), soci::into(kind);
    return okStatus();
  });

  ASSERT_TRUE(status.ok()) << status.toString();
  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_EQ(inserted, 2);
  EXPECT_EQ(read_amount, amount);
  EXPECT_EQ(read_negative, -amount);
  EXPECT_EQ(kind, "adjustment");
}

TEST_P(DatabaseTest, WriteRollsBackWhenFnReturnsError) {
  auto database = open();
  ASSERT_NE(database, nullptr);

  Status status = database->write([](soci::session& sql) {
    insertEntry(sql, {.op_key = "charge-1"});
    return Status::failedPrecondition("tenant acme has 0 credits available, 100 needed");
  });

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "tenant acme has 0 credits available, 100 needed");
  EXPECT_EQ(countRows(*database, "ledger_entries"), 0);
}

TEST_P(DatabaseTest, WriteRollsBackWhenFnThrows) {
  // One session, so that the write after the failed one shows that the
  // session has no transaction left open.
  auto database = open({.pool_size = 1});
  ASSERT_NE(database, nullptr);

  Status thrown = database->write([](soci::session& sql) -> Status {
    insertEntry(sql, {.op_key = "charge-1"});
    throw std::runtime_error("render worker lost its lease");
  });
  Status next = database->write([](soci::session& sql) {
    insertEntry(sql, {.op_key = "charge-2"});
    return okStatus();
  });

  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_EQ(thrown.message(),
            "database " + database->displayUrl() + ": write failed: render worker lost its lease");
  EXPECT_TRUE(next.ok()) << next.toString();
  EXPECT_EQ(countRows(*database, "ledger_entries"), 1);
}

TEST_P(DatabaseTest, SqlErrorInWriteRollsBack) {
  auto database = open({.pool_size = 1});
  ASSERT_NE(database, nullptr);

  Status status = database->write([](soci::session& sql) {
    insertEntry(sql, {.op_key = "topup-1"});
    // The ledger's CHECK constraint rejects an unknown kind.
    insertEntry(sql, {.op_key = "gift-1", .kind = "gift"});
    return okStatus();
  });

  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(status.message().starts_with("database " + database->displayUrl() + ": "))
      << status.message();
  EXPECT_EQ(countRows(*database, "ledger_entries"), 0);
}

TEST_P(DatabaseTest, SqlErrorInReadIsUnavailable) {
  auto database = open();
  ASSERT_NE(database, nullptr);

  Status status = database->read([](soci::session& sql) {
    int value = 0;
    sql << "SELECT missing_column FROM ledger_entries", soci::into(value);
    return okStatus();
  });

  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(status.message().starts_with("database " + database->displayUrl() + ": "))
      << status.message();
  EXPECT_NE(status.message().find("missing_column"), std::string::npos) << status.message();
}

TEST_P(DatabaseTest, RepeatedOpKeyKeepsFirstRow) {
  auto database = open();
  ASSERT_NE(database, nullptr);
  std::int64_t first_inserted = -1;
  std::int64_t second_inserted = -1;

  Status first = database->write([&](soci::session& sql) {
    first_inserted = insertEntry(sql, {.op_key = "topup-7", .amount = 500});
    return okStatus();
  });
  Status second = database->write([&](soci::session& sql) {
    second_inserted = insertEntry(sql, {.op_key = "topup-7", .amount = 900});
    return okStatus();
  });
  Status other_tenant = database->write([&](soci::session& sql) {
    insertEntry(sql, {.tenant = "globex", .op_key = "topup-7", .amount = 900});
    return okStatus();
  });
  std::int64_t amount = 0;
  Status read = database->read([&](soci::session& sql) {
    sql << "SELECT amount FROM ledger_entries WHERE tenant = 'acme'", soci::into(amount);
    return okStatus();
  });

  ASSERT_TRUE(first.ok()) << first.toString();
  ASSERT_TRUE(second.ok()) << second.toString();
  ASSERT_TRUE(other_tenant.ok()) << other_tenant.toString();
  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_EQ(first_inserted, 1);
  EXPECT_EQ(second_inserted, 0);
  EXPECT_EQ(amount, 500);
  EXPECT_EQ(countRows(*database, "ledger_entries"), 2);
}

TEST_P(DatabaseTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 100;
  auto database = open();
  ASSERT_NE(database, nullptr);
  std::latch start(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::string> first_errors(kThreads);

  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kWritesPerThread; ++i) {
        Entry entry{.op_key = "op-" + std::to_string(t) + "-" + std::to_string(i), .amount = t};
        Status status = database->write([&](soci::session& sql) {
          insertEntry(sql, entry);
          return okStatus();
        });
        if (!status.ok()) {
          failures++;
          if (first_errors[t].empty()) {
            first_errors[t] = status.toString();
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  std::int64_t total = -1;
  Status read = database->read([&](soci::session& sql) {
    sql << "SELECT SUM(amount) FROM ledger_entries", soci::into(total);
    return okStatus();
  });

  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(first_errors[t], "") << "thread " << t;
  }
  EXPECT_EQ(countRows(*database, "ledger_entries"), kThreads * kWritesPerThread);
  ASSERT_TRUE(read.ok()) << read.toString();
  // Thread t wrote amount t, 100 times: 100 * (0 + 1 + ... + 7).
  EXPECT_EQ(total, 2800);
}

TEST_P(DatabaseTest, SessionsGetLockTimeout) {
  // Two sessions, both leased at once by the nested reads, so that both
  // are checked.
  auto database = open({.pool_size = 2, .lock_timeout = 1234ms});
  ASSERT_NE(database, nullptr);
  std::vector<std::string> timeouts;
  auto readTimeout = [&](soci::session& sql) {
    std::string timeout;
    if (GetParam() == Backend::kSqlite) {
      int busy_timeout_ms = 0;
      sql << "PRAGMA busy_timeout", soci::into(busy_timeout_ms);
      timeout = std::to_string(busy_timeout_ms) + "ms";
    } else {
      sql << "SHOW lock_timeout", soci::into(timeout);
    }
    timeouts.push_back(timeout);
  };

  Status status = database->read([&](soci::session& outer) {
    readTimeout(outer);
    return database->read([&](soci::session& inner) {
      readTimeout(inner);
      return okStatus();
    });
  });

  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(timeouts, (std::vector<std::string>{"1234ms", "1234ms"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgresql),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgresql";
                         });

TEST(DatabaseUrlTest, MalformedUrlsAreRejected) {
  struct Case {
    std::string url;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"mysql://x", "database URL 'mysql://x': expected sqlite:PATH or postgresql://..."},
      {"mysql://root:hunter2@db/x",
       "database URL 'mysql://root:***@db/x': expected sqlite:PATH or postgresql://..."},
      {"", "database URL '': expected sqlite:PATH or postgresql://..."},
      {"smmhub.db", "database URL 'smmhub.db': expected sqlite:PATH or postgresql://..."},
      {"sqlite:",
       "database URL 'sqlite:': the path after 'sqlite:' is empty; expected sqlite:PATH, such as "
       "sqlite:smmhub.db or sqlite:/var/lib/smmhub/smmhub.db"},
      {"sqlite://var/smmhub.db",
       "database URL 'sqlite://var/smmhub.db': expected sqlite:PATH without '//', such as "
       "sqlite:/var/lib/smmhub/smmhub.db"},
      {"sqlite::memory:",
       "database URL 'sqlite::memory:': each pooled session would get its own in-memory "
       "database; give a file path"},
      {"sqlite:a\"b.db",
       "database URL 'sqlite:a\"b.db': the path contains '\"', which SOCI's SQLite back end "
       "cannot open; rename the file"},
      {"postgresql://smmhub:hunter2@[::1/smmhub",
       "database URL 'postgresql://smmhub:***@[::1/smmhub': end of string reached when looking "
       "for matching \"]\" in IPv6 host address in URI: \"postgresql://smmhub:***@[::1/smmhub\""},
      {"postgresql://db.internal/smmhub?colour=blue",
       "database URL 'postgresql://db.internal/smmhub?colour=blue': invalid URI query parameter: "
       "\"colour\""},
      {"postgres://db.internal:five/smmhub",
       "database URL 'postgres://db.internal:five/smmhub': port 'five' is not a number from 1 to "
       "65535"},
      {"postgresql://db.internal:70000/smmhub",
       "database URL 'postgresql://db.internal:70000/smmhub': port '70000' is not a number from 1 "
       "to 65535"},
  };

  for (const Case& test : cases) {
    Result<std::unique_ptr<Database>> database = Database::open({.url = test.url});

    ASSERT_FALSE(database.ok()) << test.url;
    EXPECT_EQ(database.status().code(), StatusCode::kInvalidArgument) << test.url;
    EXPECT_EQ(database.status().message(), test.message) << test.url;
  }
}

TEST(DatabaseUrlTest, ZeroPoolSizeIsRejected) {
  testing::TempDir temp;
  std::string url = "sqlite:" + temp.file("smmhub.db").string();

  Result<std::unique_ptr<Database>> database = Database::open({.url = url, .pool_size = 0});

  ASSERT_FALSE(database.ok());
  EXPECT_EQ(database.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(database.status().message(),
            "database " + url + ": pool_size is 0; it must be at least 1");
}

TEST(DatabaseUrlTest, UnreachablePostgresqlIsUnavailable) {
  const std::string port = std::to_string(closedPort());

  Result<std::unique_ptr<Database>> database =
      Database::open({.url = "postgresql://smmhub:hunter2@127.0.0.1:" + port + "/smmhub"});

  ASSERT_FALSE(database.ok());
  const std::string& message = database.status().message();
  EXPECT_EQ(database.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(message.starts_with("cannot open database postgresql://smmhub:***@127.0.0.1:" + port +
                                  "/smmhub: "))
      << message;
  EXPECT_NE(message.find("Connection refused"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(DatabaseUrlTest, SqliteFileInMissingFolderIsUnavailable) {
  testing::TempDir temp;
  std::string url = "sqlite:" + temp.file("missing/smmhub.db").string();

  Result<std::unique_ptr<Database>> database = Database::open({.url = url});

  ASSERT_FALSE(database.ok());
  EXPECT_EQ(database.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(database.status().message(),
            "cannot open database " + url + ": unable to open database file");
}

TEST(SqliteDatabaseTest, SessionsUseWalAndForeignKeys) {
  testing::TempDir temp;
  auto database = openOrFail({.url = "sqlite:" + temp.file("smmhub.db").string()});
  ASSERT_NE(database, nullptr);
  std::string journal_mode;
  int foreign_keys = -1;
  int synchronous = -1;

  Status status = database->read([&](soci::session& sql) {
    sql << "PRAGMA journal_mode", soci::into(journal_mode);
    sql << "PRAGMA foreign_keys", soci::into(foreign_keys);
    sql << "PRAGMA synchronous", soci::into(synchronous);
    return okStatus();
  });

  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(journal_mode, "wal");
  EXPECT_EQ(foreign_keys, 1);
  EXPECT_EQ(synchronous, 1);  // NORMAL
  EXPECT_TRUE(std::filesystem::exists(temp.file("smmhub.db-wal")));
}

TEST(SqliteDatabaseTest, PathWithSpaceAndEqualsSignOpens) {
  testing::TempDir temp;
  std::filesystem::path path = temp.file("smmhub data=1.db");

  auto database = openOrFail({.url = "sqlite:" + path.string()});

  ASSERT_NE(database, nullptr);
  EXPECT_EQ(database->displayUrl(), "sqlite:" + path.string());
  EXPECT_TRUE(std::filesystem::exists(path));
}

// Holds SQLite's write lock through DATABASE for HOLD, and counts down
// LOCKED once it has it.
std::thread holdWriteLock(Database& database, std::chrono::milliseconds hold, std::latch& locked) {
  return std::thread([&database, hold, &locked] {
    Status status = database.write([&](soci::session& sql) {
      insertEntry(sql, {.op_key = "holder"});
      locked.count_down();
      std::this_thread::sleep_for(hold);
      return okStatus();
    });
    EXPECT_TRUE(status.ok()) << status.toString();
  });
}

TEST(SqliteDatabaseTest, BusyWriteWaitsAndRunsAgain) {
  testing::TempDir temp;
  std::string url = "sqlite:" + temp.file("smmhub.db").string();
  // Each attempt waits 50 ms for the lock, so only running the transaction
  // again gets past a holder of 200 ms.
  auto holder = openOrFail({.url = url});
  auto writer = openOrFail({.url = url, .lock_timeout = 50ms});
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(writer, nullptr);
  std::latch locked(1);

  std::thread thread = holdWriteLock(*holder, 200ms, locked);
  locked.wait();
  Status status = writer->write([](soci::session& sql) {
    insertEntry(sql, {.op_key = "writer"});
    return okStatus();
  });
  thread.join();

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(countRows(*writer, "ledger_entries"), 2);
}

TEST(SqliteDatabaseTest, WriteGivesUpWhileLockIsHeld) {
  testing::TempDir temp;
  std::string url = "sqlite:" + temp.file("smmhub.db").string();
  auto holder = openOrFail({.url = url});
  auto writer = openOrFail({.url = url, .lock_timeout = 20ms});
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(writer, nullptr);
  std::latch locked(1);
  int runs = 0;

  std::thread thread = holdWriteLock(*holder, 2s, locked);
  locked.wait();
  Status status = writer->write([&](soci::session& sql) {
    ++runs;
    insertEntry(sql, {.op_key = "writer"});
    return okStatus();
  });
  thread.join();

  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("database is locked"), std::string::npos) << status.message();
  // The lock is taken by BEGIN IMMEDIATE, before FN runs.
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(countRows(*writer, "ledger_entries"), 1);
}

TEST(SqliteDatabaseTest, ReadThenWriteTransactionsNeverConflict) {
  testing::TempDir temp;
  auto database = openOrFail({.url = "sqlite:" + temp.file("smmhub.db").string()});
  ASSERT_NE(database, nullptr);
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 50;
  std::latch start(kThreads);
  std::atomic<int> runs{0};
  std::atomic<int> failures{0};

  // Each transaction reads the highest amount and writes the next one. A
  // transaction that took SQLite's write lock only at its INSERT would fail
  // with SQLITE_BUSY whenever another one had committed since its SELECT.
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kWritesPerThread; ++i) {
        Status status = database->write([&](soci::session& sql) {
          ++runs;
          std::int64_t highest = 0;
          soci::indicator indicator = soci::i_ok;
          sql << "SELECT MAX(amount) FROM ledger_entries", soci::into(highest, indicator);
          Entry entry{.op_key = "op-" + std::to_string(t) + "-" + std::to_string(i),
                      .amount = (indicator == soci::i_null ? 0 : highest) + 1};
          insertEntry(sql, entry);
          return okStatus();
        });
        if (!status.ok()) {
          failures++;
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  std::int64_t distinct = -1;
  std::int64_t highest = -1;
  Status read = database->read([&](soci::session& sql) {
    sql << "SELECT COUNT(DISTINCT amount), MAX(amount) FROM ledger_entries", soci::into(distinct),
        soci::into(highest);
    return okStatus();
  });

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(runs.load(), kThreads * kWritesPerThread);
  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_EQ(distinct, kThreads * kWritesPerThread);
  EXPECT_EQ(highest, kThreads * kWritesPerThread);
}

TEST(PostgresqlDatabaseTest, DisplayUrlMasksPasswords) {
  testing::PostgresServer postgres;
  ASSERT_EQ(postgres.startError(), "");
  std::string host = "127.0.0.1:" + std::to_string(postgres.port());

  // The server trusts local connections, so it does not check the password.
  auto database = openOrFail({.url = "postgresql://postgres:hunter2@" + host +
                                     "/smmhub?application_name=smmhub_test&password=hunter3"});

  ASSERT_NE(database, nullptr);
  EXPECT_EQ(database->displayUrl(), "postgresql://postgres:***@" + host +
                                        "/smmhub?application_name=smmhub_test&password=***");
}

TEST(PostgresqlDatabaseTest, DeadlockedWriteRunsAgain) {
  testing::PostgresServer postgres;
  ASSERT_EQ(postgres.startError(), "");
  auto database = openOrFail({.url = postgres.url()});
  ASSERT_NE(database, nullptr);
  ASSERT_TRUE(database
                  ->write([](soci::session& sql) {
                    insertEntry(sql, {.op_key = "a"});
                    insertEntry(sql, {.op_key = "b"});
                    return okStatus();
                  })
                  .ok());
  std::latch both_locked(2);
  std::atomic<int> runs{0};
  // Locks the row FIRST, then, after the other writer has locked its own
  // first row, the row SECOND: the two writers deadlock on the first run.
  auto lockInOrder = [&](const std::string& first, const std::string& second, Status& status) {
    bool waited = false;
    status = database->write([&](soci::session& sql) {
      ++runs;
      sql << "UPDATE ledger_entries SET actor = 'writer' WHERE op_key = :op_key", soci::use(first);
      if (!waited) {
        waited = true;
        both_locked.arrive_and_wait();
      }
      sql << "UPDATE ledger_entries SET actor = 'writer' WHERE op_key = :op_key", soci::use(second);
      return okStatus();
    });
  };

  Status first_status;
  Status second_status;
  std::thread first([&] { lockInOrder("a", "b", first_status); });
  std::thread second([&] { lockInOrder("b", "a", second_status); });
  first.join();
  second.join();

  EXPECT_TRUE(first_status.ok()) << first_status.toString();
  EXPECT_TRUE(second_status.ok()) << second_status.toString();
  // PostgreSQL ends one of the two transactions, and write() runs it again.
  EXPECT_EQ(runs.load(), 3);
}

TEST(PostgresqlDatabaseTest, SessionConnectsAgainAfterServerRestart) {
  testing::PostgresServer postgres;
  ASSERT_EQ(postgres.startError(), "");
  auto database = openOrFail({.url = postgres.url(), .pool_size = 1});
  ASSERT_NE(database, nullptr);
  auto selectOne = [](soci::session& sql) {
    int one = 0;
    sql << "SELECT 1", soci::into(one);
    return one == 1 ? okStatus() : Status::internal("SELECT 1 returned " + std::to_string(one));
  };
  ASSERT_TRUE(database->read(selectOne).ok());

  postgres.restart();
  ASSERT_EQ(postgres.startError(), "");
  Status lost = database->read(selectOne);
  Status again = database->read(selectOne);

  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.toString();
  EXPECT_TRUE(again.ok()) << again.toString();
}

}  // namespace
}  // namespace smmhub::store
