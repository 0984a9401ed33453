// POST /api/v1/previews over HTTP, on SQLite and PostgreSQL, with real
// smmhub-worker processes rendering the frames. One test proves that a
// preview is the frame of the final video: it compares the preview of a
// campaign row with the frame decoded from that row's MP4.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api_stack.h"
#include "broker/previews.h"
#include "render/batch.h"
#include "render/image/image_loader.h"
#include "render/image/psnr.h"
#include "render/video/audio_track.h"
#include "render/video/probe.h"
#include "render/video/video_clip.h"
#include "template/brand_kit.h"

namespace smmhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::filesystem::path kTemplate = "tests/testdata/api/card.json";
const std::filesystem::path kBrand = "tests/testdata/golden/brand";
// tests/testdata/api/card.json: 216 x 384 at 10 frames per second, 1 s long.
constexpr int kWidth = 216;
constexpr int kHeight = 384;
constexpr int kFps = 10;
// H.264 at CRF 23 with 4:2:0 chroma loses a little, so the video's frame
// matches its preview closely but not exactly. Another row's frame differs
// in its text and falls far below.
constexpr double kSameFrameMinPsnrDb = 40;
constexpr double kOtherRowMaxPsnrDb = 30;

class PreviewTest : public ApiStackTest {
 protected:
  void SetUp() override {
    // A worker built with sanitizers takes seconds for its first frame.
    preview_timeout_ = 60s;
    ApiStackTest::SetUp();
  }

  // Writes BYTES to a file of the logs folder and decodes it as a PNG.
  render::Raster decodePng(const std::string& bytes, const std::string& name) {
    std::filesystem::path path = logs_.file(name);
    std::ofstream(path, std::ios::binary) << bytes;
    Result<render::Raster> raster = render::readPng(path);
    EXPECT_TRUE(raster.ok()) << raster.status().toString();
    return raster.ok() ? *raster : render::Raster{};
  }

  std::string redisCommand(const std::vector<std::string_view>& args) {
    Result<redis::Pool::Lease> connection = pool_->acquire();
    EXPECT_TRUE(connection.ok());
    if (!connection.ok()) {
      return "";
    }
    Result<redis::ReplyPtr> reply = (*connection)->command(args);
    EXPECT_TRUE(reply.ok()) << reply.status().toString();
    if (!reply.ok()) {
      return "";
    }
    if ((*reply)->type == REDIS_REPLY_INTEGER) {
      return std::to_string((*reply)->integer);
    }
    return std::string(redis::replyText(reply->get()));
  }
};

TEST_P(PreviewTest, CachedFrameNeedsNoWorker) {
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);
  std::string kit = addBrandKit("acme", kBrand);
  std::string body = json{{"template_id", template_id},
                          {"brand_kit_id", kit},
                          {"time_s", 0.5},
                          {"values", {{"home", "Arsenal"}, {"away", "Chelsea"}}}}
                         .dump();
  startWorker();

  HttpReply first = editor.post("/api/v1/previews", body);
  ASSERT_EQ(first.status, 200) << first.body << workerLogs();
  EXPECT_EQ(first.header("content-type"), "image/png");
  EXPECT_EQ(first.header("cache-control"), "private, max-age=300");
  EXPECT_EQ(first.header("x-preview-cache"), "miss");
  render::Raster frame = decodePng(first.body, "first.png");
  EXPECT_EQ(frame.width, kWidth);
  EXPECT_EQ(frame.height, kHeight);

  // With every worker gone, the same request is served from the cache.
  workers_.clear();
  HttpReply again = editor.post("/api/v1/previews", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.header("x-preview-cache"), "hit");
  EXPECT_EQ(again.body, first.body);
  int cached = 0;
  for (const auto& entry : std::filesystem::directory_iterator(storage_ / "acme" / "previews")) {
    EXPECT_EQ(entry.path().extension(), ".png") << entry.path();
    EXPECT_EQ(entry.path().stem().string().size(), 64U) << entry.path();
    cached++;
  }
  EXPECT_EQ(cached, 1);
}

TEST_P(PreviewTest, ChangedTimeOrRowMissesCache) {
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);
  std::string kit = addBrandKit("acme", kBrand);
  json body = {{"template_id", template_id},
               {"brand_kit_id", kit},
               {"time_s", 0},
               {"values", {{"home", "Arsenal"}, {"away", "Chelsea"}}}};
  startWorker();
  HttpReply first = editor.post("/api/v1/previews", body.dump());
  ASSERT_EQ(first.status, 200) << first.body << workerLogs();

  body["time_s"] = 0.5;
  HttpReply later = editor.post("/api/v1/previews", body.dump());
  body["values"]["home"] = "Leeds";
  HttpReply other_row = editor.post("/api/v1/previews", body.dump());

  ASSERT_EQ(later.status, 200) << later.body;
  ASSERT_EQ(other_row.status, 200) << other_row.body;
  EXPECT_EQ(later.header("x-preview-cache"), "miss");
  EXPECT_EQ(other_row.header("x-preview-cache"), "miss");
  EXPECT_NE(later.body, first.body);
  EXPECT_NE(other_row.body, later.body);
}

