#pragma once

// Exponential backoff with full jitter, capped: the waits between retries of
// something that failed for a reason that may pass (a database restart, a
// broker election). Not thread-safe.

#include <chrono>
#include <cstdint>
#include <random>

namespace foodpipe {

class Backoff {
public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap);

  // The wait before the next attempt: a random value in [initial/2, ceiling],
  // where the ceiling doubles with each call up to the cap.
  [[nodiscard]] std::chrono::milliseconds next();

  // After a success: the next failure starts from `initial` again.
  void reset() noexcept;

  [[nodiscard]] int attempts() const noexcept { return m_attempts; }

private:
  std::chrono::milliseconds m_initial;
  std::chrono::milliseconds m_cap;
  std::chrono::milliseconds m_ceiling;
  int m_attempts = 0;
  std::minstd_rand m_random;
};

} // namespace foodpipe
