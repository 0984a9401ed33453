// Sign-in, its rate limits in Redis, and sessions.
#include <soci/soci.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "accounts/accounts.h"
#include "accounts/internal.h"
#include "common/log.h"
#include "redis/window_counter.h"
#include "store/prepared.h"

namespace smmhub::accounts {

using internal::unauthenticated;

namespace {

// The message of every sign-in that fails on the email or the password, so
// that a caller cannot tell which emails have accounts.
constexpr std::string_view kInvalidCredentials = "invalid email or password";

// A session's last use is written at most this often.
constexpr std::int64_t kTouchIntervalMs = 60'000;

// Bytes of randomness in a session token and a CSRF token.
constexpr std::size_t kTokenBytes = 32;

Status tooManyAttempts(std::string_view what, long long ttl_ms) {
  long long seconds = redis::retryAfterSeconds(ttl_ms);
  return Status::resourceExhausted("too many sign-in attempts " + std::string(what) +
                                   "; retry after " + std::to_string(seconds) + " seconds");
}

// An Argon2id hash of a random password, made once. Signing in with an
// unknown email verifies against it, so that the attempt costs as much time
// as one with a known email.
const std::string& dummyHash() {
  static const std::string hash = [] {
    std::string password = randomToken(24);
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      return std::string();
    }
    return std::string(out);
  }();
  return hash;
}

bool passwordMatches(const std::string& hash, const std::string& password) {
  return !hash.empty() &&
         crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

// A session with its user and the user's tenant, as SessionLookup reads it.
struct SessionRow {
  std::string csrf_token;
  long long expires_at_ms = 0;
  long long last_seen_at_ms = 0;
  User user;
  long long platform_admin = 0;
  long long created_at_ms = 0;
  long long disabled_at_ms = 0;
  // The tenant's columns are NULL for a user whose tenant row is gone.
  long long tenant_disabled_at_ms = 0;
  soci::indicator tenant_found = soci::i_ok;
};

// One query reads the session, its user and the user's tenant, because
// every signed-in request runs it.
struct SessionLookup {
  static std::string query() {
    return "SELECT s.csrf_token, s.expires_at_ms, s.last_seen_at_ms, u.id, u.tenant, u.email, "
           "u.name, u.role, u.platform_admin, u.created_at_ms, u.disabled_at_ms, "
           "t.disabled_at_ms FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN tenants t "
           "ON t.id = u.tenant WHERE s.token_hash = :token_hash";
  }

  std::string token_hash;
  SessionRow row;

  void bind(soci::statement& statement) {
    statement.exchange(soci::into(row.csrf_token));
    statement.exchange(soci::into(row.expires_at_ms));
    statement.exchange(soci::into(row.last_seen_at_ms));
    statement.exchange(soci::into(row.user.id));
    statement.exchange(soci::into(row.user.tenant));
    statement.exchange(soci::into(row.user.email));
    statement.exchange(soci::into(row.user.name));
    statement.exchange(soci::into(row.user.role));
    statement.exchange(soci::into(row.platform_admin));
    statement.exchange(soci::into(row.created_at_ms));
    statement.exchange(soci::into(row.disabled_at_ms));
    statement.exchange(soci::into(row.tenant_disabled_at_ms, row.tenant_found));
    statement.exchange(soci::use(token_hash));
  }
};

std::string lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

}  // namespace

std::int64_t retryAfterSeconds(const Status& status) {
  if (status.code() != StatusCode::kResourceExhausted) {
    return 0;
  }
  constexpr std::string_view kMarker = "retry after ";
  const std::string& message = status.message();
  std::size_t at = message.rfind(kMarker);
  if (at == std::string::npos) {
    return 0;
  }
  std::int64_t seconds = 0;
  const char* first = message.data() + at + kMarker.size();
  std::from_chars(first, message.data() + message.size(), seconds);
  return seconds;
}

// NOTE: while Redis is unavailable, sign-in fails with unavailable rather
// than going on without limits, so that an outage cannot open the way to
// guessing passwords.
Status Accounts::checkRateLimits(const std::string& email_key, const std::string& address_key) {
  if (redis_ == nullptr) {
    return okStatus();
  }
  SMMHUB_ASSIGN_OR_RETURN(redis::WindowCount address,
                          redis::countInWindow(*redis_, address_key, options_.address_window));
  if (address.count > options_.max_attempts_per_address) {
    return tooManyAttempts("from this address", address.ms_left);
  }
  SMMHUB_ASSIGN_OR_RETURN(redis::WindowCount failures, redis::readWindow(*redis_, email_key));
  if (failures.count >= options_.max_failures_per_email) {
    return tooManyAttempts("for this email", failures.ms_left);
  }
  return okStatus();
}

// A failure that cannot be counted is logged: the password was wrong
// anyway, and the address limit still applies.
void Accounts::recordFailure(const std::string& email_key) {
  if (redis_ == nullptr) {
    return;
  }
  Result<redis::WindowCount> counted =
      redis::countInWindow(*redis_, email_key, options_.failure_window);
  if (!counted.ok()) {
    logger("accounts")->warn("sign-in failure not counted: {}", counted.status().toString());
  }
}

void Accounts::clearFailures(const std::string& email_key) {
  if (redis_ == nullptr) {
    return;
  }
  Result<redis::Pool::Lease> connection = redis_->acquire();
  Status cleared = connection.ok()
                       ? smmhub::internal::toStatus((*connection)->command({"DEL", email_key}))
                       : connection.status();
  if (!cleared.ok()) {
    logger("accounts")->warn("sign-in failures not cleared: {}", cleared.toString());
  }
}

Result<User> Accounts::verifyPassword(const std::string& email, const std::string& password) {
  std::optional<User> user;
  std::string password_hash;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    user = internal::selectUserByEmail(sql, email, &password_hash);
    return okStatus();
  }));

  // The dummy verification keeps an unknown email as slow as a known one.
  if (!user) {
    static_cast<void>(passwordMatches(dummyHash(), password));
    return unauthenticated(std::string(kInvalidCredentials));
  }
  if (!passwordMatches(password_hash, password)) {
    return unauthenticated(std::string(kInvalidCredentials));
  }
  return *user;
}

