#include "webhooks/dispatcher.h"

#include <soci/soci.h>

#include <algorithm>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "store/statement.h"
#include "webhooks/delivery.h"
#include "webhooks/webhook_store.h"

namespace smmhub::webhooks {
namespace {

using nlohmann::json;

const redis::Script& renewScript() {
  static const auto* script = new redis::Script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua");
  return *script;
}

const redis::Script& releaseScript() {
  static const auto* script = new redis::Script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua");
  return *script;
}

// A webhook as the scan matches events against it.
struct Target {
  std::string id;
  std::string tenant;
  std::vector<std::string> events;
  std::int64_t created_at_ms = 0;
};

struct EventRow {
  std::int64_t id = 0;
  std::string job_id;
  std::string batch_id;
  std::string tenant;
  std::string to_state;
  std::int64_t at_ms = 0;
  std::string error;
};

// Throws soci::soci_error.
std::vector<Target> selectTargets(soci::session& sql) {
  Target target;
  std::string events;
  soci::statement statement =
      store::runOnce(sql,
                     "SELECT id, tenant, events, created_at_ms FROM webhooks "
                     "WHERE disabled_at_ms = 0 ORDER BY id",
                     soci::into(target.id), soci::into(target.tenant), soci::into(events),
                     soci::into(target.created_at_ms));
  statement.execute();
  std::vector<Target> targets;
  while (statement.fetch()) {
    Target copy = target;
    size_t start = 0;
    while (start < events.size()) {
      size_t comma = std::min(events.find(',', start), events.size());
      copy.events.push_back(events.substr(start, comma - start));
      start = comma + 1;
    }
    targets.push_back(std::move(copy));
  }
  return targets;
}

// Throws soci::soci_error.
std::vector<EventRow> selectEvents(soci::session& sql, std::int64_t cursor, int limit) {
  EventRow row;
  soci::statement statement = store::runOnce(
      sql,
      fmt::format("SELECT id, job_id, batch_id, tenant, to_state, at_ms, error "
                  "FROM job_events WHERE id > :cursor ORDER BY id LIMIT {}",
                  limit),
      soci::into(row.id), soci::into(row.job_id), soci::into(row.batch_id), soci::into(row.tenant),
      soci::into(row.to_state), soci::into(row.at_ms), soci::into(row.error), soci::use(cursor));
  statement.execute();
  std::vector<EventRow> rows;
  while (statement.fetch()) {
    rows.push_back(row);
  }
  return rows;
}

// Inserts a pending delivery unless the webhook has the event. Returns
// whether it did. Throws soci::soci_error.
bool insertDelivery(soci::session& sql, const Target& target, const std::string& event_id,
                    std::string_view type, const std::string& payload, std::int64_t now) {
  std::string id = newDeliveryId();
  std::string event_type(type);
  soci::statement statement =
      (sql.prepare << "INSERT INTO webhook_deliveries (id, webhook_id, tenant, event_id, "
                      "event_type, payload, state, next_try_at_ms, created_at_ms) VALUES (:id, "
                      ":webhook, :tenant, :event, :type, :payload, 'pending', :due, :at) "
                      "ON CONFLICT (webhook_id, event_id) DO NOTHING",
       soci::use(id), soci::use(target.id), soci::use(target.tenant), soci::use(event_id),
       soci::use(event_type), soci::use(payload), soci::use(now), soci::use(now));
  statement.execute(true);
  return statement.get_affected_rows() > 0;
}

std::string videoPayload(const EventRow& event, std::int64_t row, std::string_view type) {
  bool completed = event.to_state == "completed";
  json data = {{"batch_id", event.batch_id},
               {"job_id", event.job_id},
               {"row", row},
               {"state", event.to_state},
               {"error", event.error},
               {"video_url",
                completed ? json(fmt::format("/api/v1/batches/{}/videos/{}", event.batch_id, row))
                          : json(nullptr)}};
  return json{{"id", fmt::format("evt_{}", event.id)},
              {"type", type},
              {"created_at_ms", event.at_ms},
              {"tenant", event.tenant},
              {"data", std::move(data)}}
      .dump();
}

// Returns the batch's job counts by state, with "total". Throws
// soci::soci_error.
std::map<std::string, std::int64_t> batchCounts(soci::session& sql, const std::string& batch_id) {
  std::string state;
  std::int64_t count = 0;
  soci::statement statement =
      store::runOnce(sql, "SELECT state, COUNT(*) FROM jobs WHERE batch_id = :batch GROUP BY state",
                     soci::into(state), soci::into(count), soci::use(batch_id));
  statement.execute();
  std::map<std::string, std::int64_t> counts = {{"total", 0},    {"queued", 0},    {"active", 0},
                                                {"retrying", 0}, {"completed", 0}, {"failed", 0},
                                                {"cancelled", 0}};
  while (statement.fetch()) {
    counts[state] = count;
    counts["total"] += count;
  }
  return counts;
}

bool isTerminalState(const std::string& state) {
  return state == "completed" || state == "failed" || state == "cancelled";
}

// A pending delivery that is due, with what sending it needs.
struct DueDelivery {
  std::string id;
  std::string webhook_id;
  std::string event_id;
  std::string payload;
  std::int64_t attempts = 0;
  std::string url;
  std::string secret;
};

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::create(store::Database& db,
                                                       DispatcherOptions options) {
  if (options.id.empty()) {
    return Status::invalidArgument("webhook dispatcher: missing id for the lock");
  }
  if (options.max_attempts < 1 || options.batch_size < 1 || options.backoff.empty() ||
      options.lock_ttl.count() <= 0 || options.poll_interval.count() <= 0 ||
      options.timeout.count() <= 0) {
    return Status::invalidArgument(
        "webhook dispatcher: max_attempts, batch_size, lock_ttl, poll_interval and timeout must "
        "be positive, and backoff must not be empty");
  }
  SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint, redis::parseUrl(options.redis_url, "--redis"));
  fetch::AllowList allow;
  for (const std::string& range : options.allow) {
    if (Status added = allow.add(range); !added.ok()) {
      return added.withContext("--webhook-allow");
    }
  }
  SMMHUB_RETURN_IF_ERROR(initLibraries());
  return std::unique_ptr<Dispatcher>(
      new Dispatcher(db, std::move(options), std::move(allow), std::move(endpoint)));
}

Dispatcher::Dispatcher(store::Database& db, DispatcherOptions options, fetch::AllowList allow,
                       redis::Endpoint endpoint)
    : db_(db),
      options_(std::move(options)),
      allow_(std::move(allow)),
      redis_(std::move(endpoint), std::chrono::milliseconds(2'000)) {}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::start() {
  if (thread_.joinable()) {
    return;
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    logger("webhooks")->info("webhook dispatcher started id={}", options_.id);
    std::string last_error;
    while (true) {
      Result<PassStats> pass = runOnce();
      if (!pass.ok() && pass.status().message() != last_error) {
        // Logged once per distinct error, because a pass runs every poll.
        last_error = pass.status().message();
        logger("webhooks")->error("webhook pass failed id={} error={}", options_.id, last_error);
      } else if (pass.ok() && !last_error.empty()) {
        logger("webhooks")->info("webhook passes work again id={}", options_.id);
        last_error.clear();
      }
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; })) {
        break;
      }
    }
  });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    logger("webhooks")->info("webhook dispatcher stopped id={}", options_.id);
  }
  releaseLock();
}

