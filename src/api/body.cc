#include "api/body.h"

#include <charconv>

#include <fmt/format.h>

#include "common/json_depth.h"

namespace smmhub::api {

using nlohmann::json;

JsonBody parseJsonObject(const Request& request, bool empty_is_object) {
  if (request.body.empty() && empty_is_object) {
    return {.fields = json::object()};
  }
  // Deeper bodies would overflow the stack of whatever walks them later.
  if (jsonNestingDepth(request.body) > kMaxJsonDepth) {
    return {.error = errorResponse(
                400, "invalid_json",
                fmt::format("request body nests arrays and objects deeper than {} levels",
                            kMaxJsonDepth),
                request.request_id)};
  }
  try {
    json parsed = json::parse(request.body);
    if (!parsed.is_object()) {
      return {.error = errorResponse(
                  400, "invalid_json",
                  std::string("request body must be a JSON object, not ") + parsed.type_name(),
                  request.request_id)};
    }
    return {.fields = std::move(parsed)};
  } catch (const json::parse_error& error) {
    return {.error =
                errorResponse(400, "invalid_json",
                              fmt::format("request body is not valid JSON at byte {}", error.byte),
                              request.request_id)};
  } catch (const json::out_of_range&) {
    // A number such as 1e999 that does not fit a double.
    return {.error = errorResponse(400, "invalid_json",
                                   "request body is not valid JSON: a number is too large",
                                   request.request_id)};
  }
}

Result<std::optional<std::string>> stringField(const json& body, const std::string& name,
                                               bool required) {
  auto found = body.find(name);
  if (found == body.end() || found->is_null()) {
    if (required) {
      return Status::invalidArgument("field '" + name + "' is missing");
    }
    return std::optional<std::string>();
  }
  if (!found->is_string()) {
    return Status::invalidArgument("field '" + name + "' must be a string");
  }
  return std::optional<std::string>(found->get<std::string>());
}

Result<std::optional<bool>> boolField(const json& body, const std::string& name) {
  auto found = body.find(name);
  if (found == body.end() || found->is_null()) {
    return std::optional<bool>();
  }
  if (!found->is_boolean()) {
    return Status::invalidArgument("field '" + name + "' must be true or false");
  }
  return std::optional<bool>(found->get<bool>());
}

Result<std::optional<std::int64_t>> integerField(const json& body, const std::string& name,
                                                 bool required, std::int64_t min,
                                                 std::int64_t max) {
  auto found = body.find(name);
  if (found == body.end() || found->is_null()) {
    if (required) {
      return Status::invalidArgument("field '" + name + "' is missing");
    }
    return std::optional<std::int64_t>();
  }
  // An unsigned number past INT64_MAX would wrap to a negative one.
  bool too_large = found->is_number_unsigned() &&
                   found->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX);
  if (!found->is_number_integer() || too_large || found->get<std::int64_t>() < min ||
      found->get<std::int64_t>() > max) {
    return Status::invalidArgument(
        fmt::format("field '{}' must be an integer from {} to {}", name, min, max));
  }
  return std::optional<std::int64_t>(found->get<std::int64_t>());
}

Result<std::int64_t> integerQuery(const Request& request, const std::string& name,
                                  std::int64_t fallback, std::int64_t min, std::int64_t max) {
  auto found = request.query.find(name);
  if (found == request.query.end()) {
    return fallback;
  }
  const std::string& text = found->second;
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return Status::invalidArgument(fmt::format(
        "query parameter '{}' must be an integer from {} to {}, got '{}'", name, min, max, text));
  }
  return value;
}

}  // namespace smmhub::api
