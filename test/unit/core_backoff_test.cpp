#include <gtest/gtest.h>

#include "core/backoff.hpp"

namespace foodpipe {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsThenStaysUnderTheCap) {
  Backoff backoff(milliseconds(100), milliseconds(1000));
  milliseconds ceiling(100);
  for (int i = 0; i < 20; ++i) {
    const auto wait = backoff.next();
    EXPECT_GE(wait, milliseconds(50));
    EXPECT_LE(wait, ceiling);
    ceiling = std::min(ceiling * 2, milliseconds(1000));
  }
  EXPECT_EQ(backoff.attempts(), 20);
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff(milliseconds(100), milliseconds(10000));
  for (int i = 0; i < 10; ++i) {
    (void)backoff.next();
  }
  backoff.reset();
  EXPECT_LE(backoff.next(), milliseconds(100));
  EXPECT_EQ(backoff.attempts(), 1);
}

} // namespace
} // namespace foodpipe
