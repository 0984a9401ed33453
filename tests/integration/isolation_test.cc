// Tenant isolation over every route of docs/openapi.yaml: another tenant's
// owner, by session and by API key, sends a well-formed request for each
// route that names an id of the first tenant's data, and gets 404 with none
// of that data; lists never show the first tenant's rows; and the first
// tenant's data is unchanged afterwards.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "api_stack.h"

namespace smmhub::testing {
namespace {

using nlohmann::json;

class IsolationTest : public ApiStackTest {
 protected:
  // The first tenant's ids, by the path segment that names their kind.
  struct Owned {
    std::string campaign;
    std::string batch;
    std::string asset;
    std::string brand_kit;
    std::string template_id;
    std::string webhook;
    std::string user;
    std::string api_key;
  };

  Owned makeAcmeData(HttpClient& owner) {
    Owned owned;
    ensureTenant("acme", 10);
    owned.campaign = readyCampaign(owner, "acme");
    owned.batch = owner
                      .request("POST", "/api/v1/campaigns/" + owned.campaign + "/generate", "{}",
                               "application/json", {{"Idempotency-Key", "acme-press"}})
                      .json()
                      .value("batch_id", "");
    owned.asset = owner
                      .post("/api/v1/assets?name=logo.svg",
                            readText("tests/testdata/golden/brand/logo.svg"), "image/svg+xml")
                      .json()
                      .value("id", "");
    owned.brand_kit = owner.post("/api/v1/brand-kits", json{{"name", "Acme Sports"}}.dump())
                          .json()
                          .value("id", "");
    owned.template_id =
        owner
            .post("/api/v1/templates",
                  json{{"name", "Card"},
                       {"body", json::parse(readText("tests/testdata/api/card.json"))}}
                      .dump())
            .json()
            .value("id", "");
    owned.webhook =
        owner.post("/api/v1/webhooks", json{{"url", "https://hooks.acme.example/smmhub"}}.dump())
            .json()
            .value("id", "");
    owned.user = owner.get("/api/v1/me").json()["user"].value("id", "");
    owned.api_key =
        owner.post("/api/v1/api-keys", json{{"name", "feed"}, {"role", "viewer"}}.dump())
            .json()
            .value("id", "");
    return owned;
  }

  // Returns PATH with its parameters replaced by the first tenant's ids.
  static std::string fill(std::string path, const Owned& owned) {
    auto replace = [&path](const std::string& from, const std::string& to) {
      size_t at = path.find(from);
      if (at != std::string::npos) {
        path.replace(at, from.size(), to);
      }
    };
    std::string id;
    if (path.starts_with("/api/v1/campaigns/")) {
      id = owned.campaign;
    } else if (path.starts_with("/api/v1/batches/")) {
      id = owned.batch;
    } else if (path.starts_with("/api/v1/assets/")) {
      id = owned.asset;
    } else if (path.starts_with("/api/v1/brand-kits/")) {
      id = owned.brand_kit;
    } else if (path.starts_with("/api/v1/templates/")) {
      id = owned.template_id;
    } else if (path.starts_with("/api/v1/webhooks/")) {
      id = owned.webhook;
    } else if (path.starts_with("/api/v1/users/")) {
      id = owned.user;
    } else if (path.starts_with("/api/v1/api-keys/")) {
      id = owned.api_key;
    } else if (path.starts_with("/api/v1/admin/tenants/")) {
      id = "acme";
    }
    replace("{id}", id);
    replace("{row}", "1");
    replace("{version}", "1");
    return path;
  }

