// An HTTP server that exposes a Registry for Prometheus to scrape.
//
//   metrics::Registry registry;
//   SMMHUB_ASSIGN_OR_RETURN(
//       std::unique_ptr<metrics::Server> server,
//       metrics::Server::start({.listen = "127.0.0.1:9100", .registry = &registry}));
//   // curl http://127.0.0.1:9100/metrics
//
// Routes: GET or HEAD /metrics returns registry->render() as text/plain
// version 0.0.4; GET or HEAD /healthz returns "ok\n"; another method on
// either path returns 405 with an Allow header, and any other path 404.
// A request whose header is larger than 8 KiB gets 431 and the connection
// closes, and so does a connection that sends no complete request within
// the idle timeout.
//
// NOTE: one background thread serves every connection, so a slow gauge
// callback delays other scrapes, and stop() waits for a render in progress.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "metrics/registry.h"

namespace smmhub::metrics {

namespace internal {
struct ServerState;
}  // namespace internal

struct ServerOptions {
  // HOST:PORT to listen on. HOST is an IPv4 address, or an IPv6 address in
  // brackets such as [::1]. Host names are rejected. Port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // The option or setting that `listen` came from, such as "--metrics-listen".
  // Error messages start with it.
  std::string setting = "listen";
  // REQUIRES: not null, and outlives the server.
  const Registry* registry = nullptr;
  // Time a connection may take to send a complete request, and a response
  // to be written, before the server closes the connection.
  std::chrono::milliseconds idle_timeout{5'000};
};

class Server {
 public:
  // Binds the address in OPTIONS and starts serving on a background thread.
  // Errors: invalidArgument when the listen address is malformed, naming the
  // setting and the address. Unavailable when the bind or listen fails, with
  // the address and the OS error (such as "Address already in use").
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  // The port bound, which is the chosen one when the options asked for 0.
  int port() const { return port_; }

  // Closes the listener and every open connection, and joins the thread.
  // Calling it again does nothing.
  void stop();

 private:
  Server(std::unique_ptr<internal::ServerState> state, int port);

  std::unique_ptr<internal::ServerState> state_;
  int port_;
  std::thread thread_;
};

}  // namespace smmhub::metrics
