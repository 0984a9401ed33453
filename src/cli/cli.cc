#include "cli/cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/admin_command.h"
#include "cli/billing.h"
#include "cli/cache_command.h"
#include "cli/credits_command.h"
#include "cli/interrupt.h"
#include "cli/jobs_command.h"
#include "cli/progress.h"
#include "common/log.h"
#include "common/tenant.h"
#include "render/batch.h"
#include "render/engine.h"
#include "render/image/image_loader.h"
#include "render/preflight.h"
#include "template/data_table.h"
#include "template/parser.h"

namespace smmhub::cli {
namespace {

// Returns the whole number that TEXT spells, ignoring spaces around it, or
// nothing when TEXT contains anything else.
std::optional<int> parseWholeNumber(std::string_view text) {
  size_t first = text.find_first_not_of(' ');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  text = text.substr(first, text.find_last_not_of(' ') - first + 1);
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Result<std::vector<int>> parseRowList(const std::string& text) {
  auto invalid = [&] {
    return Status::invalidArgument("--rows '" + text + "': expected numbers and ranges like 3,7-9");
  };
  std::vector<int> rows;
  std::set<int> listed;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    std::string_view range = part;
    size_t dash = range.find('-');
    std::optional<int> first = parseWholeNumber(range.substr(0, dash));
    std::optional<int> last =
        dash == std::string_view::npos ? first : parseWholeNumber(range.substr(dash + 1));
    if (!first || !last || *first < 1 || *last < *first) {
      return invalid();
    }
    if (*last > templates::kMaxDataRows) {
      return Status::invalidArgument(fmt::format("--rows '{}': row {} is past the limit of {} rows",
                                                 text, *last, templates::kMaxDataRows));
    }
    for (int row = *first; row <= *last; ++row) {
      if (listed.insert(row).second) {
        rows.push_back(row);
      }
    }
  }
  if (rows.empty()) {
    return invalid();
  }
  return rows;
}

namespace {

// Parses repeated "--map field=column" options.
Result<templates::ColumnMapping> parseMapping(const std::vector<std::string>& pairs) {
  templates::ColumnMapping mapping;
  for (const auto& pair : pairs) {
    size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == pair.size()) {
      return Status::invalidArgument("--map '" + pair + "': expected FIELD=COLUMN");
    }
    mapping.field_to_column[pair.substr(0, equals)] = pair.substr(equals + 1);
  }
  return mapping;
}

nlohmann::json tierJson(const buffer::TierCounters& tier) {
  return {{"hits", tier.hits},
          {"misses", tier.misses},
          {"bytes", tier.bytes},
          {"saved_s", static_cast<double>(tier.saved_us) / 1e6}};
}

nlohmann::json bufferJson(const render::BatchReport& report) {
  nlohmann::json json = {
      {"rasters", {{"hits", report.cache.hits}, {"misses", report.cache.misses}}},
      {"memory", tierJson(report.buffer.memory)},
      {"rendered", report.buffer.rendered},
      {"waited", report.buffer.waited},
  };
  if (report.shared_tier) {
    json["redis"] = tierJson(report.buffer.shared);
    json["redis"]["errors"] = report.buffer.shared_errors;
    json["redis"]["outages"] = report.shared_outages;
    json["redis"]["corrupt"] = report.buffer.corrupt;
    json["redis"]["stale"] = report.buffer.stale;
  }
  return json;
}

nlohmann::json reportJson(const render::BatchReport& report, const render::BatchRequest& request) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : report.rows) {
    nlohmann::json entry = {
        {"row", row.row}, {"ok", row.ok}, {"skipped", row.skipped}, {"seconds", row.seconds}};
    if (row.ok) {
      entry["video"] = row.video.string();
      entry["poster"] = row.poster.string();
      entry["frames"] = row.frames;
      entry["composited_frames"] = row.composited_frames;
      entry["bytes"] = row.bytes;
    } else {
      entry["error"] = row.error;
    }
    entry["warnings"] = row.warnings;
    rows.push_back(entry);
  }
  return {
      {"template", request.template_path.string()},
      {"data", request.data_path.string()},
      {"out", request.out_dir.string()},
      {"succeeded", report.succeeded()},
      {"failed", report.failed()},
      {"skipped", report.skipped()},
      {"wall_s", report.wall_s},
      {"jobs", report.jobs},
      {"cache", bufferJson(report)},
      {"warnings", report.warnings},
      {"rows", rows},
  };
}

