// Campaign, batch, download and live event routes: an agency's rows become
// a batch of videos here, and the videos come back out.
#include <archive.h>
#include <archive_entry.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/body.h"
#include "api/route_bodies.h"
#include "api/routes.h"
#include "broker/broker.h"
#include "broker/events.h"
#include "campaigns/campaign_store.h"
#include "campaigns/submit.h"
#include "common/log.h"
#include "credits/credits.h"
#include "credits/prices.h"
#include "jobs/job_store.h"
#include "redis/window_counter.h"

namespace smmhub::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Uploaded rows may be as large as the data table reader accepts.
constexpr std::uint64_t kMaxRowsBytes = 10 * 1024 * 1024;
constexpr size_t kMaxIdempotencyKeyBytes = 200;
// A comment line keeps idle event streams open through proxies.
constexpr std::chrono::seconds kKeepAliveInterval{15};

json campaignJson(const campaigns::Campaign& campaign) {
  return {{"id", campaign.id},
          {"name", campaign.name},
          {"template_id", campaign.template_id},
          {"template_version", campaign.template_version},
          {"brand_kit_id", campaign.brand_kit_id},
          {"columns", campaign.columns},
          {"row_count", campaign.row_count},
          {"mapping", campaign.mapping},
          {"created_at_ms", campaign.created_at_ms},
          {"updated_at_ms", campaign.updated_at_ms}};
}

json countsJson(const jobs::BatchSummary& summary) {
  return {{"total", summary.total},         {"queued", summary.queued},
          {"active", summary.active},       {"retrying", summary.retrying},
          {"completed", summary.completed}, {"failed", summary.failed},
          {"cancelled", summary.cancelled}};
}

std::string videoUrl(const std::string& batch_id, int row) {
  return fmt::format("/api/v1/batches/{}/videos/{}", batch_id, row);
}

std::string posterUrl(const std::string& batch_id, int row) {
  return fmt::format("/api/v1/batches/{}/posters/{}", batch_id, row);
}

json jobJson(const jobs::Job& job) {
  json out = {{"id", job.id},
              {"row", job.row},
              {"state", jobs::jobStateName(job.state)},
              {"attempts", job.attempts},
              {"error", job.last_error},
              {"updated_at_ms", job.updated_at_ms}};
  if (job.state == jobs::JobState::kCompleted) {
    out["video_url"] = videoUrl(job.batch_id, job.row);
    out["poster_url"] = posterUrl(job.batch_id, job.row);
  }
  return out;
}

// Reads a batch of the principal's tenant. Another tenant's batch is
// notFound with the same message as an unknown one.
Result<jobs::Batch> tenantBatch(const Services& services, const Principal& principal,
                                const std::string& batch_id) {
  Result<jobs::Batch> batch = services.jobs->batch(batch_id);
  if (!batch.ok() && batch.status().code() != StatusCode::kNotFound) {
    return batch.status();
  }
  if (!batch.ok() || batch->tenant != principal.tenant) {
    return Status::notFound("batch " + batch_id + " not found");
  }
  return batch;
}

Result<json> batchJson(const Services& services, const Principal& principal,
                       const jobs::Batch& batch, bool with_jobs) {
  SMMHUB_ASSIGN_OR_RETURN(jobs::BatchSummary summary, services.jobs->batchSummary(batch.id));
  SMMHUB_ASSIGN_OR_RETURN(std::string campaign,
                          services.campaigns->campaignOf(principal.tenant, batch.id));
  json out = {{"id", batch.id},
              {"campaign_id", campaign},
              {"priority", batch.priority},
              {"video_price", batch.video_price},
              {"job_count", batch.job_count},
              {"created_at_ms", batch.created_at_ms},
              {"cancelled", batch.cancelled_at_ms != 0},
              {"counts", countsJson(summary)}};
  if (with_jobs) {
    SMMHUB_ASSIGN_OR_RETURN(std::vector<jobs::Job> batch_jobs, services.jobs->batchJobs(batch.id));
    json list = json::array();
    for (const jobs::Job& job : batch_jobs) {
      list.push_back(jobJson(job));
    }
    out["jobs"] = std::move(list);
  }
  return out;
}

