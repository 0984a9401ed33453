#include "api/server.h"

#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <list>
#include <mutex>
#include <string_view>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "common/check.h"
#include "common/log.h"

namespace smmhub::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Parses HOST:PORT, where HOST is an IPv4 address or an IPv6 address in
// brackets.
Result<asio::ip::tcp::endpoint> parseListen(const std::string& listen) {
  std::string where = "listen address '" + listen + "'";
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || listen.ends_with(']')) {
    return Status::invalidArgument(where +
                                   ": expected HOST:PORT, such as 127.0.0.1:8080 or [::1]:8080");
  }
  std::string host = listen.substr(0, colon);
  std::string port_text = listen.substr(colon + 1);
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    host = host.substr(1, host.size() - 2);
  }

  boost::system::error_code error;
  asio::ip::address address = asio::ip::make_address(host, error);
  if (error || address.is_v6() != bracketed) {
    return Status::invalidArgument(
        where + ": host '" + host +
        "' is not an IPv4 address or an IPv6 address in brackets, such as [::1]");
  }
  int port = -1;
  const char* end = port_text.data() + port_text.size();
  auto [parsed_end, parse_error] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || parse_error != std::errc() || parsed_end != end || port < 0 ||
      port > 65535) {
    return Status::invalidArgument(where + ": port '" + port_text +
                                   "' is not a number from 0 to 65535");
  }
  return asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

// Splits the query of TARGET into name=value pairs, decoded.
std::map<std::string, std::string> parseQuery(std::string_view target) {
  std::map<std::string, std::string> query;
  size_t mark = target.find('?');
  if (mark == std::string_view::npos) {
    return query;
  }
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t equals = pair.find('=');
    if (!pair.empty()) {
      query[percentDecode(pair.substr(0, equals), true)] =
          equals == std::string_view::npos ? "" : percentDecode(pair.substr(equals + 1), true);
    }
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return query;
}

// The method label of the metrics: the standard verbs by name, anything
// else as OTHER, so that clients cannot add series at will.
std::string methodLabel(http::verb verb) {
  if (verb == http::verb::unknown) {
    return "OTHER";
  }
  return std::string(http::to_string(verb));
}

// Whether a read failed on the request's syntax, not on the connection.
bool isMalformedRequest(const boost::system::error_code& error) {
  bool from_parser = error.category() == make_error_code(http::error::bad_target).category();
  return from_parser && error != http::error::end_of_stream &&
         error != http::error::partial_message;
}

}  // namespace

namespace internal {

// One open connection, shared between its coroutine and stop().
struct Connection {
  explicit Connection(asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  // Whether a request is being handled or its response written. Read and
  // written only on the connection's strand.
  bool busy = false;
};

struct ServerState {
  asio::io_context io;
  // Runs the handlers of slow routes; null when they run on `io`'s threads.
  std::unique_ptr<asio::thread_pool> slow;
  asio::ip::tcp::acceptor acceptor{asio::make_strand(io)};
  ServerOptions options;
  std::string address;  // as bound, for log lines
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards connections and producers
  std::list<std::weak_ptr<Connection>> connections;
  // Producers of streamed responses still running; stop() waits for none.
  int producers = 0;
  std::condition_variable producers_done;
};

}  // namespace internal

namespace {

using internal::Connection;
using internal::ServerState;

// Facts about one request that the access log and the metrics record.
struct Exchange {
  std::string request_id;
  std::string method = "OTHER";
  std::string path;
  std::string route = "unmatched";
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// Records the metrics and the access log line of one response.
void recordExchange(ServerState& state, const Exchange& exchange, int status, size_t bytes) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - exchange.started).count();
  std::string status_text = std::to_string(status);
  state.options.registry
      ->counter("smmhub_api_requests_total", "Requests answered by the API server.",
                {{"method", exchange.method}, {"route", exchange.route}, {"status", status_text}})
      .inc();
  state.options.registry
      ->counter("smmhub_api_request_seconds_total",
                "Seconds spent reading, handling and answering requests, from the end of the "
                "request header to the response being built.",
                {{"method", exchange.method}, {"route", exchange.route}})
      .inc(seconds);
  logger("api")->info("request id={} method={} path={} status={} bytes={} ms={:.3f}",
                      exchange.request_id, exchange.method, exchange.path, status, bytes,
                      seconds * 1000);
}

// Builds the Beast response for RESPONSE, with the request id and the
// keep-alive decision.
http::response<http::string_body> toBeast(Response response, const std::string& request_id,
                                          bool keep_alive) {
  http::response<http::string_body> out(static_cast<http::status>(response.status), 11);
  out.set(http::field::content_type, response.content_type);
  out.set("X-Request-Id", request_id);
  for (auto& [name, value] : response.headers) {
    out.insert(name, value);
  }
  out.keep_alive(keep_alive);
  out.body() = std::move(response.body);
  out.prepare_payload();
  return out;
}

// Runs the handler of a parsed request and returns its response. A handler
// that throws gets a 500, and the exception is logged.
Response dispatch(ServerState& state, const http::request<http::string_body>& message,
                  Exchange& exchange, std::string peer) {
  std::string_view target = message.target();
  Request request{.method = std::string(message.method_string()),
                  .target = std::string(target),
                  .path = std::string(target.substr(0, target.find('?'))),
                  .query = parseQuery(target),
                  .body = message.body(),
                  .request_id = exchange.request_id,
                  .peer = std::move(peer)};
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto [entry, inserted] = request.headers.emplace(name, std::string(field.value()));
    if (!inserted) {
      entry->second += ", ";
      entry->second += field.value();
    }
  }

