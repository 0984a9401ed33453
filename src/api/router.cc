#include "api/router.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace smmhub::api {

namespace {

bool isParameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches PATH against PATTERN, filling PARAMS on success.
bool matchPattern(std::string_view pattern, const std::vector<std::string_view>& path,
                  std::map<std::string, std::string>& params) {
  std::vector<std::string_view> segments = splitPath(pattern);
  if (segments.size() != path.size()) {
    return false;
  }
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!isParameter(segments[i])) {
      if (segments[i] != path[i]) {
        return false;
      }
      continue;
    }
    if (path[i].empty()) {
      return false;
    }
    found.emplace(std::string(segments[i].substr(1, segments[i].size() - 2)),
                  percentDecode(path[i], false));
  }
  params = std::move(found);
  return true;
}

// Counts the literal segments of PATTERN, so that "/batches/new" ranks above
// "/batches/{id}" when both match.
size_t literalCount(std::string_view pattern) {
  size_t count = 0;
  for (std::string_view segment : splitPath(pattern)) {
    count += isParameter(segment) ? 0 : 1;
  }
  return count;
}

}  // namespace

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) {
    path.remove_prefix(1);
  }
  for (;;) {
    size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      return segments;
    }
    path.remove_prefix(slash + 1);
  }
}

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (!pattern.starts_with('/')) {
    throw std::invalid_argument("route pattern '" + pattern + "' does not start with '/'");
  }
  for (std::string_view segment : splitPath(pattern)) {
    bool has_brace = segment.find_first_of("{}") != std::string_view::npos;
    if (has_brace &&
        (!isParameter(segment) || segment.size() == 2 ||
         segment.substr(1, segment.size() - 2).find_first_of("{}") != std::string_view::npos)) {
      throw std::invalid_argument("route pattern '" + pattern + "' has a malformed parameter '" +
                                  std::string(segment) + "'");
    }
  }
  for (const Route& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      throw std::invalid_argument("route " + method + " " + pattern + " is already registered");
    }
  }
  routes_.push_back({std::move(method), std::move(pattern), std::move(handler), options});
}

void Router::setFallback(Handler handler, std::string label) {
  fallback_ = Route{.method = "GET", .pattern = std::move(label), .handler = std::move(handler)};
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  std::vector<std::string_view> segments = splitPath(path);
  RouteMatch result;
  const Route* best = nullptr;
  size_t best_literals = 0;
  std::map<std::string, std::string> params;

  // The path's methods are collected from every matching pattern, so that a
  // 405 lists all of them.
  std::vector<std::string> methods;
  for (const Route& route : routes_) {
    if (!matchPattern(route.pattern, segments, params)) {
      continue;
    }
    if (route.method != method) {
      methods.push_back(route.method);
      continue;
    }
    size_t literals = literalCount(route.pattern);
    if (best == nullptr || literals > best_literals) {
      best = &route;
      best_literals = literals;
      result.params = params;
    }
  }

  if (best != nullptr) {
    result.kind = RouteMatch::kFound;
    result.route = best;
    return result;
  }
  if (methods.empty() && fallback_ && method == "GET") {
    result.kind = RouteMatch::kFound;
    result.route = &*fallback_;
    return result;
  }
  if (methods.empty()) {
    result.kind = RouteMatch::kNotFound;
    return result;
  }
  result.kind = RouteMatch::kMethodNotAllowed;
  result.allow = fmt::format("{}", fmt::join(methods, ", "));
  return result;
}

std::string_view header(const Request& request, std::string_view name) {
  auto found = request.headers.find(std::string(name));
  return found == request.headers.end() ? std::string_view() : std::string_view(found->second);
}

std::string_view cookie(const Request& request, std::string_view name) {
  std::string_view rest = header(request, "cookie");
  while (!rest.empty()) {
    size_t semicolon = rest.find(';');
    std::string_view pair = rest.substr(0, semicolon);
    rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
    while (pair.starts_with(' ')) {
      pair.remove_prefix(1);
    }
    size_t equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == name) {
      return pair.substr(equals + 1);
    }
  }
  return {};
}

std::string percentDecode(std::string_view text, bool form) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  };
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && form) {
      decoded += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      decoded += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      decoded += c;
    }
  }
  return decoded;
}

namespace {

// Parses the decimal digits of TEXT, which must be all digits.
std::optional<std::uint64_t> parseOffset(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [parsed_end, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || parsed_end != end) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

ByteRange parseByteRange(std::string_view value, std::uint64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  if (!value.starts_with(kUnit) || value.find(',') != std::string_view::npos) {
    return {};
  }
  std::string_view spec = value.substr(kUnit.size());
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return {};
  }

  // "bytes=-N" requests the last N bytes.
  if (dash == 0) {
    std::optional<std::uint64_t> suffix = parseOffset(spec.substr(1));
    if (!suffix) {
      return {};
    }
    if (*suffix == 0 || size == 0) {
      return {.kind = ByteRange::kUnsatisfiable};
    }
    std::uint64_t length = std::min(*suffix, size);
    return {.kind = ByteRange::kPart, .first = size - length, .last = size - 1};
  }

  std::optional<std::uint64_t> first = parseOffset(spec.substr(0, dash));
  std::string_view last_text = spec.substr(dash + 1);
  std::optional<std::uint64_t> last =
      last_text.empty() ? std::optional<std::uint64_t>(UINT64_MAX) : parseOffset(last_text);
  if (!first || !last || *last < *first) {
    return {};
  }
  if (*first >= size) {
    return {.kind = ByteRange::kUnsatisfiable};
  }
  return {.kind = ByteRange::kPart, .first = *first, .last = std::min(*last, size - 1)};
}

bool isValidRequestId(std::string_view value) {
  if (value.empty() || value.size() > 64) {
    return false;
  }
  for (char c : value) {
    if (c < 0x21 || c > 0x7e) {
      return false;
    }
  }
  return true;
}

std::string newRequestId() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", engine(), engine());
}

std::string errorBody(std::string_view code, std::string_view message,
                      std::string_view request_id) {
  nlohmann::json body = {
      {"error", {{"code", code}, {"message", message}, {"request_id", request_id}}}};
  // Replacement characters stand in for invalid UTF-8, such as in a path a
  // client sent, because dump() throws on it otherwise.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response errorResponse(int status, std::string_view code, std::string_view message,
                       std::string_view request_id) {
  return {.status = status, .body = errorBody(code, message, request_id)};
}

Response jsonResponse(int status, const nlohmann::json& body) {
  return {.status = status,
          .body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Response orderedJsonResponse(int status, const nlohmann::ordered_json& body) {
  return {.status = status,
          .body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)};
}

}  // namespace smmhub::api