// One line on the render buffer, and one more when Redis failed.
void printBufferSummary(const render::BatchReport& report) {
  const buffer::BufferStats& stats = report.buffer;
  std::uint64_t saved_us = stats.memory.saved_us + stats.shared.saved_us;
  std::string redis = report.shared_tier ? fmt::format("; redis {} hits, {} misses, {:.1f} MB read",
                                                       stats.shared.hits, stats.shared.misses,
                                                       stats.shared.bytes / 1e6)
                                         : "";
  fmt::print(
      "render buffer: layers {} hits, {} misses; memory {} hits, {} misses{}; {:.1f} CPU s "
      "saved\n",
      report.cache.hits, report.cache.misses, stats.memory.hits, stats.memory.misses, redis,
      static_cast<double>(saved_us) / 1e6);
  if (report.shared_outages > 0 || stats.shared_errors > 0) {
    fmt::print("redis was unreachable {} times ({} failed calls); those parts rendered uncached\n",
               report.shared_outages, stats.shared_errors);
  }
  if (stats.corrupt > 0) {
    fmt::print("{} stored values failed their checks; they were dropped and rendered again\n",
               stats.corrupt);
  }
}

void printSummary(const render::BatchReport& report) {
  fmt::print("\n{:>5}  {:<6}  {:>6}  {:>8}  {:>6}  {}\n", "row", "status", "frames", "MB", "s",
             "output or error");
  for (const auto& row : report.rows) {
    if (row.ok) {
      fmt::print("{:>5}  {:<6}  {:>6}  {:>8.2f}  {:>6.1f}  {}\n", row.row, "ok", row.frames,
                 row.bytes / 1e6, row.seconds, row.video.string());
    } else if (row.skipped) {
      fmt::print("{:>5}  {:<6}  {:>6}  {:>8}  {:>6}  {}\n", row.row, "-", "-", "-", "-", row.error);
    } else {
      fmt::print("{:>5}  {:<6}  {:>6}  {:>8}  {:>6.1f}  {}\n", row.row, "FAILED", "-", "-",
                 row.seconds, row.error);
    }
    for (const auto& warning : row.warnings) {
      fmt::print("{:>5}  {:<6}  {}\n", "", "", warning);
    }
  }
  double per_minute = report.wall_s > 0 ? report.succeeded() * 60.0 / report.wall_s : 0;
  std::string skipped =
      report.skipped() > 0 ? fmt::format(", {} not started", report.skipped()) : "";
  fmt::print("\n{} rendered, {} failed{} in {:.1f} s ({:.1f} videos/min, {} at a time)\n",
             report.succeeded(), report.failed(), skipped, report.wall_s, per_minute, report.jobs);
  printBufferSummary(report);
}

Status writeJson(const nlohmann::json& json, const std::string& path) {
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out) {
    return Status::unavailable(path + ": cannot write the report");
  }
  return okStatus();
}

// Returns whether A and B name the same folder, whether or not it exists.
bool sameFolder(const std::filesystem::path& a, const std::filesystem::path& b) {
  auto normal = [](const std::filesystem::path& path) {
    std::error_code ignored;
    std::filesystem::path full =
        std::filesystem::weakly_canonical(path.empty() ? "." : path, ignored).lexically_normal();
    return full.has_filename() ? full : full.parent_path();
  };
  return normal(a) == normal(b);
}

