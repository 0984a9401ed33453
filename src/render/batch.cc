#include "render/batch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "buffer/redis_tier.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/tenant.h"
#include "render/engine.h"
#include "render/text/text_renderer.h"
#include "template/brand_kit.h"
#include "template/data_table.h"
#include "template/field_expr.h"
#include "template/parser.h"

namespace smmhub::render {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything a batch loads once and its threads share.
struct BatchInputs {
  templates::Template tmpl;
  templates::BrandKit brand;
  templates::DataTable table;
  std::vector<const templates::DataRow*> rows;
};

Result<BatchInputs> loadInputs(const BatchRequest& request, Diagnostics* problems) {
  BatchInputs inputs;
  SMMHUB_ASSIGN_OR_RETURN(inputs.tmpl, templates::loadTemplate(request.template_path, problems));
  SMMHUB_ASSIGN_OR_RETURN(inputs.brand, templates::loadBrandKit(request.brand_dir, problems));
  SMMHUB_ASSIGN_OR_RETURN(inputs.table, templates::readRows(request.data_path));
  if (!request.data_source.empty()) {
    inputs.table.source = request.data_source;
  }
  inputs.table.source_roots = request.source_roots;

  // The copy of one row takes the number of the row it copies, which the
  // binding's messages name.
  if (request.row_number > 0) {
    if (inputs.table.rows.size() != 1) {
      return Status::invalidArgument(
          fmt::format("{}: row_number {} is set, but the file has {} rows, not 1",
                      request.data_path.string(), request.row_number, inputs.table.rows.size()));
    }
    inputs.table.rows.front().number = request.row_number;
  }

  // REQUEST.rows selects rows by their place in the file.
  if (request.rows.empty()) {
    for (const auto& row : inputs.table.rows) {
      inputs.rows.push_back(&row);
    }
    return inputs;
  }
  for (int number : request.rows) {
    if (number < 1 || number > static_cast<int>(inputs.table.rows.size())) {
      return Status::invalidArgument(fmt::format("{}: row {} does not exist; the file has {} rows",
                                                 request.data_path.string(), number,
                                                 inputs.table.rows.size()));
    }
    inputs.rows.push_back(&inputs.table.rows[static_cast<size_t>(number - 1)]);
  }
  return inputs;
}

// Binds the template to ROW as every video and frame of REQUEST is bound:
// literal paths relative to the template's folder, data paths relative to
// the data source's folder.
Result<templates::Template> bindRow(const BatchRequest& request, const BatchInputs& inputs,
                                    const templates::DataRow& row, Diagnostics* problems) {
  return templates::bindTemplate(inputs.tmpl, inputs.brand, inputs.table, row, request.mapping,
                                 request.template_path.parent_path(), problems);
}

// An engine and what it draws with. The members are declared so that each
// is destroyed before what it points to.
struct EngineSetup {
  std::unique_ptr<FontLibrary> fonts;
  std::unique_ptr<buffer::RedisTier> redis;
  std::unique_ptr<buffer::RenderBuffer> render_buffer;
  std::unique_ptr<MemoryRasterCache> cache;
  std::unique_ptr<Engine> engine;
};

}  // namespace

Result<std::string> registerBrandFonts(const templates::BrandKit& brand, FontLibrary& fonts) {
  Hasher key;
  for (const auto& [name, font] : brand.fonts) {
    key.add(name).add(font.family).add(std::int64_t{font.weight});
    if (font.file.empty()) {
      continue;
    }
    SMMHUB_RETURN_IF_ERROR(fonts.addFontFile(font.file));
    key.add(font.file.string()).add(std::int64_t(std::filesystem::file_size(font.file)));
  }
  return key.hexDigest();
}