TEST_P(PreviewTest, RejectsBadTimesAndBodies) {
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);
  json values = {{"home", "Arsenal"}, {"away", "Chelsea"}};
  auto post = [&](const json& body) {
    return editor.post("/api/v1/previews", body.dump());
  };

  HttpReply at_end = post({{"template_id", template_id}, {"time_s", 1}, {"values", values}});
  HttpReply negative = post({{"template_id", template_id}, {"time_s", -0.1}, {"values", values}});
  HttpReply text = post({{"template_id", template_id}, {"time_s", "soon"}, {"values", values}});
  HttpReply neither = post({{"template_id", template_id}});
  HttpReply both = post({{"template_id", template_id}, {"values", values}, {"campaign_id", "c"}});
  HttpReply no_row = post({{"template_id", template_id}, {"campaign_id", "c-1"}});
  HttpReply bad_value = post({{"template_id", template_id}, {"values", {{"home", {1, 2}}}}});
  HttpReply no_template = post({{"values", values}});

  EXPECT_EQ(at_end.status, 422);
  EXPECT_EQ(at_end.errorCode(), "invalid_field");
  EXPECT_NE(at_end.body.find("time_s: 1 is outside the template, which lasts 1 s"),
            std::string::npos)
      << at_end.body;
  EXPECT_EQ(negative.status, 422);
  EXPECT_NE(negative.body.find("time_s: -0.1 is outside"), std::string::npos) << negative.body;
  EXPECT_EQ(text.status, 422);
  EXPECT_NE(text.body.find("time_s: must be a number"), std::string::npos) << text.body;
  EXPECT_EQ(neither.status, 422);
  EXPECT_NE(neither.body.find("give either values"), std::string::npos) << neither.body;
  EXPECT_EQ(both.status, 422);
  EXPECT_EQ(no_row.status, 422);
  EXPECT_NE(no_row.body.find("row: missing"), std::string::npos) << no_row.body;
  EXPECT_EQ(bad_value.status, 422);
  EXPECT_NE(bad_value.body.find("values.home: must be a string"), std::string::npos)
      << bad_value.body;
  EXPECT_EQ(no_template.status, 422);
  EXPECT_EQ(redisCommand({"LLEN", broker::kPreviewQueueKey}), "0");
}

TEST_P(PreviewTest, CampaignRowOutOfRangeIsRejected) {
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);
  std::string campaign = readyCampaign(editor, "acme", template_id);

  HttpReply reply =
      editor.post("/api/v1/previews",
                  json{{"template_id", template_id}, {"campaign_id", campaign}, {"row", 4}}.dump());

  EXPECT_EQ(reply.status, 422);
  EXPECT_NE(reply.body.find("row: campaign " + campaign + " has rows 1 to 3, not 4"),
            std::string::npos)
      << reply.body;
}

TEST_P(PreviewTest, WorkerErrorIsUnprocessable) {
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);
  std::string kit = addBrandKit("acme", kBrand);
  startWorker();

  // "away" is a required field: the row does not bind.
  HttpReply reply = editor.post(
      "/api/v1/previews",
      json{{"template_id", template_id}, {"brand_kit_id", kit}, {"values", {{"home", "A"}}}}
          .dump());

  EXPECT_EQ(reply.status, 422) << reply.body << workerLogs();
  EXPECT_EQ(reply.errorCode(), "preview_failed");
  EXPECT_NE(reply.body.find("away"), std::string::npos) << reply.body;
  EXPECT_FALSE(std::filesystem::exists(storage_ / "acme" / "previews") &&
               !std::filesystem::is_empty(storage_ / "acme" / "previews"));
}

