// POST /api/v1/previews: one frame of a template with one row, as the final
// video shows it. The API renders nothing itself. It sends the request to
// the workers through the preview queue (broker/previews.h) and waits for
// the reply. Frames are
// cached as STORAGE/TENANT/previews/KEY.png, where KEY is the SHA-256 of
// everything that decides the frame, so that a repeated request needs no
// worker.
//
// POST /api/v1/campaigns/{id}/preflight goes through the same queue: a
// worker runs render::preflight() on the campaign's rows and replies with
// the report.
//
// TODO: nothing removes cached frames yet, so STORAGE/TENANT/previews grows
// until an operator clears it; deleting its files is always safe.
#include <soci/soci.h>
#include <sodium.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/body.h"
#include "api/route_bodies.h"
#include "api/routes.h"
#include "broker/previews.h"
#include "campaigns/campaign_store.h"
#include "common/engine_version.h"
#include "common/ids.h"
#include "common/log.h"
#include "redis/connection.h"
#include "template/parser.h"

namespace smmhub::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Everything a worker needs to render the frame, found for the tenant.
struct PreviewInputs {
  fs::path template_path;
  std::string brand_dir;  // "" for no brand kit
  std::string row_json;
  fs::path data_source;
  double duration_s = 0;
};

// Returns the file of the template's VERSION, or of its latest version when
// VERSION is 0. Errors: notFound when the tenant has no such template or
// version.
Result<fs::path> templateFile(const Services& services, const std::string& tenant,
                              const std::string& id, std::int64_t version) {
  std::string path;
  SMMHUB_RETURN_IF_ERROR(services.db->read([&](soci::session& sql) -> Status {
    if (version == 0) {
      sql << "SELECT latest_version FROM templates WHERE id = :id AND tenant = :tenant",
          soci::into(version), soci::use(id), soci::use(tenant);
      if (!sql.got_data()) {
        return Status::notFound("template_id: template " + id + " not found");
      }
    }
    sql << "SELECT path FROM template_versions WHERE template_id = :id AND tenant = :tenant AND "
           "version = :version",
        soci::into(path), soci::use(id), soci::use(tenant), soci::use(version);
    if (!sql.got_data()) {
      return Status::notFound(fmt::format("template {} has no version {}", id, version));
    }
    return okStatus();
  }));
  return fs::path(path);
}

// Returns the folder of the tenant's brand kit ID. Errors: notFound.
Result<std::string> brandKitDir(const Services& services, const std::string& tenant,
                                const std::string& id) {
  std::string dir;
  SMMHUB_RETURN_IF_ERROR(services.db->read([&](soci::session& sql) -> Status {
    sql << "SELECT dir FROM brand_kits WHERE id = :id AND tenant = :tenant", soci::into(dir),
        soci::use(id), soci::use(tenant);
    return sql.got_data() ? okStatus()
                          : Status::notFound("brand_kit_id: brand kit " + id + " not found");
  }));
  return dir;
}

// Finds the template, brand kit and row of BODY among the tenant's data. A
// campaign row uses the campaign's brand kit and template version unless
// the body names others, as the campaign's batch would.
Result<PreviewInputs> findInputs(const Services& services, const std::string& tenant,
                                 const PreviewBody& body) {
  PreviewInputs inputs;
  std::optional<campaigns::Campaign> campaign;
  if (body.campaign_id) {
    SMMHUB_ASSIGN_OR_RETURN(campaign, services.campaigns->get(tenant, *body.campaign_id));
  }
  std::int64_t version = body.version.value_or(0);
  if (!body.version && campaign && campaign->template_id == body.template_id) {
    version = campaign->template_version;
  }
  SMMHUB_ASSIGN_OR_RETURN(inputs.template_path,
                          templateFile(services, tenant, body.template_id, version));
  if (body.brand_kit_id) {
    SMMHUB_ASSIGN_OR_RETURN(inputs.brand_dir, brandKitDir(services, tenant, *body.brand_kit_id));
  } else if (campaign && !campaign->brand_kit_id.empty()) {
    SMMHUB_ASSIGN_OR_RETURN(inputs.brand_dir,
                            brandKitDir(services, tenant, campaign->brand_kit_id));
  }

  // The template library is pure, so the API may parse the template to
  // check the time before a worker is asked.
  SMMHUB_ASSIGN_OR_RETURN(templates::Template parsed,
                          templates::loadTemplate(inputs.template_path, nullptr));
  inputs.duration_s = parsed.durationS();
  if (!std::isfinite(body.time_s) || body.time_s < 0 || body.time_s >= inputs.duration_s) {
    return Status::invalidArgument(fmt::format(
        "time_s: {} is outside the template, which lasts {} s; give a time from 0 to less than {}",
        body.time_s, inputs.duration_s, inputs.duration_s));
  }

  if (campaign) {
    SMMHUB_ASSIGN_OR_RETURN(
        campaigns::PlannedRow planned,
        services.campaigns->planRow(tenant, campaign->id, body.row, inputs.template_path));
    inputs.row_json = std::move(planned.row_json);
    inputs.data_source = planned.data_path;
  } else {
    inputs.row_json = body.values->dump();
    // Relative paths among the values are relative to the tenant's folder.
    // The file itself need not exist: only its folder is used.
    inputs.data_source = services.storage / tenant / "preview-values.json";
  }
  return inputs;
}