namespace {

// Sets up the engine that renders REQUEST's videos and frames: BRAND's fonts,
// the tenant, the render buffer with its Redis tier when REQUEST has one, and
// ENCODE_THREADS encoder threads per video. Errors: those of the font
// library, of the fonts' files and of the Redis tier's URL.
Result<std::unique_ptr<EngineSetup>> setUpEngine(const BatchRequest& request,
                                                 const templates::BrandKit& brand,
                                                 int encode_threads) {
  auto setup = std::make_unique<EngineSetup>();
  SMMHUB_ASSIGN_OR_RETURN(setup->fonts, FontLibrary::create());
  EngineOptions options;
  SMMHUB_ASSIGN_OR_RETURN(options.font_set_key, registerBrandFonts(brand, *setup->fonts));
  options.encode.crf = request.crf;
  options.encode.preset = request.preset;
  options.encode.threads = encode_threads;
  options.tenant = request.tenant;
  if (request.reuse && !request.cache_redis.empty()) {
    SMMHUB_ASSIGN_OR_RETURN(setup->redis, buffer::RedisTier::create({.url = request.cache_redis}));
  }
  buffer::BufferOptions buffer_options;
  buffer_options.tenant = request.tenant;
  buffer_options.engine_version = std::string(kEngineVersion);
  buffer_options.memory_bytes = request.cache_bytes;
  setup->render_buffer = std::make_unique<buffer::RenderBuffer>(buffer_options, setup->redis.get());
  options.buffer = request.reuse ? setup->render_buffer.get() : nullptr;
  setup->cache = std::make_unique<MemoryRasterCache>(request.cache_bytes);
  setup->engine = std::make_unique<Engine>(setup->fonts.get(),
                                           request.reuse ? setup->cache.get() : nullptr, options);
  return setup;
}

// Returns PATTERN with "{{row}}" replaced by the zero-padded row number.
std::string withRowNumber(std::string pattern, int row) {
  const std::string token = "{{row}}";
  std::string number = fmt::format("{:03}", row);
  for (size_t at = pattern.find(token); at != std::string::npos; at = pattern.find(token, at)) {
    pattern.replace(at, token.size(), number);
    at += number.size();
  }
  return pattern;
}

// Checks the file name pattern before any row renders: its syntax, its
// filters, and that each name is a template field or a brand value.
Status checkNamePattern(const std::string& pattern, const templates::Template& tmpl) {
  std::string text = withRowNumber(pattern, 1);
  Result<std::vector<templates::TextPart>> parts = templates::splitFields(text);
  if (!parts.ok()) {
    return parts.status().withContext("--name '" + pattern + "'");
  }
  for (const auto& name : templates::fieldNames(text)) {
    if (!name.starts_with("brand.") && tmpl.findField(name) == nullptr) {
      return Status::invalidArgument("--name '" + pattern + "': '" + name +
                                     "' is not a field of the template; use a declared field "
                                     "or {{row}}");
    }
  }
  return okStatus();
}

// Returns whether NAME is a temporary name that Engine::renderVideo gives a
// video or poster whose name safeFileName() returns unchanged, as every
// output name is.
bool isPartialFileName(const std::string& name) {
  constexpr std::string_view kSuffix = ".partial";
  if (!name.starts_with('.') || !name.ends_with(kSuffix)) {
    return false;
  }
  std::string output = name.substr(1, name.size() - 1 - kSuffix.size());
  for (std::string_view extension : {".mp4", ".jpg"}) {
    std::string stem = output.substr(0, output.size() - std::min(output.size(), extension.size()));
    if (output.ends_with(extension) && !stem.empty() && safeFileName(stem) == stem &&
        partialPath(output).filename() == name) {
      return true;
    }
  }
  return false;
}

// Removes the partial files that a killed process left in FOLDER.
// REQUIRES: the caller has FOLDER's lock exclusively, so that no other
// batch is writing these files now.
void removeLeftoverPartials(const std::filesystem::path& folder) {
  int removed = 0;
  std::error_code error;
  std::filesystem::directory_iterator entry(folder, error);
  for (; !error && entry != std::filesystem::directory_iterator(); entry.increment(error)) {
    std::error_code status_error;
    bool regular =
        entry->symlink_status(status_error).type() == std::filesystem::file_type::regular;
    if (!regular || !isPartialFileName(entry->path().filename().string())) {
      continue;
    }
    std::error_code remove_error;
    if (std::filesystem::remove(entry->path(), remove_error)) {
      removed++;
    } else if (remove_error) {
      logger("render")->warn("cannot remove leftover partial file path={} error=\"{}\"",
                             entry->path().string(), remove_error.message());
    }
  }
  if (error) {
    logger("render")->warn("cannot list folder={} for leftover partial files error=\"{}\"",
                           folder.string(), error.message());
  }
  if (removed > 0) {
    logger("render")->info("removed leftover partial files count={} folder={}", removed,
                           folder.string());
  }
}

// An advisory lock (flock) on the output folder. Every batch takes it shared
// while it renders. A batch that gets it exclusively therefore has the folder
// to itself and may remove leftover partial files. The lock is released when
// the object is destroyed or the process ends.
class OutputFolderLock {
 public:
  explicit OutputFolderLock(const std::filesystem::path& folder)
      : fd_(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ < 0) {
      open_error_ = std::error_code(errno, std::generic_category());
    }
  }
  ~OutputFolderLock() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  OutputFolderLock(const OutputFolderLock&) = delete;
  OutputFolderLock& operator=(const OutputFolderLock&) = delete;

