// Which offsets replay, inspect --verify and inspect messages read, from a
// partition's log bounds and what was asked; and the time syntax of
// --from-time, --to-time and --to-datetime.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "pipeline/range_plan.hpp"

namespace foodpipe::pipeline {
namespace {

// The log of the examples holds offsets [100, 200).
const kafka::Watermarks k_log{100, 200};

ReplayStart from_offset(std::int64_t offset) { return {ReplayStart::Kind::offset, offset, 0}; }
ReplayStart from_time() { return {ReplayStart::Kind::time, 0, 1'700'000'000'000}; }
ReplayEnd to_offset(std::int64_t offset) { return {ReplayEnd::Kind::offset, offset, 0, 0}; }
ReplayEnd to_time() { return {ReplayEnd::Kind::time, 0, 1'700'000'000'000, 0}; }
ReplayEnd count(std::uint64_t n) { return {ReplayEnd::Kind::count, 0, 0, n}; }

// from, to and whether anything is gone, as one comparable value.
struct Planned {
  std::int64_t from;
  std::int64_t to;
  std::optional<std::pair<std::int64_t, std::int64_t>> gone;
  friend bool operator==(const Planned&, const Planned&) = default;
};

Planned planned(const ReplayStart& start, const ReplayEnd& end, std::int64_t start_by_time = 0,
                std::int64_t end_by_time = 0) {
  const auto plan = plan_replay_range(3, k_log, start, end, start_by_time, end_by_time);
  EXPECT_EQ(plan.range.partition, 3);
  Planned result{plan.range.from, plan.range.to, std::nullopt};
  if (plan.gone) {
    EXPECT_EQ(plan.gone->partition, 3);
    result.gone = std::make_pair(plan.gone->from, plan.gone->to);
  }
  return result;
}

void PrintTo(const Planned& p, std::ostream* out) {
  *out << "[" << p.from << ", " << p.to << ")";
  if (p.gone) {
    *out << " gone [" << p.gone->first << ", " << p.gone->second << ")";
  }
}

TEST(ReplayRangePlan, TheWholeLogByDefault) {
  EXPECT_EQ(planned({}, {}), (Planned{100, 200, std::nullopt}));
  EXPECT_EQ(plan_replay_range(3, k_log, {}, {}).range.count(), 100U);
}

TEST(ReplayRangePlan, AStartOffsetIsClampedToTheLog) {
  EXPECT_EQ(planned(from_offset(150), {}), (Planned{150, 200, std::nullopt}));
  EXPECT_EQ(planned(from_offset(100), {}), (Planned{100, 200, std::nullopt}));
  EXPECT_EQ(planned(from_offset(250), {}), (Planned{200, 200, std::nullopt})) << "past the end: nothing";
}

TEST(ReplayRangePlan, AStartBelowTheLogStartIsReportedGone) {
  EXPECT_EQ(planned(from_offset(40), {}), (Planned{100, 200, std::make_pair(40, 100)}));
  EXPECT_EQ(planned(from_offset(40), to_offset(70)), (Planned{100, 100, std::make_pair(40, 70)}))
      << "only what the end would have included";
  EXPECT_EQ(planned(from_offset(40), to_offset(30)), (Planned{100, 100, std::nullopt}))
      << "an end before the start asked for nothing";
  EXPECT_EQ(planned(from_offset(40), to_offset(150)), (Planned{100, 150, std::make_pair(40, 100)}));
  EXPECT_EQ(planned(from_offset(40), count(5)), (Planned{100, 105, std::make_pair(40, 100)}));
}

TEST(ReplayRangePlan, EndOffsetsAreExclusiveAndClampedToTheLogEnd) {
  EXPECT_EQ(planned(from_offset(120), to_offset(130)), (Planned{120, 130, std::nullopt}));
  EXPECT_EQ(planned(from_offset(120), to_offset(500)), (Planned{120, 200, std::nullopt}));
  EXPECT_EQ(planned(from_offset(120), to_offset(110)), (Planned{120, 120, std::nullopt})) << "end before start";
}

TEST(ReplayRangePlan, ACountIsPerPartitionAndStopsAtTheLogEnd) {
  EXPECT_EQ(planned(from_offset(120), count(10)), (Planned{120, 130, std::nullopt}));
  EXPECT_EQ(planned(from_offset(190), count(50)), (Planned{190, 200, std::nullopt}));
  EXPECT_EQ(planned({}, count(0)), (Planned{100, 100, std::nullopt}));
}

TEST(ReplayRangePlan, TimesUseTheOffsetsKafkaFoundForThem) {
  EXPECT_EQ(planned(from_time(), {}, 140), (Planned{140, 200, std::nullopt}));
  EXPECT_EQ(planned(from_time(), {}, 200), (Planned{200, 200, std::nullopt})) << "no message that late";
  EXPECT_EQ(planned(from_time(), {}, 20), (Planned{100, 200, std::nullopt})) << "clamped, not reported gone";
  EXPECT_EQ(planned(from_offset(110), to_time(), 0, 160), (Planned{110, 160, std::nullopt}));
  EXPECT_EQ(planned(from_time(), to_time(), 150, 140), (Planned{150, 150, std::nullopt}));
}

TEST(ReplayRangePlan, AnEmptyLogReadsNothing) {
  const auto plan = plan_replay_range(0, {500, 500}, from_offset(0), {});
  EXPECT_EQ(plan.range.from, 500);
  EXPECT_EQ(plan.range.to, 500);
  EXPECT_EQ(plan.range.count(), 0U);
  ASSERT_TRUE(plan.gone.has_value());
  EXPECT_EQ(plan.gone->from, 0);
  EXPECT_EQ(plan.gone->to, 500);
}

TEST(ReplayPartitions, AllOfTheTopicsByDefaultElseTheAskedOnesSortedOnce) {
  EXPECT_EQ(replay_partitions({0, 1, 2}, {}), (std::vector<std::int32_t>{0, 1, 2}));
  EXPECT_EQ(replay_partitions({0, 1, 2}, {2, 0, 2}), (std::vector<std::int32_t>{0, 2}));
  EXPECT_EQ(replay_partitions({0, 1, 2}, {7}), (std::vector<std::int32_t>{7})) << "existence is checked elsewhere";
  EXPECT_EQ(replay_partitions({}, {}), (std::vector<std::int32_t>{}));
}

TEST(VerifyRange, FromTheLogStartToTheStoredOffset) {
  const auto range = verify_range(2, k_log, 180);
  EXPECT_EQ(range.partition, 2);
  EXPECT_EQ(range.from, 100);
  EXPECT_EQ(range.to, 180);
}

TEST(VerifyRange, EmptyWhenTheLogStartsPastTheStoredOffset) {
  const auto range = verify_range(2, k_log, 60);
  EXPECT_EQ(range.from, 60);
  EXPECT_EQ(range.to, 60);
}

TEST(VerifyRange, AStoredOffsetPastTheLogEndIsKept) {
  const auto range = verify_range(2, k_log, 250);
  EXPECT_EQ(range.from, 100);
  EXPECT_EQ(range.to, 250) << "the reader reports [200, 250) as unread";
}

TEST(MessagesRange, FromAnOffsetToTheLogEnd) {
  const auto range = messages_range(1, 150, k_log);
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->partition, 1);
  EXPECT_EQ(range->from, 150);
  EXPECT_EQ(range->to, 200);
}

TEST(MessagesRange, BelowTheLogStartBeginsAtIt) {
  const auto range = messages_range(1, 0, k_log);
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->from, 100);
  EXPECT_EQ(range->to, 200);
}

