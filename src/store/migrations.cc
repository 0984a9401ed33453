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

// Migration 4: people. A tenant is an agency, named by the id that scopes
// its credits, jobs and keys. A user belongs to one tenant with one role, or
// to none when it is a platform administrator only. Sessions and API keys
// store a SHA-256 of their secret, never the secret.
constexpr std::string_view kTenantsTable =
    "CREATE TABLE tenants ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " created_at_ms BIGINT NOT NULL,"
    " disabled_at_ms BIGINT NOT NULL DEFAULT 0)";

constexpr std::string_view kUsersTable =
    "CREATE TABLE users ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL DEFAULT '',"
    " email TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL DEFAULT '',"
    " role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer', 'none')),"
    " platform_admin BIGINT NOT NULL DEFAULT 0,"
    " password_hash TEXT NOT NULL,"
    " created_at_ms BIGINT NOT NULL,"
    " disabled_at_ms BIGINT NOT NULL DEFAULT 0)";

constexpr std::string_view kUsersByTenant = "CREATE INDEX users_by_tenant ON users (tenant, id)";

constexpr std::string_view kSessionsTable =
    "CREATE TABLE sessions ("
    " token_hash TEXT PRIMARY KEY,"
    " user_id TEXT NOT NULL REFERENCES users (id),"
    " csrf_token TEXT NOT NULL,"
    " created_at_ms BIGINT NOT NULL,"
    " expires_at_ms BIGINT NOT NULL,"
    " last_seen_at_ms BIGINT NOT NULL)";

constexpr std::string_view kApiKeysTable =
    "CREATE TABLE api_keys ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),"
    " secret_hash TEXT NOT NULL,"
    " created_by TEXT NOT NULL DEFAULT '',"
    " created_at_ms BIGINT NOT NULL,"
    " last_used_at_ms BIGINT NOT NULL DEFAULT 0,"
    " revoked_at_ms BIGINT NOT NULL DEFAULT 0)";

constexpr std::string_view kApiKeysByTenant =
    "CREATE INDEX api_keys_by_tenant ON api_keys (tenant, id)";

// Migration 5: content and campaigns. Files (brand kit folders, asset files,
// template versions, uploaded rows) live under the storage folder, where the
// workers read them; these rows say which tenant owns them and where they are.
constexpr std::string_view kBrandKitsTable =
    "CREATE TABLE brand_kits ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " brand_json TEXT NOT NULL,"
    " dir TEXT NOT NULL,"
    " created_at_ms BIGINT NOT NULL,"
    " updated_at_ms BIGINT NOT NULL)";

constexpr std::string_view kAssetsTable =
    "CREATE TABLE assets ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " media_type TEXT NOT NULL,"
    " bytes BIGINT NOT NULL,"
    " width BIGINT NOT NULL DEFAULT 0,"
    " height BIGINT NOT NULL DEFAULT 0,"
    " sha256 TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " created_at_ms BIGINT NOT NULL,"
    " UNIQUE (tenant, name))";

constexpr std::string_view kTemplatesTable =
    "CREATE TABLE templates ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " latest_version BIGINT NOT NULL,"
    " created_at_ms BIGINT NOT NULL,"
    " updated_at_ms BIGINT NOT NULL,"
    " UNIQUE (tenant, name))";

constexpr std::string_view kTemplateVersionsTable =
    "CREATE TABLE template_versions ("
    " template_id TEXT NOT NULL REFERENCES templates (id),"
    " version BIGINT NOT NULL,"
    " tenant TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " created_by TEXT NOT NULL DEFAULT '',"
    " created_at_ms BIGINT NOT NULL,"
    " PRIMARY KEY (template_id, version))";

constexpr std::string_view kCampaignsTable =
    "CREATE TABLE campaigns ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " template_id TEXT NOT NULL DEFAULT '',"
    " template_version BIGINT NOT NULL DEFAULT 0,"
    " brand_kit_id TEXT NOT NULL DEFAULT '',"
    " data_path TEXT NOT NULL DEFAULT '',"
    " columns_json TEXT NOT NULL DEFAULT '[]',"
    " row_count BIGINT NOT NULL DEFAULT 0,"
    " mapping_json TEXT NOT NULL DEFAULT '{}',"
    " created_at_ms BIGINT NOT NULL,"
    " updated_at_ms BIGINT NOT NULL)";

constexpr std::string_view kCampaignsByTenant =
    "CREATE INDEX campaigns_by_tenant ON campaigns (tenant, created_at_ms)";

