// One hiredis connection with timeouts, and Lua scripts run by their digest.
//
//   SMMHUB_ASSIGN_OR_RETURN(redis::Endpoint endpoint, redis::parseUrl(url, "--redis"));
//   redis::Connection connection(endpoint, std::chrono::milliseconds(250));
//   SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply, connection.command({"GET", key}));
//
// A Connection is not thread-safe: give each thread its own, or guard it.
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include "common/status.h"

namespace smmhub::redis {

struct Endpoint {
  std::string url;   // as given, for messages
  std::string host;  // empty for a Unix socket
  int port = 6379;
  std::string socket;  // path of a Unix socket
  int db = 0;
};

// Parses "redis://HOST[:PORT][/DB]" (an IPv6 host in brackets; "/" alone
// selects database 0) or "unix:///PATH". SETTING names where the URL came from, such as
// "--cache-redis", and starts every error message. Errors: invalidArgument.
Result<Endpoint> parseUrl(const std::string& url, std::string_view setting);

using ReplyPtr = std::unique_ptr<redisReply, void (*)(void*)>;

// The bytes of a string, status or error reply; empty otherwise, and for
// a null REPLY.
std::string_view replyText(const redisReply* reply);

// The element at INDEX of an array reply, or nullptr when REPLY is null, not
// an array, or shorter.
const redisReply* elementAt(const redisReply* reply, size_t index);

class Connection {
 public:
  Connection(Endpoint endpoint, std::chrono::milliseconds timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }
  bool isOpen() const { return context_ != nullptr; }

  // Connects and selects the database when the connection is closed.
  // Errors: unavailable, with the URL and the error from hiredis or the
  // server.
  Status open();
  void close();

  // Sends one command and reads its reply, opening the connection first. A
  // transport failure or a timeout closes the connection and returns
  // unavailable. An error reply comes back as a reply of type
  // REDIS_REPLY_ERROR: the server is working and the connection stays open.
  Result<ReplyPtr> command(std::span<const std::string_view> args);
  Result<ReplyPtr> command(std::initializer_list<std::string_view> args);

  // Pipelining: queue commands with append(), then read their replies in
  // order with readReply().
  Status append(std::span<const std::string_view> args);
  Result<ReplyPtr> readReply();

 private:
  Status fail(std::string_view what);

  Endpoint endpoint_;
  std::chrono::milliseconds timeout_;
  redisContext* context_ = nullptr;
};

// A Lua script run with EVALSHA. The first run loads it; a server that lost
// its scripts (restarted or flushed) replies NOSCRIPT, and the script is
// loaded again. Thread-safe; one Script can serve many connections.
class Script {
 public:
  explicit Script(std::string source) : source_(std::move(source)) {}

  Result<ReplyPtr> run(Connection& connection, std::span<const std::string> keys,
                       std::span<const std::string> args) const;

 private:
  Result<std::string> load(Connection& connection) const;

  std::string source_;
  mutable std::mutex mutex_;
  mutable std::string sha_;
};

}  // namespace smmhub::redis