Result<Session> Accounts::signIn(const std::string& email, const std::string& password,
                                 const std::string& client_address) {
  // The limits key on the lowercase email as given, so that a malformed one
  // counts as well. Its hash keeps email addresses out of Redis.
  std::string lower = lowercase(email);
  std::string email_key = "smmhub:signin:email:" + sha256Hex(lower);
  std::string address_key = "smmhub:signin:address:" + client_address;
  SMMHUB_RETURN_IF_ERROR(checkRateLimits(email_key, address_key));

  Result<User> verified = verifyPassword(lower, password);
  if (!verified.ok()) {
    if (verified.status().code() == StatusCode::kUnauthenticated) {
      recordFailure(email_key);
      logger("accounts")->info("sign-in failed address={}", client_address);
    }
    return verified.status();
  }
  User user = std::move(verified).value();
  clearFailures(email_key);

  // The password was right, so saying why the account cannot sign in reveals
  // nothing to someone who does not know it.
  if (user.disabled()) {
    return unauthenticated("user " + user.email + " is disabled; ask an owner of the tenant");
  }
  Session session{.token = randomToken(kTokenBytes), .csrf_token = randomToken(kTokenBytes)};
  std::string token_hash = sha256Hex(session.token);
  long long now = nowMs();
  long long expires_at_ms = now + options_.session_lifetime.count();
  SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
    if (!user.tenant.empty()) {
      std::optional<Tenant> tenant = internal::selectTenant(sql, user.tenant);
      if (!tenant || tenant->disabled()) {
        return unauthenticated("tenant '" + user.tenant + "' is disabled");
      }
    }
    sql << "DELETE FROM sessions WHERE user_id = :user_id AND expires_at_ms <= :now",
        soci::use(user.id), soci::use(now);
    sql << "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at_ms, expires_at_ms, "
           "last_seen_at_ms) VALUES (:token_hash, :user_id, :csrf_token, :created_at_ms, "
           ":expires_at_ms, :last_seen_at_ms)",
        soci::use(token_hash), soci::use(user.id), soci::use(session.csrf_token), soci::use(now),
        soci::use(expires_at_ms), soci::use(now);
    return okStatus();
  }));
  session.expires_at_ms =
      std::min<std::int64_t>(expires_at_ms, now + options_.session_idle.count());
  session.user = std::move(user);
  logger("accounts")
      ->info("signed in user={} tenant={} address={}", session.user.id, session.user.tenant,
             client_address);
  return session;
}

Result<Session> Accounts::sessionByToken(const std::string& token) {
  constexpr std::string_view kUnknown = "unknown or signed-out session; sign in again";
  if (token.empty() || token.size() > 128) {
    return unauthenticated(std::string(kUnknown));
  }
  std::string token_hash = sha256Hex(token);

  std::optional<SessionRow> found;
  SMMHUB_RETURN_IF_ERROR(db_.read([&](soci::session& sql) {
    store::Prepared<SessionLookup> lookup(sql);
    lookup->token_hash = token_hash;
    if (lookup.execute(true)) {
      found = lookup->row;
    }
    return okStatus();
  }));
  if (!found) {
    return unauthenticated(std::string(kUnknown));
  }
  User user = std::move(found->user);
  user.platform_admin = found->platform_admin != 0;
  user.created_at_ms = found->created_at_ms;
  user.disabled_at_ms = found->disabled_at_ms;
  bool tenant_disabled = !user.tenant.empty() &&
                         (found->tenant_found != soci::i_ok || found->tenant_disabled_at_ms != 0);

  // An expired session is deleted as it is found.
  long long now = nowMs();
  if (now >= found->expires_at_ms ||
      now >= found->last_seen_at_ms + options_.session_idle.count()) {
    SMMHUB_RETURN_IF_ERROR(signOut(token));
    return unauthenticated("session expired; sign in again");
  }
  if (user.disabled()) {
    return unauthenticated("user " + user.email + " is disabled");
  }
  if (tenant_disabled) {
    return unauthenticated("tenant '" + user.tenant + "' is disabled");
  }

  // Writing the last use on every request would make each read a write.
  if (now - found->last_seen_at_ms >= kTouchIntervalMs) {
    SMMHUB_RETURN_IF_ERROR(db_.write([&](soci::session& sql) {
      sql << "UPDATE sessions SET last_seen_at_ms = :now WHERE token_hash = :token_hash",
          soci::use(now), soci::use(token_hash);
      return okStatus();
    }));
    found->last_seen_at_ms = now;
  }
  return Session{.token = token,
                 .csrf_token = found->csrf_token,
                 .expires_at_ms = std::min<std::int64_t>(
                     found->expires_at_ms, found->last_seen_at_ms + options_.session_idle.count()),
                 .user = std::move(user)};
}

Status Accounts::signOut(const std::string& token) {
  std::string token_hash = sha256Hex(token);
  return db_.write([&](soci::session& sql) {
    sql << "DELETE FROM sessions WHERE token_hash = :token_hash", soci::use(token_hash);
    return okStatus();
  });
}

}  // namespace smmhub::accounts
