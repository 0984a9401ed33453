// Tenants, users, sign-in sessions and API keys, stored in the SQL tables of
// migration 4 ("accounts").
//
//   accounts::Accounts accounts(*db, &redis_pool);
//   SMMHUB_RETURN_IF_ERROR(accounts.createTenant("acme", "Acme Media"));
//   SMMHUB_ASSIGN_OR_RETURN(accounts::User owner,
//                           accounts.createUser({.tenant = "acme", .email = "ana@acme.test",
//                                                .password = password, .role = "owner"}));
//   SMMHUB_ASSIGN_OR_RETURN(accounts::Session session,
//                           accounts.signIn("ana@acme.test", password, "203.0.113.7"));
//   // later, on each request:
//   SMMHUB_ASSIGN_OR_RETURN(accounts::Session current, accounts.sessionByToken(token));
//
// Secrets never reach the database: passwords are stored as Argon2id hashes
// (libsodium's crypto_pwhash_str with the interactive limits), session
// tokens and API key secrets as the hex SHA-256 of the secret. A session or
// key secret is returned once, when it is made.
//
// Roles are the strings "owner", "editor" and "viewer", and "none" for a
// platform administrator who belongs to no tenant. Users and keys are looked
// up by (tenant, id), so that an id of another tenant is notFound.
//
// Thread-safe: every method may run on many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "redis/pool.h"
#include "store/database.h"

namespace smmhub::accounts {

// Limits of the values Accounts accepts.
inline constexpr std::size_t kMinPasswordCharacters = 12;
inline constexpr std::size_t kMaxPasswordBytes = 1024;
inline constexpr std::size_t kMaxEmailBytes = 254;
inline constexpr std::size_t kMaxNameBytes = 200;

struct Tenant {
  std::string id;
  std::string name;
  std::int64_t created_at_ms = 0;
  std::int64_t disabled_at_ms = 0;  // 0 while enabled

  bool disabled() const { return disabled_at_ms != 0; }
};

struct User {
  std::string id;      // 16 lowercase hex digits
  std::string tenant;  // empty for a platform administrator of no tenant
  std::string email;   // lowercase
  std::string name;
  std::string role;  // "owner", "editor", "viewer", or "none" without a tenant
  bool platform_admin = false;
  std::int64_t created_at_ms = 0;
  std::int64_t disabled_at_ms = 0;  // 0 while enabled

  bool disabled() const { return disabled_at_ms != 0; }
};

struct NewUser {
  std::string tenant;  // empty only for a platform administrator
  std::string email;
  std::string name;
  std::string password;
  std::string role;  // "owner", "editor" or "viewer"; "none" (or empty) without a tenant
  bool platform_admin = false;
};

// The changes of updateUser(); a field left empty keeps its value.
struct UserUpdate {
  std::optional<std::string> role;
  std::optional<bool> disabled;
};

// A signed-in session. TOKEN is the secret the client sends back in the
// session cookie; CSRF_TOKEN must come with its unsafe requests.
struct Session {
  std::string token;
  std::string csrf_token;
  // When the session ends unless it is used again: the earlier of the idle
  // limit after the last use and the absolute limit after sign-in.
  std::int64_t expires_at_ms = 0;
  User user;
};

struct ApiKey {
  std::string id;  // 16 lowercase hex digits, also part of the secret
  std::string tenant;
  std::string name;
  std::string role;        // "owner", "editor" or "viewer"
  std::string created_by;  // an actor such as "user:ID"
  std::int64_t created_at_ms = 0;
  std::int64_t last_used_at_ms = 0;  // 0 when never used; updated at most once a minute
  std::int64_t revoked_at_ms = 0;    // 0 while valid

  bool revoked() const { return revoked_at_ms != 0; }
};

// A key as createApiKey() returns it: the only time its secret is known.
struct NewApiKey {
  ApiKey key;
  std::string secret;  // "smk_" + key.id + "_" + 43 base64url characters
};

struct AccountsOptions {
  // A session ends this long after its last use, or this long after sign-in.
  std::chrono::milliseconds session_idle{std::chrono::hours(12)};
  std::chrono::milliseconds session_lifetime{std::chrono::hours(24 * 7)};
  // Failed sign-ins per email within the window before further attempts are
  // rejected until the window ends.
  int max_failures_per_email = 5;
  std::chrono::milliseconds failure_window{std::chrono::minutes(15)};
  // Sign-in attempts, failed or not, per client address within the window.
  int max_attempts_per_address = 30;
  std::chrono::milliseconds address_window{std::chrono::minutes(1)};
  // The wall clock in milliseconds since the Unix epoch; tests replace it to
  // move sessions past their limits. The rate limits use Redis's own expiry.
  std::function<std::int64_t()> now_ms;
};

class Accounts {
 public:
  // REDIS may be null, and then sign-in has no rate limits. DB and REDIS
  // must outlive the object.
  Accounts(store::Database& db, redis::Pool* redis, AccountsOptions options = {});