  // Whether the folder could be opened. When it could not, no lock is taken
  // and openError() returns the reason.
  bool opened() const { return fd_ >= 0; }
  const std::error_code& openError() const { return open_error_; }

  // Takes the lock exclusively when no other process has taken it.
  bool tryExclusive() { return opened() && ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

  // Takes the lock shared, or turns an exclusive lock into a shared one. It
  // waits while another batch has the lock exclusively to remove files.
  void share() {
    if (!opened()) {
      return;
    }
    int result = 0;
    do {
      result = ::flock(fd_, LOCK_SH);
    } while (result != 0 && errno == EINTR);
  }

 private:
  int fd_;
  std::error_code open_error_;
};

// Hands out rows to the batch's threads and collects their outcomes.
class BatchRun {
 public:
  BatchRun(const BatchRequest& request, const BatchInputs& inputs, Engine& engine,
           BatchObserver* observer)
      : request_(request), inputs_(inputs), engine_(engine), observer_(observer) {
    outcomes_.resize(inputs.rows.size());
    assignNames();
  }

  void work() {
    for (size_t i = next_.fetch_add(1); i < inputs_.rows.size(); i = next_.fetch_add(1)) {
      if ((request_.stop != nullptr && request_.stop->load()) ||
          (request_.cancel != nullptr && request_.cancel->load())) {
        outcomes_[i] = skippedRow(i);
        continue;
      }
      outcomes_[i] = renderRow(i);
      std::lock_guard lock(observer_mutex_);
      if (observer_ != nullptr) {
        observer_->rowFinished(outcomes_[i]);
      }
    }
  }

  std::vector<RowOutcome> takeOutcomes() { return std::move(outcomes_); }

 private:
  // Picks each row's file name up front, so that two rows never share one.
  void assignNames() {
    std::set<std::string> taken;
    for (const auto* row : inputs_.rows) {
      std::string name;
      if (!request_.name_pattern.empty()) {
        // A row whose fields do not expand keeps its number as its name; its
        // error shows when it renders.
        templates::BindInputs bind{inputs_.tmpl, inputs_.brand, inputs_.table, *row,
                                   request_.mapping};
        auto expanded =
            templates::expandFields(withRowNumber(request_.name_pattern, row->number), bind);
        name = expanded.ok() ? safeFileName(expanded->text) : "";
      }
      if (name.empty()) {
        name = fmt::format("{:03}", row->number);
      }
      std::string unique = name;
      for (int n = 2; taken.contains(unique); ++n) {
        unique = fmt::format("{}-{}", name, n);
      }
      taken.insert(unique);
      names_.push_back(unique);
    }
  }

  RowOutcome skippedRow(size_t index) const {
    RowOutcome outcome;
    outcome.row = inputs_.rows[index]->number;
    outcome.skipped = true;
    outcome.error = "not rendered: the batch was stopped";
    outcome.error_code = StatusCode::kCancelled;
    return outcome;
  }

  RowOutcome renderRow(size_t index) {
    const templates::DataRow& row = *inputs_.rows[index];
    RowOutcome outcome;
    outcome.row = row.number;
    auto start = Clock::now();

    Diagnostics problems;
    Result<VideoOutput> video = renderBound(index, row, problems);
    outcome.seconds = secondsSince(start);
    for (const auto& item : problems.items()) {
      if (item.severity == Severity::kWarning) {
        outcome.warnings.push_back(item.toString());
      }
    }
    if (!video.ok()) {
      outcome.error = video.status().message();
      outcome.error_code = video.status().code();
      logger("render")->info("row failed row={} error=\"{}\"", row.number, outcome.error);
      return outcome;
    }
    outcome.ok = true;
    outcome.video = video->video;
    outcome.poster = video->poster;
    outcome.frames = video->frames;
    outcome.composited_frames = video->composited_frames;
    outcome.bytes = video->bytes;
    logger("render")->info("row done row={} frames={} drawn={} bytes={} ms={}", row.number,
                           outcome.frames, outcome.composited_frames, outcome.bytes,
                           static_cast<int>(outcome.seconds * 1000));
    return outcome;
  }

