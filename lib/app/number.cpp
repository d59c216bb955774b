#include "app/number.hpp"

#include <charconv>
#include <cmath>

#include "core/error.hpp"

namespace foodpipe::app {

std::uint64_t parse_count(const std::string& option, const std::string& text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError("--" + option + " " + text + ": expected a whole number >= 0");
  }
  return value;
}

double parse_non_negative(const std::string& option, const std::string& text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) || value < 0) {
    throw UsageError("--" + option + " " + text + ": expected a number >= 0");
  }
  return value;
}

std::chrono::milliseconds parse_seconds(const std::string& option, const std::string& text) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(parse_non_negative(option, text) * 1000.0));
}

} // namespace foodpipe::app