Result<std::string> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::unavailable(path.string() + ": cannot read the file");
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Returns the cache key of a frame: the SHA-256, in hexadecimal, of the
// engine version, the template file, the brand kit's brand.json, the row and
// the time, each preceded by its length.
// NOTE: files that the template, brand kit or row name (images, fonts) are
// keyed by their paths only. Content stores them under new paths when they
// change, but a file replaced in place keeps serving the older frame.
Result<std::string> cacheKey(const PreviewInputs& inputs, double time_s) {
  SMMHUB_ASSIGN_OR_RETURN(std::string template_text, readFile(inputs.template_path));
  std::string brand_text;
  if (!inputs.brand_dir.empty()) {
    SMMHUB_ASSIGN_OR_RETURN(brand_text, readFile(fs::path(inputs.brand_dir) / "brand.json"));
  }
  // The engine version comes from common/engine_version.h, the value that
  // render::kEngineVersion is, because the API must not link the engine.
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::string time_text = fmt::format("{:.17g}", time_s);
  for (std::string_view part :
       {kRenderEngineVersion, std::string_view(template_text), std::string_view(brand_text),
        std::string_view(inputs.row_json), std::string_view(time_text)}) {
    std::string length = std::to_string(part.size()) + ":";
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(length.data()),
                              length.size());
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex);
}

// Removes every PREFIX from TEXT, so that a client sees paths relative to
// its tenant's folder, not the server's storage layout.
std::string withoutPrefix(std::string text, const std::string& prefix) {
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) {
    text.erase(at, prefix.size());
  }
  return text;
}

// Returns TEXT with the tenant's storage folder removed from the paths it
// names, both as the API spells the folder and as its canonical path, so
// that a message names files relative to the tenant's storage.
std::string tenantRelative(const Services& services, const std::string& tenant, std::string text) {
  fs::path folder = services.storage / tenant;
  text = withoutPrefix(std::move(text), folder.string() + "/");
  std::error_code error;
  fs::path canonical = fs::weakly_canonical(folder, error);
  if (!error && canonical != folder) {
    text = withoutPrefix(std::move(text), canonical.string() + "/");
  }
  return text;
}

// Returns the error response of STATUS with paths relative to the tenant's
// storage, as tenantRelative() writes them.
Response tenantStatusResponse(const Services& services, const std::string& tenant,
                              const Status& status, std::string_view request_id) {
  return statusResponse(Status(status.code(), tenantRelative(services, tenant, status.message())),
                        request_id);
}

Response pngResponse(const fs::path& path, std::string_view cache) {
  return Response{.status = 200,
                  .content_type = "image/png",
                  .headers = {{"Cache-Control", "private, max-age=300"},
                              {"X-Preview-Cache", std::string(cache)}},
                  .file = path};
}

