#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "metrics/registry.h"
#include "metrics/server.h"

namespace smmhub::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Registry

TEST(RegistryTest, RendersCountersGaugesAndCallbacks) {
  Registry registry;
  registry.counter("smmhub_jobs_total", "Jobs finished.").inc(3);
  Counter& ok = registry.counter("smmhub_renders_total", "Videos rendered.", {{"outcome", "ok"}});
  Counter& failed =
      registry.counter("smmhub_renders_total", "Videos rendered.", {{"outcome", "failed"}});
  Gauge& busy = registry.gauge("smmhub_workers_busy", "Workers rendering now.");
  registry.gaugeCallback("smmhub_queue_depth", "Jobs waiting.", [] { return 12.0; },
                         {{"queue", "default"}});
  registry.gaugeCallback("smmhub_queue_depth", "Jobs waiting.",
                         []() -> double { throw std::runtime_error("redis down"); },
                         {{"queue", "urgent"}});

  ok.inc(2);
  failed.inc(0.5);
  busy.set(4);
  busy.dec();
  busy.inc(0.25);
  std::string text = registry.render();

  EXPECT_EQ(text,
            "# HELP smmhub_jobs_total Jobs finished.\n"
            "# TYPE smmhub_jobs_total counter\n"
            "smmhub_jobs_total 3\n"
            "# HELP smmhub_renders_total Videos rendered.\n"
            "# TYPE smmhub_renders_total counter\n"
            "smmhub_renders_total{outcome=\"failed\"} 0.5\n"
            "smmhub_renders_total{outcome=\"ok\"} 2\n"
            "# HELP smmhub_workers_busy Workers rendering now.\n"
            "# TYPE smmhub_workers_busy gauge\n"
            "smmhub_workers_busy 3.25\n"
            "# HELP smmhub_queue_depth Jobs waiting.\n"
            "# TYPE smmhub_queue_depth gauge\n"
            "smmhub_queue_depth{queue=\"default\"} 12\n");
}

TEST(RegistryTest, ThrowingCallbackLeavesOutOnlyItsSeries) {
  Registry registry;
  bool fail = true;
  registry.gaugeCallback("smmhub_redis_up", "Whether Redis answers.", [&]() -> double {
    if (fail) {
      throw 42;  // not a std::exception
    }
    return 1;
  });
  registry.counter("smmhub_after_total", "Registered after the callback.").inc();

  std::string failing = registry.render();
  fail = false;
  std::string recovered = registry.render();

  EXPECT_EQ(failing,
            "# HELP smmhub_redis_up Whether Redis answers.\n"
            "# TYPE smmhub_redis_up gauge\n"
            "# HELP smmhub_after_total Registered after the callback.\n"
            "# TYPE smmhub_after_total counter\n"
            "smmhub_after_total 1\n");
  EXPECT_THAT(recovered, HasSubstr("\nsmmhub_redis_up 1\n"));
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;

  registry
      .gauge("smmhub_asset_bytes", "Bytes per asset.\nA path \\ \"quoted\".",
             {{"zone", "eu"}, {"path", "a\\b\"c\nd"}})
      .set(-7);

  EXPECT_EQ(registry.render(),
            "# HELP smmhub_asset_bytes Bytes per asset.\\nA path \\\\ \"quoted\".\n"
            "# TYPE smmhub_asset_bytes gauge\n"
            "smmhub_asset_bytes{path=\"a\\\\b\\\"c\\nd\",zone=\"eu\"} -7\n");
}

TEST(RegistryTest, LabelOrderSelectsSameSeries) {
  Registry registry;

  Counter& first = registry.counter("smmhub_x_total", "X.", {{"a", "1"}, {"b", "2"}});
  Counter& second = registry.counter("smmhub_x_total", "X.", {{"b", "2"}, {"a", "1"}});

  EXPECT_EQ(&first, &second);
}

TEST(RegistryTest, NegativeIncrementIgnored) {
  Registry registry;
  Counter& counter = registry.counter("smmhub_frames_total", "Frames.");

  counter.inc(5);
  counter.inc(-1);
  counter.inc(std::nan(""));

  EXPECT_EQ(counter.value(), 5);
  EXPECT_THAT(registry.render(), HasSubstr("\nsmmhub_frames_total 5\n"));
}

