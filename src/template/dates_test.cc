#include "template/dates.h"

#include <gtest/gtest.h>

namespace smmhub::templates {
namespace {

TEST(DatesTest, IsoAndDayFirstDatesParse) {
  std::optional<CalendarDate> iso = parseDate("2024-08-17");
  std::optional<CalendarDate> dotted = parseDate("04.10.2025");
  std::optional<CalendarDate> slashed = parseDate("5/10/2025");

  ASSERT_TRUE(iso.has_value());
  ASSERT_TRUE(dotted.has_value());
  ASSERT_TRUE(slashed.has_value());
  EXPECT_EQ(iso->day, 17);
  EXPECT_EQ(dotted->day, 4);
  EXPECT_EQ(dotted->month, 10);
  EXPECT_EQ(slashed->day, 5);
  EXPECT_FALSE(parseDate("2025-02-29"));
  EXPECT_FALSE(parseDate("31.04.2025"));
  EXPECT_FALSE(parseDate("tomorrow"));
}

TEST(DatesTest, DateFormatTokens) {
  CalendarDate date{2024, 8, 17};

  EXPECT_EQ(*formatDate(date, "ddd d MMM yyyy"), "Sat 17 Aug 2024");
  EXPECT_EQ(*formatDate(date, "dddd, dd.MM.yy"), "Saturday, 17.08.24");
  EXPECT_EQ(*formatDate(date, "MMMM 'the' d"), "August the 17");
  EXPECT_FALSE(formatDate(date, "YYYY").ok());
}

TEST(DatesTest, TimeFormatTokens) {
  std::optional<TimeOfDay> time = parseTime("15:00");

  ASSERT_TRUE(time);
  EXPECT_EQ(*formatTime(*time, "h:mm tt"), "3:00 PM");
  EXPECT_EQ(*formatTime(*time, "HH:mm:ss"), "15:00:00");
  EXPECT_EQ(*formatTime(*parseTime("12:30 am"), "HH:mm"), "00:30");
  EXPECT_FALSE(parseTime("25:00"));
  EXPECT_FALSE(parseTime("15h00"));
}

}  // namespace
}  // namespace smmhub::templates