TEST_P(PreviewTest, AnotherTenantsIdsAreNotFound) {
  HttpClient rival = signedIn("rival", "editor");
  std::string rival_template = addTemplate("rival", kTemplate);
  std::string rival_kit = addBrandKit("rival", kBrand);
  std::string rival_campaign = readyCampaign(rival, "rival", rival_template);
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);
  json values = {{"home", "Arsenal"}, {"away", "Chelsea"}};
  auto post = [&](const json& body) {
    return editor.post("/api/v1/previews", body.dump());
  };

  HttpReply their_template = post({{"template_id", rival_template}, {"values", values}});
  HttpReply their_kit =
      post({{"template_id", template_id}, {"brand_kit_id", rival_kit}, {"values", values}});
  HttpReply their_campaign =
      post({{"template_id", template_id}, {"campaign_id", rival_campaign}, {"row", 1}});
  HttpReply no_version = post({{"template_id", template_id}, {"version", 2}, {"values", values}});

  EXPECT_EQ(their_template.status, 404) << their_template.body;
  EXPECT_NE(their_template.body.find("template " + rival_template + " not found"),
            std::string::npos);
  EXPECT_EQ(their_kit.status, 404) << their_kit.body;
  EXPECT_NE(their_kit.body.find("brand kit " + rival_kit + " not found"), std::string::npos);
  EXPECT_EQ(their_campaign.status, 404) << their_campaign.body;
  EXPECT_NE(their_campaign.body.find("campaign " + rival_campaign + " not found"),
            std::string::npos);
  EXPECT_EQ(no_version.status, 404) << no_version.body;
  EXPECT_NE(no_version.body.find("has no version 2"), std::string::npos);
}

TEST_P(PreviewTest, ViewerIsForbidden) {
  HttpClient viewer = signedIn("acme", "viewer");
  std::string template_id = addTemplate("acme", kTemplate);

  HttpReply reply = viewer.post(
      "/api/v1/previews",
      json{{"template_id", template_id}, {"values", {{"home", "A"}, {"away", "B"}}}}.dump());

  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.errorCode(), "forbidden");
}

// A brand kit made through the routes supplies {{brand.music}}: the WAV of
// examples/matchday uploaded as an asset and named by the kit's "assets".
TEST_P(PreviewTest, BrandKitMusicIsTheVideosSoundTrack) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  HttpReply music = editor.post("/api/v1/assets?name=music.wav",
                                readText("examples/matchday/brand/music.wav"), "audio/wav");
  ASSERT_EQ(music.status, 201) << music.body;
  json kit_body = {{"name", "Music kit"},
                   {"colors", {{"primary", "#0B1D51"}}},
                   {"fonts", {{"display", {{"family", "Bebas Neue"}}}}},
                   {"assets", {{"music", music.json()["id"]}}}};
  HttpReply kit = editor.post("/api/v1/brand-kits", kit_body.dump());
  ASSERT_EQ(kit.status, 201) << kit.body;
  json card = json::parse(readText(kTemplate));
  card["audio"] = json::array({{{"kind", "audio"}, {"src", "{{brand.music}}"}, {"volume", 0.8}}});
  HttpReply saved =
      editor.post("/api/v1/templates", json{{"name", "Card with music"}, {"body", card}}.dump());
  ASSERT_EQ(saved.status, 201) << saved.body;
  HttpReply campaign = editor.post("/api/v1/campaigns", json{{"name", "Music"},
                                                             {"template_id", saved.json()["id"]},
                                                             {"brand_kit_id", kit.json()["id"]}}
                                                            .dump());
  ASSERT_EQ(campaign.status, 201) << campaign.body;
  std::string path = "/api/v1/campaigns/" + campaign.json()["id"].get<std::string>();
  HttpReply rows =
      editor.request("PUT", path + "/rows", "Home team,Away team\nArsenal,Chelsea\n", "text/csv");
  ASSERT_EQ(rows.status, 200) << rows.body;
  HttpReply mapped = editor.put(
      path + "/mapping", json{{"mapping", {{"home", "Home team"}, {"away", "Away team"}}}}.dump());
  ASSERT_EQ(mapped.status, 200) << mapped.body;

  HttpReply generated = editor.request("POST", path + "/generate", "{}", "application/json",
                                       {{"Idempotency-Key", "music"}});
  ASSERT_EQ(generated.status, 202) << generated.body;
  std::string batch = generated.json()["batch_id"];
  startWorker();
  json counts;
  ASSERT_TRUE(waitUntil(
      [&] {
        counts = editor.get("/api/v1/batches/" + batch).json()["counts"];
        return counts["completed"] == 1 || counts["failed"] == 1;
      },
      180s))
      << workerLogs();
  HttpReply video = editor.get("/api/v1/batches/" + batch + "/videos/1");

  EXPECT_EQ(music.json()["media_type"], "audio/wav");
  EXPECT_EQ(music.json()["width"], 0);
  ASSERT_EQ(counts["completed"], 1) << editor.get("/api/v1/batches/" + batch).body << workerLogs();
  ASSERT_EQ(video.status, 200);
  std::filesystem::path mp4 = logs_.file("music.mp4");
  std::ofstream(mp4, std::ios::binary) << video.body;
  Result<render::MediaInfo> probed = render::probeMedia(mp4);
  ASSERT_TRUE(probed.ok()) << probed.status().toString();
  ASSERT_TRUE(probed->audio.has_value());
  EXPECT_EQ(probed->audio->codec, "aac");
  // Every video has a sound track, so the music must be heard in it.
  Result<render::AudioBuffer> sound = render::decodeAudio(mp4, 0, 0);
  ASSERT_TRUE(sound.ok()) << sound.status().toString();
  float peak = 0;
  for (float sample : sound->samples) {
    peak = std::max(peak, std::abs(sample));
  }
  EXPECT_GT(peak, 0.05F);
}