TEST(RegistryTest, InvalidNamesThrowNamingThem) {
  Registry registry;
  const std::vector<std::string> bad_metrics = {"", "1abc", "a-b", "a b", "caf\xc3\xa9"};
  const std::vector<std::string> bad_labels = {"", "1a", "a:b", "a-b", "__name"};

  for (const std::string& name : bad_metrics) {
    try {
      registry.counter(name, "help");
      ADD_FAILURE() << "no exception for metric name '" << name << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("'" + name + "'"));
    }
  }
  for (const std::string& label : bad_labels) {
    try {
      registry.gauge("smmhub_ok", "help", {{label, "v"}});
      ADD_FAILURE() << "no exception for label name '" << label << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("'" + label + "'"));
    }
  }

  EXPECT_THROW(registry.gauge("smmhub_ok", "help", {{"a", "1"}, {"a", "2"}}),
               std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("ns:sub_metric_total", "help", {{"_private", "v"}}));
  EXPECT_EQ(registry.render(),
            "# HELP ns:sub_metric_total help\n"
            "# TYPE ns:sub_metric_total counter\n"
            "ns:sub_metric_total{_private=\"v\"} 0\n");
}

TEST(RegistryTest, ConflictingRegistrationsThrow) {
  Registry registry;
  registry.counter("smmhub_jobs_total", "Jobs.");
  auto return_one = [] {
    return 1.0;
  };
  registry.gaugeCallback("smmhub_depth", "Depth.", return_one);

  EXPECT_THROW(registry.gauge("smmhub_jobs_total", "Jobs."), std::invalid_argument);
  EXPECT_THROW(registry.counter("smmhub_jobs_total", "Other help."), std::invalid_argument);
  EXPECT_THROW(registry.gauge("smmhub_depth", "Depth."), std::invalid_argument);
  EXPECT_THROW(registry.gaugeCallback("smmhub_depth", "Depth.", return_one), std::invalid_argument);
  EXPECT_THROW(registry.gaugeCallback("smmhub_empty", "Empty.", nullptr), std::invalid_argument);
  EXPECT_EQ(registry.render(),
            "# HELP smmhub_jobs_total Jobs.\n"
            "# TYPE smmhub_jobs_total counter\n"
            "smmhub_jobs_total 0\n"
            "# HELP smmhub_depth Depth.\n"
            "# TYPE smmhub_depth gauge\n"
            "smmhub_depth 1\n");
}

TEST(RegistryTest, FormatsValuesAsPrometheusReadsThem) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(-0.0), "0");
  EXPECT_EQ(formatValue(42), "42");
  EXPECT_EQ(formatValue(-3), "-3");
  EXPECT_EQ(formatValue(1234567890123), "1234567890123");
  EXPECT_EQ(formatValue(0.1), "0.1");
  EXPECT_EQ(formatValue(-2.5), "-2.5");
  EXPECT_EQ(formatValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(formatValue(1e20), "1e+20");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

// Looks up and updates two series 10,000 times, rendering now and then.
void updateManyTimes(Registry& registry) {
  for (int i = 0; i < 10'000; ++i) {
    registry.counter("smmhub_hits_total", "Hits.").inc();
    registry.gauge("smmhub_level", "Level.").inc(2);
    if (i % 1000 == 0) {
      (void)registry.render();
    }
  }
}

TEST(RegistryTest, ConcurrentUpdatesAllCount) {
  Registry registry;
  std::vector<std::thread> threads;

  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back(updateManyTimes, std::ref(registry));
  }
  for (std::thread& thread : threads) {
    thread.join();
  }

  EXPECT_EQ(registry.counter("smmhub_hits_total", "Hits.").value(), 40'000);
  EXPECT_EQ(registry.gauge("smmhub_level", "Level.").value(), 80'000);
}

// Server

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;
};

// A blocking TCP client socket with a 10 s receive timeout, so that a server
// that never responds fails the test instead of hanging it.
class ClientSocket {
 public:
  ClientSocket(const std::string& host, int port) {
    bool v6 = host.find(':') != std::string::npos;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    int connected = -1;
    if (v6) {
      sockaddr_in6 address{};
      address.sin6_family = AF_INET6;
      address.sin6_port = htons(static_cast<std::uint16_t>(port));
      ::inet_pton(AF_INET6, host.c_str(), &address.sin6_addr);
      connected = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    } else {
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<std::uint16_t>(port));
      ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
      connected = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    }
    EXPECT_EQ(connected, 0) << std::error_code(errno, std::generic_category()).message();
  }
  ~ClientSocket() { ::close(fd_); }
  ClientSocket(const ClientSocket&) = delete;
  ClientSocket& operator=(const ClientSocket&) = delete;
  ClientSocket(ClientSocket&&) = delete;
  ClientSocket& operator=(ClientSocket&&) = delete;

  void send(const std::string& data) const {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }

  // Reads until the server closes the connection. Fails the test on the timeout.
  std::string readAll() const {
    std::string data;
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n == 0) {
        return data;
      }
      if (n < 0) {
        ADD_FAILURE() << "recv failed: "
                      << std::error_code(errno, std::generic_category()).message();
        return data;
      }
      data.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
};

