// inspect --watch's arithmetic: the lag of a partition, the rates between two
// samples (a partition added, a log start that moves, a counter that goes
// backwards after a replay) and the sparkline of the total lag.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pipeline/watch.hpp"

namespace foodpipe::pipeline {
namespace {

struct Row {
  std::int32_t partition;
  std::int64_t log_start;
  std::int64_t log_end;
  std::optional<std::int64_t> stored;
};

// A sample as InspectSession takes it: the lag of each partition from its stored offset.
WatchSample sample_at(std::int64_t at_ms, const std::vector<Row>& rows) {
  WatchSample sample;
  sample.at_ms = at_ms;
  sample.topic_exists = true;
  for (const auto& row : rows) {
    GroupPartition partition;
    partition.partition = row.partition;
    partition.log_start = row.log_start;
    partition.log_end = row.log_end;
    partition.stored = row.stored;
    partition.lag = partition_lag(row.stored, row.log_start, row.log_end);
    sample.group.total_lag += partition.lag;
    sample.group.partitions.push_back(partition);
  }
  sample.database = db::DatabaseSummary{};
  return sample;
}

TEST(WatchLag, FromThePositionToTheLogEnd) {
  EXPECT_EQ(partition_lag(900, 0, 1000), 100);
  EXPECT_EQ(partition_lag(1000, 0, 1000), 0) << "caught up";
  EXPECT_EQ(partition_lag(std::nullopt, 200, 1000), 800)
      << "nothing stored yet: every message still in the log";
  EXPECT_EQ(partition_lag(50, 200, 1000), 800) << "below the log start: deleted messages are not lag";
  EXPECT_EQ(partition_lag(1200, 0, 1000), 0) << "never negative (a topic recreated under a stored offset)";
}

TEST(WatchRates, InAndOutPerSecondFromTwoSamples) {
  const auto before = sample_at(10'000, {{0, 0, 1000, 900}, {1, 0, 500, 500}});
  const auto now = sample_at(12'000, {{0, 0, 1400, 1300}, {1, 0, 600, 550}});
  const auto rates = compute_rates(&before, now);
  EXPECT_DOUBLE_EQ(rates.elapsed_s, 2.0);
  ASSERT_EQ(rates.partitions.size(), 2U);
  EXPECT_DOUBLE_EQ(*rates.find(0)->in_per_s, 200.0);
  EXPECT_DOUBLE_EQ(*rates.find(0)->out_per_s, 200.0);
  EXPECT_DOUBLE_EQ(*rates.find(1)->in_per_s, 50.0);
  EXPECT_DOUBLE_EQ(*rates.find(1)->out_per_s, 25.0);
  EXPECT_DOUBLE_EQ(*rates.in_per_s, 250.0);
  EXPECT_DOUBLE_EQ(*rates.out_per_s, 225.0);
  EXPECT_EQ(rates.find(0)->in_gap, RateGap::none);
  EXPECT_EQ(now.group.total_lag, 100 + 50);
}

TEST(WatchRates, TheFirstSampleHasNone) {
  const auto rates = compute_rates(nullptr, sample_at(0, {{0, 0, 10, 5}}));
  EXPECT_FALSE(rates.in_per_s);
  EXPECT_FALSE(rates.out_per_s);
  EXPECT_FALSE(rates.orders_per_s);
  EXPECT_EQ(rates.find(0)->in_gap, RateGap::first_sample);
}

TEST(WatchRates, APartitionAddedHasNoRateYetAndTheOthersKeepTheirs) {
  const auto before = sample_at(0, {{0, 0, 100, 100}});
  const auto now = sample_at(1000, {{0, 0, 110, 105}, {1, 0, 40, std::nullopt}});
  const auto rates = compute_rates(&before, now);
  EXPECT_FALSE(rates.find(1)->in_per_s);
  EXPECT_FALSE(rates.find(1)->out_per_s);
  EXPECT_EQ(rates.find(1)->in_gap, RateGap::new_partition);
  EXPECT_EQ(rates.find(1)->out_gap, RateGap::new_partition);
  EXPECT_DOUBLE_EQ(*rates.in_per_s, 10.0) << "the new partition's 40 messages are not a rate of 40/s";
  EXPECT_DOUBLE_EQ(*rates.out_per_s, 5.0);
  EXPECT_EQ(now.group.total_lag, 5 + 40);
}

TEST(WatchRates, ALogStartThatMovesChangesNoRate) {
  // Retention deletes the first 300 messages between the samples; 20 were produced, 10 consumed.
  const auto before = sample_at(0, {{0, 0, 1000, 500}});
  const auto now = sample_at(1000, {{0, 300, 1020, 510}});
  const auto rates = compute_rates(&before, now);
  EXPECT_DOUBLE_EQ(*rates.find(0)->in_per_s, 20.0);
  EXPECT_DOUBLE_EQ(*rates.find(0)->out_per_s, 10.0);
  // ... and a stored offset that retention overtook: the lag counts from the log start, the rate from the
  // offset.
  const auto overtaken = sample_at(2000, {{0, 600, 1030, 520}});
  const auto later = compute_rates(&now, overtaken);
  EXPECT_DOUBLE_EQ(*later.find(0)->out_per_s, 10.0);
  EXPECT_EQ(overtaken.group.total_lag, 1030 - 600);
}

TEST(WatchRates, AnOffsetMovedBackByAReplayIsAResetNotANegativeRate) {
  const auto before = sample_at(0, {{0, 0, 1000, 1000}, {1, 0, 800, 800}});
  const auto now =
      sample_at(1000, {{0, 0, 1000, 0}, {1, 0, 810, 810}}); // offsets moved back to 0 on partition 0
  const auto rates = compute_rates(&before, now);
  EXPECT_FALSE(rates.find(0)->out_per_s);
  EXPECT_EQ(rates.find(0)->out_gap, RateGap::reset);
  EXPECT_DOUBLE_EQ(*rates.find(0)->in_per_s, 0.0);
  EXPECT_DOUBLE_EQ(*rates.out_per_s, 10.0) << "the total counts the partitions that have a rate";
  EXPECT_EQ(now.group.total_lag, 1000);
  // The next step is a rate again.
  const auto next = compute_rates(&now, sample_at(2000, {{0, 0, 1000, 250}, {1, 0, 810, 810}}));
  EXPECT_DOUBLE_EQ(*next.find(0)->out_per_s, 250.0);
}

TEST(WatchRates, ALogEndThatGoesBackwardsIsAReset) {
  // The topic deleted and created again between two samples.
  const auto before = sample_at(0, {{0, 0, 1000, 1000}});
  const auto rates = compute_rates(&before, sample_at(1000, {{0, 0, 30, std::nullopt}}));
  EXPECT_EQ(rates.find(0)->in_gap, RateGap::reset);
  EXPECT_FALSE(rates.in_per_s);
  EXPECT_EQ(rates.find(0)->out_gap, RateGap::first_sample) << "no stored offset now";
}

TEST(WatchRates, NoOutRateBetweenTheDatabaseAndKafkasCommittedOffsets) {
  auto before = sample_at(0, {{0, 0, 100, 100}});
  auto now = sample_at(1000, {{0, 0, 150, std::nullopt}});
  now.lag_from_kafka = true;
  now.group.partitions[0].committed = 120;
  const auto rates = compute_rates(&before, now);
  EXPECT_DOUBLE_EQ(*rates.find(0)->in_per_s, 50.0);
  EXPECT_FALSE(rates.find(0)->out_per_s);
}

TEST(WatchRates, ABrokerAwayInEitherSampleGivesNoKafkaRates) {
  auto away = sample_at(1000, {});
  away.kafka_problem = "no broker answered";
  const auto before = sample_at(0, {{0, 0, 100, 100}});
  EXPECT_FALSE(compute_rates(&before, away).in_per_s);
  const auto back = compute_rates(&away, sample_at(2000, {{0, 0, 200, 150}}));
  EXPECT_EQ(back.find(0)->in_gap, RateGap::first_sample)
      << "comparing with the sample before the outage would "
         "spread two intervals' messages over one";
}

TEST(WatchRates, OrdersAndDeadLettersPerSecondAndPerReason) {
  auto before = sample_at(0, {});
  before.database->orders = 100;
  before.database->dead_letters_by_reason = {{"invalid_json", 2}};
  auto now = sample_at(2000, {});
  now.database->orders = 300;
  now.database->dead_letters_by_reason = {{"invalid_json", 6}, {"missing_field", 1}};
  const auto rates = compute_rates(&before, now);
  EXPECT_DOUBLE_EQ(*rates.orders_per_s, 100.0);
  EXPECT_DOUBLE_EQ(*rates.dead_letters_per_s, 2.5);
  EXPECT_DOUBLE_EQ(rates.dead_letters_per_reason.at("invalid_json"), 2.0);
  EXPECT_DOUBLE_EQ(rates.dead_letters_per_reason.at("missing_field"), 0.5) << "a new reason counts from 0";
  // Rows deleted by hand: a reset, no rate.
  auto emptied = sample_at(3000, {});
  emptied.database->orders = 0;
  const auto after = compute_rates(&now, emptied);
  EXPECT_FALSE(after.orders_per_s);
  EXPECT_FALSE(after.dead_letters_per_s);
  // The database away: none.
  auto away = sample_at(4000, {});
  away.database.reset();
  EXPECT_FALSE(compute_rates(&emptied, away).orders_per_s);
}

TEST(WatchSparkline, OneMinuteScaledToItsHighest) {
  LagHistory history;
  EXPECT_EQ(history.sparkline(4), "    ") << "nothing yet";
  // One sample per 15 s of the last minute: 0, 100, 50, 200.
  std::int64_t at = 100'000;
  for (const std::int64_t lag : {0, 100, 50, 200}) {
    auto sample = sample_at(at, {{0, 0, lag, 0}});
    history.add(sample);
    at += 15'000;
  }
  EXPECT_EQ(history.highest(), 200);
  EXPECT_EQ(history.sparkline(4), "\u2581\u2585\u2583\u2588");
  EXPECT_EQ(history.sparkline(8), " \u2581\u2581\u2585\u2585\u2583\u2583\u2588")
      << "a slice without a sample repeats the one before; before the first sample it is blank";
}

TEST(WatchSparkline, OlderThanAMinuteIsForgottenAndOutagesLeaveGaps) {
  LagHistory history;
  history.add(sample_at(0, {{0, 0, 1000, 0}}));
  auto away = sample_at(30'000, {});
  away.kafka_problem = "no broker answered";
  history.add(away);
  history.add(sample_at(61'000, {{0, 0, 10, 0}}));
  EXPECT_EQ(history.highest(), 10) << "the lag of 1000 is more than a minute old";
  EXPECT_EQ(history.sparkline(2), " \u2588");
  EXPECT_EQ(history.sparkline(4), "   \u2588") << "the outage is a gap, held until the next sample";
  LagHistory idle;
  idle.add(sample_at(0, {{0, 0, 5, 5}}));
  EXPECT_EQ(idle.sparkline(3), "  \u2581") << "a lag of 0 all along sits at the bottom";
}

} // namespace
} // namespace foodpipe::pipeline
