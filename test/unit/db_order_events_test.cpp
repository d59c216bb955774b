// The parts of applying status events that need no database: the in-batch
// plan, the staging row's exact bytes, and the batch rules for events.

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/copy_buffer.hpp"
#include "db/order_batch.hpp"
#include "db/order_events.hpp"

namespace foodpipe::db {
namespace {

EventRow event(std::string event_id, std::string status, std::int64_t offset) {
  EventRow row;
  row.event_id = std::move(event_id);
  row.order_id = "ORD-1";
  row.customer_id = "CUST-1";
  row.status = std::move(status);
  // 2026-01-02T03:04:05.678Z
  row.occurred_at = domain::Timestamp{std::chrono::milliseconds{1'767'323'045'678}};
  row.partition = 2;
  row.offset = offset;
  return row;
}

TEST(DbOrderEventPlan, DistinctEventsAreAllCandidatesInTheOrderGiven) {
  const auto plan = plan_events({event("E-2", "confirmed", 9), event("E-1", "preparing", 4)});
  EXPECT_EQ(plan.candidates, (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(plan.copies.empty());
  EXPECT_TRUE(plan.decided.empty());
}

TEST(DbOrderEventPlan, CopiesConflictsAndRejectedRows) {
  auto conflicting = event("E-1", "cancelled", 12);
  auto copy = event("E-1", "confirmed", 11);
  copy.value = "other bytes";  // the message's bytes and position are not content
  copy.customer_id = "CUST-2"; // nor is the key: the order's customer is checked against the stored order
  auto bad = event("E-3", "cancelled", 13);
  bad.reason = std::string("a\0b", 3);
  auto bad_copy = bad;
  bad_copy.offset = 14;
  auto bad_utf8 = event("E-4", "confirmed", 15);
  bad_utf8.order_id = "ORD-\xff";
  const auto plan = plan_events({event("E-1", "confirmed", 10), copy, conflicting, bad, bad_copy, bad_utf8,
                                 event("E-5", "confirmed", 16)});
  EXPECT_EQ(plan.candidates, (std::vector<std::size_t>{0, 6}));
  EXPECT_EQ(plan.copies, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 1}}));
  ASSERT_EQ(plan.decided.size(), 4U);
  EXPECT_EQ(plan.decided[0].first, 2U);
  EXPECT_EQ(plan.decided[0].second,
            (EventOutcome{EventVerdict::conflicting_duplicate, "",
                          "event_id \"E-1\" was already used by the event at partition 2 offset 10 "
                          "in the same batch, with different content"}));
  EXPECT_EQ(plan.decided[1].first, 3U);
  EXPECT_EQ(plan.decided[1].second,
            (EventOutcome{EventVerdict::rejected, "",
                          "the event's reason holds a NUL byte or invalid UTF-8"}));
  EXPECT_EQ(plan.decided[2].first, 4U);
  EXPECT_EQ(plan.decided[2].second.verdict, EventVerdict::rejected);
  EXPECT_EQ(plan.decided[3].first, 5U);
  EXPECT_EQ(plan.decided[3].second.detail, "the event's order_id holds a NUL byte or invalid UTF-8");
}

TEST(DbOrderEventPlan, SameContent) {
  const auto a = event("E-1", "confirmed", 1);
  auto b = a;
  b.offset = 2;
  EXPECT_TRUE(same_event_content(a, b));
  b.reason = "";
  EXPECT_FALSE(same_event_content(a, b)) << "an empty reason is not an absent one";
  b = a;
  b.occurred_at += std::chrono::milliseconds(1);
  EXPECT_FALSE(same_event_content(a, b));
  b = a;
  b.order_id = "ORD-2";
  EXPECT_FALSE(same_event_content(a, b));
}

TEST(DbOrderEventCopy, StageRowIsCopyTextInColumnOrder) {
  auto row = event("E-1", "cancelled", 1234);
  row.reason = "tab\there";
  CopyBuffer rows;
  append_event_stage_row(rows, row, 7);
  append_event_stage_row(rows, event("E-2", "confirmed", 5), 8);
  EXPECT_EQ(rows.data(),
            "7\tE-1\tORD-1\tCUST-1\tcancelled\t2026-01-02T03:04:05.678Z\ttab\\there\t2\t1234\n"
            "8\tE-2\tORD-1\tCUST-1\tconfirmed\t2026-01-02T03:04:05.678Z\t\\N\t2\t5\n");
  EXPECT_EQ(k_event_stage_columns,
            "seq, event_id, order_id, customer_id, status, occurred_at, reason, source_partition, "
            "source_offset");
}

TEST(DbOrderEventCopy, VerdictNames) {
  EXPECT_EQ(to_string(EventVerdict::applied), "applied");
  EXPECT_EQ(to_string(EventVerdict::duplicate), "duplicate");
  EXPECT_EQ(to_string(EventVerdict::illegal_transition), "illegal_transition");
  EXPECT_EQ(to_string(EventVerdict::unknown_order), "unknown_order");
  EXPECT_EQ(to_string(EventVerdict::customer_mismatch), "customer_mismatch");
  EXPECT_EQ(to_string(EventVerdict::conflicting_duplicate), "conflicting_duplicate");
  EXPECT_EQ(to_string(EventVerdict::rejected), "rejected");
}

TEST(DbOrderEventBatch, EventsFollowThePositionRules) {
  Batch batch;
  batch.group = "g";
  batch.topic = "t";
  batch.offsets = {{2, 10, 20}};
  batch.events = {event("E-1", "confirmed", 10), event("E-2", "preparing", 19)};
  EXPECT_NO_THROW(validate_batch(batch));

  const auto refused = [](const Batch& b, const std::string& expected) {
    try {
      validate_batch(b);
      ADD_FAILURE() << "accepted; expected: " << expected;
    } catch (const std::invalid_argument& error) {
      EXPECT_EQ(std::string(error.what()), expected);
    }
  };
  auto outside = batch;
  outside.events[1].offset = 20;
  refused(outside, "OrderStore batch: the event at t[2]@20 lies outside the partition's advance [10, 20)");
  auto twice = batch;
  twice.events[1].offset = 10;
  refused(twice, "OrderStore batch: two messages (events or orders) at t[2]@10");
  auto shared = batch;
  shared.orders.push_back(IncomingOrder{domain::Order{}, 2, 19, std::nullopt, ""});
  refused(shared, "OrderStore batch: two messages (events or orders) at t[2]@19");
  auto no_topic = batch;
  no_topic.topic.clear();
  no_topic.offsets.clear();
  refused(no_topic, "OrderStore batch: events without a topic");
}

} // namespace
} // namespace foodpipe::db
