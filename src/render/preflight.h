// Preflight: every problem of a template, its brand kit and its data at once,
// before any minute of rendering is spent.
//
// Per row it binds the template (missing or malformed fields), loads every
// image (corrupt, oversized or unsupported files) and lays out every text
// layer (characters no font has and the fallback font used instead, text
// that still overflows its box at the minimum size, right-to-left text).
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "common/diagnostics.h"
#include "common/status.h"
#include "render/raster.h"
#include "template/binding.h"

namespace smmhub::render {

struct PreflightRequest {
  std::filesystem::path template_path;
  std::optional<std::filesystem::path> data_path;  // none: the template alone
  std::optional<std::filesystem::path> brand_dir;
  templates::ColumnMapping mapping;
  // When not empty, files named by data values must lie inside these
  // folders (DataTable::source_roots), as for a batch.
  std::vector<std::filesystem::path> source_roots;
  // When set, a contact sheet with the poster frame of every row is written
  // here as PNG.
  std::optional<std::filesystem::path> proof_path;
};

struct PreflightReport {
  std::vector<Diagnostic> problems;  // places name the JSON pointer, file or row
  int rows = 0;
  int rows_with_errors = 0;
  bool template_valid = false;
};

// Checks everything REQUEST names and returns the problems found. Returns an
// error only when a file cannot be read at all.
Result<PreflightReport> preflight(const PreflightRequest& request);

}  // namespace smmhub::render
