// Reading JSON request bodies: one object, with typed fields whose errors
// name the field.
//
//   JsonBody body = parseJsonObject(request);
//   if (body.error) return *body.error;  // 400 invalid_json
//   Result<std::optional<std::string>> name = stringField(body.fields, "name", true);
//   if (!name.ok()) return statusResponse(name.status(), request.request_id);  // 422
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/router.h"
#include "common/status.h"

namespace smmhub::api {

// The JSON object of a request body, or the 400 response for a body that is
// not one.
struct JsonBody {
  nlohmann::json fields;
  std::optional<Response> error;
};

// Parses REQUEST's body as one JSON object. An empty body is an empty object
// when EMPTY_IS_OBJECT. The 400 names the parse error's byte offset, or says
// that a number is too large for a double or that the body nests deeper than
// kMaxJsonDepth (common/json_depth.h).
JsonBody parseJsonObject(const Request& request, bool empty_is_object = false);

// Returns the string field NAME of BODY, or nothing when it is absent or
// null and not REQUIRED. Errors: invalidArgument naming the field.
Result<std::optional<std::string>> stringField(const nlohmann::json& body, const std::string& name,
                                               bool required);

// Returns the boolean field NAME of BODY, or nothing when it is absent or
// null. Errors: invalidArgument naming the field.
Result<std::optional<bool>> boolField(const nlohmann::json& body, const std::string& name);

// Returns the integer field NAME of BODY, between MIN and MAX. Errors:
// invalidArgument naming the field and the range.
Result<std::optional<std::int64_t>> integerField(const nlohmann::json& body,
                                                 const std::string& name, bool required,
                                                 std::int64_t min, std::int64_t max);

// Returns the query parameter NAME of REQUEST as an integer between MIN and
// MAX, or FALLBACK when absent. Errors: invalidArgument naming the parameter.
Result<std::int64_t> integerQuery(const Request& request, const std::string& name,
                                  std::int64_t fallback, std::int64_t min, std::int64_t max);

}  // namespace smmhub::api
