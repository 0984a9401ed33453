// Credits against a real redis-server and both SQL back ends: SQLite in a
// temporary folder and PostgreSQL started by the test.
#include "credits/credits.h"

#include <signal.h>
#include <soci/soci.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <limits>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "credits/internal.h"
#include "credits/ledger_writer.h"
#include "credits/reaper.h"
#include "credits/reconcile.h"
#include "testing/backend_test.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"

namespace smmhub::credits {
namespace {

using namespace std::chrono_literals;
using smmhub::testing::RedisServer;
using smmhub::testing::TempDir;

class CreditsTest : public smmhub::testing::BackendTest {
 protected:
  void SetUp() override {
    db_url_ = makeDatabaseUrl();
    db_ = openDatabase();
    credits_ = makeCredits(redis_.url());
  }

  std::unique_ptr<store::Database> openDatabase() {
    Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = db_url_});
    EXPECT_TRUE(db.ok()) << db.status().toString();
    return db.ok() ? std::move(*db) : nullptr;
  }

  std::unique_ptr<Credits> makeCredits(const std::string& redis_url) {
    Result<std::unique_ptr<Credits>> credits =
        Credits::create({.redis_url = redis_url, .timeout = 1000ms}, db_.get());
    EXPECT_TRUE(credits.ok()) << credits.status().toString();
    return credits.ok() ? std::move(*credits) : nullptr;
  }

  Receipt must(const Result<Receipt>& receipt) {
    EXPECT_TRUE(receipt.ok()) << receipt.status().toString();
    return receipt.ok() ? *receipt : Receipt{};
  }

  Balance balance(const std::string& tenant = "acme") {
    Result<Balance> balance = credits_->balance(tenant);
    EXPECT_TRUE(balance.ok()) << balance.status().toString();
    return balance.ok() ? *balance : Balance{};
  }

  DrainStats drain(const std::string& consumer = "test-writer",
                   std::chrono::milliseconds idle = 30s) {
    LedgerWriter writer(*credits_, {.consumer = consumer, .claim_idle = idle});
    Result<DrainStats> stats = writer.drainAll();
    EXPECT_TRUE(stats.ok()) << stats.status().toString();
    return stats.ok() ? *stats : DrainStats{};
  }

  std::vector<Entry> history(const std::string& tenant = "acme") {
    Result<std::vector<Entry>> entries = ledgerHistory(*db_, tenant, 10'000);
    EXPECT_TRUE(entries.ok()) << entries.status().toString();
    return entries.ok() ? *entries : std::vector<Entry>{};
  }

  std::size_t ledgerCount(const std::string& tenant = "acme") {
    long long rows = -1;
    Status status = db_->read([&](soci::session& sql) {
      sql << "SELECT COUNT(*) FROM ledger_entries WHERE tenant = :tenant", soci::into(rows),
          soci::use(tenant);
      return okStatus();
    });
    EXPECT_TRUE(status.ok()) << status.toString();
    return static_cast<std::size_t>(rows);
  }

  // The ledger's sums for TENANT.
  Balance ledgerBalance(const std::string& tenant = "acme") {
    Result<LedgerState> state = readLedger(*db_, tenant, {}, 0);
    EXPECT_TRUE(state.ok()) << state.status().toString();
    return state.ok() ? Balance{state->available, state->held, state->holds} : Balance{};
  }

  void expectSame(const Balance& actual, const Balance& expected) {
    EXPECT_EQ(actual.available, expected.available);
    EXPECT_EQ(actual.held, expected.held);
    EXPECT_EQ(actual.holds, expected.holds);
  }

  redis::Connection& raw() {
    if (raw_ == nullptr) {
      Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
      raw_ = std::make_unique<redis::Connection>(*endpoint, 1000ms);
    }
    return *raw_;
  }

  TempDir dir_;
  RedisServer redis_;
  std::string db_url_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Credits> credits_;
  std::unique_ptr<redis::Connection> raw_;
};

Request req(std::int64_t amount, const std::string& key, const std::string& job = "") {
  return {.tenant = "acme", .amount = amount, .key = key, .job = job, .actor = "test"};
}

TEST_P(CreditsTest, TopupReserveCommitReleaseMoveCreditsAndReachTheLedger) {
  Receipt topup = must(credits_->topup(req(100, "t1")));
  Receipt reserve = must(credits_->reserve(req(30, "r1", "batch-7")));
  Receipt commit = must(credits_->commit(req(1, "c1", "batch-7")));
  Request release_all = req(0, "x1", "batch-7");
  release_all.all = true;
  Receipt release = must(credits_->release(release_all));

  EXPECT_EQ(topup.available, 100);
  EXPECT_EQ(reserve.moved, 30);
  EXPECT_EQ(reserve.available, 70);
  EXPECT_EQ(reserve.held, 30);
  EXPECT_EQ(reserve.job_held, 30);
  EXPECT_EQ(commit.held, 29);
  EXPECT_EQ(commit.available, 70);
  EXPECT_EQ(release.moved, 29);
  EXPECT_EQ(release.available, 99);
  EXPECT_EQ(release.held, 0);
  expectSame(balance(), {99, 0, {}});

  DrainStats stats = drain();
  EXPECT_EQ(stats.inserted, 4u);
  EXPECT_EQ(stats.acknowledged, 4u);
  std::vector<Entry> entries = history();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[3].kind, "topup");
  EXPECT_EQ(entries[2].kind, "reserve");
  EXPECT_EQ(entries[2].job_id, "batch-7");
  EXPECT_EQ(entries[2].held_change, 30);
  EXPECT_EQ(entries[1].kind, "charge");
  EXPECT_EQ(entries[1].held_change, -1);
  EXPECT_EQ(entries[1].available_change, 0);
  EXPECT_EQ(entries[0].kind, "release");
  EXPECT_EQ(entries[0].amount, 29);
  EXPECT_EQ(entries[0].available_after, 99);
  EXPECT_EQ(entries[0].actor, "test");
  expectSame(ledgerBalance(), {99, 0, {}});
  EXPECT_EQ(drain().inserted, 0u);
}