Response createCampaign(const Services& services, const Request& request,
                        const Principal& principal) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return *body.error;
  }
  Result<campaigns::CampaignChange> change = campaignChangeFrom(body.fields, true);
  if (!change.ok()) {
    return statusResponse(change.status(), request.request_id);
  }
  Result<campaigns::Campaign> created = services.campaigns->create(principal.tenant, *change);
  if (!created.ok()) {
    return statusResponse(created.status(), request.request_id);
  }
  return jsonResponse(201, campaignJson(*created));
}

Response updateCampaign(const Services& services, const Request& request,
                        const Principal& principal) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return *body.error;
  }
  Result<campaigns::CampaignChange> change = campaignChangeFrom(body.fields, false);
  if (!change.ok()) {
    return statusResponse(change.status(), request.request_id);
  }
  Result<campaigns::Campaign> updated =
      services.campaigns->update(principal.tenant, request.params.at("id"), *change);
  if (!updated.ok()) {
    return statusResponse(updated.status(), request.request_id);
  }
  return jsonResponse(200, campaignJson(*updated));
}

// PUT /api/v1/campaigns/{id}/rows: CSV (text/csv) or JSON rows
// (application/json), chosen by the Content-Type.
Response uploadRows(const Services& services, const Request& request, const Principal& principal) {
  std::string_view type = header(request, "content-type");
  std::string_view media = type.substr(0, type.find(';'));
  campaigns::RowsFormat format;
  if (media == "text/csv") {
    format = campaigns::RowsFormat::kCsv;
  } else if (media == "application/json") {
    format = campaigns::RowsFormat::kJson;
  } else {
    return errorResponse(
        415, "unsupported_media_type",
        "rows must be sent as text/csv or application/json, not '" + std::string(type) + "'",
        request.request_id);
  }
  Result<campaigns::RowsUpload> upload = services.campaigns->uploadRows(
      principal.tenant, request.params.at("id"), request.body, format);
  if (!upload.ok()) {
    return statusResponse(upload.status(), request.request_id);
  }
  return jsonResponse(200,
                      {{"campaign", campaignJson(upload->campaign)}, {"preview", upload->preview}});
}

Response listRows(const Services& services, const Request& request, const Principal& principal) {
  Result<std::int64_t> offset = integerQuery(request, "offset", 0, 0, 1'000'000);
  Result<std::int64_t> limit = integerQuery(request, "limit", 100, 1, 1'000);
  if (!offset.ok() || !limit.ok()) {
    return statusResponse(!offset.ok() ? offset.status() : limit.status(), request.request_id);
  }
  Result<templates::DataTable> table =
      services.campaigns->rows(principal.tenant, request.params.at("id"));
  if (!table.ok()) {
    return statusResponse(table.status(), request.request_id);
  }
  json rows = json::array();
  for (size_t i = static_cast<size_t>(*offset);
       i < table->rows.size() && rows.size() < static_cast<size_t>(*limit); ++i) {
    rows.push_back({{"number", table->rows[i].number}, {"values", table->rows[i].values}});
  }
  return jsonResponse(
      200, {{"columns", table->columns}, {"total", table->rows.size()}, {"rows", std::move(rows)}});
}

Response setMapping(const Services& services, const Request& request, const Principal& principal) {
  JsonBody body = parseJsonObject(request);
  if (body.error) {
    return *body.error;
  }
  Result<std::map<std::string, std::string>> mapping = mappingFrom(body.fields);
  if (!mapping.ok()) {
    return statusResponse(mapping.status(), request.request_id);
  }
  Result<campaigns::Campaign> updated =
      services.campaigns->setMapping(principal.tenant, request.params.at("id"), *mapping);
  if (!updated.ok()) {
    return statusResponse(updated.status(), request.request_id);
  }
  return jsonResponse(200, campaignJson(*updated));
}

// Returns the Idempotency-Key header, or the 400 response when it is
// missing or malformed.
Result<std::string> idempotencyKey(const Request& request) {
  std::string_view key = header(request, "idempotency-key");
  if (key.empty() || key.size() > kMaxIdempotencyKeyBytes) {
    return Status::invalidArgument(fmt::format(
        "header Idempotency-Key is required: 1 to {} visible ASCII characters, unique per "
        "request that should count once",
        kMaxIdempotencyKeyBytes));
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return Status::invalidArgument(
          "header Idempotency-Key must hold visible ASCII characters only");
    }
  }
  return std::string(key);
}