  RouteMatch match = state.options.router->match(request.method, request.path);
  if (match.kind == RouteMatch::kNotFound) {
    return errorResponse(404, "not_found", "no route for path " + request.path,
                         exchange.request_id);
  }
  if (match.kind == RouteMatch::kMethodNotAllowed) {
    Response response = errorResponse(405, "method_not_allowed",
                                      "method " + request.method + " is not allowed on " +
                                          request.path + ". Allowed: " + match.allow,
                                      exchange.request_id);
    response.headers.emplace_back("Allow", match.allow);
    return response;
  }

  exchange.route = match.route->pattern;
  request.params = std::move(match.params);
  try {
    return match.route->handler(request);
  } catch (const std::exception& error) {
    logger("api")->error("handler failed id={} route={} error={}", exchange.request_id,
                         exchange.route, error.what());
    return errorResponse(500, "internal", "the server failed to handle the request",
                         exchange.request_id);
  }
}

// Writes RESPONSE, records it and returns whether the write succeeded.
asio::awaitable<bool> send(ServerState& state, Connection& connection, const Exchange& exchange,
                           Response response, bool keep_alive) {
  int status = response.status;
  size_t bytes = response.body.size();
  http::response<http::string_body> message =
      toBeast(std::move(response), exchange.request_id, keep_alive);
  recordExchange(state, exchange, status, bytes);
  connection.stream.expires_after(state.options.idle_timeout);
  auto [error, written] = co_await http::async_write(connection.stream, message, kTuple);
  co_return !error;
}

// A file as the part of it that a response sends: size() is the part's
// length, and reads start at its first byte. It meets Beast's File
// concept, so that http::basic_file_body streams the part from disk.
class FileWindow {
 public:
  using native_handle_type = beast::file::native_handle_type;

  bool is_open() const { return file_.is_open(); }
  void close(boost::system::error_code& error) { file_.close(error); }
  void open(const char* path, beast::file_mode mode, boost::system::error_code& error) {
    file_.open(path, mode, error);
    length_ = error ? 0 : file_.size(error);
  }
  std::uint64_t size(boost::system::error_code& error) const {
    error = {};
    return length_;
  }
  std::uint64_t pos(boost::system::error_code& error) const { return file_.pos(error) - first_; }
  void seek(std::uint64_t offset, boost::system::error_code& error) {
    file_.seek(first_ + offset, error);
  }
  size_t read(void* buffer, size_t bytes, boost::system::error_code& error) {
    return file_.read(buffer, bytes, error);
  }
  size_t write(const void*, size_t, boost::system::error_code& error) {
    error = make_error_code(boost::system::errc::operation_not_supported);
    return 0;
  }

  // Limits the window to bytes FIRST to LAST of the open file.
  void select(std::uint64_t first, std::uint64_t last, boost::system::error_code& error) {
    first_ = first;
    length_ = last - first + 1;
    file_.seek(first, error);
  }

 private:
  beast::file file_;
  std::uint64_t first_ = 0;
  std::uint64_t length_ = 0;
};

