// The campaign, batch, download, event, credit and usage routes over HTTP,
// on SQLite and PostgreSQL, with real smmhub-worker processes where videos
// must be made.
#include <archive.h>
#include <archive_entry.h>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_stack.h"

namespace smmhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::filesystem::path kTemplate = "tests/testdata/api/card.json";
const std::filesystem::path kBrand = "tests/testdata/golden/brand";

class CampaignRoutesTest : public ApiStackTest {
 protected:
  HttpReply generate(HttpClient& client, const std::string& campaign, const std::string& key) {
    return client.request("POST", "/api/v1/campaigns/" + campaign + "/generate", "{}",
                          "application/json", {{"Idempotency-Key", key}});
  }

  // Waits until every job of BATCH has ended; returns the batch.
  json waitForBatch(HttpClient& client, const std::string& batch) {
    json last;
    waitUntil(
        [&] {
          last = client.get("/api/v1/batches/" + batch).json();
          const json& counts = last["counts"];
          return counts.is_object() && counts["completed"].get<int>() +
                                               counts["failed"].get<int>() +
                                               counts["cancelled"].get<int>() ==
                                           counts["total"].get<int>();
        },
        120s);
    return last;
  }
};

TEST_P(CampaignRoutesTest, CreatesListsUpdatesAndDeletesCampaigns) {
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);

  HttpReply created = editor.post("/api/v1/campaigns",
                                  json{{"name", "Derby"}, {"template_id", template_id}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  EXPECT_EQ(created.json()["name"], "Derby");
  EXPECT_EQ(created.json()["row_count"], 0);

  HttpReply list = editor.get("/api/v1/campaigns");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json()["campaigns"].size(), 1U);
  EXPECT_EQ(list.json()["campaigns"][0]["id"], id);

  HttpReply renamed = editor.patch("/api/v1/campaigns/" + id, R"({"name":"Derby day"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(editor.get("/api/v1/campaigns/" + id).json()["name"], "Derby day");
  EXPECT_EQ(editor.get("/api/v1/campaigns/" + id).json()["template_id"], template_id);

  EXPECT_EQ(editor.del("/api/v1/campaigns/" + id).status, 204);
  EXPECT_EQ(editor.get("/api/v1/campaigns/" + id).status, 404);
  EXPECT_EQ(editor.del("/api/v1/campaigns/" + id).status, 404);
}

TEST_P(CampaignRoutesTest, RejectsBadCampaignBodies) {
  HttpClient editor = signedIn("acme", "editor");

  HttpReply malformed = editor.post("/api/v1/campaigns", R"({"name": "Derby")");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.errorCode(), "invalid_json");
  HttpReply not_object = editor.post("/api/v1/campaigns", "[1,2]");
  EXPECT_EQ(not_object.status, 400);
  HttpReply missing = editor.post("/api/v1/campaigns", "{}");
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("field 'name' is missing"), std::string::npos) << missing.body;
  HttpReply wrong_type = editor.post("/api/v1/campaigns", R"({"name": 5})");
  EXPECT_EQ(wrong_type.status, 422);
  HttpReply unknown_template =
      editor.post("/api/v1/campaigns", R"({"name": "Derby", "template_id": "t-nope"})");
  EXPECT_EQ(unknown_template.status, 404);
  EXPECT_NE(unknown_template.body.find("template_id: template t-nope not found"),
            std::string::npos);
  EXPECT_EQ(editor.get("/api/v1/campaigns").json()["campaigns"].size(), 0U);
}

