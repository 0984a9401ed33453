#include "redis/connection.h"

#include <sys/time.h>

#include <charconv>

namespace smmhub::redis {
namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

bool parseWhole(std::string_view text, int& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

ReplyPtr takeReply(void* reply) {
  return ReplyPtr(static_cast<redisReply*>(reply), freeReplyObject);
}

}  // namespace

Result<Endpoint> parseUrl(const std::string& url, std::string_view setting) {
  std::string where = std::string(setting) + " '" + url + "'";
  Endpoint endpoint;
  endpoint.url = url;
  if (url.starts_with("unix://")) {
    endpoint.socket = url.substr(7);
    if (endpoint.socket.empty() || endpoint.socket[0] != '/') {
      return Status::invalidArgument(where + ": expected unix:///absolute/path/to/redis.sock");
    }
    return endpoint;
  }
  if (!url.starts_with("redis://")) {
    return Status::invalidArgument(where + ": expected redis://HOST:PORT[/DB] or unix:///PATH");
  }
  std::string rest = url.substr(8);
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (db.empty()) {
      endpoint.db = 0;
    } else if (!parseWhole(db, endpoint.db) || endpoint.db < 0) {
      return Status::invalidArgument(where + ": database '" + db + "' is not a number");
    }
    rest.resize(slash);
  }
  if (rest.find('@') != std::string::npos) {
    return Status::invalidArgument(where +
                                   ": user names and passwords are not supported; use a Redis "
                                   "reachable without them or a Unix socket");
  }
  size_t colon = rest.rfind(':');
  if (rest.starts_with('[') && (colon == std::string::npos || colon < rest.find(']'))) {
    colon = std::string::npos;  // "[::1]" without a port
  }
  endpoint.host = rest.substr(0, colon);
  if (colon != std::string::npos) {
    std::string port = rest.substr(colon + 1);
    if (!parseWhole(port, endpoint.port) || endpoint.port < 1 || endpoint.port > 65535) {
      return Status::invalidArgument(where + ": port '" + port +
                                     "' is not a number from 1 to 65535");
    }
  }
  if (endpoint.host.starts_with('[') && endpoint.host.ends_with(']')) {
    endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
  }
  if (endpoint.host.empty()) {
    return Status::invalidArgument(where + ": no host");
  }
  return endpoint;
}

std::string_view replyText(const redisReply* reply) {
  if (reply == nullptr) {
    return {};
  }
  switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return {reply->str, reply->len};
    default:
      return {};
  }
}

const redisReply* elementAt(const redisReply* reply, size_t index) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || index >= reply->elements) {
    return nullptr;
  }
  return reply->element[index];
}

Connection::Connection(Endpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

Connection::~Connection() {
  close();
}

void Connection::close() {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
}

Status Connection::fail(std::string_view what) {
  std::string error = context_ != nullptr && context_->err != 0 ? context_->errstr : "no reply";
  close();
  return Status::unavailable("redis " + endpoint_.url + ": " + std::string(what) + ": " + error);
}

Status Connection::open() {
  if (context_ != nullptr) {
    return okStatus();
  }
  timeval timeout = toTimeval(timeout_);
  context_ = endpoint_.socket.empty()
                 ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, timeout)
                 : redisConnectUnixWithTimeout(endpoint_.socket.c_str(), timeout);
  if (context_ == nullptr) {
    return Status::unavailable("redis " + endpoint_.url + ": connect: out of memory");
  }
  if (context_->err != 0) {
    return fail("connect");
  }
  redisSetTimeout(context_, timeout);
  if (endpoint_.db != 0) {
    std::string db = std::to_string(endpoint_.db);
    ReplyPtr reply = takeReply(redisCommand(context_, "SELECT %s", db.c_str()));
    if (!reply) {
      return fail("SELECT " + db);
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string error(replyText(reply.get()));
      close();
      return Status::unavailable("redis " + endpoint_.url + ": SELECT " + db + ": " + error);
    }
  }
  return okStatus();
}

Result<ReplyPtr> Connection::command(std::initializer_list<std::string_view> args) {
  return command(std::span<const std::string_view>(args.begin(), args.size()));
}

Result<ReplyPtr> Connection::command(std::span<const std::string_view> args) {
  SMMHUB_RETURN_IF_ERROR(append(args));
  return readReply();
}

Status Connection::append(std::span<const std::string_view> args) {
  SMMHUB_RETURN_IF_ERROR(open());
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                             lengths.data()) != REDIS_OK) {
    return fail(args.empty() ? std::string_view("command") : args.front());
  }
  return okStatus();
}

Result<ReplyPtr> Connection::readReply() {
  if (context_ == nullptr) {
    return Status::unavailable("redis " + endpoint_.url + ": not connected");
  }
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    return fail("reply");
  }
  return takeReply(raw);
}

Result<std::string> Script::load(Connection& connection) const {
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, connection.command({"SCRIPT", "LOAD", source_}));
  if (reply->type != REDIS_REPLY_STRING) {
    return Status::internal("redis " + connection.endpoint().url +
                            ": SCRIPT LOAD: " + std::string(replyText(reply.get())));
  }
  std::string sha(replyText(reply.get()));
  std::lock_guard lock(mutex_);
  sha_ = sha;
  return sha;
}

Result<ReplyPtr> Script::run(Connection& connection, std::span<const std::string> keys,
                             std::span<const std::string> args) const {
  std::string sha;
  {
    std::lock_guard lock(mutex_);
    sha = sha_;
  }
  if (sha.empty()) {
    SMMHUB_ASSIGN_OR_RETURN(sha, load(connection));
  }
  std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(sha);
  argv.push_back(key_count);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  SMMHUB_ASSIGN_OR_RETURN(ReplyPtr reply, connection.command(argv));
  if (reply->type == REDIS_REPLY_ERROR && replyText(reply.get()).starts_with("NOSCRIPT")) {
    SMMHUB_ASSIGN_OR_RETURN(sha, load(connection));
    argv[1] = sha;
    return connection.command(argv);
  }
  return reply;
}

}  // namespace smmhub::redis