TEST_P(PreviewTest, PreviewIsTheFrameOfTheVideo) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  std::string template_id = addTemplate("acme", kTemplate);
  std::string campaign = readyCampaign(editor, "acme", template_id);
  HttpReply generated = editor.request("POST", "/api/v1/campaigns/" + campaign + "/generate", "{}",
                                       "application/json", {{"Idempotency-Key", "preview-proof"}});
  ASSERT_EQ(generated.status, 202) << generated.body;
  std::string batch = generated.json()["batch_id"];
  startWorker();
  ASSERT_TRUE(waitUntil(
      [&] { return editor.get("/api/v1/batches/" + batch).json()["counts"]["completed"] == 3; },
      180s))
      << workerLogs();

  // Frame 2 (0.2 s) is inside the 0.3 s fade-in of the away team's name.
  constexpr int kFrame = 2;
  double time_s = static_cast<double>(kFrame) / kFps;
  HttpReply video = editor.get("/api/v1/batches/" + batch + "/videos/2");
  ASSERT_EQ(video.status, 200) << video.body;
  std::filesystem::path mp4 = logs_.file("002.mp4");
  std::ofstream(mp4, std::ios::binary) << video.body;
  auto preview = [&](int row) {
    return editor.post("/api/v1/previews", json{{"template_id", template_id},
                                                {"campaign_id", campaign},
                                                {"row", row},
                                                {"time_s", time_s}}
                                               .dump());
  };
  HttpReply row2 = preview(2);
  HttpReply row3 = preview(3);
  ASSERT_EQ(row2.status, 200) << row2.body << workerLogs();
  ASSERT_EQ(row3.status, 200) << row3.body << workerLogs();

  // The frame shown at the middle of frame kFrame's display time.
  Result<std::unique_ptr<render::VideoClip>> clip = render::VideoClip::open(mp4);
  ASSERT_TRUE(clip.ok()) << clip.status().toString();
  Result<render::RasterPtr> decoded = (*clip)->frameAt((kFrame + 0.5) / kFps, kWidth, kHeight);
  ASSERT_TRUE(decoded.ok()) << decoded.status().toString();
  double same = render::psnr(**decoded, decodePng(row2.body, "row2.png"));
  double other = render::psnr(**decoded, decodePng(row3.body, "row3.png"));
  std::printf("psnr frame=%d row2=%.2f dB row3=%.2f dB\n", kFrame, same, other);
  EXPECT_GE(same, kSameFrameMinPsnrDb);
  EXPECT_LT(other, kOtherRowMaxPsnrDb);
}

// The Match Day example made through the routes alone: its logo and crests
// uploaded as assets, a brand kit whose library "crests" maps the names of
// examples/matchday/brand/crests/index.json to them, and its template.
class MatchDayTest : public PreviewTest {
 protected:
  static inline const std::filesystem::path kMatchDay = "examples/matchday";
  static constexpr std::string_view kHeader = "competition,matchday,date,kickoff,home,away,venue\n";

  std::string uploadSvg(HttpClient& editor, const std::string& name,
                        const std::filesystem::path& path) {
    HttpReply asset = editor.post("/api/v1/assets?name=" + name, readText(path), "image/svg+xml");
    EXPECT_EQ(asset.status, 201) << name << ": " << asset.body;
    return asset.json().value("id", "");
  }

