#include "template/dates.h"

#include <array>
#include <cctype>
#include <charconv>

namespace smmhub::templates {
namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

bool isLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int daysInMonth(int year, int month) {
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeapYear(year) ? 29 : kDays[month - 1];
}

// Returns 0 for Sunday (Sakamoto's method, valid for Gregorian dates).
int dayOfWeek(const CalendarDate& date) {
  constexpr std::array<int, 12> kOffsets = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  int year = date.month < 3 ? date.year - 1 : date.year;
  return (year + year / 4 - year / 100 + year / 400 + kOffsets[date.month - 1] + date.day) % 7;
}

// Parses exactly the digits of TEXT, with between MIN_DIGITS and MAX_DIGITS.
std::optional<int> parseDigits(std::string_view text, size_t min_digits, size_t max_digits) {
  if (text.size() < min_digits || text.size() > max_digits) {
    return std::nullopt;
  }
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.front() == '-' ||
      text.front() == '+') {
    return std::nullopt;
  }
  return value;
}

std::optional<CalendarDate> makeDate(std::optional<int> year, std::optional<int> month,
                                     std::optional<int> day) {
  if (!year || !month || !day || *month < 1 || *month > 12 || *day < 1 ||
      *day > daysInMonth(*year, *month)) {
    return std::nullopt;
  }
  return CalendarDate{*year, *month, *day};
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string padded(int value, size_t width) {
  std::string digits = std::to_string(value);
  while (digits.size() < width) {
    digits.insert(digits.begin(), '0');
  }
  return digits;
}

// Splits FORMAT into runs of one repeated letter, quoted literals and other
// characters, and calls EXPAND(letter, count, out) for each run of letters.
// EXPAND returns false when the run is no token.
template <typename Expand>
Result<std::string> expandFormat(std::string_view format, Expand expand) {
  std::string out;
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c == '\'') {
      size_t close = format.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return Status::invalidArgument("unclosed quote in format '" + std::string(format) + "'");
      }
      out += format.substr(i + 1, close - i - 1);
      i = close + 1;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      out += c;
      ++i;
      continue;
    }
    size_t run = format.find_first_not_of(c, i);
    size_t count = (run == std::string_view::npos ? format.size() : run) - i;
    if (!expand(c, count, out)) {
      return Status::invalidArgument("unknown token '" + std::string(count, c) + "' in format '" +
                                     std::string(format) + "'; put literal text in single quotes");
    }
    i += count;
  }
  return out;
}

}  // namespace

std::optional<CalendarDate> parseDate(std::string_view text) {
  std::string value = trimmed(text);
  std::string_view view = value;
  if (view.size() == 10 && view[4] == '-' && view[7] == '-') {
    return makeDate(parseDigits(view.substr(0, 4), 4, 4), parseDigits(view.substr(5, 2), 2, 2),
                    parseDigits(view.substr(8, 2), 2, 2));
  }

  // Day-first: dd.mm.yyyy or dd/mm/yyyy, as European spreadsheets write them.
  size_t first = view.find_first_of("./");
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  size_t second = view.find(view[first], first + 1);
  if (second == std::string_view::npos) {
    return std::nullopt;
  }
  return makeDate(parseDigits(view.substr(second + 1), 4, 4),
                  parseDigits(view.substr(first + 1, second - first - 1), 1, 2),
                  parseDigits(view.substr(0, first), 1, 2));
}

std::optional<TimeOfDay> parseTime(std::string_view text) {
  std::string value = trimmed(text);
  std::string_view view = value;

  // A trailing AM or PM switches to the 12-hour clock.
  int meridiem = 0;  // 0: none, 1: AM, 2: PM
  if (view.size() > 2) {
    std::string suffix = {static_cast<char>(std::toupper(view[view.size() - 2])),
                          static_cast<char>(std::toupper(view.back()))};
    if (suffix == "AM" || suffix == "PM") {
      meridiem = suffix == "AM" ? 1 : 2;
      value = trimmed(view.substr(0, view.size() - 2));
      view = value;
    }
  }

  size_t colon = view.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  size_t colon2 = view.find(':', colon + 1);
  std::optional<int> hour = parseDigits(view.substr(0, colon), 1, 2);
  std::optional<int> minute = parseDigits(view.substr(colon + 1, colon2 - colon - 1), 2, 2);
  std::optional<int> second =
      colon2 == std::string_view::npos ? 0 : parseDigits(view.substr(colon2 + 1), 2, 2);
  if (!hour || !minute || !second || *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  if (meridiem != 0) {
    if (*hour < 1 || *hour > 12) {
      return std::nullopt;
    }
    *hour = *hour % 12 + (meridiem == 2 ? 12 : 0);
  }
  if (*hour > 23) {
    return std::nullopt;
  }
  return TimeOfDay{*hour, *minute, *second};
}

Result<std::string> formatDate(const CalendarDate& date, std::string_view format) {
  return expandFormat(format, [&](char letter, size_t count, std::string& out) {
    std::string_view day_name = kDayNames[dayOfWeek(date)];
    std::string_view month_name = kMonthNames[date.month - 1];
    if (letter == 'd' && count <= 2) {
      out += padded(date.day, count);
    } else if (letter == 'd' && count == 3) {
      out += day_name.substr(0, 3);
    } else if (letter == 'd' && count == 4) {
      out += day_name;
    } else if (letter == 'M' && count <= 2) {
      out += padded(date.month, count);
    } else if (letter == 'M' && count == 3) {
      out += month_name.substr(0, 3);
    } else if (letter == 'M' && count == 4) {
      out += month_name;
    } else if (letter == 'y' && count == 2) {
      out += padded(date.year % 100, 2);
    } else if (letter == 'y' && count == 4) {
      out += padded(date.year, 4);
    } else {
      return false;
    }
    return true;
  });
}

Result<std::string> formatTime(const TimeOfDay& time, std::string_view format) {
  return expandFormat(format, [&](char letter, size_t count, std::string& out) {
    int hour12 = time.hour % 12 == 0 ? 12 : time.hour % 12;
    if (count > 2) {
      return false;
    }
    if (letter == 'H') {
      out += padded(time.hour, count);
    } else if (letter == 'h') {
      out += padded(hour12, count);
    } else if (letter == 'm') {
      out += padded(time.minute, count);
    } else if (letter == 's') {
      out += padded(time.second, count);
    } else if (letter == 't' && count == 2) {
      out += time.hour < 12 ? "AM" : "PM";
    } else {
      return false;
    }
    return true;
  });
}

}  // namespace smmhub::templates