  Result<VideoOutput> renderBound(size_t index, const templates::DataRow& row,
                                  Diagnostics& problems) {
    auto bound = bindRow(request_, inputs_, row, &problems);
    if (!bound.ok()) {
      return bound.status();
    }
    auto video_path = request_.out_dir / (names_[index] + ".mp4");
    auto poster_path = request_.out_dir / (names_[index] + ".jpg");
    auto progress = [&](int done, int total) {
      {
        std::lock_guard lock(observer_mutex_);
        if (observer_ != nullptr) {
          observer_->framesDone(row.number, done, total);
        }
      }
      return request_.cancel == nullptr || !request_.cancel->load();
    };
    return engine_.renderVideo(*bound, video_path, poster_path, &problems, progress);
  }

  const BatchRequest& request_;
  const BatchInputs& inputs_;
  Engine& engine_;
  BatchObserver* observer_;
  std::vector<std::string> names_;
  std::vector<RowOutcome> outcomes_;
  std::atomic<size_t> next_{0};
  std::mutex observer_mutex_;
};

}  // namespace

int BatchReport::succeeded() const {
  return static_cast<int>(
      std::count_if(rows.begin(), rows.end(), [](const RowOutcome& r) { return r.ok; }));
}

int BatchReport::failed() const {
  return static_cast<int>(rows.size()) - succeeded() - skipped();
}

int BatchReport::skipped() const {
  return static_cast<int>(
      std::count_if(rows.begin(), rows.end(), [](const RowOutcome& r) { return r.skipped; }));
}

Result<BatchReport> runBatch(const BatchRequest& request, BatchObserver* observer) {
  auto start = Clock::now();
  Diagnostics problems;
  SMMHUB_RETURN_IF_ERROR(checkTenantName(request.tenant));
  SMMHUB_ASSIGN_OR_RETURN(BatchInputs inputs, loadInputs(request, &problems));

  if (!request.name_pattern.empty()) {
    SMMHUB_RETURN_IF_ERROR(checkNamePattern(request.name_pattern, inputs.tmpl));
  }

  std::error_code error;
  std::filesystem::create_directories(request.out_dir, error);
  if (error) {
    return Status::unavailable(request.out_dir.string() +
                               ": cannot create the output folder: " + error.message());
  }

  // Partial files that a killed process left are removed only when no other
  // batch is writing into the same folder, because theirs look the same.
  OutputFolderLock folder_lock(request.out_dir);
  if (!folder_lock.opened()) {
    logger("render")->warn("cannot lock folder={}; leftover partial files kept error=\"{}\"",
                           request.out_dir.string(), folder_lock.openError().message());
  } else if (folder_lock.tryExclusive()) {
    removeLeftoverPartials(request.out_dir);
  } else {
    logger("render")->info("another batch is writing to folder={}; leftover partial files kept",
                           request.out_dir.string());
  }
  folder_lock.share();

  // Fonts, cache and engine are shared by every thread of the batch.
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int jobs = request.jobs > 0 ? request.jobs : cores;
  jobs = std::min<int>(jobs, std::max<size_t>(1, inputs.rows.size()));
  int encode_threads =
      request.encode_threads > 0 ? request.encode_threads : std::max(1, cores / jobs);
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<EngineSetup> setup,
                          setUpEngine(request, inputs.brand, encode_threads));

  if (request.before_rows) {
    SMMHUB_RETURN_IF_ERROR(request.before_rows(static_cast<int>(inputs.rows.size())));
  }
  if (observer != nullptr) {
    observer->batchStarted(static_cast<int>(inputs.rows.size()), inputs.tmpl.frameCount());
  }
  logger("render")->info("batch start rows={} jobs={} reuse={}", inputs.rows.size(), jobs,
                         request.reuse);
  BatchRun run(request, inputs, *setup->engine, observer);
  std::vector<std::thread> threads;
  for (int i = 0; i < jobs; ++i) {
    threads.emplace_back([&run] { run.work(); });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  BatchReport report;
  report.rows = run.takeOutcomes();
  report.wall_s = secondsSince(start);
  report.jobs = jobs;
  report.cache = setup->cache->stats();
  report.buffer = setup->render_buffer->stats();
  report.shared_tier = setup->redis != nullptr;
  report.shared_outages = setup->redis != nullptr ? setup->redis->stats().outages : 0;
  for (const auto& item : problems.items()) {
    report.warnings.push_back(item.toString());
  }
  logger("render")->info("batch done rows={} ok={} failed={} skipped={} s={:.1f}",
                         report.rows.size(), report.succeeded(), report.failed(), report.skipped(),
                         report.wall_s);
  return report;
}

