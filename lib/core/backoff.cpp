#include "core/backoff.hpp"

#include <algorithm>

namespace foodpipe {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap)
    : m_initial(std::max(initial, std::chrono::milliseconds(1))), m_cap(std::max(cap, m_initial)),
      m_ceiling(m_initial), m_random(std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
  ++m_attempts;
  // Jitter spreads the retries of many consumers after a shared outage.
  const auto low = m_initial.count() / 2;
  std::uniform_int_distribution<std::int64_t> pick(low, std::max(low, static_cast<std::int64_t>(m_ceiling.count())));
  const std::chrono::milliseconds wait(pick(m_random));
  m_ceiling = std::min(m_ceiling * 2, m_cap);
  return wait;
}

void Backoff::reset() noexcept {
  m_ceiling = m_initial;
  m_attempts = 0;
}

} // namespace foodpipe
