#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "domain/random.hpp"

namespace foodpipe::domain {
namespace {

// Published vectors: the first outputs of the reference splitmix64.c seeded
// with 0, and of xoshiro256starstar.c from the state {1, 2, 3, 4} (the vector
// the rand_xoshiro crate checks too).
TEST(SplitMix64, MatchesTheReferenceImplementation) {
  SplitMix64 generator(0);
  EXPECT_EQ(generator.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(generator.next(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(generator.next(), 0x06C45D188009454FULL);
}

TEST(Xoshiro256StarStar, MatchesTheReferenceImplementation) {
  Xoshiro256StarStar generator(Xoshiro256StarStar::State{1, 2, 3, 4});
  const std::uint64_t expected[] = {11520ULL,
                                    0ULL,
                                    1509978240ULL,
                                    1215971899390074240ULL,
                                    1216172134540287360ULL,
                                    607988272756665600ULL,
                                    16172922978634559625ULL,
                                    8476171486693032832ULL,
                                    10595114339597558777ULL,
                                    2904607092377533576ULL};
  for (const std::uint64_t value : expected) {
    EXPECT_EQ(generator.next(), value);
  }
}

TEST(Xoshiro256StarStar, SeedsItsStateWithSplitMix64) {
  SplitMix64 expander(42);
  const Xoshiro256StarStar generator(42);
  for (const std::uint64_t word : generator.state()) {
    EXPECT_EQ(word, expander.next());
  }
  // Seed 42 as other xoshiro256** ports that seed through SplitMix64 give it.
  Xoshiro256StarStar seeded(42);
  EXPECT_EQ(seeded.next(), 1546998764402558742ULL);
  EXPECT_EQ(seeded.next(), 6990951692964543102ULL);
  EXPECT_EQ(seeded.next(), 12544586762248559009ULL);
}

TEST(Xoshiro256StarStar, Next32IsTheUpperHalf) {
  Xoshiro256StarStar a(7);
  Xoshiro256StarStar b(7);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.next_u32(), static_cast<std::uint32_t>(b.next() >> 32));
  }
}

// A draw source that replays chosen 32-bit values.
struct Replay {
  std::vector<std::uint32_t> values;
  std::size_t used = 0;
  std::uint32_t operator()() { return values.at(used++); }
};

TEST(Lemire, MapsADrawByMultiplyAndShift) {
  // floor(x * bound / 2^32) when no rejection is needed: 0x80000001 x 100 has
  // low word 100 >= bound, so no threshold is even computed.
  Replay replay{{0x80000001U}};
  EXPECT_EQ(lemire_bounded(100, replay), 50U);
  EXPECT_EQ(replay.used, 1U);
  Replay top{{0xFFFFFFFFU}};
  EXPECT_EQ(lemire_bounded(100, top), 99U);
}

TEST(Lemire, RedrawsInTheBiasedLowRegion) {
  // bound 100: 2^32 mod 100 = 96. x = 0x80000000 gives low word 0 < 96: rejected.
  Replay half{{0x80000000U, 0x80000001U}};
  EXPECT_EQ(lemire_bounded(100, half), 50U);
  EXPECT_EQ(half.used, 2U);
}

TEST(Lemire, RejectsTheBiasedLowRegion) {
  // bound 3: 2^32 mod 3 = 1, so a draw whose low product word is 0 is redrawn.
  Replay replay{{0U, 0xAAAAAAABU}};
  // x = 0 -> product 0, low 0 < threshold 1: rejected.
  // x = 0xAAAAAAAB -> product 0x2_0000_0001, low 1: accepted, result 2.
  EXPECT_EQ(lemire_bounded(3, replay), 2U);
  EXPECT_EQ(replay.used, 2U);
}

TEST(Lemire, BoundOneAlwaysYieldsZeroWithOneDraw) {
  Replay replay{{12345U}};
  EXPECT_EQ(lemire_bounded(1, replay), 0U);
  EXPECT_EQ(replay.used, 1U);
}

TEST(Lemire, RejectsExactlyTwoToThe32ModBoundLowValues) {
  // bound 7: 2^32 mod 7 = 4. Draws 0..k are accepted or rejected only by the
  // low word of x * 7, so x = 0 (low 0) is rejected and the replay moves on,
  // while x = 1 (low 7 >= 4) is accepted at once.
  Replay zero_then_one{{0U, 1U}};
  EXPECT_EQ(lemire_bounded(7, zero_then_one), 0U);
  EXPECT_EQ(zero_then_one.used, 2U);
  // x = 0x24924925: x * 7 = 0x1_0000_0003, low 3 < 4: rejected.
  // x = 0x24924926: x * 7 = 0x1_000_000A, low 10: accepted, output 1.
  Replay near_boundary{{0x24924925U, 0x24924926U}};
  EXPECT_EQ(lemire_bounded(7, near_boundary), 1U);
  EXPECT_EQ(near_boundary.used, 2U);
}

TEST(Xoshiro256StarStar, BoundedStaysInRangeAndCoversIt) {
  Xoshiro256StarStar generator(2024);
  for (const std::uint32_t bound : {1U, 2U, 3U, 5U, 20U, 100U, 1000U, 0x80000001U}) {
    std::uint32_t low = bound;
    std::uint32_t high = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::uint32_t value = generator.bounded(bound);
      ASSERT_LT(value, bound);
      low = std::min(low, value);
      high = std::max(high, value);
    }
    if (bound <= 100) {
      EXPECT_EQ(low, 0U) << bound;
      EXPECT_EQ(high, bound - 1) << bound;
    }
  }
}

TEST(Xoshiro256StarStar, BoundedIsRoughlyUniform) {
  // Chi-squared over 100 cells with 99 degrees of freedom: 99.9th percentile ~ 148.
  Xoshiro256StarStar generator(42);
  constexpr int k_cells = 100;
  constexpr int k_draws = 1'000'000;
  std::array<int, k_cells> counts{};
  for (int i = 0; i < k_draws; ++i) {
    ++counts[generator.bounded(k_cells)];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(k_draws) / k_cells;
  for (const int count : counts) {
    chi2 += (count - expected) * (count - expected) / expected;
  }
  EXPECT_LT(chi2, 148.0);
}

} // namespace
} // namespace foodpipe::domain
