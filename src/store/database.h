// The SQL data layer: one Database per process, over SOCI, with SQLite (a
// file in WAL mode) as the embedded default and PostgreSQL for production.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto db, Database::open({.url = "sqlite:smmhub.db"}));
//   SMMHUB_RETURN_IF_ERROR(db->write([&](soci::session& sql) {
//     sql << "INSERT INTO ledger_entries (...) VALUES (...)", soci::use(tenant);
//     return okStatus();
//   }));
//
// open() applies every pending migration before it returns, so that callers
// always see the schema this build expects. SQL text written for both back
// ends uses the common subset: INSERT ... ON CONFLICT DO NOTHING, BIGINT,
// TEXT, and named or positional :parameters.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace soci {
class session;
class connection_pool;
}  // namespace soci

namespace smmhub::store {

class StatementCache;

enum class Backend {
  kSqlite,
  kPostgresql
};

struct DatabaseOptions {
  // "sqlite:PATH" (the file is made when missing) or
  // "postgresql://USER[:PASSWORD]@HOST[:PORT]/NAME[?PARAMS]".
  std::string url;
  // Sessions kept open; a call waits for a free one.
  std::size_t pool_size = 4;
  // How long a statement waits for a lock another connection holds.
  std::chrono::milliseconds lock_timeout{5'000};
};

class Database {
 public:
  // Opens the database that OPTIONS.url names and migrates it. Errors:
  // invalidArgument for a malformed URL (saying which part is wrong),
  // unavailable when the server or file cannot be opened, failedPrecondition
  // when the schema is newer than this build supports.
  static Result<std::unique_ptr<Database>> open(DatabaseOptions options);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  Database(Database&&) = delete;
  Database& operator=(Database&&) = delete;

  Backend backend() const { return backend_; }
  // The URL with any password replaced by "***", for messages and logs.
  const std::string& displayUrl() const { return display_url_; }
  // The highest migration applied.
  int schemaVersion() const { return schema_version_; }

  // Runs FN on a pooled session outside a transaction. A soci_error thrown
  // by FN becomes an unavailable status naming displayUrl(). While FN runs,
  // Prepared statements (store/prepared.h) on the session are kept in the
  // session's cache.
  Status read(const std::function<Status(soci::session&)>& fn);

  // Runs FN in a write transaction: committed when FN returns ok, rolled
  // back when it returns an error or throws. On SQLite the transaction takes
  // the write lock at its start (BEGIN IMMEDIATE). A transaction that fails
  // for a conflict with another one (PostgreSQL serialization failure or
  // deadlock, SQLite busy) runs FN again, up to 5 times, so FN must not have
  // effects outside the database. Errors: FN's own, unavailable for a
  // soci_error (naming displayUrl()), internal for any other exception.
  Status write(const std::function<Status(soci::session&)>& fn);

 private:
  // The outcome of one run of a write transaction.
  struct Attempt;

  Database() = default;

  // Opens and sets up every session of the pool.
  Status openSessions(const std::string& connect_string);
  // Runs FN once in a transaction on SQL, whose prepared statements CACHE
  // keeps.
  Attempt transact(soci::session& sql, StatementCache& cache,
                   const std::function<Status(soci::session&)>& fn);
  // Opens SQL's connection again after a failure when the server closed it,
  // and drops CACHE, the statements prepared on the closed connection.
  void recoverSession(soci::session& sql, StatementCache& cache);

  Backend backend_ = Backend::kSqlite;
  std::string display_url_;
  int schema_version_ = 0;
  std::unique_ptr<soci::connection_pool> pool_;
  // The cache of each pooled session, by its position in pool_. Declared
  // after pool_, so that the statements go before their sessions.
  std::vector<std::unique_ptr<StatementCache>> caches_;
  std::size_t pool_size_ = 0;
  std::chrono::milliseconds lock_timeout_{0};
};

}  // namespace smmhub::store