HttpReply parseReply(const std::string& raw) {
  HttpReply reply;
  size_t header_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || header_end == std::string::npos) {
    ADD_FAILURE() << "not an HTTP response: '" << raw << "'";
    return reply;
  }
  reply.status = std::stoi(raw.substr(9, 3));
  size_t line_start = raw.find("\r\n") + 2;
  while (line_start < header_end) {
    size_t line_end = raw.find("\r\n", line_start);
    std::string line = raw.substr(line_start, line_end - line_start);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    line_start = line_end + 2;
  }
  reply.body = raw.substr(header_end + 4);
  return reply;
}

// Sends one request with "Connection: close" and parses the whole reply.
HttpReply fetch(int port, const std::string& method, const std::string& target,
                const std::string& host = "127.0.0.1") {
  ClientSocket socket(host, port);
  socket.send(method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  return parseReply(socket.readAll());
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.counter("smmhub_jobs_total", "Jobs finished.").inc(7);
    registry_.gauge("smmhub_workers_busy", "Workers rendering now.", {{"pool", "gpu"}}).set(2);
  }

  std::unique_ptr<Server> mustStart(ServerOptions options) {
    options.registry = &registry_;
    Result<std::unique_ptr<Server>> server = Server::start(options);
    EXPECT_TRUE(server.ok()) << server.status().toString();
    return server.ok() ? std::move(*server) : nullptr;
  }

  static constexpr const char* kExpected =
      "# HELP smmhub_jobs_total Jobs finished.\n"
      "# TYPE smmhub_jobs_total counter\n"
      "smmhub_jobs_total 7\n"
      "# HELP smmhub_workers_busy Workers rendering now.\n"
      "# TYPE smmhub_workers_busy gauge\n"
      "smmhub_workers_busy{pool=\"gpu\"} 2\n";

  Registry registry_;
};

TEST_F(MetricsServerTest, GetMetricsReturnsRegistryText) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);

  HttpReply reply = fetch(server->port(), "GET", "/metrics");

  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(reply.headers["content-length"], std::to_string(std::strlen(kExpected)));
  EXPECT_EQ(reply.body, kExpected);
}

TEST_F(MetricsServerTest, MetricsReflectUpdatesBetweenScrapes) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);

  registry_.counter("smmhub_jobs_total", "Jobs finished.").inc();
  HttpReply reply = fetch(server->port(), "GET", "/metrics?ignored=1");

  EXPECT_EQ(reply.status, 200);
  EXPECT_THAT(reply.body, HasSubstr("\nsmmhub_jobs_total 8\n"));
}

TEST_F(MetricsServerTest, HeadReturnsHeadersWithoutBody) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);

  HttpReply reply = fetch(server->port(), "HEAD", "/metrics");

  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(reply.headers["content-length"], std::to_string(std::strlen(kExpected)));
  EXPECT_EQ(reply.body, "");
}

TEST_F(MetricsServerTest, HealthzReturnsOk) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);

  HttpReply reply = fetch(server->port(), "GET", "/healthz");

  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(reply.body, "ok\n");
}

TEST_F(MetricsServerTest, UnknownPathReturns404) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);

  HttpReply reply = fetch(server->port(), "GET", "/metricsx");

  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "not found\n");
}

TEST_F(MetricsServerTest, OtherMethodReturns405WithAllow) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);

  HttpReply post = fetch(server->port(), "POST", "/metrics");
  HttpReply del = fetch(server->port(), "DELETE", "/healthz");

  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
  EXPECT_EQ(post.body, "method not allowed\n");
  EXPECT_EQ(del.status, 405);
  EXPECT_EQ(del.headers["allow"], "GET, HEAD");
}

