// A small HTTP/1.1 client for tests of the API server, on Boost.Beast: one
// connection per request, a cookie jar, default headers, and a reader for
// streamed responses such as server-sent events.
//
//   HttpClient client("127.0.0.1", port);
//   HttpReply reply = client.post("/api/v1/session", R"({"email":...})");
//   EXPECT_EQ(reply.status, 200);
//   client.setHeader("X-CSRF-Token", reply.json()["csrf_token"]);
//   EXPECT_EQ(client.get("/api/v1/me").json()["user"]["email"], "...");
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace smmhub::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lowercase; repeats joined by "\n"
  std::string body;

  // The body as JSON; null when it does not parse.
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  // The error code of a JSON error body, such as "not_found".
  std::string errorCode() const {
    nlohmann::json parsed = json();
    return parsed.is_object() && parsed.contains("error") ? parsed["error"].value("code", "") : "";
  }
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
};

class HttpClient {
 public:
  HttpClient(std::string host, int port) : host_(std::move(host)), port_(port) {}

  // Sent with every request until cleared with an empty value.
  void setHeader(const std::string& name, const std::string& value) {
    if (value.empty()) {
      headers_.erase(name);
    } else {
      headers_[name] = value;
    }
  }

  HttpReply get(const std::string& target) { return request("GET", target); }
  HttpReply del(const std::string& target) { return request("DELETE", target); }
  HttpReply post(const std::string& target, const std::string& body,
                 const std::string& content_type = "application/json") {
    return request("POST", target, body, content_type);
  }
  HttpReply put(const std::string& target, const std::string& body) {
    return request("PUT", target, body);
  }
  HttpReply patch(const std::string& target, const std::string& body) {
    return request("PATCH", target, body);
  }