// The validator of a file's current content: its size and modification
// time, which change whenever the file is replaced.
std::string fileTag(const std::filesystem::path& path) {
  std::error_code error;
  std::uintmax_t size = std::filesystem::file_size(path, error);
  auto modified = std::filesystem::last_write_time(path, error);
  return fmt::format("\"{:x}-{:x}\"", size,
                     static_cast<std::uint64_t>(modified.time_since_epoch().count()));
}

// Writes a response whose body is RESPONSE.file, records it and returns
// whether the write succeeded. A file that cannot be opened gets a 404.
// For a 200 it handles conditional and range requests: 304 when
// If-None-Match names the file's tag, 206 with the part that the Range
// header requests (unless If-Range names another version), 416 for a range
// past the end.
asio::awaitable<bool> sendFile(ServerState& state, Connection& connection, const Exchange& exchange,
                               Response response, const http::request<http::string_body>& request,
                               bool keep_alive) {
  http::response<http::basic_file_body<FileWindow>> message(
      static_cast<http::status>(response.status), 11);
  boost::system::error_code error;
  FileWindow file;
  file.open(response.file.c_str(), beast::file_mode::scan, error);
  if (error) {
    logger("api")->warn("response file unreadable id={} file={} error={}", exchange.request_id,
                        response.file.string(), error.message());
    co_return co_await send(
        state, connection, exchange,
        errorResponse(404, "not_found", "the file is no longer stored", exchange.request_id),
        keep_alive);
  }
  message.set(http::field::content_type, response.content_type);
  message.set("X-Request-Id", exchange.request_id);
  for (auto& [name, value] : response.headers) {
    message.insert(name, value);
  }

  if (response.status == 200) {
    std::string tag = fileTag(response.file);
    std::uint64_t size = file.size(error);
    message.set(http::field::etag, tag);
    message.set(http::field::accept_ranges, "bytes");
    if (request[http::field::if_none_match] == tag) {
      Response not_modified{.status = 304, .content_type = response.content_type};
      not_modified.headers = std::move(response.headers);
      not_modified.headers.emplace_back("ETag", tag);
      co_return co_await send(state, connection, exchange, std::move(not_modified), keep_alive);
    }
    std::string_view if_range = request[http::field::if_range];
    ByteRange range = parseByteRange(request[http::field::range], size);
    if (!if_range.empty() && if_range != tag) {
      range = {};
    }
    if (range.kind == ByteRange::kUnsatisfiable) {
      Response unsatisfiable =
          errorResponse(416, "range_not_satisfiable",
                        fmt::format("the range {} is outside the file's {} bytes",
                                    std::string(request[http::field::range]), size),
                        exchange.request_id);
      unsatisfiable.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
      co_return co_await send(state, connection, exchange, std::move(unsatisfiable), keep_alive);
    }
    if (range.kind == ByteRange::kPart) {
      file.select(range.first, range.last, error);
      if (error) {
        co_return co_await send(
            state, connection, exchange,
            errorResponse(500, "internal", "the file could not be read", exchange.request_id),
            keep_alive);
      }
      message.result(http::status::partial_content);
      message.set(http::field::content_range,
                  fmt::format("bytes {}-{}/{}", range.first, range.last, size));
    }
  }

  message.body().reset(std::move(file), error);
  message.keep_alive(keep_alive);
  message.prepare_payload();
  size_t bytes = message.body().size();
  recordExchange(state, exchange, message.result_int(), bytes);
  connection.stream.expires_after(state.options.idle_timeout);
  auto [write_error, written] = co_await http::async_write(connection.stream, message, kTuple);
  co_return !write_error;
}

// The producer's side of a streamed response: chunks go through a channel
// to the connection's coroutine, which writes them.
class ChannelWriter final : public StreamWriter {
 public:
  using Channel =
      asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;

  ChannelWriter(std::shared_ptr<Channel> channel, const std::atomic<bool>& stopping)
      : channel_(std::move(channel)), stopping_(stopping) {}

  bool write(std::string data) override {
    if (!open()) {
      return false;
    }
    try {
      channel_->async_send(boost::system::error_code(), std::move(data), asio::use_future).get();
      return true;
    } catch (const boost::system::system_error&) {
      return false;  // the channel closed: the client went away
    }
  }

  bool open() const override { return !stopping_ && channel_->is_open(); }

