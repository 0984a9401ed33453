// The event stream against a real redis-server.
#include "broker/events.h"

#include <thread>

#include <gtest/gtest.h>

#include "testing/redis_server.h"

namespace smmhub::broker {
namespace {

using namespace std::chrono_literals;
using smmhub::testing::RedisServer;

class EventLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventLog> makeLog(std::size_t max_len = 10'000) {
    Result<std::unique_ptr<EventLog>> log =
        EventLog::create({.redis_url = redis_.url(),
                          .max_len = max_len,
                          .pool = {.timeout = 1000ms, .min_backoff = 1ms, .max_backoff = 1ms}});
    EXPECT_TRUE(log.ok()) << log.status().toString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  static JobEventMessage stateEvent(const std::string& job_id, int row) {
    return {.type = "state",
            .tenant = "acme",
            .batch_id = "b-1",
            .job_id = job_id,
            .row = row,
            .from_state = "queued",
            .to_state = "active",
            .attempt = 1,
            .worker = "w1",
            .at_ms = 1'800'000'000'000 + row};
  }

  std::vector<JobEventMessage> readAll(EventLog& log, const std::string& after = "0-0") {
    Result<std::vector<JobEventMessage>> events = log.read("acme", after, 0ms, 1000);
    EXPECT_TRUE(events.ok()) << events.status().toString();
    return events.ok() ? *events : std::vector<JobEventMessage>{};
  }

  redis::ReplyPtr redisCommand(std::initializer_list<std::string_view> command) {
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    redis::Connection connection(*endpoint, 1000ms);
    Result<redis::ReplyPtr> reply = connection.command(command);
    EXPECT_TRUE(reply.ok()) << reply.status().toString();
    return reply.ok() ? std::move(*reply) : redis::ReplyPtr(nullptr, freeReplyObject);
  }

  RedisServer redis_;
};

TEST_F(EventLogTest, RoundTripKeepsEveryField) {
  std::unique_ptr<EventLog> log = makeLog();
  JobEventMessage retry = {.type = "state",
                           .tenant = "acme",
                           .batch_id = "b-7",
                           .job_id = "j-42",
                           .row = 3,
                           .from_state = "active",
                           .to_state = "retrying",
                           .attempt = 2,
                           .worker = "w1",
                           .error = "encode failed: \"disk full\"",
                           .next_try_at_ms = 1'800'000'004'000,
                           .at_ms = 1'800'000'000'000};
  JobEventMessage progress = {.type = "progress",
                              .tenant = "acme",
                              .batch_id = "b-7",
                              .job_id = "j-42",
                              .row = 3,
                              .frames_done = 63,
                              .frames_total = 150,
                              .at_ms = 1'800'000'000'500};

  ASSERT_TRUE(log->publish(retry).ok());
  ASSERT_TRUE(log->publish(progress).ok());
  std::vector<JobEventMessage> events = readAll(*log);

  ASSERT_EQ(events.size(), 2u);
  const JobEventMessage& state = events[0];
  EXPECT_FALSE(state.id.empty());
  EXPECT_EQ(state.type, "state");
  EXPECT_EQ(state.tenant, "acme");
  EXPECT_EQ(state.batch_id, "b-7");
  EXPECT_EQ(state.job_id, "j-42");
  EXPECT_EQ(state.row, 3);
  EXPECT_EQ(state.from_state, "active");
  EXPECT_EQ(state.to_state, "retrying");
  EXPECT_EQ(state.attempt, 2);
  EXPECT_EQ(state.worker, "w1");
  EXPECT_EQ(state.error, "encode failed: \"disk full\"");
  EXPECT_EQ(state.next_try_at_ms, 1'800'000'004'000);
  EXPECT_EQ(state.frames_done, 0);
  EXPECT_EQ(state.frames_total, 0);
  EXPECT_EQ(state.at_ms, 1'800'000'000'000);
  const JobEventMessage& frames = events[1];
  EXPECT_EQ(frames.type, "progress");
  EXPECT_EQ(frames.job_id, "j-42");
  EXPECT_EQ(frames.row, 3);
  EXPECT_EQ(frames.frames_done, 63);
  EXPECT_EQ(frames.frames_total, 150);
  EXPECT_EQ(frames.from_state, "");
  EXPECT_EQ(frames.to_state, "");
  EXPECT_EQ(frames.at_ms, 1'800'000'000'500);
  EXPECT_LT(state.id, frames.id);
}

TEST_F(EventLogTest, EntriesHoldOnlyFieldsOfTheirType) {
  std::unique_ptr<EventLog> log = makeLog();
  ASSERT_TRUE(log->publish(stateEvent("j-1", 1)).ok());
  ASSERT_TRUE(log->publish({.type = "progress",
                            .tenant = "acme",
                            .batch_id = "b-1",
                            .job_id = "j-1",
                            .row = 1,
                            .frames_done = 1,
                            .frames_total = 2,
                            .at_ms = 5})
                  .ok());

  redis::ReplyPtr entries = redisCommand({"XRANGE", eventStreamKey("acme"), "-", "+"});

  ASSERT_NE(entries, nullptr);
  ASSERT_EQ(entries->elements, 2u);
  // State: type tenant batch_id job_id row from_state to_state attempt worker
  // at_ms; no error, no retry time and no frames.
  EXPECT_EQ(redis::elementAt(entries->element[0], 1)->elements, 20u);
  // Progress: type tenant batch_id job_id row frames_done frames_total at_ms.
  EXPECT_EQ(redis::elementAt(entries->element[1], 1)->elements, 16u);
  EXPECT_EQ(eventStreamKey("acme"), "smmhub:ev:{acme}");
}

TEST_F(EventLogTest, AfterIdPagesThroughEvents) {
  std::unique_ptr<EventLog> log = makeLog();
  for (int row = 1; row <= 5; ++row) {
    ASSERT_TRUE(log->publish(stateEvent("j-" + std::to_string(row), row)).ok());
  }

  std::vector<int> page_rows;
  std::vector<std::size_t> page_sizes;
  std::string after = "0-0";
  for (int page = 0; page < 4; ++page) {
    Result<std::vector<JobEventMessage>> events = log->read("acme", after, 0ms, 2);
    ASSERT_TRUE(events.ok()) << events.status().toString();
    page_sizes.push_back(events->size());
    for (const JobEventMessage& event : *events) {
      page_rows.push_back(event.row);
      after = event.id;
    }
  }

  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1, 0}));
  EXPECT_EQ(page_rows, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST_F(EventLogTest, LastIdStartsAfterSnapshot) {
  std::unique_ptr<EventLog> log = makeLog();
  Result<std::string> empty = log->lastId("acme");
  ASSERT_TRUE(log->publish(stateEvent("j-1", 1)).ok());
  Result<std::string> first = log->lastId("acme");
  ASSERT_TRUE(log->publish(stateEvent("j-2", 2)).ok());

  ASSERT_TRUE(empty.ok()) << empty.status().toString();
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ(*empty, "0-0");
  std::vector<JobEventMessage> after = readAll(*log, *first);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].job_id, "j-2");
}

