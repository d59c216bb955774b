#pragma once

// Order timestamps: UTC instants with millisecond resolution, written as
// RFC 3339 / ISO-8601 "2026-11-28T07:30:00.123Z" and read from any reasonable
// RFC 3339 form. Pure arithmetic: no locale, no time zone database, no libc
// time functions, so the result never depends on the machine's settings.
// All functions are thread-safe.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace foodpipe::domain {

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

// The length of every text format_timestamp() writes for years 0000..9999.
inline constexpr std::size_t k_timestamp_text_size = 24;

// Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (always three fraction digits) into
// [out, out + k_timestamp_text_size) and returns the end. Years outside
// 0000..9999 cannot be represented and are clamped to the nearest end of that
// range (parse_timestamp() never yields them).
char* format_timestamp(Timestamp time, char* out) noexcept;
void append_timestamp(Timestamp time, std::string& out);
[[nodiscard]] std::string format_timestamp(Timestamp time);

// Reads an RFC 3339 date-time:
//   YYYY-MM-DD ('T' | 't' | ' ') HH:MM:SS [ '.' 1*9DIGIT ] ( 'Z' | 'z' | ('+'|'-') HH:MM )
// Offsets are converted to UTC; fraction digits beyond milliseconds are
// truncated toward the past. Refuses impossible dates (2026-02-29), leap
// seconds (:60), a missing offset, and anything else. nullopt on failure.
[[nodiscard]] std::optional<Timestamp> parse_timestamp(std::string_view text) noexcept;

} // namespace foodpipe::domain
