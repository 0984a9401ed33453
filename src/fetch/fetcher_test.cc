// Fetcher against a real HTTP server on 127.0.0.1 that each test starts.
// Tests that need the server reachable allow 127.0.0.1/32 and http; the
// rejection tests use the default options.
#include "fetch/fetcher.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/loopback_http_server.h"
#include "testing/temp_dir.h"

namespace smmhub::fetch {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using smmhub::testing::HttpConnection;
using smmhub::testing::HttpRequest;
using smmhub::testing::httpResponse;
using smmhub::testing::LoopbackHttpServer;
using smmhub::testing::TempDir;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Serves BODY with ETAG to every request.
LoopbackHttpServer::Handler serveBody(std::string body, std::string etag = "") {
  return [body = std::move(body), etag = std::move(etag)](const HttpRequest&,
                                                          HttpConnection& connection) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!etag.empty()) {
      headers.emplace_back("ETag", etag);
    }
    connection.send(httpResponse(200, headers, body));
  };
}

class FetcherTest : public ::testing::Test {
 protected:
  // Options that reach the test's server: http, and 127.0.0.1 allowed.
  FetchOptions loopbackOptions() const {
    FetchOptions options;
    options.cache_dir = dir_.file("cache");
    options.allow_http = true;
    options.allow = {"127.0.0.1/32"};
    return options;
  }

  std::unique_ptr<Fetcher> makeFetcher(const FetchOptions& options) {
    Result<std::unique_ptr<Fetcher>> fetcher = Fetcher::create(options);
    EXPECT_TRUE(fetcher.ok()) << fetcher.status().toString();
    return fetcher.ok() ? std::move(*fetcher) : nullptr;
  }

  TempDir dir_;
};

TEST_F(FetcherTest, DownloadsIntoCache) {
  LoopbackHttpServer server(serveBody("<svg>crest</svg>", "\"v1\""));
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);
  std::string url = server.url("/crests/arsenal.SVG?size=large");

  Result<Fetched> fetched = fetcher->fetch(url);

  ASSERT_TRUE(fetched.ok()) << fetched.status().toString();
  EXPECT_EQ(fetched->source, FetchSource::kDownloaded);
  EXPECT_EQ(fetched->bytes, 16u);
  EXPECT_EQ(fetched->redirects, 0);
  EXPECT_EQ(readFile(fetched->path), "<svg>crest</svg>");
  std::string key = sha256Hex(url);
  EXPECT_EQ(fetched->path.parent_path(), dir_.file("cache") / key.substr(0, 2));
  EXPECT_TRUE(fetched->path.filename().string().starts_with(key + "."));
  EXPECT_EQ(fetched->path.extension(), ".svg");
  nlohmann::json metadata =
      nlohmann::json::parse(readFile(fetched->path.parent_path() / (key + ".json")));
  EXPECT_EQ(metadata["url"], url);
  EXPECT_EQ(metadata["etag"], "\"v1\"");
  EXPECT_EQ(metadata["body"], fetched->path.filename().string());
  EXPECT_EQ(metadata["bytes"], 16);
  EXPECT_EQ(metadata["fetched_at_ms"], metadata["checked_at_ms"]);
  std::vector<HttpRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/crests/arsenal.SVG?size=large");
  EXPECT_EQ(requests[0].header("user-agent"), "smmhub-fetch");
  EXPECT_EQ(requests[0].header("if-none-match"), "");
}