TEST_P(CampaignRoutesTest, UploadsRowsAndRejectsInvalidUtf8WithoutChange) {
  HttpClient editor = signedIn("acme", "editor");
  HttpReply created = editor.post("/api/v1/campaigns", R"({"name": "Derby"})");
  std::string id = created.json()["id"];

  HttpReply uploaded = editor.request("PUT", "/api/v1/campaigns/" + id + "/rows",
                                      readText("tests/testdata/api/fixtures.csv"), "text/csv");
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  EXPECT_EQ(uploaded.json()["campaign"]["row_count"], 3);
  EXPECT_EQ(uploaded.json()["campaign"]["columns"], json({"Home team", "Away team"}));
  EXPECT_EQ(uploaded.json()["preview"][1], json({"Fulham", "Brentford"}));

  HttpReply bad = editor.request("PUT", "/api/v1/campaigns/" + id + "/rows",
                                 readText("tests/testdata/api/bad-utf8.csv"), "text/csv");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("UTF-8"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("row 2"), std::string::npos) << bad.body;
  // The earlier rows stay.
  EXPECT_EQ(editor.get("/api/v1/campaigns/" + id).json()["row_count"], 3);

  HttpReply wrong_type =
      editor.request("PUT", "/api/v1/campaigns/" + id + "/rows", "a,b\n1,2\n", "text/plain");
  EXPECT_EQ(wrong_type.status, 415);

  HttpReply json_rows =
      editor.request("PUT", "/api/v1/campaigns/" + id + "/rows",
                     R"([{"Home team":"Leeds","Away team":"Hull"}])", "application/json");
  ASSERT_EQ(json_rows.status, 200) << json_rows.body;
  HttpReply rows = editor.get("/api/v1/campaigns/" + id + "/rows?offset=0&limit=10");
  ASSERT_EQ(rows.status, 200);
  EXPECT_EQ(rows.json()["total"], 1);
  EXPECT_EQ(rows.json()["columns"], json({"Away team", "Home team"}));
  EXPECT_EQ(rows.json()["rows"][0]["values"], json({"Hull", "Leeds"}));
  EXPECT_EQ(editor.get("/api/v1/campaigns/" + id + "/rows?limit=abc").status, 422);
}

TEST_P(CampaignRoutesTest, MappingNamesUnknownColumnsAndFields) {
  HttpClient editor = signedIn("acme", "editor");
  std::string id = readyCampaign(editor, "acme");

  HttpReply bad = editor.put("/api/v1/campaigns/" + id + "/mapping",
                             R"({"mapping": {"home": "Hometeam", "score": "Away team"}})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("column 'Hometeam' is not in the rows"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("the template has no field 'score'"), std::string::npos) << bad.body;
  EXPECT_EQ(editor.get("/api/v1/campaigns/" + id).json()["mapping"]["home"], "Home team");
  EXPECT_EQ(editor.put("/api/v1/campaigns/" + id + "/mapping", R"({"mapping": 3})").status, 422);
}

TEST_P(CampaignRoutesTest, GenerateStatesTheShortfallAndQueuesNothing) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 1);
  std::string id = readyCampaign(editor, "acme");

  HttpReply reply = generate(editor, id, "first");
  EXPECT_EQ(reply.status, 402);
  EXPECT_EQ(reply.errorCode(), "insufficient_credits");
  EXPECT_EQ(reply.json()["error"]["needed"], 3);
  EXPECT_EQ(reply.json()["error"]["available"], 1);
  EXPECT_EQ(reply.json()["error"]["shortfall"], 2);
  EXPECT_EQ(editor.get("/api/v1/credits").json()["available"], 1);
  EXPECT_EQ(editor.get("/api/v1/credits").json()["held"], 0);
  EXPECT_EQ(must(broker_->queueStats()).ready, 0);
}

TEST_P(CampaignRoutesTest, GenerateWithTheSameKeyMakesOneBatch) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  std::string id = readyCampaign(editor, "acme");

  EXPECT_EQ(editor.request("POST", "/api/v1/campaigns/" + id + "/generate", "{}").status, 400);
  HttpReply first = generate(editor, id, "press-1");
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(first.json()["jobs"], 3);
  EXPECT_EQ(first.json()["credits_held"], 3);
  HttpReply again = generate(editor, id, "press-1");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["batch_id"], first.json()["batch_id"]);
  EXPECT_EQ(again.json()["created"], false);

  json credits = editor.get("/api/v1/credits").json();
  EXPECT_EQ(credits["available"], 7);
  EXPECT_EQ(credits["held"], 3);
  EXPECT_EQ(must(broker_->queueStats()).ready, 3);
  json batches = editor.get("/api/v1/batches?campaign_id=" + id).json()["batches"];
  ASSERT_EQ(batches.size(), 1U);
  EXPECT_EQ(batches[0]["counts"]["queued"], 3);
  EXPECT_EQ(batches[0]["campaign_id"], id);
}

