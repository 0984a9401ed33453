// The preview queue: how the admin API requests one frame of a template or
// the preflight of a campaign from the workers, and how a worker replies.
// Both sides use these names, so the protocol lives in one header.
//
//   API:    RPUSH smmhub:pv:queue REQUEST_JSON
//           BLPOP smmhub:pv:reply:ID TIMEOUT
//   worker: BLPOP smmhub:pv:queue 1
//           ... render the frame to out_path, or run the preflight ...
//           RPUSH smmhub:pv:reply:ID {"ok":true} or {"ok":true,"report":{...}}
//           EXPIRE smmhub:pv:reply:ID 60
//
// A reply that nobody reads (the API gave up) expires with its key.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/status.h"

namespace smmhub::broker {

// The Redis list of pending preview requests, oldest first.
inline constexpr std::string_view kPreviewQueueKey = "smmhub:pv:queue";
// Each request's reply list is this prefix and the request id.
inline constexpr std::string_view kPreviewReplyPrefix = "smmhub:pv:reply:";
// How long a reply waits for its reader.
inline constexpr std::chrono::seconds kPreviewReplyTtl{60};

// The kinds of request: one frame as a PNG, or render::preflight() of a
// campaign's rows.
inline constexpr std::string_view kFrameRequest = "frame";
inline constexpr std::string_view kPreflightRequest = "preflight";

// One request of the queue. Every path is absolute and inside STORAGE/TENANT.
struct PreviewRequest {
  std::string id;  // unique per request; names the reply list
  std::string kind = std::string(kFrameRequest);
  std::string tenant;
  std::string template_path;  // a template version's file
  std::string brand_dir;      // a brand kit's folder, or "" for none
  // Preflight: the rows file and the field -> column mapping as a JSON
  // object, as the campaign stores them.
  std::string data_path;
  std::string mapping_json;
  // Frame: one row as a JSON object, as a job carries it.
  std::string row_json;
  // Frame: the campaign's number of that row, from 1, which messages name;
  // 0 for values that are no campaign's row.
  int row = 0;
  // The file whose folder relative paths in the row are resolved against.
  std::string data_source;
  double time_s = 0;
  std::string out_path;  // where the PNG goes
  std::string reply_key;
};

inline std::string previewReplyKey(std::string_view id) {
  return std::string(kPreviewReplyPrefix) + std::string(id);
}

inline std::string previewRequestJson(const PreviewRequest& request) {
  return nlohmann::json{{"id", request.id},
                        {"kind", request.kind},
                        {"tenant", request.tenant},
                        {"template_path", request.template_path},
                        {"brand_dir", request.brand_dir},
                        {"data_path", request.data_path},
                        {"mapping_json", request.mapping_json},
                        {"row_json", request.row_json},
                        {"row", request.row},
                        {"data_source", request.data_source},
                        {"time_s", request.time_s},
                        {"out_path", request.out_path},
                        {"reply_key", request.reply_key}}
      .dump();
}

// Parses a request that previewRequestJson() wrote. A request without a
// kind is a frame, as before kinds existed. Errors: invalidArgument naming
// the first missing or mistyped field that its kind needs.
inline Result<PreviewRequest> parsePreviewRequest(std::string_view text) {
  nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
  if (!body.is_object()) {
    return Status::invalidArgument("preview request: not a JSON object");
  }
  PreviewRequest request;
  request.kind = body.value("kind", std::string(kFrameRequest));
  std::vector<std::pair<const char*, std::string*>> fields = {
      {"id", &request.id},
      {"tenant", &request.tenant},
      {"template_path", &request.template_path},
      {"brand_dir", &request.brand_dir},
      {"reply_key", &request.reply_key}};
  if (request.kind == kFrameRequest) {
    fields.insert(fields.end(), {{"row_json", &request.row_json},
                                 {"data_source", &request.data_source},
                                 {"out_path", &request.out_path}});
  } else if (request.kind == kPreflightRequest) {
    fields.insert(fields.end(),
                  {{"data_path", &request.data_path}, {"mapping_json", &request.mapping_json}});
  }
  for (auto [name, field] : fields) {
    auto found = body.find(name);
    if (found == body.end() || !found->is_string()) {
      return Status::invalidArgument(
          fmt::format("preview request: field '{}' is missing or not a string", name));
    }
    *field = found->get<std::string>();
  }
  if (request.kind != kFrameRequest) {
    return request;
  }
  auto time = body.find("time_s");
  if (time == body.end() || !time->is_number()) {
    return Status::invalidArgument("preview request: field 'time_s' is missing or not a number");
  }
  request.time_s = time->get<double>();
  // Requests of APIs older than the row number have none.
  auto row = body.find("row");
  if (row != body.end() && (!row->is_number_integer() || row->get<std::int64_t>() < 0 ||
                            row->get<std::int64_t>() > 1'000'000'000)) {
    return Status::invalidArgument("preview request: field 'row' is not a row number");
  }
  request.row = row == body.end() ? 0 : row->get<int>();
  return request;
}

// The reply: {"ok":true}, with "report": REPORT for a preflight, or
// {"ok":false,"code":CODE,"error":MESSAGE} where CODE is "invalid_argument"
// for bad input (an invalid or missing template, brand kit, row or time)
// and "internal" for anything else.
inline std::string previewReplyJson(const Status& status, const nlohmann::json& report = nullptr) {
  if (status.ok()) {
    return report.is_null() ? R"({"ok":true})"
                            : nlohmann::json{{"ok", true}, {"report", report}}.dump();
  }
  bool bad_input = status.code() == StatusCode::kInvalidArgument ||
                   status.code() == StatusCode::kNotFound ||
                   status.code() == StatusCode::kFailedPrecondition;
  return nlohmann::json{{"ok", false},
                        {"code", bad_input ? "invalid_argument" : "internal"},
                        {"error", status.message()}}
      .dump();
}

}  // namespace smmhub::broker