  std::string matchDayKit(HttpClient& editor) {
    json crests = json::object();
    json index = json::parse(readText(kMatchDay / "brand" / "crests" / "index.json"));
    for (const auto& [name, file] : index.items()) {
      std::string file_name = file.get<std::string>();
      crests[name] = uploadSvg(editor, file_name, kMatchDay / "brand" / "crests" / file_name);
    }
    json kit = {{"name", "Demo Sports"},
                {"handle", "@demosports"},
                {"colors", {{"primary", "#0B1D51"}, {"secondary", "#C8102E"}}},
                {"fonts",
                 {{"display", {{"family", "Bebas Neue"}}},
                  {"body", {{"family", "Inter"}, {"weight", 400}}}}},
                {"logo_asset_id", uploadSvg(editor, "logo.svg", kMatchDay / "brand" / "logo.svg")},
                {"libraries", {{"crests", crests}}}};
    HttpReply created = editor.post("/api/v1/brand-kits", kit.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    return created.json().value("id", "");
  }

  // A campaign of the Match Day template without its music, so that the kit
  // needs no sound file, with kit KIT and the CSV rows ROWS.
  std::string matchDayCampaign(HttpClient& editor, const std::string& kit,
                               const std::string& rows) {
    json body = json::parse(readText(kMatchDay / "template.json"));
    body.erase("audio");
    HttpReply saved =
        editor.post("/api/v1/templates", json{{"name", "Match Day"}, {"body", body}}.dump());
    EXPECT_EQ(saved.status, 201) << saved.body;
    HttpReply created = editor.post(
        "/api/v1/campaigns",
        json{{"name", "Matchday 1"}, {"template_id", saved.json()["id"]}, {"brand_kit_id", kit}}
            .dump());
    EXPECT_EQ(created.status, 201) << created.body;
    std::string id = created.json().value("id", "");
    HttpReply uploaded = editor.request("PUT", "/api/v1/campaigns/" + id + "/rows",
                                        std::string(kHeader) + rows, "text/csv");
    EXPECT_EQ(uploaded.status, 200) << uploaded.body;
    return id;
  }

  // Returns the share of the pixels in FRAME's box [X0, X1) x [Y0, Y1) that
  // differ from the background. The template's vertical gradient makes the
  // background the same along each line, so the pixel at x 1070 is the
  // reference of its line.
  static double shareNotBackground(const render::Raster& frame, int x0, int x1, int y0, int y1) {
    int differing = 0;
    for (int y = y0; y < y1; ++y) {
      const std::uint8_t* reference = frame.row(y) + 1070 * 4;
      for (int x = x0; x < x1; ++x) {
        const std::uint8_t* pixel = frame.row(y) + x * 4;
        bool differs = false;
        for (int channel = 0; channel < 3; ++channel) {
          differs = differs || std::abs(pixel[channel] - reference[channel]) > 24;
        }
        differing += differs ? 1 : 0;
      }
    }
    return static_cast<double>(differing) / ((x1 - x0) * (y1 - y0));
  }
};

TEST_P(MatchDayTest, CrestLibraryRendersVideoAndPreview) {
  HttpClient editor = signedIn("acme", "editor");
  ensureTenant("acme", 10);
  std::string kit = matchDayKit(editor);
  std::string campaign = matchDayCampaign(
      editor, kit, "English Premier League,1,2024-08-17,15:00,Arsenal FC,Chelsea FC,Emirates\n");
  startWorker();

  HttpReply generated = editor.request("POST", "/api/v1/campaigns/" + campaign + "/generate", "{}",
                                       "application/json", {{"Idempotency-Key", "matchday"}});
  ASSERT_EQ(generated.status, 202) << generated.body;
  std::string batch = generated.json()["batch_id"];
  json counts;
  ASSERT_TRUE(waitUntil(
      [&] {
        counts = editor.get("/api/v1/batches/" + batch).json()["counts"];
        return counts["completed"] == 1 || counts["failed"] == 1;
      },
      600s))
      << workerLogs();
  HttpReply video = editor.get("/api/v1/batches/" + batch + "/videos/1");
  // 3 s is one second into the fixture scene, after the names slide in.
  json campaign_row = {{"campaign_id", campaign}, {"row", 1}, {"time_s", 3.0}};
  campaign_row["template_id"] = editor.get("/api/v1/campaigns/" + campaign).json()["template_id"];
  HttpReply preview = editor.post("/api/v1/previews", campaign_row.dump());

  EXPECT_EQ(counts["completed"], 1) << counts.dump() << workerLogs();
  ASSERT_EQ(video.status, 200);
  EXPECT_EQ(video.body.substr(4, 4), "ftyp");
  ASSERT_EQ(preview.status, 200) << preview.body << workerLogs();
  render::Raster frame = decodePng(preview.body, "matchday.png");
  ASSERT_EQ(frame.width, 1080);
  ASSERT_EQ(frame.height, 1920);
  // The crests' boxes (x 90 to 450 and 630 to 990, y 420 to 852) show the
  // crests, and the gap between them only the background.
  double home = shareNotBackground(frame, 100, 430, 430, 840);
  double away = shareNotBackground(frame, 640, 980, 430, 840);
  double gap = shareNotBackground(frame, 460, 620, 430, 560);
  std::printf("crest pixels home=%.3f away=%.3f gap=%.3f\n", home, away, gap);
  EXPECT_GT(home, 0.2);
  EXPECT_GT(away, 0.2);
  EXPECT_LT(gap, 0.01);
}

TEST_P(MatchDayTest, PreviewErrorNamesCampaignRow) {
  HttpClient editor = signedIn("acme", "editor");
  std::string kit = matchDayKit(editor);
  std::string campaign =
      matchDayCampaign(editor, kit,
                       "English Premier League,1,2024-08-17,15:00,Arsenal FC,Chelsea FC,\n"
                       "English Premier League,1,2024-08-17,15:00,Atlantis United,Chelsea FC,\n");
  Result<templates::BrandKit> loaded =
      templates::loadBrandKit(storage_ / "acme" / "brand-kits" / kit, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  std::string closest = loaded->libraries.at("crests").closestName("Atlantis United");
  json body = {{"campaign_id", campaign}, {"row", 2}, {"time_s", 3.0}};
  body["template_id"] = editor.get("/api/v1/campaigns/" + campaign).json()["template_id"];
  startWorker();

  HttpReply reply = editor.post("/api/v1/previews", body.dump());

  EXPECT_EQ(reply.status, 422) << reply.body << workerLogs();
  EXPECT_EQ(reply.errorCode(), "preview_failed");
  // The campaign's row 2, not the row of the one-row file the worker binds,
  // and the library by its place in the tenant's storage.
  EXPECT_EQ(reply.json()["error"]["message"],
            "row 2: 1 error; first: row 2, column home: filter 'asset': 'Atlantis United' is not "
            "in library 'crests' (brand-kits/" +
                kit + "/libraries/crests.json); closest name: '" + closest + "'");
  EXPECT_EQ(reply.body.find(storage_.string()), std::string::npos) << reply.body;
}

TEST_P(MatchDayTest, PreflightNamesTheUnknownCrestsRow) {
  HttpClient editor = signedIn("acme", "editor");
  std::string kit = matchDayKit(editor);
  std::string campaign =
      matchDayCampaign(editor, kit,
                       "English Premier League,1,2024-08-16,20:00,Manchester United FC,Fulham FC,\n"
                       "English Premier League,1,2024-08-17,12:30,Ipswich Town FC,Liverpool FC,\n"
                       "English Premier League,1,2024-08-17,15:00,Atlantis United,Chelsea FC,\n"
                       "English Premier League,1,2024-08-17,15:00,Everton FC,Arsenal FC,\n");
  std::filesystem::path kit_dir = storage_ / "acme" / "brand-kits" / kit;
  Result<templates::BrandKit> loaded = templates::loadBrandKit(kit_dir, nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  std::string closest = loaded->libraries.at("crests").closestName("Atlantis United");
  startWorker();

  HttpReply reply = editor.post("/api/v1/campaigns/" + campaign + "/preflight", "");
  HttpClient rival = signedIn("rival", "owner");
  HttpReply theirs = rival.post("/api/v1/campaigns/" + campaign + "/preflight", "{}");

  ASSERT_EQ(reply.status, 200) << reply.body << workerLogs();
  json report = reply.json();
  EXPECT_EQ(report["rows"], 4);
  EXPECT_EQ(report["rows_with_errors"], 1);
  EXPECT_EQ(report["template_valid"], true);
  json errors = json::array();
  for (const json& problem : report["problems"]) {
    if (problem["severity"] == "error") {
      errors.push_back(problem);
    }
  }
  json expected = {{"severity", "error"},
                   {"row", 3},
                   {"place", "row 3, column home"},
                   {"message",
                    "filter 'asset': 'Atlantis United' is not in library 'crests' "
                    "(brand-kits/" +
                        kit + "/libraries/crests.json); closest name: '" + closest + "'"}};
  EXPECT_EQ(errors, json::array({expected})) << report.dump(1);
  EXPECT_EQ(theirs.status, 404) << theirs.body;
}

TEST_P(PreviewTest, PreflightNamesWhatTheCampaignLacks) {
  HttpClient editor = signedIn("acme", "editor");
  HttpReply created = editor.post("/api/v1/campaigns", json{{"name", "Empty"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  std::string template_id = addTemplate("acme", kTemplate);
  HttpReply viewer_reply =
      signedIn("acme", "viewer").post("/api/v1/campaigns/" + id + "/preflight", "{}");

  HttpReply empty = editor.post("/api/v1/campaigns/" + id + "/preflight", "{}");
  ASSERT_EQ(
      editor.patch("/api/v1/campaigns/" + id, json{{"template_id", template_id}}.dump()).status,
      200);
  HttpReply no_kit = editor.post("/api/v1/campaigns/" + id + "/preflight", "");

  std::string path = "/api/v1/campaigns/" + id;
  EXPECT_EQ(empty.status, 422);
  EXPECT_EQ(empty.errorCode(), "campaign_incomplete");
  EXPECT_EQ(empty.json()["error"]["message"],
            "campaign " + id +
                " has no template, no rows and no brand kit: set template_id with "
                "PATCH " +
                path + "; upload rows with PUT " + path +
                "/rows; set brand_kit_id with "
                "PATCH " +
                path);
  EXPECT_EQ(no_kit.status, 422);
  EXPECT_EQ(no_kit.json()["error"]["message"],
            "campaign " + id + " has no rows and no brand kit: upload rows with PUT " + path +
                "/rows; set brand_kit_id with PATCH " + path);
  EXPECT_EQ(viewer_reply.status, 403);
  EXPECT_EQ(redisCommand({"LLEN", broker::kPreviewQueueKey}), "0");
}

// A fixture whose API waits a short time for the workers.
class PreviewTimeoutTest : public PreviewTest {
 protected:
  void SetUp() override {
    preview_timeout_ = 700ms;
    ApiStackTest::SetUp();
  }
};

TEST_P(PreviewTimeoutTest, NoWorkerTimesOut) {
  HttpClient editor = signedIn("acme", "editor");
  std::string template_id = addTemplate("acme", kTemplate);

  auto started = std::chrono::steady_clock::now();
  HttpReply reply = editor.post(
      "/api/v1/previews",
      json{{"template_id", template_id}, {"values", {{"home", "A"}, {"away", "B"}}}}.dump());
  auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_EQ(reply.status, 504) << reply.body;
  EXPECT_EQ(reply.errorCode(), "preview_timeout");
  EXPECT_NE(reply.body.find("no worker answered within 700 ms"), std::string::npos) << reply.body;
  EXPECT_GE(elapsed, 700ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(redisCommand({"LLEN", broker::kPreviewQueueKey}), "0");
}

// A fixture whose API waits a short time for a preflight.
class PreflightTimeoutTest : public PreviewTest {
 protected:
  void SetUp() override {
    preflight_timeout_ = 700ms;
    ApiStackTest::SetUp();
  }
};

TEST_P(PreflightTimeoutTest, NoWorkerTimesOut) {
  HttpClient editor = signedIn("acme", "editor");
  std::string campaign = readyCampaign(editor, "acme");

  auto started = std::chrono::steady_clock::now();
  HttpReply reply = editor.post("/api/v1/campaigns/" + campaign + "/preflight", "{}");
  auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_EQ(reply.status, 504) << reply.body;
  EXPECT_EQ(reply.errorCode(), "preflight_timeout");
  EXPECT_EQ(reply.json()["error"]["message"],
            "no worker answered within 700 ms; check that a worker runs");
  EXPECT_GE(elapsed, 700ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(redisCommand({"LLEN", broker::kPreviewQueueKey}), "0");
}

// Pushes a request straight onto the preview queue, as a client other than
// the API could, and returns the worker's reply.
class WorkerPreviewTest : public PreviewTest {
 protected:
  json ask(broker::PreviewRequest request) {
    request.reply_key = broker::previewReplyKey(request.id);
    redisCommand({"RPUSH", broker::kPreviewQueueKey, broker::previewRequestJson(request)});
    EXPECT_TRUE(waitUntil(
        [&] {
          return redisCommand({"EXISTS", request.reply_key}) == "1";
        },
        60s))
        << workerLogs();
    std::string ttl = redisCommand({"TTL", request.reply_key});
    EXPECT_GT(std::stoi(ttl), 0);
    EXPECT_LE(std::stoi(ttl), 60);
    return json::parse(redisCommand({"LPOP", request.reply_key}), nullptr, false);
  }
};

TEST_P(WorkerPreviewTest, PathsOutsideTheTenantsStorageAreRejected) {
  std::string template_id = addTemplate("acme", kTemplate);
  std::string kit = addBrandKit("acme", kBrand);
  addTemplate("rival", kTemplate);
  std::filesystem::path acme = storage_ / "acme";
  std::filesystem::path template_path = acme / "templates" / template_id / "v1.json";
  broker::PreviewRequest request{.id = "pv-outside",
                                 .tenant = "acme",
                                 .template_path = template_path.string(),
                                 .brand_dir = (acme / "brand-kits" / kit).string(),
                                 .row_json = R"({"home":"A","away":"B"})",
                                 .data_source = (acme / "values.json").string(),
                                 .out_path = (logs_.path() / "outside.png").string()};
  startWorker();

  json outside = ask(request);
  request.id = "pv-dotdot";
  request.out_path = (acme / "previews" / "x.png").string();
  request.template_path = (acme / ".." / "rival" / "templates").string();
  json dotdot = ask(request);
  request.id = "pv-inside";
  request.template_path = template_path.string();
  json inside = ask(request);

  EXPECT_EQ(outside["ok"], false) << outside.dump();
  EXPECT_EQ(outside["code"], "invalid_argument");
  EXPECT_EQ(outside["error"], "preview out_path: '" + (logs_.path() / "outside.png").string() +
                                  "' is not inside the tenant's storage folder " +
                                  std::filesystem::canonical(acme).string());
  EXPECT_FALSE(std::filesystem::exists(logs_.path() / "outside.png"));
  EXPECT_EQ(dotdot["ok"], false) << dotdot.dump();
  EXPECT_EQ(dotdot["code"], "invalid_argument");
  EXPECT_NE(dotdot["error"].get<std::string>().find("preview template_path"), std::string::npos);
  EXPECT_EQ(inside, json({{"ok", true}})) << workerLogs();
  EXPECT_TRUE(std::filesystem::is_regular_file(acme / "previews" / "x.png"));
}

TEST_P(WorkerPreviewTest, BadIdsAndUnreadableRequestsAreNotRendered) {
  std::string template_id = addTemplate("acme", kTemplate);
  std::filesystem::path acme = storage_ / "acme";
  broker::PreviewRequest request{
      .id = "pv-bad-key",
      .tenant = "acme",
      .template_path = (acme / "templates" / template_id / "v1.json").string(),
      .row_json = R"({"home":"A","away":"B"})",
      .data_source = (acme / "values.json").string(),
      .out_path = (acme / "previews" / "y.png").string(),
      .reply_key = "elsewhere:pv-bad-key"};
  redisCommand({"RPUSH", broker::kPreviewQueueKey, "not json"});
  redisCommand({"RPUSH", broker::kPreviewQueueKey, broker::previewRequestJson(request)});
  startWorker();

  request.id = "../escape";
  json escaped = ask(request);

  EXPECT_EQ(escaped["ok"], false) << escaped.dump();
  EXPECT_EQ(escaped["code"], "invalid_argument");
  EXPECT_EQ(escaped["error"],
            "preview id '../escape': expected 1 to 64 letters, digits, '-' or '_'");
  // The two requests before it were read and dropped, with nothing sent.
  EXPECT_EQ(redisCommand({"LLEN", broker::kPreviewQueueKey}), "0");
  EXPECT_EQ(redisCommand({"EXISTS", "elsewhere:pv-bad-key"}), "0");
  EXPECT_EQ(countOf(workerLogs(), "preview request dropped"), 2) << workerLogs();
  EXPECT_FALSE(std::filesystem::exists(acme / "previews" / "y.png"));
}

// The worker's render function on its own: the checks it makes before it
// draws anything.
TEST(RenderBatchFrameTest, RejectsRowCountsAndTimes) {
  render::BatchRequest request;
  request.template_path = kTemplate;
  request.data_path = "tests/testdata/api/fixtures.csv";
  request.brand_dir = kBrand;
  request.mapping.field_to_column = {{"home", "Home team"}, {"away", "Away team"}};
  auto message = [&](std::vector<int> rows, double time_s) {
    request.rows = std::move(rows);
    Result<render::FrameOutput> frame = render::renderBatchFrame(request, time_s);
    EXPECT_FALSE(frame.ok());
    return frame.ok() ? std::string() : frame.status().message();
  };

  std::string no_row = message({}, 0);
  std::string two_rows = message({1, 2}, 0);
  std::string not_a_time = message({1}, std::nan(""));
  std::string at_end = message({1}, 1.0);
  std::string missing_row = message({4}, 0);
  request.rows = {1};
  Result<render::FrameOutput> frame = render::renderBatchFrame(request, 0.5);

  EXPECT_EQ(no_row, "a frame is rendered from one row, but 0 rows were given");
  EXPECT_EQ(two_rows, "a frame is rendered from one row, but 2 rows were given");
  EXPECT_EQ(not_a_time, "time nan: expected a finite number of seconds, such as 1.5");
  EXPECT_EQ(at_end,
            "time 1 s is outside the video, which lasts 1 s; give a time from 0 to less than 1");
  EXPECT_NE(missing_row.find("row 4 does not exist; the file has 3 rows"), std::string::npos)
      << missing_row;
  ASSERT_TRUE(frame.ok()) << frame.status().toString();
  EXPECT_EQ(frame->frame.width, kWidth);
  EXPECT_EQ(frame->frame.height, kHeight);
}

INSTANTIATE_TEST_SUITE_P(Backends, PreviewTest, kBackends, backendName);
INSTANTIATE_TEST_SUITE_P(Backends, PreviewTimeoutTest, kBackends, backendName);
INSTANTIATE_TEST_SUITE_P(Backends, PreflightTimeoutTest, kBackends, backendName);
INSTANTIATE_TEST_SUITE_P(Backends, MatchDayTest, kBackends, backendName);
INSTANTIATE_TEST_SUITE_P(Backends, WorkerPreviewTest, kBackends, backendName);

}  // namespace
}  // namespace smmhub::testing
