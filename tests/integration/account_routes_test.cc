// The account routes over HTTP: an api::Server on 127.0.0.1 with every
// route, a SQLite database, a real redis-server for the sign-in limits, and
// the Beast client of src/testing.
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "api/auth.h"
#include "api/routes.h"
#include "api/server.h"
#include "metrics/registry.h"
#include "testing/http_client.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"

namespace smmhub::api {
namespace {

using nlohmann::json;
using smmhub::testing::HttpClient;
using smmhub::testing::HttpReply;

constexpr std::string_view kPassword = "correct horse battery";

class AccountRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer(false); }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->stop();
    }
  }

  void startServer(bool secure_cookies) {
    Result<std::unique_ptr<store::Database>> db =
        store::Database::open({.url = "sqlite:" + dir_.file("smmhub.db").string()});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(*db);
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    ASSERT_TRUE(endpoint.ok()) << endpoint.status().toString();
    pool_ = std::make_unique<redis::Pool>(*endpoint, redis::PoolOptions{});
    accounts_ = std::make_unique<accounts::Accounts>(*db_, pool_.get());
    auth_ = std::make_unique<AccountsAuthenticator>(*accounts_);
    addRoutes(router_, {.db = db_.get(),
                        .redis = pool_.get(),
                        .registry = &registry_,
                        .auth = auth_.get(),
                        .accounts = accounts_.get(),
                        .secure_cookies = secure_cookies});
    Result<std::unique_ptr<Server>> server =
        Server::start({.listen = "127.0.0.1:0", .router = &router_, .registry = &registry_});
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(*server);

    must(accounts_->createTenant("acme", "Acme Media"));
    owner_ = must(accounts_->createUser({.tenant = "acme",
                                         .email = "ana@acme.test",
                                         .name = "Ana",
                                         .password = std::string(kPassword),
                                         .role = "owner"}));
  }

  template <typename T>
  static T must(Result<T> result) {
    EXPECT_TRUE(result.ok()) << result.status().toString();
    return result.ok() ? std::move(result).value() : T{};
  }

  HttpClient client() const { return HttpClient("127.0.0.1", server_->port()); }

  // Signs CLIENT in as EMAIL and sends the CSRF token from then on.
  HttpReply signIn(HttpClient& client, const std::string& email) {
    HttpReply reply = client.post(
        "/api/v1/session", json{{"email", email}, {"password", std::string(kPassword)}}.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    client.setHeader("X-CSRF-Token", reply.json().value("csrf_token", ""));
    return reply;
  }

  accounts::User addUser(const std::string& tenant, const std::string& email,
                         const std::string& role, bool platform_admin = false) {
    return must(accounts_->createUser({.tenant = tenant,
                                       .email = email,
                                       .password = std::string(kPassword),
                                       .role = role,
                                       .platform_admin = platform_admin}));
  }

  smmhub::testing::TempDir dir_;
  smmhub::testing::RedisServer redis_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<accounts::Accounts> accounts_;
  std::unique_ptr<AccountsAuthenticator> auth_;
  metrics::Registry registry_;
  Router router_;
  std::unique_ptr<Server> server_;
  accounts::User owner_;
};

TEST_F(AccountRoutesTest, SignInSetsSessionCookie) {
  HttpClient http = client();

  HttpReply reply = http.post("/api/v1/session",
                              R"({"email":"ANA@acme.test","password":"correct horse battery"})");

  json body = reply.json();
  std::string cookie = reply.header("set-cookie");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(body["user"]["id"], owner_.id);
  EXPECT_EQ(body["user"]["email"], "ana@acme.test");
  EXPECT_EQ(body["user"]["name"], "Ana");
  EXPECT_EQ(body["user"]["role"], "owner");
  EXPECT_EQ(body["user"]["platform_admin"], false);
  EXPECT_EQ(body["tenant"], (json{{"id", "acme"}, {"name", "Acme Media"}}));
  EXPECT_EQ(body["csrf_token"].get<std::string>().size(), 43u);
  EXPECT_EQ(cookie.rfind("smmhub_session=", 0), 0u) << cookie;
  EXPECT_TRUE(cookie.ends_with("; Path=/; HttpOnly; SameSite=Lax")) << cookie;
  EXPECT_EQ(http.cookies().at("smmhub_session").size(), 43u);
}

