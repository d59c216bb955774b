#pragma once

// Order timestamps: UTC instants with millisecond resolution, written as
// RFC 3339 / ISO-8601 "2026-11-28T07:30:00.123Z" and read from any reasonable
// RFC 3339 form. Pure arithmetic: no locale, no time zone database, no libc
// time functions, so the result never depends on the machine's settings. The
// calendar is <chrono>'s (year_month_day, sys_days); the text is read and
// written by hand, because both run once per message.
// All functions are thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace foodpipe::domain {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// The instants an order can carry: 0001-01-01T00:00:00.000Z through
// 9999-12-31T23:59:59.999Z, UTC. Four-digit years, and no year 0000: the
// proleptic Gregorian calendar has one, but PostgreSQL's timestamptz (which
// counts 1 BC, 1 AD) refuses it, so a year-0000 order would be a failed row.
inline constexpr Timestamp k_min_timestamp{std::chrono::milliseconds(-62'135'596'800'000)};
inline constexpr Timestamp k_max_timestamp{std::chrono::milliseconds(253'402'300'799'999)};

// The length of every text format_timestamp() writes.
inline constexpr std::size_t k_timestamp_text_size = 24;

// Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (always three fraction digits) into
// [out, out + k_timestamp_text_size) and returns the end. Instants outside
// [k_min_timestamp, k_max_timestamp] are clamped to the nearest end
// (parse_timestamp() never yields them).
char* format_timestamp(Timestamp time, char* out) noexcept;
void append_timestamp(Timestamp time, std::string& out);
[[nodiscard]] std::string format_timestamp(Timestamp time);

// Why a text is not an order's timestamp (see parse_timestamp).
enum class TimestampError : std::uint8_t {
  syntax,       // not the shape below: "2026-1-01T00:00:00Z", "1767323045678", "2026-11-28"
  no_offset,    // no 'Z' or offset after the time: "2026-11-28T07:30:00"
  no_such_time, // a date or time of day that does not exist: 2026-02-29, month 13, 24:00
  leap_second,  // second 60 (RFC 3339 allows it; an instant in milliseconds cannot hold it)
  long_fraction, // more than 9 fraction digits
  bad_offset,    // an offset beyond 23:59: "+24:00", "-01:60"
  out_of_range   // in UTC, before k_min_timestamp or after k_max_timestamp
};

// "syntax", "no_offset", ... (for log lines and tests).
[[nodiscard]] std::string_view to_string(TimestampError error) noexcept;

// Reads an RFC 3339 date-time:
//   YYYY-MM-DD ('T' | 't' | ' ') HH:MM:SS [ '.' 1*9DIGIT ] ( 'Z' | 'z' | ('+'|'-') HH:MM )
// Offsets are converted to UTC; fraction digits beyond milliseconds are
// truncated toward the past. Refuses impossible dates (2026-02-29), leap
// seconds (:60), a missing offset, an instant outside [k_min_timestamp,
// k_max_timestamp] once converted to UTC ("0000-06-01T00:00:00Z",
// "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"), and anything
// else. nullopt on failure, with the reason in `*error` when `error` is not null.
[[nodiscard]] std::optional<Timestamp> parse_timestamp(std::string_view text,
                                                       TimestampError* error = nullptr) noexcept;

} // namespace foodpipe::domain