Result<bool> Dispatcher::holdLock() {
  std::string ttl = std::to_string(options_.lock_ttl.count());
  if (locked_) {
    std::vector<std::string> keys = {options_.lock_key};
    std::vector<std::string> args = {options_.id, ttl};
    SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr renewed, renewScript().run(redis_, keys, args));
    if (renewed->type == REDIS_REPLY_INTEGER && renewed->integer == 1) {
      return true;
    }
    locked_ = false;
    logger("webhooks")->warn("webhook lock lost id={} key={}", options_.id, options_.lock_key);
  }
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr taken,
                          redis_.command({"SET", options_.lock_key, options_.id, "NX", "PX", ttl}));
  if (taken->type == REDIS_REPLY_ERROR) {
    return Status::unavailable("taking the webhook lock failed: " +
                               std::string(redis::replyText(taken.get())));
  }
  locked_ = redis::replyText(taken.get()) == "OK";
  if (locked_) {
    logger("webhooks")->info("webhook lock taken id={} key={}", options_.id, options_.lock_key);
  }
  return locked_;
}

void Dispatcher::releaseLock() {
  if (!locked_) {
    return;
  }
  locked_ = false;
  std::vector<std::string> keys = {options_.lock_key};
  std::vector<std::string> args = {options_.id};
  Result<redis::ReplyPtr> released = releaseScript().run(redis_, keys, args);
  if (!released.ok()) {
    logger("webhooks")
        ->warn("webhook lock not released id={} error={}; it expires in {} ms", options_.id,
               released.status().message(), options_.lock_ttl.count());
  }
}

