// Fuzzes the small parsers of a request's head: percentDecode(),
// splitPath() and the router's match() on the path, cookie() on a Cookie
// header, isValidRequestId() and integerQuery() on a query value. The input
// is used whole for each.
//
// Invariants: decoding never grows the text and undoes percent-encoding;
// the segments of a path join back into it; a matched route has one
// segment per path segment and a value for each of its parameters; a
// cookie's value lies inside the header; a query integer is in its range.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/body.h"
#include "api/router.h"
#include "fuzz_check.h"

namespace {

using namespace smmhub;
using namespace smmhub::api;

std::string percentEncode(std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    out += {'%', kHex[byte >> 4], kHex[byte & 0xF]};
  }
  return out;
}

void fuzzDecode(std::string_view text) {
  for (bool form : {false, true}) {
    std::string decoded = percentDecode(text, form);
    SMMHUB_FUZZ_CHECK(decoded.size() <= text.size(), decoded);
    SMMHUB_FUZZ_CHECK(percentDecode(percentEncode(text), form) == text, std::string(text));
  }
  if (text.find('%') == std::string_view::npos) {
    SMMHUB_FUZZ_CHECK(percentDecode(text, false) == text, std::string(text));
  }
}

void fuzzPath(std::string_view path) {
  std::vector<std::string_view> segments = splitPath(path);
  std::string joined;
  for (size_t i = 0; i < segments.size(); ++i) {
    joined += (i == 0 ? "" : "/") + std::string(segments[i]);
  }
  SMMHUB_FUZZ_CHECK(joined == (path.starts_with('/') ? path.substr(1) : path), std::string(path));

  static const Router router = [] {
    Router table;
    Handler none = [](const Request&) {
      return Response{};
    };
    table.add("GET", "/api/v1/batches/{id}", none);
    table.add("GET", "/api/v1/batches/new", none);
    table.add("PUT", "/api/v1/campaigns/{id}/rows", none);
    table.add("GET", "/api/v1/templates/{id}/versions/{version}", none);
    return table;
  }();
  for (std::string_view method : {"GET", "PUT"}) {
    RouteMatch match = router.match(method, path);
    if (match.kind != RouteMatch::kFound) {
      SMMHUB_FUZZ_CHECK(match.kind == RouteMatch::kNotFound || !match.allow.empty(),
                        std::string(path));
      continue;
    }
    SMMHUB_FUZZ_CHECK(match.route->method == method, std::string(path));
    std::vector<std::string_view> pattern = splitPath(match.route->pattern);
    SMMHUB_FUZZ_CHECK(pattern.size() == segments.size(), std::string(path));
    for (std::string_view part : pattern) {
      if (part.starts_with('{')) {
        std::string name(part.substr(1, part.size() - 2));
        SMMHUB_FUZZ_CHECK(match.params.contains(name), name + " of " + std::string(path));
      }
    }
  }
}

void fuzzHeaders(std::string_view text) {
  Request request{.query = {{"limit", std::string(text)}},
                  .headers = {{"cookie", std::string(text)}}};
  std::string_view header = request.headers["cookie"];
  std::string_view session = cookie(request, "smmhub_session");
  SMMHUB_FUZZ_CHECK(
      session.empty() || (session.data() >= header.data() &&
                          session.data() + session.size() <= header.data() + header.size()),
      std::string(text));

  bool visible = !text.empty() && text.size() <= 64;
  for (char c : text) {
    visible = visible && c >= 0x21 && c <= 0x7e;
  }
  SMMHUB_FUZZ_CHECK(isValidRequestId(text) == visible, std::string(text));

  Result<std::int64_t> limit = integerQuery(request, "limit", 50, -1000, 1000);
  if (limit.ok()) {
    SMMHUB_FUZZ_CHECK(*limit >= -1000 && *limit <= 1000, std::to_string(*limit));
  } else {
    SMMHUB_FUZZ_CHECK_REJECTED(limit.status());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzzDecode(text);
  fuzzPath(text);
  fuzzHeaders(text);
  return 0;
}