TEST_P(CreditsTest, ShortReservationChangesNothingAndCanBeRetriedWithItsKey) {
  must(credits_->topup(req(10, "t1")));
  Receipt refused = must(credits_->reserve(req(15, "r1", "j")));
  EXPECT_EQ(refused.outcome, Outcome::kShort);
  EXPECT_EQ(refused.shortfall, 5);
  EXPECT_EQ(refused.moved, 0);
  expectSame(balance(), {10, 0, {}});

  must(credits_->topup(req(5, "t2")));
  Receipt granted = must(credits_->reserve(req(15, "r1", "j")));
  EXPECT_EQ(granted.outcome, Outcome::kDone);
  EXPECT_EQ(granted.moved, 15);
  expectSame(balance(), {0, 15, {{"j", 15}}});
}

TEST_P(CreditsTest, PartialReservationGrantsWhatIsAvailable) {
  must(credits_->topup(req(7, "t1")));
  Request partial = req(10, "r1", "j");
  partial.partial = true;
  Receipt receipt = must(credits_->reserve(partial));
  EXPECT_EQ(receipt.outcome, Outcome::kDone);
  EXPECT_EQ(receipt.moved, 7);
  Request again = req(3, "r2", "j");
  again.partial = true;
  EXPECT_EQ(must(credits_->reserve(again)).outcome, Outcome::kShort);
  expectSame(balance(), {0, 7, {{"j", 7}}});
}

TEST_P(CreditsTest, CommitOrReleaseBeyondTheJobsHoldIsRefused) {
  must(credits_->topup(req(10, "t1")));
  must(credits_->reserve(req(4, "r1", "a")));
  must(credits_->reserve(req(4, "r2", "b")));
  EXPECT_EQ(must(credits_->commit(req(5, "c1", "a"))).outcome, Outcome::kNotHeld);
  Receipt release = must(credits_->release(req(5, "x1", "b")));
  EXPECT_EQ(release.outcome, Outcome::kNotHeld);
  EXPECT_EQ(release.job_held, 4);
  EXPECT_EQ(must(credits_->commit(req(1, "c2", "nobody"))).outcome, Outcome::kNotHeld);
  expectSame(balance(), {2, 8, {{"a", 4}, {"b", 4}}});
}

