#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

#include "domain/rate_schedule.hpp"

namespace foodpipe::domain {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;
using TimePoint = RateSchedule::TimePoint;

// A fake clock: any steady_clock time point; the schedule never reads a clock.
const TimePoint k_start = TimePoint{} + 1000h;

TEST(RateSchedule, FiftyPerSecondForSixtySecondsIsExactlyThreeThousand) {
  const RateSchedule schedule(50, k_start);
  EXPECT_EQ(schedule.sent_allowed(k_start + 60s), 3000U);
  EXPECT_EQ(schedule.sent_allowed(k_start + 60s - 1ns), 2999U);
  EXPECT_EQ(schedule.due(3000), k_start + 60s);
}

TEST(RateSchedule, NothingIsAllowedBeforeOrAtTheStart) {
  const RateSchedule schedule(50, k_start);
  EXPECT_EQ(schedule.sent_allowed(k_start - 1h), 0U);
  EXPECT_EQ(schedule.sent_allowed(k_start), 0U);
  EXPECT_EQ(schedule.due(0), k_start);
  EXPECT_EQ(schedule.due(1), k_start + 20ms);
}

TEST(RateSchedule, DueIsTheFirstInstantThatAllowsTheCount) {
  for (const double rate : {50.0, 3.0, 0.5, 1234.567, 7e6}) {
    const RateSchedule schedule(rate, k_start);
    for (const std::uint64_t n : {1ULL, 2ULL, 3ULL, 7ULL, 1000ULL, 999'999ULL, 10'000'000ULL}) {
      const TimePoint due = schedule.due(n);
      EXPECT_EQ(schedule.sent_allowed(due), n) << rate << " " << n;
      EXPECT_EQ(schedule.sent_allowed(due - 1ns), n - 1) << rate << " " << n;
    }
  }
}

TEST(RateSchedule, NoDriftOverTenMillionMessages) {
  // Rate 3/s has no exact binary or decimal period: message n is due at
  // exactly ceil(n * 10^9 / 3) ns, with no accumulated error however far out.
  const RateSchedule thirds(3, k_start);
  TimePoint previous = k_start;
  for (std::uint64_t n = 1; n <= 10'000'000; ++n) {
    const TimePoint due = thirds.due(n);
    ASSERT_EQ((due - k_start).count(), static_cast<std::int64_t>((n * 1'000'000'000ULL + 2) / 3)) << n;
    ASSERT_GE(due, previous);
    previous = due;
  }
  const RateSchedule fifty(50, k_start);
  EXPECT_EQ(fifty.due(10'000'000), k_start + 200'000s);
  EXPECT_EQ(fifty.sent_allowed(k_start + 200'000s), 10'000'000U);
}

TEST(RateSchedule, FractionalRates) {
  const RateSchedule half(0.5, k_start);
  EXPECT_EQ(half.due(1), k_start + 2s);
  EXPECT_EQ(half.sent_allowed(k_start + 59s), 29U);
  const RateSchedule odd(1234.567, k_start);
  EXPECT_EQ(odd.sent_allowed(k_start + 1000s), 1'234'567U);
  EXPECT_DOUBLE_EQ(odd.rate_per_s(), 1234.567);
}

TEST(RateSchedule, ZeroIsUnlimited) {
  const RateSchedule schedule(0, k_start);
  EXPECT_TRUE(schedule.unlimited());
  EXPECT_EQ(schedule.sent_allowed(k_start), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(schedule.sent_allowed(k_start - 1s), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(schedule.due(1'000'000'000), k_start);
  EXPECT_FALSE(RateSchedule(1, k_start).unlimited());
}

TEST(RateSchedule, SaturatesInsteadOfOverflowing) {
  const RateSchedule slow(0.000001, k_start);
  EXPECT_EQ(slow.due(std::numeric_limits<std::uint64_t>::max()), TimePoint::max());
  const RateSchedule fast(RateSchedule::k_max_rate, k_start);
  EXPECT_EQ(fast.sent_allowed(k_start + 1s), 1'000'000'000U);
  EXPECT_EQ(fast.due(1'000'000'000), k_start + 1s);
}

TEST(RateSchedule, RefusesImpossibleRates) {
  EXPECT_THROW(RateSchedule(-1, k_start), std::invalid_argument);
  EXPECT_THROW(RateSchedule(std::nan(""), k_start), std::invalid_argument);
  EXPECT_THROW(RateSchedule(std::numeric_limits<double>::infinity(), k_start), std::invalid_argument);
  EXPECT_THROW(RateSchedule(2e9, k_start), std::invalid_argument);
  EXPECT_THROW(RateSchedule(1e-9, k_start), std::invalid_argument);
}

} // namespace
} // namespace foodpipe::domain