TEST_F(MetricsServerTest, KeepAliveServesPipelinedRequests) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);
  ClientSocket socket("127.0.0.1", server->port());

  socket.send(
      "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  std::string raw = socket.readAll();

  size_t second = raw.find("HTTP/1.1", 1);
  ASSERT_NE(second, std::string::npos) << raw;
  EXPECT_EQ(parseReply(raw.substr(0, second)).body, "ok\n");
  EXPECT_EQ(parseReply(raw.substr(second)).body, "ok\n");
}

TEST_F(MetricsServerTest, OversizedHeaderGets431) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);
  ClientSocket socket("127.0.0.1", server->port());

  socket.send("GET /metrics HTTP/1.1\r\nHost: test\r\nX-Padding: " + std::string(9000, 'a') +
              "\r\n\r\n");
  HttpReply reply = parseReply(socket.readAll());

  EXPECT_EQ(reply.status, 431);
  EXPECT_EQ(reply.headers["connection"], "close");
}

TEST_F(MetricsServerTest, MalformedRequestGets400) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);
  ClientSocket socket("127.0.0.1", server->port());

  socket.send("GET /metrics HTTX/1.1\r\nHost: test\r\n\r\n");
  HttpReply reply = parseReply(socket.readAll());

  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, "malformed request\n");
}

TEST_F(MetricsServerTest, IdleConnectionClosedAfterTimeout) {
  std::unique_ptr<Server> server = mustStart({.idle_timeout = std::chrono::milliseconds(200)});
  ASSERT_NE(server, nullptr);
  ClientSocket socket("127.0.0.1", server->port());

  auto start = std::chrono::steady_clock::now();
  std::string data = socket.readAll();
  auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(data, "");
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST_F(MetricsServerTest, StopReturnsPromptlyWithIdleClient) {
  std::unique_ptr<Server> server = mustStart({});
  ASSERT_NE(server, nullptr);
  ClientSocket idle("127.0.0.1", server->port());
  // Gives the server thread time to accept, so that a session is open.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  auto start = std::chrono::steady_clock::now();
  server->stop();
  auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
  EXPECT_EQ(idle.readAll(), "");  // the server closed the connection
  server->stop();                 // a second call does nothing
}

TEST_F(MetricsServerTest, UsedPortIsUnavailable) {
  std::unique_ptr<Server> first = mustStart({});
  ASSERT_NE(first, nullptr);
  std::string listen = "127.0.0.1:" + std::to_string(first->port());

  Result<std::unique_ptr<Server>> second =
      Server::start({.listen = listen, .setting = "--metrics-listen", .registry = &registry_});

  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), StartsWith("--metrics-listen '" + listen + "': "));
  EXPECT_THAT(second.status().message(),
              HasSubstr(std::make_error_code(std::errc::address_in_use).message()));
}

TEST_F(MetricsServerTest, MalformedListenIsInvalidArgument) {
  const std::vector<std::string> cases = {
      "",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:abc",
      "127.0.0.1:70000",
      "127.0.0.1:-1",
      "localhost:9100",
      "::1:9100",
      "[::1",
      "[::1]",
      "[127.0.0.1]:9100",
      "1.2.3.4.5:80",
      ":9100",
      "127.0.0.1:80 ",
  };

  for (const std::string& listen : cases) {
    Result<std::unique_ptr<Server>> server =
        Server::start({.listen = listen, .setting = "--metrics-listen", .registry = &registry_});

    ASSERT_FALSE(server.ok()) << listen;
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument) << listen;
    EXPECT_THAT(server.status().message(), StartsWith("--metrics-listen '" + listen + "': "));
  }
}

TEST_F(MetricsServerTest, ServesOnIpv6Loopback) {
  Result<std::unique_ptr<Server>> server =
      Server::start({.listen = "[::1]:0", .registry = &registry_});
  if (!server.ok() && server.status().code() == StatusCode::kUnavailable) {
    GTEST_SKIP() << "no IPv6 loopback: " << server.status().toString();
  }
  ASSERT_TRUE(server.ok()) << server.status().toString();

  HttpReply reply = fetch((*server)->port(), "GET", "/metrics", "::1");

  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, kExpected);
}

}  // namespace
}  // namespace smmhub::metrics