  // A well-formed body for METHOD on PATH, so that only the lookup can fail.
  static std::pair<std::string, std::string> bodyFor(const std::string& method,
                                                     const std::string& path) {
    if (method == "GET" || method == "DELETE") {
      return {"", "application/json"};
    }
    if (path.ends_with("/rows")) {
      return {"Home team,Away team\nLeeds,Hull\n", "text/csv"};
    }
    if (path.ends_with("/mapping")) {
      return {R"({"mapping":{}})", "application/json"};
    }
    if (path.starts_with("/api/v1/users/")) {
      return {R"({"role":"viewer"})", "application/json"};
    }
    if (path.ends_with("/topups")) {
      return {R"({"amount":5})", "application/json"};
    }
    if (path.ends_with("/users")) {
      return {R"({"email":"x@rival.test","password":"a long password here","role":"owner"})",
              "application/json"};
    }
    return {method == "POST" ? "{}" : R"({"name":"taken over"})", "application/json"};
  }
};

TEST_P(IsolationTest, EveryRouteHidesAnotherTenantsData) {
  HttpClient owner = signedIn("acme", "owner");
  Owned owned = makeAcmeData(owner);
  for (const std::string* id : {&owned.campaign, &owned.batch, &owned.asset, &owned.brand_kit,
                                &owned.template_id, &owned.webhook, &owned.user, &owned.api_key}) {
    ASSERT_FALSE(id->empty()) << "the first tenant's data was not made";
  }
  std::set<std::string> secrets = {owned.campaign,  owned.batch,       owned.asset,
                                   owned.brand_kit, owned.template_id, owned.webhook,
                                   owned.user,      owned.api_key,     "Match Day"};

  YAML::Node document = YAML::LoadFile("docs/openapi.yaml");
  int checked = 0;
  for (HttpClient rival : {signedIn("rival", "owner"), withApiKey("rival", "owner")}) {
    for (const auto& path_item : document["paths"]) {
      std::string pattern = path_item.first.as<std::string>();
      for (const auto& operation : path_item.second) {
        std::string method = operation.first.as<std::string>();
        if (method == "parameters" || method == "summary" || method == "description") {
          continue;
        }
        for (char& c : method) {
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        bool names_an_id = pattern.find('{') != std::string::npos;
        auto [body, type] = bodyFor(method, pattern);
        std::string target = fill(pattern, owned);
        if (pattern == "/api/v1/previews") {
          body = json{{"template_id", owned.template_id},
                      {"values", {{"home", "Leeds"}, {"away", "Hull"}}}}
                     .dump();
        } else if (pattern == "/api/v1/events") {
          target += "?batch_id=" + owned.batch;
        } else if (!names_an_id) {
          // A route of the rival's own data: it must not show the first
          // tenant's rows. Unsafe ones would change the rival's own data.
          if (method != "GET") {
            continue;
          }
          HttpReply listed = rival.get(target);
          for (const std::string& secret : secrets) {
            EXPECT_EQ(listed.body.find(secret), std::string::npos)
                << method << " " << target << " shows " << secret;
          }
          continue;
        }
        HttpReply reply = rival.request(method, target, body, type,
                                        {{"Idempotency-Key", "rival-" + std::to_string(checked)}});
        ++checked;
        EXPECT_EQ(reply.status, 404) << method << " " << target << ": " << reply.body;
        for (const std::string& secret : secrets) {
          if (target.find(secret) == std::string::npos && body.find(secret) == std::string::npos) {
            EXPECT_EQ(reply.body.find(secret), std::string::npos)
                << method << " " << target << " shows " << secret;
          }
        }
      }
    }
  }
  // Every route with an id, once per credential, plus previews and events.
  EXPECT_GE(checked, 60);

  // The first tenant's data is as it was.
  EXPECT_EQ(owner.get("/api/v1/campaigns/" + owned.campaign).json()["name"], "Match Day");
  EXPECT_EQ(owner.get("/api/v1/batches/" + owned.batch).json()["counts"]["queued"], 3);
  EXPECT_EQ(owner.get("/api/v1/assets/" + owned.asset).status, 200);
  EXPECT_EQ(owner.get("/api/v1/brand-kits/" + owned.brand_kit).json()["name"], "Acme Sports");
  EXPECT_EQ(owner.get("/api/v1/templates/" + owned.template_id).json()["name"], "Card");
  EXPECT_EQ(owner.get("/api/v1/webhooks/" + owned.webhook + "/deliveries").status, 200);
  EXPECT_EQ(owner.get("/api/v1/credits").json()["held"], 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, IsolationTest, kBackends, backendName);

}  // namespace
}  // namespace smmhub::testing