constexpr std::string_view kBatchesCampaign =
    "ALTER TABLE batches ADD COLUMN campaign_id TEXT NOT NULL DEFAULT ''";

constexpr std::string_view kBatchesByTenant =
    "CREATE INDEX batches_by_tenant ON batches (tenant, created_at_ms)";

// What a completed job cost in render time and how much of it came from
// the render cache, for the usage figures.
constexpr std::string_view kJobsRenderMs =
    "ALTER TABLE jobs ADD COLUMN render_ms BIGINT NOT NULL DEFAULT 0";
constexpr std::string_view kJobsCacheHits =
    "ALTER TABLE jobs ADD COLUMN cache_hits BIGINT NOT NULL DEFAULT 0";
constexpr std::string_view kJobsCacheLookups =
    "ALTER TABLE jobs ADD COLUMN cache_lookups BIGINT NOT NULL DEFAULT 0";

constexpr std::string_view kWebhooksTable =
    "CREATE TABLE webhooks ("
    " id TEXT PRIMARY KEY,"
    " tenant TEXT NOT NULL,"
    " url TEXT NOT NULL,"
    " secret TEXT NOT NULL,"
    " events TEXT NOT NULL DEFAULT '*',"
    " created_at_ms BIGINT NOT NULL,"
    " disabled_at_ms BIGINT NOT NULL DEFAULT 0)";

constexpr std::string_view kWebhookDeliveriesTable =
    "CREATE TABLE webhook_deliveries ("
    " id TEXT PRIMARY KEY,"
    " webhook_id TEXT NOT NULL REFERENCES webhooks (id),"
    " tenant TEXT NOT NULL,"
    " event_id TEXT NOT NULL,"
    " event_type TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),"
    " attempts BIGINT NOT NULL DEFAULT 0,"
    " next_try_at_ms BIGINT NOT NULL,"
    " last_status BIGINT NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " created_at_ms BIGINT NOT NULL,"
    " delivered_at_ms BIGINT NOT NULL DEFAULT 0,"
    " UNIQUE (webhook_id, event_id))";

constexpr std::string_view kWebhookDeliveriesDue =
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_try_at_ms)";

std::vector<std::string> contentStatements() {
  std::vector<std::string> statements;
  for (std::string_view statement :
       {kBrandKitsTable, kAssetsTable, kTemplatesTable, kTemplateVersionsTable, kCampaignsTable,
        kCampaignsByTenant, kBatchesCampaign, kBatchesByTenant, kJobsRenderMs, kJobsCacheHits,
        kJobsCacheLookups, kWebhooksTable, kWebhookDeliveriesTable, kWebhookDeliveriesDue}) {
    statements.emplace_back(statement);
  }
  return statements;
}

// Migration 6: the webhook dispatcher's cursor, the last job_events id it
// has turned into deliveries. It starts at the newest event, so that a
// database with history does not deliver old events.
constexpr std::string_view kWebhookCursorTable =
    "CREATE TABLE webhook_cursor ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " last_event_id BIGINT NOT NULL,"
    " updated_at_ms BIGINT NOT NULL)";

constexpr std::string_view kWebhookCursorRow =
    "INSERT INTO webhook_cursor (id, last_event_id, updated_at_ms)"
    " SELECT 1, COALESCE(MAX(id), 0), 0 FROM job_events";

// Migration 7: the status route counts a tenant's unfinished jobs often,
// and must not read its finished ones to do so.
constexpr std::string_view kJobsByTenantState =
    "CREATE INDEX jobs_by_tenant_state ON jobs (tenant, state)";

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
  std::vector<std::string> accounts = {std::string(kTenantsTable),  std::string(kUsersTable),
                                       std::string(kUsersByTenant), std::string(kSessionsTable),
                                       std::string(kApiKeysTable),  std::string(kApiKeysByTenant)};
  list.push_back({.version = 4, .name = "accounts", .sqlite = accounts, .postgresql = accounts});
  list.push_back({.version = 5,
                  .name = "content and campaigns",
                  .sqlite = contentStatements(),
                  .postgresql = contentStatements()});
  std::vector<std::string> cursor = {std::string(kWebhookCursorTable),
                                     std::string(kWebhookCursorRow)};
  list.push_back({.version = 6, .name = "webhook cursor", .sqlite = cursor, .postgresql = cursor});
  std::vector<std::string> tenant_state = {std::string(kJobsByTenantState)};
  list.push_back({.version = 7,
                  .name = "jobs by tenant and state",
                  .sqlite = tenant_state,
                  .postgresql = tenant_state});
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
