// The JSON bodies of the routes, read into the types of the stores they go
// to. Each reader takes the object that parseJsonObject() returned, calls no
// store and throws nothing; its errors are invalidArgument naming the field,
// which statusResponse() turns into a 422.
//
//   JsonBody body = parseJsonObject(request);
//   if (body.error) return *body.error;  // 400 invalid_json
//   Result<campaigns::CampaignChange> change = campaignChangeFrom(body.fields, true);
//   if (!change.ok()) return statusResponse(change.status(), request.request_id);  // 422
//
// The fuzz target fuzz/http_bodies.cc calls each of them with any JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "api/router.h"
#include "campaigns/campaign_store.h"
#include "common/status.h"

namespace smmhub::api {

// POST and PATCH /api/v1/campaigns: name, template_id, template_version and
// brand_kit_id, each optional but the name when CREATING.
Result<campaigns::CampaignChange> campaignChangeFrom(const nlohmann::json& body, bool creating);

// PUT /api/v1/campaigns/{id}/mapping: {"mapping": {FIELD: COLUMN, ...}}.
Result<std::map<std::string, std::string>> mappingFrom(const nlohmann::json& body);

// POST /api/v1/users and /api/v1/admin/tenants/{id}/users: a user of
// TENANT with email, password, name and role. The role may be left out
// only when DEFAULT_ROLE is not empty.
Result<accounts::NewUser> newUserFrom(const nlohmann::json& body, const std::string& tenant,
                                      std::string default_role);

// PATCH /api/v1/users/{id}: role and disabled, each optional.
Result<accounts::UserUpdate> userUpdateFrom(const nlohmann::json& body);

// POST /api/v1/webhooks: the "events" field, a list of strings, or ["*"]
// when it is absent or null.
Result<std::vector<std::string>> eventsField(const nlohmann::json& body);

// POST /api/v1/templates and PUT /api/v1/templates/{id}: the "body" member
// of REQUEST's JSON object with its keys in the order the client sent them,
// or nothing when it is absent or null and not REQUIRED.
// REQUIRES: parseJsonObject(REQUEST) succeeded.
Result<std::optional<nlohmann::ordered_json>> templateBodyField(const Request& request,
                                                                bool required);

// The body of POST /api/v1/previews.
struct PreviewBody {
  std::string template_id;
  std::optional<std::int64_t> version;
  std::optional<std::string> brand_kit_id;
  double time_s = 0;
  std::optional<nlohmann::json> values;  // a flat object of strings, numbers and booleans
  std::optional<std::string> campaign_id;
  int row = 0;  // from 1 when campaign_id is set
};

// Reads a preview's body: template_id, and either values or campaign_id and
// row. The time is checked against the template later.
Result<PreviewBody> previewBodyFrom(const nlohmann::json& body);

}  // namespace smmhub::api