TEST_P(CreditsTest, EveryOperationRepeatedWithItsKeyCountsOnce) {
  for (int round = 0; round < 3; ++round) {
    Receipt topup = must(credits_->topup(req(100, "t1")));
    Receipt reserve = must(credits_->reserve(req(10, "r1", "j")));
    Receipt commit = must(credits_->commit(req(2, "c1", "j")));
    Receipt release = must(credits_->release(req(3, "x1", "j")));
    Receipt adjust = must(credits_->adjust(req(-4, "a1")));
    EXPECT_EQ(topup.replayed, round > 0);
    EXPECT_EQ(adjust.replayed, round > 0);
    // A replay returns the first result, not the current balance.
    EXPECT_EQ(topup.available, 100);
    EXPECT_EQ(reserve.available, 90);
    EXPECT_EQ(commit.held, 8);
    EXPECT_EQ(release.job_held, 5);
    EXPECT_EQ(adjust.available, 89);
  }
  expectSame(balance(), {89, 5, {{"j", 5}}});
  drain();
  EXPECT_EQ(history().size(), 5u);
  expectSame(ledgerBalance(), {89, 5, {{"j", 5}}});
}

TEST_P(CreditsTest, ConcurrentCallsWithOneKeyCountOnce) {
  must(credits_->topup(req(1000, "t1")));
  std::vector<std::thread> threads;
  std::atomic<int> fresh{0};
  std::atomic<int> replays{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (const char* key : {"same-reserve", "same-topup"}) {
        Result<Receipt> receipt = std::string(key) == "same-reserve"
                                      ? credits_->reserve(req(25, key, "j"))
                                      : credits_->topup(req(5, key));
        ASSERT_TRUE(receipt.ok()) << receipt.status().toString();
        (receipt->replayed ? replays : fresh)++;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(fresh.load(), 2);
  EXPECT_EQ(replays.load(), 30);
  expectSame(balance(), {980, 25, {{"j", 25}}});
  drain();
  EXPECT_EQ(history().size(), 3u);
}

TEST_P(CreditsTest, KeyUsedForAnotherCallIsRefused) {
  must(credits_->topup(req(10, "k")));
  Result<Receipt> other = credits_->reserve(req(5, "k", "j"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.status().message(),
            "credits reserve for tenant acme: key 'k' was already used for another call "
            "(topup|10|); use a new key for each call");
  Result<Receipt> other_amount = credits_->topup(req(11, "k"));
  EXPECT_FALSE(other_amount.ok());
  expectSame(balance(), {10, 0, {}});
}

TEST_P(CreditsTest, BadRequestsNameTheField) {
  auto message = [&](const Result<Receipt>& receipt) {
    return receipt.status().message();
  };
  Request bad_tenant = req(1, "k");
  bad_tenant.tenant = "ac me";
  EXPECT_EQ(message(credits_->topup(bad_tenant)),
            "tenant 'ac me': use 1 to 64 letters, digits, '-' or '_'");
  EXPECT_EQ(message(credits_->topup(req(1, "has space"))),
            "key 'has space': use 1 to 200 printable ASCII characters without spaces");
  EXPECT_EQ(message(credits_->topup(req(1, ""))),
            "key '': use 1 to 200 printable ASCII characters without spaces");
  EXPECT_EQ(message(credits_->reserve(req(0, "k"))),
            "amount 0: reserve takes a number of credits from 1 to 1000000000");
  EXPECT_EQ(message(credits_->topup(req(-5, "k"))),
            "amount -5: topup takes a number of credits from 1 to 1000000000");
  EXPECT_EQ(message(credits_->adjust(req(0, "k"))),
            "amount 0: adjustment takes a non-zero number of credits, negative or positive, "
            "from 1 to 1000000000");
  EXPECT_EQ(message(credits_->reserve(req(1, "k", "j\tx"))),
            "job 'j\tx': use up to 200 printable ASCII characters without spaces");
  EXPECT_EQ(message(credits_->adjust(req(-1'000'000'001, "k"))),
            "amount -1000000001: adjustment takes a non-zero number of credits, negative or "
            "positive, from 1 to 1000000000");
  Result<Receipt> lowest = credits_->adjust(req(std::numeric_limits<std::int64_t>::min(), "k"));
  ASSERT_FALSE(lowest.ok());
  EXPECT_EQ(lowest.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(CreditsTest, AdjustmentBelowZeroIsShortByWhatIsMissing) {
  must(credits_->topup(req(10, "t1")));

  Receipt rejected = must(credits_->adjust(req(-15, "a1")));

  EXPECT_EQ(rejected.outcome, Outcome::kShort);
  EXPECT_EQ(rejected.shortfall, 5);
  EXPECT_EQ(rejected.moved, 0);
  expectSame(balance(), {10, 0, {}});
}

TEST_P(CreditsTest, KeyOfPartialReservationIsRejectedForFullOne) {
  must(credits_->topup(req(7, "t1")));
  Request partial = req(10, "r1", "j");
  partial.partial = true;
  ASSERT_EQ(must(credits_->reserve(partial)).moved, 7);

  Result<Receipt> full = credits_->reserve(req(10, "r1", "j"));
  Receipt repeated = must(credits_->reserve(partial));

  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(full.status().message().find("(reserve|up to 10|j)"), std::string::npos)
      << full.status().message();
  EXPECT_TRUE(repeated.replayed);
  EXPECT_EQ(repeated.moved, 7);
  expectSame(balance(), {0, 7, {{"j", 7}}});
}

TEST_P(CreditsTest, TenantSetOfWrongTypeIsAnError) {
  must(credits_->topup(req(10, "t1")));
  ASSERT_TRUE(raw().command({"DEL", tenantsKey()}).ok());
  ASSERT_TRUE(raw().command({"SET", tenantsKey(), "not a set"}).ok());

  Result<std::vector<std::string>> tenants = credits_->tenants();
  LedgerWriter writer(*credits_, {.consumer = "test-writer"});
  Result<DrainStats> drained = writer.drainAll();

  ASSERT_FALSE(tenants.ok());
  EXPECT_EQ(tenants.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(tenants.status().message().find("SMEMBERS smmhub:cr:tenants: WRONGTYPE"),
            std::string::npos)
      << tenants.status().message();
  EXPECT_FALSE(drained.ok());
}

TEST_P(CreditsTest, MalformedEventHoldsBackOnlyItsTenant) {
  // "aaa" sorts before "acme", so its failure comes first.
  ASSERT_TRUE(raw().command({"SADD", tenantsKey(), "aaa"}).ok());
  ASSERT_TRUE(raw().command({"XADD", eventsKey("aaa"), "*", "kind", "topup"}).ok());
  must(credits_->topup(req(10, "t1")));

  LedgerWriter writer(*credits_, {.consumer = "test-writer"});
  Result<DrainStats> drained = writer.drainAll();

  ASSERT_FALSE(drained.ok());
  EXPECT_EQ(drained.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(drained.status().message().find("failed for 1 of 2 tenants"), std::string::npos)
      << drained.status().message();
  EXPECT_NE(drained.status().message().find("of tenant aaa: no field 'key'"), std::string::npos)
      << drained.status().message();
  EXPECT_EQ(history().size(), 1u);
  EXPECT_EQ(history("aaa").size(), 0u);
}

TEST(CreditEventTest, ParseRejectsMissingElements) {
  redisReply id{};
  id.type = REDIS_REPLY_STRING;
  id.str = const_cast<char*>("1-0");
  id.len = 3;
  redisReply* elements[] = {&id, nullptr};
  redisReply entry{};
  entry.type = REDIS_REPLY_ARRAY;
  entry.elements = 2;
  entry.element = elements;

  Result<Entry> no_fields = parseEvent("acme", &entry);
  Result<Entry> no_entry = parseEvent("acme", nullptr);

  ASSERT_FALSE(no_fields.ok());
  EXPECT_EQ(no_fields.status().message(),
            "credit events of tenant acme: malformed stream entry '1-0': expected an id and a "
            "field list");
  ASSERT_FALSE(no_entry.ok());
  EXPECT_EQ(no_entry.status().code(), StatusCode::kDataLoss);
}

TEST_P(CreditsTest, RedisUnreachableRefusesEveryCall) {
  must(credits_->topup(req(10, "t1")));
  redis_.kill();
  Result<Receipt> reserve = credits_->reserve(req(1, "r1", "j"));
  ASSERT_FALSE(reserve.ok());
  EXPECT_EQ(reserve.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(reserve.status().message().starts_with(
      "credits reserve for tenant acme failed: redis " + redis_.url() + ": "))
      << reserve.status().message();
  // Once the idle connections have failed and a connect has failed, further
  // calls fail at once, without a connect, until the pool's back-off ends.
  Result<Balance> during_backoff = Status::internal("not called");
  for (int call = 0; call < 4; ++call) {
    during_backoff = credits_->balance("acme");
    ASSERT_FALSE(during_backoff.ok());
    if (during_backoff.status().message().find("; next connect in ") != std::string::npos) {
      break;
    }
  }
  EXPECT_NE(during_backoff.status().message().find("; next connect in "), std::string::npos)
      << during_backoff.status().message();

  redis_.restart();
  std::this_thread::sleep_for(150ms);  // longer than the first back-off, 100 ms at most
  // The restarted server has no data: the counters come back from the
  // ledger, which lacks the top-up the writer never moved.
  Receipt after = must(credits_->reserve(req(1, "r2", "j")));
  EXPECT_EQ(after.outcome, Outcome::kShort);
}

TEST_P(CreditsTest, FlushedRedisRebuildsCountersFromTheLedger) {
  must(credits_->topup(req(500, "t1")));
  must(credits_->reserve(req(120, "r1", "batch-1")));
  must(credits_->reserve(req(30, "r2", "batch-2")));
  must(credits_->commit(req(7, "c1", "batch-1")));
  must(credits_->release(req(10, "x1", "batch-2")));
  Balance before = balance();
  drain();

  ASSERT_TRUE(raw().command({"FLUSHALL"}).ok());
  expectSame(balance(), before);

  // A retried call finds its first result: nothing is charged twice.
  Receipt retried = must(credits_->commit(req(7, "c1", "batch-1")));
  EXPECT_TRUE(retried.replayed);
  expectSame(balance(), before);
  drain();
  expectSame(ledgerBalance(), before);
}

TEST_P(CreditsTest, ChargeLostBeforeTheLedgerIsMadeAgain) {
  must(credits_->topup(req(100, "t1")));
  must(credits_->reserve(req(8, "r1", "batch-1")));
  drain();
  must(credits_->commit(req(1, "render:j1", "batch-1")));
  Result<bool> before = credits_->inLedger("acme", "render:j1");
  ASSERT_TRUE(before.ok()) << before.status().toString();
  EXPECT_FALSE(*before);

  // Redis loses the charge before the ledger writer moves it, so the same
  // key charges again, and the ledger then contains it once.
  ASSERT_TRUE(raw().command({"FLUSHALL"}).ok());
  EXPECT_FALSE(must(credits_->commit(req(1, "render:j1", "batch-1"))).replayed);
  drain();
  Result<bool> after = credits_->inLedger("acme", "render:j1");
  ASSERT_TRUE(after.ok()) << after.status().toString();
  EXPECT_TRUE(*after);
  EXPECT_TRUE(must(credits_->commit(req(1, "render:j1", "batch-1"))).replayed);
  expectSame(ledgerBalance(), Balance{92, 7, {{"batch-1", 7}}});
}

TEST_P(CreditsTest, LostCountersIncludeEventsNotYetInTheLedger) {
  must(credits_->topup(req(100, "t1")));
  drain();
  must(credits_->reserve(req(40, "r1", "j")));
  must(credits_->commit(req(3, "c1", "j")));
  Balance before = balance();
  // The counters go, the stream with its two unmoved events stays, as after
  // a failover to a replica that missed the last writes to the hashes.
  ASSERT_TRUE(raw().command({"DEL", accountKey("acme"), holdsKey("acme")}).ok());

  expectSame(balance(), before);
  drain();
  expectSame(ledgerBalance(), before);
  EXPECT_EQ(history().size(), 3u);
}

TEST_P(CreditsTest, WriterThatDiesBeforeTheLedgerWriteLosesNothing) {
  must(credits_->topup(req(100, "t1")));
  must(credits_->reserve(req(10, "r1", "j")));
  // A writer reads both events and dies before its SQL transaction.
  Result<redis::ReplyPtr> created =
      raw().command({"XGROUP", "CREATE", eventsKey("acme"), kLedgerGroup, "0", "MKSTREAM"});
  ASSERT_TRUE(created.ok());
  Result<redis::ReplyPtr> taken = raw().command({"XREADGROUP", "GROUP", kLedgerGroup, "dead",
                                                 "COUNT", "10", "STREAMS", eventsKey("acme"), ">"});
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ((*taken)->type, REDIS_REPLY_ARRAY);

  // Another writer leaves them to their owner until they have been idle
  // for claim_idle, then takes them over.
  EXPECT_EQ(drain("other", 30s).inserted, 0u);
  std::this_thread::sleep_for(20ms);
  DrainStats stats = drain("other", 10ms);
  EXPECT_EQ(stats.inserted, 2u);
  EXPECT_EQ(stats.acknowledged, 2u);
  expectSame(ledgerBalance(), balance());
}

TEST_P(CreditsTest, WriterThatDiesAfterTheLedgerWriteInsertsNothingTwice) {
  must(credits_->topup(req(100, "t1")));
  must(credits_->reserve(req(10, "r1", "j")));
  // A writer inserts both events and dies before acknowledging them.
  Result<redis::ReplyPtr> range = raw().command({"XRANGE", eventsKey("acme"), "-", "+"});
  ASSERT_TRUE(range.ok());
  std::vector<Entry> events;
  for (size_t i = 0; i < (*range)->elements; ++i) {
    Result<Entry> event = parseEvent("acme", (*range)->element[i]);
    ASSERT_TRUE(event.ok()) << event.status().toString();
    events.push_back(*event);
  }
  ASSERT_EQ(events.size(), 2u);
  Result<InsertOutcome> inserted = insertEntries(*db_, events);
  ASSERT_TRUE(inserted.ok());
  EXPECT_EQ(inserted->inserted, 2u);

  DrainStats stats = drain();
  EXPECT_EQ(stats.inserted, 0u);
  EXPECT_EQ(stats.acknowledged, 2u);
  EXPECT_EQ(stats.duplicates, 0u);
  EXPECT_EQ(history().size(), 2u);
  Result<redis::ReplyPtr> left = raw().command({"XLEN", eventsKey("acme")});
  EXPECT_EQ((*left)->integer, 0);
}

TEST_P(CreditsTest, WriterLeavesGroupOnlyWithoutPendingEvents) {
  must(credits_->topup(req(10, "t1")));
  LedgerWriter done(*credits_, {.consumer = "done"});
  ASSERT_TRUE(done.drainTenant("acme").ok());
  must(credits_->topup(req(5, "t2")));
  // "stuck" reads the second event and never acknowledges it.
  Result<redis::ReplyPtr> taken = raw().command({"XREADGROUP", "GROUP", kLedgerGroup, "stuck",
                                                 "COUNT", "10", "STREAMS", eventsKey("acme"), ">"});
  ASSERT_TRUE(taken.ok());
  LedgerWriter stuck(*credits_, {.consumer = "stuck"});

  Result<bool> done_left = done.leave("acme");
  Result<bool> stuck_left = stuck.leave("acme");
  Result<redis::ReplyPtr> consumers =
      raw().command({"XINFO", "CONSUMERS", eventsKey("acme"), kLedgerGroup});

  ASSERT_TRUE(done_left.ok()) << done_left.status().toString();
  EXPECT_TRUE(*done_left);
  ASSERT_TRUE(stuck_left.ok()) << stuck_left.status().toString();
  EXPECT_FALSE(*stuck_left);
  ASSERT_TRUE(consumers.ok());
  ASSERT_EQ((*consumers)->elements, 1u);
  EXPECT_EQ(redis::replyText((*consumers)->element[0]->element[1]), "stuck");
}

TEST_P(CreditsTest, ReconcileGoesOnPastATenantItCannotRead) {
  must(credits_->topup(req(10, "t1")));
  drain();
  Request other = req(5, "t1");
  other.tenant = "zeta";
  must(credits_->topup(other));
  drain();
  ASSERT_TRUE(raw().command({"HSET", accountKey("zeta"), "available", "99"}).ok());
  ASSERT_TRUE(raw().command({"XADD", eventsKey("acme"), "*", "kind", "topup"}).ok());

  Result<ReconcileReport> report = reconcile(*credits_, false);

  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->tenants, 2u);
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_TRUE(report->errors[0].starts_with("credit event ")) << report->errors[0];
  ASSERT_EQ(report->differences.size(), 1u);
  EXPECT_EQ(report->differences[0].tenant, "zeta");
}

TEST_P(CreditsTest, ReleaseAllOfANegativeHoldMovesNothing) {
  must(credits_->topup(req(10, "t1")));
  ASSERT_TRUE(raw().command({"HSET", holdsKey("acme"), "ghost", "-500"}).ok());
  Request release = req(0, "x1", "ghost");
  release.all = true;

  Receipt receipt = must(credits_->release(release));

  EXPECT_EQ(receipt.moved, 0);
  EXPECT_EQ(balance().available, 10);
}

TEST_P(CreditsTest, KilledWritersConvergeOnTheLedger) {
  must(credits_->topup(req(1'000'000, "t0")));
  std::atomic<bool> stop{false};
  std::atomic<int> operations{1};
  std::thread client([&] {
    for (int i = 0; !stop.load(); ++i) {
      Result<Receipt> receipt = credits_->reserve(req(1 + i % 7, "r" + std::to_string(i), "j"));
      if (receipt.ok() && receipt->moved > 0) {
        operations++;
      }
      Result<Receipt> commit = credits_->commit(req(1, "c" + std::to_string(i), "j"));
      if (commit.ok() && commit->moved > 0) {
        operations++;
      }
    }
  });

  // Writer processes, each killed with SIGKILL after a random time, while
  // the client goes on: some die holding events they read, some after their
  // SQL transaction and before the acknowledgement.
  std::mt19937 random(7);
  constexpr int kKills = 12;
  for (int kill = 0; kill < kKills; ++kill) {
    pid_t pid = ::fork();
    if (pid == 0) {
      Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = db_url_});
      Result<std::unique_ptr<Credits>> credits =
          Credits::create({.redis_url = redis_.url()}, db.ok() ? db->get() : nullptr);
      if (!db.ok() || !credits.ok()) {
        ::_exit(2);
      }
      LedgerWriter writer(**credits, {.claim_idle = 1ms, .batch = 5});
      while (true) {
        (void)writer.drainAll();
      }
    }
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 60));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  stop = true;
  client.join();
  std::this_thread::sleep_for(5ms);
  drain("final", 1ms);

  EXPECT_GT(operations.load(), 100);
  EXPECT_EQ(ledgerCount(), static_cast<size_t>(operations.load()));
  expectSame(ledgerBalance(), balance());
  Result<redis::ReplyPtr> left = raw().command({"XLEN", eventsKey("acme")});
  EXPECT_EQ((*left)->integer, 0);
}

TEST_P(CreditsTest, ReconcileReportsAndRepairsADifference) {
  must(credits_->topup(req(50, "t1")));
  must(credits_->reserve(req(20, "r1", "j")));
  drain();
  Result<ReconcileReport> clean = reconcile(*credits_, false);
  ASSERT_TRUE(clean.ok()) << clean.status().toString();
  EXPECT_EQ(clean->tenants, 1u);
  EXPECT_TRUE(clean->differences.empty());

  ASSERT_TRUE(raw().command({"HINCRBY", accountKey("acme"), "available", "1000"}).ok());
  ASSERT_TRUE(raw().command({"HSET", holdsKey("acme"), "ghost", "3"}).ok());
  Result<ReconcileReport> found = reconcile(*credits_, false);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->differences.size(), 1u);
  EXPECT_EQ(describe(found->differences[0].redis), "available 1030 held 20 (ghost 3, j 20)");
  EXPECT_EQ(describe(found->differences[0].expected), "available 30 held 20 (j 20)");
  EXPECT_FALSE(found->differences[0].repaired);
  EXPECT_EQ(balance().available, 1030);

  Result<ReconcileReport> repaired = reconcile(*credits_, true);
  ASSERT_TRUE(repaired.ok());
  ASSERT_EQ(repaired->differences.size(), 1u);
  EXPECT_TRUE(repaired->differences[0].repaired);
  expectSame(balance(), {30, 20, {{"j", 20}}});
  EXPECT_TRUE(reconcile(*credits_, false)->differences.empty());
}

class FakeJobs final : public JobDirectory {
 public:
  std::map<std::string, Result<JobState>> states;
  Result<JobState> state(const std::string& /*tenant*/, const std::string& job) override {
    auto found = states.find(job);
    return found == states.end() ? Result<JobState>(JobState::kMissing) : found->second;
  }
};

TEST_P(CreditsTest, ReaperReleasesOnlyHoldsOfJobsThatAreGone) {
  must(credits_->topup(req(100, "t1")));
  for (const char* job : {"running", "finished", "cancelled", "lost", "unknown"}) {
    must(credits_->reserve(req(10, std::string("r-") + job, job)));
  }
  must(credits_->reserve(req(5, "by-hand")));
  FakeJobs jobs;
  jobs.states.emplace("running", JobState::kActive);
  jobs.states.emplace("finished", JobState::kFinished);
  jobs.states.emplace("cancelled", JobState::kCancelled);
  jobs.states.emplace("unknown", Status::unavailable("job store down"));

  Result<ReapReport> report = reapHolds(*credits_, jobs);
  ASSERT_TRUE(report.ok()) << report.status().toString();
  EXPECT_EQ(report->holds_checked, 5u);
  EXPECT_EQ(report->holds_released, 3u);
  EXPECT_EQ(report->credits_released, 30);
  ASSERT_EQ(report->unknown.size(), 1u);
  EXPECT_EQ(report->unknown[0], "acme/unknown: job store down");
  expectSame(balance(), {75, 25, {{"", 5}, {"running", 10}, {"unknown", 10}}});

  Result<ReapReport> again = reapHolds(*credits_, jobs);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->holds_released, 0u);
}

TEST_P(CreditsTest, RacingClientsNeverReserveMoreThanTheBalance) {
  constexpr int kClients = 64;
  constexpr std::int64_t kBalance = 1000;
  must(credits_->topup(req(kBalance, "start")));
  std::atomic<bool> stop{false};
  std::atomic<bool> writer_stop{false};
  LedgerWriter writer(*credits_, {.consumer = "race-writer"});
  std::thread writer_thread([&] { writer.run(writer_stop, 50ms); });

  struct Tally {
    std::int64_t reserved = 0;
    std::int64_t committed = 0;
    std::int64_t released = 0;
    int entries = 0;
    int errors = 0;
  };
  std::vector<Tally> tallies(kClients);
  std::atomic<std::int64_t> lowest_available{kBalance};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 random(c);
      Tally& tally = tallies[c];
      std::string job = "job-" + std::to_string(c);
      for (int i = 0; !stop.load(); ++i) {
        std::string key = job + "-" + std::to_string(i);
        int choice = static_cast<int>(random() % 10);
        Result<Receipt> receipt = Status::internal("none");
        if (choice < 6) {
          Request reserve = req(1 + static_cast<std::int64_t>(random() % 40), key, job);
          reserve.partial = choice == 0;
          receipt = credits_->reserve(reserve);
          if (receipt.ok()) {
            tally.reserved += receipt->moved;
          }
        } else if (choice < 8) {
          receipt = credits_->commit(req(1, key, job));
          if (receipt.ok()) {
            tally.committed += receipt->moved;
          }
        } else {
          Request release = req(0, key, job);
          release.all = true;
          receipt = credits_->release(release);
          if (receipt.ok()) {
            tally.released += receipt->moved;
          }
        }
        if (!receipt.ok()) {
          tally.errors++;
          continue;
        }
        if (receipt->moved != 0) {
          tally.entries++;
        }
        std::int64_t seen = receipt->available;
        std::int64_t lowest = lowest_available.load();
        while (seen < lowest && !lowest_available.compare_exchange_weak(lowest, seen)) {
        }
      }
    });
  }
  std::this_thread::sleep_for(10s);
  stop = true;
  for (std::thread& client : clients) {
    client.join();
  }
  writer_stop = true;
  writer_thread.join();
  drain();

  std::int64_t reserved = 0;
  std::int64_t committed = 0;
  std::int64_t released = 0;
  int entries = 1;  // the top-up
  Balance expected_holds;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(tallies[c].errors, 0) << "client " << c;
    reserved += tallies[c].reserved;
    committed += tallies[c].committed;
    released += tallies[c].released;
    entries += tallies[c].entries;
    std::int64_t held = tallies[c].reserved - tallies[c].committed - tallies[c].released;
    if (held != 0) {
      expected_holds.holds["job-" + std::to_string(c)] = held;
    }
  }
  Balance final = balance();
  EXPECT_GE(lowest_available.load(), 0);
  EXPECT_GT(entries, 1000) << "the race made too few calls to mean anything";
  EXPECT_EQ(final.available + final.held + committed, kBalance);
  EXPECT_EQ(final.held, reserved - committed - released);
  EXPECT_EQ(final.holds, expected_holds.holds);
  EXPECT_EQ(ledgerCount(), static_cast<size_t>(entries));
  expectSame(ledgerBalance(), final);
}

INSTANTIATE_TEST_SUITE_P(Backends, CreditsTest, smmhub::testing::kBackends,
                         smmhub::testing::backendName);

}  // namespace
}  // namespace smmhub::credits