class SecureCookieTest : public AccountRoutesTest {
 protected:
  void SetUp() override { startServer(true); }
};

TEST_F(SecureCookieTest, CookieCarriesSecure) {
  HttpClient http = client();

  HttpReply reply = signIn(http, "ana@acme.test");

  EXPECT_TRUE(reply.header("set-cookie").ends_with("; Path=/; HttpOnly; SameSite=Lax; Secure"))
      << reply.header("set-cookie");
}

TEST_F(AccountRoutesTest, BadCredentialsLookAlike) {
  HttpClient http = client();

  HttpReply wrong =
      http.post("/api/v1/session", R"({"email":"ana@acme.test","password":"wrong password!!"})");
  HttpReply unknown = http.post("/api/v1/session",
                                R"({"email":"who@acme.test","password":"correct horse battery"})");

  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.errorCode(), "unauthenticated");
  EXPECT_EQ(wrong.json()["error"]["message"], "invalid email or password");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.json()["error"]["message"], "invalid email or password");
  EXPECT_EQ(wrong.header("set-cookie"), "");
}

TEST_F(AccountRoutesTest, SignInBodyErrors) {
  HttpClient http = client();

  HttpReply not_json = http.post("/api/v1/session", "{email");
  HttpReply array = http.post("/api/v1/session", "[]");
  HttpReply number = http.post("/api/v1/session", R"({"email":5,"password":"x"})");
  HttpReply missing = http.post("/api/v1/session", R"({"email":"ana@acme.test"})");

  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(not_json.errorCode(), "invalid_json");
  EXPECT_EQ(array.status, 400);
  EXPECT_EQ(number.status, 422);
  EXPECT_EQ(number.errorCode(), "invalid_field");
  EXPECT_EQ(number.json()["error"]["message"], "field 'email' must be a string");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(missing.json()["error"]["message"], "field 'password' is missing");
}

TEST_F(AccountRoutesTest, RepeatedFailuresGet429) {
  HttpClient http = client();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(
        http.post("/api/v1/session", R"({"email":"ana@acme.test","password":"wrong password!!"})")
            .status,
        401)
        << i;
  }

  HttpReply limited = http.post("/api/v1/session",
                                R"({"email":"ana@acme.test","password":"correct horse battery"})");

  int retry_after =
      std::stoi(limited.header("retry-after").empty() ? "0" : limited.header("retry-after"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.errorCode(), "rate_limited");
  EXPECT_GE(retry_after, 899);
  EXPECT_LE(retry_after, 900);
}

TEST_F(AccountRoutesTest, MeForSessionAndKey) {
  HttpClient http = client();
  HttpReply signed_in = signIn(http, "ana@acme.test");
  accounts::NewApiKey key = must(accounts_->createApiKey("acme", "ci", "editor", "user:x"));
  HttpClient with_key = client();
  with_key.setHeader("Authorization", "Bearer " + key.secret);

  HttpReply me = http.get("/api/v1/me");
  HttpReply key_me = with_key.get("/api/v1/me");
  HttpReply anonymous = client().get("/api/v1/me");
  HttpReply wrong_scheme = client().request("GET", "/api/v1/me", "", "application/json",
                                            {{"Authorization", "Basic abc"}});

  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["user"]["id"], owner_.id);
  EXPECT_EQ(me.json()["actor"], "user:" + owner_.id);
  EXPECT_EQ(me.json()["role"], "owner");
  EXPECT_EQ(me.json()["tenant"]["id"], "acme");
  EXPECT_EQ(me.json()["csrf_token"], signed_in.json()["csrf_token"]);
  ASSERT_EQ(key_me.status, 200) << key_me.body;
  EXPECT_EQ(key_me.json()["actor"], "key:" + key.key.id);
  EXPECT_EQ(key_me.json()["role"], "editor");
  EXPECT_EQ(key_me.json()["api_key"]["id"], key.key.id);
  EXPECT_TRUE(key_me.json()["user"].is_null());
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.errorCode(), "unauthenticated");
  EXPECT_EQ(wrong_scheme.status, 401);
  EXPECT_EQ(wrong_scheme.json()["error"]["message"],
            "Authorization header must be 'Bearer smk_...'");
}