TEST_P(CampaignRoutesTest, CancelStopsTheBatchAndRetryNeedsFailures) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  std::string id = readyCampaign(editor, "acme");
  std::string batch = generate(editor, id, "press").json()["batch_id"];

  HttpReply retried = editor.request("POST", "/api/v1/batches/" + batch + "/retry", "",
                                     "application/json", {{"Idempotency-Key", "r1"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.json()["retried"], 0);

  HttpReply cancelled = editor.post("/api/v1/batches/" + batch + "/cancel", "");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["cancelled"], 3);
  json after = editor.get("/api/v1/batches/" + batch).json();
  EXPECT_EQ(after["cancelled"], true);
  EXPECT_EQ(after["counts"]["cancelled"], 3);
  HttpReply retry_cancelled = editor.request("POST", "/api/v1/batches/" + batch + "/retry", "",
                                             "application/json", {{"Idempotency-Key", "r2"}});
  EXPECT_EQ(retry_cancelled.status, 409);
  EXPECT_EQ(editor.get("/api/v1/batches/" + batch + "/zip").status, 404);
  EXPECT_EQ(editor.get("/api/v1/batches/" + batch + "/videos/1").status, 404);
}

TEST_P(CampaignRoutesTest, ViewerReadsButCannotGenerate) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  std::string id = readyCampaign(editor, "acme");
  HttpClient viewer = signedIn("acme", "viewer");

  EXPECT_EQ(viewer.get("/api/v1/campaigns/" + id).status, 200);
  HttpReply denied = generate(viewer, id, "viewer-press");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.errorCode(), "forbidden");
  HttpClient no_csrf = signedIn("acme", "editor");
  no_csrf.setHeader("X-CSRF-Token", "");
  EXPECT_EQ(generate(no_csrf, id, "no-csrf").status, 403);
  EXPECT_EQ(anonymous().get("/api/v1/campaigns").status, 401);
  EXPECT_EQ(must(broker_->queueStats()).ready, 0);
}

// GET /api/v1/status while jobs wait, while a real worker renders one and
// once it is idle. The card template lasts 300 s here, so that the first
// job is still rendering when the counts are read.
TEST_P(CampaignRoutesTest, StatusCountsWorkersQueueAndTenantJobs) {
  HttpClient editor = signedIn("acme", "editor");
  HttpClient viewer = signedIn("acme", "viewer");
  HttpClient rival = signedIn("rival", "editor");
  ensureTenant("acme", 10);
  ensureTenant("rival", 10);
  json card = json::parse(readText(kTemplate));
  card["scenes"][0]["duration"] = 300;
  std::filesystem::path long_card = logs_.file("long-card.json");
  std::ofstream(long_card) << card.dump();
  std::string batch =
      generate(editor, readyCampaign(editor, "acme", addTemplate("acme", long_card)), "status")
          .json()["batch_id"];
  std::string rival_batch =
      generate(rival, readyCampaign(rival, "rival", addTemplate("rival", long_card)), "status")
          .json()["batch_id"];
  auto status = [&](HttpClient& client) {
    HttpReply reply = client.get("/api/v1/status");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return reply.json();
  };
  auto counts = [](int alive, int busy, int waiting, int running, int queued, int active) {
    return json{{"workers", {{"alive", alive}, {"busy", busy}}},
                {"queue", {{"waiting", waiting}, {"running", running}}},
                {"tenant", {{"queued", queued}, {"active", active}}}};
  };

  json before = status(viewer);
  json rival_before = status(rival);
  ASSERT_EQ(rival.post("/api/v1/batches/" + rival_batch + "/cancel", "").status, 200);
  startWorker();
  json busy;
  bool rendering = waitUntil(
      [&] {
        busy = status(viewer);
        return busy["workers"]["busy"] == 1 && busy["tenant"]["active"] == 1;
      },
      60s);
  ASSERT_EQ(editor.post("/api/v1/batches/" + batch + "/cancel", "").status, 200);
  json idle;
  waitUntil(
      [&] {
        idle = status(viewer);
        return idle == counts(1, 0, 0, 0, 0, 0);
      },
      60s);

  EXPECT_EQ(before, counts(0, 0, 6, 0, 3, 0));
  EXPECT_EQ(rival_before, counts(0, 0, 6, 0, 3, 0));
  ASSERT_TRUE(rendering) << busy.dump() << workerLogs();
  EXPECT_EQ(busy, counts(1, 1, 2, 1, 2, 1));
  EXPECT_EQ(idle, counts(1, 0, 0, 0, 0, 0)) << workerLogs();
}