TEST_F(FetcherTest, CachedUrlReusedWithoutRequest) {
  LoopbackHttpServer server(serveBody("crest", "\"v1\""));
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> first = fetcher->fetch(server.url("/crest.png"));
  Result<Fetched> second = fetcher->fetch(server.url("/crest.png"));

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(second->source, FetchSource::kCached);
  EXPECT_EQ(second->path, first->path);
  EXPECT_EQ(second->bytes, 5u);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(FetcherTest, CacheSharedBetweenFetchers) {
  LoopbackHttpServer server(serveBody("crest", "\"v1\""));
  ASSERT_TRUE(server.started());
  auto first = makeFetcher(loopbackOptions());
  auto second = makeFetcher(loopbackOptions());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  Result<Fetched> downloaded = first->fetch(server.url("/crest.png"));
  Result<Fetched> cached = second->fetch(server.url("/crest.png"));

  ASSERT_TRUE(downloaded.ok()) << downloaded.status().toString();
  ASSERT_TRUE(cached.ok()) << cached.status().toString();
  EXPECT_EQ(cached->source, FetchSource::kCached);
  EXPECT_EQ(cached->path, downloaded->path);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(FetcherTest, EtagRevalidationReusesBodyOn304) {
  LoopbackHttpServer server([](const HttpRequest& request, HttpConnection& connection) {
    if (request.header("if-none-match") == "\"v1\"") {
      connection.send("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n");
      return;
    }
    connection.send(httpResponse(200, {{"ETag", "\"v1\""}}, "crest v1"));
  });
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.revalidate_after = 0s;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> first = fetcher->fetch(server.url("/crest.png"));
  Result<Fetched> second = fetcher->fetch(server.url("/crest.png"));

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(first->source, FetchSource::kDownloaded);
  EXPECT_EQ(second->source, FetchSource::kRevalidated);
  EXPECT_EQ(second->path, first->path);
  EXPECT_EQ(readFile(second->path), "crest v1");
  std::vector<HttpRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].header("if-none-match"), "\"v1\"");
  EXPECT_EQ(requests[1].header("if-modified-since"), "");
}

TEST_F(FetcherTest, LastModifiedRevalidationSendsIfModifiedSince) {
  const std::string stamp = "Sat, 17 Aug 2024 12:00:00 GMT";
  LoopbackHttpServer server([&](const HttpRequest& request, HttpConnection& connection) {
    if (request.header("if-modified-since") == stamp) {
      connection.send("HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
      return;
    }
    connection.send(httpResponse(200, {{"Last-Modified", stamp}}, "crest"));
  });
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.revalidate_after = 0s;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> first = fetcher->fetch(server.url("/crest.png"));
  Result<Fetched> second = fetcher->fetch(server.url("/crest.png"));

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(second->source, FetchSource::kRevalidated);
  EXPECT_EQ(second->path, first->path);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].header("if-none-match"), "");
}

TEST_F(FetcherTest, ChangedBodyReplacesEntryAndKeepsOldFile) {
  std::atomic<int> version = 1;
  LoopbackHttpServer server([&](const HttpRequest&, HttpConnection& connection) {
    std::string tag = "\"v" + std::to_string(version.load()) + "\"";
    connection.send(httpResponse(200, {{"ETag", tag}}, "crest " + tag));
  });
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.revalidate_after = 0s;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> first = fetcher->fetch(server.url("/crest.png"));
  version = 2;
  Result<Fetched> second = fetcher->fetch(server.url("/crest.png"));

  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_EQ(second->source, FetchSource::kDownloaded);
  EXPECT_NE(second->path, first->path);
  EXPECT_EQ(readFile(second->path), "crest \"v2\"");
  // A job that read the first entry can still open its body.
  EXPECT_EQ(readFile(first->path), "crest \"v1\"");
  EXPECT_EQ(server.requests()[1].header("if-none-match"), "\"v1\"");
}

TEST_F(FetcherTest, StaleFilesRemovedAfterAnHour) {
  std::atomic<int> version = 1;
  LoopbackHttpServer server([&](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(200, {}, "crest v" + std::to_string(version.load())));
  });
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.revalidate_after = 0s;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);
  std::string url = server.url("/crest.png");
  std::string key = sha256Hex(url);
  fs::path folder = dir_.file("cache") / key.substr(0, 2);
  auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);

  Result<Fetched> first = fetcher->fetch(url);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  version = 2;
  Result<Fetched> second = fetcher->fetch(url);
  ASSERT_TRUE(second.ok()) << second.status().toString();
  // The first body was replaced two hours ago, and a process that died
  // left a temporary file. A fresh temporary file belongs to a live writer.
  fs::last_write_time(first->path, two_hours_ago);
  fs::path old_temp = folder / (key + ".a1b2c3.tmp");
  fs::path new_temp = folder / (key + ".d4e5f6.tmp");
  std::ofstream(old_temp) << "partial";
  std::ofstream(new_temp) << "partial";
  fs::last_write_time(old_temp, two_hours_ago);
  version = 3;
  Result<Fetched> third = fetcher->fetch(url);

  ASSERT_TRUE(third.ok()) << third.status().toString();
  EXPECT_EQ(readFile(third->path), "crest v3");
  EXPECT_FALSE(fs::exists(first->path));
  EXPECT_FALSE(fs::exists(old_temp));
  EXPECT_TRUE(fs::exists(second->path));
  EXPECT_TRUE(fs::exists(new_temp));
}

