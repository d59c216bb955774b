#include "domain/rate_schedule.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace foodpipe::domain {
namespace {

__extension__ using Uint128 = unsigned __int128; // GCC and Clang; exact products up to 2^128

// Nanoseconds per second times micro-messages per message.
constexpr Uint128 k_scale = 1'000'000'000'000'000ULL;

std::uint64_t to_micro_rate(double rate_per_s) {
  if (std::isnan(rate_per_s) || rate_per_s < 0 || rate_per_s > RateSchedule::k_max_rate) {
    throw std::invalid_argument("rate must be between 0 (unlimited) and 1e9 messages per second");
  }
  const auto micro = static_cast<std::uint64_t>(std::llround(rate_per_s * 1e6));
  if (micro == 0 && rate_per_s > 0) {
    throw std::invalid_argument("rate is too small: below one message per 2 x 10^6 seconds");
  }
  return micro;
}

} // namespace

RateSchedule::RateSchedule(double rate_per_s, TimePoint start)
    : m_micro_rate(to_micro_rate(rate_per_s)), m_start(start) {}

double RateSchedule::rate_per_s() const noexcept {
  return static_cast<double>(m_micro_rate) / 1e6;
}

RateSchedule::TimePoint RateSchedule::due(std::uint64_t count) const noexcept {
  if (unlimited() || count == 0) {
    return m_start;
  }
  const Uint128 numerator = static_cast<Uint128>(count) * k_scale;
  const Uint128 nanoseconds = (numerator + m_micro_rate - 1) / m_micro_rate;
  const auto headroom = (TimePoint::max() - m_start).count();
  if (headroom < 0 || nanoseconds > static_cast<Uint128>(headroom)) {
    return TimePoint::max();
  }
  return m_start + std::chrono::nanoseconds(static_cast<std::int64_t>(nanoseconds));
}

std::uint64_t RateSchedule::sent_allowed(TimePoint now) const noexcept {
  if (unlimited()) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  if (now <= m_start) {
    return 0;
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - m_start).count();
  const Uint128 allowed = static_cast<Uint128>(elapsed) * m_micro_rate / k_scale;
  if (allowed > std::numeric_limits<std::uint64_t>::max()) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return static_cast<std::uint64_t>(allowed);
}

} // namespace foodpipe::domain