Result<FrameOutput> renderBatchFrame(const BatchRequest& request, double time_s) {
  if (request.rows.size() != 1) {
    return Status::invalidArgument(fmt::format(
        "a frame is rendered from one row, but {} rows were given", request.rows.size()));
  }
  // NaN passes every range comparison, so it is rejected here.
  if (!std::isfinite(time_s)) {
    return Status::invalidArgument(
        fmt::format("time {}: expected a finite number of seconds, such as 1.5", time_s));
  }
  Diagnostics problems;
  SMMHUB_RETURN_IF_ERROR(checkTenantName(request.tenant));
  SMMHUB_ASSIGN_OR_RETURN(BatchInputs inputs, loadInputs(request, &problems));
  if (time_s < 0 || time_s >= inputs.tmpl.durationS()) {
    return Status::invalidArgument(
        fmt::format("time {} s is outside the video, which lasts {} s; give a time from 0 to "
                    "less than {}",
                    time_s, inputs.tmpl.durationS(), inputs.tmpl.durationS()));
  }

  // The same engine set-up as the row's video, with one encoder thread that
  // is never started.
  SMMHUB_ASSIGN_OR_RETURN(std::unique_ptr<EngineSetup> setup,
                          setUpEngine(request, inputs.brand, 1));
  SMMHUB_ASSIGN_OR_RETURN(templates::Template bound,
                          bindRow(request, inputs, *inputs.rows.front(), &problems));
  FrameOutput output;
  SMMHUB_ASSIGN_OR_RETURN(output.frame, setup->engine->renderFrame(bound, time_s, &problems));
  for (const auto& item : problems.items()) {
    output.warnings.push_back(item.toString());
  }
  return output;
}

namespace {

// Returns the length of the invisible or control character at the start of
// TEXT (UTF-8), or 0: C1 controls, zero-width spaces, line and paragraph
// separators, bidi controls and the byte-order mark. A bidi override in a
// file name makes "gpj.exe" display as "exe.jpg".
size_t invisibleCharacterLength(std::string_view text) {
  auto byte = [&](size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
  };
  if (byte(0) == 0xC2 && byte(1) >= 0x80 && byte(1) <= 0x9F) {
    return 2;  // U+0080 to U+009F
  }
  if (byte(0) == 0xE2 && byte(1) == 0x80 &&
      ((byte(2) >= 0x8B && byte(2) <= 0x8F) || (byte(2) >= 0xA8 && byte(2) <= 0xAE))) {
    return 3;  // U+200B to U+200F, U+2028 to U+202E
  }
  if (byte(0) == 0xE2 && byte(1) == 0x81 && byte(2) >= 0xA6 && byte(2) <= 0xA9) {
    return 3;  // U+2066 to U+2069
  }
  if (byte(0) == 0xEF && byte(1) == 0xBB && byte(2) == 0xBF) {
    return 3;  // U+FEFF
  }
  return 0;
}

// Returns whether NAME, up to its first dot, is a device name that Windows
// reserves in every folder (CON, NUL, COM1, ...), in any letter case.
bool isWindowsDeviceName(std::string_view name) {
  std::string base(name.substr(0, name.find('.')));
  std::transform(base.begin(), base.end(), base.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (base == "CON" || base == "PRN" || base == "AUX" || base == "NUL") {
    return true;
  }
  return base.size() == 4 && (base.starts_with("COM") || base.starts_with("LPT")) &&
         base[3] >= '1' && base[3] <= '9';
}

}  // namespace

std::string safeFileName(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    size_t invisible = invisibleCharacterLength(std::string_view(name).substr(i));
    bool reserved =
        invisible > 0 || c < 0x20 || c == 0x7f ||
        std::string_view("/\\:*?\"<>|").find(static_cast<char>(c)) != std::string_view::npos;
    i += invisible > 0 ? invisible - 1 : 0;
    char next = reserved || c == ' ' ? '-' : static_cast<char>(c);
    if (next == '-' && !out.empty() && out.back() == '-') {
      continue;
    }
    out += next;
  }

  // Trim dashes and dots at the ends: a leading dot hides a file, and a
  // trailing one is dropped by Windows.
  size_t first = out.find_first_not_of("-.");
  if (first == std::string::npos) {
    return "";
  }
  out = out.substr(first, out.find_last_not_of("-.") - first + 1);

  // Cut at 120 bytes without splitting a UTF-8 sequence.
  constexpr size_t kMaxBytes = 120;
  if (out.size() > kMaxBytes) {
    size_t cut = kMaxBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    out.resize(cut);
  }
  if (isWindowsDeviceName(out)) {
    out.insert(0, "_");
  }
  return out;
}

}  // namespace smmhub::render