Response shortResponse(const Request& request, std::int64_t needed, std::int64_t available,
                       std::int64_t shortfall, std::string_view what) {
  Response response =
      errorResponse(402, "insufficient_credits",
                    fmt::format("{} needs {} credits and {} are available: short by {}", what,
                                needed, available, shortfall),
                    request.request_id);
  json body = json::parse(response.body);
  body["error"]["needed"] = needed;
  body["error"]["available"] = available;
  body["error"]["shortfall"] = shortfall;
  response.body = body.dump();
  return response;
}

// Counts a call of Generate all or retry against the tenant's limit per
// minute, and returns the 429 for a call over it. While Redis is down the
// call goes on: it cannot queue jobs then anyway, and fails with 503.
std::optional<Response> overGenerateRate(const Services& services, const Request& request,
                                         const Principal& principal) {
  if (services.redis == nullptr || services.generate_per_minute <= 0) {
    return std::nullopt;
  }
  Result<redis::WindowCount> calls = redis::countInWindow(
      *services.redis, "smmhub:rl:generate:{" + principal.tenant + "}", std::chrono::minutes(1));
  if (!calls.ok()) {
    logger("api")->warn("generate rate not counted id={} tenant={} error={}", request.request_id,
                        principal.tenant, calls.status().toString());
    return std::nullopt;
  }
  if (calls->count <= services.generate_per_minute) {
    return std::nullopt;
  }
  long long seconds = redis::retryAfterSeconds(calls->ms_left);
  Response response = errorResponse(
      429, "rate_limited",
      fmt::format("Generate all and retry are limited to {} calls a minute per agency; retry after "
                  "{} seconds",
                  services.generate_per_minute, seconds),
      request.request_id);
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

// POST /api/v1/campaigns/{id}/generate: one job per row, credits held, in
// one call. A repeat with the same Idempotency-Key returns the same batch.
Response generate(const Services& services, const Request& request, const Principal& principal) {
  if (std::optional<Response> limited = overGenerateRate(services, request, principal)) {
    return *limited;
  }
  Result<std::string> key = idempotencyKey(request);
  if (!key.ok()) {
    return errorResponse(400, "bad_request", key.status().message(), request.request_id);
  }
  JsonBody body = parseJsonObject(request, true);
  if (body.error) {
    return *body.error;
  }
  Result<std::optional<std::string>> priority = stringField(body.fields, "priority", false);
  if (!priority.ok()) {
    return statusResponse(priority.status(), request.request_id);
  }
  std::string lane = priority->value_or("normal");
  if (lane != "normal" && lane != "high") {
    return statusResponse(
        Status::invalidArgument("field 'priority' must be \"normal\" or \"high\", not \"" + lane +
                                "\""),
        request.request_id);
  }

  const std::string& campaign_id = request.params.at("id");
  Result<campaigns::Plan> plan =
      services.campaigns->plan(principal.tenant, campaign_id, "api:" + campaign_id + ":" + *key);
  if (!plan.ok()) {
    return statusResponse(plan.status(), request.request_id);
  }
  Result<std::int64_t> price = credits::videoPrice(*services.db, principal.tenant);
  if (!price.ok()) {
    return statusResponse(price.status(), request.request_id);
  }
  plan->spec.video_price = *price;
  plan->spec.priority = lane;
  plan->spec.storage_dir = services.storage.string();
  plan->spec.max_unfinished_jobs = services.max_unfinished_jobs;

  Result<campaigns::Submitted> submitted = campaigns::submitBatch(
      {.store = *services.jobs, .credits = *services.credits, .broker = *services.broker},
      plan->spec, plan->jobs, principal.actor());
  if (!submitted.ok() && submitted.status().code() == StatusCode::kResourceExhausted) {
    return errorResponse(429, "queue_full", submitted.status().message(), request.request_id);
  }
  if (!submitted.ok()) {
    return statusResponse(submitted.status(), request.request_id);
  }
  if (submitted->outcome == campaigns::SubmitOutcome::kShort) {
    return shortResponse(
        request, submitted->needed, submitted->available, submitted->shortfall,
        fmt::format("generating {} videos at {} credits each", submitted->jobs, *price));
  }
  return jsonResponse(submitted->created ? 202 : 200, {{"batch_id", submitted->batch_id},
                                                       {"created", submitted->created},
                                                       {"jobs", submitted->jobs},
                                                       {"credits_held", submitted->needed},
                                                       {"video_price", *price}});
}

Response listBatches(const Services& services, const Request& request, const Principal& principal) {
  Result<std::int64_t> limit = integerQuery(request, "limit", 50, 1, 500);
  if (!limit.ok()) {
    return statusResponse(limit.status(), request.request_id);
  }
  auto campaign = request.query.find("campaign_id");
  Result<std::vector<std::string>> ids = services.campaigns->batchIds(
      principal.tenant, campaign == request.query.end() ? "" : campaign->second,
      static_cast<int>(*limit));
  if (!ids.ok()) {
    return statusResponse(ids.status(), request.request_id);
  }
  json list = json::array();
  for (const std::string& id : *ids) {
    Result<jobs::Batch> batch = services.jobs->batch(id);
    if (!batch.ok()) {
      return statusResponse(batch.status(), request.request_id);
    }
    Result<json> out = batchJson(services, principal, *batch, false);
    if (!out.ok()) {
      return statusResponse(out.status(), request.request_id);
    }
    list.push_back(std::move(*out));
  }
  return jsonResponse(200, {{"batches", std::move(list)}});
}

Response getBatch(const Services& services, const Request& request, const Principal& principal) {
  Result<jobs::Batch> batch = tenantBatch(services, principal, request.params.at("id"));
  if (!batch.ok()) {
    return statusResponse(batch.status(), request.request_id);
  }
  Result<json> out = batchJson(services, principal, *batch, true);
  if (!out.ok()) {
    return statusResponse(out.status(), request.request_id);
  }
  return jsonResponse(200, *out);
}

Response retryBatch(const Services& services, const Request& request, const Principal& principal) {
  if (std::optional<Response> limited = overGenerateRate(services, request, principal)) {
    return *limited;
  }
  Result<std::string> key = idempotencyKey(request);
  if (!key.ok()) {
    return errorResponse(400, "bad_request", key.status().message(), request.request_id);
  }
  const std::string& batch_id = request.params.at("id");
  Result<jobs::Batch> batch = tenantBatch(services, principal, batch_id);
  if (!batch.ok()) {
    return statusResponse(batch.status(), request.request_id);
  }
  Result<campaigns::Retried> retried = campaigns::retryBatch(
      {.store = *services.jobs, .credits = *services.credits, .broker = *services.broker}, batch_id,
      "retry:" + batch_id + ":" + *key, principal.actor());
  if (!retried.ok()) {
    return statusResponse(retried.status(), request.request_id);
  }
  if (retried->outcome == campaigns::SubmitOutcome::kShort) {
    return shortResponse(request, retried->needed, retried->available, retried->shortfall,
                         "retrying the failed videos");
  }
  return jsonResponse(200, {{"retried", retried->jobs}, {"credits_held", retried->needed}});
}

Response cancelBatch(const Services& services, const Request& request, const Principal& principal) {
  const std::string& batch_id = request.params.at("id");
  Result<jobs::Batch> batch = tenantBatch(services, principal, batch_id);
  if (!batch.ok()) {
    return statusResponse(batch.status(), request.request_id);
  }
  Result<jobs::BatchSummary> before = services.jobs->batchSummary(batch_id);
  if (!before.ok()) {
    return statusResponse(before.status(), request.request_id);
  }
  Result<std::vector<std::string>> active = services.broker->cancelBatch(batch_id);
  if (!active.ok()) {
    return statusResponse(active.status(), request.request_id);
  }
  Result<jobs::BatchSummary> after = services.jobs->batchSummary(batch_id);
  if (!after.ok()) {
    return statusResponse(after.status(), request.request_id);
  }
  return jsonResponse(
      200, {{"cancelled", after->cancelled - before->cancelled}, {"stopping", active->size()}});
}

// The stored file of a batch's row: its video, or with POSTER its poster.
Result<fs::path> outputFile(const Services& services, const Principal& principal,
                            const Request& request, bool poster) {
  const std::string& batch_id = request.params.at("id");
  SMMHUB_ASSIGN_OR_RETURN(jobs::Batch batch, tenantBatch(services, principal, batch_id));
  const std::string& row_text = request.params.at("row");
  SMMHUB_ASSIGN_OR_RETURN(std::vector<jobs::Job> batch_jobs, services.jobs->batchJobs(batch.id));
  for (const jobs::Job& job : batch_jobs) {
    if (std::to_string(job.row) != row_text) {
      continue;
    }
    if (job.state != jobs::JobState::kCompleted) {
      return Status::notFound(fmt::format("row {} of batch {} has no video yet: it is {}", row_text,
                                          batch_id, jobs::jobStateName(job.state)));
    }
    fs::path video = services.storage / batch.tenant / batch.id / job.output_name;
    return poster ? fs::path(video).replace_extension(".jpg") : video;
  }
  return Status::notFound("batch " + batch_id + " has no row " + row_text);
}

Response download(const Services& services, const Request& request, const Principal& principal,
                  bool poster) {
  Result<fs::path> file = outputFile(services, principal, request, poster);
  if (!file.ok()) {
    return statusResponse(file.status(), request.request_id);
  }
  std::string name = fmt::format("{}-{}", request.params.at("id"), file->filename().string());
  return Response{
      .content_type = poster ? "image/jpeg" : "video/mp4",
      .headers = {{"Content-Disposition",
                   fmt::format("{}; filename=\"{}\"", poster ? "inline" : "attachment", name)},
                  {"Cache-Control", "private, max-age=3600"}},
      .file = *file};
}

// Streams a ZIP of FILES, stored without compression (MP4 does not
// compress), entry by entry as the archive is built.
void writeZip(StreamWriter& writer, const std::vector<std::pair<std::string, fs::path>>& files,
              const std::string& request_id) {
  struct Sink {
    StreamWriter* writer;
  } sink{&writer};
  archive* zip = archive_write_new();
  archive_write_set_format_zip(zip);
  archive_write_zip_set_compression_store(zip);
  // Writes go straight to the client instead of into 10 KiB blocks.
  archive_write_set_bytes_per_block(zip, 0);
  auto on_write = [](archive*, void* data, const void* buffer, size_t length) -> la_ssize_t {
    auto* target = static_cast<Sink*>(data);
    if (!target->writer->write(std::string(static_cast<const char*>(buffer), length))) {
      return -1;
    }
    return static_cast<la_ssize_t>(length);
  };
  if (archive_write_open(zip, &sink, nullptr, on_write, nullptr) != ARCHIVE_OK) {
    logger("api")->error("zip failed to start id={} error={}", request_id,
                         archive_error_string(zip));
    archive_write_free(zip);
    return;
  }
  std::vector<char> buffer(256 * 1024);
  for (const auto& [name, path] : files) {
    std::ifstream in(path, std::ios::binary);
    std::error_code error;
    auto size = fs::file_size(path, error);
    if (!in || error) {
      logger("api")->warn("zip entry skipped id={} file={}: cannot read it", request_id,
                          path.string());
      continue;
    }
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(size));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    bool ok = archive_write_header(zip, entry) == ARCHIVE_OK;
    archive_entry_free(entry);
    while (ok && in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      std::streamsize got = in.gcount();
      if (got > 0 && archive_write_data(zip, buffer.data(), static_cast<size_t>(got)) < 0) {
        ok = false;
      }
    }
    if (!ok || !writer.open()) {
      logger("api")->info("zip stopped id={} reason={}", request_id,
                          writer.open() ? archive_error_string(zip) : "client gone");
      archive_write_free(zip);
      return;
    }
  }
  archive_write_close(zip);
  archive_write_free(zip);
}

