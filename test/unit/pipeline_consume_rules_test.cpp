// The consumer's pure decisions: when a batch is written, how long a poll
// waits, and when --until-end is reached.

#include <chrono>
#include <cstdint>
#include <optional>

#include <gtest/gtest.h>

#include "pipeline/consume_rules.hpp"

namespace foodpipe::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(ConsumeRemaining, WithoutALimitEverythingIsLeft) {
  EXPECT_EQ(remaining(std::nullopt, 0), UINT64_MAX);
  EXPECT_EQ(remaining(std::nullopt, 123), UINT64_MAX);
}

TEST(ConsumeRemaining, CountsDownToZeroAndStaysThere) {
  EXPECT_EQ(remaining(10, 0), 10U);
  EXPECT_EQ(remaining(10, 7), 3U);
  EXPECT_EQ(remaining(10, 10), 0U);
  EXPECT_EQ(remaining(10, 11), 0U) << "never wraps around";
}

TEST(ConsumeBatchDue, NothingPendingIsNeverDue) {
  EXPECT_FALSE(batch_due(false, 0, 5000, UINT64_MAX, 10s, 50ms));
  EXPECT_FALSE(batch_due(false, 5000, 5000, 0, 10s, 50ms)) << "whatever the other numbers say";
}

TEST(ConsumeBatchDue, DueWhenFull) {
  EXPECT_FALSE(batch_due(true, 4999, 5000, UINT64_MAX, 49ms, 50ms));
  EXPECT_TRUE(batch_due(true, 5000, 5000, UINT64_MAX, 0ms, 50ms));
  EXPECT_TRUE(batch_due(true, 1, 1, UINT64_MAX, 0ms, 50ms));
}

TEST(ConsumeBatchDue, DueWhenMaxMessagesAllowsNoMore) {
  EXPECT_FALSE(batch_due(true, 2, 5000, 3, 0ms, 50ms));
  EXPECT_TRUE(batch_due(true, 3, 5000, 3, 0ms, 50ms));
  EXPECT_TRUE(batch_due(true, 0, 5000, 0, 0ms, 50ms)) << "an offset move alone, with no message left to take";
}

TEST(ConsumeBatchDue, DueWhenOldEnough) {
  EXPECT_FALSE(batch_due(true, 1, 5000, UINT64_MAX, 49'999us, 50ms));
  EXPECT_TRUE(batch_due(true, 1, 5000, UINT64_MAX, 50ms, 50ms));
  EXPECT_TRUE(batch_due(true, 0, 5000, UINT64_MAX, 50ms, 50ms)) << "a moved offset without messages";
  EXPECT_TRUE(batch_due(true, 1, 5000, UINT64_MAX, 0ms, 0ms)) << "--batch-ms 0: every turn";
}

TEST(ConsumePollWait, IdleWaitsTheLongest) {
  EXPECT_EQ(poll_wait(false, 0ms, 50ms), 100ms);
  EXPECT_EQ(poll_wait(false, 1h, 50ms), 100ms) << "the age of no batch does not count";
}

TEST(ConsumePollWait, APendingBatchShortensTheWaitToItsDueTime) {
  EXPECT_EQ(poll_wait(true, 0ms, 50ms), 50ms);
  EXPECT_EQ(poll_wait(true, 20ms, 50ms), 30ms);
  EXPECT_EQ(poll_wait(true, 20'500us, 50ms), 29ms) << "whole milliseconds, rounded down";
  EXPECT_EQ(poll_wait(true, 0ms, 500ms), 100ms) << "never longer than 100 ms";
  EXPECT_EQ(poll_wait(true, 80ms, 50ms), 0ms) << "overdue: never negative";
}

TEST(ConsumeStaleOffsets, OnlyStoredOffsetsBeyondTheLogEnd) {
  const OffsetsByPartition log_end = {{0, 100}, {1, 50}, {2, 0}};
  const OffsetsByPartition stored = {{0, 100}, {1, 70}, {2, 3}, {7, 9}};
  const OffsetsByPartition expected = {{1, 70}, {2, 3}};
  EXPECT_EQ(stale_offsets(log_end, stored), expected) << "at the end is not stale; unknown partitions ignored";
  EXPECT_EQ(stale_offsets(log_end, {}), OffsetsByPartition{});
}

TEST(ConsumeReachedLogEnd, EveryPartitionMustBeAtItsEnd) {
  const OffsetsByPartition log_end = {{0, 100}, {1, 50}};
  const OffsetsByPartition log_start = {{0, 0}, {1, 0}};
  EXPECT_TRUE(reached_log_end(log_end, log_start, {}, {{0, 100}, {1, 50}}));
  EXPECT_TRUE(reached_log_end(log_end, log_start, {}, {{0, 120}, {1, 50}})) << "past the end as of start";
  EXPECT_FALSE(reached_log_end(log_end, log_start, {}, {{0, 100}, {1, 49}}));
  EXPECT_FALSE(reached_log_end(log_end, log_start, {}, {{0, 100}})) << "partition 1 has messages but no offset";
}

TEST(ConsumeReachedLogEnd, APartitionWithoutStoredOffsetCountsFromItsLogStart) {
  const OffsetsByPartition log_end = {{0, 100}, {1, 50}};
  EXPECT_TRUE(reached_log_end(log_end, {{0, 0}, {1, 50}}, {}, {{0, 100}})) << "partition 1 is empty (all deleted)";
  EXPECT_FALSE(reached_log_end(log_end, {{0, 0}, {1, 49}}, {}, {{0, 100}}));
  EXPECT_TRUE(reached_log_end({{0, 0}}, {}, {}, {})) << "an empty partition with no start recorded";
  EXPECT_TRUE(reached_log_end({}, {}, {}, {})) << "no partitions: nothing to wait for";
}

TEST(ConsumeReachedLogEnd, AnOffsetStaleAtStartIsNotReachedUntilItMoves) {
  const OffsetsByPartition log_end = {{0, 50}};
  const OffsetsByPartition log_start = {{0, 0}};
  const OffsetsByPartition stale = {{0, 70}};
  EXPECT_FALSE(reached_log_end(log_end, log_start, stale, {{0, 70}})) << "still the stale offset";
  EXPECT_TRUE(reached_log_end(log_end, log_start, stale, {{0, 50}})) << "re-read up to the end";
  EXPECT_FALSE(reached_log_end(log_end, log_start, stale, {{0, 10}})) << "re-reading, not there yet";
}

} // namespace
} // namespace foodpipe::pipeline
