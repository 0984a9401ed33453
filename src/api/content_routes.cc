// Content routes: a tenant's assets (uploaded files), brand kits and
// templates with their versions. The stores (src/content) do the checks;
// this file turns their results into HTTP statuses and JSON.
//
// Error details: a 422 for a brand kit or template lists every problem as
// {"pointer": JSON pointer into the request body, "message"}; a 422 for an
// unsafe SVG lists them as {"line", "message"}.
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "accounts/accounts.h"
#include "api/auth.h"
#include "api/body.h"
#include "api/route_bodies.h"
#include "api/routes.h"
#include "common/log.h"
#include "content/asset_store.h"
#include "content/brand_kit_store.h"
#include "content/template_store.h"

namespace smmhub::api {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// An upload may be as large as the asset store accepts for any type; the
// store applies the limit of the type it finds.
constexpr std::uint64_t kMaxAssetBodyBytes =
    std::max(content::AssetLimits{}.max_bytes, content::AssetLimits{}.max_audio_bytes);
// A template of templates::kMaxTemplateBytes with the {"name", "body"}
// wrapper and the client's own indentation.
constexpr std::uint64_t kMaxTemplateBodyBytes = 4 * 1024 * 1024;

// Returns an error response whose error object also carries DETAILS.
Response detailedError(int status, std::string_view code, std::string_view message, json details,
                       std::string_view request_id) {
  json body = json::parse(errorBody(code, message, request_id));
  body["error"]["details"] = std::move(details);
  return jsonResponse(status, body);
}

// Details of problems whose places are JSON pointers, each prefixed with
// PREFIX so that it points into the request body.
json pointerDetails(const Diagnostics& problems, const std::string& prefix) {
  json details = json::array();
  for (const Diagnostic& problem : problems.items()) {
    if (problem.severity == Severity::kError) {
      details.push_back({{"pointer", prefix + problem.place}, {"message", problem.message}});
    }
  }
  return details;
}

// Details of an SVG's problems, whose places are "line N".
json lineDetails(const std::vector<Diagnostic>& problems) {
  json details = json::array();
  for (const Diagnostic& problem : problems) {
    std::int64_t line = 0;
    std::string_view place = problem.place;
    if (place.starts_with("line ")) {
      place.remove_prefix(5);
      std::from_chars(place.data(), place.data() + place.size(), line);
    }
    details.push_back({{"line", line}, {"message", problem.message}});
  }
  return details;
}

json assetJson(const content::Asset& asset) {
  return {{"id", asset.id},
          {"name", asset.name},
          {"media_type", asset.media_type},
          {"bytes", asset.bytes},
          {"width", asset.width},
          {"height", asset.height},
          {"sha256", asset.sha256},
          {"content_url", "/api/v1/assets/" + asset.id + "/content"},
          {"created_at_ms", asset.created_at_ms}};
}

// The kit's own fields as the client sent them, with its id and times.
json brandKitJson(const content::BrandKitRecord& kit) {
  json body = kit.spec.is_object() ? kit.spec : json::object();
  body["id"] = kit.id;
  body["name"] = kit.name;
  body["created_at_ms"] = kit.created_at_ms;
  body["updated_at_ms"] = kit.updated_at_ms;
  return body;
}

json templateJson(const content::TemplateRecord& record) {
  return {{"id", record.id},
          {"name", record.name},
          {"latest_version", record.latest_version},
          {"created_at_ms", record.created_at_ms},
          {"updated_at_ms", record.updated_at_ms}};
}

// A template's body is parsed into ordered_json, so that its keys come back
// in the order the client saved them.
ordered_json versionJson(const content::TemplateVersion& version, bool with_body) {
  ordered_json body = {{"template_id", version.template_id},
                       {"version", version.version},
                       {"created_by", version.created_by},
                       {"created_at_ms", version.created_at_ms}};
  if (with_body) {
    body["body"] = ordered_json::parse(version.body, nullptr, false);
  }
  return body;
}

// The authors of template versions, as the version list shows them: the email
// and name of each "user:ID" actor, the name of each "key:ID" actor. Each
// actor is looked up once, and the tenant's keys are listed at most once.
class ActorNames {
 public:
  ActorNames(accounts::Accounts& accounts, std::string tenant)
      : accounts_(accounts), tenant_(std::move(tenant)) {}