Response downloadZip(const Services& services, const Request& request, const Principal& principal) {
  const std::string& batch_id = request.params.at("id");
  Result<jobs::Batch> batch = tenantBatch(services, principal, batch_id);
  if (!batch.ok()) {
    return statusResponse(batch.status(), request.request_id);
  }
  Result<std::vector<jobs::Job>> batch_jobs = services.jobs->batchJobs(batch_id);
  if (!batch_jobs.ok()) {
    return statusResponse(batch_jobs.status(), request.request_id);
  }
  std::vector<std::pair<std::string, fs::path>> files;
  for (const jobs::Job& job : *batch_jobs) {
    if (job.state == jobs::JobState::kCompleted) {
      files.emplace_back(job.output_name,
                         services.storage / batch->tenant / batch->id / job.output_name);
    }
  }
  if (files.empty()) {
    return errorResponse(404, "not_found", "batch " + batch_id + " has no completed videos yet",
                         request.request_id);
  }
  return Response{
      .content_type = "application/zip",
      .headers = {{"Content-Disposition",
                   fmt::format("attachment; filename=\"{}.zip\"", batch_id)}},
      .stream = [files = std::move(files), id = request.request_id](StreamWriter& writer) {
        writeZip(writer, files, id);
      }};
}

json eventJson(const broker::JobEventMessage& event) {
  json out = {{"type", event.type},
              {"batch_id", event.batch_id},
              {"job_id", event.job_id},
              {"row", event.row},
              {"at_ms", event.at_ms}};
  if (event.type == "state") {
    out["from"] = event.from_state;
    out["to"] = event.to_state;
    out["attempt"] = event.attempt;
    out["error"] = event.error;
  } else {
    out["frames_done"] = event.frames_done;
    out["frames_total"] = event.frames_total;
  }
  return out;
}

