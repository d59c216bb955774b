#include "domain/timestamp.hpp"

#include <cstdint>

namespace foodpipe::domain {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days
// (https://howardhinnant.github.io/date_algorithms.html): proleptic Gregorian
// calendar, day 0 = 1970-01-01, exact for every year we accept.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

constexpr Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

constexpr bool is_leap(std::int64_t y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned k_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29U : k_days[m - 1];
}

constexpr std::int64_t k_ms_per_day = 86'400'000;
constexpr std::int64_t k_min_ms = k_min_timestamp.time_since_epoch().count();
constexpr std::int64_t k_max_ms = k_max_timestamp.time_since_epoch().count();
static_assert(k_min_ms == days_from_civil(1, 1, 1) * k_ms_per_day);
static_assert(k_max_ms == days_from_civil(10000, 1, 1) * k_ms_per_day - 1);

char* put_digits(char* out, std::uint64_t value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// Reads exactly `width` digits at `pos`; false if any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t width, unsigned& value) noexcept {
  if (pos + width > text.size()) {
    return false;
  }
  value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return true;
}

} // namespace

char* format_timestamp(Timestamp time, char* out) noexcept {
  std::int64_t ms = time.time_since_epoch().count();
  ms = ms < k_min_ms ? k_min_ms : (ms > k_max_ms ? k_max_ms : ms);
  // Floor division so that instants before 1970 land on the right day.
  std::int64_t days = ms / k_ms_per_day;
  std::int64_t in_day = ms % k_ms_per_day;
  if (in_day < 0) {
    in_day += k_ms_per_day;
    --days;
  }
  const Civil civil = civil_from_days(days);
  const auto ms_of_day = static_cast<std::uint64_t>(in_day);
  out = put_digits(out, static_cast<std::uint64_t>(civil.year), 4);
  *out++ = '-';
  out = put_digits(out, civil.month, 2);
  *out++ = '-';
  out = put_digits(out, civil.day, 2);
  *out++ = 'T';
  out = put_digits(out, ms_of_day / 3'600'000, 2);
  *out++ = ':';
  out = put_digits(out, ms_of_day / 60'000 % 60, 2);
  *out++ = ':';
  out = put_digits(out, ms_of_day / 1000 % 60, 2);
  *out++ = '.';
  out = put_digits(out, ms_of_day % 1000, 3);
  *out++ = 'Z';
  return out;
}

void append_timestamp(Timestamp time, std::string& out) {
  char buffer[k_timestamp_text_size];
  out.append(buffer, format_timestamp(time, buffer));
}

std::string format_timestamp(Timestamp time) {
  std::string text;
  append_timestamp(time, text);
  return text;
}

std::string_view to_string(TimestampError error) noexcept {
  switch (error) {
  case TimestampError::syntax: return "syntax";
  case TimestampError::no_offset: return "no_offset";
  case TimestampError::no_such_time: return "no_such_time";
  case TimestampError::leap_second: return "leap_second";
  case TimestampError::long_fraction: return "long_fraction";
  case TimestampError::bad_offset: return "bad_offset";
  case TimestampError::out_of_range: return "out_of_range";
  }
  return "syntax";
}

std::optional<Timestamp> parse_timestamp(std::string_view text, TimestampError* error) noexcept {
  const auto fail = [error](TimestampError why) -> std::optional<Timestamp> {
    if (error != nullptr) {
      *error = why;
    }
    return std::nullopt;
  };
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  // "YYYY-MM-DDTHH:MM:SS" is fixed-width.
  if (!read_digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !read_digits(text, 11, 2, hour) ||
      text[13] != ':' || !read_digits(text, 14, 2, minute) || text[16] != ':' ||
      !read_digits(text, 17, 2, second)) {
    return fail(TimestampError::syntax);
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 60) {
    return fail(TimestampError::no_such_time);
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 3) {
        millis = millis * 10 + (text[pos] - '0');
      }
      ++pos;
    }
    const std::size_t count = pos - start;
    if (count == 0) {
      return fail(TimestampError::syntax);
    }
    if (count > 9) {
      return fail(TimestampError::long_fraction);
    }
    for (std::size_t i = count; i < 3; ++i) {
      millis *= 10;
    }
  }
  if (pos >= text.size()) {
    return fail(TimestampError::no_offset); // RFC 3339 requires one
  }
  std::int64_t offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    unsigned offset_hour = 0;
    unsigned offset_minute = 0;
    if (!read_digits(text, pos + 1, 2, offset_hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_digits(text, pos + 4, 2, offset_minute)) {
      return fail(TimestampError::syntax);
    }
    if (offset_hour > 23 || offset_minute > 59) {
      return fail(TimestampError::bad_offset);
    }
    offset_minutes = static_cast<std::int64_t>(offset_hour * 60 + offset_minute);
    if (text[pos] == '-') {
      offset_minutes = -offset_minutes;
    }
    pos += 6;
  } else {
    return fail(TimestampError::syntax);
  }
  if (pos != text.size()) {
    return fail(TimestampError::syntax);
  }
  // Checked after the whole text: a leap second in a malformed text is a syntax error.
  if (second == 60) {
    return fail(TimestampError::leap_second);
  }
  const std::int64_t local_ms = days_from_civil(year, month, day) * k_ms_per_day +
                                static_cast<std::int64_t>(hour * 3600 + minute * 60 + second) * 1000 + millis;
  // Local time = UTC + offset.
  const std::int64_t utc_ms = local_ms - offset_minutes * 60'000;
  if (utc_ms < k_min_ms || utc_ms > k_max_ms) {
    return fail(TimestampError::out_of_range); // year 0000, or an offset that crosses a bound
  }
  return Timestamp(std::chrono::milliseconds(utc_ms));
}

} // namespace foodpipe::domain