  // Sets "created_by_email" and "created_by_name" of ITEM for ACTOR. The
  // email is null for an API key, and both are null for a user or key that
  // no longer exists. Errors: those of the accounts store other than notFound.
  Status describe(const std::string& actor, ordered_json* item) {
    auto found = names_.find(actor);
    if (found == names_.end()) {
      SMMHUB_ASSIGN_OR_RETURN(auto names, lookUp(actor));
      found = names_.emplace(actor, std::move(names)).first;
    }
    (*item)["created_by_email"] = found->second.first;
    (*item)["created_by_name"] = found->second.second;
    return okStatus();
  }

 private:
  // Returns the email and name of ACTOR, each a string or null.
  Result<std::pair<ordered_json, ordered_json>> lookUp(const std::string& actor) {
    if (actor.starts_with("user:")) {
      Result<accounts::User> user = accounts_.user(tenant_, actor.substr(5));
      if (!user.ok()) {
        return unknownUnlessFailed(user.status());
      }
      std::string name = user->name.empty() ? user->email : user->name;
      return std::pair<ordered_json, ordered_json>(user->email, name);
    }
    if (actor.starts_with("key:")) {
      if (!keys_) {
        SMMHUB_ASSIGN_OR_RETURN(keys_, accounts_.listApiKeys(tenant_));
      }
      for (const accounts::ApiKey& key : *keys_) {
        if ("key:" + key.id == actor) {
          return std::pair<ordered_json, ordered_json>(nullptr, key.name);
        }
      }
    }
    return std::pair<ordered_json, ordered_json>(nullptr, nullptr);
  }

  static Result<std::pair<ordered_json, ordered_json>> unknownUnlessFailed(const Status& status) {
    if (status.code() != StatusCode::kNotFound) {
      return status;
    }
    return std::pair<ordered_json, ordered_json>(nullptr, nullptr);
  }

  accounts::Accounts& accounts_;
  std::string tenant_;
  std::map<std::string, std::pair<ordered_json, ordered_json>> names_;
  std::optional<std::vector<accounts::ApiKey>> keys_;
};

Response uploadAsset(const Services& services, const Request& request, const Principal& principal) {
  auto name = request.query.find("name");
  if (name == request.query.end()) {
    return errorResponse(422, "invalid_field",
                         "query parameter 'name' is missing; upload to /api/v1/assets?name=NAME",
                         request.request_id);
  }
  content::AssetRejection rejection;
  Result<content::Asset> asset =
      services.assets->create(principal.tenant,
                              {.name = name->second,
                               .declared_type = std::string(header(request, "content-type")),
                               .bytes = request.body},
                              &rejection);
  if (asset.ok()) {
    return jsonResponse(201, assetJson(*asset));
  }

  const std::string& message = asset.status().message();
  logger("api")->info("asset rejected id={} tenant={} reason={}", request.request_id,
                      principal.tenant, message);
  switch (rejection.reason) {
    case content::AssetRejection::kTooLarge:
      return errorResponse(413, "payload_too_large", message, request.request_id);
    case content::AssetRejection::kUnsupportedType:
      return errorResponse(415, "unsupported_media_type", message, request.request_id);
    case content::AssetRejection::kInvalidContent:
      return detailedError(422, "invalid_asset", message, lineDetails(rejection.details),
                           request.request_id);
    case content::AssetRejection::kInvalidName:
      return detailedError(422, "invalid_field", message,
                           json::array({{{"parameter", "name"}, {"message", message}}}),
                           request.request_id);
    case content::AssetRejection::kNone:
      break;
  }
  return statusResponse(asset.status(), request.request_id);
}

Response assetContent(const Services& services, const Request& request,
                      const Principal& principal) {
  Result<content::Asset> asset = services.assets->get(principal.tenant, request.params.at("id"));
  if (!asset.ok()) {
    return statusResponse(asset.status(), request.request_id);
  }
  Response response{.content_type = asset->media_type, .file = services.assets->filePath(*asset)};
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // An SVG opened on its own in a browser must not run or load anything.
  if (asset->media_type == "image/svg+xml") {
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'none'; style-src 'unsafe-inline'");
  }
  return response;
}

void addAssetRoutes(Router& router, const Services& services) {
  const Authenticator* auth = services.auth;
  router.add("POST", "/api/v1/assets",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           return uploadAsset(services, request, principal);
                         }),
             {.max_body_bytes = kMaxAssetBodyBytes, .slow = true});
  router.add("GET", "/api/v1/assets",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Result<std::vector<content::Asset>> assets =
                               services.assets->list(principal.tenant);
                           if (!assets.ok()) {
                             return statusResponse(assets.status(), request.request_id);
                           }
                           json items = json::array();
                           for (const content::Asset& asset : *assets) {
                             items.push_back(assetJson(asset));
                           }
                           return jsonResponse(200, {{"assets", items}});
                         }));
  router.add("GET", "/api/v1/assets/{id}",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Result<content::Asset> asset =
                               services.assets->get(principal.tenant, request.params.at("id"));
                           return asset.ok() ? jsonResponse(200, assetJson(*asset))
                                             : statusResponse(asset.status(), request.request_id);
                         }));
  router.add("GET", "/api/v1/assets/{id}/content",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           return assetContent(services, request, principal);
                         }));
  router.add("DELETE", "/api/v1/assets/{id}",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           Status removed =
                               services.assets->remove(principal.tenant, request.params.at("id"));
                           return removed.ok() ? Response{.status = 204, .content_type = ""}
                                               : statusResponse(removed, request.request_id);
                         }));
}