TEST(MessagesRange, ANegativeOffsetCountsBackFromTheEnd) {
  const auto last_five = messages_range(1, -5, k_log);
  ASSERT_TRUE(last_five.has_value());
  EXPECT_EQ(last_five->from, 195);
  EXPECT_EQ(last_five->to, 200);
  const auto too_far = messages_range(1, -500, k_log);
  ASSERT_TRUE(too_far.has_value());
  EXPECT_EQ(too_far->from, 100) << "raised to the log start";
}

TEST(MessagesRange, NothingAtOrPastTheEnd) {
  EXPECT_EQ(messages_range(1, 200, k_log), std::nullopt);
  EXPECT_EQ(messages_range(1, 900, k_log), std::nullopt);
  EXPECT_EQ(messages_range(1, 0, {0, 0}), std::nullopt) << "an empty partition";
  EXPECT_EQ(messages_range(1, -3, {50, 50}), std::nullopt);
}

// 2026-01-02T03:04:05Z
constexpr std::int64_t k_instant_ms = 1'767'323'045'000;
const std::chrono::system_clock::time_point k_now{std::chrono::milliseconds(k_instant_ms)};

TEST(ReplayTime, RelativeTimesCountBackFromNow) {
  EXPECT_EQ(parse_replay_time("-45s", k_now), k_instant_ms - 45'000);
  EXPECT_EQ(parse_replay_time("-30m", k_now), k_instant_ms - 1'800'000);
  EXPECT_EQ(parse_replay_time("-1h", k_now), k_instant_ms - 3'600'000);
  EXPECT_EQ(parse_replay_time("-2d", k_now), k_instant_ms - 172'800'000);
  EXPECT_EQ(parse_replay_time("-0s", k_now), k_instant_ms);
}

TEST(ReplayTime, AbsoluteTimesWithOrWithoutAnOffset) {
  EXPECT_EQ(parse_replay_time("2026-01-02T03:04:05Z", k_now), k_instant_ms);
  EXPECT_EQ(parse_replay_time("2026-01-02T03:04:05", k_now), k_instant_ms) << "no offset: UTC";
  EXPECT_EQ(parse_replay_time("2026-01-02T04:04:05+01:00", k_now), k_instant_ms);
  EXPECT_EQ(parse_replay_time("2026-01-02T03:04:05Z", {}), k_instant_ms) << "now does not matter";
}

TEST(ReplayTime, AnythingElseIsRefused) {
  for (const char* text : {"", "yesterday", "-1w", "-h", "-1", "--1h", "-1.5h", "- 1h", "-1hh", "1h",
                           "2026-13-02T03:04:05Z"}) {
    EXPECT_EQ(parse_replay_time(text, k_now), std::nullopt) << text;
  }
}

} // namespace
} // namespace foodpipe::pipeline
