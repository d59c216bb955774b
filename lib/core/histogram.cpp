#include "core/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace foodpipe {

// Values below k_sub_buckets map one-to-one; above, each power of two [2^e, 2^(e+1))
// is split into k_sub_buckets equal parts.
int Histogram::index_of(std::uint64_t value) noexcept {
  if (value < k_sub_buckets) {
    return static_cast<int>(value);
  }
  const int exponent = 63 - std::countl_zero(value); // >= k_sub_bits
  const int shift = exponent - k_sub_bits;
  const auto sub = static_cast<int>((value >> shift) & (k_sub_buckets - 1));
  return (shift + 1) * k_sub_buckets + sub;
}

std::uint64_t Histogram::upper_edge(int index) noexcept {
  if (index < k_sub_buckets) {
    return static_cast<std::uint64_t>(index);
  }
  const int shift = index / k_sub_buckets - 1;
  const auto sub = static_cast<std::uint64_t>(index % k_sub_buckets);
  const std::uint64_t low = (std::uint64_t{k_sub_buckets} + sub) << shift;
  return low + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record(std::int64_t value) noexcept {
  const std::int64_t v = std::max<std::int64_t>(value, 0);
  ++m_counts[static_cast<std::size_t>(index_of(static_cast<std::uint64_t>(v)))];
  if (m_count == 0 || v < m_min) {
    m_min = v;
  }
  m_max = std::max(m_max, v);
  ++m_count;
  m_sum += static_cast<long double>(v);
}

void Histogram::merge(const Histogram& other) noexcept {
  if (other.m_count == 0) {
    return;
  }
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    m_counts[i] += other.m_counts[i];
  }
  m_min = m_count == 0 ? other.m_min : std::min(m_min, other.m_min);
  m_max = std::max(m_max, other.m_max);
  m_count += other.m_count;
  m_sum += other.m_sum;
}

double Histogram::mean() const noexcept {
  return m_count == 0 ? 0.0 : static_cast<double>(m_sum / static_cast<long double>(m_count));
}

std::int64_t Histogram::percentile(double q) const noexcept {
  if (m_count == 0) {
    return 0;
  }
  const double clamped = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(m_count)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < m_counts.size(); ++i) {
    seen += m_counts[i];
    if (seen >= rank) {
      return std::min(static_cast<std::int64_t>(upper_edge(static_cast<int>(i))), m_max);
    }
  }
  return m_max;
}

} // namespace foodpipe
