#include "store/prepared.h"

#include <soci/soci.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "testing/backend_test.h"
#include "testing/postgres_server.h"

namespace smmhub::store {
namespace {

struct TenantById {
  static std::string query() { return "SELECT name, created_at_ms FROM tenants WHERE id = :id"; }

  std::string id;
  std::string name;
  std::int64_t created_at_ms = 0;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(name));
    statement.exchange(soci::into(created_at_ms));
    statement.exchange(soci::use(id));
  }
};

struct TenantsSince {
  static std::string query() {
    return "SELECT id FROM tenants WHERE created_at_ms >= :since ORDER BY id";
  }

  std::int64_t since = 0;
  std::string id;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(id));
    statement.exchange(soci::use(since));
  }
};

// MAX() over no rows is NULL.
struct LatestTenantNamed {
  static std::string query() { return "SELECT MAX(created_at_ms) FROM tenants WHERE name = :name"; }

  std::string name;
  std::int64_t created_at_ms = 0;
  soci::indicator created_indicator = soci::i_ok;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(created_at_ms, created_indicator));
    statement.exchange(soci::use(name));
  }
};

struct Tenant {
  std::string id;
  std::string name;
  std::int64_t created_at_ms = 0;
};

const std::vector<Tenant> kTenants = {
    {"acme", "Acme Media", 1'000}, {"bolt", "Bolt Studio", 2'000}, {"crux", "Crux Sport", 3'000}};

Status insertTenant(Database& db, const Tenant& tenant) {
  return db.write([&](soci::session& sql) {
    sql << "INSERT INTO tenants (id, name, created_at_ms) VALUES (:id, :name, :created)",
        soci::use(tenant.id), soci::use(tenant.name), soci::use(tenant.created_at_ms);
    return okStatus();
  });
}

// Looks ID up with the cached statement and returns "name@created_at_ms",
// or "none".
std::string lookUp(soci::session& sql, const std::string& id) {
  Prepared<TenantById> select(sql);
  select->id = id;
  if (!select.execute(true)) {
    return "none name=" + select->name;
  }
  return select->name + "@" + std::to_string(select->created_at_ms);
}

// The number of prepared statements on SQL's PostgreSQL connection.
std::int64_t serverStatements(soci::session& sql) {
  std::int64_t count = -1;
  sql << "SELECT COUNT(*) FROM pg_prepared_statements", soci::into(count);
  return count;
}

class PreparedTest : public smmhub::testing::BackendTest {
 protected:
  void SetUp() override {
    url_ = makeDatabaseUrl();
    Result<std::unique_ptr<Database>> db = Database::open({.url = url_, .pool_size = 2});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(db).value();
    for (const Tenant& tenant : kTenants) {
      ASSERT_TRUE(insertTenant(*db_, tenant).ok());
    }
  }

  std::string url_;
  std::unique_ptr<Database> db_;
};

TEST_P(PreparedTest, RepeatsWithNewParametersOnOneSession) {
  std::vector<std::string> results;
  std::size_t cached = 0;
  std::int64_t on_server = -1;

  Status read = db_->read([&](soci::session& sql) {
    for (int round = 0; round < 10; ++round) {
      for (const std::string id : {"crux", "acme", "nobody", "bolt"}) {
        results.push_back(lookUp(sql, id));
      }
    }
    cached = leasedCache(sql)->size();
    on_server = GetParam() == Backend::kPostgresql ? serverStatements(sql) : 0;
    return okStatus();
  });

  ASSERT_TRUE(read.ok()) << read.toString();
  ASSERT_EQ(results.size(), 40u);
  for (std::size_t i = 0; i < results.size(); i += 4) {
    EXPECT_EQ(results[i], "Crux Sport@3000");
    // A lookup that finds nothing leaves the values at their defaults, not
    // at the previous row's.
    EXPECT_EQ(results[i + 1], "Acme Media@1000");
    EXPECT_EQ(results[i + 2], "none name=");
    EXPECT_EQ(results[i + 3], "Bolt Studio@2000");
  }
  EXPECT_EQ(cached, 1u);
  if (GetParam() == Backend::kPostgresql) {
    EXPECT_EQ(on_server, 1);
  }
}

TEST_P(PreparedTest, FetchesEveryRowOnEachExecution) {
  std::vector<std::string> from_zero;
  std::vector<std::string> from_2000;

  Status read = db_->read([&](soci::session& sql) {
    for (auto [since, ids] : {std::pair{0, &from_zero}, std::pair{2'000, &from_2000}}) {
      Prepared<TenantsSince> select(sql);
      select->since = since;
      select.execute(false);
      while (select.fetch()) {
        ids->push_back(select->id);
      }
    }
    return okStatus();
  });

  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_EQ(from_zero, (std::vector<std::string>{"acme", "bolt", "crux"}));
  EXPECT_EQ(from_2000, (std::vector<std::string>{"bolt", "crux"}));
}

// The inner use must not execute the statement that the outer loop is
// reading rows from.
TEST_P(PreparedTest, NestedUseGetsItsOwnStatement) {
  std::vector<std::string> outer_ids;
  std::vector<int> inner_counts;
  std::size_t cached = 0;
  bool in_use_after = true;
  std::string after;

  Status read = db_->read([&](soci::session& sql) {
    {
      Prepared<TenantsSince> outer(sql);
      outer->since = 2'000;
      outer.execute(false);
      while (outer.fetch()) {
        outer_ids.push_back(outer->id);
        Prepared<TenantsSince> inner(sql);
        inner->since = 0;
        inner.execute(false);
        int count = 0;
        while (inner.fetch()) {
          ++count;
        }
        inner_counts.push_back(count);
      }
    }
    StatementCache* cache = leasedCache(sql);
    cached = cache->size();
    in_use_after =
        static_cast<internal::CachedValues<TenantsSince>*>(cache->find(typeid(TenantsSince)))
            ->inUse();
    // Once the outer use has ended, the next one takes the cached statement.
    Prepared<TenantsSince> select(sql);
    select->since = 3'000;
    select.execute(true);
    after = select->id;
    return okStatus();
  });

  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_EQ(outer_ids, (std::vector<std::string>{"bolt", "crux"}));
  EXPECT_EQ(inner_counts, (std::vector<int>{3, 3}));
  EXPECT_EQ(cached, 1u);
  EXPECT_FALSE(in_use_after);
  EXPECT_EQ(after, "crux");
}

TEST_P(PreparedTest, NullIndicatorResetsOnNextUse) {
  std::vector<soci::indicator> indicators;
  std::vector<std::int64_t> values;

  Status read = db_->read([&](soci::session& sql) {
    for (const std::string name : {"Nobody", "Bolt Studio", "Nobody"}) {
      Prepared<LatestTenantNamed> select(sql);
      select->name = name;
      select.execute(true);
      indicators.push_back(select->created_indicator);
      values.push_back(select->created_indicator == soci::i_ok ? select->created_at_ms : -1);
    }
    return okStatus();
  });

  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_EQ(indicators, (std::vector<soci::indicator>{soci::i_null, soci::i_ok, soci::i_null}));
  EXPECT_EQ(values, (std::vector<std::int64_t>{-1, 2'000, -1}));
}

// A cached statement that stopped on a row must not keep the session on an
// old snapshot, because SQLite keeps a read transaction open until the
// statement is reset.
TEST_P(PreparedTest, StoppedStatementDoesNotHideLaterWrites) {
  Result<std::unique_ptr<Database>> other = Database::open({.url = url_, .pool_size = 1});
  ASSERT_TRUE(other.ok()) << other.status().toString();
  Result<std::unique_ptr<Database>> single = Database::open({.url = url_, .pool_size = 1});
  ASSERT_TRUE(single.ok()) << single.status().toString();
  std::string first;
  std::vector<std::string> after;

  Status stopped = (*single)->read([&](soci::session& sql) {
    Prepared<TenantsSince> select(sql);
    select->since = 0;
    select.execute(true);
    first = select->id;
    return okStatus();
  });
  Status inserted = insertTenant(**other, {"dune", "Dune Radio", 4'000});
  Status listed = (*single)->read([&](soci::session& sql) {
    std::string id;
    soci::statement select = (sql.prepare << "SELECT id FROM tenants ORDER BY id", soci::into(id));
    select.execute();
    while (select.fetch()) {
      after.push_back(id);
    }
    return okStatus();
  });

  ASSERT_TRUE(stopped.ok()) << stopped.toString();
  ASSERT_TRUE(inserted.ok()) << inserted.toString();
  ASSERT_TRUE(listed.ok()) << listed.toString();
  EXPECT_EQ(first, "acme");
  EXPECT_EQ(after, (std::vector<std::string>{"acme", "bolt", "crux", "dune"}));
}

TEST_P(PreparedTest, SessionsKeepSeparateStatements) {
  std::string on_first;
  std::string on_second;
  std::size_t second_before = 99;
  std::size_t second_after = 99;
  std::size_t first_after = 99;
  std::int64_t second_on_server = -1;
  bool distinct_caches = false;

  Status read = db_->read([&](soci::session& first) {
    on_first = lookUp(first, "acme");
    Status inner = db_->read([&](soci::session& second) {
      distinct_caches = &first != &second && leasedCache(first) != leasedCache(second);
      second_before = leasedCache(second)->size();
      on_second = lookUp(second, "bolt");
      second_after = leasedCache(second)->size();
      second_on_server = GetParam() == Backend::kPostgresql ? serverStatements(second) : 1;
      return okStatus();
    });
    first_after = leasedCache(first)->size();
    return inner;
  });

  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_TRUE(distinct_caches);
  EXPECT_EQ(on_first, "Acme Media@1000");
  EXPECT_EQ(on_second, "Bolt Studio@2000");
  EXPECT_EQ(second_before, 0u);
  EXPECT_EQ(second_after, 1u);
  EXPECT_EQ(first_after, 1u);
  EXPECT_EQ(second_on_server, 1);
}

TEST_P(PreparedTest, StatementOutlivesRolledBackTransaction) {
  std::string in_transaction;
  std::string after;
  std::size_t cached = 0;

  Status rolled_back = db_->write([&](soci::session& sql) {
    in_transaction = lookUp(sql, "crux");
    return Status::failedPrecondition("roll back");
  });
  // With both sessions leased, the second read gets the session that the
  // write used, whichever position that was.
  Status read = db_->read([&](soci::session& outer) {
    return db_->read([&](soci::session& sql) {
      for (soci::session* session : {&outer, &sql}) {
        if (leasedCache(*session)->size() == 1) {
          after = lookUp(*session, "crux");
          cached = leasedCache(*session)->size();
        }
      }
      return okStatus();
    });
  });

  EXPECT_EQ(rolled_back.code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(read.ok()) << read.toString();
  EXPECT_EQ(in_transaction, "Crux Sport@3000");
  EXPECT_EQ(after, "Crux Sport@3000");
  EXPECT_EQ(cached, 1u);
}

TEST_P(PreparedTest, SessionOutsideThePoolPreparesItsOwn) {
  bool sqlite = GetParam() == Backend::kSqlite;
  // The connect strings that Database::open() makes from the URL.
  std::string connect = sqlite ? "db=\"" + url_.substr(std::string("sqlite:").size()) + "\""
                               : url_ + "?connect_timeout=5";
  soci::session sql(sqlite ? static_cast<const soci::backend_factory&>(soci::sqlite3)
                           : static_cast<const soci::backend_factory&>(soci::postgresql),
                    connect);

  std::string found = lookUp(sql, "bolt");
  std::string again = lookUp(sql, "acme");

  EXPECT_EQ(leasedCache(sql), nullptr);
  EXPECT_EQ(found, "Bolt Studio@2000");
  EXPECT_EQ(again, "Acme Media@1000");
  if (GetParam() == Backend::kPostgresql) {
    EXPECT_EQ(serverStatements(sql), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, PreparedTest, smmhub::testing::kBackends,
                         smmhub::testing::backendName);

TEST(PostgresqlPreparedTest, PreparedAgainAfterServerRestart) {
  testing::PostgresServer postgres;
  ASSERT_EQ(postgres.startError(), "");
  Result<std::unique_ptr<Database>> opened =
      Database::open({.url = postgres.url(), .pool_size = 1});
  ASSERT_TRUE(opened.ok()) << opened.status().toString();
  Database& db = **opened;
  ASSERT_TRUE(insertTenant(db, kTenants[0]).ok());
  ASSERT_TRUE(insertTenant(db, kTenants[1]).ok());
  std::string result;
  std::size_t cached = 0;
  std::int64_t on_server = -1;
  auto lookUpBolt = [&](soci::session& sql) {
    result = lookUp(sql, "bolt");
    cached = leasedCache(sql)->size();
    on_server = serverStatements(sql);
    return okStatus();
  };
  ASSERT_TRUE(db.read(lookUpBolt).ok());
  ASSERT_EQ(result, "Bolt Studio@2000");
  // The test server runs with synchronous_commit=off, so a crash could lose
  // the rows without a checkpoint.
  ASSERT_EQ(postgres.execute("CHECKPOINT", "smmhub"), "");

  postgres.restart();
  ASSERT_EQ(postgres.startError(), "");
  result.clear();
  Status lost = db.read(lookUpBolt);
  Status again = db.read(lookUpBolt);

  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.toString();
  ASSERT_TRUE(again.ok()) << again.toString();
  EXPECT_EQ(result, "Bolt Studio@2000");
  EXPECT_EQ(cached, 1u);
  EXPECT_EQ(on_server, 1);
}

}  // namespace
}  // namespace smmhub::store
