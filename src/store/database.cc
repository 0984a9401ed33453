#include "store/database.h"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <random>
#include <ranges>
#include <string_view>
#include <thread>
#include <vector>

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "common/log.h"
#include "store/internal.h"
#include "store/migrations.h"
#include "store/prepared.h"

namespace smmhub::store {
namespace {

using internal::oneLine;
using internal::rollbackQuietly;

// How often write() runs FN again after a conflict with another transaction.
constexpr int kMaxWriteRetries = 5;

// libpq waits this long for a server that does not respond, unless the URL
// sets connect_timeout itself. Without it, libpq waits as long as the kernel
// does.
constexpr std::string_view kDefaultConnectTimeout = "connect_timeout=5";

// SOCI prefixes every connection failure with this sentence, and the back
// end's own message follows it.
constexpr std::string_view kSociConnectPrefix = "Cannot establish connection to the database.";

struct ParsedUrl {
  Backend backend = Backend::kSqlite;
  // The connection string for SOCI's back end: its own key=value form for
  // SQLite, the URL itself for PostgreSQL.
  std::string connect_string;
  std::string display_url;
};

// A part of a URL: its offset and length.
struct Span {
  size_t offset = 0;
  size_t length = 0;
};

// Returns where URL contains passwords: in the user information of
// "scheme://user:password@host" and in "password=" query parameters.
std::vector<Span> passwordSpans(std::string_view url) {
  std::vector<Span> spans;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return spans;
  }
  size_t authority = scheme_end + 3;
  size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
  std::string_view userinfo = url.substr(authority, authority_end - authority);
  size_t at = userinfo.rfind('@');
  size_t colon = userinfo.find(':');
  if (at != std::string_view::npos && colon < at) {
    spans.push_back({authority + colon + 1, at - colon - 1});
  }

  size_t separator = url.find('?', authority_end);
  while (separator != std::string_view::npos && separator < url.size() && url[separator] != '#') {
    size_t key = separator + 1;
    separator = std::min(url.find_first_of("&#", key), url.size());
    constexpr std::string_view kPasswordKey = "password=";
    if (url.substr(key).starts_with(kPasswordKey)) {
      size_t value = key + kPasswordKey.size();
      spans.push_back({value, separator - value});
    }
  }
  return spans;
}

// Returns URL with each password replaced by "***".
std::string maskPassword(std::string url) {
  std::vector<Span> spans = passwordSpans(url);
  // From the last span back, so that the offsets before it stay valid.
  for (const Span& span : std::views::reverse(spans)) {
    url.replace(span.offset, span.length, "***");
  }
  return url;
}

// Returns MESSAGE with each password of URL in it replaced by "***".
std::string maskPasswordsIn(std::string message, const std::string& url) {
  for (const Span& span : passwordSpans(url)) {
    std::string password = url.substr(span.offset, span.length);
    if (password.empty()) {
      continue;
    }
    for (size_t at = message.find(password); at != std::string::npos;
         at = message.find(password, at + 3)) {
      message.replace(at, password.size(), "***");
    }
  }
  return message;
}

Result<ParsedUrl> parseSqliteUrl(const std::string& url) {
  std::string path = url.substr(std::string_view("sqlite:").size());
  std::string prefix = "database URL '" + url + "': ";
  if (path.empty()) {
    return Status::invalidArgument(prefix +
                                   "the path after 'sqlite:' is empty; expected sqlite:PATH, such "
                                   "as sqlite:smmhub.db or sqlite:/var/lib/smmhub/smmhub.db");
  }
  if (path.starts_with("//")) {
    return Status::invalidArgument(prefix +
                                   "expected sqlite:PATH without '//', such as "
                                   "sqlite:/var/lib/smmhub/smmhub.db");
  }
  if (path == ":memory:") {
    return Status::invalidArgument(prefix +
                                   "each pooled session would get its own in-memory database; "
                                   "give a file path");
  }
  // SOCI 4.0.3 reads "key=value" pairs and ends a quoted value at the next
  // double quote, so the path is always quoted and cannot contain one.
  if (path.find('"') != std::string::npos) {
    return Status::invalidArgument(prefix +
                                   "the path contains '\"', which SOCI's SQLite back end cannot "
                                   "open; rename the file");
  }
  return ParsedUrl{Backend::kSqlite, "db=\"" + path + "\"", url};
}

Result<ParsedUrl> parsePostgresqlUrl(const std::string& url) {
  std::string display_url = maskPassword(url);
  std::string prefix = "database URL '" + display_url + "': ";

  // libpq parses the URL again when it connects, but parsing it here first
  // distinguishes a malformed URL from a server that is down. libpq quotes
  // the URL or a part of it in its message, so the passwords are masked there
  // too.
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string message = error == nullptr ? "out of memory" : oneLine(error);
    PQfreemem(error);
    return Status::invalidArgument(prefix + maskPasswordsIn(message, url));
  }

