#include "metrics/server.h"

#include <charconv>
#include <string_view>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "common/check.h"
#include "common/log.h"

namespace smmhub::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;
// Scrapes carry no body, so a larger one is a client error.
constexpr std::uint64_t kMaxBodyBytes = std::uint64_t{8} * 1024;
constexpr std::string_view kExpositionType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Parses HOST:PORT, where HOST is an IPv4 address or an IPv6 address in
// brackets. WHERE starts error messages.
Result<asio::ip::tcp::endpoint> parseListen(const std::string& listen, const std::string& where) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || listen.ends_with(']')) {
    return Status::invalidArgument(where +
                                   ": expected HOST:PORT, such as 127.0.0.1:9100 or [::1]:9100");
  }
  std::string host = listen.substr(0, colon);
  std::string port_text = listen.substr(colon + 1);

  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code error;
  asio::ip::address address = asio::ip::make_address(host, error);
  if (error) {
    return Status::invalidArgument(where + ": host '" + host +
                                   "' is not an IPv4 address or an IPv6 address in brackets");
  }
  if (address.is_v6() != bracketed) {
    return Status::invalidArgument(
        where + (bracketed ? ": only IPv6 addresses go in brackets"
                           : ": an IPv6 address needs brackets, such as [::1]:9100"));
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

// Builds the response to one request. Responses to HEAD keep the
// Content-Length of the GET response and carry no body.
http::response<http::string_body> respond(const http::request<http::string_body>& request,
                                          const Registry& registry) {
  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));
  bool is_get = request.method() == http::verb::get;
  bool is_head = request.method() == http::verb::head;

  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  response.set(http::field::content_type, kTextType);
  if (path != "/metrics" && path != "/healthz") {
    response.result(http::status::not_found);
    response.body() = "not found\n";
  } else if (!is_get && !is_head) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET, HEAD");
    response.body() = "method not allowed\n";
  } else if (path == "/metrics") {
    response.result(http::status::ok);
    response.set(http::field::content_type, kExpositionType);
    response.body() = registry.render();
  } else {
    response.result(http::status::ok);
    response.body() = "ok\n";
  }

  response.prepare_payload();
  if (is_head) {
    response.body().clear();
  }
  return response;
}

}  // namespace

namespace internal {

struct ServerState {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io};
  const Registry* registry = nullptr;
  std::chrono::milliseconds idle_timeout{};
  std::string address;  // as listened on, for log lines
};

}  // namespace internal

namespace {

// Whether a read failed on the request's syntax, not on the connection.
bool isMalformedRequest(const boost::system::error_code& error) {
  bool from_parser = error.category() == make_error_code(http::error::bad_target).category();
  return from_parser && error != http::error::end_of_stream &&
         error != http::error::partial_message;
}

// Sends a response to a request that could not be read, then closes.
asio::awaitable<void> reject(beast::tcp_stream& stream, http::status status,
                             std::string_view body) {
  http::response<http::string_body> response(status, 11);  // HTTP/1.1
  response.set(http::field::content_type, kTextType);
  response.keep_alive(false);
  response.body() = body;
  response.prepare_payload();
  co_await http::async_write(stream, response, kTuple);
}

// Serves the requests of one connection until the client closes it, a read
// or write fails or times out, or a response closes it.
asio::awaitable<void> serveConnection(internal::ServerState& state, asio::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    stream.expires_after(state.idle_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (read_error == http::error::header_limit) {
      co_await reject(stream, http::status::request_header_fields_too_large,
                      "request header larger than 8 KiB\n");
      break;
    }
    if (read_error == http::error::body_limit) {
      co_await reject(stream, http::status::payload_too_large, "request body larger than 8 KiB\n");
      break;
    }
    if (isMalformedRequest(read_error)) {
      co_await reject(stream, http::status::bad_request, "malformed request\n");
      break;
    }
    if (read_error) {
      // End of stream, idle timeout, a reset, or a request cut off.
      logger("metrics")->debug("connection closed error={}", read_error.message());
      break;
    }

    http::response<http::string_body> response = respond(parser.get(), *state.registry);
    logger("metrics")->debug("request method={} target={} status={}",
                             std::string_view(parser.get().method_string()),
                             std::string_view(parser.get().target()), response.result_int());
    stream.expires_after(state.idle_timeout);
    auto [write_error, write_bytes] = co_await http::async_write(stream, response, kTuple);
    if (write_error || !response.keep_alive()) {
      break;
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

// Accepts connections until the acceptor closes, each served by its own
// coroutine on the same thread.
asio::awaitable<void> acceptConnections(internal::ServerState& state) {
  asio::steady_timer pause(state.io);
  for (;;) {
    auto [error, socket] = co_await state.acceptor.async_accept(kTuple);
    if (error == asio::error::operation_aborted || !state.acceptor.is_open()) {
      co_return;
    }
    if (error) {
      // Such as too many open files. The pause keeps the loop from spinning.
      logger("metrics")->warn("accept failed address={} error={}", state.address, error.message());
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    asio::co_spawn(state.io, serveConnection(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options) {
  SMMHUB_CHECK(options.registry != nullptr);
  std::string where = options.setting + " '" + options.listen + "'";
  SMMHUB_ASSIGN_OR_RETURN(asio::ip::tcp::endpoint endpoint, parseListen(options.listen, where));

  auto state = std::make_unique<internal::ServerState>();
  state->registry = options.registry;
  state->idle_timeout = options.idle_timeout;
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
    return Status::unavailable(where + ": cannot listen: " + error.message());
  }

  int port = state->acceptor.local_endpoint().port();
  std::string host = endpoint.address().to_string();
  state->address = endpoint.address().is_v6() ? fmt::format("[{}]:{}", host, port)
                                              : fmt::format("{}:{}", host, port);
  asio::co_spawn(state->io, acceptConnections(*state), asio::detached);
  logger("metrics")->info("metrics server listening address={}", state->address);
  return std::unique_ptr<Server>(new Server(std::move(state), port));
}

Server::Server(std::unique_ptr<internal::ServerState> state, int port)
    : state_(std::move(state)), port_(port) {
  thread_ = std::thread([state = state_.get()] { state->io.run(); });
}

Server::~Server() {
  stop();
}

void Server::stop() {
  if (state_ == nullptr) {
    return;
  }
  state_->io.stop();
  thread_.join();
  std::string address = state_->address;

  // Destroying the io_context destroys the coroutines still waiting, which
  // closes the listener and every connection.
  state_.reset();
  logger("metrics")->info("metrics server stopped address={}", address);
}

}  // namespace smmhub::metrics
