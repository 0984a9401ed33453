// Fuzzes the parsers of the texts inside templates and data cells: colours,
// dates, times, date and time formats, "{{field|filter}}" expressions, and
// their expansion with one data row. The first byte picks the parser, the
// rest is the text. For the expansion, the text up to the first NUL is the
// template string and the NUL-separated parts after it are the row's cells
// of the fields t (text), d (date), h (time), n (number), c (colour) and i
// (image).
//
// Invariants: every parser either accepts or gives its reason
// (invalidArgument with a message). An accepted colour is "#RRGGBBAA" and
// normalises to itself, and an accepted rgb() lists plain numbers. An
// accepted date or time is a real one and reads back the same when
// formatted. Field names are non-empty, and the number filter writes a
// number that reads back as the same one, rounded.
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "template/binding.h"
#include "template/color.h"
#include "template/dates.h"
#include "template/field_expr.h"

namespace {

using namespace smmhub;
using namespace smmhub::templates;

void fuzzColor(std::string_view text) {
  Result<std::string> color = normalizeColor(text);
  if (!color.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(color.status());
    return;
  }
  SMMHUB_FUZZ_CHECK(color->size() == 9 && (*color)[0] == '#' &&
                        color->find_first_not_of("0123456789ABCDEF", 1) == std::string::npos,
                    *color);
  Result<std::string> again = normalizeColor(*color);
  SMMHUB_FUZZ_CHECK(again.ok() && *again == *color, *color);

  // rgb() and rgba() take decimal numbers, not "nan" or "inf".
  size_t open = text.find('(');
  if (open != std::string_view::npos) {
    std::string_view arguments = text.substr(open + 1, text.rfind(')') - open - 1);
    SMMHUB_FUZZ_CHECK(
        arguments.find_first_not_of("0123456789.eE+-, \t\n\v\f\r") == std::string_view::npos,
        std::string(text));
  }
}

void fuzzDate(std::string_view text) {
  std::optional<CalendarDate> date = parseDate(text);
  if (!date) {
    return;
  }
  SMMHUB_FUZZ_CHECK(date->month >= 1 && date->month <= 12 && date->day >= 1 && date->day <= 31 &&
                        date->year >= 0 && date->year <= 9999,
                    std::string(text));
  Result<std::string> iso = formatDate(*date, "yyyy-MM-dd");
  SMMHUB_FUZZ_CHECK(iso.ok(), iso.status().toString());
  std::optional<CalendarDate> again = parseDate(*iso);
  SMMHUB_FUZZ_CHECK(
      again && again->year == date->year && again->month == date->month && again->day == date->day,
      std::string(text) + " -> " + *iso);
  Result<std::string> long_form = formatDate(*date, "dddd d MMMM yy, ddd dd MMM");
  SMMHUB_FUZZ_CHECK(long_form.ok(), long_form.status().toString());
}

void fuzzTime(std::string_view text) {
  std::optional<TimeOfDay> time = parseTime(text);
  if (!time) {
    return;
  }
  SMMHUB_FUZZ_CHECK(time->hour >= 0 && time->hour <= 23 && time->minute >= 0 &&
                        time->minute <= 59 && time->second >= 0 && time->second <= 59,
                    std::string(text));
  Result<std::string> formatted = formatTime(*time, "HH:mm:ss");
  SMMHUB_FUZZ_CHECK(formatted.ok(), formatted.status().toString());
  std::optional<TimeOfDay> again = parseTime(*formatted);
  SMMHUB_FUZZ_CHECK(again && again->hour == time->hour && again->minute == time->minute &&
                        again->second == time->second,
                    std::string(text) + " -> " + *formatted);
  Result<std::string> twelve = formatTime(*time, "h:mm tt");
  SMMHUB_FUZZ_CHECK(twelve.ok(), twelve.status().toString());
}

void fuzzFormats(std::string_view text) {
  Result<std::string> date = formatDate(CalendarDate{2025, 10, 4}, text);
  if (!date.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(date.status());
  }
  Result<std::string> time = formatTime(TimeOfDay{15, 30, 0}, text);
  if (!time.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(time.status());
  }
}

void fuzzFields(std::string_view text) {
  Result<std::vector<TextPart>> parts = splitFields(text);
  std::vector<std::string> names = fieldNames(text);
  if (!parts.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(parts.status());
    SMMHUB_FUZZ_CHECK(names.empty(), "names of a text that does not split");
    return;
  }
  std::vector<std::string> found;
  for (const TextPart& part : *parts) {
    if (part.field) {
      SMMHUB_FUZZ_CHECK(!part.field->name.empty(), std::string(text));
      found.push_back(part.field->name);
    } else {
      SMMHUB_FUZZ_CHECK(!part.literal.empty(), "empty literal part of " + std::string(text));
    }
  }
  SMMHUB_FUZZ_CHECK(found == names, std::string(text));
  SMMHUB_FUZZ_CHECK(!hasFields(text) || !found.empty(), std::string(text));
}

// A template with one field of each type, and a brand kit with a colour and
// a library, for expandFields().
struct ExpandSetup {
  Template tmpl;
  BrandKit brand;
  DataTable table;

