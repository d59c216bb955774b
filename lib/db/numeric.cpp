#include "db/numeric.hpp"

#include <limits>

namespace foodpipe::db {

std::string cents_to_numeric(std::int64_t cents) {
  // Through the unsigned magnitude so that INT64_MIN does not overflow.
  const bool negative = cents < 0;
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(cents) + 1U : static_cast<std::uint64_t>(cents);
  const std::uint64_t fraction = magnitude % 100U;
  std::string text = negative ? "-" : "";
  text += std::to_string(magnitude / 100U);
  text += '.';
  text += static_cast<char>('0' + fraction / 10U);
  text += static_cast<char>('0' + fraction % 10U);
  return text;
}

std::optional<std::int64_t> numeric_to_cents(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view decimals = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || decimals.size() > 2 || (dot != std::string_view::npos && decimals.empty())) {
    return std::nullopt;
  }
  constexpr std::int64_t k_max_units = std::numeric_limits<std::int64_t>::max() / 100 - 1;
  std::int64_t units = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9' || units > k_max_units / 10) {
      return std::nullopt;
    }
    units = units * 10 + (c - '0');
  }
  std::int64_t fraction = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const char c = i < decimals.size() ? decimals[i] : '0';
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    fraction = fraction * 10 + (c - '0');
  }
  const std::int64_t cents = units * 100 + fraction;
  return negative ? -cents : cents;
}

} // namespace foodpipe::db
