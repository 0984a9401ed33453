#include "template/data_table.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace smmhub::templates {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Returns the offset of the first byte that breaks UTF-8 in TEXT, or npos.
// Rejects overlong forms, surrogates and code points past U+10FFFF.
size_t invalidUtf8Offset(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = byte < 0x80           ? 1
                    : (byte >> 5) == 0x6  ? 2
                    : (byte >> 4) == 0xE  ? 3
                    : (byte >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) {
      return i;
    }
    unsigned code_point = length == 1 ? byte : byte & (0xFF >> (length + 1));
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        return i;
      }
      code_point = (code_point << 6) | (next & 0x3F);
    }
    constexpr std::array<unsigned, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

// Trims ASCII spaces and invisible characters that spreadsheets leave in
// header names: byte-order marks (U+FEFF), zero-width spaces (U+200B) and
// no-break spaces (U+00A0).
std::string trimHeader(std::string_view text) {
  constexpr std::array<std::string_view, 3> kInvisible = {"\xEF\xBB\xBF", "\xE2\x80\x8B",
                                                          "\xC2\xA0"};
  bool changed = true;
  while (changed && !text.empty()) {
    changed = false;
    if (text.front() == ' ' || text.front() == '\t') {
      text.remove_prefix(1);
      changed = true;
    }
    if (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
      text.remove_suffix(1);
      changed = true;
    }
    for (std::string_view mark : kInvisible) {
      if (text.starts_with(mark)) {
        text.remove_prefix(mark.size());
        changed = true;
      }
      if (text.ends_with(mark)) {
        text.remove_suffix(mark.size());
        changed = true;
      }
    }
  }
  return std::string(text);
}

// One record as read: its cells, where each cell starts in the file, and
// the line it starts on.
struct Record {
  std::vector<std::string> cells;
  std::vector<size_t> offsets;
  int line = 0;
};

class CsvScanner {
 public:
  CsvScanner(std::string_view text, size_t base_offset, char delimiter, int first_line)
      : text_(text), base_(base_offset), delimiter_(delimiter), line_(first_line) {}

  bool done() const { return pos_ >= text_.size(); }
  char delimiter() const { return delimiter_; }

  // Reads the next record; returns invalidArgument on an unclosed quote or
  // text after a closing quote.
  Result<Record> next();

 private:
  Status readQuoted(std::string* cell, int record_line);

  std::string_view text_;
  size_t base_;
  char delimiter_;
  size_t pos_ = 0;
  int line_;
};

Status CsvScanner::readQuoted(std::string* cell, int record_line) {
  ++pos_;  // the opening quote
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '"') {
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
        *cell += '"';
        pos_ += 2;
        continue;
      }
      ++pos_;
      return okStatus();
    }
    // A line break inside quotes is kept as "\n", whether the file wrote CRLF or LF.
    if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      ++pos_;
      continue;
    }
    if (c == '\n') {
      ++line_;
    }
    *cell += c;
    ++pos_;
  }
  return Status::invalidArgument("the quote opened on line " + std::to_string(record_line) +
                                 " is never closed; close it or double it (\"\") if it is text");
}

Result<Record> CsvScanner::next() {
  Record record;
  record.line = line_;
  std::string cell;
  record.offsets.push_back(base_ + pos_);
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '"' && cell.empty() && record.offsets.back() == base_ + pos_) {
      SMMHUB_RETURN_IF_ERROR(readQuoted(&cell, record.line));
      if (pos_ < text_.size() && text_[pos_] != delimiter_ && text_[pos_] != '\r' &&
          text_[pos_] != '\n') {
        return Status::invalidArgument("line " + std::to_string(line_) +
                                       ": text after a closing quote; quote the whole cell and "
                                       "double the quotes inside it");
      }
    } else if (c == delimiter_) {
      record.cells.push_back(std::move(cell));
      cell.clear();
      ++pos_;
      record.offsets.push_back(base_ + pos_);
    } else if (c == '\n' || (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n')) {
      pos_ += c == '\r' ? 2 : 1;
      ++line_;
      break;
    } else {
      cell += c;
      ++pos_;
    }
  }
  record.cells.push_back(std::move(cell));
  return record;
}

// Picks the delimiter the header line has most of, outside quotes.
char detectDelimiter(std::string_view text) {
  std::array<int, 3> counts = {0, 0, 0};
  constexpr std::array<char, 3> kCandidates = {',', ';', '\t'};
  bool quoted = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == '\n' || c == '\r')) {
      break;
    } else if (!quoted) {
      for (size_t i = 0; i < kCandidates.size(); ++i) {
        counts[i] += c == kCandidates[i] ? 1 : 0;
      }
    }
  }
  size_t best = 0;
  for (size_t i = 1; i < counts.size(); ++i) {
    if (counts[i] > counts[best]) {
      best = i;
    }
  }
  return kCandidates[best];
}