  // Tenants.

  // Adds tenant ID named NAME. Errors: invalidArgument for an ID that
  // checkTenantName() rejects or an empty or too long NAME; alreadyExists
  // when ID is taken.
  Result<Tenant> createTenant(const std::string& id, const std::string& name);
  // Errors: notFound.
  Result<Tenant> tenant(const std::string& id);
  // Every tenant, ordered by id.
  Result<std::vector<Tenant>> listTenants();
  // Disables or enables tenant ID. A disabled tenant's users cannot sign in,
  // its sessions and keys stop authenticating. Errors: notFound.
  Result<Tenant> setTenantDisabled(const std::string& id, bool disabled);

  // Users.

  // Adds a user with a fresh id and stores the email in lowercase.
  // Errors:
  //   invalidArgument naming the field: a malformed email, a password
  //     shorter than kMinPasswordCharacters, an unknown role, or no tenant
  //     without platform_admin.
  //   notFound for an unknown tenant.
  //   alreadyExists when another user has the email.
  Result<User> createUser(const NewUser& user);
  // Errors: notFound when TENANT has no user ID.
  Result<User> user(const std::string& tenant, const std::string& id);
  // TENANT's users, ordered by email.
  Result<std::vector<User>> listUsers(const std::string& tenant);
  // Changes the role or the disabled state of TENANT's user ID. Disabling a
  // user ends its sessions. Errors: notFound; invalidArgument for an unknown
  // role; failedPrecondition when the change would leave TENANT without an
  // enabled owner.
  Result<User> updateUser(const std::string& tenant, const std::string& id,
                          const UserUpdate& update);

  // Sessions.

  // Checks EMAIL and PASSWORD and starts a session for CLIENT_ADDRESS.
  // Errors:
  //   unauthenticated "invalid email or password" for an unknown email and a
  //     wrong password alike; after a right password, unauthenticated naming
  //     the disabled user or tenant.
  //   resourceExhausted when the email had too many failures or the address
  //     too many attempts; the message ends "retry after N seconds", which
  //     retryAfterSeconds() reads.
  //   unavailable when the database or Redis fails.
  Result<Session> signIn(const std::string& email, const std::string& password,
                         const std::string& client_address);
  // Returns the live session of TOKEN and records its use. Errors:
  // unauthenticated for an unknown, expired or signed-out token, or one of
  // a disabled user or tenant.
  Result<Session> sessionByToken(const std::string& token);
  // Ends the session of TOKEN. An unknown token is not an error.
  Status signOut(const std::string& token);

  // API keys.

  // Makes a key of TENANT with ROLE ("owner", "editor" or "viewer"); CREATED_BY
  // is the actor that made it. Errors: invalidArgument for an empty or too
  // long NAME or an unknown role; notFound for an unknown tenant.
  Result<NewApiKey> createApiKey(const std::string& tenant, const std::string& name,
                                 const std::string& role, const std::string& created_by);
  // TENANT's keys, revoked ones included, ordered by creation time.
  Result<std::vector<ApiKey>> listApiKeys(const std::string& tenant);
  // Revokes TENANT's key ID; revoking it again keeps the first time. Errors:
  // notFound.
  Result<ApiKey> revokeApiKey(const std::string& tenant, const std::string& id);
  // Returns the key whose secret is SECRET and records its use. Errors:
  // unauthenticated for a malformed, unknown or revoked secret, or a key of
  // a disabled tenant.
  Result<ApiKey> authenticateKey(const std::string& secret);

 private:
  std::int64_t nowMs() const;
  // Counts one sign-in attempt of ADDRESS and checks EMAIL's failures.
  Status checkRateLimits(const std::string& email_key, const std::string& address_key);
  void recordFailure(const std::string& email_key);
  void clearFailures(const std::string& email_key);
  Result<User> verifyPassword(const std::string& email, const std::string& password);

  store::Database& db_;
  redis::Pool* redis_;
  AccountsOptions options_;
};

// Returns the seconds to wait that a resourceExhausted STATUS from signIn()
// names, or 0 for any other status.
std::int64_t retryAfterSeconds(const Status& status);

// Checks an email and returns it in lowercase. Errors: invalidArgument
// naming the email and what is wrong.
Result<std::string> normalizeEmail(std::string_view email);

// Checks a password's length. Errors: invalidArgument saying the limit.
Status checkPassword(std::string_view password);

// Returns the lowercase hex SHA-256 of BYTES.
std::string sha256Hex(std::string_view bytes);

// Returns COUNT random bytes encoded as base64url without padding.
std::string randomToken(std::size_t count);

// Whether A and B are equal, in a time that depends only on their lengths.
bool constantTimeEqual(std::string_view a, std::string_view b);

}  // namespace smmhub::accounts
