// Routes of the admin API: a method and a path pattern per handler, and the
// lookup that turns a request's method and path into a handler, 404 or 405.
//
//   api::Router router;
//   router.add("GET", "/api/v1/batches/{id}", [](const api::Request& request) {
//     return api::jsonResponse(200, {{"id", request.params.at("id")}});
//   });
//   api::RouteMatch match = router.match("GET", "/api/v1/batches/42");
//   // match.kind == kFound, match.params == {{"id", "42"}}
//
// A pattern is a path whose segments are literal text or a parameter written
// as {name}, which matches one non-empty segment. Matching is exact: no
// prefix matches, and "/healthz/" does not match "/healthz". Literal routes
// and parameter routes may share a prefix; a literal segment wins over a
// parameter at the same place. Parameter values and query values are
// percent-decoded (see percentDecode()).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace smmhub::api {

// A request as the handlers see it, after the server has read it whole.
struct Request {
  std::string method;                          // such as "GET"
  std::string target;                          // path and query, as sent
  std::string path;                            // target without the query
  std::map<std::string, std::string> params;   // path parameters by name
  std::map<std::string, std::string> query;    // decoded; a repeated name keeps the last value
  std::map<std::string, std::string> headers;  // names in lowercase; repeated fields joined by ", "
  std::string body;
  std::string request_id;  // the X-Request-Id of the response
  std::string peer;        // the client's IP address, such as "127.0.0.1" or "::1"
};

// Returns the value of the header NAME (lowercase) in REQUEST, or "" when it
// has none.
std::string_view header(const Request& request, std::string_view name);

// Returns the value of the cookie NAME in REQUEST's Cookie header, or "".
std::string_view cookie(const Request& request, std::string_view name);

// The channel a streamed response's producer writes through.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends DATA to the client as one chunk, waiting while earlier chunks
  // are still being written. Returns false once the client has gone or the
  // server is stopping: the producer should then return.
  virtual bool write(std::string data) = 0;
  // Whether writes can still succeed.
  virtual bool open() const = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, names may repeat
  // When set, the body is this file's content instead of `body`, sent with
  // its length.
  std::filesystem::path file;
  // When set, the body is written by this producer in chunks instead of
  // `body` (chunked transfer encoding), and the connection closes after it.
  // The producer runs on a thread of its own, so it may block, such as on
  // a Redis read for the next event; it must return soon after a write
  // fails or the writer is no longer open.
  std::function<void(StreamWriter&)> stream;
};

using Handler = std::function<Response(const Request&)>;

struct RouteOptions {
  // The largest request body the route accepts; 0 means the server's limit.
  std::uint64_t max_body_bytes = 0;
  // The handler takes long: it writes many rows, hashes a password or waits
  // for a worker. The server runs it on its threads for slow handlers
  // (ServerOptions::slow_threads), so that a burst of such requests leaves
  // the other threads free for quick ones.
  bool slow = false;
};

// One entry of the route table.
struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  RouteOptions options;
};

struct RouteMatch {
  enum Kind {
    kFound,
    kNotFound,          // no pattern matches the path
    kMethodNotAllowed,  // a pattern matches, but not with this method
  };
  Kind kind = kNotFound;
  const Route* route = nullptr;  // set when kFound
  std::map<std::string, std::string> params;
  std::string allow;  // for kMethodNotAllowed: the methods of the path, such as "GET, POST"
};

class Router {
 public:
  // Adds a route. Throws std::invalid_argument when PATTERN does not start
  // with '/', has an empty or malformed {parameter}, or when METHOD and
  // PATTERN are already registered: these are programming errors.
  void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  // Sets the handler of GET requests whose path no route has, such as the
  // files of the web UI. Its pattern, the metrics label, is LABEL.
  void setFallback(Handler handler, std::string label = "/{file}");

  // Finds the route for METHOD and PATH (without the query). A GET of a
  // path no route has finds the fallback, when one is set.
  RouteMatch match(std::string_view method, std::string_view path) const;

  // The route table in registration order, for documentation checks. The
  // fallback is not part of it.
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::optional<Route> fallback_;
};

// Splits "/a/b" into {"a", "b"}. "/" gives one empty segment.
std::vector<std::string_view> splitPath(std::string_view path);

// Decodes %XX escapes in TEXT, and '+' as a space when FORM (a query
// value). An escape that is not two hexadecimal digits stays as written.
std::string percentDecode(std::string_view text, bool form);

// The part of a file that a Range header requests (RFC 9110 section 14).
struct ByteRange {
  enum Kind {
    kWhole,          // no Range header, or one the server ignores: send the whole file
    kPart,           // send bytes FIRST to LAST, both included, with 206
    kUnsatisfiable,  // 416: the range starts past the end of the file
  };
  Kind kind = kWhole;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

// Reads the Range header VALUE for a file of SIZE bytes. One range of the
// form "bytes=A-B", "bytes=A-" or "bytes=-N" is served; a malformed header,
// another unit or several ranges give kWhole, which RFC 9110 allows.
ByteRange parseByteRange(std::string_view value, std::uint64_t size);

// Whether VALUE can be echoed as an X-Request-Id: 1 to 64 characters, each
// visible ASCII (0x21 to 0x7E).
bool isValidRequestId(std::string_view value);

// Returns a fresh request id: 32 random hexadecimal digits.
std::string newRequestId();

// Returns the body of an error response:
// {"error":{"code":CODE,"message":MESSAGE,"request_id":REQUEST_ID}}.
std::string errorBody(std::string_view code, std::string_view message, std::string_view request_id);

Response errorResponse(int status, std::string_view code, std::string_view message,
                       std::string_view request_id);

Response jsonResponse(int status, const nlohmann::json& body);

// Returns BODY with its keys in insertion order, for bodies that echo a
// client's own JSON, such as a template.
Response orderedJsonResponse(int status, const nlohmann::ordered_json& body);

}  // namespace smmhub::api