// Names of the entries of the ZIP archive BYTES, read with libarchive.
std::vector<std::string> zipEntries(const std::string& bytes) {
  std::vector<std::string> names;
  archive* zip = archive_read_new();
  archive_read_support_format_zip(zip);
  if (archive_read_open_memory(zip, bytes.data(), bytes.size()) == ARCHIVE_OK) {
    archive_entry* entry = nullptr;
    while (archive_read_next_header(zip, &entry) == ARCHIVE_OK) {
      names.emplace_back(archive_entry_pathname(entry));
      archive_read_data_skip(zip);
    }
  }
  archive_read_free(zip);
  return names;
}

TEST_P(CampaignRoutesTest, GenerateAllRendersStreamsEventsAndDownloads) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  std::string id = readyCampaign(editor, "acme");
  EventStreamReader events("127.0.0.1", port(), "/api/v1/events",
                           {{"Cookie", "smmhub_session=" + editor.cookies()["smmhub_session"]}});
  ASSERT_EQ(events.status(5s), 200) << events.rawHeader();
  EXPECT_NE(events.rawHeader().find("text/event-stream"), std::string::npos);
  // Another tenant's stream, open during the whole batch.
  HttpClient other = signedIn("rival", "owner");
  EventStreamReader rival_events(
      "127.0.0.1", port(), "/api/v1/events",
      {{"Cookie", "smmhub_session=" + other.cookies()["smmhub_session"]}});
  ASSERT_EQ(rival_events.status(5s), 200);

  HttpReply generated = generate(editor, id, "kickoff");
  ASSERT_EQ(generated.status, 202) << generated.body;
  std::string batch = generated.json()["batch_id"];
  startWorker(2);

  std::set<int> completed_rows;
  while (completed_rows.size() < 3) {
    std::optional<std::string> data = events.nextData(60s);
    ASSERT_TRUE(data.has_value()) << "rows completed so far: " << completed_rows.size() << "\n"
                                  << workerLogs();
    json event = json::parse(*data);
    EXPECT_EQ(event["batch_id"], batch);
    if (event["type"] == "state" && event["to"] == "completed") {
      completed_rows.insert(event["row"].get<int>());
    }
  }
  EXPECT_EQ(completed_rows, std::set<int>({1, 2, 3}));
  EXPECT_EQ(rival_events.nextData(1s), std::nullopt);

  json done = waitForBatch(editor, batch);
  ASSERT_EQ(done["counts"]["completed"], 3) << done.dump() << workerLogs();
  EXPECT_EQ(done["jobs"][0]["video_url"], "/api/v1/batches/" + batch + "/videos/1");

  HttpReply video = editor.get("/api/v1/batches/" + batch + "/videos/2");
  ASSERT_EQ(video.status, 200) << video.body;
  EXPECT_EQ(video.header("content-type"), "video/mp4");
  EXPECT_EQ(video.body.substr(4, 4), "ftyp");
  EXPECT_EQ(video.body, readText(storage_ / "acme" / batch / "002.mp4"));
  EXPECT_NE(video.header("content-disposition").find("attachment"), std::string::npos);
  HttpReply poster = editor.get("/api/v1/batches/" + batch + "/posters/2");
  ASSERT_EQ(poster.status, 200);
  EXPECT_EQ(poster.header("content-type"), "image/jpeg");
  EXPECT_EQ(poster.body.substr(0, 2), "\xFF\xD8");
  EXPECT_EQ(editor.get("/api/v1/batches/" + batch + "/videos/9").status, 404);

  HttpReply zip = editor.get("/api/v1/batches/" + batch + "/zip");
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(zip.header("content-type"), "application/zip");
  EXPECT_EQ(zip.header("transfer-encoding"), "chunked");
  EXPECT_EQ(zipEntries(zip.body), std::vector<std::string>({"001.mp4", "002.mp4", "003.mp4"}));

  // Three videos at one credit each were charged, and nothing stays held.
  waitUntil([&] { return editor.get("/api/v1/credits").json()["held"] == 0; }, 10s);
  json credits = editor.get("/api/v1/credits").json();
  EXPECT_EQ(credits["available"], 7);
  EXPECT_EQ(credits["held"], 0);
  json history = editor.get("/api/v1/credits/history?limit=100").json()["entries"];
  int charges = 0;
  for (const json& entry : history) {
    charges += entry["kind"] == "charge" ? 1 : 0;
  }
  EXPECT_EQ(charges, 3);
  json usage = editor.get("/api/v1/usage?days=7").json()["days"];
  ASSERT_EQ(usage.size(), 7U);
  EXPECT_EQ(usage[6]["videos"], 3);
  EXPECT_EQ(usage[6]["credits"], 3);
  EXPECT_EQ(usage[6]["failures"], 0);
  // The worker recorded each render's time and cache use.
  EXPECT_GT(usage[6]["render_seconds"].get<double>(), 0.0);
  EXPECT_GE(usage[6]["cache_hit_rate"].get<double>(), 0.0);
  EXPECT_LE(usage[6]["cache_hit_rate"].get<double>(), 1.0);
}

