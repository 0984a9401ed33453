#include "store/migrations.h"

#include <gtest/gtest.h>

namespace smmhub::store {
namespace {

TEST(MigrationsTest, VersionsCountUpFromOne) {
  const std::vector<Migration>& list = migrations();

  ASSERT_FALSE(list.empty());
  for (std::size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(list[i].version, static_cast<int>(i) + 1) << "migration " << list[i].name;
  }
  EXPECT_EQ(latestSchemaVersion(), static_cast<int>(list.size()));
}

TEST(MigrationsTest, EveryMigrationHasStatementsForBothBackends) {
  for (const Migration& migration : migrations()) {
    EXPECT_FALSE(migration.name.empty()) << "migration " << migration.version;
    EXPECT_FALSE(migration.sqlite.empty()) << "migration " << migration.version;
    EXPECT_FALSE(migration.postgresql.empty()) << "migration " << migration.version;
  }
}

TEST(MigrationsTest, FirstMigrationIsCreditLedger) {
  const Migration& first = migrations().front();

  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.name, "credit ledger");
  ASSERT_EQ(first.sqlite.size(), 2U);
  ASSERT_EQ(first.postgresql.size(), 2U);
  EXPECT_NE(first.sqlite[0].find("id INTEGER PRIMARY KEY AUTOINCREMENT,"), std::string::npos);
  EXPECT_NE(first.postgresql[0].find("id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"),
            std::string::npos);
  EXPECT_EQ(first.sqlite[1],
            "CREATE INDEX ledger_entries_by_tenant ON ledger_entries (tenant, id)");
  EXPECT_EQ(first.postgresql[1], first.sqlite[1]);
}

TEST(MigrationsTest, SecondMigrationIsJobs) {
  const Migration& second = migrations().at(1);

  EXPECT_EQ(second.version, 2);
  EXPECT_EQ(second.name, "jobs");
  ASSERT_EQ(second.sqlite.size(), 5U);
  ASSERT_EQ(second.postgresql.size(), 5U);
  EXPECT_TRUE(second.sqlite[0].starts_with("CREATE TABLE batches ("));
  EXPECT_TRUE(second.sqlite[1].starts_with("CREATE TABLE jobs ("));
  EXPECT_EQ(second.sqlite[2], "CREATE INDEX jobs_by_state ON jobs (state, next_try_at_ms)");
  EXPECT_NE(second.sqlite[3].find("id INTEGER PRIMARY KEY AUTOINCREMENT,"), std::string::npos);
  EXPECT_NE(second.postgresql[3].find("id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"),
            std::string::npos);
  EXPECT_EQ(second.sqlite[4], "CREATE INDEX job_events_by_job ON job_events (job_id, id)");
  EXPECT_EQ(second.postgresql[0], second.sqlite[0]);
  EXPECT_EQ(second.postgresql[1], second.sqlite[1]);
}

TEST(MigrationsTest, ThirdMigrationIsVideoPrices) {
  const Migration& third = migrations().at(2);

  EXPECT_EQ(third.version, 3);
  EXPECT_EQ(third.name, "video prices");
  ASSERT_EQ(third.sqlite.size(), 2U);
  EXPECT_TRUE(third.sqlite[0].starts_with("CREATE TABLE tenant_prices ("));
  EXPECT_EQ(third.sqlite[1], "ALTER TABLE batches ADD COLUMN video_price BIGINT NOT NULL DEFAULT 1");
  EXPECT_EQ(third.postgresql, third.sqlite);
}

TEST(MigrationsTest, FourthAndFifthMigrationsAreAccountsAndContent) {
  const Migration& fourth = migrations().at(3);
  const Migration& fifth = migrations().at(4);

  EXPECT_EQ(fourth.name, "accounts");
  ASSERT_EQ(fourth.sqlite.size(), 6U);
  EXPECT_TRUE(fourth.sqlite[0].starts_with("CREATE TABLE tenants ("));
  EXPECT_TRUE(fourth.sqlite[1].starts_with("CREATE TABLE users ("));
  EXPECT_EQ(fourth.postgresql, fourth.sqlite);
  EXPECT_EQ(fifth.name, "content and campaigns");
  ASSERT_EQ(fifth.sqlite.size(), 14U);
  EXPECT_TRUE(fifth.sqlite[0].starts_with("CREATE TABLE brand_kits ("));
  EXPECT_EQ(fifth.sqlite[6], "ALTER TABLE batches ADD COLUMN campaign_id TEXT NOT NULL DEFAULT ''");
  EXPECT_EQ(fifth.postgresql, fifth.sqlite);
}

TEST(MigrationsTest, SixthMigrationIsWebhookCursor) {
  const Migration& sixth = migrations().at(5);

  EXPECT_EQ(sixth.name, "webhook cursor");
  ASSERT_EQ(sixth.sqlite.size(), 2U);
  EXPECT_TRUE(sixth.sqlite[0].starts_with("CREATE TABLE webhook_cursor ("));
  EXPECT_EQ(sixth.sqlite[1],
            "INSERT INTO webhook_cursor (id, last_event_id, updated_at_ms) SELECT 1, "
            "COALESCE(MAX(id), 0), 0 FROM job_events");
  EXPECT_EQ(sixth.postgresql, sixth.sqlite);
}

TEST(MigrationsTest, SeventhMigrationIndexesJobsByTenantAndState) {
  const Migration& seventh = migrations().at(6);

  EXPECT_EQ(seventh.name, "jobs by tenant and state");
  ASSERT_EQ(seventh.sqlite.size(), 1U);
  EXPECT_EQ(seventh.sqlite[0], "CREATE INDEX jobs_by_tenant_state ON jobs (tenant, state)");
  EXPECT_EQ(seventh.postgresql, seventh.sqlite);
}

}  // namespace
}  // namespace smmhub::store