 private:
  std::shared_ptr<Channel> channel_;
  const std::atomic<bool>& stopping_;
};

// Writes the header of a streamed response, then each chunk its producer
// sends, then the last chunk. The producer runs on a thread of its own.
// Returns false: the connection closes after a streamed response.
asio::awaitable<bool> sendStream(ServerState& state, Connection& connection,
                                 const Exchange& exchange, Response response) {
  http::response<http::empty_body> message(static_cast<http::status>(response.status), 11);
  message.set(http::field::content_type, response.content_type);
  message.set("X-Request-Id", exchange.request_id);
  for (auto& [name, value] : response.headers) {
    message.insert(name, value);
  }
  message.keep_alive(false);
  message.chunked(true);
  http::response_serializer<http::empty_body> serializer(message);
  recordExchange(state, exchange, response.status, 0);
  connection.stream.expires_after(state.options.idle_timeout);
  auto [header_error, header_bytes] =
      co_await http::async_write_header(connection.stream, serializer, kTuple);
  if (header_error) {
    co_return false;
  }

  auto channel = std::make_shared<ChannelWriter::Channel>(connection.stream.get_executor(), 4);
  {
    std::lock_guard lock(state.mutex);
    ++state.producers;
  }
  std::thread([channel, producer = std::move(response.stream), &state,
               id = exchange.request_id]() mutable {
    {
      ChannelWriter writer(channel, state.stopping);
      try {
        producer(writer);
      } catch (const std::exception& error) {
        logger("api")->error("stream producer failed id={} error={}", id, error.what());
      }
    }
    channel->close();
    // Nothing that refers to the io_context may outlive the count, because
    // stop() destroys it once the count is zero.
    channel.reset();
    producer = nullptr;
    std::lock_guard lock(state.mutex);
    --state.producers;
    state.producers_done.notify_all();
  }).detach();
  for (;;) {
    auto [error, chunk] = co_await channel->async_receive(kTuple);
    if (error) {
      break;  // the producer returned
    }
    if (chunk.empty()) {
      continue;  // an empty chunk would end the body
    }
    connection.stream.expires_after(state.options.idle_timeout);
    auto [write_error, written] = co_await asio::async_write(
        connection.stream, http::make_chunk(asio::buffer(chunk)), kTuple);
    if (write_error) {
      channel->close();
      co_return false;
    }
  }
  co_await asio::async_write(connection.stream, http::make_chunk_last(), kTuple);
  co_return false;
}

// The request id for a request whose header PARSER has read.
std::string requestIdOf(const http::request_parser<http::string_body>& parser) {
  auto field = parser.get().find("X-Request-Id");
  if (field != parser.get().end() && isValidRequestId(field->value())) {
    return std::string(field->value());
  }
  return newRequestId();
}

// Closes the connection. After a rejected request, it first reads and drops
// what the client still sends, for up to a second and 1 MiB. Closing a socket
// with unread data sends a reset, and the client can then lose the error
// response before reading it.
asio::awaitable<void> closeConnection(Connection& connection, bool rejected) {
  boost::system::error_code ignored;
  connection.stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  if (rejected) {
    constexpr size_t kMaxDrainBytes = 1024 * 1024;
    std::array<char, 16 * 1024> discard;
    size_t drained = 0;
    connection.stream.expires_after(std::chrono::seconds(1));
    while (drained < kMaxDrainBytes) {
      auto [error, bytes] =
          co_await connection.stream.async_read_some(asio::buffer(discard), kTuple);
      if (error) {
        break;
      }
      drained += bytes;
    }
  }
  connection.stream.socket().close(ignored);
}