TEST_F(FetcherTest, DamagedEntryDownloadedAgain) {
  LoopbackHttpServer server(serveBody("crest", "\"v1\""));
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);
  std::string url = server.url("/crest.png");
  std::string key = sha256Hex(url);

  Result<Fetched> first = fetcher->fetch(url);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  std::ofstream(first->path.parent_path() / (key + ".json")) << "{not json";
  Result<Fetched> after_bad_metadata = fetcher->fetch(url);
  ASSERT_TRUE(after_bad_metadata.ok()) << after_bad_metadata.status().toString();
  std::ofstream(after_bad_metadata->path) << "cre";
  Result<Fetched> after_short_body = fetcher->fetch(url);

  ASSERT_TRUE(after_short_body.ok()) << after_short_body.status().toString();
  EXPECT_EQ(after_bad_metadata->source, FetchSource::kDownloaded);
  EXPECT_EQ(after_short_body->source, FetchSource::kDownloaded);
  EXPECT_EQ(readFile(after_short_body->path), "crest");
  EXPECT_EQ(server.connections(), 3);
  // Neither damaged entry was revalidated with its ETag.
  EXPECT_EQ(server.requests()[1].header("if-none-match"), "");
  EXPECT_EQ(server.requests()[2].header("if-none-match"), "");
}

TEST_F(FetcherTest, ConcurrentFetchesLeaveWholeFiles) {
  const std::string body(200'000, 'c');
  LoopbackHttpServer server(serveBody(body));
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.revalidate_after = 0s;
  auto first = makeFetcher(options);
  auto second = makeFetcher(options);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  std::atomic<int> whole = 0;
  auto fetchMany = [&](Fetcher& fetcher) {
    for (int i = 0; i < 8; ++i) {
      Result<Fetched> fetched = fetcher.fetch(server.url("/big.png"));
      if (fetched.ok() && readFile(fetched->path) == body) {
        whole++;
      }
    }
  };

  std::thread one([&] { fetchMany(*first); });
  std::thread two([&] { fetchMany(*second); });
  one.join();
  two.join();

  EXPECT_EQ(whole.load(), 16);
  std::string key = sha256Hex(server.url("/big.png"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.file("cache") / key.substr(0, 2))) {
    names.push_back(entry.path().filename().string());
  }
  // The metadata and one body, the same bytes every time; no temporary file.
  EXPECT_EQ(names.size(), 2u);
  for (const std::string& name : names) {
    EXPECT_FALSE(name.ends_with(".tmp")) << name;
  }
}

TEST_F(FetcherTest, DeclaredLengthOverLimitRejected) {
  LoopbackHttpServer server(serveBody(std::string(5000, 'x')));
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.max_bytes = 1000;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);
  std::string url = server.url("/big.png");

  Result<Fetched> fetched = fetcher->fetch(url);

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(
      fetched.status().message(),
      "fetching " + url + " stopped: the body is over the limit of 1000 bytes (--fetch-max-bytes)");
}

TEST_F(FetcherTest, UndeclaredLengthStoppedAtLimit) {
  // No Content-Length: the body ends when the connection closes, which the
  // server delays for 5 s after the 1001st byte. Only a stop at the
  // 1001st byte returns the size error; waiting for the end would return a
  // timeout after 10 s.
  LoopbackHttpServer server([](const HttpRequest&, HttpConnection& connection) {
    connection.send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    connection.send(std::string(1001, 'x'));
    connection.pause(5s);
  });
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.max_bytes = 1000;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(server.url("/endless.png"));

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kResourceExhausted) << fetched.status().toString();
}

TEST_F(FetcherTest, BodyAtLimitAccepted) {
  LoopbackHttpServer server(serveBody(std::string(1000, 'x')));
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.max_bytes = 1000;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(server.url("/exact.png"));

  ASSERT_TRUE(fetched.ok()) << fetched.status().toString();
  EXPECT_EQ(fetched->bytes, 1000u);
}

