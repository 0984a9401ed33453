// Fuzzes the API's request body readers with any bytes as a request body:
// parseJsonObject(), then each route's reader of src/api/route_bodies.h on
// the object it returns, as the routes call them.
//
// Invariants: a body that is not a JSON object gets a 400 invalid_json
// whose body is JSON naming the request; a reader either returns a value
// consistent with the object or invalidArgument with a message; nothing
// throws.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/body.h"
#include "api/route_bodies.h"
#include "fuzz_check.h"

namespace {

using namespace smmhub;
using namespace smmhub::api;
using nlohmann::json;

constexpr std::string_view kRequestId = "fuzz-request";

template <typename T>
bool accepted(const Result<T>& result) {
  if (!result.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(result.status());
    return false;
  }
  return true;
}

void checkInvalidJson(const Response& response) {
  SMMHUB_FUZZ_CHECK(response.status == 400, std::to_string(response.status));
  json body = json::parse(response.body, nullptr, false);
  SMMHUB_FUZZ_CHECK(body.is_object() && body.contains("error"), response.body);
  const json& error = body["error"];
  SMMHUB_FUZZ_CHECK(error.value("code", "") == "invalid_json", response.body);
  SMMHUB_FUZZ_CHECK(!error.value("message", "").empty(), response.body);
  SMMHUB_FUZZ_CHECK(error.value("request_id", "") == kRequestId, response.body);
}

void readCampaignBodies(const json& fields) {
  for (bool creating : {false, true}) {
    Result<campaigns::CampaignChange> change = campaignChangeFrom(fields, creating);
    if (accepted(change)) {
      SMMHUB_FUZZ_CHECK(!creating || change->name.has_value(), "a new campaign without a name");
      SMMHUB_FUZZ_CHECK(!change->template_version || (*change->template_version >= 0 &&
                                                      *change->template_version <= 1'000'000'000),
                        std::to_string(*change->template_version));
    }
  }
  Result<std::map<std::string, std::string>> mapping = mappingFrom(fields);
  if (accepted(mapping)) {
    SMMHUB_FUZZ_CHECK(mapping->size() == fields["mapping"].size(), "mapping size differs");
    for (const auto& [field, column] : *mapping) {
      SMMHUB_FUZZ_CHECK(fields["mapping"][field] == column, field);
    }
  }
}

void readAccountBodies(const json& fields) {
  for (std::string default_role : {"", "owner"}) {
    Result<accounts::NewUser> user = newUserFrom(fields, "acme", default_role);
    if (accepted(user)) {
      SMMHUB_FUZZ_CHECK(user->tenant == "acme", user->tenant);
      SMMHUB_FUZZ_CHECK(fields["email"] == user->email && fields["password"] == user->password,
                        user->email);
      SMMHUB_FUZZ_CHECK(!default_role.empty() || fields["role"] == user->role, user->role);
    }
  }
  Result<accounts::UserUpdate> update = userUpdateFrom(fields);
  if (accepted(update)) {
    SMMHUB_FUZZ_CHECK(!update->disabled || fields["disabled"] == *update->disabled, "disabled");
  }
}

void readOtherBodies(const Request& request, const json& fields) {
  Result<std::vector<std::string>> events = eventsField(fields);
  if (accepted(events) && fields.contains("events") && !fields["events"].is_null()) {
    SMMHUB_FUZZ_CHECK(events->size() == fields["events"].size(), "event count differs");
  }

  for (bool required : {false, true}) {
    Result<std::optional<nlohmann::ordered_json>> body = templateBodyField(request, required);
    if (accepted(body)) {
      SMMHUB_FUZZ_CHECK(!required || body->has_value(), "a required body is missing");
      SMMHUB_FUZZ_CHECK(!body->has_value() || json::parse((*body)->dump()) == fields["body"],
                        "the template body differs from the request's");
    }
  }

  Result<PreviewBody> preview = previewBodyFrom(fields);
  if (accepted(preview)) {
    SMMHUB_FUZZ_CHECK(preview->values.has_value() != preview->campaign_id.has_value(),
                      "both or neither of values and campaign_id");
    SMMHUB_FUZZ_CHECK(!preview->campaign_id || preview->row >= 1, std::to_string(preview->row));
  }
}

// The typed field readers on every member of the object, as any route may
// name them.
void readTypedFields(const json& fields) {
  for (const auto& [name, value] : fields.items()) {
    Result<std::optional<std::string>> text = stringField(fields, name, true);
    SMMHUB_FUZZ_CHECK(text.ok() == value.is_string(), name);
    Result<std::optional<bool>> flag = boolField(fields, name);
    SMMHUB_FUZZ_CHECK(flag.ok() == (value.is_boolean() || value.is_null()), name);
    // A range with negative numbers, which a route may use one day.
    Result<std::optional<std::int64_t>> number = integerField(fields, name, false, -5, 5);
    if (accepted(number) && number->has_value()) {
      SMMHUB_FUZZ_CHECK(value.dump() == std::to_string(**number),
                        value.dump() + " read as " + std::to_string(**number));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Request request{.method = "POST",
                  .body = std::string(reinterpret_cast<const char*>(data), size),
                  .request_id = std::string(kRequestId)};

  // An empty body is an empty object only where the route allows it.
  JsonBody body = parseJsonObject(request);
  JsonBody empty_allowed = parseJsonObject(request, true);
  if (request.body.empty()) {
    SMMHUB_FUZZ_CHECK(!empty_allowed.error && empty_allowed.fields == json::object(),
                      "an empty body is not an empty object");
  } else {
    SMMHUB_FUZZ_CHECK(static_cast<bool>(empty_allowed.error) == static_cast<bool>(body.error) &&
                          empty_allowed.fields == body.fields,
                      "EMPTY_IS_OBJECT changed a non-empty body");
  }
  if (body.error) {
    checkInvalidJson(*body.error);
    return 0;
  }
  SMMHUB_FUZZ_CHECK(body.fields.is_object(), body.fields.type_name());

  readCampaignBodies(body.fields);
  readAccountBodies(body.fields);
  readOtherBodies(request, body.fields);
  readTypedFields(body.fields);
  return 0;
}
