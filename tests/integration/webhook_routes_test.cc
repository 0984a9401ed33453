// The webhook routes over HTTP on SQLite and PostgreSQL, and webhooks end to
// end. In the end-to-end test a real smmhub-worker renders a batch, and the
// dispatcher sends its events to a receiver on 127.0.0.1 that the test
// starts. The test checks each signature with the secret from the create
// response.
#include <sodium.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_stack.h"
#include "testing/loopback_http_server.h"
#include "webhooks/dispatcher.h"

namespace smmhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::filesystem::path kTemplate = "tests/testdata/api/card.json";
const std::filesystem::path kBrand = "tests/testdata/golden/brand";

// Returns what a receiver computes for X-Smmhub-Signature.
std::string expectedSignature(const std::string& secret, const std::string& timestamp,
                              const std::string& body) {
  std::string text = timestamp + "." + body;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(text.data()),
                                text.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[sizeof mac * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string("v1=") + hex;
}

LoopbackHttpServer::Handler answerOk() {
  return [](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(200, {}, "ok"));
  };
}

class WebhookRoutesTest : public ApiStackTest {};

// The stack of a deployment started with --webhook-allow-http, and a
// dispatcher allowed to reach 127.0.0.1.
class WebhookDeliveryTest : public ApiStackTest {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    webhook_allow_http_ = true;
    ApiStackTest::SetUp();
  }

  void TearDown() override {
    if (dispatcher_ != nullptr) {
      dispatcher_->stop();
    }
    ApiStackTest::TearDown();
  }

  void startDispatcher() {
    auto dispatcher = webhooks::Dispatcher::create(*db_, {.redis_url = redis_.url(),
                                                          .id = "api-test",
                                                          .poll_interval = 100ms,
                                                          .backoff = {200ms},
                                                          .allow_http = true,
                                                          .allow = {"127.0.0.1/32"}});
    ASSERT_TRUE(dispatcher.ok()) << dispatcher.status().toString();
    dispatcher_ = std::move(*dispatcher);
    dispatcher_->start();
  }

  std::unique_ptr<webhooks::Dispatcher> dispatcher_;
};

