// Data tables: the rows of a batch, from CSV or JSON.
//
// Each row of a table becomes one video. Values are kept exactly as the file
// has them (UTF-8, no markup), apart from the CSV rules below; fields and
// filters interpret them at binding time.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace smmhub::templates {

// Documented limits on one data file.
inline constexpr size_t kMaxDataBytes = 10 * 1024 * 1024;
inline constexpr int kMaxDataRows = 10000;

struct DataRow {
  int number = 0;                   // 1-based data row, not counting the header
  int line = 0;                     // 1-based physical line where the record starts
  std::vector<std::string> values;  // one per column
};

struct DataTable {
  std::vector<std::string> columns;
  std::vector<DataRow> rows;
  char delimiter = ',';          // CSV only; ',' for JSON
  std::filesystem::path source;  // the file, when read from one
  // When not empty, a file that a data value names must lie inside one of
  // these folders, after links are followed, so that the rows of one tenant
  // cannot read another tenant's files. Brand kit and template files are
  // not checked: they come from the tenant's own content.
  std::vector<std::filesystem::path> source_roots;

  // Returns the index of the column NAME, or -1.
  int columnIndex(const std::string& name) const;
};

// Reads CSV (RFC 4180): quoted fields with doubled quotes and line breaks
// (CRLF inside quotes becomes "\n"), CRLF or LF line ends, UTF-8 with or
// without a byte-order mark. The delimiter is ',', ';' or tab, whichever the
// header line has most of outside quotes, unless an Excel "sep=X" first line
// names it. Header names are trimmed; blank lines are skipped. Returns
// invalidArgument naming SOURCE_NAME and the row for invalid UTF-8, a row
// whose cell count differs from the header, an unclosed quote, a duplicate
// or empty column name, or more than kMaxDataRows rows or kMaxDataBytes.
Result<DataTable> readCsv(std::string_view bytes, const std::string& source_name);

// Reads a JSON array of flat objects. Strings are kept, numbers and booleans
// written as JSON writes them, null becomes "". Columns are the union of the
// keys in first-seen order; a row without a key gets "" there.
Result<DataTable> readJsonRows(std::string_view bytes, const std::string& source_name);

// Reads PATH as JSON when its extension is .json or its content starts with
// '[', otherwise as CSV, and sets DataTable::source.
Result<DataTable> readRows(const std::filesystem::path& path);

}  // namespace smmhub::templates
