#include "domain/timestamp.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace foodpipe::domain {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

// The bounds are stated in milliseconds in the header; <chrono>'s calendar confirms they are the
// first instant of 0001-01-01 and the last of 9999-12-31.
static_assert(k_min_timestamp == sys_days{std::chrono::year{1} / 1 / 1});
static_assert(k_max_timestamp == sys_days{std::chrono::year{10000} / 1 / 1} - std::chrono::milliseconds{1});

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
  time = std::clamp(time, k_min_timestamp, k_max_timestamp);
  // floor, not a cast: an instant before 1970 belongs to the day that starts before it.
  const sys_days day = std::chrono::floor<days>(time);
  const year_month_day date{day};
  const auto ms_of_day = static_cast<std::uint64_t>((time - day).count());
  out = put_digits(out, static_cast<std::uint64_t>(static_cast<int>(date.year())), 4);
  *out++ = '-';
  out = put_digits(out, static_cast<unsigned>(date.month()), 2);
  *out++ = '-';
  out = put_digits(out, static_cast<unsigned>(date.day()), 2);
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
  // Two digits each, so month and day fit the unsigned char that <chrono> keeps them in.
  const year_month_day date{std::chrono::year{static_cast<int>(year)}, std::chrono::month{month},
                            std::chrono::day{day}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
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
  // The time of day in one sum rather than hours + minutes + seconds as durations, whose chain of
  // dependent conversions measured slower on this once-per-message path.
  const auto seconds_of_day = static_cast<std::int64_t>(hour * 3600 + minute * 60 + second);
  const std::chrono::milliseconds time_of_day{seconds_of_day * 1000 + millis};
  const Timestamp local = sys_days{date} + time_of_day;
  // Local time = UTC + offset.
  const Timestamp utc = local - std::chrono::minutes{offset_minutes};
  if (utc < k_min_timestamp || utc > k_max_timestamp) {
    return fail(TimestampError::out_of_range); // year 0000, or an offset that crosses a bound
  }
  return utc;
}

} // namespace foodpipe::domain