  // libpq accepts any port text here and rejects it only when it connects.
  std::string ports;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "port" && option->val != nullptr) {
      ports = option->val;
    }
  }
  PQconninfoFree(options);
  std::string_view rest = ports;
  while (!rest.empty()) {
    std::string_view port = rest.substr(0, rest.find(','));
    rest.remove_prefix(std::min(rest.size(), port.size() + 1));
    int number = 0;
    auto [end, failure] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (failure != std::errc() || end != port.data() + port.size() || number < 1 ||
        number > 65535) {
      return Status::invalidArgument(prefix + "port '" + std::string(port) +
                                     "' is not a number from 1 to 65535");
    }
  }

  std::string connect_string = url;
  if (url.find("connect_timeout=") == std::string::npos) {
    connect_string += url.find('?') == std::string::npos ? '?' : '&';
    connect_string += kDefaultConnectTimeout;
  }
  return ParsedUrl{Backend::kPostgresql, std::move(connect_string), std::move(display_url)};
}

Result<ParsedUrl> parseUrl(const std::string& url) {
  if (url.starts_with("sqlite:")) {
    return parseSqliteUrl(url);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return parsePostgresqlUrl(url);
  }
  return Status::invalidArgument("database URL '" + maskPassword(url) +
                                 "': expected sqlite:PATH or postgresql://...");
}

std::string_view backendName(Backend backend) {
  return backend == Backend::kSqlite ? "sqlite" : "postgresql";
}

// Sets up a freshly opened session. Throws soci::soci_error.
void configureSession(soci::session& sql, Backend backend, std::chrono::milliseconds lock_timeout,
                      const std::string& display_url) {
  const std::string timeout_ms = std::to_string(lock_timeout.count());
  if (backend == Backend::kPostgresql) {
    sql << "SET lock_timeout = " + timeout_ms;
    return;
  }

  // The busy timeout comes first, so that switching the journal mode waits
  // while another process has the file locked.
  sql << "PRAGMA busy_timeout = " + timeout_ms;
  std::string journal_mode;
  sql << "PRAGMA journal_mode = WAL", soci::into(journal_mode);
  if (journal_mode != "wal") {
    logger("store")->warn(
        "sqlite journal mode is not wal url={} journal_mode={}; readers will wait for writers",
        display_url, journal_mode);
  }
  sql << "PRAGMA foreign_keys = ON";
  // In WAL mode, NORMAL loses no committed transaction on a process crash,
  // only the last ones on a power loss, and saves an fsync per commit.
  sql << "PRAGMA synchronous = NORMAL";
}

// Returns whether ERROR is a conflict with another transaction, after which
// running the transaction again can succeed.
bool isConflict(const soci::soci_error& error) {
  if (const auto* postgresql = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
    std::string sqlstate = postgresql->sqlstate();
    // serialization_failure and deadlock_detected.
    return sqlstate == "40001" || sqlstate == "40P01";
  }
  if (const auto* sqlite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
    int primary = sqlite->result() & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
  }
  return false;
}

// A session leased from the pool for one call, given back when it ends,
// with its statement cache bound to it on this thread meanwhile.
class PoolLease {
 public:
  PoolLease(soci::connection_pool& pool, const std::vector<std::unique_ptr<StatementCache>>& caches)
      : pool_(pool), position_(pool.lease()), binding_(pool.at(position_), *caches.at(position_)) {}
  ~PoolLease() { pool_.give_back(position_); }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  PoolLease(PoolLease&&) = delete;
  PoolLease& operator=(PoolLease&&) = delete;

  soci::session& session() { return pool_.at(position_); }
  StatementCache& cache() { return binding_.cache(); }

 private:
  soci::connection_pool& pool_;
  std::size_t position_;
  internal::CacheBinding binding_;
};

std::chrono::milliseconds retryDelay(int attempt) {
  // A random delay, so that two transactions that conflicted do not meet
  // again at once.
  thread_local std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> delay_ms(1, 10 * attempt);
  return std::chrono::milliseconds(delay_ms(random));
}

}  // namespace

namespace internal {

std::string oneLine(std::string_view message) {
  std::string line;
  bool space = false;
  for (char c : message) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      space = !line.empty();
      continue;
    }
    if (space) {
      line += ' ';
      space = false;
    }
    line += c;
  }
  return line;
}

void rollbackQuietly(soci::session& sql) {
  try {
    sql << "ROLLBACK";
  } catch (const std::exception&) {
    // SQLite rejects ROLLBACK outside a transaction, and a lost connection
    // has already ended the transaction on the server.
  }
}

}  // namespace internal