// Builds the response to a brand kit's create or update: 201 or 200 with the kit, or 422
// with every problem's pointer.
Response brandKitResult(const Result<content::BrandKitRecord>& kit, const Diagnostics& problems,
                        int status, const Request& request) {
  if (kit.ok()) {
    return jsonResponse(status, brandKitJson(*kit));
  }
  if (kit.status().code() == StatusCode::kInvalidArgument && problems.hasErrors()) {
    return detailedError(422, "invalid_field", kit.status().message(), pointerDetails(problems, ""),
                         request.request_id);
  }
  return statusResponse(kit.status(), request.request_id);
}

void addBrandKitRoutes(Router& router, const Services& services) {
  const Authenticator* auth = services.auth;
  router.add("GET", "/api/v1/brand-kits",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Result<std::vector<content::BrandKitRecord>> kits =
                               services.brand_kits->list(principal.tenant);
                           if (!kits.ok()) {
                             return statusResponse(kits.status(), request.request_id);
                           }
                           json items = json::array();
                           for (const content::BrandKitRecord& kit : *kits) {
                             items.push_back(brandKitJson(kit));
                           }
                           return jsonResponse(200, {{"brand_kits", items}});
                         }));
  router.add("POST", "/api/v1/brand-kits",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           JsonBody body = parseJsonObject(request);
                           if (body.error) {
                             return *body.error;
                           }
                           Diagnostics problems;
                           return brandKitResult(services.brand_kits->create(
                                                     principal.tenant, body.fields, &problems),
                                                 problems, 201, request);
                         }));
  router.add("GET", "/api/v1/brand-kits/{id}",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Result<content::BrandKitRecord> kit =
                               services.brand_kits->get(principal.tenant, request.params.at("id"));
                           return kit.ok() ? jsonResponse(200, brandKitJson(*kit))
                                           : statusResponse(kit.status(), request.request_id);
                         }));
  router.add("PUT", "/api/v1/brand-kits/{id}",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           JsonBody body = parseJsonObject(request);
                           if (body.error) {
                             return *body.error;
                           }
                           Diagnostics problems;
                           return brandKitResult(services.brand_kits->update(
                                                     principal.tenant, request.params.at("id"),
                                                     body.fields, &problems),
                                                 problems, 200, request);
                         }));
  router.add("DELETE", "/api/v1/brand-kits/{id}",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           Status removed = services.brand_kits->remove(principal.tenant,
                                                                        request.params.at("id"));
                           return removed.ok() ? Response{.status = 204, .content_type = ""}
                                               : statusResponse(removed, request.request_id);
                         }));
}

// Builds the response to a template's create or update: the template with its latest
// version, or 422 invalid_template with every problem's pointer.
Response templateResult(const Services& services, const Result<content::TemplateRecord>& record,
                        const Diagnostics& problems, int status, const Request& request) {
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kInvalidArgument && problems.hasErrors()) {
      return detailedError(422, "invalid_template", record.status().message(),
                           pointerDetails(problems, "/body"), request.request_id);
    }
    return statusResponse(record.status(), request.request_id);
  }
  ordered_json body = templateJson(*record);
  Result<content::TemplateVersion> latest =
      services.templates->version(record->tenant, record->id, 0);
  if (latest.ok()) {
    body["body"] = ordered_json::parse(latest->body, nullptr, false);
  }
  return orderedJsonResponse(status, body);
}