  // Sends one request on a fresh connection and reads the whole response.
  // Cookies the response sets go into the jar; one set with Max-Age=0 is
  // removed. A connection failure gives status 0 and the error as the body.
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::string& content_type = "application/json",
                    const std::map<std::string, std::string>& extra = {}) {
    namespace http = boost::beast::http;
    HttpReply reply;
    try {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket socket(io);
      socket.connect({boost::asio::ip::make_address(host_), static_cast<unsigned short>(port_)});
      setTimeout(socket, std::chrono::seconds(30));
      http::request<http::string_body> message(http::string_to_verb(method), target, 11);
      message.method_string(method);
      message.set(http::field::host, host_);
      if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        message.set(http::field::content_type, content_type);
      }
      for (const auto& [name, value] : headers_) {
        message.set(name, value);
      }
      for (const auto& [name, value] : extra) {
        message.set(name, value);
      }
      std::string jar = cookieHeader();
      if (!jar.empty()) {
        message.set(http::field::cookie, jar);
      }
      message.body() = body;
      message.prepare_payload();
      http::write(socket, message);

      boost::beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(1024 * 1024 * 1024);
      http::read(socket, buffer, parser);
      const auto& response = parser.get();
      reply.status = static_cast<int>(response.result_int());
      for (const auto& field : response) {
        std::string name = lower(std::string(field.name_string()));
        std::string& slot = reply.headers[name];
        slot += slot.empty() ? std::string(field.value()) : "\n" + std::string(field.value());
        if (name == "set-cookie") {
          remember(std::string(field.value()));
        }
      }
      reply.body = response.body();
    } catch (const std::exception& error) {
      reply.status = 0;
      reply.body = error.what();
    }
    return reply;
  }

  // The cookie jar: name -> value.
  std::map<std::string, std::string>& cookies() { return cookies_; }

 private:
  static std::string lower(std::string text) {
    for (char& c : text) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
  }

  static void setTimeout(boost::asio::ip::tcp::socket& socket, std::chrono::seconds timeout) {
    timeval tv{.tv_sec = static_cast<time_t>(timeout.count()), .tv_usec = 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  std::string cookieHeader() const {
    std::string header;
    for (const auto& [name, value] : cookies_) {
      header += (header.empty() ? "" : "; ") + name + "=" + value;
    }
    return header;
  }

  void remember(const std::string& set_cookie) {
    std::string pair = set_cookie.substr(0, set_cookie.find(';'));
    size_t equals = pair.find('=');
    if (equals == std::string::npos) {
      return;
    }
    std::string name = pair.substr(0, equals);
    std::string value = pair.substr(equals + 1);
    if (value.empty() || lower(set_cookie).find("max-age=0") != std::string::npos) {
      cookies_.erase(name);
    } else {
      cookies_[name] = value;
    }
  }

  std::string host_;
  int port_;
  std::map<std::string, std::string> headers_;
  std::map<std::string, std::string> cookies_;
};

// Reads a streamed (chunked) response as it arrives, such as server-sent
// events, over a raw socket with a timeout per read.
//
//   EventStreamReader events("127.0.0.1", port, "/api/v1/events", {{"Cookie", ...}});
//   std::optional<std::string> data = events.nextData(5s);  // the next "data:" payload
class EventStreamReader {
 public:
  EventStreamReader(const std::string& host, int port, const std::string& target,
                    const std::map<std::string, std::string>& headers)
      : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address(host), static_cast<unsigned short>(port)});
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
    for (const auto& [name, value] : headers) {
      request += name + ": " + value + "\r\n";
    }
    request += "Accept: text/event-stream\r\n\r\n";
    boost::asio::write(socket_, boost::asio::buffer(request));
  }

  // The status of the response, once its header has arrived (0 on timeout).
  int status(std::chrono::milliseconds timeout) {
    readHeader(timeout);
    return status_;
  }
  const std::string& rawHeader() const { return header_; }

  // Returns the next event's data (its "data:" lines joined), or nullopt
  // when none arrives within TIMEOUT or the stream ended.
  std::optional<std::string> nextData(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    if (!readHeader(timeout)) {
      return std::nullopt;
    }
    for (;;) {
      size_t end = body_.find("\n\n");
      if (end != std::string::npos) {
        std::string event = body_.substr(0, end);
        body_.erase(0, end + 2);
        std::string data;
        size_t start = 0;
        while (start < event.size()) {
          size_t newline = event.find('\n', start);
          std::string line = event.substr(start, newline - start);
          if (line.rfind("data:", 0) == 0) {
            data +=
                (data.empty() ? "" : "\n") + line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
          }
          start = newline == std::string::npos ? event.size() : newline + 1;
        }
        if (!data.empty()) {
          return data;
        }
        continue;  // a comment or a keep-alive
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readMore(left)) {
        return std::nullopt;
      }
      decodeChunks();
    }
  }

  // Whether the server closed the stream within TIMEOUT.
  bool closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readMore(left)) {
        break;
      }
    }
    return eof_;
  }

 private:
  bool readHeader(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (status_ == 0) {
      size_t end = raw_.find("\r\n\r\n");
      if (end != std::string::npos) {
        header_ = raw_.substr(0, end);
        raw_.erase(0, end + 4);
        status_ = std::stoi(header_.substr(9, 3));
        decodeChunks();
        return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readMore(left)) {
        return false;
      }
    }
    return true;
  }

  bool readMore(std::chrono::milliseconds timeout) {
    timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
               .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buffer[4096];
    ssize_t got = ::recv(socket_.native_handle(), buffer, sizeof buffer, 0);
    if (got == 0) {
      eof_ = true;
    }
    if (got <= 0) {
      return false;
    }
    raw_.append(buffer, static_cast<size_t>(got));
    return true;
  }

  // Moves whole chunks from raw_ to body_.
  void decodeChunks() {
    if (status_ == 0) {
      return;
    }
    for (;;) {
      size_t line_end = raw_.find("\r\n");
      if (line_end == std::string::npos) {
        return;
      }
      size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
      if (raw_.size() < line_end + 2 + size + 2) {
        return;
      }
      body_ += raw_.substr(line_end + 2, size);
      raw_.erase(0, line_end + 2 + size + 2);
      if (size == 0) {
        return;
      }
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string raw_;     // received, not yet decoded
  std::string header_;  // the response header
  std::string body_;    // decoded body, not yet returned
  int status_ = 0;
  bool eof_ = false;
};

}  // namespace smmhub::testing
