#pragma once

// When the producer may send its next message at a steady rate: pure
// arithmetic over time points, no threads, no clock reads, so that tests drive
// it with a fake clock.
//
// A rate R (messages per second) is held exactly as an integer number of
// micro-messages per second, and every time is computed from `start` and the
// message count alone, in 128-bit integers: no accumulated rounding, so message
// 10^9 is exactly as punctual as message 10.
//
//   sent_allowed(now) = floor((now - start) x R)   messages by `now`
//   due(n)            = start + ceil(n / R)         the first instant at which n are allowed
//
// so a run of D seconds at R sends floor(D x R) messages: 50/s for 60 s is
// exactly 3000, the first one going at start + 1/R.
//
// A value type; const member functions are thread-safe.

#include <chrono>
#include <cstdint>

namespace foodpipe::domain {

class RateSchedule {
public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // The highest rate accepted: one message per nanosecond.
  static constexpr double k_max_rate = 1e9;

  // rate_per_s = 0 means unlimited. Otherwise the rate is rounded to a whole
  // number of micro-messages per second. Throws std::invalid_argument for a
  // negative, NaN or infinite rate, a positive rate that rounds to zero
  // (below 0.0000005/s), or one above k_max_rate.
  RateSchedule(double rate_per_s, TimePoint start);

  [[nodiscard]] bool unlimited() const noexcept { return m_micro_rate == 0; }
  [[nodiscard]] TimePoint start() const noexcept { return m_start; }
  // The rate as held (after rounding), 0 for unlimited.
  [[nodiscard]] double rate_per_s() const noexcept;

  // The earliest instant by which `count` messages may have been sent
  // (nanosecond resolution, rounded up). start() when unlimited or count = 0;
  // TimePoint::max() if it lies beyond what a TimePoint holds.
  [[nodiscard]] TimePoint due(std::uint64_t count) const noexcept;

  // How many messages may have been sent by `now`: 0 up to start(), then
  // floor(elapsed x rate); UINT64_MAX when unlimited.
  [[nodiscard]] std::uint64_t sent_allowed(TimePoint now) const noexcept;

private:
  std::uint64_t m_micro_rate; // messages per 10^6 seconds; 0 = unlimited
  TimePoint m_start;
};

} // namespace foodpipe::domain