// The morning through the API alone: a logo uploaded, a brand kit and a
// template saved by the content routes, rows uploaded, Generate all, videos.
TEST_P(CampaignRoutesTest, ContentMadeThroughTheApiRendersVideos) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  HttpReply logo = editor.post("/api/v1/assets?name=logo.svg",
                               readText("tests/testdata/golden/brand/logo.svg"), "image/svg+xml");
  ASSERT_EQ(logo.status, 201) << logo.body;
  HttpReply kit =
      editor.post("/api/v1/brand-kits", json{{"name", "Acme Sports"},
                                             {"colors", {{"primary", "#0B1D51"}}},
                                             {"fonts", {{"display", {{"family", "Bebas Neue"}}}}},
                                             {"logo_asset_id", logo.json()["id"]}}
                                            .dump());
  ASSERT_EQ(kit.status, 201) << kit.body;
  HttpReply saved = editor.post(
      "/api/v1/templates",
      json{{"name", "Fixture card"}, {"body", json::parse(readText(kTemplate))}}.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  HttpReply created = editor.post("/api/v1/campaigns", json{{"name", "Derby"},
                                                            {"template_id", saved.json()["id"]},
                                                            {"brand_kit_id", kit.json()["id"]}}
                                                           .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  ASSERT_EQ(editor
                .request("PUT", "/api/v1/campaigns/" + id + "/rows",
                         "home,away\nLeeds,Hull\nBolton,Wigan\n", "text/csv")
                .status,
            200);

  HttpReply generated = generate(editor, id, "api-only");
  ASSERT_EQ(generated.status, 202) << generated.body;
  std::string batch = generated.json()["batch_id"];
  startWorker(2);
  json done = waitForBatch(editor, batch);
  ASSERT_EQ(done["counts"]["completed"], 2) << done.dump() << workerLogs();
  EXPECT_EQ(editor.get("/api/v1/batches/" + batch + "/videos/2").body.substr(4, 4), "ftyp");
}

// Rows that name files outside the tenant's folder fail for good, with a
// message, and are not charged; a retry holds their credits and runs them
// again.
TEST_P(CampaignRoutesTest, RowsNamingOtherFilesFailAndRetry) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  std::string template_id = addTemplate("acme", "tests/testdata/cli/mini.json");
  std::string kit = addBrandKit("acme", kBrand);
  std::string id =
      editor
          .post("/api/v1/campaigns",
                json{{"name", "Leak"}, {"template_id", template_id}, {"brand_kit_id", kit}}.dump())
          .json()["id"];
  std::string other_tenant_file = (storage_ / "rival" / "secret.svg").string();
  std::filesystem::create_directories(storage_ / "rival");
  std::filesystem::copy_file("tests/testdata/cli/crests/good.svg", other_tenant_file);
  ASSERT_EQ(editor
                .request("PUT", "/api/v1/campaigns/" + id + "/rows",
                         "home,crest\nArsenal FC," + other_tenant_file +
                             "\nFulham FC,../../../rival/secret.svg\n",
                         "text/csv")
                .status,
            200);
  std::string batch = generate(editor, id, "leak").json()["batch_id"];
  startWorker(1);

  json failed = waitForBatch(editor, batch);
  ASSERT_EQ(failed["counts"]["failed"], 2) << failed.dump() << workerLogs();
  for (const json& job : failed["jobs"]) {
    // Each message names the campaign's row, not the one-row file the
    // worker renders from.
    EXPECT_TRUE(job["error"].get<std::string>().starts_with(
        "row " + std::to_string(job["row"].get<int>()) + ": "))
        << job.dump();
    EXPECT_NE(job["error"].get<std::string>().find("names a file outside the ones this batch "
                                                   "may read"),
              std::string::npos)
        << job.dump();
    EXPECT_EQ(job["attempts"], 1);
  }
  waitUntil([&] { return editor.get("/api/v1/credits").json()["held"] == 0; }, 10s);
  EXPECT_EQ(editor.get("/api/v1/credits").json()["available"], 10);

  HttpReply retried = editor.request("POST", "/api/v1/batches/" + batch + "/retry", "",
                                     "application/json", {{"Idempotency-Key", "again"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.json()["retried"], 2);
  EXPECT_EQ(retried.json()["credits_held"], 2);
  json again = waitForBatch(editor, batch);
  EXPECT_EQ(again["counts"]["failed"], 2);
  waitUntil([&] { return editor.get("/api/v1/credits").json()["held"] == 0; }, 10s);
  EXPECT_EQ(editor.get("/api/v1/credits").json()["available"], 10);
}

TEST_P(CampaignRoutesTest, AnotherTenantGetsNotFoundOnEveryId) {
  HttpClient owner = signedIn("acme", "owner");
  ensureTenant("acme", 10);
  std::string id = readyCampaign(owner, "acme");
  std::string batch = generate(owner, id, "press").json()["batch_id"];

  for (HttpClient rival : {signedIn("rival", "owner"), withApiKey("rival", "owner")}) {
    ensureTenant("rival", 10);
    std::string c = "/api/v1/campaigns/" + id;
    std::string b = "/api/v1/batches/" + batch;
    std::vector<HttpReply> replies = {
        rival.get(c),
        rival.patch(c, R"({"name":"mine"})"),
        rival.request("PUT", c + "/rows", "a,b\n1,2\n", "text/csv"),
        rival.get(c + "/rows"),
        rival.put(c + "/mapping", R"({"mapping":{}})"),
        generate(rival, id, "steal"),
        rival.get(b),
        rival.request("POST", b + "/retry", "", "application/json", {{"Idempotency-Key", "x"}}),
        rival.post(b + "/cancel", ""),
        rival.get(b + "/videos/1"),
        rival.get(b + "/posters/1"),
        rival.get(b + "/zip"),
        rival.get("/api/v1/events?batch_id=" + batch),
        rival.del(c),
    };
    for (size_t i = 0; i < replies.size(); ++i) {
      EXPECT_EQ(replies[i].status, 404) << "request " << i << ": " << replies[i].body;
      EXPECT_EQ(replies[i].body.find("Match Day"), std::string::npos);
    }
    EXPECT_EQ(rival.get("/api/v1/campaigns").json()["campaigns"].size(), 0U);
    EXPECT_EQ(rival.get("/api/v1/batches").json()["batches"].size(), 0U);
  }
  // Nothing changed for the owner.
  EXPECT_EQ(owner.get("/api/v1/campaigns/" + id).json()["name"], "Match Day");
  EXPECT_EQ(owner.get("/api/v1/batches/" + batch).json()["counts"]["queued"], 3);
}

TEST_P(CampaignRoutesTest, PlatformAdministratorTopsUpOnce) {
  HttpClient admin = platformAdmin();
  ensureTenant("acme");
  HttpClient owner = signedIn("acme", "owner");

  auto topup = [](HttpClient& client, const std::string& tenant, const std::string& body,
                  const std::string& key) {
    return client.request("POST", "/api/v1/admin/tenants/" + tenant + "/topups", body,
                          "application/json", {{"Idempotency-Key", key}});
  };
  HttpReply added = topup(admin, "acme", R"({"amount": 50})", "invoice-7");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.json()["available"], 50);
  HttpReply replayed = topup(admin, "acme", R"({"amount": 50})", "invoice-7");
  EXPECT_EQ(replayed.status, 200);
  EXPECT_EQ(replayed.json()["replayed"], true);
  EXPECT_EQ(owner.get("/api/v1/credits").json()["available"], 50);
  HttpReply seen = admin.get("/api/v1/admin/tenants/acme/credits");
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.json()["available"], 50);
  EXPECT_EQ(seen.json()["held"], 0);
  EXPECT_EQ(seen.json()["video_price"], 1);
  EXPECT_EQ(admin.get("/api/v1/admin/tenants/nobody/credits").status, 404);
  EXPECT_EQ(owner.get("/api/v1/admin/tenants/acme/credits").status, 404);

  EXPECT_EQ(topup(admin, "acme", R"({"amount": 0})", "zero").status, 422);
  EXPECT_EQ(topup(admin, "nobody", R"({"amount": 5})", "ghost").status, 404);
  EXPECT_EQ(admin.request("POST", "/api/v1/admin/tenants/acme/topups", R"({"amount": 5})").status,
            400);
  // A tenant's owner does not learn that the route exists.
  EXPECT_EQ(topup(owner, "acme", R"({"amount": 5})", "self").status, 404);
  EXPECT_EQ(owner.get("/api/v1/credits").json()["available"], 50);
}

