// smmhub-api as a child process, against a real redis-server and a SQLite
// file, spoken to over loopback with a raw socket client so that the tests
// control every byte of a request.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/free_port.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace smmhub::api {
namespace {

using namespace std::chrono_literals;
using smmhub::testing::RedisServer;
using smmhub::testing::TempDir;

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;
};

// Parses the responses in RAW, which contains whole responses with a
// Content-Length each, as the server sends them.
std::vector<HttpResponse> parseResponses(std::string raw) {
  std::vector<HttpResponse> responses;
  while (!raw.empty()) {
    size_t header_end = raw.find("\r\n\r\n");
    if (header_end == std::string::npos) {
      break;
    }
    HttpResponse response;
    std::string head = raw.substr(0, header_end);
    response.status = std::stoi(head.substr(head.find(' ') + 1, 3));
    size_t line_start = head.find("\r\n");
    while (line_start != std::string::npos) {
      line_start += 2;
      size_t line_end = head.find("\r\n", line_start);
      std::string line = head.substr(line_start, line_end - line_start);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      line_start = line_end;
    }
    size_t length = std::stoul(response.headers["content-length"]);
    response.body = raw.substr(header_end + 4, length);
    raw.erase(0, header_end + 4 + length);
    responses.push_back(std::move(response));
  }
  return responses;
}

// A TCP connection to 127.0.0.1:PORT whose reads time out after 10 seconds.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until the server closes the connection. EOF_SEEN is set to
  // whether it did, as opposed to the read timing out or failing.
  std::string readToEnd(bool* eof_seen = nullptr) {
    std::string received;
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        if (eof_seen != nullptr) {
          *eof_seen = n == 0;
        }
        return received;
      }
      received.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer(redis_.url()); }

  // Starts smmhub-api on a free port with REDIS_URL and waits until it
  // serves.
  void startServer(const std::string& redis_url) {
    port_ = smmhub::testing::freeLoopbackPort();
    std::vector<std::string> args = {SMMHUB_API_BINARY,
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--redis",
                                     redis_url,
                                     "--db",
                                     "sqlite:" + dir_.file("api.db").string(),
                                     "--storage",
                                     dir_.path().string(),
                                     "--health-timeout-ms",
                                     "500"};
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    err_ = dir_.file("api.err");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int spawned = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ASSERT_EQ(spawned, 0) << "cannot start " << SMMHUB_API_BINARY;

    std::string banner = "listening on http://127.0.0.1:" + std::to_string(port_) + "\n";
    for (int i = 0; i < 300 && readText(err_).find(banner) == std::string::npos; ++i) {
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_NE(readText(err_).find(banner), std::string::npos) << readText(err_);
  }

  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Sends RAW on a new connection and returns every response to it, read
  // until the server closes the connection.
  std::vector<HttpResponse> roundTrip(const std::string& raw) {
    Client client(port_);
    EXPECT_TRUE(client.connected());
    EXPECT_TRUE(client.send(raw));
    return parseResponses(client.readToEnd());
  }

  // Sends a GET for TARGET with Connection: close and EXTRA header lines.
  HttpResponse get(const std::string& target, const std::string& extra = "") {
    std::vector<HttpResponse> responses = roundTrip(
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "Connection: close\r\n\r\n");
    EXPECT_EQ(responses.size(), 1u);
    return responses.empty() ? HttpResponse{} : responses[0];
  }

  // Sends SIGTERM and returns the exit status, or -1 when the server did not
  // exit within 5 seconds.
  int terminate() {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  RedisServer redis_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::filesystem::path err_;
};

bool isFreshRequestId(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST_F(ApiTest, HealthzIsOk) {
  HttpResponse response = get("/healthz");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers["content-type"], "application/json");
  EXPECT_EQ(response.body, R"({"status":"ok"})");
}

TEST_F(ApiTest, HealthzNamesStoppedRedis) {
  redis_.kill();

  HttpResponse response = get("/healthz");

  EXPECT_EQ(response.status, 503);
  nlohmann::json body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], "unavailable");
  ASSERT_EQ(body["problems"].size(), 1u);
  EXPECT_TRUE(body["problems"][0].get<std::string>().starts_with("redis: ")) << body;
}

