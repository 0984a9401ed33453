#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "api/body.h"
#include "api/router.h"
#include "api/routes.h"

namespace smmhub::api {
namespace {

Handler named(std::string name) {
  return [name](const Request&) {
    return Response{.body = name};
  };
}

Router sampleRouter() {
  Router router;
  router.add("GET", "/healthz", named("healthz"));
  router.add("GET", "/api/v1/batches/{id}", named("get batch"));
  router.add("DELETE", "/api/v1/batches/{id}", named("delete batch"));
  router.add("GET", "/api/v1/batches/latest", named("latest batch"));
  router.add("GET", "/api/v1/batches/{id}/jobs/{job}", named("get job"));
  return router;
}

std::string handlerName(const RouteMatch& match) {
  return match.route == nullptr ? "" : match.route->handler(Request{}).body;
}

TEST(RouterTest, ExactPathMatches) {
  Router router = sampleRouter();

  RouteMatch match = router.match("GET", "/healthz");

  EXPECT_EQ(match.kind, RouteMatch::kFound);
  EXPECT_EQ(handlerName(match), "healthz");
  EXPECT_TRUE(match.params.empty());
}

TEST(RouterTest, PathParametersAreCaptured) {
  Router router = sampleRouter();

  RouteMatch batch = router.match("GET", "/api/v1/batches/42");
  RouteMatch job = router.match("GET", "/api/v1/batches/42/jobs/7");

  EXPECT_EQ(batch.kind, RouteMatch::kFound);
  EXPECT_EQ(handlerName(batch), "get batch");
  EXPECT_EQ(batch.params, (std::map<std::string, std::string>{{"id", "42"}}));
  EXPECT_EQ(job.kind, RouteMatch::kFound);
  EXPECT_EQ(handlerName(job), "get job");
  EXPECT_EQ(job.params, (std::map<std::string, std::string>{{"id", "42"}, {"job", "7"}}));
}

TEST(RouterTest, LiteralSegmentBeatsParameter) {
  Router router = sampleRouter();

  RouteMatch match = router.match("GET", "/api/v1/batches/latest");

  EXPECT_EQ(handlerName(match), "latest batch");
  EXPECT_TRUE(match.params.empty());
}

TEST(RouterTest, UnknownPathsAreNotFound) {
  Router router = sampleRouter();

  for (const char* path : {"/", "/healthz/", "/healthz/x", "/api/v1/batches", "/api/v1/batches/",
                           "/api/v1/batches//jobs/7", "/HEALTHZ", ""}) {
    RouteMatch match = router.match("GET", path);
    EXPECT_EQ(match.kind, RouteMatch::kNotFound) << path;
    EXPECT_EQ(match.route, nullptr) << path;
  }
}

TEST(RouterTest, OtherMethodIsNotAllowed) {
  Router router = sampleRouter();

  RouteMatch post_health = router.match("POST", "/healthz");
  RouteMatch put_batch = router.match("PUT", "/api/v1/batches/42");

  EXPECT_EQ(post_health.kind, RouteMatch::kMethodNotAllowed);
  EXPECT_EQ(post_health.allow, "GET");
  EXPECT_EQ(put_batch.kind, RouteMatch::kMethodNotAllowed);
  EXPECT_EQ(put_batch.allow, "GET, DELETE");
  EXPECT_EQ(router.match("DELETE", "/api/v1/batches/42").kind, RouteMatch::kFound);
}

TEST(RouterTest, FallbackTakesOnlyGetsOfUnknownPaths) {
  Router router = sampleRouter();
  router.setFallback(named("files"));

  RouteMatch page = router.match("GET", "/campaigns/c-1");
  RouteMatch post = router.match("POST", "/campaigns/c-1");
  RouteMatch known = router.match("GET", "/healthz");
  RouteMatch other_method = router.match("POST", "/healthz");

  EXPECT_EQ(page.kind, RouteMatch::kFound);
  EXPECT_EQ(handlerName(page), "files");
  EXPECT_EQ(page.route->pattern, "/{file}");
  EXPECT_EQ(post.kind, RouteMatch::kNotFound);
  EXPECT_EQ(handlerName(known), "healthz");
  EXPECT_EQ(other_method.kind, RouteMatch::kMethodNotAllowed);
  EXPECT_EQ(router.routes().size(), 5u);
}

TEST(RouterTest, MalformedPatternsThrow) {
  Router router;

  EXPECT_THROW(router.add("GET", "healthz", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/{}", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/{id", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/x{id}", named("x")), std::invalid_argument);
  router.add("GET", "/a/{id}", named("x"));
  EXPECT_THROW(router.add("GET", "/a/{id}", named("y")), std::invalid_argument);
}

TEST(ByteRangeTest, SingleRangesAreServed) {
  ByteRange closed = parseByteRange("bytes=0-99", 1000);
  ByteRange open = parseByteRange("bytes=500-", 1000);
  ByteRange suffix = parseByteRange("bytes=-100", 1000);
  ByteRange past_end = parseByteRange("bytes=900-5000", 1000);
  ByteRange longer_suffix = parseByteRange("bytes=-5000", 1000);

  EXPECT_EQ(closed.kind, ByteRange::kPart);
  EXPECT_EQ(closed.first, 0u);
  EXPECT_EQ(closed.last, 99u);
  EXPECT_EQ(open.first, 500u);
  EXPECT_EQ(open.last, 999u);
  EXPECT_EQ(suffix.first, 900u);
  EXPECT_EQ(suffix.last, 999u);
  EXPECT_EQ(past_end.last, 999u);
  EXPECT_EQ(longer_suffix.first, 0u);
  EXPECT_EQ(longer_suffix.last, 999u);
}

TEST(ByteRangeTest, RangesPastTheEndAreUnsatisfiable) {
  EXPECT_EQ(parseByteRange("bytes=1000-", 1000).kind, ByteRange::kUnsatisfiable);
  EXPECT_EQ(parseByteRange("bytes=1000-1200", 1000).kind, ByteRange::kUnsatisfiable);
  EXPECT_EQ(parseByteRange("bytes=-0", 1000).kind, ByteRange::kUnsatisfiable);
  EXPECT_EQ(parseByteRange("bytes=0-", 0).kind, ByteRange::kUnsatisfiable);
}

TEST(ByteRangeTest, OtherHeadersGiveTheWholeFile) {
  for (const char* value :
       {"", "bytes=", "bytes=-", "bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=a-b",
        "bytes= 0-1", "bytes=0-1x", "bytes=99999999999999999999-"}) {
    EXPECT_EQ(parseByteRange(value, 1000).kind, ByteRange::kWhole) << value;
  }
}

TEST(RequestIdTest, ValidationFollowsTheRules) {
  EXPECT_TRUE(isValidRequestId("a"));
  EXPECT_TRUE(isValidRequestId("req-42_!~"));
  EXPECT_TRUE(isValidRequestId(std::string(64, 'x')));
  EXPECT_FALSE(isValidRequestId(""));
  EXPECT_FALSE(isValidRequestId(std::string(65, 'x')));
  EXPECT_FALSE(isValidRequestId("has space"));
  EXPECT_FALSE(isValidRequestId("tab\there"));
  EXPECT_FALSE(isValidRequestId("caf\xc3\xa9"));
  EXPECT_FALSE(isValidRequestId(std::string("nul\0x", 5)));
}

TEST(RequestIdTest, FreshIdsAreValidAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = newRequestId();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(isValidRequestId(id)) << id;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ErrorJsonTest, BodyHasCodeMessageAndRequestId) {
  Response response = errorResponse(404, "not_found", "no route for path /x", "req-1");

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(
      response.body,
      R"({"error":{"code":"not_found","message":"no route for path /x","request_id":"req-1"}})");
}

TEST(ErrorJsonTest, InvalidUtf8IsReplaced) {
  std::string body = errorBody("not_found", "no route for path /\xff", "r");

  nlohmann::json parsed = nlohmann::json::parse(body);
  EXPECT_EQ(parsed["error"]["message"], "no route for path /\xef\xbf\xbd");
}

// Found by fuzz/http_bodies.cc: a number too large for a double threw
// json::out_of_range out of parseJsonObject(), which the server answered
// with 500 internal.
TEST(JsonBodyTest, NumberTooLargeIsInvalidJson) {
  Request request{.body = R"({"amount": 1e999})", .request_id = "req-1"};

  JsonBody body = parseJsonObject(request);

  ASSERT_TRUE(body.error.has_value());
  EXPECT_EQ(body.error->status, 400);
  EXPECT_EQ(
      body.error->body,
      errorBody("invalid_json", "request body is not valid JSON: a number is too large", "req-1"));
}

// Found while writing fuzz/http_bodies.cc: the template store writes a
// template body out with dump(), which recurses once per level, so 100,000
// nested arrays overflowed the stack and took the API server down.
TEST(JsonBodyTest, DeepNestingIsInvalidJson) {
  Request request{.body = R"({"name": "T", "body": )" + std::string(100'000, '[') +
                          std::string(100'000, ']') + "}",
                  .request_id = "req-1"};

  JsonBody body = parseJsonObject(request);

  ASSERT_TRUE(body.error.has_value());
  EXPECT_EQ(body.error->status, 400);
  EXPECT_EQ(body.error->body,
            errorBody("invalid_json", "request body nests arrays and objects deeper than 64 levels",
                      "req-1"));
}

// Found while writing fuzz/http_bodies.cc, whose invariant catches it:
// 18446744073709551615 wrapped to -1, inside a range that takes negatives.
TEST(JsonBodyTest, IntegerPastInt64IsOutOfRange) {
  nlohmann::json body = nlohmann::json::parse(R"({"n": 18446744073709551615})");

  Result<std::optional<std::int64_t>> n = integerField(body, "n", true, -5, 5);

  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(n.status().message(), "field 'n' must be an integer from -5 to 5");
}

// The operations in docs/openapi.yaml are exactly the routes the server has.
TEST(OpenApiTest, DocumentListsEveryRoute) {
  Router router;
  addRoutes(router, {});
  std::set<std::pair<std::string, std::string>> served;
  for (const Route& route : router.routes()) {
    served.emplace(route.method, route.pattern);
  }

  YAML::Node document = YAML::LoadFile("docs/openapi.yaml");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& path : document["paths"]) {
    for (const auto& operation : path.second) {
      std::string key = operation.first.as<std::string>();
      if (key == "parameters" || key == "summary" || key == "description") {
        continue;
      }
      for (char& c : key) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      documented.emplace(key, path.first.as<std::string>());
    }
  }

  EXPECT_EQ(document["openapi"].as<std::string>(), "3.1.0");
  EXPECT_EQ(document["info"]["version"].as<std::string>(), std::string(version()));
  EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace smmhub::api