TEST_F(AccountRoutesTest, SignOutClearsCookie) {
  HttpClient http = client();
  signIn(http, "ana@acme.test");
  std::string token = http.cookies().at("smmhub_session");

  HttpReply signed_out = http.del("/api/v1/session");
  HttpClient replay = client();
  replay.cookies()["smmhub_session"] = token;
  HttpReply after = replay.get("/api/v1/me");

  EXPECT_EQ(signed_out.status, 204) << signed_out.body;
  EXPECT_EQ(signed_out.header("set-cookie"),
            "smmhub_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
  EXPECT_EQ(http.cookies().count("smmhub_session"), 0u);
  EXPECT_EQ(after.status, 401);
}

TEST_F(AccountRoutesTest, UnsafeRequestsNeedCsrfToken) {
  HttpClient http = client();
  HttpReply signed_in = signIn(http, "ana@acme.test");
  std::string body = json{
      {"email", "ed@acme.test"},
      {"password", std::string(kPassword)},
      {"role", "editor"}}.dump();

  http.setHeader("X-CSRF-Token", "");
  HttpReply missing = http.post("/api/v1/users", body);
  http.setHeader("X-CSRF-Token", "not-the-token");
  HttpReply wrong = http.post("/api/v1/users", body);
  HttpReply read = http.get("/api/v1/users");
  http.setHeader("X-CSRF-Token", signed_in.json()["csrf_token"]);
  HttpReply right = http.post("/api/v1/users", body);

  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(missing.errorCode(), "csrf_failed");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.errorCode(), "csrf_failed");
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(right.status, 201) << right.body;
}

TEST_F(AccountRoutesTest, OwnerManagesUsers) {
  HttpClient http = client();
  signIn(http, "ana@acme.test");

  HttpReply created = http.post("/api/v1/users", json{{"email", "Ed@Acme.test"},
                                                      {"name", "Ed"},
                                                      {"password", std::string(kPassword)},
                                                      {"role", "editor"}}
                                                     .dump());
  std::string id = created.json().value("id", "");
  HttpReply listed = http.get("/api/v1/users");
  HttpReply promoted = http.patch("/api/v1/users/" + id, R"({"role":"owner"})");
  HttpReply disabled = http.patch("/api/v1/users/" + id, R"({"disabled":true})");

  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["email"], "ed@acme.test");
  EXPECT_EQ(created.json()["role"], "editor");
  EXPECT_EQ(created.json()["disabled"], false);
  EXPECT_EQ(created.json().contains("password"), false);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["users"].size(), 2u);
  EXPECT_EQ(listed.json()["users"][0]["email"], "ana@acme.test");
  EXPECT_EQ(listed.json()["users"][1]["email"], "ed@acme.test");
  EXPECT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(promoted.json()["role"], "owner");
  EXPECT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(disabled.json()["disabled"], true);
}