// The file name of a campaign row's video: "007.mp4" for row 7.
std::string videoName(int row) {
  std::string digits = std::to_string(row);
  return std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits + ".mp4";
}

// Cancels batches while two workers with two slots each render them, at a
// different point of each batch. Whatever each job was doing when the
// cancel came, the tenant pays for the videos delivered and nothing else.
// So each completed job has one charge and a video file, no other job has
// either, and no credit stays held.
TEST_P(CampaignRoutesTest, CancelWhileRenderingChargesDeliveredVideosOnly) {
  constexpr int kRows = 24;
  constexpr int kRounds = 5;
  constexpr int kCredits = kRows * kRounds;
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", kCredits);
  std::string id = readyCampaign(editor, "acme");
  std::string rows = "Home team,Away team\n";
  for (int row = 1; row <= kRows; ++row) {
    rows += "Home " + std::to_string(row) + ",Away " + std::to_string(row) + "\n";
  }
  ASSERT_EQ(editor.request("PUT", "/api/v1/campaigns/" + id + "/rows", rows, "text/csv").status,
            200);
  startWorker(2);
  startWorker(2);

  int delivered = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    HttpReply generated = generate(editor, id, "round-" + std::to_string(round));
    ASSERT_EQ(generated.status, 202) << generated.body;
    std::string batch = generated.json()["batch_id"];

    // Cancel once ROUND + 1 videos are done, while other jobs render or
    // deliver theirs.
    bool started = waitUntil(
        [&] {
          json counts = editor.get("/api/v1/batches/" + batch).json()["counts"];
          return counts["completed"].get<int>() > round;
        },
        120s);
    ASSERT_TRUE(started) << workerLogs();
    HttpReply cancelled = editor.post("/api/v1/batches/" + batch + "/cancel", "");
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    json done = waitForBatch(editor, batch);
    bool released =
        waitUntil([&] { return editor.get("/api/v1/credits").json()["held"] == 0; }, 10s);

    std::set<std::string> completed_files;
    for (const json& job : done["jobs"]) {
      if (job["state"] == "completed") {
        completed_files.insert(videoName(job["row"].get<int>()));
      }
    }
    std::set<std::string> video_files;
    for (const auto& entry : std::filesystem::directory_iterator(storage_ / "acme" / batch)) {
      if (entry.path().extension() == ".mp4") {
        video_files.insert(entry.path().filename().string());
      }
    }
    json history = editor.get("/api/v1/credits/history?limit=1000").json();
    int charges = 0;
    for (const json& entry : history["entries"]) {
      charges += entry["kind"] == "charge" && entry["job_id"] == batch ? 1 : 0;
    }
    int completed = done["counts"]["completed"];
    delivered += completed;
    json credits = editor.get("/api/v1/credits").json();

    EXPECT_TRUE(released) << credits.dump() << workerLogs();
    EXPECT_EQ(done["counts"]["cancelled"].get<int>() + completed, kRows) << done["counts"].dump();
    EXPECT_EQ(charges, completed) << done["counts"].dump() << workerLogs();
    EXPECT_EQ(video_files, completed_files);
    EXPECT_EQ(credits["available"], kCredits - delivered) << done["counts"].dump();
    EXPECT_EQ(credits["held"], 0);
  }
}