// Serves the requests of one connection until the client closes it, a read
// or write fails or times out, a response closes it, or the server stops.
asio::awaitable<void> serveConnection(ServerState& state, std::shared_ptr<Connection> connection) {
  beast::flat_buffer buffer;
  bool rejected = false;  // whether the last response rejected an unread request
  while (!state.stopping) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(state.options.max_header_bytes);
    // Without a limit while the header is read, so that an oversized
    // Content-Length reaches the check below, which names the length.
    parser.body_limit(boost::none);
    connection->stream.expires_after(state.options.idle_timeout);
    auto [header_error, header_bytes] =
        co_await http::async_read_header(connection->stream, buffer, parser, kTuple);

    // The request is in progress from its first header byte on, so that
    // stop() lets it finish.
    connection->busy = true;
    Exchange exchange{.request_id = header_error ? newRequestId() : requestIdOf(parser)};
    if (!header_error) {
      exchange.method = methodLabel(parser.get().method());
      std::string_view target = parser.get().target();
      exchange.path = std::string(target.substr(0, target.find('?')));
    }
    if (header_error == http::error::header_limit) {
      co_await send(state, *connection, exchange,
                    errorResponse(431, "request_header_fields_too_large",
                                  fmt::format("request header larger than {} bytes",
                                              state.options.max_header_bytes),
                                  exchange.request_id),
                    false);
      rejected = true;
      break;
    }
    if (isMalformedRequest(header_error)) {
      co_await send(
          state, *connection, exchange,
          errorResponse(400, "bad_request", "malformed HTTP request: " + header_error.message(),
                        exchange.request_id),
          false);
      rejected = true;
      break;
    }
    if (header_error) {
      // End of stream, idle timeout, a reset, or stop() closing an idle connection.
      logger("api")->debug("connection closed error={}", header_error.message());
      break;
    }

    // A declared body above the limit is rejected before any of it is read.
    std::uint64_t max_body = state.options.max_body_bytes;
    bool slow = false;
    if (!header_error) {
      RouteMatch route = state.options.router->match(parser.get().method_string(), exchange.path);
      if (route.kind == RouteMatch::kFound && route.route->options.max_body_bytes != 0) {
        max_body = route.route->options.max_body_bytes;
      }
      slow = route.kind == RouteMatch::kFound && route.route->options.slow && state.slow;
    }
    boost::optional<std::uint64_t> length = parser.content_length();
    if (length && *length > max_body) {
      co_await send(state, *connection, exchange,
                    errorResponse(413, "payload_too_large",
                                  fmt::format("request body of {} bytes is larger than the "
                                              "limit of {} bytes",
                                              *length, max_body),
                                  exchange.request_id),
                    false);
      rejected = true;
      break;
    }
    parser.body_limit(max_body);
    auto [body_error, body_bytes] =
        co_await http::async_read(connection->stream, buffer, parser, kTuple);
    if (body_error == http::error::body_limit) {
      co_await send(
          state, *connection, exchange,
          errorResponse(413, "payload_too_large",
                        fmt::format("request body larger than the limit of {} bytes", max_body),
                        exchange.request_id),
          false);
      rejected = true;
      break;
    }
    if (isMalformedRequest(body_error)) {
      co_await send(
          state, *connection, exchange,
          errorResponse(400, "bad_request", "malformed HTTP request: " + body_error.message(),
                        exchange.request_id),
          false);
      rejected = true;
      break;
    }
    if (body_error) {
      logger("api")->debug("connection closed id={} error={}", exchange.request_id,
                           body_error.message());
      break;
    }

    boost::system::error_code peer_error;
    auto remote = connection->stream.socket().remote_endpoint(peer_error);
    std::string peer = peer_error ? "" : remote.address().to_string();
    Response response;
    if (slow) {
      // The connection's coroutine waits on its own strand meanwhile.
      response = co_await asio::co_spawn(
          state.slow->get_executor(),
          [&]() -> asio::awaitable<Response> {
            co_return dispatch(state, parser.get(), exchange, std::move(peer));
          },
          asio::use_awaitable);
    } else {
      response = dispatch(state, parser.get(), exchange, std::move(peer));
    }
    bool keep_alive = parser.get().keep_alive() && !state.stopping;
    bool sent = false;
    if (response.stream) {
      sent = co_await sendStream(state, *connection, exchange, std::move(response));
    } else if (!response.file.empty()) {
      sent = co_await sendFile(state, *connection, exchange, std::move(response), parser.get(),
                               keep_alive);
    } else {
      sent = co_await send(state, *connection, exchange, std::move(response), keep_alive);
    }
    connection->busy = false;
    if (!sent || !keep_alive) {
      break;
    }
  }
  co_await closeConnection(*connection, rejected);
}

