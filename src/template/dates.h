// Dates and times in data rows, and the date: and time: filters.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::templates {

struct CalendarDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

struct TimeOfDay {
  int hour = 0;  // 0..23
  int minute = 0;
  int second = 0;
};

// Parses an ISO date (yyyy-mm-dd) or a day-first date (dd.mm.yyyy or
// dd/mm/yyyy, day and month with one or two digits). Returns nullopt unless
// the text is one of these forms and a real calendar day.
std::optional<CalendarDate> parseDate(std::string_view text);

// Parses H:mm or H:mm:ss (24-hour clock), or h:mm with AM or PM.
std::optional<TimeOfDay> parseTime(std::string_view text);

// Formats DATE with the tokens d dd ddd dddd M MM MMM MMMM yy yyyy (English
// day and month names). Other characters are copied; text in single quotes
// is copied without its quotes. Returns invalidArgument on a run of letters
// that is no token ("ddddd", "Y").
Result<std::string> formatDate(const CalendarDate& date, std::string_view format);

// Formats TIME with the tokens H HH h hh m mm s ss tt (AM or PM), with the
// same quoting rule as formatDate().
Result<std::string> formatTime(const TimeOfDay& time, std::string_view format);

}  // namespace smmhub::templates
