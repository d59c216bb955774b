#pragma once

// Strict, bounded parsing of numeric option values. Boost.ProgramOptions would
// accept "-1" for an unsigned option (lexical_cast wraps it) and a huge double
// would overflow on its way to an integer, so counts, rates and durations are
// taken as text and parsed here against a range; anything off is a UsageError
// (exit 2) of one line naming what the user wrote (the flag, the environment
// variable or the --config line), the value and the range allowed.

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "core/defaults.hpp"

namespace foodpipe::app {

// The longest duration any option accepts (--duration, --idle-timeout,
// --metrics-linger): 365 days. Far beyond any sensible run, far below what a
// steady_clock time point can add without overflowing.
inline constexpr std::chrono::milliseconds k_max_duration{365LL * 24 * 3600 * 1000};
// The longest wait for a service (--connect-timeout, --flush-timeout, doctor's
// --timeout): one day. librdkafka takes timeouts as int milliseconds.
inline constexpr std::chrono::milliseconds k_max_timeout{24LL * 3600 * 1000};

// Where an option's value was written.
struct Origin {
  enum class Kind { command_line, environment, config_file, default_value };
  Kind kind = Kind::command_line;
  std::string where; // the environment variable, or the --config file's path
};

// An option's value as written, for parsing and for messages.
struct OptionValue {
  std::string name; // without dashes: "rate"
  std::string text;
  Origin origin;

  // What the user wrote, for the start of an error message: "--rate 2e9",
  // "PRODUCER_RATE=2e9 (--rate)", "rate = 2e9 in app.conf (--rate)".
  // Control characters are shown escaped and a long value is cut, so the
  // message stays one line.
  [[nodiscard]] std::string describe() const;
};

struct CountRange {
  std::uint64_t min = 0;
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
};

struct NumberRange {
  double min = 0;
  double max = 0;
};

struct SecondsRange {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max = k_max_duration;
};

// --connect-timeout of every command: more than 0, at most k_max_timeout.
inline constexpr SecondsRange k_connect_timeout_range{std::chrono::milliseconds(1), k_max_timeout};
// Its default as --help shows it: whole seconds.
[[nodiscard]] inline std::string connect_timeout_default() {
  return std::to_string(defaults::k_connect_timeout.count());
}

// A whole number in range ("0", "1000000"; no sign, no fraction, no exponent).
[[nodiscard]] std::uint64_t parse_count(const OptionValue& value, CountRange range = {});
[[nodiscard]] std::uint64_t parse_count(const std::string& option, const std::string& text, CountRange range = {});

// A finite decimal number in range ("0", "50", "0.5", "1e3").
[[nodiscard]] double parse_number(const OptionValue& value, NumberRange range);

// A finite decimal number >= 0 ("0", "50", "0.5"), unbounded above.
[[nodiscard]] double parse_non_negative(const std::string& option, const std::string& text);

// A duration in seconds, fractions allowed ("0.5"), as whole milliseconds
// (rounded) in range. The range is checked before any conversion, so "1e16"
// is an error, not an overflow.
[[nodiscard]] std::chrono::milliseconds parse_seconds(const OptionValue& value, SecondsRange range = {});
[[nodiscard]] std::chrono::milliseconds parse_seconds(const std::string& option, const std::string& text,
                                                      SecondsRange range = {});

} // namespace foodpipe::app