// Queues REQUEST for the workers and waits up to TIMEOUT for its reply.
// Returns the reply, or nothing when no worker replied in time. A request
// still queued then is removed, so that no worker serves it late.
Result<std::optional<json>> askWorker(const Services& services,
                                      const broker::PreviewRequest& request,
                                      std::chrono::milliseconds timeout) {
  std::string message = broker::previewRequestJson(request);
  {
    SMMHUB_ASSIGN_OR_RETURN(redis::Pool::Lease connection, services.redis->acquire());
    SMMHUB_RETURN_IF_ERROR(connection->command({"RPUSH", broker::kPreviewQueueKey, message}));
  }

  // The wait blocks a connection of its own, longer than the pool's timeout.
  redis::Connection waiter(services.redis->endpoint(), timeout + std::chrono::milliseconds(2'000));
  std::string wait_s = fmt::format("{:.3f}", timeout.count() / 1000.0);
  SMMHUB_ASSIGN_OR_RETURN(redis::ReplyPtr reply,
                          waiter.command({"BLPOP", request.reply_key, wait_s}));
  const redisReply* value = redis::elementAt(reply.get(), 1);
  if (value == nullptr) {
    SMMHUB_RETURN_IF_ERROR(waiter.command({"LREM", broker::kPreviewQueueKey, "1", message}));
    return std::optional<json>();
  }
  json parsed = json::parse(redis::replyText(value), nullptr, false);
  if (!parsed.is_object() || !parsed.contains("ok")) {
    return Status::internal("preview " + request.id + ": the worker's reply is not valid JSON");
  }
  return std::optional<json>(std::move(parsed));
}

Response createPreview(const Services& services, const Request& request,
                       const Principal& principal) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return *body.error;
  }
  Result<PreviewBody> preview = previewBodyFrom(body.fields);
  if (!preview.ok()) {
    return statusResponse(preview.status(), request.request_id);
  }
  Result<PreviewInputs> inputs = findInputs(services, principal.tenant, *preview);
  if (!inputs.ok()) {
    return tenantStatusResponse(services, principal.tenant, inputs.status(), request.request_id);
  }
  Result<std::string> key = cacheKey(*inputs, preview->time_s);
  if (!key.ok()) {
    return tenantStatusResponse(services, principal.tenant, key.status(), request.request_id);
  }
  fs::path png = services.storage / principal.tenant / "previews" / (*key + ".png");
  std::error_code error;
  if (fs::is_regular_file(png, error)) {
    logger("api")->debug("preview cache hit id={} key={}", request.request_id, *key);
    return pngResponse(png, "hit");
  }

  broker::PreviewRequest job{.id = randomId("pv-"),
                             .tenant = principal.tenant,
                             .template_path = inputs->template_path.string(),
                             .brand_dir = inputs->brand_dir,
                             .row_json = inputs->row_json,
                             .row = preview->campaign_id ? preview->row : 0,
                             .data_source = inputs->data_source.string(),
                             .time_s = preview->time_s,
                             .out_path = png.string()};
  job.reply_key = broker::previewReplyKey(job.id);
  Result<std::optional<json>> reply = askWorker(services, job, services.preview_timeout);
  if (!reply.ok()) {
    return statusResponse(reply.status(), request.request_id);
  }
  if (!reply->has_value()) {
    logger("api")->warn("preview timed out id={} preview={} timeout_ms={}", request.request_id,
                        job.id, services.preview_timeout.count());
    return errorResponse(504, "preview_timeout",
                         fmt::format("no worker answered within {} ms; check that a worker runs",
                                     services.preview_timeout.count()),
                         request.request_id);
  }
  const json& answer = **reply;
  if (!answer.value("ok", false)) {
    std::string message = answer.value("error", "the worker failed without a message");
    logger("api")->info("preview failed id={} preview={} error=\"{}\"", request.request_id, job.id,
                        message);
    return errorResponse(422, "preview_failed", tenantRelative(services, principal.tenant, message),
                         request.request_id);
  }
  if (!fs::is_regular_file(png, error)) {
    return statusResponse(Status::internal("preview " + job.id + ": the worker replied ok, but " +
                                           png.string() + " is not there"),
                          request.request_id);
  }
  return pngResponse(png, "miss");
}

// Returns what CAMPAIGN lacks for a preflight and how to set it, or nothing
// when it has a template, rows and a brand kit.
std::optional<std::string> missingForPreflight(const campaigns::Campaign& campaign) {
  std::string path = "/api/v1/campaigns/" + campaign.id;
  std::vector<std::string> missing;
  std::vector<std::string> actions;
  if (campaign.template_id.empty()) {
    missing.emplace_back("no template");
    actions.push_back("set template_id with PATCH " + path);
  }
  if (campaign.data_path.empty()) {
    missing.emplace_back("no rows");
    actions.push_back("upload rows with PUT " + path + "/rows");
  }
  if (campaign.brand_kit_id.empty()) {
    missing.emplace_back("no brand kit");
    actions.push_back("set brand_kit_id with PATCH " + path);
  }
  if (missing.empty()) {
    return std::nullopt;
  }
  // "no template, no rows and no brand kit"
  std::string last = missing.back();
  missing.pop_back();
  std::string lacks =
      missing.empty() ? last : fmt::format("{} and {}", fmt::join(missing, ", "), last);
  return fmt::format("campaign {} has {}: {}", campaign.id, lacks, fmt::join(actions, "; "));
}

// Returns the row that PLACE names ("row 3, column home" or "row 3:
// /scenes/1/layers/2"), or null when it names none.
json rowOfPlace(std::string_view place) {
  if (!place.starts_with("row ")) {
    return nullptr;
  }
  place.remove_prefix(4);
  int row = 0;
  auto [end, error] = std::from_chars(place.data(), place.data() + place.size(), row);
  bool whole = end == place.data() + place.size() || *end == ',' || *end == ':';
  if (error != std::errc() || end == place.data() || !whole) {
    return nullptr;
  }
  return row;
}

