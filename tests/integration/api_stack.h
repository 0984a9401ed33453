// The whole admin API in one test process: an api::Server on 127.0.0.1 with
// every route and every service, on a real redis-server, SQLite or
// PostgreSQL (the test's parameter), and a storage folder. Workers, when a
// test needs videos made, run as smmhub-worker child processes.
//
//   class CampaignRoutesTest : public ApiStackTest {};
//   TEST_P(CampaignRoutesTest, ...) {
//     HttpClient owner = signedIn("acme", "owner");
//     HttpReply reply = owner.get("/api/v1/campaigns");
//   }
//   INSTANTIATE_TEST_SUITE_P(Backends, CampaignRoutesTest, smmhub::testing::kBackends,
//                            smmhub::testing::backendName);
#pragma once

#include <soci/soci.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "api/auth.h"
#include "api/routes.h"
#include "api/server.h"
#include "broker/broker.h"
#include "broker/events.h"
#include "broker/workers.h"
#include "campaigns/campaign_store.h"
#include "common/ids.h"
#include "content/asset_store.h"
#include "content/brand_kit_store.h"
#include "content/template_store.h"
#include "credits/credits.h"
#include "jobs/job_store.h"
#include "metrics/registry.h"
#include "redis/connection.h"
#include "redis/pool.h"
#include "testing/backend_test.h"
#include "testing/http_client.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"
#include "webhooks/webhook_store.h"
#include "worker_support.h"