// Checks that the report file can be written before a batch that may run for
// hours starts, which means that its folder exists and the file opens for
// writing. Only the output folder may be missing, because the batch would
// create it anyway, so it is created here. A file that the check creates is
// removed again.
Status checkReportPath(const std::filesystem::path& path, const std::filesystem::path& out_dir) {
  std::filesystem::path folder = path.parent_path().empty() ? "." : path.parent_path();
  std::error_code error;
  if (!std::filesystem::exists(folder, error) && sameFolder(folder, out_dir)) {
    std::filesystem::create_directories(out_dir, error);
    if (error) {
      return Status::invalidArgument(out_dir.string() +
                                     ": cannot create the output folder: " + error.message());
    }
  }
  if (!std::filesystem::exists(folder, error)) {
    return Status::invalidArgument(
        fmt::format("--report '{}': folder '{}' does not exist; create it or choose another path",
                    path.string(), folder.string()));
  }
  if (!std::filesystem::is_directory(folder, error)) {
    return Status::invalidArgument(
        fmt::format("--report '{}': '{}' is not a folder", path.string(), folder.string()));
  }

  // O_EXCL, so that the check never removes a file that another process made.
  bool existed = std::filesystem::exists(path, error);
  int flags = existed ? O_WRONLY : O_WRONLY | O_CREAT | O_EXCL;
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0666);
  if (fd < 0) {
    std::error_code open_error(errno, std::generic_category());
    return Status::invalidArgument(
        fmt::format("--report '{}': cannot open the file for writing: {}", path.string(),
                    open_error.message()));
  }
  ::close(fd);
  if (!existed) {
    std::filesystem::remove(path, error);
  }
  return okStatus();
}

struct RenderArgs {
  render::BatchRequest request;
  std::string rows;
  std::string report;
  std::vector<std::string> mapping;
  bool no_reuse = false;
  BillingOptions billing;
};

// Passes each event to the progress display and to the billing.
class ObserverPair final : public render::BatchObserver {
 public:
  ObserverPair(render::BatchObserver* first, render::BatchObserver* second)
      : first_(first), second_(second) {}
  void batchStarted(int rows, int frames_per_video) override {
    for (render::BatchObserver* observer : {first_, second_}) {
      if (observer != nullptr) {
        observer->batchStarted(rows, frames_per_video);
      }
    }
  }
  void framesDone(int row, int done, int total) override {
    for (render::BatchObserver* observer : {first_, second_}) {
      if (observer != nullptr) {
        observer->framesDone(row, done, total);
      }
    }
  }
  void rowFinished(const render::RowOutcome& outcome) override {
    for (render::BatchObserver* observer : {first_, second_}) {
      if (observer != nullptr) {
        observer->rowFinished(outcome);
      }
    }
  }

 private:
  render::BatchObserver* first_;
  render::BatchObserver* second_;
};

// Opens the billing when --credits-redis is given. Returns null without it.
Result<std::unique_ptr<BatchBilling>> openBilling(RenderArgs& args) {
  if (args.billing.redis_url.empty()) {
    if (!args.billing.db_url.empty() || !args.billing.batch_id.empty()) {
      return Status::invalidArgument("--credits-db and --batch-id need --credits-redis URL");
    }
    return std::unique_ptr<BatchBilling>();
  }
  if (args.billing.db_url.empty()) {
    return Status::invalidArgument(
        "--credits-redis needs --credits-db URL, the ledger (sqlite:PATH or postgresql://...)");
  }
  SMMHUB_RETURN_IF_ERROR(checkTenantName(args.request.tenant));
  args.billing.tenant = args.request.tenant;
  const char* user = std::getenv("USER");
  args.billing.actor = user != nullptr && *user != '\0' ? user : "cli";
  SMMHUB_ASSIGN_OR_RETURN(args.billing.inputs, batchInputsDigest(args.request));
  return BatchBilling::open(args.billing);
}

