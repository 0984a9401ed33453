// The live event feed of render jobs: one Redis Stream per tenant, with a
// message per state change and per progress report.
//
//   SMMHUB_ASSIGN_OR_RETURN(auto log, EventLog::create({.redis_url = url}));
//   (void)log->publish({.type = "state", .tenant = "acme", .job_id = id, ...});
//   SMMHUB_ASSIGN_OR_RETURN(std::string after, log->lastId("acme"));
//   SMMHUB_ASSIGN_OR_RETURN(auto events, log->read("acme", after, 1000ms));
//
// The stream is a live feed for watchers, not a record: the job_events table
// of the job store is the record. Each publish() trims the stream to about
// max_len entries (XADD MAXLEN ~, which trims whole nodes and so may keep a
// few more), and a Redis restart can lose it. Callers treat publishing as
// best effort: they log a failed publish and go on. Jobs are never delivered
// through this stream; the broker's lists in smmhub:bk:... do that.
//
// Key: smmhub:ev:{TENANT}, a stream whose entries hold the fields of
// JobEventMessage that apply to its type. The hash tag keeps each tenant's
// stream in one slot.
//
// An EventLog is safe to use from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "redis/pool.h"

namespace smmhub::broker {

// One entry of a tenant's event stream.
struct JobEventMessage {
  std::string id;    // stream entry id, set by read()
  std::string type;  // "state" or "progress"
  std::string tenant;
  std::string batch_id;
  std::string job_id;
  int row = 0;
  // For "state": the change, the job's attempts after it, the worker of
  // the claim and the error of a failure.
  std::string from_state;
  std::string to_state;
  int attempt = 0;
  std::string worker;
  std::string error;
  std::int64_t next_try_at_ms = 0;  // for a change to retrying: when the retry is due
  // For "progress".
  int frames_done = 0;
  int frames_total = 0;
  std::int64_t at_ms = 0;  // Unix milliseconds
};

struct EventLogOptions {
  // "redis://HOST[:PORT][/DB]" or "unix:///PATH".
  std::string redis_url;
  // Entries kept per tenant, approximately (MAXLEN ~).
  std::size_t max_len = 10'000;
  // The pool for publish() and non-blocking reads. A blocking read uses a
  // connection of its own whose timeout is pool.timeout plus the wait.
  redis::PoolOptions pool;
};

// Returns the stream key of TENANT: "smmhub:ev:{TENANT}".
std::string eventStreamKey(const std::string& tenant);

class EventLog {
 public:
  // Errors: invalidArgument for a malformed URL or a max_len of 0.
  static Result<std::unique_ptr<EventLog>> create(EventLogOptions options);

  EventLog(EventLogOptions options, redis::Endpoint endpoint);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  EventLog(EventLog&&) = delete;
  EventLog& operator=(EventLog&&) = delete;

  // Appends EVENT to its tenant's stream (XADD key MAXLEN ~ max_len * ...),
  // with only the fields that apply to its type. Errors: invalidArgument for
  // an invalid tenant or a type other than "state" or "progress";
  // unavailable, naming the URL, when Redis fails.
  Status publish(const JobEventMessage& event);

  // Returns up to COUNT events of TENANT after the entry AFTER_ID, oldest
  // first: "0-0" reads from the oldest entry kept, "$" only entries added
  // during the wait. Waits up to BLOCK for the first entry, and not at all
  // when BLOCK is 0. An entry that does not parse is skipped with a warning,
  // and the read goes on past it, so that a caller that passes the last
  // returned id never reads it again. Returns an empty list when the wait
  // ends without a valid entry. Errors: invalidArgument for an invalid
  // tenant, an empty AFTER_ID or a COUNT below 1; unavailable, naming the
  // URL, when Redis fails.
  Result<std::vector<JobEventMessage>> read(const std::string& tenant, const std::string& after_id,
                                            std::chrono::milliseconds block, int count = 100);

  // Returns the id of TENANT's newest entry, or "0-0" when the stream is
  // empty or missing, so that a follower can start after a snapshot.
  // Errors as read().
  Result<std::string> lastId(const std::string& tenant);

 private:
  // A connection for blocking reads and its read timeout.
  struct BlockingConnection {
    std::chrono::milliseconds timeout{0};
    std::unique_ptr<redis::Connection> connection;
  };

  Result<redis::ReplyPtr> readOnce(const std::string& key, const std::string& after_id,
                                   std::chrono::milliseconds block, int count);
  BlockingConnection takeBlocking(std::chrono::milliseconds timeout);
  void giveBackBlocking(BlockingConnection blocking);

  EventLogOptions options_;
  redis::Pool pool_;
  std::mutex blocking_mutex_;
  std::vector<BlockingConnection> idle_blocking_;
};

}  // namespace smmhub::broker
