#pragma once

// A fixed-size latency histogram with log-linear buckets (like HdrHistogram
// with 2 significant digits... of binary precision): constant memory however
// many samples, percentiles within 1/k_sub_buckets relative error. Not
// thread-safe; merge() per-thread copies.

#include <array>
#include <cstdint>

namespace foodpipe {

class Histogram {
public:
  // Records a value (e.g. microseconds). Negative values count as 0.
  void record(std::int64_t value) noexcept;
  void merge(const Histogram& other) noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return m_count; }
  [[nodiscard]] std::int64_t max() const noexcept { return m_max; }
  [[nodiscard]] std::int64_t min() const noexcept { return m_count == 0 ? 0 : m_min; }
  [[nodiscard]] double mean() const noexcept;
  // The value at quantile q in [0, 1] (upper edge of its bucket, capped at max); 0 when empty.
  [[nodiscard]] std::int64_t percentile(double q) const noexcept;

private:
  static constexpr int k_sub_bits = 5; // 32 sub-buckets per power of two: ~3% precision
  static constexpr int k_sub_buckets = 1 << k_sub_bits;
  static constexpr int k_buckets = (64 - k_sub_bits) * k_sub_buckets + k_sub_buckets;

  static int index_of(std::uint64_t value) noexcept;
  static std::uint64_t upper_edge(int index) noexcept;

  std::array<std::uint64_t, k_buckets> m_counts{};
  std::uint64_t m_count = 0;
  long double m_sum = 0;
  std::int64_t m_min = 0;
  std::int64_t m_max = 0;
};

} // namespace foodpipe
