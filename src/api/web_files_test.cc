// The admin UI's files and file responses as a browser gets them from a
// real server on loopback: types, caching, the single-page fallback, gzip,
// validators and byte ranges.
#include "api/web_files.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "api/router.h"
#include "api/server.h"
#include "metrics/registry.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace smmhub::api {
namespace {

using testing::HttpClient;
using testing::HttpReply;

class WebFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("dist/index.html", "<!doctype html><title>smmhub</title>");
    dir_.write("dist/assets/index-abc123.js", "console.log('app');");
    dir_.write("dist/assets/index-abc123.js.gz", "gzipped bytes");
    dir_.write("dist/assets/style-def456.css", "body{}");
    dir_.write("dist/favicon.svg", "<svg/>");
    dir_.write("secret.txt", "outside the web root");
    video_ = dir_.write("video.mp4", "0123456789");

    router_.add("GET", "/api/v1/video", [this](const Request&) {
      return Response{.content_type = "video/mp4", .file = video_};
    });
    Result<Handler> files = webFiles(dir_.file("dist"));
    ASSERT_TRUE(files.ok()) << files.status().toString();
    router_.setFallback(*std::move(files));
    Result<std::unique_ptr<Server>> server =
        Server::start({.listen = "127.0.0.1:0", .router = &router_, .registry = &registry_});
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(*server);
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  HttpReply get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    HttpClient client("127.0.0.1", server_->port());
    return client.request("GET", target, "", "application/json", headers);
  }

  smmhub::testing::TempDir dir_;
  std::filesystem::path video_;
  Router router_;
  metrics::Registry registry_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebFilesTest, RootAndAppPathsAnswerTheIndexPage) {
  for (const char* path : {"/", "/index.html", "/campaigns/c-1", "/templates/new?x=1"}) {
    HttpReply reply = get(path);

    EXPECT_EQ(reply.status, 200) << path;
    EXPECT_EQ(reply.body, "<!doctype html><title>smmhub</title>") << path;
    EXPECT_EQ(reply.header("content-type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(reply.header("cache-control"), "no-cache") << path;
    EXPECT_NE(reply.header("content-security-policy").find("script-src 'self'"), std::string::npos);
  }
}

TEST_F(WebFilesTest, HashedAssetsAreCachedForAYear) {
  HttpReply script = get("/assets/index-abc123.js");
  HttpReply style = get("/assets/style-def456.css");
  HttpReply icon = get("/favicon.svg");

  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.body, "console.log('app');");
  EXPECT_EQ(script.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(style.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(icon.header("content-type"), "image/svg+xml");
  EXPECT_EQ(icon.header("cache-control"), "no-cache");
}

TEST_F(WebFilesTest, GzipCopyGoesToClientsThatAcceptIt) {
  HttpReply gzip = get("/assets/index-abc123.js", {{"Accept-Encoding", "gzip, br"}});
  HttpReply plain = get("/assets/style-def456.css", {{"Accept-Encoding", "gzip"}});

  EXPECT_EQ(gzip.body, "gzipped bytes");
  EXPECT_EQ(gzip.header("content-encoding"), "gzip");
  EXPECT_EQ(gzip.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.body, "body{}");
  EXPECT_EQ(plain.header("content-encoding"), "");
}

TEST_F(WebFilesTest, MissingFilesAndApiPathsAreNotFound) {
  HttpReply asset = get("/assets/gone-000.js");
  HttpReply dotted = get("/robots.txt");
  HttpReply api = get("/api/v1/nothing");

  EXPECT_EQ(asset.status, 404);
  EXPECT_EQ(asset.errorCode(), "not_found");
  EXPECT_EQ(dotted.status, 404);
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.json()["error"]["message"], "no route for path /api/v1/nothing");
}

TEST_F(WebFilesTest, PathsNeverLeaveTheRoot) {
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                           "/assets/..%2f..%2fsecret.txt", "/assets%5c..%5c..%5csecret.txt"}) {
    HttpReply reply = get(path);

    EXPECT_NE(reply.body, "outside the web root") << path;
    EXPECT_EQ(reply.status, 404) << path;
  }
}

TEST_F(WebFilesTest, OtherMethodsOfUnknownPathsAreNotFound) {
  HttpClient client("127.0.0.1", server_->port());

  EXPECT_EQ(client.post("/campaigns", "{}").status, 404);
}

TEST_F(WebFilesTest, RangesAnswerPartialContent) {
  HttpReply first = get("/api/v1/video", {{"Range", "bytes=0-3"}});
  HttpReply rest = get("/api/v1/video", {{"Range", "bytes=6-"}});
  HttpReply last = get("/api/v1/video", {{"Range", "bytes=-2"}});

  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.body, "0123");
  EXPECT_EQ(first.header("content-range"), "bytes 0-3/10");
  EXPECT_EQ(first.header("content-length"), "4");
  EXPECT_EQ(first.header("content-type"), "video/mp4");
  EXPECT_EQ(rest.body, "6789");
  EXPECT_EQ(rest.header("content-range"), "bytes 6-9/10");
  EXPECT_EQ(last.body, "89");
}

TEST_F(WebFilesTest, WholeFileAdvertisesRanges) {
  HttpReply whole = get("/api/v1/video");
  HttpReply several = get("/api/v1/video", {{"Range", "bytes=0-1,4-5"}});

  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, "0123456789");
  EXPECT_EQ(whole.header("accept-ranges"), "bytes");
  EXPECT_FALSE(whole.header("etag").empty());
  EXPECT_EQ(several.status, 200);
  EXPECT_EQ(several.body, "0123456789");
}

TEST_F(WebFilesTest, RangePastTheEndIsUnsatisfiable) {
  HttpReply reply = get("/api/v1/video", {{"Range", "bytes=10-"}});

  EXPECT_EQ(reply.status, 416);
  EXPECT_EQ(reply.errorCode(), "range_not_satisfiable");
  EXPECT_EQ(reply.header("content-range"), "bytes */10");
}

TEST_F(WebFilesTest, ValidatorsAnswerNotModifiedAndGuardRanges) {
  std::string tag = get("/api/v1/video").header("etag");

  HttpReply unchanged = get("/api/v1/video", {{"If-None-Match", tag}});
  HttpReply same_version = get("/api/v1/video", {{"Range", "bytes=0-1"}, {"If-Range", tag}});
  HttpReply other_version =
      get("/api/v1/video", {{"Range", "bytes=0-1"}, {"If-Range", "\"older\""}});

  EXPECT_EQ(unchanged.status, 304);
  EXPECT_EQ(unchanged.body, "");
  EXPECT_EQ(unchanged.header("etag"), tag);
  EXPECT_EQ(same_version.status, 206);
  EXPECT_EQ(same_version.body, "01");
  EXPECT_EQ(other_version.status, 200);
  EXPECT_EQ(other_version.body, "0123456789");
}

TEST(WebFilesRootTest, FolderWithoutIndexIsRefused) {
  smmhub::testing::TempDir dir;

  Result<Handler> files = webFiles(dir.path());

  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().message(),
            "web root " + dir.path().string() +
                " has no index.html; build the admin UI with scripts/setup");
}

}  // namespace
}  // namespace smmhub::api