// GET /api/v1/events: the tenant's job events as server-sent events, from
// now on or after Last-Event-ID, optionally for one batch.
Response events(const Services& services, const Request& request, const Principal& principal) {
  std::string after(header(request, "last-event-id"));
  auto batch_filter = request.query.find("batch_id");
  std::string batch_id = batch_filter == request.query.end() ? "" : batch_filter->second;
  if (!batch_id.empty()) {
    Result<jobs::Batch> batch = tenantBatch(services, principal, batch_id);
    if (!batch.ok()) {
      return statusResponse(batch.status(), request.request_id);
    }
  }
  if (after.empty()) {
    Result<std::string> last = services.events->lastId(principal.tenant);
    if (!last.ok()) {
      return statusResponse(last.status(), request.request_id);
    }
    after = *last;
  }
  broker::EventLog* log = services.events;
  std::string tenant = principal.tenant;
  return Response{.content_type = "text/event-stream",
                  .headers = {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}},
                  .stream = [log, tenant, batch_id, after,
                             id = request.request_id](StreamWriter& writer) mutable {
                    if (!writer.write("retry: 2000\n: connected\n\n")) {
                      return;
                    }
                    auto quiet_since = std::chrono::steady_clock::now();
                    while (writer.open()) {
                      Result<std::vector<broker::JobEventMessage>> batch =
                          log->read(tenant, after, std::chrono::milliseconds(1'000));
                      if (!batch.ok()) {
                        logger("api")->warn("event stream read failed id={} error={}", id,
                                            batch.status().message());
                        if (!writer.write(": redis unavailable, retrying\n\n")) {
                          return;
                        }
                        std::this_thread::sleep_for(std::chrono::seconds(1));
                        continue;
                      }
                      for (const broker::JobEventMessage& event : *batch) {
                        after = event.id;
                        if (!batch_id.empty() && event.batch_id != batch_id) {
                          continue;
                        }
                        if (!writer.write(fmt::format("id: {}\nevent: {}\ndata: {}\n\n", event.id,
                                                      event.type, eventJson(event).dump()))) {
                          return;
                        }
                        quiet_since = std::chrono::steady_clock::now();
                      }
                      if (std::chrono::steady_clock::now() - quiet_since > kKeepAliveInterval) {
                        if (!writer.write(": keep-alive\n\n")) {
                          return;
                        }
                        quiet_since = std::chrono::steady_clock::now();
                      }
                    }
                  }};
}

}  // namespace