Response saveTemplate(const Services& services, const Request& request, const Principal& principal,
                      bool create) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return *body.error;
  }
  Result<std::optional<std::string>> name = stringField(body.fields, "name", create);
  Result<std::optional<ordered_json>> template_body = templateBodyField(request, create);
  if (!name.ok() || !template_body.ok()) {
    return statusResponse(!name.ok() ? name.status() : template_body.status(), request.request_id);
  }
  if (*name) {
    if (Status valid = content::checkTemplateName(**name); !valid.ok()) {
      return detailedError(422, "invalid_field", valid.message(),
                           json::array({{{"pointer", "/name"}, {"message", valid.message()}}}),
                           request.request_id);
    }
  }

  Diagnostics problems;
  if (create) {
    return templateResult(services,
                          services.templates->create(principal.tenant, **name, **template_body,
                                                     principal.actor(), &problems),
                          problems, 201, request);
  }
  return templateResult(services,
                        services.templates->update(principal.tenant, request.params.at("id"), *name,
                                                   *template_body, principal.actor(), &problems),
                        problems, 200, request);
}

// Reads the {version} path parameter: a whole number from 1.
Result<std::int64_t> versionParameter(const Request& request) {
  const std::string& text = request.params.at("version");
  std::int64_t version = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || version < 1) {
    return Status::notFound("template version '" + text + "' not found; versions are 1, 2, ...");
  }
  return version;
}

void addTemplateRoutes(Router& router, const Services& services) {
  const Authenticator* auth = services.auth;
  const RouteOptions large_body{.max_body_bytes = kMaxTemplateBodyBytes, .slow = true};
  router.add("GET", "/api/v1/templates",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Result<std::vector<content::TemplateRecord>> records =
                               services.templates->list(principal.tenant);
                           if (!records.ok()) {
                             return statusResponse(records.status(), request.request_id);
                           }
                           json items = json::array();
                           for (const content::TemplateRecord& record : *records) {
                             items.push_back(templateJson(record));
                           }
                           return jsonResponse(200, {{"templates", items}});
                         }));
  router.add("POST", "/api/v1/templates",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           return saveTemplate(services, request, principal, true);
                         }),
             large_body);
  router.add("POST", "/api/v1/templates/validate",
             tenantRoute(auth, Role::kViewer,
                         [](const Request& request, const Principal&) {
                           JsonBody body = parseJsonObject(request);
                           if (body.error) {
                             return *body.error;
                           }
                           Diagnostics problems;
                           Status valid = content::validateTemplateBody(body.fields, &problems);
                           if (valid.ok()) {
                             return jsonResponse(200, {{"valid", true}});
                           }
                           return detailedError(422, "invalid_template", valid.message(),
                                                pointerDetails(problems, ""), request.request_id);
                         }),
             large_body);
  router.add("GET", "/api/v1/templates/{id}",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Diagnostics none;
                           return templateResult(
                               services,
                               services.templates->get(principal.tenant, request.params.at("id")),
                               none, 200, request);
                         }));
  router.add("PUT", "/api/v1/templates/{id}",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           return saveTemplate(services, request, principal, false);
                         }),
             large_body);
  router.add("DELETE", "/api/v1/templates/{id}",
             tenantRoute(auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           Status removed = services.templates->remove(principal.tenant,
                                                                       request.params.at("id"));
                           return removed.ok() ? Response{.status = 204, .content_type = ""}
                                               : statusResponse(removed, request.request_id);
                         }));
  router.add("GET", "/api/v1/templates/{id}/versions",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Result<std::vector<content::TemplateVersion>> versions =
                               services.templates->versions(principal.tenant,
                                                            request.params.at("id"));
                           if (!versions.ok()) {
                             return statusResponse(versions.status(), request.request_id);
                           }
                           ActorNames actors(*services.accounts, principal.tenant);
                           ordered_json items = ordered_json::array();
                           for (const content::TemplateVersion& version : *versions) {
                             ordered_json item = versionJson(version, false);
                             Status named = actors.describe(version.created_by, &item);
                             if (!named.ok()) {
                               return statusResponse(named, request.request_id);
                             }
                             items.push_back(std::move(item));
                           }
                           return orderedJsonResponse(200, {{"versions", items}});
                         }));
  router.add("GET", "/api/v1/templates/{id}/versions/{version}",
             tenantRoute(auth, Role::kViewer,
                         [services](const Request& request, const Principal& principal) {
                           Result<std::int64_t> number = versionParameter(request);
                           if (!number.ok()) {
                             return statusResponse(number.status(), request.request_id);
                           }
                           Result<content::TemplateVersion> version = services.templates->version(
                               principal.tenant, request.params.at("id"), *number);
                           return version.ok()
                                      ? orderedJsonResponse(200, versionJson(*version, true))
                                      : statusResponse(version.status(), request.request_id);
                         }));
}

}  // namespace

void addContentRoutes(Router& router, const Services& services) {
  addAssetRoutes(router, services);
  addBrandKitRoutes(router, services);
  addTemplateRoutes(router, services);
}

}  // namespace smmhub::api
