// The admin API's HTTP/1.1 server on Boost.Beast, serving a Router's routes.
//
//   api::Router router;
//   router.add("GET", "/healthz", healthz);
//   metrics::Registry registry;
//   SMMHUB_ASSIGN_OR_RETURN(
//       std::unique_ptr<api::Server> server,
//       api::Server::start({.listen = "127.0.0.1:8080", .router = &router,
//                           .registry = &registry}));
//   ...
//   server->stop();  // lets requests in progress finish
//
// Each response carries an X-Request-Id header: the request's own when it is
// valid (isValidRequestId), else a fresh one. Errors the server produces are
// JSON bodies made by errorBody():
//   400 bad_request          the request does not parse as HTTP/1.1
//   404 not_found            no route has the path
//   405 method_not_allowed   a route has the path but not the method (with Allow)
//   413 payload_too_large    Content-Length above max_body_bytes (the response
//                            goes out before the body is read), or a chunked
//                            body that grows past it
//   431 request_header_fields_too_large   header above max_header_bytes
//   500 internal             the handler threw
// After 400, 413 and 431 the connection closes. Connections stay open
// between requests (keep-alive) until the client closes them, the idle
// timeout passes, or stop() runs.
//
// Every request adds 1 to smmhub_api_requests_total{method,route,status} and
// its handling time to smmhub_api_request_seconds_total{method,route}, and
// logs one line through logger("api"):
//   request id=ID method=GET path=/healthz status=200 bytes=15 ms=0.412
// where bytes is the response body's size. The route label is the pattern,
// such as /api/v1/batches/{id}, or "unmatched" when no route has the path.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/router.h"
#include "common/status.h"
#include "metrics/registry.h"

namespace smmhub::api {

namespace internal {
struct ServerState;
}  // namespace internal

struct ServerOptions {
  // HOST:PORT to listen on. HOST is an IPv4 address, or an IPv6 address in
  // brackets such as [::1]. Port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // REQUIRES: not null, and outlive the server.
  const Router* router = nullptr;
  metrics::Registry* registry = nullptr;
  // Threads that run the handlers. Each connection is served by one thread
  // at a time.
  int threads = 2;
  // Threads that run the handlers of slow routes (RouteOptions::slow); 0
  // runs them on the threads above.
  int slow_threads = 4;
  std::uint64_t max_body_bytes = 1024 * 1024;
  std::uint32_t max_header_bytes = 16 * 1024;
  // Time a client may take to send a complete request, and to read a
  // response, before the server closes the connection.
  std::chrono::milliseconds idle_timeout{30'000};
};

class Server {
 public:
  // Binds the address in OPTIONS and starts serving on OPTIONS.threads
  // threads. Errors: invalidArgument for a malformed listen address or a
  // thread count below 1, unavailable when the bind or listen fails, with
  // the address and the OS error.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  // The port bound, which is the chosen one when the options asked for 0.
  int port() const { return port_; }
  // HOST:PORT as bound, such as 127.0.0.1:8080 or [::1]:8080.
  const std::string& address() const;

  // Stops accepting, closes connections that wait for a request, lets the
  // requests in progress finish and their responses be written, and joins
  // the threads. A slow client delays it by up to the idle timeout. Calling
  // it again does nothing.
  void stop();

 private:
  Server(std::unique_ptr<internal::ServerState> state, int port);

  std::unique_ptr<internal::ServerState> state_;
  int port_;
  std::vector<std::thread> threads_;
};

}  // namespace smmhub::api