bool isBlank(const Record& record) {
  return record.cells.size() == 1 && record.cells[0].empty();
}

Status checkHeader(const std::vector<std::string>& columns, const std::string& source_name) {
  std::set<std::string> seen;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].empty()) {
      return Status::invalidArgument(source_name + ": header: column " + std::to_string(i + 1) +
                                     " has no name; name it or delete the column");
    }
    if (!seen.insert(columns[i]).second) {
      return Status::invalidArgument(source_name + ": header: column '" + columns[i] +
                                     "' appears twice; rename one of them");
    }
  }
  return okStatus();
}

Status checkRecordUtf8(const Record& record, const std::vector<std::string>& columns,
                       const std::string& where, const std::string& source_name) {
  for (size_t i = 0; i < record.cells.size(); ++i) {
    size_t bad = invalidUtf8Offset(record.cells[i]);
    if (bad == std::string_view::npos) {
      continue;
    }
    std::string column = i < columns.size() ? columns[i] : std::to_string(i + 1);
    return Status::invalidArgument(source_name + ": " + where + ", column " + column +
                                   ": invalid UTF-8 at byte offset " +
                                   std::to_string(record.offsets[i] + bad) +
                                   " of the file; save the file as UTF-8 (\"CSV UTF-8\" in Excel)");
  }
  return okStatus();
}

Result<DataTable> readRecords(CsvScanner& scanner, const std::string& source_name) {
  DataTable table;
  Result<Record> header = scanner.next();
  if (!header.ok()) {
    return header.status().withContext(source_name);
  }
  for (const std::string& cell : header->cells) {
    table.columns.push_back(trimHeader(cell));
  }
  SMMHUB_RETURN_IF_ERROR(checkRecordUtf8(*header, table.columns, "header", source_name));
  SMMHUB_RETURN_IF_ERROR(checkHeader(table.columns, source_name));

  while (!scanner.done()) {
    Result<Record> record = scanner.next();
    if (!record.ok()) {
      return record.status().withContext(source_name);
    }
    if (isBlank(*record)) {
      continue;
    }
    int number = static_cast<int>(table.rows.size()) + 1;
    std::string where =
        "row " + std::to_string(number) + " (line " + std::to_string(record->line) + ")";
    if (number > kMaxDataRows) {
      return Status::invalidArgument(source_name + ": more than " + std::to_string(kMaxDataRows) +
                                     " rows; split the file into batches");
    }
    SMMHUB_RETURN_IF_ERROR(checkRecordUtf8(*record, table.columns, where, source_name));
    if (record->cells.size() != table.columns.size()) {
      return Status::invalidArgument(
          source_name + ": " + where + " has " + std::to_string(record->cells.size()) +
          " cells but the header has " + std::to_string(table.columns.size()) +
          " columns; quote values that contain the delimiter '" +
          std::string(scanner.delimiter() == '\t' ? "tab" : std::string(1, scanner.delimiter())) +
          "'");
    }
    table.rows.push_back(DataRow{number, record->line, std::move(record->cells)});
  }
  return table;
}

}  // namespace

int DataTable::columnIndex(const std::string& name) const {
  auto found = std::find(columns.begin(), columns.end(), name);
  return found == columns.end() ? -1 : static_cast<int>(found - columns.begin());
}

Result<DataTable> readCsv(std::string_view bytes, const std::string& source_name) {
  if (bytes.size() > kMaxDataBytes) {
    return Status::invalidArgument(source_name + ": " + std::to_string(bytes.size()) +
                                   " bytes exceed the limit of " + std::to_string(kMaxDataBytes) +
                                   " bytes; split the file into batches");
  }
  size_t offset = 0;
  if (bytes.starts_with(kByteOrderMark)) {
    offset = kByteOrderMark.size();
  }

  // Excel writes "sep=;" as a first line to name the delimiter.
  int first_line = 1;
  std::string_view rest = bytes.substr(offset);
  std::optional<char> delimiter;
  if (rest.size() >= 5 && rest.starts_with("sep=") &&
      (rest.size() == 5 || rest[5] == '\n' || rest[5] == '\r')) {
    delimiter = rest[4];
    size_t line_end = rest.find('\n');
    size_t skip = line_end == std::string_view::npos ? rest.size() : line_end + 1;
    offset += skip;
    first_line = 2;
  }
  std::string_view text = bytes.substr(offset);
  if (text.find_first_not_of("\r\n") == std::string_view::npos) {
    return Status::invalidArgument(source_name + ": the file has no header line");
  }
  if (!delimiter) {
    delimiter = detectDelimiter(text);
  }

  CsvScanner scanner(text, offset, *delimiter, first_line);
  SMMHUB_ASSIGN_OR_RETURN(DataTable table, readRecords(scanner, source_name));
  table.delimiter = *delimiter;
  return table;
}