// Accepts connections until the acceptor closes. Each connection gets its
// own strand, so that its coroutine never runs on two threads at once.
asio::awaitable<void> acceptConnections(ServerState& state) {
  asio::steady_timer pause(state.acceptor.get_executor());
  for (;;) {
    auto [error, socket] =
        co_await state.acceptor.async_accept(asio::make_strand(state.io), kTuple);
    if (error == asio::error::operation_aborted || !state.acceptor.is_open()) {
      co_return;
    }
    if (error) {
      // Such as too many open files. The pause keeps the loop from spinning.
      logger("api")->warn("accept failed address={} error={}", state.address, error.message());
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }

    auto connection = std::make_shared<Connection>(std::move(socket));
    std::list<std::weak_ptr<Connection>>::iterator entry;
    {
      std::lock_guard lock(state.mutex);
      entry = state.connections.insert(state.connections.end(), connection);
    }
    asio::co_spawn(connection->stream.get_executor(), serveConnection(state, connection),
                   [&state, entry](std::exception_ptr) {
                     std::lock_guard lock(state.mutex);
                     state.connections.erase(entry);
                   });
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options) {
  SMMHUB_CHECK(options.router != nullptr);
  SMMHUB_CHECK(options.registry != nullptr);
  if (options.threads < 1) {
    return Status::invalidArgument(
        fmt::format("thread count {} is invalid: it must be at least 1", options.threads));
  }
  if (options.slow_threads < 0) {
    return Status::invalidArgument(
        fmt::format("slow thread count {} is invalid: it must be 0 or more", options.slow_threads));
  }
  SMMHUB_ASSIGN_OR_RETURN(asio::ip::tcp::endpoint endpoint, parseListen(options.listen));

  auto state = std::make_unique<ServerState>();
  state->options = options;
  if (options.slow_threads > 0) {
    state->slow = std::make_unique<asio::thread_pool>(options.slow_threads);
  }
  boost::system::error_code error;
  state->acceptor.open(endpoint.protocol(), error);
  // Lets a restarted server bind while connections of the old one are in
  // TIME_WAIT. Linux still rejects the bind while another socket listens.
  if (!error) {
    state->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
  }
  if (!error) {
    state->acceptor.bind(endpoint, error);
  }
  if (!error) {
    state->acceptor.listen(asio::socket_base::max_listen_connections, error);
  }
  if (error) {
    return Status::unavailable("listen address '" + options.listen +
                               "': cannot listen: " + error.message());
  }

  int port = state->acceptor.local_endpoint().port();
  std::string host = endpoint.address().to_string();
  state->address = endpoint.address().is_v6() ? fmt::format("[{}]:{}", host, port)
                                              : fmt::format("{}:{}", host, port);
  asio::co_spawn(state->acceptor.get_executor(), acceptConnections(*state), asio::detached);
  logger("api")->info("api server listening address={} threads={} slow_threads={}", state->address,
                      options.threads, options.slow_threads);
  return std::unique_ptr<Server>(new Server(std::move(state), port));
}

Server::Server(std::unique_ptr<ServerState> state, int port)
    : state_(std::move(state)), port_(port) {
  for (int i = 0; i < state_->options.threads; ++i) {
    threads_.emplace_back([state = state_.get()] { state->io.run(); });
  }
}

Server::~Server() {
  stop();
}

const std::string& Server::address() const {
  return state_->address;
}

void Server::stop() {
  if (state_ == nullptr) {
    return;
  }
  ServerState& state = *state_;
  state.stopping = true;
  asio::post(state.acceptor.get_executor(), [&state] {
    boost::system::error_code ignored;
    state.acceptor.close(ignored);
  });

  // Connections waiting for a request close now. The others see `stopping`
  // after their response and close then.
  {
    std::lock_guard lock(state.mutex);
    for (const std::weak_ptr<Connection>& weak : state.connections) {
      if (std::shared_ptr<Connection> connection = weak.lock()) {
        asio::post(connection->stream.get_executor(), [connection] {
          if (!connection->busy) {
            connection->stream.cancel();
          }
        });
      }
    }
  }

  // The threads return once every coroutine has ended, which for a streamed
  // response is once its producer has seen `stopping` and returned.
  for (std::thread& thread : threads_) {
    thread.join();
  }
  threads_.clear();
  if (state.slow) {
    state.slow->join();
  }
  {
    std::unique_lock lock(state.mutex);
    state.producers_done.wait(lock, [&state] { return state.producers == 0; });
  }
  std::string address = state.address;
  state_.reset();
  logger("api")->info("api server stopped address={}", address);
}

}  // namespace smmhub::api
