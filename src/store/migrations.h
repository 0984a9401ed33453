// Schema migrations: the ordered changes that bring a database to the schema
// this build expects. Database::open() applies the pending ones.
//
// The table schema_migrations(version, name, applied_at) records each applied
// migration. Each one runs in its own transaction under a lock (a transaction
// advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), so that processes
// that open a fresh database at the same time apply it once.
//
// To change the schema, append a Migration to the list in migrations.cc with
// the next version. Never edit or reorder an applied one: databases that have
// it will not run it again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace smmhub::store {

// One schema change, written once per back end because their dialects differ
// (identity columns, types, functions).
struct Migration {
  int version = 0;
  // A short description for schema_migrations and logs, such as "credit ledger".
  std::string_view name;
  // Statements run in order in one transaction. SOCI's SQLite back end runs
  // only the first statement of a string, so each string is one statement.
  std::vector<std::string> sqlite;
  std::vector<std::string> postgresql;
};

// Returns the migrations this build contains. Their versions are 1, 2, 3, ...
// in order, without gaps.
const std::vector<Migration>& migrations();

// Returns the version of the last migration: the schema version of a
// database this build has opened.
int latestSchemaVersion();

// Applies the pending migrations on SQL, which must not be in a transaction.
// Returns the schema version afterwards. Errors: failedPrecondition when the
// database's schema is newer than latestSchemaVersion(), internal when a
// migration's statement fails, unavailable when the database fails otherwise.
// DISPLAY_URL names the database in messages.
Result<int> migrate(soci::session& sql, Backend backend, const std::string& display_url);

}  // namespace smmhub::store