namespace {

// Returns the offset of each element of the top-level JSON array in TEXT,
// which nlohmann has already parsed, so that rows can name their line.
std::vector<size_t> arrayElementOffsets(std::string_view text) {
  std::vector<size_t> offsets;
  int depth = 0;
  bool in_string = false;
  bool expect_element = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      continue;
    }
    if (expect_element && c != ']') {
      offsets.push_back(i);
    }
    expect_element = false;
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
      expect_element = depth == 1 && c == '[';
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_element = true;
    }
  }
  return offsets;
}

int lineAt(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(
                 std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n'));
}

Result<std::string> cellText(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_null()) {
    return std::string();
  }
  if (value.is_number() || value.is_boolean()) {
    return value.dump();
  }
  return Status::invalidArgument("expected a string, number, boolean or null, got " +
                                 std::string(value.type_name()));
}

}  // namespace

Result<DataTable> readJsonRows(std::string_view bytes, const std::string& source_name) {
  if (bytes.size() > kMaxDataBytes) {
    return Status::invalidArgument(source_name + ": " + std::to_string(bytes.size()) +
                                   " bytes exceed the limit of " + std::to_string(kMaxDataBytes) +
                                   " bytes; split the file into batches");
  }
  if (bytes.starts_with(kByteOrderMark)) {
    bytes.remove_prefix(kByteOrderMark.size());
  }
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::parse_error& error) {
    return Status::invalidArgument(
        source_name + ": line " +
        std::to_string(lineAt(bytes, error.byte == 0 ? 0 : error.byte - 1)) +
        ": invalid JSON: " + error.what());
  } catch (const nlohmann::json::out_of_range& error) {
    return Status::invalidArgument(source_name + ": invalid JSON: " + error.what());
  }
  if (!document.is_array()) {
    return Status::invalidArgument(source_name + ": expected an array of objects, one per row");
  }
  if (document.size() > static_cast<size_t>(kMaxDataRows)) {
    return Status::invalidArgument(source_name + ": more than " + std::to_string(kMaxDataRows) +
                                   " rows; split the file into batches");
  }

  // Columns first, in the order keys are first seen, so that every row has a cell for each.
  // Every row stores a cell for every column, so distinct keys are capped:
  // 10,000 rows with one new key each would otherwise hold 10^8 cells.
  // TODO: 1,000 is a proposed limit; the documented limits name none.
  constexpr size_t kMaxJsonColumns = 1000;
  DataTable table;
  table.delimiter = ',';
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < document.size(); ++i) {
    if (!document[i].is_object()) {
      return Status::invalidArgument(source_name + ": row " + std::to_string(i + 1) +
                                     ": expected an object, got " + document[i].type_name());
    }
    for (const auto& [key, value] : document[i].items()) {
      if (seen.insert(key).second) {
        table.columns.push_back(key);
      }
      if (table.columns.size() > kMaxJsonColumns) {
        return Status::invalidArgument(source_name + ": row " + std::to_string(i + 1) +
                                       ": more than " + std::to_string(kMaxJsonColumns) +
                                       " distinct keys; use the same keys in every row");
      }
    }
  }

  std::vector<size_t> offsets = arrayElementOffsets(bytes);
  for (size_t i = 0; i < document.size(); ++i) {
    DataRow row;
    row.number = static_cast<int>(i) + 1;
    row.line = i < offsets.size() ? lineAt(bytes, offsets[i]) : 0;
    for (const std::string& column : table.columns) {
      auto found = document[i].find(column);
      Result<std::string> text =
          found == document[i].end() ? Result<std::string>(std::string()) : cellText(*found);
      if (!text.ok()) {
        return text.status().withContext(source_name + ": row " + std::to_string(row.number) +
                                         ", column " + column);
      }
      row.values.push_back(std::move(text).value());
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

Result<DataTable> readRows(const std::filesystem::path& path) {
  std::error_code error;
  std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return Status::notFound(path.string() + ": cannot read the data file: " + error.message());
  }
  if (size > kMaxDataBytes) {
    return Status::invalidArgument(path.string() + ": " + std::to_string(size) +
                                   " bytes exceed the limit of " + std::to_string(kMaxDataBytes) +
                                   " bytes; split the file into batches");
  }
  std::ifstream file(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());

  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view content = bytes;
  if (content.starts_with(kByteOrderMark)) {
    content.remove_prefix(kByteOrderMark.size());
  }
  size_t first = content.find_first_not_of(" \t\r\n");
  bool is_json = extension == ".json" ||
                 (extension != ".csv" && first != std::string_view::npos && content[first] == '[');
  Result<DataTable> table =
      is_json ? readJsonRows(bytes, path.string()) : readCsv(bytes, path.string());
  if (table.ok()) {
    table->source = std::filesystem::absolute(path);
  }
  return table;
}

}  // namespace smmhub::templates