namespace smmhub::testing {

inline constexpr std::string_view kStackPassword = "correct horse battery";

class ApiStackTest : public BackendTest {
 protected:
  void SetUp() override {
    // Credits and the broker need a Redis that never evicts their keys.
    configureRedis({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
    db_url_ = makeDatabaseUrl();
    Result<std::unique_ptr<store::Database>> db = store::Database::open({.url = db_url_});
    ASSERT_TRUE(db.ok()) << db.status().toString();
    db_ = std::move(*db);
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    ASSERT_TRUE(endpoint.ok()) << endpoint.status().toString();
    pool_ = std::make_unique<redis::Pool>(*endpoint, redis::PoolOptions{});
    auto credits = credits::Credits::create({.redis_url = redis_.url()}, db_.get());
    ASSERT_TRUE(credits.ok()) << credits.status().toString();
    credits_ = std::move(*credits);
    auto events = broker::EventLog::create({.redis_url = redis_.url()});
    ASSERT_TRUE(events.ok()) << events.status().toString();
    events_ = std::move(*events);
    jobs_ = std::make_unique<jobs::JobStore>(*db_);
    auto broker =
        broker::Broker::create({.redis_url = redis_.url(), .events = events_.get()}, *jobs_);
    ASSERT_TRUE(broker.ok()) << broker.status().toString();
    broker_ = std::move(*broker);
    auto workers = broker::WorkerRegistry::create({.redis_url = redis_.url()});
    ASSERT_TRUE(workers.ok()) << workers.status().toString();
    worker_registry_ = std::move(*workers);
    storage_ = std::filesystem::absolute(storage_dir_.path());
    accounts_ = std::make_unique<accounts::Accounts>(*db_, pool_.get());
    auth_ = std::make_unique<api::AccountsAuthenticator>(*accounts_);
    campaigns_ = std::make_unique<campaigns::CampaignStore>(*db_, storage_);
    assets_ = std::make_unique<content::AssetStore>(*db_, storage_);
    brand_kits_ = std::make_unique<content::BrandKitStore>(*db_, storage_);
    templates_ = std::make_unique<content::TemplateStore>(*db_, storage_);
    webhooks_ = std::make_unique<webhooks::WebhookStore>(
        *db_, webhooks::WebhookStoreOptions{.allow_http = webhook_allow_http_});
    api::addRoutes(router_, {.db = db_.get(),
                             .redis = pool_.get(),
                             .registry = &registry_,
                             .auth = auth_.get(),
                             .accounts = accounts_.get(),
                             .jobs = jobs_.get(),
                             .broker = broker_.get(),
                             .credits = credits_.get(),
                             .webhooks = webhooks_.get(),
                             .campaigns = campaigns_.get(),
                             .assets = assets_.get(),
                             .brand_kits = brand_kits_.get(),
                             .templates = templates_.get(),
                             .events = events_.get(),
                             .workers = worker_registry_.get(),
                             .storage = storage_,
                             .preview_timeout = preview_timeout_,
                             .preflight_timeout = preflight_timeout_,
                             .generate_per_minute = generate_per_minute_,
                             .max_unfinished_jobs = max_unfinished_jobs_});
    Result<std::unique_ptr<api::Server>> server = api::Server::start(
        {.listen = "127.0.0.1:0", .router = &router_, .registry = &registry_, .threads = 4});
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(*server);
  }

  void TearDown() override {
    workers_.clear();
    if (server_ != nullptr) {
      server_->stop();
    }
  }

  void configureRedis(const std::vector<std::string>& command) {
    Result<redis::Endpoint> endpoint = redis::parseUrl(redis_.url(), "test");
    ASSERT_TRUE(endpoint.ok());
    redis::Connection connection(*endpoint, std::chrono::milliseconds(2'000));
    std::vector<std::string_view> args(command.begin(), command.end());
    Result<redis::ReplyPtr> reply = connection.command(args);
    ASSERT_TRUE(reply.ok()) << reply.status().toString();
  }

  template <typename T>
  static T must(Result<T> result) {
    EXPECT_TRUE(result.ok()) << result.status().toString();
    return result.ok() ? std::move(result).value() : T{};
  }

  int port() const { return server_->port(); }
  HttpClient anonymous() const { return HttpClient("127.0.0.1", server_->port()); }

  // Creates TENANT unless it exists, with CREDITS credits.
  void ensureTenant(const std::string& tenant, std::int64_t credits = 0) {
    if (!accounts_->tenant(tenant).ok()) {
      must(accounts_->createTenant(tenant, tenant + " agency"));
    }
    if (credits > 0) {
      must(credits_->topup({.tenant = tenant,
                            .amount = credits,
                            .key = "test-topup-" + std::to_string(++topups_),
                            .actor = "test"}));
    }
  }

  // Returns a client signed in as a new user of TENANT with ROLE, sending
  // its CSRF token.
  HttpClient signedIn(const std::string& tenant, const std::string& role) {
    ensureTenant(tenant);
    std::string email = role + std::to_string(++users_) + "@" + tenant + ".test";
    must(accounts_->createUser({.tenant = tenant,
                                .email = email,
                                .name = role,
                                .password = std::string(kStackPassword),
                                .role = role}));
    HttpClient client = anonymous();
    HttpReply reply = client.post(
        "/api/v1/session",
        nlohmann::json{{"email", email}, {"password", std::string(kStackPassword)}}.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    client.setHeader("X-CSRF-Token", reply.json().value("csrf_token", ""));
    return client;
  }

  // Returns a client that sends a new API key of TENANT with ROLE.
  HttpClient withApiKey(const std::string& tenant, const std::string& role) {
    ensureTenant(tenant);
    accounts::NewApiKey key = must(accounts_->createApiKey(tenant, "test key", role, "test"));
    HttpClient client = anonymous();
    client.setHeader("Authorization", "Bearer " + key.secret);
    return client;
  }

  // Returns a client signed in as a platform administrator.
  HttpClient platformAdmin() {
    std::string email = "admin" + std::to_string(++users_) + "@platform.test";
    must(accounts_->createUser({.email = email,
                                .name = "Admin",
                                .password = std::string(kStackPassword),
                                .role = "none",
                                .platform_admin = true}));
    HttpClient client = anonymous();
    HttpReply reply = client.post(
        "/api/v1/session",
        nlohmann::json{{"email", email}, {"password", std::string(kStackPassword)}}.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    client.setHeader("X-CSRF-Token", reply.json().value("csrf_token", ""));
    return client;
  }

  // Stores TEMPLATE_FILE as version 1 of a template of TENANT, as the
  // template routes do, and returns its id.
  std::string addTemplate(const std::string& tenant, const std::filesystem::path& template_file) {
    std::string id = randomId("t-");
    std::filesystem::path path = storage_ / tenant / "templates" / id / "v1.json";
    std::filesystem::create_directories(path.parent_path());
    std::filesystem::copy_file(template_file, path);
    std::string body = readText(template_file);
    std::int64_t now = unixMillis();
    std::string name = "template " + id;
    EXPECT_TRUE(db_->write([&](soci::session& sql) {
                     sql << "INSERT INTO templates (id, tenant, name, latest_version, "
                            "created_at_ms, updated_at_ms) VALUES (:id, :tenant, :name, 1, "
                            ":now, :now2)",
                         soci::use(id), soci::use(tenant), soci::use(name), soci::use(now),
                         soci::use(now);
                     std::string file = path.string();
                     sql << "INSERT INTO template_versions (template_id, version, tenant, body, "
                            "path, created_at_ms) VALUES (:id, 1, :tenant, :body, :path, :now)",
                         soci::use(id), soci::use(tenant), soci::use(body), soci::use(file),
                         soci::use(now);
                     return okStatus();
                   })
                    .ok());
    return id;
  }

  // Copies the brand kit folder SOURCE into TENANT's storage, as the brand
  // kit routes do, and returns its id.
  std::string addBrandKit(const std::string& tenant, const std::filesystem::path& source) {
    std::string id = randomId("k-");
    std::filesystem::path dir = storage_ / tenant / "brand-kits" / id;
    std::filesystem::create_directories(dir);
    std::filesystem::copy(source, dir, std::filesystem::copy_options::recursive);
    std::string brand = readText(dir / "brand.json");
    std::string dir_text = dir.string();
    std::int64_t now = unixMillis();
    EXPECT_TRUE(db_->write([&](soci::session& sql) {
                     sql << "INSERT INTO brand_kits (id, tenant, name, brand_json, dir, "
                            "created_at_ms, updated_at_ms) VALUES (:id, :tenant, 'Brand', "
                            ":brand, :dir, :now, :now2)",
                         soci::use(id), soci::use(tenant), soci::use(brand), soci::use(dir_text),
                         soci::use(now), soci::use(now);
                     return okStatus();
                   })
                    .ok());
    return id;
  }

  // Returns a campaign of TENANT made through the API with TEMPLATE_ID (the
  // card template of tests/testdata/api when empty), the golden brand kit
  // and the three fixture rows, mapped onto the template's fields.
  std::string readyCampaign(HttpClient& client, const std::string& tenant,
                            std::string template_id = "") {
    if (template_id.empty()) {
      template_id = addTemplate(tenant, "tests/testdata/api/card.json");
    }
    std::string kit = addBrandKit(tenant, "tests/testdata/golden/brand");
    HttpReply created = client.post(
        "/api/v1/campaigns",
        nlohmann::json{{"name", "Match Day"}, {"template_id", template_id}, {"brand_kit_id", kit}}
            .dump());
    EXPECT_EQ(created.status, 201) << created.body;
    std::string id = created.json().value("id", "");
    HttpReply rows = client.request("PUT", "/api/v1/campaigns/" + id + "/rows",
                                    readText("tests/testdata/api/fixtures.csv"), "text/csv");
    EXPECT_EQ(rows.status, 200) << rows.body;
    HttpReply mapped = client.put(
        "/api/v1/campaigns/" + id + "/mapping",
        nlohmann::json{{"mapping", {{"home", "Home team"}, {"away", "Away team"}}}}.dump());
    EXPECT_EQ(mapped.status, 200) << mapped.body;
    return id;
  }

  // Starts a smmhub-worker on this stack's Redis, database and storage.
  void startWorker(int concurrency = 1) {
    int index = static_cast<int>(workers_.size());
    workers_.push_back(std::make_unique<ChildProcess>(
        SMMHUB_WORKER_BINARY,
        std::vector<std::string>{"--redis", redis_.url(), "--db", db_url_, "--storage",
                                 storage_.string(), "--concurrency", std::to_string(concurrency),
                                 "--id", "api-test-worker-" + std::to_string(index), "--poll-ms",
                                 "200", "--log-level", "warn"},
        std::vector<std::string>{}, logs_.file("worker-" + std::to_string(index) + ".out"),
        logs_.file("worker-" + std::to_string(index) + ".err")));
    ASSERT_TRUE(workers_.back()->started());
  }

  std::string workerLogs() const {
    std::string logs;
    for (const auto& worker : workers_) {
      logs += worker->err();
    }
    return logs;
  }

  RedisServer redis_;
  TempDir storage_dir_;
  TempDir logs_;
  std::string db_url_;
  std::filesystem::path storage_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<credits::Credits> credits_;
  std::unique_ptr<broker::EventLog> events_;
  std::unique_ptr<jobs::JobStore> jobs_;
  std::unique_ptr<broker::Broker> broker_;
  std::unique_ptr<broker::WorkerRegistry> worker_registry_;
  std::unique_ptr<accounts::Accounts> accounts_;
  std::unique_ptr<api::AccountsAuthenticator> auth_;
  std::unique_ptr<campaigns::CampaignStore> campaigns_;
  std::unique_ptr<content::AssetStore> assets_;
  std::unique_ptr<content::BrandKitStore> brand_kits_;
  std::unique_ptr<content::TemplateStore> templates_;
  std::unique_ptr<webhooks::WebhookStore> webhooks_;
  // Whether webhook URLs may be http; a fixture may set it before SetUp() runs.
  bool webhook_allow_http_ = false;
  metrics::Registry registry_;
  api::Router router_;
  std::unique_ptr<api::Server> server_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  // How long POST /api/v1/previews waits for a worker; a fixture may set it
  // before SetUp() runs.
  std::chrono::milliseconds preview_timeout_{10'000};
  // How long POST /api/v1/campaigns/{id}/preflight waits for a worker; a
  // fixture may set it before SetUp() runs.
  std::chrono::milliseconds preflight_timeout_{60'000};
  // One tenant's limits on Generate all; a fixture may set them before
  // SetUp() runs.
  int generate_per_minute_ = 30;
  int max_unfinished_jobs_ = 10'000;
  int users_ = 0;
  int topups_ = 0;
};

}  // namespace smmhub::testing