// A fixture with small limits on Generate all: three calls a minute and
// five unfinished videos per tenant.
class GenerateLimitTest : public CampaignRoutesTest {
 protected:
  void SetUp() override {
    generate_per_minute_ = 3;
    max_unfinished_jobs_ = 5;
    ApiStackTest::SetUp();
  }
};

TEST_P(GenerateLimitTest, RateLimitHoldsOnlyTheFloodingTenant) {
  HttpClient editor = signedIn("acme", "editor");
  HttpClient rival = signedIn("rival", "editor");
  ensureTenant("acme", 100);
  ensureTenant("rival", 100);
  std::string id = readyCampaign(editor, "acme");
  std::string rival_id = readyCampaign(rival, "rival");

  // A repeat of the first call returns its batch and counts as a call.
  ASSERT_EQ(generate(editor, id, "flood-1").status, 202);
  ASSERT_EQ(generate(editor, id, "flood-1").status, 200);
  std::string batch = generate(editor, id, "flood-1").json()["batch_id"];
  HttpReply limited = generate(editor, id, "flood-2");
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.errorCode(), "rate_limited");
  std::string seconds = limited.header("retry-after");
  ASSERT_FALSE(seconds.empty());
  EXPECT_GE(std::stoi(seconds), 1);
  EXPECT_LE(std::stoi(seconds), 60);
  EXPECT_EQ(limited.json()["error"]["message"],
            "Generate all and retry are limited to 3 calls a minute per agency; retry after " +
                seconds + " seconds");
  HttpReply retry = editor.request("POST", "/api/v1/batches/" + batch + "/retry", "",
                                   "application/json", {{"Idempotency-Key", "r1"}});
  EXPECT_EQ(retry.status, 429) << retry.body;

  // The flood queued one batch, and the other tenant is not held by it.
  EXPECT_EQ(editor.get("/api/v1/batches").json()["batches"].size(), 1U);
  EXPECT_EQ(editor.get("/api/v1/credits").json()["held"], 3);
  HttpReply other = generate(rival, rival_id, "rival-1");
  EXPECT_EQ(other.status, 202) << other.body;
  EXPECT_EQ(must(broker_->queueStats()).ready, 6);
}

