// The arithmetic of `foodpipe offsets`: Kafka's clamping rule and a shift that
// cannot wrap around.

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "pipeline/offsets.hpp"

namespace foodpipe::pipeline {
namespace {

constexpr auto k_max = std::numeric_limits<std::int64_t>::max();
constexpr auto k_min = std::numeric_limits<std::int64_t>::min();

TEST(OffsetsClamp, InsideTheLogIsKept) {
  EXPECT_EQ(clamp_to_log(150, 100, 300).offset, 150);
  EXPECT_FALSE(clamp_to_log(150, 100, 300).clamped);
  EXPECT_FALSE(clamp_to_log(100, 100, 300).clamped) << "the log start itself is inside";
  EXPECT_FALSE(clamp_to_log(300, 100, 300).clamped) << "the log end itself is inside (caught up)";
}

TEST(OffsetsClamp, AboveTheEndIsTheEndBelowTheStartIsTheStart) {
  EXPECT_EQ(clamp_to_log(301, 100, 300).offset, 300);
  EXPECT_TRUE(clamp_to_log(301, 100, 300).clamped);
  EXPECT_EQ(clamp_to_log(99, 100, 300).offset, 100);
  EXPECT_TRUE(clamp_to_log(99, 100, 300).clamped);
  EXPECT_EQ(clamp_to_log(k_min, 0, 0).offset, 0);
  EXPECT_EQ(clamp_to_log(k_max, 0, 0).offset, 0);
}

TEST(OffsetsShift, AddsEitherSignAndSaturates) {
  EXPECT_EQ(shift_offset(120, -20), 100);
  EXPECT_EQ(shift_offset(120, 5), 125);
  EXPECT_EQ(shift_offset(k_max - 1, 10), k_max);
  EXPECT_EQ(shift_offset(0, k_min), k_min);
  EXPECT_EQ(clamp_to_log(shift_offset(5, k_min), 0, 10).offset, 0) << "a huge negative shift is the log start";
}

} // namespace
} // namespace foodpipe::pipeline