TEST_F(AccountRoutesTest, UserRouteErrors) {
  HttpClient http = client();
  signIn(http, "ana@acme.test");
  must(accounts_->createTenant("beta", "Beta"));
  accounts::User stranger = addUser("beta", "bo@beta.test", "owner");
  auto user = [](const std::string& email, const std::string& password) {
    return json{{"email", email}, {"password", password}, {"role", "viewer"}}.dump();
  };

  HttpReply duplicate = http.post("/api/v1/users", user("ANA@acme.test", std::string(kPassword)));
  HttpReply short_password = http.post("/api/v1/users", user("c@acme.test", "short"));
  HttpReply bad_email = http.post("/api/v1/users", user("nope", std::string(kPassword)));
  HttpReply no_role = http.post(
      "/api/v1/users", json{{"email", "d@acme.test"}, {"password", std::string(kPassword)}}.dump());
  HttpReply bad_name = http.post("/api/v1/users", json{{"email", "n@acme.test"},
                                                       {"password", std::string(kPassword)},
                                                       {"role", "viewer"},
                                                       {"name", "tab\there"}}
                                                      .dump());
  HttpReply other_tenant = http.patch("/api/v1/users/" + stranger.id, R"({"role":"viewer"})");
  HttpReply last_owner = http.patch("/api/v1/users/" + owner_.id, R"({"role":"viewer"})");
  HttpReply bad_type = http.patch("/api/v1/users/" + owner_.id, R"({"disabled":"yes"})");
  HttpReply bad_role = http.patch("/api/v1/users/" + owner_.id, R"({"role":"king"})");

  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.errorCode(), "conflict");
  EXPECT_EQ(short_password.status, 422);
  EXPECT_EQ(short_password.json()["error"]["message"],
            "field 'password': password is shorter than 12 characters");
  EXPECT_EQ(bad_email.status, 422);
  EXPECT_EQ(bad_email.json()["error"]["message"],
            "field 'email': email 'nope' is invalid: expected one '@'");
  EXPECT_EQ(no_role.status, 422);
  EXPECT_EQ(no_role.json()["error"]["message"], "field 'role' is missing");
  EXPECT_EQ(bad_name.status, 422);
  EXPECT_EQ(bad_name.json()["error"]["message"],
            "field 'name': user name contains a control character");
  EXPECT_EQ(other_tenant.status, 404);
  EXPECT_EQ(other_tenant.errorCode(), "not_found");
  EXPECT_EQ(last_owner.status, 409);
  EXPECT_EQ(last_owner.errorCode(), "failed_precondition");
  EXPECT_EQ(bad_type.status, 422);
  EXPECT_EQ(bad_type.json()["error"]["message"], "field 'disabled' must be true or false");
  EXPECT_EQ(bad_role.status, 422);
  EXPECT_EQ(bad_role.json()["error"]["message"],
            "field 'role': role 'king' is invalid: expected owner, editor or viewer");
}

TEST_F(AccountRoutesTest, LowerRolesAreForbidden) {
  addUser("acme", "vi@acme.test", "viewer");
  addUser("acme", "ed@acme.test", "editor");
  HttpClient viewer = client();
  HttpClient editor = client();
  signIn(viewer, "vi@acme.test");
  signIn(editor, "ed@acme.test");

  HttpReply viewer_users = viewer.get("/api/v1/users");
  HttpReply editor_keys = editor.post("/api/v1/api-keys", R"({"name":"x","role":"viewer"})");
  HttpReply editor_admin = editor.get("/api/v1/admin/tenants");

  EXPECT_EQ(viewer_users.status, 403);
  EXPECT_EQ(viewer_users.errorCode(), "forbidden");
  EXPECT_EQ(viewer_users.json()["error"]["message"],
            "role viewer may not call GET /api/v1/users; it needs owner or above");
  EXPECT_EQ(editor_keys.status, 403);
  EXPECT_EQ(editor_keys.errorCode(), "forbidden");
  EXPECT_EQ(editor_admin.status, 404);
  EXPECT_EQ(editor_admin.errorCode(), "not_found");
}

