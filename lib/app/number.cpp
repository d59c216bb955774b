#include "app/number.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace foodpipe::app {
namespace {

constexpr std::size_t k_shown_chars = 40;

// The value as it may appear in a one-line message.
std::string shown(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == k_shown_chars) {
      return out + "...";
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// A decimal without trailing zeros: 0.001, 86400, 1000000000.
std::string decimal_text(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6f", value);
  std::string text = buffer;
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') {
    text.pop_back();
  }
  return text;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  constexpr std::int64_t k_day_ms = 24LL * 3600 * 1000;
  std::string text = decimal_text(static_cast<double>(ms.count()) / 1000.0);
  if (ms.count() >= k_day_ms && ms.count() % k_day_ms == 0) {
    const auto days = ms.count() / k_day_ms;
    text += days == 1 ? " (a day)" : " (" + std::to_string(days) + " days)";
  }
  return text;
}

bool parse_decimal(const std::string& text, double& value) {
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return !text.empty() && ec == std::errc() && ptr == end && std::isfinite(value);
}

} // namespace

std::string OptionValue::describe() const {
  const std::string flag = "--" + name;
  switch (origin.kind) {
  case Origin::Kind::environment:
    return origin.where + "=" + shown(text) + " (" + flag + ")";
  case Origin::Kind::config_file:
    return name + " = " + shown(text) + " in " + origin.where + " (" + flag + ")";
  case Origin::Kind::default_value:
    return flag + " " + shown(text) + " (the default)";
  case Origin::Kind::command_line:
    break;
  }
  return flag + " " + shown(text);
}

std::uint64_t parse_count(const OptionValue& value, CountRange range) {
  const auto& text = value.text;
  std::uint64_t number = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (text.empty() || ec != std::errc() || ptr != end || number < range.min || number > range.max) {
    std::string expected = "expected a whole number ";
    if (range.max == std::numeric_limits<std::uint64_t>::max()) {
      expected += ">= " + std::to_string(range.min);
    } else {
      expected += "from " + std::to_string(range.min) + " to " + std::to_string(range.max);
    }
    throw UsageError(value.describe() + ": " + expected);
  }
  return number;
}

std::uint64_t parse_count(const std::string& option, const std::string& text, CountRange range) {
  return parse_count(OptionValue{option, text, {}}, range);
}

double parse_number(const OptionValue& value, NumberRange range) {
  double number = 0;
  if (!parse_decimal(value.text, number) || number < range.min || number > range.max) {
    throw UsageError(value.describe() + ": expected a number from " + decimal_text(range.min) + " to " +
                     decimal_text(range.max));
  }
  return number;
}

double parse_non_negative(const std::string& option, const std::string& text) {
  double number = 0;
  if (!parse_decimal(text, number) || number < 0) {
    throw UsageError(OptionValue{option, text, {}}.describe() + ": expected a number >= 0");
  }
  return number;
}

std::chrono::milliseconds parse_seconds(const OptionValue& value, SecondsRange range) {
  double seconds = 0;
  const double max_seconds = static_cast<double>(range.max.count()) / 1000.0;
  // The bound is checked on the double, before it becomes an integer.
  if (parse_decimal(value.text, seconds) && seconds >= 0 && seconds <= max_seconds) {
    const std::chrono::milliseconds ms(std::llround(seconds * 1000.0));
    if (ms >= range.min && ms <= range.max) {
      return ms;
    }
  }
  throw UsageError(value.describe() + ": expected seconds from " + seconds_text(range.min) + " to " +
                   seconds_text(range.max));
}

std::chrono::milliseconds parse_seconds(const std::string& option, const std::string& text, SecondsRange range) {
  return parse_seconds(OptionValue{option, text, {}}, range);
}

} // namespace foodpipe::app