struct Database::Attempt {
  Status status;
  bool conflict = false;
};

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::open(DatabaseOptions options) {
  SMMHUB_ASSIGN_OR_RETURN(ParsedUrl parsed, parseUrl(options.url));
  if (options.pool_size == 0) {
    return Status::invalidArgument("database " + parsed.display_url +
                                   ": pool_size is 0; it must be at least 1");
  }
  if (options.lock_timeout.count() < 0) {
    return Status::invalidArgument("database " + parsed.display_url + ": lock_timeout " +
                                   std::to_string(options.lock_timeout.count()) +
                                   " ms is negative");
  }

  std::unique_ptr<Database> database(new Database());
  database->backend_ = parsed.backend;
  database->display_url_ = parsed.display_url;
  database->lock_timeout_ = options.lock_timeout;
  database->pool_size_ = options.pool_size;
  database->pool_ = std::make_unique<soci::connection_pool>(options.pool_size);
  for (std::size_t i = 0; i < options.pool_size; ++i) {
    database->caches_.push_back(std::make_unique<StatementCache>(parsed.backend));
  }
  SMMHUB_RETURN_IF_ERROR(database->openSessions(parsed.connect_string));

  {
    PoolLease lease(*database->pool_, database->caches_);
    SMMHUB_ASSIGN_OR_RETURN(database->schema_version_,
                            migrate(lease.session(), database->backend_, database->display_url_));
  }
  logger("store")->info("database open url={} backend={} schema_version={} pool_size={}",
                        database->display_url_, backendName(database->backend_),
                        database->schema_version_, database->pool_size_);
  return database;
}

Status Database::openSessions(const std::string& connect_string) {
  const soci::backend_factory& factory =
      backend_ == Backend::kSqlite ? static_cast<const soci::backend_factory&>(soci::sqlite3)
                                   : static_cast<const soci::backend_factory&>(soci::postgresql);
  for (std::size_t i = 0; i < pool_size_; ++i) {
    soci::session& sql = pool_->at(i);
    try {
      sql.open(factory, connect_string);
      configureSession(sql, backend_, lock_timeout_, display_url_);
    } catch (const soci::soci_error& error) {
      std::string message = oneLine(error.get_error_message());
      if (message.starts_with(kSociConnectPrefix)) {
        message = oneLine(message.substr(kSociConnectPrefix.size()));
      }
      message = maskPasswordsIn(message, connect_string);
      return Status::unavailable("cannot open database " + display_url_ + ": " + message);
    }
  }
  return okStatus();
}

void Database::recoverSession(soci::session& sql, StatementCache& cache) {
  // SQLite has no connection to lose. A PostgreSQL session whose server went
  // away or restarted connects again, so that the pool does not keep a dead
  // connection.
  if (backend_ != Backend::kPostgresql || sql.is_connected()) {
    return;
  }
  // The server dropped the prepared statements with the connection, and
  // reconnect() deletes the connection object that they refer to.
  cache.clear();
  try {
    sql.reconnect();
    configureSession(sql, backend_, lock_timeout_, display_url_);
    logger("store")->warn("database connection lost and opened again url={}", display_url_);
  } catch (const soci::soci_error& error) {
    logger("store")->warn("database connection lost and cannot be opened again url={} error=\"{}\"",
                          display_url_, oneLine(error.get_error_message()));
  }
}

Status Database::read(const std::function<Status(soci::session&)>& fn) {
  PoolLease lease(*pool_, caches_);
  soci::session& sql = lease.session();
  try {
    return fn(sql);
  } catch (const soci::soci_error& error) {
    recoverSession(sql, lease.cache());
    return Status::unavailable("database " + display_url_ + ": " + oneLine(error.what()));
  } catch (const std::exception& error) {
    return Status::internal("database " + display_url_ + ": read failed: " + error.what());
  } catch (...) {
    return Status::internal("database " + display_url_ + ": read failed: unknown exception");
  }
}

Status Database::write(const std::function<Status(soci::session&)>& fn) {
  PoolLease lease(*pool_, caches_);
  soci::session& sql = lease.session();
  for (int attempt = 1;; ++attempt) {
    Attempt result = transact(sql, lease.cache(), fn);
    if (!result.conflict || attempt > kMaxWriteRetries) {
      return result.status;
    }
    logger("store")->debug("write conflict, running it again url={} attempt={} error=\"{}\"",
                           display_url_, attempt, result.status.message());
    std::this_thread::sleep_for(retryDelay(attempt));
  }
}

Database::Attempt Database::transact(soci::session& sql, StatementCache& cache,
                                     const std::function<Status(soci::session&)>& fn) {
  try {
    // On SQLite, a plain BEGIN would take the write lock at the first write,
    // and a transaction that read first could then fail with SQLITE_BUSY
    // without waiting for the busy timeout.
    sql << (backend_ == Backend::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    Status status = fn(sql);
    if (!status.ok()) {
      rollbackQuietly(sql);
      return {std::move(status), false};
    }
    sql << "COMMIT";
    return {okStatus(), false};
  } catch (const soci::soci_error& error) {
    rollbackQuietly(sql);
    recoverSession(sql, cache);
    return {Status::unavailable("database " + display_url_ + ": " + oneLine(error.what())),
            isConflict(error)};
  } catch (const std::exception& error) {
    rollbackQuietly(sql);
    return {Status::internal("database " + display_url_ + ": write failed: " + error.what()),
            false};
  } catch (...) {
    rollbackQuietly(sql);
    return {Status::internal("database " + display_url_ + ": write failed: unknown exception"),
            false};
  }
}

}  // namespace smmhub::store