TEST_F(EventLogTest, BlockingReadReturnsEventPublishedDuringWait) {
  std::unique_ptr<EventLog> reader = makeLog();
  std::unique_ptr<EventLog> publisher = makeLog();
  Result<std::string> start = reader->lastId("acme");
  ASSERT_TRUE(start.ok()) << start.status().toString();

  std::thread thread([&] {
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(publisher->publish(stateEvent("j-late", 9)).ok());
  });
  Result<std::vector<JobEventMessage>> events = reader->read("acme", *start, 10'000ms);
  thread.join();

  ASSERT_TRUE(events.ok()) << events.status().toString();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].job_id, "j-late");
  EXPECT_EQ((*events)[0].row, 9);
}

TEST_F(EventLogTest, BlockingReadWithoutEventsReturnsEmpty) {
  std::unique_ptr<EventLog> log = makeLog();
  ASSERT_TRUE(log->publish(stateEvent("j-1", 1)).ok());

  Result<std::vector<JobEventMessage>> events = log->read("acme", "$", 300ms);
  // A wait longer than the pool's 1 s command timeout needs the separate
  // blocking connection.
  Result<std::vector<JobEventMessage>> longer = log->read("acme", "$", 1500ms);

  ASSERT_TRUE(events.ok()) << events.status().toString();
  EXPECT_TRUE(events->empty());
  ASSERT_TRUE(longer.ok()) << longer.status().toString();
  EXPECT_TRUE(longer->empty());
}

