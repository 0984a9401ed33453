// Accounts on both SQL back ends, with a real redis-server for the sign-in
// rate limits.
#include "accounts/accounts.h"

#include <soci/soci.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/backend_test.h"
#include "testing/free_port.h"
#include "testing/redis_server.h"

namespace smmhub::accounts {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kPassword = "correct horse battery";
constexpr std::int64_t kStart = 1'700'000'000'000;
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;

template <typename T>
T must(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().toString();
  return result.ok() ? std::move(result).value() : T{};
}

class AccountsTest : public smmhub::testing::BackendTest {
 protected:
  void SetUp() override {
    db_ = openTestDatabase();
    ASSERT_NE(db_, nullptr);
    redis::Endpoint endpoint = must(redis::parseUrl(redis_.url(), "test"));
    pool_ = std::make_unique<redis::Pool>(endpoint, redis::PoolOptions{});
    accounts_ = makeAccounts({});
    must(accounts_->createTenant("acme", "Acme Media"));
    owner_ = must(accounts_->createUser({.tenant = "acme",
                                         .email = "Ana@Acme.test",
                                         .name = "Ana",
                                         .password = std::string(kPassword),
                                         .role = "owner"}));
  }

  std::unique_ptr<Accounts> makeAccounts(AccountsOptions options) {
    return makeAccounts(*db_, pool_.get(), std::move(options));
  }

  std::unique_ptr<Accounts> makeAccounts(store::Database& db, redis::Pool* pool,
                                         AccountsOptions options) {
    options.now_ms = [this] {
      return now_.load();
    };
    return std::make_unique<Accounts>(db, pool, std::move(options));
  }

