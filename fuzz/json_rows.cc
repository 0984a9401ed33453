// Fuzzes readJsonRows() with any bytes as a campaign's rows.json.
//
// Invariants: a rejected file is invalidArgument naming rows.json; an
// accepted one has unique column names, every row with one value per
// column, rows numbered 1, 2, ..., and it reads back the same when written
// out again as an array of objects of strings.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "rows_check.h"
#include "template/data_table.h"

namespace {

using namespace smmhub;
using namespace smmhub::templates;

constexpr std::string_view kSource = "rows.json";

std::map<std::string, std::string> rowMap(const DataTable& table, const DataRow& row) {
  std::map<std::string, std::string> cells;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    cells[table.columns[i]] = row.values[i];
  }
  return cells;
}

void checkAccepted(const DataTable& table) {
  std::set<std::string> names(table.columns.begin(), table.columns.end());
  SMMHUB_FUZZ_CHECK(names.size() == table.columns.size(), "a column appears twice");
  SMMHUB_FUZZ_CHECK(table.rows.size() <= static_cast<size_t>(kMaxDataRows), "too many rows");
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const DataRow& row = table.rows[i];
    SMMHUB_FUZZ_CHECK(row.number == static_cast<int>(i) + 1, std::to_string(row.number));
    SMMHUB_FUZZ_CHECK(row.line >= 1, "row " + std::to_string(row.number) + " has no line");
    SMMHUB_FUZZ_CHECK(row.values.size() == table.columns.size(),
                      "row " + std::to_string(row.number) + " has " +
                          std::to_string(row.values.size()) + " values");
  }
}

// Writes TABLE as JSON with every cell a string and reads it again: the
// same cells in every row. Key order inside an object is not kept by the
// reader, so the rows are compared as maps.
void checkRoundTrip(const DataTable& table) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const DataRow& row : table.rows) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (size_t i = 0; i < table.columns.size(); ++i) {
      object[table.columns[i]] = row.values[i];
    }
    rows.push_back(std::move(object));
  }
  std::string text = rows.dump(1);
  Result<DataTable> again = readJsonRows(text, std::string(kSource));
  SMMHUB_FUZZ_CHECK(again.ok(), again.status().toString());
  SMMHUB_FUZZ_CHECK(again->rows.size() == table.rows.size(), "row count differs");
  for (size_t i = 0; i < table.rows.size(); ++i) {
    SMMHUB_FUZZ_CHECK(rowMap(*again, again->rows[i]) == rowMap(table, table.rows[i]),
                      "row " + std::to_string(i + 1) + " differs after a round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  return smmhub::fuzz::checkRowsRead(readJsonRows(bytes, std::string(kSource)), kSource,
                                     checkAccepted, checkRoundTrip);
}
