// Fuzzes readCsv() with any bytes as a campaign's rows.csv.
//
// Invariants: a rejected file is invalidArgument naming rows.csv; an
// accepted one has unique, non-empty, trimmed UTF-8 column names, every row
// with one UTF-8 value per column, rows numbered 1, 2, ... on increasing
// lines, at most kMaxDataRows of them, and it reads back the same when
// written out again with every cell quoted (but for CRLF, which becomes LF).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "rows_check.h"
#include "template/data_table.h"

namespace {

using namespace smmhub;
using namespace smmhub::templates;
using smmhub::fuzz::isUtf8;

constexpr std::string_view kSource = "rows.csv";

std::string quoteCell(std::string_view cell) {
  std::string out = "\"";
  for (char c : cell) {
    out += c == '"' ? "\"\"" : std::string(1, c);
  }
  return out + "\"";
}

// Writes TABLE as CSV with DELIMITER, every cell quoted.
std::string writeCsv(const DataTable& table, char delimiter) {
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += (i == 0 ? "" : std::string(1, delimiter)) + quoteCell(cells[i]);
    }
    return out + "\r\n";
  };
  std::string text = line(table.columns);
  for (const DataRow& row : table.rows) {
    text += line(row.values);
  }
  return text;
}

void checkAccepted(const DataTable& table) {
  SMMHUB_FUZZ_CHECK(!table.columns.empty(), "no columns");
  std::set<std::string> names;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const std::string& name = table.columns[i];
    SMMHUB_FUZZ_CHECK(!name.empty(), "empty column name " + std::to_string(i + 1));
    SMMHUB_FUZZ_CHECK(names.insert(name).second, "column '" + name + "' twice");
    SMMHUB_FUZZ_CHECK(isUtf8(name), "column name is not UTF-8");
    SMMHUB_FUZZ_CHECK(name.front() != ' ' && name.back() != ' ', "untrimmed '" + name + "'");
    SMMHUB_FUZZ_CHECK(table.columnIndex(name) == static_cast<int>(i), name);
  }

  SMMHUB_FUZZ_CHECK(table.rows.size() <= static_cast<size_t>(kMaxDataRows), "too many rows");
  int previous_line = 0;
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const DataRow& row = table.rows[i];
    std::string where = "row " + std::to_string(row.number);
    SMMHUB_FUZZ_CHECK(row.number == static_cast<int>(i) + 1, where);
    SMMHUB_FUZZ_CHECK(row.line > previous_line, where + " line " + std::to_string(row.line));
    SMMHUB_FUZZ_CHECK(row.values.size() == table.columns.size(),
                      where + " has " + std::to_string(row.values.size()) + " values");
    for (const std::string& value : row.values) {
      SMMHUB_FUZZ_CHECK(isUtf8(value), where + ": a value is not UTF-8");
    }
    previous_line = row.line;
  }
}

// What the reader makes of CELL written inside quotes: each CRLF becomes
// "\n". A cell can hold a CRLF that was a lone CR and a CRLF in the file.
std::string readBack(const std::string& cell) {
  std::string out;
  for (size_t i = 0; i < cell.size(); ++i) {
    if (!(cell[i] == '\r' && i + 1 < cell.size() && cell[i + 1] == '\n')) {
      out += cell[i];
    }
  }
  return out;
}

std::vector<std::string> readBack(const std::vector<std::string>& cells) {
  std::vector<std::string> out;
  for (const std::string& cell : cells) {
    out.push_back(readBack(cell));
  }
  return out;
}

// Writes TABLE out and reads it again: the same columns and values.
void checkRoundTrip(const DataTable& table) {
  // Two names that differ only in a CRLF read back as one name twice.
  std::vector<std::string> columns = readBack(table.columns);
  if (std::set<std::string>(columns.begin(), columns.end()).size() != columns.size()) {
    return;
  }
  for (char delimiter : {',', ';', '\t'}) {
    std::string text = writeCsv(table, delimiter);
    if (text.size() > kMaxDataBytes) {
      return;
    }
    Result<DataTable> again = readCsv(text, std::string(kSource));
    SMMHUB_FUZZ_CHECK(again.ok(), again.status().toString());
    SMMHUB_FUZZ_CHECK(again->columns == columns, "columns differ after a round trip");
    SMMHUB_FUZZ_CHECK(again->rows.size() == table.rows.size(), "row count differs");
    for (size_t i = 0; i < table.rows.size(); ++i) {
      SMMHUB_FUZZ_CHECK(again->rows[i].values == readBack(table.rows[i].values),
                        "row " + std::to_string(i + 1) + " differs after a round trip");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  return smmhub::fuzz::checkRowsRead(readCsv(bytes, std::string(kSource)), kSource, checkAccepted,
                                     checkRoundTrip);
}