int runRender(RenderArgs& args) {
  if (!args.rows.empty()) {
    auto rows = parseRowList(args.rows);
    if (!rows.ok()) {
      fmt::print(stderr, "smmhub render: {}\n", rows.status().message());
      return kExitUsage;
    }
    args.request.rows = *rows;
  }
  auto mapping = parseMapping(args.mapping);
  if (!mapping.ok()) {
    fmt::print(stderr, "smmhub render: {}\n", mapping.status().message());
    return kExitUsage;
  }
  args.request.mapping = *mapping;
  args.request.reuse = !args.no_reuse;
  if (!args.report.empty()) {
    Status writable = checkReportPath(args.report, args.request.out_dir);
    if (!writable.ok()) {
      fmt::print(stderr, "smmhub render: {}\n", writable.message());
      return kExitUsage;
    }
  }

  Result<std::unique_ptr<BatchBilling>> billing = openBilling(args);
  if (!billing.ok()) {
    fmt::print(stderr, "smmhub render: {}\n", billing.status().message());
    return billing.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitRowsFailed;
  }
  if (*billing != nullptr) {
    args.request.before_rows = [&](int rows) {
      return (*billing)->hold(rows);
    };
  }

  InterruptScope interrupt;
  args.request.stop = &interrupt.requested();
  ProgressDisplay progress(stderr, isatty(STDERR_FILENO) != 0);
  ObserverPair observers(&progress, billing->get());
  Result<render::BatchReport> report = render::runBatch(args.request, &observers);
  progress.close();
  if (!report.ok()) {
    fmt::print(stderr, "smmhub render: {}\n", report.status().message());
    switch (report.status().code()) {
      case StatusCode::kResourceExhausted:
        return kExitCreditsShort;
      case StatusCode::kUnavailable:
        return kExitRowsFailed;
      default:
        return kExitUsage;
    }
  }
  printSummary(*report);
  if (*billing != nullptr) {
    BillingSummary charged = (*billing)->finish();
    fmt::print(
        "credits: {} videos charged, {} paid by an earlier run, {} released (tenant {}, "
        "batch {})\n",
        charged.charged, charged.repeated, charged.released, args.request.tenant,
        (*billing)->batchId());
    if (charged.uncharged > 0) {
      fmt::print(stderr,
                 "smmhub render: {} videos could not be charged; their credits stay held. Run "
                 "again with --batch-id {} to charge them\n",
                 charged.uncharged, (*billing)->batchId());
    }
  }
  if (!args.report.empty()) {
    Status written = writeJson(reportJson(*report, args.request), args.report);
    if (!written.ok()) {
      fmt::print(stderr, "smmhub render: {}\n", written.message());
    }
  }
  if (interrupt.signalNumber() != 0) {
    return kExitSignalBase + interrupt.signalNumber();
  }
  return report->failed() > 0 ? kExitRowsFailed : kExitOk;
}

struct ValidateArgs {
  render::PreflightRequest request;
  std::string data;
  std::string brand;
  std::string proof;
  std::string report;
  std::vector<std::string> mapping;
};

int runValidate(ValidateArgs& args) {
  if (!args.data.empty()) {
    args.request.data_path = args.data;
  }
  if (!args.brand.empty()) {
    args.request.brand_dir = args.brand;
  }
  if (!args.proof.empty()) {
    args.request.proof_path = args.proof;
  }
  auto mapping = parseMapping(args.mapping);
  if (!mapping.ok()) {
    fmt::print(stderr, "smmhub validate: {}\n", mapping.status().message());
    return kExitUsage;
  }
  args.request.mapping = *mapping;

  Result<render::PreflightReport> report = render::preflight(args.request);
  if (!report.ok()) {
    fmt::print(stderr, "smmhub validate: {}\n", report.status().message());
    return kExitUsage;
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& problem : report->problems) {
    fmt::print("{}\n", problem.toString());
    problems.push_back({{"severity", problem.severity == Severity::kError     ? "error"
                                     : problem.severity == Severity::kWarning ? "warning"
                                                                              : "info"},
                        {"place", problem.place},
                        {"message", problem.message}});
  }
  size_t errors = std::count_if(report->problems.begin(), report->problems.end(),
                                [](const Diagnostic& d) { return d.severity == Severity::kError; });
  fmt::print("{}: {} errors, {} problems in all; {} rows checked, {} with errors\n",
             args.request.template_path.string(), errors, report->problems.size(), report->rows,
             report->rows_with_errors);
  if (!args.report.empty()) {
    nlohmann::json json = {{"template_valid", report->template_valid},
                           {"rows", report->rows},
                           {"rows_with_errors", report->rows_with_errors},
                           {"problems", problems}};
    Status written = writeJson(json, args.report);
    if (!written.ok()) {
      fmt::print(stderr, "smmhub validate: {}\n", written.message());
    }
  }
  if (!report->template_valid) {
    return kExitUsage;
  }
  return errors > 0 ? kExitRowsFailed : kExitOk;
}

