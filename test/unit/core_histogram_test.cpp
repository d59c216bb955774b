#include <gtest/gtest.h>

#include "core/histogram.hpp"

namespace foodpipe {
namespace {

TEST(Histogram, EmptyIsZero) {
  const Histogram h;
  EXPECT_EQ(h.count(), 0U);
  EXPECT_EQ(h.percentile(0.99), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (int v = 1; v <= 10; ++v) {
    h.record(v);
  }
  EXPECT_EQ(h.percentile(0.5), 5);
  EXPECT_EQ(h.percentile(1.0), 10);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 5.5);
}

TEST(Histogram, LargeValuesWithinThreePercent) {
  Histogram h;
  for (int v = 1; v <= 100000; ++v) {
    h.record(v);
  }
  EXPECT_NEAR(static_cast<double>(h.percentile(0.50)), 50000.0, 50000 * 0.035);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 99000.0, 99000 * 0.035);
  EXPECT_EQ(h.percentile(1.0), 100000);
  EXPECT_EQ(h.max(), 100000);
}

TEST(Histogram, MergeAddsCounts) {
  Histogram a;
  Histogram b;
  a.record(10);
  b.record(1000);
  b.record(-5);
  a.merge(b);
  EXPECT_EQ(a.count(), 3U);
  EXPECT_EQ(a.min(), 0);
  EXPECT_EQ(a.max(), 1000);
}

} // namespace
} // namespace foodpipe
