#include "api/route_bodies.h"

#include <utility>

#include <fmt/format.h>

#include "api/body.h"

namespace smmhub::api {

using nlohmann::json;
using nlohmann::ordered_json;

Result<campaigns::CampaignChange> campaignChangeFrom(const json& body, bool creating) {
  campaigns::CampaignChange change;
  SMMHUB_ASSIGN_OR_RETURN(change.name, stringField(body, "name", creating));
  SMMHUB_ASSIGN_OR_RETURN(change.template_id, stringField(body, "template_id", false));
  SMMHUB_ASSIGN_OR_RETURN(change.template_version,
                          integerField(body, "template_version", false, 0, 1'000'000'000));
  SMMHUB_ASSIGN_OR_RETURN(change.brand_kit_id, stringField(body, "brand_kit_id", false));
  return change;
}

Result<std::map<std::string, std::string>> mappingFrom(const json& body) {
  auto found = body.find("mapping");
  if (found == body.end() || !found->is_object()) {
    return Status::invalidArgument("field 'mapping' must be an object of field name to column");
  }
  std::map<std::string, std::string> mapping;
  for (const auto& [field, column] : found->items()) {
    if (!column.is_string()) {
      return Status::invalidArgument("field 'mapping/" + field + "' must be a column name");
    }
    mapping[field] = column.get<std::string>();
  }
  return mapping;
}

Result<accounts::NewUser> newUserFrom(const json& body, const std::string& tenant,
                                      std::string default_role) {
  accounts::NewUser user{.tenant = tenant};
  SMMHUB_ASSIGN_OR_RETURN(std::optional<std::string> email, stringField(body, "email", true));
  SMMHUB_ASSIGN_OR_RETURN(std::optional<std::string> password, stringField(body, "password", true));
  SMMHUB_ASSIGN_OR_RETURN(std::optional<std::string> name, stringField(body, "name", false));
  SMMHUB_ASSIGN_OR_RETURN(std::optional<std::string> role,
                          stringField(body, "role", default_role.empty()));
  user.email = *email;
  user.password = *password;
  user.name = name.value_or("");
  user.role = role.value_or(std::move(default_role));
  return user;
}

Result<accounts::UserUpdate> userUpdateFrom(const json& body) {
  accounts::UserUpdate update;
  SMMHUB_ASSIGN_OR_RETURN(update.role, stringField(body, "role", false));
  SMMHUB_ASSIGN_OR_RETURN(update.disabled, boolField(body, "disabled"));
  return update;
}

Result<std::vector<std::string>> eventsField(const json& body) {
  auto found = body.find("events");
  if (found == body.end() || found->is_null()) {
    return std::vector<std::string>{"*"};
  }
  if (!found->is_array()) {
    return Status::invalidArgument(
        "events: must be an array of event types, such as [\"video.completed\"], or [\"*\"]");
  }
  std::vector<std::string> events;
  for (size_t i = 0; i < found->size(); ++i) {
    if (!(*found)[i].is_string()) {
      return Status::invalidArgument("events/" + std::to_string(i) + ": must be a string");
    }
    events.push_back((*found)[i].get<std::string>());
  }
  return events;
}

Result<std::optional<ordered_json>> templateBodyField(const Request& request, bool required) {
  ordered_json fields = ordered_json::parse(request.body, nullptr, false);
  auto found = fields.find("body");
  if (found == fields.end() || found->is_null()) {
    if (required) {
      return Status::invalidArgument("field 'body' is missing; give the template as an object");
    }
    return std::optional<ordered_json>();
  }
  return std::optional<ordered_json>(std::move(*found));
}

Result<PreviewBody> previewBodyFrom(const json& body) {
  PreviewBody out;
  SMMHUB_ASSIGN_OR_RETURN(std::optional<std::string> template_id,
                          stringField(body, "template_id", true));
  out.template_id = *template_id;
  SMMHUB_ASSIGN_OR_RETURN(out.version, integerField(body, "version", false, 1, 1'000'000'000));
  SMMHUB_ASSIGN_OR_RETURN(out.brand_kit_id, stringField(body, "brand_kit_id", false));
  SMMHUB_ASSIGN_OR_RETURN(out.campaign_id, stringField(body, "campaign_id", false));
  SMMHUB_ASSIGN_OR_RETURN(std::optional<std::int64_t> row,
                          integerField(body, "row", false, 1, 1'000'000'000));
  out.row = row ? static_cast<int>(*row) : 0;

  if (auto time = body.find("time_s"); time != body.end() && !time->is_null()) {
    if (!time->is_number()) {
      return Status::invalidArgument("time_s: must be a number of seconds, such as 1.5");
    }
    out.time_s = time->get<double>();
  }
  if (auto values = body.find("values"); values != body.end() && !values->is_null()) {
    if (!values->is_object()) {
      return Status::invalidArgument("values: must be an object of field names and values");
    }
    for (const auto& [name, value] : values->items()) {
      if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
        return Status::invalidArgument(
            fmt::format("values.{}: must be a string, a number or a boolean", name));
      }
    }
    out.values = *values;
  }

  if (out.values.has_value() == out.campaign_id.has_value()) {
    return Status::invalidArgument(
        "give either values (field names and values) or campaign_id and row, not both or "
        "neither");
  }
  if (out.campaign_id && out.row == 0) {
    return Status::invalidArgument("row: missing; give the campaign's row number, from 1");
  }
  return out;
}

}  // namespace smmhub::api