TEST_F(FetcherTest, SlowBodyTimesOut) {
  LoopbackHttpServer server([](const HttpRequest&, HttpConnection& connection) {
    connection.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n");
    for (int i = 0; i < 100 && connection.send("x"); ++i) {
      if (!connection.pause(100ms)) {
        return;
      }
    }
  });
  ASSERT_TRUE(server.started());
  FetchOptions options = loopbackOptions();
  options.timeout = 300ms;
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);
  std::string url = server.url("/slow.png");

  Result<Fetched> fetched = fetcher->fetch(url);

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(fetched.status().message().starts_with("fetching " + url + " timed out: "))
      << fetched.status().message();
  EXPECT_TRUE(fetched.status().message().ends_with(
      "; the limit is 300 ms for the whole fetch (--fetch-timeout-ms)"))
      << fetched.status().message();
}

TEST_F(FetcherTest, RedirectsFollowedHopByHop) {
  LoopbackHttpServer server([](const HttpRequest& request, HttpConnection& connection) {
    if (request.target == "/a") {
      connection.send(httpResponse(302, {{"Location", "/b"}}, ""));
    } else if (request.target == "/b") {
      connection.send(httpResponse(301, {{"Location", "c.png"}}, "moved"));
    } else {
      connection.send(httpResponse(200, {}, "crest"));
    }
  });
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(server.url("/a"));

  ASSERT_TRUE(fetched.ok()) << fetched.status().toString();
  EXPECT_EQ(fetched->redirects, 2);
  EXPECT_EQ(readFile(fetched->path), "crest");
  std::vector<HttpRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/a");
  EXPECT_EQ(requests[1].target, "/b");
  EXPECT_EQ(requests[2].target, "/c.png");
}

TEST_F(FetcherTest, RedirectLimitEnforced) {
  LoopbackHttpServer server([](const HttpRequest& request, HttpConnection& connection) {
    int hop = std::stoi(request.target.substr(2));
    connection.send(httpResponse(302, {{"Location", "/r" + std::to_string(hop + 1)}}, ""));
  });
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(server.url("/r0"));

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fetched.status().message(), "fetching " + server.url("/r0") +
                                            " failed: more than 5 redirects; the last one "
                                            "pointed to " +
                                            server.url("/r6"));
  EXPECT_EQ(server.requests().size(), 6u);
}

TEST_F(FetcherTest, RedirectToRejectedAddressNotConnected) {
  // Only the first hop's address is allowed; the second hop is another
  // loopback address, where a listener counts connections.
  LoopbackHttpServer inner(serveBody("secret"), "127.0.0.2");
  ASSERT_TRUE(inner.started());
  std::string target = inner.url("/latest/meta-data/");
  LoopbackHttpServer outer([&](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(302, {{"Location", target}}, ""));
  });
  ASSERT_TRUE(outer.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(outer.url("/crest.png"));

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fetched.status().message(),
            "cannot fetch " + target + " (redirected from " + outer.url("/crest.png") +
                "): host 127.0.0.2 resolved to an address that is not allowed: 127.0.0.2 is a "
                "loopback address (127.0.0.0/8); if the deployment trusts it, allow it with "
                "--fetch-allow 127.0.0.2/32");
  EXPECT_EQ(outer.connections(), 1);
  EXPECT_EQ(inner.connections(), 0);
}

TEST_F(FetcherTest, RedirectToOtherSchemeRejected) {
  LoopbackHttpServer server([](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(302, {{"Location", "file:///etc/passwd"}}, ""));
  });
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(server.url("/crest.png"));

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fetched.status().message(), "cannot fetch file:///etc/passwd (redirected from " +
                                            server.url("/crest.png") +
                                            "): scheme 'file' is not fetched; use an https URL");
}

TEST_F(FetcherTest, RedirectWithoutLocationRejected) {
  LoopbackHttpServer server([](const HttpRequest&, HttpConnection& connection) {
    connection.send(httpResponse(302, {}, ""));
  });
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(server.url("/crest.png"));

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fetched.status().message(), "fetching " + server.url("/crest.png") +
                                            " failed: the server replied HTTP 302 without a "
                                            "Location header");
}