TEST_F(AccountRoutesTest, ApiKeyLifecycle) {
  HttpClient http = client();
  signIn(http, "ana@acme.test");

  HttpReply created = http.post("/api/v1/api-keys", R"({"name":"deploy","role":"viewer"})");
  std::string secret = created.json().value("secret", "");
  std::string id = created.json().value("id", "");
  HttpClient with_key = client();
  with_key.setHeader("Authorization", "Bearer " + secret);
  HttpReply key_me = with_key.get("/api/v1/me");
  HttpReply key_forbidden = with_key.get("/api/v1/users");
  HttpReply listed = http.get("/api/v1/api-keys");
  HttpReply revoked = http.del("/api/v1/api-keys/" + id);
  HttpReply after = with_key.get("/api/v1/me");
  HttpReply unknown = http.del("/api/v1/api-keys/0123456789abcdef");

  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(secret.rfind("smk_" + id + "_", 0), 0u) << secret;
  EXPECT_EQ(created.json()["created_by"], "user:" + owner_.id);
  EXPECT_EQ(key_me.status, 200);
  EXPECT_EQ(key_forbidden.status, 403);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["api_keys"].size(), 1u);
  EXPECT_EQ(listed.json()["api_keys"][0]["name"], "deploy");
  EXPECT_FALSE(listed.json()["api_keys"][0].contains("secret"));
  EXPECT_EQ(listed.body.find(secret.substr(21)), std::string::npos);
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.json()["revoked"], true);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.json()["error"]["message"], "API key " + id + " is revoked");
  EXPECT_EQ(unknown.status, 404);
}

TEST_F(AccountRoutesTest, OwnerKeyNeedsNoCsrf) {
  accounts::NewApiKey key = must(accounts_->createApiKey("acme", "ci", "owner", "user:x"));
  HttpClient with_key = client();
  with_key.setHeader("Authorization", "Bearer " + key.secret);

  HttpReply created = with_key.post("/api/v1/api-keys", R"({"name":"child","role":"editor"})");
  HttpReply bad_role = with_key.post("/api/v1/api-keys", R"({"name":"x","role":"root"})");
  HttpReply no_name = with_key.post("/api/v1/api-keys", R"({"role":"viewer"})");

  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["created_by"], "key:" + key.key.id);
  EXPECT_EQ(bad_role.status, 422);
  EXPECT_EQ(bad_role.json()["error"]["message"],
            "field 'role': role 'root' is invalid: expected owner, editor or viewer");
  EXPECT_EQ(no_name.status, 422);
  EXPECT_EQ(no_name.json()["error"]["message"], "field 'name' is missing");
}

TEST_F(AccountRoutesTest, PlatformAdminManagesTenants) {
  addUser("", "root@smmhub.test", "none", true);
  HttpClient http = client();
  HttpReply signed_in = signIn(http, "root@smmhub.test");

  HttpReply created = http.post("/api/v1/admin/tenants", R"({"id":"beta","name":"Beta Social"})");
  HttpReply repeated = http.post("/api/v1/admin/tenants", R"({"id":"beta","name":"Again"})");
  HttpReply bad_id = http.post("/api/v1/admin/tenants", R"({"id":"b c","name":"X"})");
  HttpReply listed = http.get("/api/v1/admin/tenants");
  HttpReply one = http.get("/api/v1/admin/tenants/beta");
  HttpReply missing = http.get("/api/v1/admin/tenants/nobody");
  HttpReply first_owner =
      http.post("/api/v1/admin/tenants/beta/users",
                json{{"email", "bo@beta.test"}, {"password", std::string(kPassword)}}.dump());
  HttpReply no_tenant =
      http.post("/api/v1/admin/tenants/nobody/users",
                json{{"email", "x@beta.test"}, {"password", std::string(kPassword)}}.dump());
  HttpReply tenant_route = http.get("/api/v1/users");
  HttpReply beta_users = http.get("/api/v1/admin/tenants/beta/users");
  HttpReply nobody_users = http.get("/api/v1/admin/tenants/nobody/users");

  EXPECT_TRUE(signed_in.json()["tenant"].is_null());
  EXPECT_EQ(signed_in.json()["user"]["platform_admin"], true);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.json()["id"], "beta");
  EXPECT_EQ(created.json()["name"], "Beta Social");
  EXPECT_EQ(repeated.status, 409);
  EXPECT_EQ(bad_id.status, 422);
  EXPECT_EQ(bad_id.errorCode(), "invalid_field");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["tenants"].size(), 2u);
  EXPECT_EQ(listed.json()["tenants"][0]["id"], "acme");
  EXPECT_EQ(listed.json()["tenants"][1]["id"], "beta");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.json()["name"], "Beta Social");
  EXPECT_EQ(missing.status, 404);
  ASSERT_EQ(first_owner.status, 201) << first_owner.body;
  EXPECT_EQ(first_owner.json()["role"], "owner");
  EXPECT_EQ(must(accounts_->listUsers("beta")).size(), 1u);
  EXPECT_EQ(no_tenant.status, 404);
  EXPECT_EQ(tenant_route.status, 404);
  ASSERT_EQ(beta_users.status, 200) << beta_users.body;
  ASSERT_EQ(beta_users.json()["users"].size(), 1u);
  EXPECT_EQ(beta_users.json()["users"][0]["email"], "bo@beta.test");
  EXPECT_EQ(nobody_users.status, 404);
  EXPECT_EQ(nobody_users.json()["error"]["message"], "tenant 'nobody' not found");
}