TEST_F(EventLogTest, TrimmingKeepsAboutMaxLen) {
  std::unique_ptr<EventLog> log = makeLog(100);
  for (int row = 1; row <= 1000; ++row) {
    ASSERT_TRUE(log->publish(stateEvent("j-" + std::to_string(row), row)).ok());
  }

  redis::ReplyPtr length = redisCommand({"XLEN", eventStreamKey("acme")});
  std::vector<JobEventMessage> kept = readAll(*log);

  ASSERT_NE(length, nullptr);
  // MAXLEN ~ trims whole stream nodes of up to 100 entries (Redis's
  // stream-node-max-entries default), so up to one node more stays.
  EXPECT_GE(length->integer, 100);
  EXPECT_LT(length->integer, 200);
  ASSERT_EQ(static_cast<long long>(kept.size()), length->integer);
  EXPECT_EQ(kept.back().row, 1000);
  EXPECT_EQ(kept.front().row, 1000 - static_cast<int>(kept.size()) + 1);
}

TEST_F(EventLogTest, MalformedEntriesAreSkipped) {
  std::unique_ptr<EventLog> log = makeLog();
  std::string key = eventStreamKey("acme");
  redisCommand({"XADD", key, "*", "type", "bogus", "job_id", "j-x"});
  redisCommand({"XADD", key, "*", "type", "state", "job_id", "j-y", "row", "three"});
  redisCommand({"XADD", key, "*", "type", "progress", "row", "1"});
  ASSERT_TRUE(log->publish(stateEvent("j-good", 4)).ok());
  redisCommand({"XADD", key, "*", "type", "state", "job_id", "j-z", "at_ms", "soon"});

  std::vector<JobEventMessage> events = readAll(*log);
  ASSERT_EQ(events.size(), 1u);
  std::vector<JobEventMessage> after_good = readAll(*log, events[0].id);
  Result<std::vector<JobEventMessage>> waited = log->read("acme", events[0].id, 200ms);

  EXPECT_EQ(events[0].job_id, "j-good");
  EXPECT_EQ(events[0].row, 4);
  EXPECT_TRUE(after_good.empty());
  ASSERT_TRUE(waited.ok()) << waited.status().toString();
  EXPECT_TRUE(waited->empty());
}

TEST_F(EventLogTest, InvalidRequestsAreRejected) {
  std::unique_ptr<EventLog> log = makeLog();
  JobEventMessage bad_tenant = stateEvent("j-1", 1);
  bad_tenant.tenant = "ac{me}";
  JobEventMessage bad_type = stateEvent("j-1", 1);
  bad_type.type = "done";

  Status tenant = log->publish(bad_tenant);
  Status type = log->publish(bad_type);
  Result<std::vector<JobEventMessage>> no_after = log->read("acme", "", 0ms);
  Result<std::vector<JobEventMessage>> no_count = log->read("acme", "0-0", 0ms, 0);
  Result<std::unique_ptr<EventLog>> bad_url = EventLog::create({.redis_url = "http://127.0.0.1"});

  EXPECT_EQ(tenant.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(type.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_after.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_count.status().code(), StatusCode::kInvalidArgument);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EventLogTest, RedisDownIsUnavailableNamingUrl) {
  std::unique_ptr<EventLog> log = makeLog();
  redis_.kill();

  Status published = log->publish(stateEvent("j-1", 1));
  Result<std::vector<JobEventMessage>> read = log->read("acme", "0-0", 0ms);
  Result<std::vector<JobEventMessage>> waited = log->read("acme", "$", 500ms);
  Result<std::string> last = log->lastId("acme");

  EXPECT_EQ(published.code(), StatusCode::kUnavailable);
  EXPECT_NE(published.message().find(redis_.url()), std::string::npos) << published.message();
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kUnavailable);
  ASSERT_FALSE(waited.ok());
  EXPECT_EQ(waited.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(waited.status().message().find(redis_.url()), std::string::npos)
      << waited.status().message();
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace smmhub::broker