TEST_P(GenerateLimitTest, QueueQuotaRejectsABatchThatWouldPassIt) {
  HttpClient editor = signedIn("acme", "editor");
  HttpClient rival = signedIn("rival", "editor");
  ensureTenant("acme", 100);
  ensureTenant("rival", 100);
  std::string id = readyCampaign(editor, "acme");
  std::string rival_id = readyCampaign(rival, "rival");

  ASSERT_EQ(generate(editor, id, "first").status, 202);
  HttpReply full = generate(editor, id, "second");
  EXPECT_EQ(full.status, 429) << full.body;
  EXPECT_EQ(full.errorCode(), "queue_full");
  EXPECT_EQ(full.json()["error"]["message"],
            "tenant acme has 3 videos queued or rendering, and 3 more would pass its limit of 5; "
            "wait for some to finish or cancel a batch");
  // Nothing of the rejected batch is kept or held, and its key stays free.
  EXPECT_EQ(editor.get("/api/v1/batches").json()["batches"].size(), 1U);
  EXPECT_EQ(editor.get("/api/v1/credits").json()["held"], 3);
  EXPECT_EQ(must(broker_->queueStats()).ready, 3);
  EXPECT_EQ(generate(rival, rival_id, "rival-1").status, 202);

  // Once the first batch is cancelled, the same key queues the batch.
  std::string batch = editor.get("/api/v1/batches").json()["batches"][0]["id"];
  ASSERT_EQ(editor.post("/api/v1/batches/" + batch + "/cancel", "").status, 200);
  HttpReply again = generate(editor, id, "second");
  EXPECT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(again.json()["jobs"], 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, CampaignRoutesTest, kBackends, backendName);
INSTANTIATE_TEST_SUITE_P(Backends, GenerateLimitTest, kBackends, backendName);

}  // namespace
}  // namespace smmhub::testing