TEST_F(FetcherTest, HttpErrorStatusNamed) {
  LoopbackHttpServer server([](const HttpRequest& request, HttpConnection& connection) {
    int status = std::stoi(request.target.substr(1));
    connection.send(httpResponse(status, {}, "error page"));
  });
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);
  struct Case {
    int status;
    StatusCode code;
    std::string suffix;
  };
  const Case cases[] = {
      {404, StatusCode::kNotFound, "; check the URL"},
      {410, StatusCode::kNotFound, "; check the URL"},
      {403, StatusCode::kFailedPrecondition, ", expected 200"},
      {204, StatusCode::kFailedPrecondition, ", expected 200"},
      {503, StatusCode::kUnavailable, ""},
  };

  for (const Case& item : cases) {
    std::string url = server.url("/" + std::to_string(item.status));
    Result<Fetched> fetched = fetcher->fetch(url);

    ASSERT_FALSE(fetched.ok()) << item.status;
    EXPECT_EQ(fetched.status().code(), item.code) << item.status;
    EXPECT_EQ(fetched.status().message(), "fetching " + url + " failed: the server replied HTTP " +
                                              std::to_string(item.status) + item.suffix);
  }
  // An error leaves nothing in the cache.
  for (const auto& entry : fs::recursive_directory_iterator(dir_.file("cache"))) {
    EXPECT_TRUE(entry.is_directory()) << entry.path();
  }
}

TEST_F(FetcherTest, TlsFailureNamed) {
  // The server speaks plain HTTP, so the TLS handshake fails.
  LoopbackHttpServer server(serveBody("crest"));
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);
  std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/crest.png";

  Result<Fetched> fetched = fetcher->fetch(url);

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(fetched.status().message().starts_with(
      "fetching " + url + " failed: the TLS handshake with 127.0.0.1 failed: "))
      << fetched.status().message();
}

TEST_F(FetcherTest, BadUrlsNamed) {
  auto fetcher = makeFetcher(loopbackOptions());
  ASSERT_NE(fetcher, nullptr);
  struct Case {
    std::string url;
    std::string message;
  };
  const Case cases[] = {
      {"crests/arsenal.png", "invalid URL 'crests/arsenal.png': "},
      {"https://", "invalid URL 'https://': "},
      {"https://cdn.example.invalid/a b.png",
       "invalid URL 'https://cdn.example.invalid/a b.png': it contains a space or a control "
       "character; percent-encode it"},
      {"ftp://127.0.0.1/crest.png",
       "cannot fetch ftp://127.0.0.1/crest.png: scheme 'ftp' is not fetched; use an https "
       "URL"},
      {"file:///etc/passwd",
       "cannot fetch file:///etc/passwd: scheme 'file' is not fetched; use an https URL"},
  };

  for (const Case& item : cases) {
    Result<Fetched> fetched = fetcher->fetch(item.url);

    ASSERT_FALSE(fetched.ok()) << item.url;
    EXPECT_EQ(fetched.status().code(), StatusCode::kInvalidArgument) << item.url;
    EXPECT_TRUE(fetched.status().message().starts_with(item.message)) << fetched.status().message();
  }
}

TEST_F(FetcherTest, CreateRejectsBadOptions) {
  FetchOptions bad_range = loopbackOptions();
  bad_range.allow = {"127.0.0.1/40"};
  FetchOptions no_bytes = loopbackOptions();
  no_bytes.max_bytes = 0;
  FetchOptions no_time = loopbackOptions();
  no_time.timeout = 0ms;

  Result<std::unique_ptr<Fetcher>> range = Fetcher::create(bad_range);
  Result<std::unique_ptr<Fetcher>> bytes = Fetcher::create(no_bytes);
  Result<std::unique_ptr<Fetcher>> time = Fetcher::create(no_time);

  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().message(),
            "--fetch-allow: '127.0.0.1/40' is not a CIDR range: the prefix length must be 0 to "
            "32; write ADDRESS/LENGTH, as in 10.0.0.0/8 or fd00::/8");
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().message(), "--fetch-max-bytes must be positive");
  ASSERT_FALSE(time.ok());
  EXPECT_EQ(time.status().message(),
            "--fetch-timeout-ms 0 must be positive, and the connect timeout too (5000 ms)");
}

// The default options: https only, no allowed range.
class RejectionTest : public FetcherTest {
 protected:
  FetchOptions defaultOptions() const {
    FetchOptions options;
    options.cache_dir = dir_.file("cache");
    return options;
  }
};