  // A second handle on the test database with one pooled session, so that
  // every lookup runs the statement that the first one prepared.
  std::unique_ptr<store::Database> openOneSession() {
    Result<std::unique_ptr<store::Database>> opened =
        store::Database::open({.url = makeDatabaseUrl(), .pool_size = 1});
    EXPECT_TRUE(opened.ok()) << opened.status().toString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // Reads one text column of one row.
  std::string selectText(const std::string& query, const std::string& key) {
    std::string value;
    Status read = db_->read([&](soci::session& sql) {
      sql << query, soci::into(value), soci::use(key);
      return okStatus();
    });
    EXPECT_TRUE(read.ok()) << read.toString();
    return value;
  }

  smmhub::testing::RedisServer redis_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<Accounts> accounts_;
  std::atomic<std::int64_t> now_{kStart};
  User owner_;
};

TEST_P(AccountsTest, TenantsAreCreatedAndListed) {
  must(accounts_->createTenant("beta", "Beta Social"));

  std::vector<Tenant> tenants = must(accounts_->listTenants());
  Tenant beta = must(accounts_->tenant("beta"));

  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(tenants[0].id, "acme");
  EXPECT_EQ(tenants[0].name, "Acme Media");
  EXPECT_EQ(tenants[1].id, "beta");
  EXPECT_EQ(beta.name, "Beta Social");
  EXPECT_EQ(beta.created_at_ms, kStart);
  EXPECT_FALSE(beta.disabled());
}

TEST_P(AccountsTest, TenantErrors) {
  Result<Tenant> repeated = accounts_->createTenant("acme", "Again");
  Result<Tenant> bad_id = accounts_->createTenant("has space", "X");
  Result<Tenant> empty_name = accounts_->createTenant("gamma", "");
  Result<Tenant> missing = accounts_->tenant("nobody");

  EXPECT_EQ(repeated.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repeated.status().message(), "tenant 'acme' already exists");
  EXPECT_EQ(bad_id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty_name.status().message(), "tenant name is empty");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(accounts_->setTenantDisabled("nobody", true).status().code(), StatusCode::kNotFound);
}

TEST_P(AccountsTest, UserIsStoredWithArgon2idHash) {
  std::string hash = selectText("SELECT password_hash FROM users WHERE id = :id", owner_.id);
  User found = must(accounts_->user("acme", owner_.id));

  EXPECT_EQ(owner_.id.size(), 16u);
  EXPECT_EQ(owner_.email, "ana@acme.test");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_EQ(hash.find(kPassword), std::string::npos);
  EXPECT_EQ(found.email, "ana@acme.test");
  EXPECT_EQ(found.name, "Ana");
  EXPECT_EQ(found.role, "owner");
  EXPECT_EQ(found.tenant, "acme");
  EXPECT_FALSE(found.platform_admin);
  EXPECT_EQ(found.created_at_ms, kStart);
}

TEST_P(AccountsTest, CreateUserErrors) {
  auto create = [&](NewUser user) {
    return accounts_->createUser(user).status();
  };
  std::string password(kPassword);

  Status short_password = create(
      {.tenant = "acme", .email = "b@acme.test", .password = "elevenchars", .role = "viewer"});
  Status duplicate =
      create({.tenant = "acme", .email = "ANA@acme.test", .password = password, .role = "viewer"});
  Status bad_email =
      create({.tenant = "acme", .email = "no-at-sign", .password = password, .role = "viewer"});
  Status bad_role =
      create({.tenant = "acme", .email = "c@acme.test", .password = password, .role = "admin"});
  Status unknown_tenant =
      create({.tenant = "nobody", .email = "d@acme.test", .password = password, .role = "viewer"});
  Status no_tenant = create({.email = "e@acme.test", .password = password, .role = "none"});

  EXPECT_EQ(short_password.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_password.message(), "password is shorter than 12 characters");
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(duplicate.message(), "email ana@acme.test is already taken by another user");
  EXPECT_EQ(bad_email.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_email.message(), "email 'no-at-sign' is invalid: expected one '@'");
  EXPECT_EQ(bad_role.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_role.message(), "role 'admin' is invalid: expected owner, editor or viewer");
  EXPECT_EQ(unknown_tenant.code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown_tenant.message(), "tenant 'nobody' not found");
  EXPECT_EQ(no_tenant.code(), StatusCode::kInvalidArgument);
}

TEST_P(AccountsTest, PasswordLengthCountsCharacters) {
  // Eleven two-byte characters are 22 bytes but still too short.
  std::string eleven;
  for (int i = 0; i < 11; ++i) {
    eleven += "\xc3\xa9";
  }

  EXPECT_EQ(checkPassword(eleven).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(checkPassword(eleven + "x").ok());
  EXPECT_EQ(checkPassword(std::string(kMaxPasswordBytes + 1, 'x')).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(AccountsTest, PlatformAdminWithoutTenant) {
  User admin = must(accounts_->createUser(
      {.email = "root@smmhub.test", .password = std::string(kPassword), .platform_admin = true}));

  Session session = must(accounts_->signIn("root@smmhub.test", std::string(kPassword), "10.0.0.1"));

  EXPECT_EQ(admin.role, "none");
  EXPECT_EQ(admin.tenant, "");
  EXPECT_TRUE(session.user.platform_admin);
  EXPECT_EQ(must(accounts_->user("", admin.id)).email, "root@smmhub.test");
  // No tenant row exists for the empty tenant, and none is needed.
  User resumed = must(accounts_->sessionByToken(session.token)).user;
  EXPECT_EQ(resumed.id, admin.id);
  EXPECT_EQ(resumed.tenant, "");
  EXPECT_EQ(resumed.email, "root@smmhub.test");
  EXPECT_EQ(resumed.role, "none");
  EXPECT_TRUE(resumed.platform_admin);
  EXPECT_EQ(resumed.created_at_ms, admin.created_at_ms);
  EXPECT_FALSE(resumed.disabled());
}

TEST_P(AccountsTest, OtherTenantsIdsAreNotFound) {
  must(accounts_->createTenant("beta", "Beta"));
  User beta_owner = must(accounts_->createUser({.tenant = "beta",
                                                .email = "bo@beta.test",
                                                .password = std::string(kPassword),
                                                .role = "owner"}));
  NewApiKey beta_key = must(accounts_->createApiKey("beta", "ci", "editor", "user:x"));

  EXPECT_EQ(accounts_->user("acme", beta_owner.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(accounts_->updateUser("acme", beta_owner.id, {.disabled = true}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(accounts_->revokeApiKey("acme", beta_key.key.id).status().code(),
            StatusCode::kNotFound);
  ASSERT_EQ(must(accounts_->listUsers("acme")).size(), 1u);
  EXPECT_EQ(must(accounts_->listUsers("acme"))[0].id, owner_.id);
  EXPECT_TRUE(must(accounts_->listApiKeys("acme")).empty());
  EXPECT_TRUE(accounts_->authenticateKey(beta_key.secret).ok());
}

TEST_P(AccountsTest, SignInStoresOnlyTheTokenHash) {
  Session session = must(accounts_->signIn("ANA@acme.test", std::string(kPassword), "10.0.0.1"));

  std::string csrf = selectText("SELECT csrf_token FROM sessions WHERE token_hash = :hash",
                                sha256Hex(session.token));
  Session found = must(accounts_->sessionByToken(session.token));

  EXPECT_EQ(session.token.size(), 43u);
  EXPECT_EQ(session.csrf_token.size(), 43u);
  EXPECT_EQ(session.token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(session.expires_at_ms, kStart + 12 * kHour);
  EXPECT_EQ(session.user.id, owner_.id);
  EXPECT_EQ(csrf, session.csrf_token);
  EXPECT_EQ(selectText("SELECT token_hash FROM sessions WHERE token_hash = :token", session.token),
            "");
  EXPECT_EQ(found.user.id, owner_.id);
  EXPECT_EQ(found.csrf_token, session.csrf_token);
}

TEST_P(AccountsTest, WrongPasswordAndUnknownEmailLookAlike) {
  Result<Session> wrong = accounts_->signIn("ana@acme.test", "not the password!", "10.0.0.1");
  Result<Session> unknown =
      accounts_->signIn("nobody@acme.test", std::string(kPassword), "10.0.0.1");

  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), "invalid email or password");
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.status().message(), "invalid email or password");
}

TEST_P(AccountsTest, DisabledUserCannotSignIn) {
  User editor = must(accounts_->createUser({.tenant = "acme",
                                            .email = "ed@acme.test",
                                            .password = std::string(kPassword),
                                            .role = "editor"}));
  Session before = must(accounts_->signIn("ed@acme.test", std::string(kPassword), "10.0.0.1"));

  User disabled = must(accounts_->updateUser("acme", editor.id, {.disabled = true}));
  Result<Session> sign_in = accounts_->signIn("ed@acme.test", std::string(kPassword), "10.0.0.1");
  Result<Session> old_session = accounts_->sessionByToken(before.token);

  EXPECT_EQ(disabled.disabled_at_ms, kStart);
  EXPECT_EQ(sign_in.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(sign_in.status().message(),
            "user ed@acme.test is disabled; ask an owner of the tenant");
  EXPECT_EQ(old_session.status().code(), StatusCode::kUnauthenticated);

  must(accounts_->updateUser("acme", editor.id, {.disabled = false}));
  EXPECT_TRUE(accounts_->signIn("ed@acme.test", std::string(kPassword), "10.0.0.1").ok());
}

TEST_P(AccountsTest, DisabledTenantCannotSignIn) {
  Session before = must(accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1"));
  NewApiKey key = must(accounts_->createApiKey("acme", "ci", "viewer", "user:" + owner_.id));

  Tenant tenant = must(accounts_->setTenantDisabled("acme", true));
  Result<Session> sign_in = accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1");
  Result<Session> old_session = accounts_->sessionByToken(before.token);
  Result<ApiKey> key_use = accounts_->authenticateKey(key.secret);

  EXPECT_TRUE(tenant.disabled());
  EXPECT_EQ(sign_in.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(sign_in.status().message(), "tenant 'acme' is disabled");
  EXPECT_EQ(old_session.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(old_session.status().message(), "tenant 'acme' is disabled");
  EXPECT_EQ(key_use.status().code(), StatusCode::kUnauthenticated);

  must(accounts_->setTenantDisabled("acme", false));
  EXPECT_TRUE(accounts_->sessionByToken(before.token).ok());
}

TEST_P(AccountsTest, SessionExpiresWhenIdle) {
  Session session = must(accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1"));

  now_ += 11 * kHour;
  Session used = must(accounts_->sessionByToken(session.token));
  now_ += 11 * kHour;
  Session still = must(accounts_->sessionByToken(session.token));
  now_ += 12 * kHour;
  Result<Session> expired = accounts_->sessionByToken(session.token);
  Result<Session> again = accounts_->sessionByToken(session.token);

  EXPECT_EQ(used.expires_at_ms, kStart + 23 * kHour);
  EXPECT_EQ(still.expires_at_ms, kStart + 34 * kHour);
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.status().message(), "session expired; sign in again");
  EXPECT_EQ(again.status().message(), "unknown or signed-out session; sign in again");
}

TEST_P(AccountsTest, SessionEndsAfterItsLifetime) {
  Session session = must(accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1"));

  for (int hour = 1; hour < 7 * 24; ++hour) {
    now_ = kStart + hour * kHour;
    ASSERT_TRUE(accounts_->sessionByToken(session.token).ok()) << hour;
  }
  now_ = kStart + 7 * 24 * kHour;
  Result<Session> expired = accounts_->sessionByToken(session.token);

  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.status().message(), "session expired; sign in again");
}

TEST_P(AccountsTest, SignOutEndsTheSession) {
  Session session = must(accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1"));

  ASSERT_TRUE(accounts_->signOut(session.token).ok());
  Result<Session> after = accounts_->sessionByToken(session.token);

  EXPECT_EQ(after.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(accounts_->signOut(session.token).ok());
  EXPECT_EQ(accounts_->sessionByToken("").status().code(), StatusCode::kUnauthenticated);
}

TEST_P(AccountsTest, RoleChangeAndLastOwner) {
  User editor = must(accounts_->createUser({.tenant = "acme",
                                            .email = "ed@acme.test",
                                            .password = std::string(kPassword),
                                            .role = "editor"}));

  Result<User> demote_last = accounts_->updateUser("acme", owner_.id, {.role = "viewer"});
  Result<User> disable_last = accounts_->updateUser("acme", owner_.id, {.disabled = true});
  Result<User> bad_role = accounts_->updateUser("acme", editor.id, {.role = "none"});
  User promoted = must(accounts_->updateUser("acme", editor.id, {.role = "owner"}));
  User demoted = must(accounts_->updateUser("acme", owner_.id, {.role = "viewer"}));

  EXPECT_EQ(demote_last.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(demote_last.status().message(),
            "user ana@acme.test is the last enabled owner of tenant 'acme'; make another owner "
            "first");
  EXPECT_EQ(disable_last.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad_role.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(promoted.role, "owner");
  EXPECT_EQ(demoted.role, "viewer");
  EXPECT_EQ(must(accounts_->user("acme", owner_.id)).role, "viewer");
}

TEST_P(AccountsTest, ApiKeyLifecycle) {
  NewApiKey made =
      must(accounts_->createApiKey("acme", "ci deploy", "editor", "user:" + owner_.id));

  ApiKey used = must(accounts_->authenticateKey(made.secret));
  now_ += 30'000;
  ApiKey soon = must(accounts_->authenticateKey(made.secret));
  now_ += 30'000;
  ApiKey later = must(accounts_->authenticateKey(made.secret));
  std::vector<ApiKey> listed = must(accounts_->listApiKeys("acme"));
  std::string stored = selectText("SELECT secret_hash FROM api_keys WHERE id = :id", made.key.id);

  EXPECT_EQ(made.secret.rfind("smk_" + made.key.id + "_", 0), 0u);
  EXPECT_EQ(made.secret.size(), 4u + 16u + 1u + 43u);
  EXPECT_EQ(stored, sha256Hex(made.secret));
  EXPECT_EQ(used.tenant, "acme");
  EXPECT_EQ(used.role, "editor");
  EXPECT_EQ(used.last_used_at_ms, kStart);
  EXPECT_EQ(soon.last_used_at_ms, kStart);
  EXPECT_EQ(later.last_used_at_ms, kStart + kMinute);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "ci deploy");
  EXPECT_EQ(listed[0].created_by, "user:" + owner_.id);
  EXPECT_EQ(listed[0].last_used_at_ms, kStart + kMinute);
}

TEST_P(AccountsTest, RevokedAndForgedKeysFail) {
  NewApiKey made = must(accounts_->createApiKey("acme", "ci", "viewer", "user:" + owner_.id));
  std::string forged = made.secret;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';

  Result<ApiKey> forged_use = accounts_->authenticateKey(forged);
  Result<ApiKey> malformed = accounts_->authenticateKey("smk_nothing");
  ApiKey revoked = must(accounts_->revokeApiKey("acme", made.key.id));
  now_ += kHour;
  ApiKey revoked_again = must(accounts_->revokeApiKey("acme", made.key.id));
  Result<ApiKey> revoked_use = accounts_->authenticateKey(made.secret);

  EXPECT_EQ(forged_use.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(forged_use.status().message(), "unknown API key");
  EXPECT_EQ(malformed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(revoked.revoked_at_ms, kStart);
  EXPECT_EQ(revoked_again.revoked_at_ms, kStart);
  EXPECT_EQ(revoked_use.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(revoked_use.status().message(), "API key " + made.key.id + " is revoked");
}

TEST_P(AccountsTest, ApiKeyErrors) {
  EXPECT_EQ(accounts_->createApiKey("acme", "", "viewer", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(accounts_->createApiKey("acme", "ci", "none", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(accounts_->createApiKey("nobody", "ci", "viewer", "").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(accounts_->revokeApiKey("acme", "0123456789abcdef").status().code(),
            StatusCode::kNotFound);
}

TEST_P(AccountsTest, FailedSignInsPerEmailAreLimited) {
  for (int i = 0; i < 5; ++i) {
    Result<Session> failed = accounts_->signIn("ana@acme.test", "wrong password!!", "10.0.0.1");
    ASSERT_EQ(failed.status().code(), StatusCode::kUnauthenticated) << i;
  }

  Result<Session> limited = accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.2");
  std::int64_t wait = retryAfterSeconds(limited.status());

  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(limited.status().message().rfind("too many sign-in attempts for this email; retry "
                                             "after ",
                                             0),
            0u)
      << limited.status().message();
  EXPECT_GE(wait, 899);
  EXPECT_LE(wait, 900);
}

TEST_P(AccountsTest, SuccessClearsEmailFailures) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE(accounts_->signIn("ana@acme.test", "wrong password!!", "10.0.0.1").ok());
  }
  must(accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1"));

  for (int i = 0; i < 4; ++i) {
    ASSERT_FALSE(accounts_->signIn("ana@acme.test", "wrong password!!", "10.0.0.1").ok());
  }
  Result<Session> allowed = accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1");

  EXPECT_TRUE(allowed.ok()) << allowed.status().toString();
}

TEST_P(AccountsTest, AttemptsPerAddressAreLimited) {
  std::unique_ptr<Accounts> strict = makeAccounts({.max_attempts_per_address = 3});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(strict->signIn("ana@acme.test", std::string(kPassword), "10.0.0.9").ok()) << i;
  }

  Result<Session> limited = strict->signIn("ana@acme.test", std::string(kPassword), "10.0.0.9");
  Result<Session> other_address =
      strict->signIn("ana@acme.test", std::string(kPassword), "10.0.0.10");

  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(limited.status().message(),
            "too many sign-in attempts from this address; retry after 60 seconds");
  EXPECT_EQ(retryAfterSeconds(limited.status()), 60);
  EXPECT_TRUE(other_address.ok()) << other_address.status().toString();
}

TEST_P(AccountsTest, SignInFailsWhileRedisIsDown) {
  redis_.kill();

  Result<Session> session = accounts_->signIn("ana@acme.test", std::string(kPassword), "10.0.0.1");

  EXPECT_EQ(session.status().code(), StatusCode::kUnavailable);
}

TEST_P(AccountsTest, NoRedisMeansNoLimits) {
  Accounts unlimited(*db_, nullptr, {.now_ms = [this] {
    return now_.load();
  }});
  for (int i = 0; i < 6; ++i) {
    ASSERT_FALSE(unlimited.signIn("ana@acme.test", "wrong password!!", "10.0.0.1").ok());
  }

  Result<Session> session = unlimited.signIn("ana@acme.test", std::string(kPassword), "10.0.0.1");

  EXPECT_TRUE(session.ok()) << session.status().toString();
}

// With one pooled session, each lookup executes the statement that the
// first one prepared, so a row must not leak into the next lookup.
TEST_P(AccountsTest, SessionLookupsAlternateOnOneSession) {
  std::unique_ptr<store::Database> db = openOneSession();
  ASSERT_NE(db, nullptr);
  std::unique_ptr<Accounts> owned = makeAccounts(*db, nullptr, {});
  Accounts& accounts = *owned;
  must(accounts.createTenant("crux", "Crux Sport"));
  must(accounts.createTenant("bolt", "Bolt Studio"));
  must(accounts.createTenant("gone", "Gone Agency"));
  std::vector<std::pair<std::string, std::string>> users = {
      {"crux", "cy@crux.test"}, {"bolt", "bo@bolt.test"}, {"gone", "gil@gone.test"}};
  std::vector<std::string> tokens;
  for (const auto& [tenant, email] : users) {
    must(accounts.createUser(
        {.tenant = tenant, .email = email, .password = std::string(kPassword), .role = "owner"}));
    tokens.push_back(must(accounts.signIn(email, std::string(kPassword), "10.0.0.1")).token);
  }
  // The LEFT JOIN finds no tenant row for this user's sessions.
  ASSERT_TRUE(db->write([](soci::session& sql) {
                  sql << "DELETE FROM tenants WHERE id = 'gone'";
                  return okStatus();
                }).ok());

  std::vector<std::string> outcomes;
  for (int round = 0; round < 5; ++round) {
    for (const std::string& token : {tokens[1], tokens[2], std::string("unknown"), tokens[0]}) {
      Result<Session> session = accounts.sessionByToken(token);
      outcomes.push_back(session.ok() ? session->user.email + "/" + session->user.tenant
                                      : session.status().message());
    }
  }

  ASSERT_EQ(outcomes.size(), 20u);
  for (std::size_t i = 0; i < outcomes.size(); i += 4) {
    EXPECT_EQ(outcomes[i], "bo@bolt.test/bolt");
    EXPECT_EQ(outcomes[i + 1], "tenant 'gone' is disabled");
    EXPECT_EQ(outcomes[i + 2], "unknown or signed-out session; sign in again");
    EXPECT_EQ(outcomes[i + 3], "cy@crux.test/crux");
  }
}

TEST_P(AccountsTest, ApiKeyLookupsAlternateOnOneSession) {
  std::unique_ptr<store::Database> db = openOneSession();
  ASSERT_NE(db, nullptr);
  std::unique_ptr<Accounts> owned = makeAccounts(*db, nullptr, {});
  Accounts& accounts = *owned;
  must(accounts.createTenant("crux", "Crux Sport"));
  must(accounts.createTenant("bolt", "Bolt Studio"));
  NewApiKey crux = must(accounts.createApiKey("crux", "ci", "editor", "user:cy"));
  NewApiKey bolt = must(accounts.createApiKey("bolt", "deploy", "viewer", "user:bo"));
  must(accounts.setTenantDisabled("bolt", true));

  std::vector<std::string> outcomes;
  for (int round = 0; round < 5; ++round) {
    for (const std::string& secret : {crux.secret, bolt.secret}) {
      Result<ApiKey> key = accounts.authenticateKey(secret);
      outcomes.push_back(key.ok() ? key->id + "/" + key->tenant + "/" + key->role
                                  : key.status().message());
    }
  }

  ASSERT_EQ(outcomes.size(), 10u);
  for (std::size_t i = 0; i < outcomes.size(); i += 2) {
    EXPECT_EQ(outcomes[i], crux.key.id + "/crux/editor");
    EXPECT_EQ(outcomes[i + 1], "tenant 'bolt' is disabled");
  }
}

TEST_P(AccountsTest, ConcurrentSameEmailMakesOneUser) {
  constexpr int kThreads = 4;
  std::atomic<int> made{0};
  std::atomic<int> taken{0};

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      Result<User> user = accounts_->createUser({.tenant = "acme",
                                                 .email = "same@acme.test",
                                                 .password = std::string(kPassword),
                                                 .role = "viewer"});
      if (user.ok()) {
        made++;
      } else if (user.status().code() == StatusCode::kAlreadyExists) {
        taken++;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(made.load(), 1);
  EXPECT_EQ(taken.load(), kThreads - 1);
  EXPECT_EQ(must(accounts_->listUsers("acme")).size(), 2u);
}

TEST_P(AccountsTest, ConcurrentDemotionsKeepAnOwner) {
  User second = must(accounts_->createUser({.tenant = "acme",
                                            .email = "bo@acme.test",
                                            .password = std::string(kPassword),
                                            .role = "owner"}));
  std::atomic<int> demoted{0};

  std::vector<std::thread> threads;
  for (const std::string& id : {owner_.id, second.id}) {
    threads.emplace_back([&, id] {
      if (accounts_->updateUser("acme", id, {.role = "viewer"}).ok()) {
        demoted++;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  int owners = 0;
  for (const User& user : must(accounts_->listUsers("acme"))) {
    owners += user.role == "owner" ? 1 : 0;
  }
  EXPECT_EQ(demoted.load(), 1);
  EXPECT_EQ(owners, 1);
}

TEST_P(AccountsTest, AdminWithoutTenantKeepsRoleNone) {
  User admin = must(accounts_->createUser(
      {.email = "root@smmhub.test", .password = std::string(kPassword), .platform_admin = true}));

  Result<User> promoted = accounts_->updateUser("", admin.id, {.role = "owner"});
  Result<User> with_role = accounts_->createUser({.email = "r2@smmhub.test",
                                                  .password = std::string(kPassword),
                                                  .role = "owner",
                                                  .platform_admin = true});

  EXPECT_EQ(promoted.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(with_role.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(with_role.status().message(),
            "role 'owner' needs a tenant; a user without one has role none");
}

TEST(EmailTest, Normalization) {
  EXPECT_EQ(must(normalizeEmail("Ana.B@Example.COM")), "ana.b@example.com");
  EXPECT_EQ(normalizeEmail("").status().message(), "email is empty");
  EXPECT_EQ(normalizeEmail("a b@example.com").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(normalizeEmail("a@b@example.com").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(normalizeEmail("@example.com").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(normalizeEmail("a@localhost").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(normalizeEmail("a@example.com.").status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretTest, HashesAndComparisons) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(constantTimeEqual("abc", "abc"));
  EXPECT_FALSE(constantTimeEqual("abc", "abd"));
  EXPECT_FALSE(constantTimeEqual("abc", "abcd"));
  EXPECT_NE(randomToken(32), randomToken(32));
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountsTest, smmhub::testing::kBackends,
                         smmhub::testing::backendName);

}  // namespace
}  // namespace smmhub::accounts