TEST_P(WebhookRoutesTest, CreatesListsAndDeletesWebhooks) {
  HttpClient owner = signedIn("acme", "owner");

  HttpReply created = owner.post(
      "/api/v1/webhooks",
      json{{"url", "https://hooks.acme.example/smmhub"}, {"events", {"video.completed"}}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  EXPECT_TRUE(id.starts_with("wh_")) << id;
  EXPECT_TRUE(created.json()["secret"].get<std::string>().starts_with("whsec_"));
  EXPECT_EQ(created.json()["events"], json({"video.completed"}));
  HttpReply all_events =
      owner.post("/api/v1/webhooks", json{{"url", "https://hooks.acme.example/all"}}.dump());
  ASSERT_EQ(all_events.status, 201) << all_events.body;
  EXPECT_EQ(all_events.json()["events"], json({"*"}));

  HttpReply list = owner.get("/api/v1/webhooks");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json()["webhooks"].size(), 2u);
  EXPECT_EQ(list.json()["webhooks"][0]["id"], id);
  EXPECT_EQ(list.json()["webhooks"][0]["url"], "https://hooks.acme.example/smmhub");
  EXPECT_FALSE(list.json()["webhooks"][0].contains("secret"));
  EXPECT_EQ(list.body.find("whsec_"), std::string::npos);

  EXPECT_EQ(owner.del("/api/v1/webhooks/" + id).status, 204);
  EXPECT_EQ(owner.get("/api/v1/webhooks").json()["webhooks"].size(), 1u);
  EXPECT_EQ(owner.del("/api/v1/webhooks/" + id).status, 404);
  EXPECT_EQ(owner.get("/api/v1/webhooks/" + id + "/deliveries").status, 404);
}

TEST_P(WebhookRoutesTest, RejectsBadUrlsNamingTheField) {
  HttpClient owner = signedIn("acme", "owner");
  struct Case {
    json body;
    std::string message;
  };
  const Case cases[] = {
      {{{"url", "http://hooks.acme.example/"}},
       "url: http is not accepted, because the payloads would cross the network unencrypted; "
       "use https"},
      {{{"url", "not a url"}}, "url: contains a space or a control character; percent-encode it"},
      {{{"url", "https://"}}, "url: 'https://' is not a valid URL: "},
      {{{"url", "https://user:secret@hooks.acme.example/"}},
       "url: must not contain a user name or password; the signature authenticates deliveries"},
      {{{"url", "https://hooks.acme.example/" + std::string(2'000, 'a')}},
       "url: 2027 bytes is over the limit of 2000"},
      {{{"url", "https://hooks.acme.example/"}, {"events", {"video.started"}}},
       "events/0: unknown event type 'video.started'; use video.completed, video.failed, "
       "batch.completed or \"*\""},
      {{{"url", "https://hooks.acme.example/"}, {"events", "video.completed"}},
       "events: must be an array of event types, such as [\"video.completed\"], or [\"*\"]"},
      {{{"url", "https://hooks.acme.example/"}, {"events", json::array()}},
       "events: must list at least one of video.completed, video.failed, batch.completed, or "
       "be [\"*\"]"},
      {json::object(), "field 'url' is missing"},
  };
  for (const Case& item : cases) {
    HttpReply reply = owner.post("/api/v1/webhooks", item.body.dump());
    EXPECT_EQ(reply.status, 422) << item.body.dump();
    EXPECT_EQ(reply.errorCode(), "invalid_field") << item.body.dump();
    std::string message = reply.json()["error"].value("message", "");
    EXPECT_TRUE(message.starts_with(item.message)) << message;
  }
  EXPECT_EQ(owner.get("/api/v1/webhooks").json()["webhooks"].size(), 0u);
}

TEST_P(WebhookRoutesTest, OwnersOnly) {
  HttpClient editor = signedIn("acme", "editor");
  HttpClient key = withApiKey("acme", "editor");

  EXPECT_EQ(editor.get("/api/v1/webhooks").status, 403);
  EXPECT_EQ(editor.post("/api/v1/webhooks", R"({"url":"https://a.example/"})").status, 403);
  EXPECT_EQ(key.get("/api/v1/webhooks").status, 403);
  EXPECT_EQ(anonymous().get("/api/v1/webhooks").status, 401);
  HttpClient owner_key = withApiKey("acme", "owner");
  EXPECT_EQ(owner_key.get("/api/v1/webhooks").status, 200);
}

TEST_P(WebhookRoutesTest, OtherTenantGets404Everywhere) {
  HttpClient owner = signedIn("acme", "owner");
  HttpReply created =
      owner.post("/api/v1/webhooks", json{{"url", "https://hooks.acme.example/"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  HttpClient rival = signedIn("rival", "owner");

  HttpReply list = rival.get("/api/v1/webhooks");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json()["webhooks"], json::array());
  HttpReply deleted = rival.del("/api/v1/webhooks/" + id);
  EXPECT_EQ(deleted.status, 404);
  EXPECT_EQ(deleted.errorCode(), "not_found");
  EXPECT_EQ(deleted.json()["error"]["message"], "webhook " + id + " not found");
  EXPECT_EQ(rival.get("/api/v1/webhooks/" + id + "/deliveries").status, 404);
  EXPECT_EQ(rival.post("/api/v1/webhooks/" + id + "/test", "").status, 404);

  // The webhook is untouched.
  ASSERT_EQ(owner.get("/api/v1/webhooks").json()["webhooks"].size(), 1u);
  EXPECT_EQ(owner.get("/api/v1/webhooks/" + id + "/deliveries").json()["deliveries"],
            json::array());
}

TEST_P(WebhookDeliveryTest, TestRouteSendsAPing) {
  LoopbackHttpServer receiver(answerOk());
  ASSERT_TRUE(receiver.started());
  HttpClient owner = signedIn("acme", "owner");
  HttpReply created =
      owner.post("/api/v1/webhooks",
                 json{{"url", receiver.url("/ping")}, {"events", {"video.failed"}}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];

  HttpReply queued = owner.post("/api/v1/webhooks/" + id + "/test", "");
  ASSERT_EQ(queued.status, 202) << queued.body;
  EXPECT_EQ(queued.json()["event_type"], "ping");
  EXPECT_EQ(queued.json()["state"], "pending");
  startDispatcher();
  ASSERT_TRUE(waitUntil(
      [&] {
        json list = owner.get("/api/v1/webhooks/" + id + "/deliveries").json()["deliveries"];
        return list.size() == 1 && list[0]["state"] == "delivered";
      },
      20s));

  json delivery = owner.get("/api/v1/webhooks/" + id + "/deliveries").json()["deliveries"][0];
  EXPECT_EQ(delivery["attempts"], 1);
  EXPECT_EQ(delivery["last_status"], 200);
  EXPECT_EQ(delivery["last_error"], "");
  EXPECT_EQ(delivery["event_id"], queued.json()["event_id"]);
  ASSERT_EQ(receiver.requests().size(), 1u);
  HttpRequest ping = receiver.requests()[0];
  EXPECT_EQ(ping.target, "/ping");
  EXPECT_EQ(json::parse(ping.body)["data"]["webhook_id"], id);
  EXPECT_EQ(
      ping.header("x-smmhub-signature"),
      expectedSignature(created.json()["secret"], ping.header("x-smmhub-timestamp"), ping.body));
}

TEST_P(WebhookDeliveryTest, BatchSendsSignedVideoAndBatchEvents) {
  LoopbackHttpServer receiver(answerOk());
  ASSERT_TRUE(receiver.started());
  HttpClient owner = signedIn("acme", "owner");
  ensureTenant("acme", 10);
  HttpReply created = owner.post(
      "/api/v1/webhooks", json{{"url", receiver.url("/smmhub")},
                               {"events", {"video.completed", "video.failed", "batch.completed"}}}
                              .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string secret = created.json()["secret"];
  std::string campaign = readyCampaign(owner, "acme");
  startDispatcher();

  HttpReply generated = owner.request("POST", "/api/v1/campaigns/" + campaign + "/generate", "{}",
                                      "application/json", {{"Idempotency-Key", "webhooks-e2e"}});
  ASSERT_EQ(generated.status, 202) << generated.body;
  std::string batch = generated.json()["batch_id"];
  startWorker(2);
  ASSERT_TRUE(waitUntil([&] { return receiver.requests().size() >= 4; }, 180s))
      << "requests so far: " << receiver.requests().size() << "\n"
      << workerLogs();
  // Nothing more arrives, such as a second batch.completed.
  std::this_thread::sleep_for(1s);

  std::vector<HttpRequest> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 4u);
  std::set<int> rows;
  std::set<std::string> event_ids;
  json finished;
  for (const HttpRequest& request : requests) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/smmhub");
    EXPECT_EQ(request.header("content-type"), "application/json");
    EXPECT_EQ(request.header("x-smmhub-signature"),
              expectedSignature(secret, request.header("x-smmhub-timestamp"), request.body))
        << request.body;
    json payload = json::parse(request.body);
    EXPECT_EQ(request.header("x-smmhub-event-id"), payload["id"]);
    event_ids.insert(payload["id"].get<std::string>());
    EXPECT_EQ(payload["tenant"], "acme");
    EXPECT_EQ(payload["data"]["batch_id"], batch);
    if (payload["type"] == "batch.completed") {
      finished = payload;
      continue;
    }
    EXPECT_EQ(payload["type"], "video.completed") << request.body;
    int row = payload["data"]["row"].get<int>();
    rows.insert(row);
    EXPECT_EQ(payload["data"]["state"], "completed");
    EXPECT_EQ(payload["data"]["video_url"],
              "/api/v1/batches/" + batch + "/videos/" + std::to_string(row));
  }
  EXPECT_EQ(rows, std::set<int>({1, 2, 3}));
  EXPECT_EQ(event_ids.size(), 4u);
  ASSERT_TRUE(finished.is_object());
  EXPECT_EQ(finished["id"], "evt_batch_" + batch);
  EXPECT_EQ(finished["data"]["counts"],
            json({{"total", 3}, {"completed", 3}, {"failed", 0}, {"cancelled", 0}}));

  std::string id = created.json()["id"];
  json deliveries = owner.get("/api/v1/webhooks/" + id + "/deliveries").json()["deliveries"];
  ASSERT_EQ(deliveries.size(), 4u);
  EXPECT_EQ(deliveries[0]["event_type"], "batch.completed");
  for (const json& delivery : deliveries) {
    EXPECT_EQ(delivery["state"], "delivered") << delivery.dump();
    EXPECT_EQ(delivery["attempts"], 1) << delivery.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhookRoutesTest, kBackends, backendName);
INSTANTIATE_TEST_SUITE_P(Backends, WebhookDeliveryTest, kBackends, backendName);

}  // namespace
}  // namespace smmhub::testing