  ExpandSetup() {
    constexpr std::array<std::pair<const char*, FieldType>, 6> kFields = {{
        {"t", FieldType::kText},
        {"d", FieldType::kDate},
        {"h", FieldType::kTime},
        {"n", FieldType::kNumber},
        {"c", FieldType::kColor},
        {"i", FieldType::kImage},
    }};
    for (const auto& [name, type] : kFields) {
      tmpl.fields.push_back(Field{.name = name, .type = type});
      table.columns.push_back(name);
    }
    brand.name = "Demo Sports";
    brand.colors["primary"] = "#0B1D51FF";
    brand.libraries["crests"].entries["Arsenal FC"] = "/brand/crests/arsenal-fc.svg";
    brand.libraries["crests"].entries["Feyenoord"] = "/brand/crests/feyenoord.svg";
  }
};

// The number filter writes the number n with 0 or 6 decimals: it reads back
// as the same number, rounded.
void checkNumberFilter(const std::string& value, const BindInputs& inputs) {
  std::string_view digits = value;
  while (!digits.empty() && digits.front() == ' ') {
    digits.remove_prefix(1);
  }
  while (!digits.empty() && digits.back() == ' ') {
    digits.remove_suffix(1);
  }
  for (int decimals : {0, 6}) {
    Result<ExpandedText> written =
        expandFields("{{n|number:" + std::to_string(decimals) + "}}", inputs);
    if (!written.ok() || written->text.empty()) {
      continue;
    }
    double number = 0;
    double again = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), number);
    const std::string& text = written->text;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), again);
    SMMHUB_FUZZ_CHECK(error == std::errc() && end == text.data() + text.size() &&
                          std::fabs(again - number) <=
                              0.5 * std::pow(10.0, -decimals) + std::fabs(number) * 1e-15,
                      value + " written as " + text);
  }
}

void fuzzExpand(std::string_view input) {
  static const ExpandSetup setup;
  size_t end = input.find('\0');
  std::string_view text = input.substr(0, end);
  DataRow row{
      .number = 1, .line = 2, .values = std::vector<std::string>(setup.table.columns.size())};
  for (std::string& value : row.values) {
    if (end == std::string_view::npos) {
      break;
    }
    input.remove_prefix(end + 1);
    end = input.find('\0');
    value = std::string(input.substr(0, end));
  }

  ColumnMapping mapping;
  BindInputs inputs{setup.tmpl, setup.brand, setup.table, row, mapping};
  Result<ExpandedText> expanded = expandFields(text, inputs);
  if (!expanded.ok()) {
    SMMHUB_FUZZ_CHECK_REJECTED(expanded.status());
  } else {
    SMMHUB_FUZZ_CHECK(hasFields(text) || expanded->text == text, std::string(text));
  }
  checkNumberFilter(row.values[3], inputs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      fuzzColor(text);
      break;
    case 1:
      fuzzDate(text);
      break;
    case 2:
      fuzzTime(text);
      break;
    case 3:
      fuzzFormats(text);
      break;
    case 4:
      fuzzFields(text);
      break;
    default:
      fuzzExpand(text);
      break;
  }
  return 0;
}