Result<PassStats> Dispatcher::runOnce() {
  SMMHUB_ASSIGN_OR_RETURN(bool locked, holdLock());
  if (!locked) {
    return PassStats{};
  }
  SMMHUB_ASSIGN_OR_RETURN(PassStats stats, scan());
  stats.locked = true;
  SMMHUB_RETURN_IF_ERROR(send(stats));
  return stats;
}

Result<PassStats> Dispatcher::scan() {
  PassStats stats;
  auto now_steady = std::chrono::steady_clock::now();
  std::int64_t now = nowMillis();
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    stats = PassStats{};
    std::int64_t cursor = 0;
    sql << "SELECT last_event_id FROM webhook_cursor WHERE id = 1", soci::into(cursor);
    std::vector<EventRow> events = selectEvents(sql, cursor, options_.batch_size);
    std::vector<Target> targets = selectTargets(sql);
    std::set<std::string> tenants;
    for (const Target& target : targets) {
      tenants.insert(target.tenant);
    }

    // The cursor moves over consecutive ids only; see DispatcherOptions::gap_grace.
    std::int64_t next = cursor;
    bool blocked = false;
    // Batches with an ending job, and the time of their latest such event.
    std::map<std::string, const EventRow*> ended;
    for (const EventRow& event : events) {
      if (!blocked && event.id != next + 1) {
        auto [gap, added] = gaps_.emplace(next + 1, now_steady);
        if (now_steady - gap->second < options_.gap_grace) {
          blocked = true;
        } else {
          logger("webhooks")
              ->warn("job event ids {} to {} skipped: missing for {} ms", next + 1, event.id - 1,
                     options_.gap_grace.count());
          gaps_.erase(gap);
        }
      }
      if (!blocked) {
        next = event.id;
      }
      stats.events_read++;
      if (!tenants.contains(event.tenant) || !isTerminalState(event.to_state)) {
        continue;
      }
      ended[event.batch_id] = &event;
      if (event.to_state == "cancelled") {
        continue;
      }

      std::string_view type = event.to_state == "completed" ? kVideoCompleted : kVideoFailed;
      std::int64_t row = 0;
      sql << "SELECT row_number FROM jobs WHERE id = :id", soci::into(row), soci::use(event.job_id);
      std::string payload = videoPayload(event, row, type);
      std::string event_id = fmt::format("evt_{}", event.id);
      for (const Target& target : targets) {
        if (target.tenant == event.tenant && subscribes(target.events, type) &&
            target.created_at_ms <= event.at_ms &&
            insertDelivery(sql, target, event_id, type, payload, now)) {
          stats.deliveries_queued++;
        }
      }
    }

    // A batch whose jobs have all ended gets batch.completed, after its
    // videos' events.
    for (const auto& [batch_id, event] : ended) {
      std::map<std::string, std::int64_t> counts = batchCounts(sql, batch_id);
      if (counts["queued"] + counts["active"] + counts["retrying"] > 0) {
        continue;
      }
      std::string event_id = "evt_batch_" + batch_id;
      std::string payload = json{{"id", event_id},
                                 {"type", kBatchCompleted},
                                 {"created_at_ms", event->at_ms},
                                 {"tenant", event->tenant},
                                 {"data",
                                  {{"batch_id", batch_id},
                                   {"counts",
                                    {{"total", counts["total"]},
                                     {"completed", counts["completed"]},
                                     {"failed", counts["failed"]},
                                     {"cancelled", counts["cancelled"]}}}}}}
                                .dump();
      for (const Target& target : targets) {
        if (target.tenant == event->tenant && subscribes(target.events, kBatchCompleted) &&
            target.created_at_ms <= event->at_ms &&
            insertDelivery(sql, target, event_id, kBatchCompleted, payload, now)) {
          stats.deliveries_queued++;
        }
      }
    }

    sql << "UPDATE webhook_cursor SET last_event_id = :next, updated_at_ms = :now WHERE id = 1",
        soci::use(next), soci::use(now);
    stats.cursor = next;
    return okStatus();
  }));
  // Gaps behind the cursor are filled or skipped.
  std::erase_if(gaps_, [&](const auto& gap) { return gap.first <= stats.cursor; });
  return stats;
}

