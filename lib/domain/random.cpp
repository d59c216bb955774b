#include "domain/random.hpp"

namespace foodpipe::domain {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << k) | (x >> (64 - k));
}

} // namespace

std::uint64_t SplitMix64::next() noexcept {
  std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Xoshiro256StarStar::Xoshiro256StarStar(std::uint64_t seed) noexcept : m_state{} {
  // SplitMix64 never yields four zero words in a row, so the state is valid.
  SplitMix64 expander(seed);
  for (auto& word : m_state) {
    word = expander.next();
  }
}

std::uint64_t Xoshiro256StarStar::next() noexcept {
  auto& s = m_state;
  const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
  const std::uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

std::uint32_t Xoshiro256StarStar::bounded(std::uint32_t bound) noexcept {
  return lemire_bounded(bound, [this] { return next_u32(); });
}

} // namespace foodpipe::domain