struct FrameArgs {
  std::string template_path;
  std::string data;
  std::string brand;
  std::string out;
  int row = 1;
  double time_s = 0;
  std::vector<std::string> mapping;
};

enum class FrameFormat {
  kPng,
  kJpeg
};

// Picks the image format of --out from its extension, in any letter case.
Result<FrameFormat> frameFormat(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".png") {
    return FrameFormat::kPng;
  }
  if (extension == ".jpg" || extension == ".jpeg") {
    return FrameFormat::kJpeg;
  }
  std::string found = extension.empty()
                          ? std::string("the file name has no extension")
                          : "unsupported extension '" + path.extension().string() + "'";
  return Status::invalidArgument(
      fmt::format("--out '{}': {}; use .png, .jpg or .jpeg", path.string(), found));
}

Status renderOneFrame(const FrameArgs& args) {
  SMMHUB_ASSIGN_OR_RETURN(FrameFormat format, frameFormat(args.out));
  // NaN passes every range comparison, so it is rejected here.
  if (!std::isfinite(args.time_s)) {
    return Status::invalidArgument(
        fmt::format("--time {}: expected a finite number of seconds, such as 1.5", args.time_s));
  }

  // The frame is drawn as `smmhub render` draws it in the row's video.
  render::BatchRequest request;
  request.template_path = args.template_path;
  request.data_path = args.data;
  request.brand_dir = args.brand;
  request.rows = {args.row};
  SMMHUB_ASSIGN_OR_RETURN(request.mapping, parseMapping(args.mapping));
  SMMHUB_ASSIGN_OR_RETURN(render::FrameOutput rendered,
                          render::renderBatchFrame(request, args.time_s));
  for (const auto& warning : rendered.warnings) {
    fmt::print(stderr, "{}\n", warning);
  }
  if (format == FrameFormat::kJpeg) {
    return render::writePosterJpeg(rendered.frame, args.out);
  }
  return render::writePng(rendered.frame, args.out);
}