TEST_F(AccountRoutesTest, AdminRoutesHiddenFromOthers) {
  HttpClient owner = client();
  signIn(owner, "ana@acme.test");

  HttpReply anonymous = client().get("/api/v1/admin/tenants");
  HttpReply as_owner = owner.get("/api/v1/admin/tenants/acme");
  HttpReply create = owner.post("/api/v1/admin/tenants", R"({"id":"x","name":"X"})");
  HttpReply users = owner.get("/api/v1/admin/tenants/acme/users");

  EXPECT_EQ(anonymous.status, 404);
  EXPECT_EQ(anonymous.json()["error"]["message"], "no route for path /api/v1/admin/tenants");
  EXPECT_EQ(as_owner.status, 404);
  EXPECT_EQ(create.status, 404);
  EXPECT_EQ(users.status, 404);
  EXPECT_FALSE(users.body.find("ana@acme.test") != std::string::npos);
  EXPECT_EQ(must(accounts_->listTenants()).size(), 1u);
}

TEST_F(AccountRoutesTest, DisabledUserLosesSession) {
  accounts::User editor = addUser("acme", "ed@acme.test", "editor");
  HttpClient owner = client();
  HttpClient editor_http = client();
  signIn(owner, "ana@acme.test");
  signIn(editor_http, "ed@acme.test");

  HttpReply disabled = owner.patch("/api/v1/users/" + editor.id, R"({"disabled":true})");
  HttpReply after = editor_http.get("/api/v1/me");
  HttpReply sign_in = editor_http.post(
      "/api/v1/session",
      json{{"email", "ed@acme.test"}, {"password", std::string(kPassword)}}.dump());

  EXPECT_EQ(disabled.status, 200);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(sign_in.status, 401);
  EXPECT_EQ(sign_in.json()["error"]["message"],
            "user ed@acme.test is disabled; ask an owner of the tenant");
}

TEST_F(AccountRoutesTest, SignOutNeedsCsrfToken) {
  HttpClient http = client();
  signIn(http, "ana@acme.test");
  http.setHeader("X-CSRF-Token", "");

  HttpReply refused = http.del("/api/v1/session");
  HttpReply still = http.get("/api/v1/me");

  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.errorCode(), "csrf_failed");
  EXPECT_EQ(refused.header("set-cookie"), "");
  EXPECT_EQ(still.status, 200);
}

TEST_F(AccountRoutesTest, AdminSessionNeedsCsrfToken) {
  addUser("", "root@smmhub.test", "none", true);
  HttpClient http = client();
  signIn(http, "root@smmhub.test");
  http.setHeader("X-CSRF-Token", "");

  HttpReply refused = http.post("/api/v1/admin/tenants", R"({"id":"beta","name":"Beta"})");

  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.errorCode(), "csrf_failed");
  EXPECT_EQ(accounts_->tenant("beta").status().code(), StatusCode::kNotFound);
}

TEST_F(AccountRoutesTest, SignInWhileRedisIsDownIs503) {
  redis_.kill();
  HttpClient http = client();

  HttpReply reply = http.post("/api/v1/session",
                              R"({"email":"ana@acme.test","password":"correct horse battery"})");

  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.errorCode(), "unavailable");
  EXPECT_EQ(reply.header("set-cookie"), "");
}

}  // namespace
}  // namespace smmhub::api