TEST_F(RejectionTest, HttpRejectedByDefault) {
  LoopbackHttpServer server(serveBody("crest"));
  ASSERT_TRUE(server.started());
  auto fetcher = makeFetcher(defaultOptions());
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched = fetcher->fetch(server.url("/crest.png"));

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fetched.status().message(),
            "cannot fetch " + server.url("/crest.png") +
                ": http URLs are not fetched, because the network could change the file; use "
                "https, or allow http with --fetch-allow-http");
  EXPECT_EQ(server.connections(), 0);
}

TEST_F(RejectionTest, LoopbackHostsInEveryNotationRejected) {
  LoopbackHttpServer ipv4(serveBody("crest"));
  ASSERT_TRUE(ipv4.started());
  std::string port = std::to_string(ipv4.port());
  LoopbackHttpServer ipv6(serveBody("crest"), "::1", ipv4.port());
  ASSERT_TRUE(ipv6.started()) << "cannot listen on [::1]:" << port;
  auto fetcher = makeFetcher(defaultOptions());
  ASSERT_NE(fetcher, nullptr);
  struct Case {
    std::string host;    // as written in the URL
    std::string seen;    // as the message names it
    std::string reason;  // checkAddress()'s reason
    std::string allow;   // the allow entry the message suggests
  };
  const std::string loopback = "127.0.0.1 is a loopback address (127.0.0.0/8)";
  const Case cases[] = {
      {"127.0.0.1", "127.0.0.1", loopback, "127.0.0.1/32"},
      {"2130706433", "127.0.0.1", loopback, "127.0.0.1/32"},
      {"0x7f000001", "127.0.0.1", loopback, "127.0.0.1/32"},
      {"017700000001", "127.0.0.1", loopback, "127.0.0.1/32"},
      {"127.1", "127.0.0.1", loopback, "127.0.0.1/32"},
      {"0177.0.0.1", "127.0.0.1", loopback, "127.0.0.1/32"},
      {"[::1]", "[::1]", "::1 is the loopback address (::1/128)", "::1/128"},
      {"[::ffff:127.0.0.1]", "[::ffff:127.0.0.1]",
       "::ffff:127.0.0.1 is the IPv4-mapped form of 127.0.0.1, a loopback address (127.0.0.0/8)",
       "127.0.0.1/32"},
  };

  for (const Case& item : cases) {
    std::string url = "https://" + item.host + ":" + port + "/crest.png";
    Result<Fetched> fetched = fetcher->fetch(url);

    ASSERT_FALSE(fetched.ok()) << url;
    EXPECT_EQ(fetched.status().code(), StatusCode::kPermissionDenied) << url;
    EXPECT_EQ(fetched.status().message(),
              "cannot fetch " + url + ": host " + item.seen +
                  " resolved to an address that is not allowed: " + item.reason +
                  "; if the deployment trusts it, allow it with --fetch-allow " + item.allow);
  }
  EXPECT_EQ(ipv4.connections(), 0);
  EXPECT_EQ(ipv6.connections(), 0);
}

TEST_F(RejectionTest, LocalhostNameRejected) {
  LoopbackHttpServer ipv4(serveBody("crest"));
  ASSERT_TRUE(ipv4.started());
  LoopbackHttpServer ipv6(serveBody("crest"), "::1", ipv4.port());
  ASSERT_TRUE(ipv6.started());
  auto fetcher = makeFetcher(defaultOptions());
  ASSERT_NE(fetcher, nullptr);
  std::string url = "https://localhost:" + std::to_string(ipv4.port()) + "/crest.png";

  Result<Fetched> fetched = fetcher->fetch(url);

  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(fetched.status().message().starts_with(
      "cannot fetch " + url + ": host localhost resolved to an address that is not allowed: "))
      << fetched.status().message();
  EXPECT_EQ(ipv4.connections(), 0);
  EXPECT_EQ(ipv6.connections(), 0);
}

TEST_F(RejectionTest, AllowedRangeReachesListener) {
  // The rejections above come from the check: the same listener, allowed,
  // takes the connection.
  LoopbackHttpServer server(serveBody("crest"));
  ASSERT_TRUE(server.started());
  FetchOptions options = defaultOptions();
  options.allow_http = true;
  options.allow = {"127.0.0.0/8"};
  auto fetcher = makeFetcher(options);
  ASSERT_NE(fetcher, nullptr);

  Result<Fetched> fetched =
      fetcher->fetch("http://2130706433:" + std::to_string(server.port()) + "/crest.png");

  ASSERT_TRUE(fetched.ok()) << fetched.status().toString();
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace smmhub::fetch