TEST_F(ApiTest, VersionIsProjectVersion) {
  HttpResponse response = get("/api/v1/version", "X-Request-Id: version-1\r\n");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, std::string(R"({"version":")") + SMMHUB_EXPECTED_VERSION + R"("})");
  std::string log = readText(err_);
  EXPECT_NE(log.find("request id=version-1 method=GET path=/api/v1/version status=200 bytes=" +
                     std::to_string(response.body.size()) + " ms="),
            std::string::npos)
      << log;
}

TEST_F(ApiTest, MetricsCountRequests) {
  get("/healthz");
  get("/healthz");
  get("/nothing");

  HttpResponse response = get("/metrics");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(response.body.find(
                "smmhub_api_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2\n"),
            std::string::npos)
      << response.body;
  EXPECT_NE(response.body.find(
                "smmhub_api_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"),
            std::string::npos)
      << response.body;
  EXPECT_NE(
      response.body.find("smmhub_api_request_seconds_total{method=\"GET\",route=\"/healthz\"}"),
      std::string::npos)
      << response.body;
}

TEST_F(ApiTest, UnknownPathIsNotFound) {
  HttpResponse response = get("/api/v1/nothing", "X-Request-Id: lost-1\r\n");

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers["x-request-id"], "lost-1");
  EXPECT_EQ(
      response.body,
      R"({"error":{"code":"not_found","message":"no route for path /api/v1/nothing","request_id":"lost-1"}})");
}

TEST_F(ApiTest, OtherMethodIsNotAllowed) {
  std::vector<HttpResponse> responses =
      roundTrip("DELETE /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 405);
  EXPECT_EQ(responses[0].headers["allow"], "GET");
  nlohmann::json body = nlohmann::json::parse(responses[0].body);
  EXPECT_EQ(body["error"]["code"], "method_not_allowed");
}

TEST_F(ApiTest, OversizedBodyIsRejectedUnread) {
  Client client(port_);
  ASSERT_TRUE(client.connected());

  // Only the header is sent, so the server must respond without the body.
  ASSERT_TRUE(client.send(
      "POST /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048577\r\n\r\n"));
  bool eof = false;
  std::vector<HttpResponse> responses = parseResponses(client.readToEnd(&eof));

  EXPECT_TRUE(eof);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  nlohmann::json body = nlohmann::json::parse(responses[0].body);
  EXPECT_EQ(body["error"]["code"], "payload_too_large");
  EXPECT_EQ(body["error"]["request_id"], responses[0].headers["x-request-id"]);
}

TEST_F(ApiTest, HugeHeaderIsRejected) {
  std::vector<HttpResponse> responses =
      roundTrip("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string("X-Big: ") +
                std::string(20'000, 'a') + "\r\n\r\n");

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 431);
  nlohmann::json body = nlohmann::json::parse(responses[0].body);
  EXPECT_EQ(body["error"]["code"], "request_header_fields_too_large");
}

TEST_F(ApiTest, MalformedRequestIsBadRequest) {
  std::vector<HttpResponse> responses = roundTrip("THIS IS NOT HTTP\r\n\r\n");

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 400);
  EXPECT_TRUE(isFreshRequestId(responses[0].headers["x-request-id"]))
      << responses[0].headers["x-request-id"];
  nlohmann::json body = nlohmann::json::parse(responses[0].body);
  EXPECT_EQ(body["error"]["code"], "bad_request");
}

TEST_F(ApiTest, RequestIdIsEchoedOrMade) {
  HttpResponse echoed = get("/api/v1/version", "X-Request-Id: abc-123_XYZ\r\n");
  HttpResponse missing = get("/api/v1/version");
  HttpResponse too_long = get("/api/v1/version", "X-Request-Id: " + std::string(65, 'x') + "\r\n");
  HttpResponse with_space = get("/api/v1/version", "X-Request-Id: a b\r\n");

  EXPECT_EQ(echoed.headers["x-request-id"], "abc-123_XYZ");
  EXPECT_TRUE(isFreshRequestId(missing.headers["x-request-id"])) << missing.headers["x-request-id"];
  EXPECT_TRUE(isFreshRequestId(too_long.headers["x-request-id"]))
      << too_long.headers["x-request-id"];
  EXPECT_TRUE(isFreshRequestId(with_space.headers["x-request-id"]))
      << with_space.headers["x-request-id"];
  EXPECT_NE(missing.headers["x-request-id"], too_long.headers["x-request-id"]);
}

TEST_F(ApiTest, KeepAliveServesSeveralRequests) {
  std::vector<HttpResponse> responses = roundTrip(
      "GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: one\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: two\r\n"
      "Connection: close\r\n\r\n");

  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].headers["x-request-id"], "one");
  EXPECT_EQ(responses[1].status, 200);
  EXPECT_EQ(responses[1].headers["x-request-id"], "two");
}

