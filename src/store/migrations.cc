#include "store/migrations.h"

#include <soci/soci.h>

#include <algorithm>
#include <cstdint>

#include "common/log.h"
#include "store/internal.h"

namespace smmhub::store {
namespace {

using internal::oneLine;
using internal::rollbackQuietly;

// The key of the PostgreSQL advisory lock that a migrating process holds: the
// ASCII bytes of "smmh", a value no other lock in smmhub uses.
constexpr std::int64_t kMigrationLockKey = 0x736d6d68;

constexpr std::string_view kSqliteMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)";

constexpr std::string_view kPostgresqlMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

// Migration 1: the credit ledger. Each change to a tenant's credits is one
// row, and UNIQUE (tenant, op_key) turns a repeated operation into a no-op.
// The id column is written per back end, the rest is shared.
std::string ledgerTable(std::string_view id_column) {
  return "CREATE TABLE ledger_entries ("
         " id " +
         std::string(id_column) +
         ","
         " tenant TEXT NOT NULL,"
         " kind TEXT NOT NULL"
         "   CHECK (kind IN ('topup', 'reserve', 'charge', 'release', 'adjustment')),"
         " amount BIGINT NOT NULL,"
         " available_change BIGINT NOT NULL,"
         " held_change BIGINT NOT NULL,"
         " op_key TEXT NOT NULL,"
         " job_id TEXT NOT NULL DEFAULT '',"
         " actor TEXT NOT NULL DEFAULT '',"
         " event_id TEXT NOT NULL,"
         " request TEXT NOT NULL DEFAULT '',"
         " available_after BIGINT NOT NULL DEFAULT 0,"
         " held_after BIGINT NOT NULL DEFAULT 0,"
         " job_held_after BIGINT NOT NULL DEFAULT 0,"
         " created_at_ms BIGINT NOT NULL,"
         " recorded_at_ms BIGINT NOT NULL,"
         " UNIQUE (tenant, op_key))";
}

constexpr std::string_view kLedgerIndex =
    "CREATE INDEX ledger_entries_by_tenant ON ledger_entries (tenant, id)";

// Migration 2: the job store. A batch is one template and one data table, and
// each data row is a job. job_events records every state change of a job. The
// index of UNIQUE (batch_id, row_number) also serves lookups by batch, and
// jobs_by_state serves the scan of unfinished jobs by due time.
constexpr std::string_view kBatchesTable =
    "CREATE TABLE batches ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " idempotency_key TEXT NOT NULL,"
    " template_path TEXT NOT NULL,"
    " data_path TEXT NOT NULL,"
    " brand_dir TEXT NOT NULL DEFAULT '',"
    " storage_dir TEXT NOT NULL,"
    " priority TEXT NOT NULL CHECK (priority IN ('normal', 'high')),"
    " job_count BIGINT NOT NULL,"
    " created_at_ms BIGINT NOT NULL,"
    " cancelled_at_ms BIGINT NOT NULL DEFAULT 0,"
    " UNIQUE (tenant, idempotency_key))";

constexpr std::string_view kJobsTable =
    "CREATE TABLE jobs ("
    " id TEXT PRIMARY KEY,"
    " batch_id TEXT NOT NULL REFERENCES batches (id),"
    " tenant TEXT NOT NULL,"
    " row_number BIGINT NOT NULL,"
    " row_data TEXT NOT NULL,"
    " output_name TEXT NOT NULL,"
    " priority TEXT NOT NULL CHECK (priority IN ('normal', 'high')),"
    " state TEXT NOT NULL"
    "   CHECK (state IN ('queued', 'active', 'completed', 'failed', 'retrying', 'cancelled')),"
    " attempts BIGINT NOT NULL DEFAULT 0,"
    " max_attempts BIGINT NOT NULL,"
    " next_try_at_ms BIGINT NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " fencing_token BIGINT NOT NULL DEFAULT 0,"
    " worker TEXT NOT NULL DEFAULT '',"
    " output_path TEXT NOT NULL DEFAULT '',"
    " created_at_ms BIGINT NOT NULL,"
    " updated_at_ms BIGINT NOT NULL,"
    " UNIQUE (batch_id, row_number))";

constexpr std::string_view kJobsByState =
    "CREATE INDEX jobs_by_state ON jobs (state, next_try_at_ms)";

std::string jobEventsTable(std::string_view id_column) {
  return "CREATE TABLE job_events ("
         " id " +
         std::string(id_column) +
         ","
         " job_id TEXT NOT NULL REFERENCES jobs (id),"
         " batch_id TEXT NOT NULL,"
         " tenant TEXT NOT NULL,"
         " from_state TEXT NOT NULL DEFAULT '',"
         " to_state TEXT NOT NULL,"
         " at_ms BIGINT NOT NULL,"
         " attempt BIGINT NOT NULL,"
         " worker TEXT NOT NULL DEFAULT '',"
         " error TEXT NOT NULL DEFAULT '')";
}

constexpr std::string_view kJobEventsByJob =
    "CREATE INDEX job_events_by_job ON job_events (job_id, id)";

// What one video costs a tenant, in credits; a tenant without a row pays 1.
constexpr std::string_view kTenantPricesTable =
    "CREATE TABLE tenant_prices ("
    " tenant TEXT PRIMARY KEY,"
    " video_price BIGINT NOT NULL CHECK (video_price >= 1),"
    " updated_at_ms BIGINT NOT NULL)";

// The price of each video of a batch, fixed when the batch is made.
constexpr std::string_view kBatchesVideoPrice =
    "ALTER TABLE batches ADD COLUMN video_price BIGINT NOT NULL DEFAULT 1";

std::vector<Migration> makeMigrations() {
  std::vector<Migration> list;
  list.push_back({
      .version = 1,
      .name = "credit ledger",
      .sqlite = {ledgerTable("INTEGER PRIMARY KEY AUTOINCREMENT"), std::string(kLedgerIndex)},
      .postgresql = {ledgerTable("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
                     std::string(kLedgerIndex)},
  });
  list.push_back({
      .version = 2,
      .name = "jobs",
      .sqlite = {std::string(kBatchesTable), std::string(kJobsTable), std::string(kJobsByState),
                 jobEventsTable("INTEGER PRIMARY KEY AUTOINCREMENT"), std::string(kJobEventsByJob)},
      .postgresql = {std::string(kBatchesTable), std::string(kJobsTable), std::string(kJobsByState),
                     jobEventsTable("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
                     std::string(kJobEventsByJob)},
  });
  list.push_back({
      .version = 3,
      .name = "video prices",
      .sqlite = {std::string(kTenantPricesTable), std::string(kBatchesVideoPrice)},
      .postgresql = {std::string(kTenantPricesTable), std::string(kBatchesVideoPrice)},
  });
  // Append later migrations here, with the next version.
  return list;
}

// One transaction of migrate(): the schema version it found or reached, and
// whether migrations remain.
struct Step {
  int version = 0;
  bool done = false;
};

// Opens a transaction that no other migrating process runs at the same time,
// and makes sure schema_migrations exists. Throws soci::soci_error.
void beginLocked(soci::session& sql, Backend backend) {
  if (backend == Backend::kSqlite) {
    sql << "BEGIN IMMEDIATE";
    sql << std::string(kSqliteMigrationsTable);
    return;
  }
  sql << "BEGIN";
  // CREATE TABLE IF NOT EXISTS sends a notice, which libpq prints to standard
  // error, when the table exists.
  sql << "SET LOCAL client_min_messages = warning";
  sql << "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")";
  sql << std::string(kPostgresqlMigrationsTable);
}

// Returns the highest applied version, or 0 for a database without any.
// Throws soci::soci_error.
int appliedVersion(soci::session& sql) {
  int version = 0;
  soci::indicator indicator = soci::i_ok;
  sql << "SELECT MAX(version) FROM schema_migrations", soci::into(version, indicator);
  return indicator == soci::i_null ? 0 : version;
}

Result<Step> migrateOnce(soci::session& sql, Backend backend, const std::string& display_url) {
  const int latest = latestSchemaVersion();
  const Migration* applying = nullptr;
  try {
    beginLocked(sql, backend);
    int current = appliedVersion(sql);
    if (current > latest) {
      rollbackQuietly(sql);
      return Status::failedPrecondition("database schema version " + std::to_string(current) +
                                        " is newer than this build's " + std::to_string(latest) +
                                        "; upgrade smmhub");
    }
    if (current == latest) {
      sql << "COMMIT";
      return Step{current, true};
    }

    applying = &migrations()[std::max(current, 0)];
    for (const std::string& statement :
         backend == Backend::kSqlite ? applying->sqlite : applying->postgresql) {
      sql << statement;
    }
    std::string name(applying->name);
    sql << "INSERT INTO schema_migrations (version, name) VALUES (:version, :name)",
        soci::use(applying->version), soci::use(name);
    sql << "COMMIT";
  } catch (const soci::soci_error& error) {
    rollbackQuietly(sql);
    if (applying == nullptr) {
      return Status::unavailable("database " + display_url +
                                 ": cannot read the schema version: " + oneLine(error.what()));
    }
    return Status::internal("database " + display_url + ": migration " +
                            std::to_string(applying->version) + " (" + std::string(applying->name) +
                            ") failed: " + oneLine(error.what()));
  }

  logger("store")->info("schema migration applied url={} version={} name=\"{}\"", display_url,
                        applying->version, applying->name);
  return Step{applying->version, false};
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = makeMigrations();
  return kMigrations;
}

int latestSchemaVersion() {
  return migrations().back().version;
}

Result<int> migrate(soci::session& sql, Backend backend, const std::string& display_url) {
  while (true) {
    SMMHUB_ASSIGN_OR_RETURN(Step step, migrateOnce(sql, backend, display_url));
    if (step.done) {
      return step.version;
    }
  }
}

}  // namespace smmhub::store
