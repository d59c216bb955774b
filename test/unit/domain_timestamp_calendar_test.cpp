// The calendar under format_timestamp() and parse_timestamp(), checked day by
// day over the whole accepted range (0001-01-01 to 9999-12-31) against a
// calendar kept by this test alone: it steps through the days one at a time,
// knowing only month lengths and the leap-year rule. <chrono> must agree with
// the walk on every day, and the hand-written text layer on top of it must
// write and read each day's text exactly.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "domain/timestamp.hpp"

namespace foodpipe::domain {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr bool walk_is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

constexpr unsigned walk_month_length(int year, unsigned month) {
  constexpr unsigned k_lengths[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && walk_is_leap(year) ? 29U : k_lengths[month - 1];
}

void put(std::string& text, std::size_t at, unsigned value, std::size_t width) {
  for (std::size_t i = width; i-- > 0;) {
    text[at + i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" from its parts, written without the code under test.
std::string text_of(int year, unsigned month, unsigned day, unsigned hour, unsigned minute, unsigned second,
                    unsigned millis) {
  std::string text = "0000-00-00T00:00:00.000Z";
  put(text, 0, static_cast<unsigned>(year), 4);
  put(text, 5, month, 2);
  put(text, 8, day, 2);
  put(text, 11, hour, 2);
  put(text, 14, minute, 2);
  put(text, 17, second, 2);
  put(text, 20, millis, 3);
  return text;
}

Timestamp at_day(std::int64_t day_number, std::int64_t ms_of_day) {
  return Timestamp(std::chrono::milliseconds(day_number * 86'400'000 + ms_of_day));
}

TEST(TimestampCalendar, KnownDayNumbers) {
  // Days since 1970-01-01, as a proleptic Gregorian calendar counts them.
  const struct {
    const char* text;
    std::int64_t day_number;
  } cases[] = {
      {"0001-01-01T00:00:00Z", -719'162}, {"1600-02-29T00:00:00Z", -135'081},
      {"1969-12-31T00:00:00Z", -1},       {"1970-01-01T00:00:00Z", 0},
      {"2000-02-29T00:00:00Z", 11'016},   {"2000-03-01T00:00:00Z", 11'017},
      {"2400-02-29T00:00:00Z", 157'113},  {"9999-12-31T00:00:00Z", 2'932'896},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_timestamp(c.text), at_day(c.day_number, 0)) << c.text;
    EXPECT_EQ(format_timestamp(at_day(c.day_number, 0)).substr(0, 10), std::string_view(c.text).substr(0, 10))
        << c.day_number;
  }
}

TEST(TimestampCalendar, EveryDayFromYearOneToNineThousandNineHundredNinetyNine) {
  int year = 1;
  unsigned month = 1;
  unsigned day = 1;
  std::int64_t day_number = -719'162; // 0001-01-01
  std::int64_t walked = 0;
  for (;;) {
    // Another time of day each day, so every hour, minute, second and millisecond comes up.
    const auto hour = static_cast<unsigned>(walked % 24);
    const auto minute = static_cast<unsigned>(walked / 24 % 60);
    const auto second = static_cast<unsigned>(walked / 7 % 60);
    const auto millis = static_cast<unsigned>(walked * 37 % 1000);
    const std::int64_t ms_of_day = ((hour * 60 + minute) * 60 + second) * 1000LL + millis;
    const Timestamp instant = at_day(day_number, ms_of_day);
    const std::string expected = text_of(year, month, day, hour, minute, second, millis);

    const year_month_day date{sys_days{days{day_number}}};
    if (date != year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}) {
      FAIL() << "<chrono> disagrees with the walk on day " << day_number << " (" << expected << ")";
    }
    if (format_timestamp(instant) != expected) {
      FAIL() << "format_timestamp(" << day_number << " days + " << ms_of_day << " ms) = "
             << format_timestamp(instant) << ", expected " << expected;
    }
    if (parse_timestamp(expected) != instant) {
      FAIL() << "parse_timestamp(\"" << expected << "\") is not day " << day_number << " + " << ms_of_day
             << " ms";
    }
    ++walked;
    if (year == 9999 && month == 12 && day == 31) {
      break;
    }
    ++day_number;
    if (++day > walk_month_length(year, month)) {
      day = 1;
      if (++month > 12) {
        month = 1;
        ++year;
      }
    }
  }
  EXPECT_EQ(walked, 3'652'059);
  EXPECT_EQ(day_number, 2'932'896);
}

TEST(TimestampCalendar, TheDayAfterTheLastOfEveryMonthDoesNotExist) {
  for (int year = 1; year <= 9999; ++year) {
    for (unsigned month = 1; month <= 12; ++month) {
      const unsigned last = walk_month_length(year, month);
      const std::string last_day = text_of(year, month, last, 12, 0, 0, 0);
      const std::string day_after = text_of(year, month, last + 1, 12, 0, 0, 0);
      if (!parse_timestamp(last_day)) {
        FAIL() << last_day << " should parse";
      }
      TimestampError error{};
      if (parse_timestamp(day_after, &error) || error != TimestampError::no_such_time) {
        FAIL() << day_after << " should be refused as no_such_time";
      }
    }
  }
}

TEST(TimestampCalendar, MonthAndDayZeroOrTooLargeDoNotExist) {
  for (const char* text : {"2026-00-10T00:00:00Z", "2026-13-10T00:00:00Z", "2026-99-10T00:00:00Z",
                           "2026-01-00T00:00:00Z", "2026-01-99T00:00:00Z", "2024-02-30T00:00:00Z"}) {
    TimestampError error{};
    EXPECT_FALSE(parse_timestamp(text, &error).has_value()) << text;
    EXPECT_EQ(error, TimestampError::no_such_time) << text;
  }
}

} // namespace
} // namespace foodpipe::domain
