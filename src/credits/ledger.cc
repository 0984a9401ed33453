// The ledger's SQL. Each statement is written once for both back ends.
#include <soci/soci.h>

#include "credits/internal.h"
#include "store/statement.h"

namespace smmhub::credits {
namespace {

constexpr std::string_view kColumns =
    "id, tenant, kind, amount, available_change, held_change, op_key, job_id, actor, event_id, "
    "request, available_after, held_after, job_held_after, created_at_ms, recorded_at_ms";

// Binds every column of an Entry for a SELECT of kColumns. SOCI converts
// each column to the bound variable's type, whatever type the back end
// reports for it.
struct EntryRow {
  long long id = 0;
  long long amount = 0;
  long long available_change = 0;
  long long held_change = 0;
  long long available_after = 0;
  long long held_after = 0;
  long long job_held_after = 0;
  long long created_at_ms = 0;
  long long recorded_at_ms = 0;
  Entry entry;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(id));
    statement.exchange(soci::into(entry.tenant));
    statement.exchange(soci::into(entry.kind));
    statement.exchange(soci::into(amount));
    statement.exchange(soci::into(available_change));
    statement.exchange(soci::into(held_change));
    statement.exchange(soci::into(entry.op_key));
    statement.exchange(soci::into(entry.job_id));
    statement.exchange(soci::into(entry.actor));
    statement.exchange(soci::into(entry.event_id));
    statement.exchange(soci::into(entry.request));
    statement.exchange(soci::into(available_after));
    statement.exchange(soci::into(held_after));
    statement.exchange(soci::into(job_held_after));
    statement.exchange(soci::into(created_at_ms));
    statement.exchange(soci::into(recorded_at_ms));
  }

  Entry take() const {
    Entry copy = entry;
    copy.id = id;
    copy.amount = amount;
    copy.available_change = available_change;
    copy.held_change = held_change;
    copy.available_after = available_after;
    copy.held_after = held_after;
    copy.job_held_after = job_held_after;
    copy.created_at_ms = created_at_ms;
    copy.recorded_at_ms = recorded_at_ms;
    return copy;
  }
};

// Runs QUERY (which selects kColumns) with TENANT and an optional number
// bound as :tenant and :number, and returns its rows.
std::vector<Entry> selectEntries(soci::session& sql, const std::string& query,
                                 const std::string& tenant, long long number) {
  EntryRow row;
  soci::statement statement(sql);
  row.bind(statement);
  statement.exchange(soci::use(tenant, "tenant"));
  statement.exchange(soci::use(number, "number"));
  statement.alloc();
  statement.prepare(query, soci::details::st_one_time_query);
  statement.define_and_bind();
  statement.execute();
  std::vector<Entry> entries;
  while (statement.fetch()) {
    entries.push_back(row.take());
  }
  return entries;
}

}  // namespace

Result<InsertOutcome> insertEntries(store::Database& db, const std::vector<Entry>& entries) {
  InsertOutcome outcome;
  if (entries.empty()) {
    return outcome;
  }
  Status status = db.write([&](soci::session& sql) -> Status {
    outcome = {};
    long long recorded_at_ms = nowMillis();
    Entry entry;
    long long amount = 0;
    long long available_change = 0;
    long long held_change = 0;
    long long available_after = 0;
    long long held_after = 0;
    long long job_held_after = 0;
    long long created_at_ms = 0;
    soci::statement insert =
        (sql.prepare << "INSERT INTO ledger_entries (tenant, kind, amount, available_change, "
                        "held_change, op_key, job_id, actor, event_id, request, available_after, "
                        "held_after, job_held_after, created_at_ms, recorded_at_ms) VALUES "
                        "(:tenant, :kind, :amount, :available_change, :held_change, :op_key, "
                        ":job_id, :actor, :event_id, :request, :available_after, :held_after, "
                        ":job_held_after, :created_at_ms, :recorded_at_ms) "
                        "ON CONFLICT (tenant, op_key) DO NOTHING",
         soci::use(entry.tenant), soci::use(entry.kind), soci::use(amount),
         soci::use(available_change), soci::use(held_change), soci::use(entry.op_key),
         soci::use(entry.job_id), soci::use(entry.actor), soci::use(entry.event_id),
         soci::use(entry.request), soci::use(available_after), soci::use(held_after),
         soci::use(job_held_after), soci::use(created_at_ms), soci::use(recorded_at_ms));
    std::string existing_event;
    soci::statement existing =
        (sql.prepare << "SELECT event_id FROM ledger_entries WHERE tenant = :tenant AND "
                        "op_key = :op_key",
         soci::into(existing_event), soci::use(entry.tenant), soci::use(entry.op_key));
    for (const Entry& next : entries) {
      entry = next;
      amount = next.amount;
      available_change = next.available_change;
      held_change = next.held_change;
      available_after = next.available_after;
      held_after = next.held_after;
      job_held_after = next.job_held_after;
      created_at_ms = next.created_at_ms;
      insert.execute(true);
      if (insert.get_affected_rows() > 0) {
        outcome.inserted++;
        continue;
      }
      existing.execute(true);
      if (existing_event != entry.event_id) {
        outcome.duplicates.push_back(entry.op_key);
      }
    }
    return okStatus();
  });
  SMMHUB_RETURN_IF_ERROR(status);
  return outcome;
}