TEST_F(ApiTest, SigtermExitsPromptly) {
  // An idle keep-alive connection must not hold the server up.
  Client idle(port_);
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::this_thread::sleep_for(200ms);
  auto started = std::chrono::steady_clock::now();

  int status = terminate();

  EXPECT_EQ(status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  bool eof = false;
  std::vector<HttpResponse> responses = parseResponses(idle.readToEnd(&eof));
  EXPECT_TRUE(eof);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
}

TEST_F(ApiTest, StopFinishesRequestInProgress) {
  // A listener that accepts connections but never replies plays the part
  // of a Redis that hangs, so /healthz waits for the 500 ms Redis timeout.
  ASSERT_EQ(terminate(), 0);
  int stalled = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(stalled, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(stalled, 16), 0);
  socklen_t length = sizeof(address);
  ::getsockname(stalled, reinterpret_cast<sockaddr*>(&address), &length);
  startServer("redis://127.0.0.1:" + std::to_string(ntohs(address.sin_port)));
  Client client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::this_thread::sleep_for(100ms);

  int status = terminate();
  bool eof = false;
  std::vector<HttpResponse> responses = parseResponses(client.readToEnd(&eof));
  ::close(stalled);

  EXPECT_EQ(status, 0);
  EXPECT_TRUE(eof);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 503);
  EXPECT_EQ(responses[0].headers["connection"], "close");
  nlohmann::json body = nlohmann::json::parse(responses[0].body);
  ASSERT_EQ(body["problems"].size(), 1u);
  EXPECT_TRUE(body["problems"][0].get<std::string>().starts_with("redis: ")) << body;
}

TEST_F(ApiTest, ChunkedBodyOverLimitIsRejected) {
  std::string chunk(512 * 1024, 'a');
  std::string request =
      "POST /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    request += "80000\r\n" + chunk + "\r\n";
  }
  request += "0\r\n\r\n";

  std::vector<HttpResponse> responses = roundTrip(request);

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  nlohmann::json body = nlohmann::json::parse(responses[0].body);
  EXPECT_EQ(body["error"]["code"], "payload_too_large");
}

TEST_F(ApiTest, NoRenderLibraryIsMapped) {
  get("/healthz");

  std::string maps = readText("/proc/" + std::to_string(pid_) + "/maps");

  EXPECT_NE(maps.find("libhiredis"), std::string::npos) << "cannot read the maps";
  for (const char* library : {"libvips", "libavcodec", "libavformat", "libpango", "librsvg"}) {
    EXPECT_EQ(maps.find(library), std::string::npos) << library << " is mapped";
  }
}

}  // namespace
}  // namespace smmhub::api