// The add*Command functions declare a subcommand and its options. CLI11
// stores the parsed values into the given arguments, which must outlive
// app.parse().
CLI::App* addRenderCommand(CLI::App& app, RenderArgs& render_args) {
  auto& request = render_args.request;
  CLI::App* render_cmd = app.add_subcommand("render", "Render one MP4 and one poster per row");
  render_cmd->add_option("template", request.template_path, "Template JSON file")->required();
  render_cmd->add_option("--data", request.data_path, "Rows: a CSV or JSON file")->required();
  render_cmd->add_option("--brand", request.brand_dir, "Brand kit folder (with brand.json)")
      ->required();
  render_cmd->add_option("--out", request.out_dir, "Output folder")->required();
  render_cmd->add_option("--jobs", request.jobs, "Videos rendered at once (default: one per core)");
  render_cmd->add_option("--rows", render_args.rows,
                         "Rows to render, such as 3,7-9 (default: all); a row listed more than "
                         "once renders once, in the place it is first listed");
  render_cmd->add_option("--crf", request.crf, "H.264 constant rate factor, 0 to 51")
      ->check(CLI::Range(0, 51))
      ->capture_default_str();
  render_cmd->add_option("--preset", request.preset, "x264 preset, such as veryfast or medium")
      ->check(CLI::IsMember({"ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                             "slow", "slower", "veryslow", "placebo"}))
      ->capture_default_str();
  render_cmd->add_option("--name", request.name_pattern,
                         "File name pattern with fields, such as {{home}}-v-{{away}}");
  render_cmd->add_option("--report", render_args.report, "Write a JSON report to this file");
  render_cmd->add_option("--map", render_args.mapping, "Map a field to a column: FIELD=COLUMN");
  render_cmd->add_flag("--no-cache,--no-reuse", render_args.no_reuse,
                       "Turn the render buffer off: every video renders everything itself");
  render_cmd->add_option("--cache-redis", request.cache_redis,
                         "Share the render buffer through Redis, such as redis://127.0.0.1:6379");
  render_cmd
      ->add_option("--tenant", request.tenant,
                   "Tenant that scopes the render buffer's keys and pays the credits")
      ->capture_default_str();
  render_cmd->add_option("--credits-redis", render_args.billing.redis_url,
                         "Charge one credit per video: Redis URL of the credit counters");
  render_cmd->add_option("--credits-db", render_args.billing.db_url,
                         "Ledger database for the credits: sqlite:PATH or postgresql://...");
  render_cmd->add_option("--batch-id", render_args.billing.batch_id,
                         "Batch id for the credits; a run again with it charges no video twice");
  return render_cmd;
}

CLI::App* addValidateCommand(CLI::App& app, ValidateArgs& validate_args) {
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Report every problem of a template and its data at once");
  validate_cmd->add_option("template", validate_args.request.template_path, "Template JSON file")
      ->required();
  validate_cmd->add_option("--data", validate_args.data, "Rows: a CSV or JSON file");
  validate_cmd->add_option("--brand", validate_args.brand, "Brand kit folder");
  validate_cmd->add_option("--proof", validate_args.proof,
                           "Write a contact sheet PNG with one frame of every row");
  validate_cmd->add_option("--report", validate_args.report, "Write a JSON report to this file");
  validate_cmd->add_option("--map", validate_args.mapping, "Map a field to a column: FIELD=COLUMN");
  return validate_cmd;
}

CLI::App* addFrameCommand(CLI::App& app, FrameArgs& frame_args) {
  CLI::App* frame_cmd =
      app.add_subcommand("frame", "Render one frame of one row as a PNG or JPEG image");
  frame_cmd->add_option("template", frame_args.template_path, "Template JSON file")->required();
  frame_cmd->add_option("--data", frame_args.data, "Rows: a CSV or JSON file")->required();
  frame_cmd->add_option("--brand", frame_args.brand, "Brand kit folder")->required();
  frame_cmd->add_option("--row", frame_args.row, "Data row number, from 1")->required();
  frame_cmd->add_option("--time", frame_args.time_s, "Time in seconds")->required();
  frame_cmd
      ->add_option("--out", frame_args.out,
                   "Image file to write: PNG for .png, JPEG (quality 85) for .jpg or .jpeg")
      ->required();
  frame_cmd->add_option("--map", frame_args.mapping, "Map a field to a column: FIELD=COLUMN");
  return frame_cmd;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"smmhub: renders branded short videos from a template and a table of rows"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("smmhub {}", SMMHUB_VERSION),
                       "Print the version and exit");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Log level: trace, debug, info, warn, error or off")
      ->capture_default_str();

  RenderArgs render_args;
  CLI::App* render_cmd = addRenderCommand(app, render_args);
  ValidateArgs validate_args;
  CLI::App* validate_cmd = addValidateCommand(app, validate_args);
  FrameArgs frame_args;
  CLI::App* frame_cmd = addFrameCommand(app, frame_args);
  CacheArgs cache_args;
  CLI::App* cache_cmd = addCacheCommand(app, cache_args);
  CreditsArgs credits_args;
  addCreditsCommand(app, credits_args);
  JobsArgs jobs_args;
  CLI::App* jobs_cmd = addJobsCommand(app, jobs_args);
  AdminArgs admin_args;
  CLI::App* admin_cmd = addAdminCommand(app, admin_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  setLogLevel(spdlog::level::from_str(log_level));

  if (render_cmd->parsed()) {
    return runRender(render_args);
  }
  if (validate_cmd->parsed()) {
    return runValidate(validate_args);
  }
  if (cache_cmd->parsed()) {
    return runCache(cache_args);
  }
  if (jobs_cmd->parsed()) {
    return runJobs(jobs_args);
  }
  if (admin_cmd->parsed()) {
    return runAdmin(admin_args);
  }
  if (!frame_cmd->parsed()) {
    return runCredits(credits_args);
  }
  Status status = renderOneFrame(frame_args);
  if (!status.ok()) {
    fmt::print(stderr, "smmhub frame: {}\n", status.message());
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace smmhub::cli