// Builds the 200 body from a worker's preflight report.
Result<json> preflightBody(const json& answer, const std::string& tenant_prefix) {
  auto report = answer.find("report");
  if (report == answer.end() || !report->is_object() || !report->contains("problems") ||
      !(*report)["problems"].is_array()) {
    return Status::internal("the worker's preflight reply has no report");
  }
  json problems = json::array();
  for (const json& problem : (*report)["problems"]) {
    if (!problem.is_object()) {
      continue;
    }
    std::string place = withoutPrefix(problem.value("place", ""), tenant_prefix);
    json row = rowOfPlace(place);
    problems.push_back({{"severity", problem.value("severity", "error")},
                        {"row", std::move(row)},
                        {"place", std::move(place)},
                        {"message", withoutPrefix(problem.value("message", ""), tenant_prefix)}});
  }
  return json{{"rows", report->value("rows", 0)},
              {"rows_with_errors", report->value("rows_with_errors", 0)},
              {"template_valid", report->value("template_valid", false)},
              {"problems", std::move(problems)}};
}

// POST /api/v1/campaigns/{id}/preflight: a worker checks every row of the
// campaign as Generate all would bind it, and renders nothing.
Response preflightCampaign(const Services& services, const Request& request,
                           const Principal& principal) {
  JsonBody body = parseJsonObject(request, true);
  if (body.error) {
    return *body.error;
  }
  const std::string& tenant = principal.tenant;
  Result<campaigns::Campaign> campaign = services.campaigns->get(tenant, request.params.at("id"));
  if (!campaign.ok()) {
    return statusResponse(campaign.status(), request.request_id);
  }
  if (std::optional<std::string> missing = missingForPreflight(*campaign)) {
    return errorResponse(422, "campaign_incomplete", *missing, request.request_id);
  }

  // The inputs of the campaign's jobs: the template version that Generate
  // all would take now, the brand kit's folder, the rows file and mapping.
  Result<fs::path> template_path =
      templateFile(services, tenant, campaign->template_id, campaign->template_version);
  if (!template_path.ok()) {
    return statusResponse(template_path.status(), request.request_id);
  }
  Result<std::string> brand_dir = brandKitDir(services, tenant, campaign->brand_kit_id);
  if (!brand_dir.ok()) {
    return statusResponse(brand_dir.status(), request.request_id);
  }
  broker::PreviewRequest job{.id = randomId("pf-"),
                             .kind = std::string(broker::kPreflightRequest),
                             .tenant = tenant,
                             .template_path = template_path->string(),
                             .brand_dir = *brand_dir,
                             .data_path = campaign->data_path,
                             .mapping_json = json(campaign->mapping).dump()};
  job.reply_key = broker::previewReplyKey(job.id);

  Result<std::optional<json>> reply = askWorker(services, job, services.preflight_timeout);
  if (!reply.ok()) {
    return statusResponse(reply.status(), request.request_id);
  }
  if (!reply->has_value()) {
    logger("api")->warn("preflight timed out id={} preflight={} timeout_ms={}", request.request_id,
                        job.id, services.preflight_timeout.count());
    return errorResponse(504, "preflight_timeout",
                         fmt::format("no worker answered within {} ms; check that a worker runs",
                                     services.preflight_timeout.count()),
                         request.request_id);
  }
  std::string tenant_prefix = (services.storage / tenant).string() + "/";
  const json& answer = **reply;
  if (!answer.value("ok", false)) {
    std::string message = answer.value("error", "the worker failed without a message");
    logger("api")->info("preflight failed id={} preflight={} error=\"{}\"", request.request_id,
                        job.id, message);
    return errorResponse(422, "preflight_failed", withoutPrefix(message, tenant_prefix),
                         request.request_id);
  }
  Result<json> checked = preflightBody(answer, tenant_prefix);
  if (!checked.ok()) {
    return statusResponse(checked.status(), request.request_id);
  }
  return jsonResponse(200, *checked);
}

}  // namespace

void addPreviewRoutes(Router& router, const Services& services) {
  router.add("POST", "/api/v1/previews",
             tenantRoute(services.auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           return createPreview(services, request, principal);
                         }),
             {.slow = true});
  router.add("POST", "/api/v1/campaigns/{id}/preflight",
             tenantRoute(services.auth, Role::kEditor,
                         [services](const Request& request, const Principal& principal) {
                           return preflightCampaign(services, request, principal);
                         }),
             {.slow = true});
}

}  // namespace smmhub::api
