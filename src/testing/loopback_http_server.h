// A small HTTP/1.1 server on a loopback address, for tests of code that
// fetches URLs. It serves one connection at a time on a thread of its own,
// one request per connection, and records every connection and request.
//
//   LoopbackHttpServer server([](const HttpRequest& request, HttpConnection& connection) {
//     connection.send(httpResponse(200, {{"ETag", "\"v1\""}}, "body"));
//   });
//   fetch(server.url("/crest.svg"));
//   EXPECT_EQ(server.requests().size(), 1u);
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace smmhub::testing {

struct HttpRequest {
  std::string method;
  std::string target;                          // "/crest.svg?x=1"
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;                            // Content-Length bytes; chunked bodies are not read

  // Returns the header NAME (lowercase), or "".
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
};

// One accepted connection, which the handler writes the reply to.
class HttpConnection {
 public:
  HttpConnection(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}

  // Sends BYTES. Returns false when the peer closed the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  // Waits up to DURATION, less when the server stops. Returns false when
  // the server stops.
  bool pause(std::chrono::milliseconds duration) {
    auto until = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < until) {
      if (stopping_.load()) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return !stopping_.load();
  }

 private:
  int fd_;
  const std::atomic<bool>& stopping_;
};

// Returns a whole HTTP/1.1 reply with Content-Length and Connection: close.
inline std::string httpResponse(int status,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::string& body) {
  std::string reply = "HTTP/1.1 " + std::to_string(status) + " Status\r\n";
  for (const auto& [name, value] : headers) {
    reply += name + ": " + value + "\r\n";
  }
  reply += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  return reply + body;
}

class LoopbackHttpServer {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpConnection&)>;

  // Listens on ADDRESS ("127.0.0.1", "::1", or another loopback address)
  // at a port the kernel picks, or at PORT when it is not 0. Check
  // started() after.
  explicit LoopbackHttpServer(Handler handler, const std::string& address = "127.0.0.1",
                              int port = 0)
      : handler_(std::move(handler)), address_(address) {
    bool ipv6 = address.find(':') != std::string::npos;
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (ipv6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(static_cast<uint16_t>(port));
      ::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr);
      length = sizeof(sockaddr_in6);
    } else {
      auto* in = reinterpret_cast<sockaddr_in*>(&storage);
      in->sin_family = AF_INET;
      in->sin_port = htons(static_cast<uint16_t>(port));
      ::inet_pton(AF_INET, address.c_str(), &in->sin_addr);
      length = sizeof(sockaddr_in);
    }
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
      return;
    }
    port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~LoopbackHttpServer() {
    stopping_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer(LoopbackHttpServer&&) = delete;
  LoopbackHttpServer& operator=(LoopbackHttpServer&&) = delete;

  bool started() const { return port_ > 0; }
  int port() const { return port_; }

  // Returns "http://ADDRESS:PORT" + PATH, with an IPv6 address in brackets.
  std::string url(const std::string& path) const {
    std::string host = address_.find(':') != std::string::npos ? "[" + address_ + "]" : address_;
    return "http://" + host + ":" + std::to_string(port_) + path;
  }

  // Connections accepted so far.
  int connections() const { return connections_.load(); }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_.load()) {
      pollfd waiting{fd_, POLLIN, 0};
      if (::poll(&waiting, 1, 20) <= 0) {
        continue;
      }
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        continue;
      }
      connections_++;
      HttpRequest request;
      if (readRequest(client, request)) {
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
        }
        HttpConnection connection(client, stopping_);
        handler_(request, connection);
      }
      ::shutdown(client, SHUT_RDWR);
      ::close(client);
    }
  }

  // Appends what CLIENT sends to DATA until DONE(DATA) holds. Returns false
  // when the peer closes, the server stops or DEADLINE passes first.
  bool receive(int client, std::string& data, const std::function<bool(const std::string&)>& done,
               std::chrono::steady_clock::time_point deadline) {
    while (!done(data)) {
      if (std::chrono::steady_clock::now() >= deadline || stopping_.load()) {
        return false;
      }
      pollfd waiting{client, POLLIN, 0};
      if (::poll(&waiting, 1, 20) <= 0) {
        continue;
      }
      char buffer[4096];
      ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
      if (got <= 0) {
        return false;
      }
      data.append(buffer, static_cast<size_t>(got));
    }
    return true;
  }

  // Reads the request line, the headers and a Content-Length body, waiting
  // up to 2 s for them.
  bool readRequest(int client, HttpRequest& request) {
    std::string head;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    if (!receive(
            client, head,
            [](const std::string& data) { return data.find("\r\n\r\n") != std::string::npos; },
            deadline)) {
      return false;
    }
    size_t head_end = head.find("\r\n\r\n") + 4;
    request.body = head.substr(head_end);
    head.resize(head_end);

    size_t line_end = head.find("\r\n");
    std::string line = head.substr(0, line_end);
    size_t space = line.find(' ');
    size_t second = line.find(' ', space + 1);
    if (space == std::string::npos || second == std::string::npos) {
      return false;
    }
    request.method = line.substr(0, space);
    request.target = line.substr(space + 1, second - space - 1);

    for (size_t at = line_end + 2; at < head.size();) {
      size_t end = head.find("\r\n", at);
      std::string header = head.substr(at, end - at);
      at = end + 2;
      size_t colon = header.find(':');
      if (header.empty() || colon == std::string::npos) {
        break;
      }
      std::string name = header.substr(0, colon);
      for (char& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      size_t value = header.find_first_not_of(' ', colon + 1);
      request.headers[name] = value == std::string::npos ? "" : header.substr(value);
    }

    size_t length = std::strtoul(request.header("content-length").c_str(), nullptr, 10);
    if (!receive(
            client, request.body,
            [length](const std::string& data) { return data.size() >= length; }, deadline)) {
      return false;
    }
    request.body.resize(length);
    return true;
  }

  Handler handler_;
  std::string address_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
  std::thread thread_;
};

}  // namespace smmhub::testing
