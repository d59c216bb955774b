#pragma once

// The mock generator's pseudo-random numbers, fully specified so that a seed
// gives the same orders with every compiler and standard library (unlike
// std::mt19937 + std::uniform_int_distribution, whose distributions differ).
//
//   SplitMix64    Steele, Lea, Flood, "Fast splittable pseudorandom number
//                 generators", OOPSLA 2014; reference code by S. Vigna,
//                 https://prng.di.unimi.it/splitmix64.c. Used only to expand a
//                 64-bit seed into xoshiro's 256-bit state, as its authors advise.
//   xoshiro256**  Blackman, Vigna, "Scrambled linear pseudorandom number
//                 generators", ACM TOMS 47(4), 2021; reference code
//                 https://prng.di.unimi.it/xoshiro256starstar.c.
//   bounded(n)    Lemire, "Fast random integer generation in an interval", ACM
//                 TOMACS 29(1), 2019 (arXiv:1805.10941): the nearly divisionless
//                 method with rejection, exactly unbiased, on 32-bit draws taken
//                 from the upper half of one xoshiro256** output each.
//
// Objects are not thread-safe; use one per thread.

#include <array>
#include <cstdint>

namespace foodpipe::domain {

class SplitMix64 {
public:
  explicit SplitMix64(std::uint64_t seed) noexcept : m_state(seed) {}

  // The next output; SplitMix64(0) yields 0xE220A8397B1DCDAF first.
  std::uint64_t next() noexcept;

private:
  std::uint64_t m_state;
};

class Xoshiro256StarStar {
public:
  using State = std::array<std::uint64_t, 4>;

  // State words s[0..3] are the first four outputs of SplitMix64(seed).
  explicit Xoshiro256StarStar(std::uint64_t seed) noexcept;
  // A state given word for word (must not be all zero), for test vectors.
  explicit Xoshiro256StarStar(const State& state) noexcept : m_state(state) {}

  std::uint64_t next() noexcept;

  // The upper 32 bits of next() (the better half of xoshiro256**'s output).
  std::uint32_t next_u32() noexcept { return static_cast<std::uint32_t>(next() >> 32); }

  // Uniform in [0, bound), bound >= 1, by Lemire's method on next_u32() draws;
  // consumes one draw, or more in the rare rejection case (probability below
  // bound / 2^32).
  std::uint32_t bounded(std::uint32_t bound) noexcept;

  [[nodiscard]] const State& state() const noexcept { return m_state; }

private:
  State m_state;
};

// Lemire's reduction of 32-bit draws from `draw` to [0, bound): the body of
// Xoshiro256StarStar::bounded, exposed so that tests can feed chosen draws.
template <typename Draw>
std::uint32_t lemire_bounded(std::uint32_t bound, Draw&& draw) {
  std::uint64_t product = static_cast<std::uint64_t>(draw()) * bound;
  auto low = static_cast<std::uint32_t>(product);
  if (low < bound) {
    // 2^32 mod bound, computed in 32 bits: the count of low values to reject.
    const std::uint32_t threshold = static_cast<std::uint32_t>(0U - bound) % bound;
    while (low < threshold) {
      product = static_cast<std::uint64_t>(draw()) * bound;
      low = static_cast<std::uint32_t>(product);
    }
  }
  return static_cast<std::uint32_t>(product >> 32);
}

} // namespace foodpipe::domain