Result<LedgerState> readLedger(store::Database& db, const std::string& tenant,
                               const std::vector<std::string>& keys, std::int64_t since_ms) {
  LedgerState state;
  Status status = db.write([&](soci::session& sql) -> Status {
    state = {};
    if (db.backend() == store::Backend::kPostgresql) {
      // One snapshot for every statement below: the writer may commit
      // between them.
      sql << "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";
    }
    long long available = 0;
    long long held = 0;
    sql << "SELECT CAST(COALESCE(SUM(available_change), 0) AS BIGINT), "
           "CAST(COALESCE(SUM(held_change), 0) AS BIGINT) FROM ledger_entries "
           "WHERE tenant = :tenant",
        soci::into(available), soci::into(held), soci::use(tenant);
    state.available = available;
    state.held = held;

    std::string job;
    long long job_held = 0;
    soci::statement holds =
        store::runOnce(sql,
                       "SELECT job_id, CAST(SUM(held_change) AS BIGINT) FROM ledger_entries "
                       "WHERE tenant = :tenant GROUP BY job_id HAVING SUM(held_change) <> 0",
                       soci::into(job), soci::into(job_held), soci::use(tenant));
    holds.execute();
    while (holds.fetch()) {
      state.holds[job] = job_held;
    }

    std::string key;
    long long found = 0;
    soci::statement present = (sql.prepare << "SELECT COUNT(*) FROM ledger_entries WHERE "
                                              "tenant = :tenant AND op_key = :op_key",
                               soci::into(found), soci::use(tenant), soci::use(key));
    for (const std::string& asked : keys) {
      key = asked;
      present.execute(true);
      if (found > 0) {
        state.present.insert(asked);
      }
    }

    state.recent = selectEntries(sql,
                                 "SELECT " + std::string(kColumns) +
                                     " FROM ledger_entries WHERE tenant = :tenant AND "
                                     "created_at_ms >= :number ORDER BY id",
                                 tenant, since_ms);
    return okStatus();
  });
  SMMHUB_RETURN_IF_ERROR(status);
  return state;
}

Result<std::vector<Entry>> ledgerHistory(store::Database& db, const std::string& tenant,
                                         int limit) {
  std::vector<Entry> entries;
  Status status = db.read([&](soci::session& sql) -> Status {
    entries = selectEntries(sql,
                            "SELECT " + std::string(kColumns) +
                                " FROM ledger_entries WHERE tenant = :tenant ORDER BY id DESC "
                                "LIMIT :number",
                            tenant, limit);
    return okStatus();
  });
  SMMHUB_RETURN_IF_ERROR(status);
  return entries;
}

Result<std::vector<std::string>> ledgerTenants(store::Database& db) {
  std::vector<std::string> tenants;
  Status status = db.read([&](soci::session& sql) -> Status {
    std::string tenant;
    soci::statement select = store::runOnce(
        sql, "SELECT DISTINCT tenant FROM ledger_entries ORDER BY tenant", soci::into(tenant));
    select.execute();
    while (select.fetch()) {
      tenants.push_back(tenant);
    }
    return okStatus();
  });
  SMMHUB_RETURN_IF_ERROR(status);
  return tenants;
}

}  // namespace smmhub::credits
