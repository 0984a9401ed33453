// A batch: one template, one brand kit and a table of rows, rendered into one
// MP4 and one poster per row, several rows at a time.
//
// Template, brand kit and data problems that concern the whole batch end it
// before any row renders (an error Result). A problem in one row (a missing
// field, a corrupt crest) fails that row only: its outcome carries the error
// and the other rows go on.
//
// Each video and poster is written under a hidden temporary name,
// ".NAME.mp4.partial" and ".NAME.jpg.partial", and renamed when complete. A
// process that is killed leaves these files behind, and the next batch into
// the same folder removes them before it renders, unless another batch is
// writing into that folder at the time.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "buffer/render_buffer.h"
#include "common/diagnostics.h"
#include "common/status.h"
#include "render/raster.h"
#include "render/raster_cache.h"
#include "render/text/text_renderer.h"
#include "template/binding.h"
#include "template/brand_kit.h"

namespace smmhub::render {

struct BatchRequest {
  std::filesystem::path template_path;
  std::filesystem::path data_path;
  // The file whose folder relative paths in the rows are resolved against;
  // empty: data_path. A worker renders a copy of one row from another
  // folder, and sets the original file here.
  std::filesystem::path data_source;
  // When not empty, files named by data values must lie inside these
  // folders (DataTable::source_roots).
  std::vector<std::filesystem::path> source_roots;
  std::filesystem::path brand_dir;
  std::filesystem::path out_dir;
  std::vector<int> rows;  // 1-based data row numbers; empty: every row
  int jobs = 0;           // videos rendered at once; 0: one per core
  // When above 0, the number that messages, outcomes and "{{row}}" give the
  // one row of data_path. A worker renders a copy of row N of a larger table
  // from a file of that row alone, and sets N here. 0: rows keep their own
  // numbers. REQUIRES: data_path has exactly one row when set.
  int row_number = 0;
  // Encoder threads per video; 0: the cores divided by jobs. A worker that
  // runs several batches at once divides the cores among them.
  int encode_threads = 0;
  int crf = 23;
  std::string preset = "veryfast";
  // File name pattern with fields, such as "{{home}}-v-{{away}}"; empty:
  // the zero-padded row number. "{{row}}" is the data row number.
  std::string name_pattern;
  // Reuse rendered results through the render buffer; false turns every
  // tier off, so that each video renders everything itself.
  bool reuse = true;
  std::uint64_t cache_bytes = std::uint64_t{256} << 20;
  // The render buffer's shared tier, "redis://HOST:PORT"; empty: process
  // memory only.
  std::string cache_redis;
  // Scopes every cache key; the CLI renders as tenant "local".
  std::string tenant = "local";
  templates::ColumnMapping mapping;
  // When set and true, rows that have not started are skipped, and the rows
  // in progress finish. The batch reads it before each row starts.
  const std::atomic<bool>* stop = nullptr;
  // When set and true, the rows in progress stop at their next frame and
  // fail with a "stopped at frame N of M" error, and rows not started are
  // skipped. A worker sets it when its job is cancelled or its lease is lost.
  const std::atomic<bool>* cancel = nullptr;
  // Called with the number of rows once the inputs are valid, before the
  // first row starts. An error stops the batch there and runBatch returns
  // it. The command line holds the batch's credits here.
  std::function<Status(int rows)> before_rows;
};

struct RowOutcome {
  int row = 0;
  bool ok = false;
  std::filesystem::path video;
  std::filesystem::path poster;
  int frames = 0;
  int composited_frames = 0;
  std::int64_t bytes = 0;
  double seconds = 0;
  bool skipped = false;  // not started because the batch was stopped
  std::string error;
  // The kind of error: invalidArgument or notFound for bad input that no
  // retry fixes, cancelled when the row was stopped, unavailable or
  // internal for a failure that may pass.
  StatusCode error_code = StatusCode::kOk;
  std::vector<std::string> warnings;
};

struct BatchReport {
  std::vector<RowOutcome> rows;  // in row order
  double wall_s = 0;
  int jobs = 0;
  CacheStats cache;  // the memory tier of rasters
  buffer::BufferStats buffer;
  bool shared_tier = false;           // a Redis tier was configured
  std::uint64_t shared_outages = 0;   // times it became unreachable
  std::vector<std::string> warnings;  // about the template and brand kit

  int succeeded() const;
  int failed() const;   // rows that started and failed
  int skipped() const;  // rows not started because the batch was stopped
};

// Receives progress from the batch's threads; calls are serialised.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  virtual void batchStarted(int /*rows*/, int /*frames_per_video*/) {}
  virtual void framesDone(int /*row*/, int /*done*/, int /*total*/) {}
  virtual void rowFinished(const RowOutcome& /*outcome*/) {}
};

// Renders the batch described by REQUEST. Returns an error only when the batch
// cannot start (an invalid template, brand kit or data file, or an output
// folder that cannot be made); the message names the file and place. Before
// the first row, removes the partial files that an earlier process left in
// the output folder.
Result<BatchReport> runBatch(const BatchRequest& request, BatchObserver* observer);

// One frame of a row of a batch.
struct FrameOutput {
  Raster frame;
  // Problems that did not stop the frame (a font fallback, text that
  // overflows its box), each with its place.
  std::vector<std::string> warnings;
};

// Renders the frame at TIME_S seconds of the one row that REQUEST.rows lists,
// as runBatch(REQUEST) draws it before it encodes that row's video: the same
// inputs, binding, fonts, tenant and render buffer. The output folder, file
// names, rows in parallel and encoder settings of REQUEST are not used.
// Errors: those of runBatch() for the inputs, and invalidArgument in three
// cases. REQUEST.rows does not list exactly one row, TIME_S is not a finite
// time within the video, or the row does not bind (the message names the
// row and column).
Result<FrameOutput> renderBatchFrame(const BatchRequest& request, double time_s);

// Registers the brand kit's font files with FONTS and returns a key that
// identifies the font set, for text cache keys.
Result<std::string> registerBrandFonts(const templates::BrandKit& brand, FontLibrary& fonts);

// Turns NAME into a file name that is safe on Linux, macOS and Windows file
// systems: separators, reserved, control and invisible characters (bidi
// controls, zero-width spaces) become '-', runs of spaces and dashes
// collapse, a Windows device name (CON, NUL, COM1, ...) gets a leading '_',
// and the result is at most 120 bytes of UTF-8.
std::string safeFileName(const std::string& name);

}  // namespace smmhub::render