std::chrono::milliseconds Dispatcher::backoffAfter(int attempts) {
  size_t index =
      std::min<size_t>(static_cast<size_t>(std::max(attempts, 1)) - 1, options_.backoff.size() - 1);
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<std::int64_t>(
      static_cast<double>(options_.backoff[index].count()) * jitter(random)));
}

Status Dispatcher::send(PassStats& stats) {
  std::vector<DueDelivery> due;
  std::int64_t now = nowMillis();
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    DueDelivery row;
    soci::statement statement = store::runOnce(
        sql,
        fmt::format("SELECT d.id, d.webhook_id, d.event_id, d.payload, d.attempts, w.url, w.secret "
                    "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                    "WHERE d.state = 'pending' AND d.next_try_at_ms <= :now "
                    "ORDER BY d.next_try_at_ms, d.id LIMIT {}",
                    options_.batch_size),
        soci::into(row.id), soci::into(row.webhook_id), soci::into(row.event_id),
        soci::into(row.payload), soci::into(row.attempts), soci::into(row.url),
        soci::into(row.secret), soci::use(now));
    statement.execute();
    while (statement.fetch()) {
      due.push_back(row);
    }
    return okStatus();
  }));

  PostOptions post{
      .timeout = options_.timeout, .allow_http = options_.allow_http, .allow = &allow_};
  for (const DueDelivery& delivery : due) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        break;
      }
    }
    // A POST may take the whole timeout, so the lock is renewed before each.
    SMMHUB_ASSIGN_OR_RETURN(bool locked, holdLock());
    if (!locked) {
      break;
    }

    std::int64_t timestamp_s = nowMillis() / 1000;
    PostOutcome outcome = postEvent(delivery.url, delivery.event_id, delivery.payload,
                                    delivery.secret, timestamp_s, post);
    std::int64_t attempts = delivery.attempts + 1;
    std::int64_t finished_at = nowMillis();
    std::string state = "pending";
    std::int64_t next_try = finished_at;
    if (outcome.delivered()) {
      state = "delivered";
      stats.delivered++;
      logger("webhooks")
          ->info("webhook delivered delivery={} webhook={} event={} status={}", delivery.id,
                 delivery.webhook_id, delivery.event_id, outcome.status);
    } else if (attempts >= options_.max_attempts) {
      state = "failed";
      stats.failed++;
      logger("webhooks")
          ->error(
              "webhook delivery failed for good delivery={} webhook={} event={} attempts={} "
              "error={}",
              delivery.id, delivery.webhook_id, delivery.event_id, attempts, outcome.error);
    } else {
      std::chrono::milliseconds wait = backoffAfter(static_cast<int>(attempts));
      next_try = finished_at + wait.count();
      stats.retried++;
      logger("webhooks")
          ->warn(
              "webhook delivery retried delivery={} webhook={} event={} attempts={} wait_ms={} "
              "error={}",
              delivery.id, delivery.webhook_id, delivery.event_id, attempts, wait.count(),
              outcome.error);
    }
    std::int64_t last_status = outcome.status;
    std::int64_t delivered_at = state == "delivered" ? finished_at : 0;
    SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
      sql << "UPDATE webhook_deliveries SET state = :state, attempts = :attempts, "
             "next_try_at_ms = :next, last_status = :status, last_error = :error, "
             "delivered_at_ms = :delivered WHERE id = :id AND state = 'pending'",
          soci::use(state), soci::use(attempts), soci::use(next_try), soci::use(last_status),
          soci::use(outcome.error), soci::use(delivered_at), soci::use(delivery.id);
      return okStatus();
    }));
  }
  return okStatus();
}

}  // namespace smmhub::webhooks