void addCampaignRoutes(Router& router, const Services& services) {
  const Authenticator* auth = services.auth;
  auto route = [&](const char* method, const char* pattern, Role role,
                   Response (*handler)(const Services&, const Request&, const Principal&),
                   RouteOptions options = {}) {
    router.add(method, pattern,
               tenantRoute(auth, role,
                           [services, handler](const Request& request, const Principal& principal) {
                             return handler(services, request, principal);
                           }),
               options);
  };
  route("GET", "/api/v1/campaigns", Role::kViewer,
        [](const Services& services, const Request& request, const Principal& principal) {
          Result<std::vector<campaigns::Campaign>> list =
              services.campaigns->list(principal.tenant);
          if (!list.ok()) {
            return statusResponse(list.status(), request.request_id);
          }
          json out = json::array();
          for (const campaigns::Campaign& campaign : *list) {
            out.push_back(campaignJson(campaign));
          }
          return jsonResponse(200, {{"campaigns", std::move(out)}});
        });
  route("POST", "/api/v1/campaigns", Role::kEditor, createCampaign);
  route("GET", "/api/v1/campaigns/{id}", Role::kViewer,
        [](const Services& services, const Request& request, const Principal& principal) {
          Result<campaigns::Campaign> campaign =
              services.campaigns->get(principal.tenant, request.params.at("id"));
          return campaign.ok() ? jsonResponse(200, campaignJson(*campaign))
                               : statusResponse(campaign.status(), request.request_id);
        });
  route("PATCH", "/api/v1/campaigns/{id}", Role::kEditor, updateCampaign);
  route("DELETE", "/api/v1/campaigns/{id}", Role::kEditor,
        [](const Services& services, const Request& request, const Principal& principal) {
          Status removed = services.campaigns->remove(principal.tenant, request.params.at("id"));
          return removed.ok() ? Response{.status = 204, .content_type = "text/plain"}
                              : statusResponse(removed, request.request_id);
        });
  route("PUT", "/api/v1/campaigns/{id}/rows", Role::kEditor, uploadRows,
        {.max_body_bytes = kMaxRowsBytes, .slow = true});
  route("GET", "/api/v1/campaigns/{id}/rows", Role::kViewer, listRows);
  route("PUT", "/api/v1/campaigns/{id}/mapping", Role::kEditor, setMapping);
  route("POST", "/api/v1/campaigns/{id}/generate", Role::kEditor, generate, {.slow = true});
  route("GET", "/api/v1/batches", Role::kViewer, listBatches);
  route("GET", "/api/v1/batches/{id}", Role::kViewer, getBatch);
  route("POST", "/api/v1/batches/{id}/retry", Role::kEditor, retryBatch, {.slow = true});
  route("POST", "/api/v1/batches/{id}/cancel", Role::kEditor, cancelBatch, {.slow = true});
  route("GET", "/api/v1/batches/{id}/videos/{row}", Role::kViewer,
        [](const Services& services, const Request& request, const Principal& principal) {
          return download(services, request, principal, false);
        });
  route("GET", "/api/v1/batches/{id}/posters/{row}", Role::kViewer,
        [](const Services& services, const Request& request, const Principal& principal) {
          return download(services, request, principal, true);
        });
  route("GET", "/api/v1/batches/{id}/zip", Role::kViewer, downloadZip);
  route("GET", "/api/v1/events", Role::kViewer, events);
}

}  // namespace smmhub::api
