// inspect order's timeline and inspect db's per-status counts (issue 14), without
// services: pipeline::order_timeline turns the stored rows into entries, and
// the text and JSON reports show them.

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "pipeline/inspect.hpp"

namespace foodpipe::app {
namespace {

db::OrderRow order_row() {
  db::OrderRow row;
  row.order_id = "ORD-20261207-t-0000001";
  row.customer_id = "CUST-0001";
  row.items_json = "[]";
  row.total_amount = "12.50";
  row.status = "cancelled";
  row.created_at = "2026-12-07T10:00:00.000Z";
  row.processed_at = "2026-12-07T10:00:01.000Z";
  row.source_topic = "t";
  row.source_partition = 2;
  row.source_offset = 40;
  return row;
}

db::OrderEventRow event(const std::string& id, const std::string& from, const std::string& to,
                        std::int64_t offset, std::int64_t since_ms) {
  db::OrderEventRow row;
  row.event_id = id;
  row.previous_status = from;
  row.status = to;
  row.occurred_at = "2026-12-07T10:02:13.000Z";
  row.source_topic = "t";
  row.source_partition = 2;
  row.source_offset = offset;
  row.since_created_ms = since_ms;
  return row;
}

pipeline::OrderView view_with_events() {
  pipeline::OrderView view;
  view.order_id = "ORD-20261207-t-0000001";
  view.row = order_row();
  view.message_note = "not read in this test";
  auto cancelled = event("EVT-20261207-t-0000001-2", "confirmed", "cancelled", 47, 3'725'000);
  cancelled.reason = "restaurant too busy";
  view.timeline = pipeline::order_timeline(
      *view.row, {event("EVT-20261207-t-0000001-1", "pending", "confirmed", 43, 133'000), cancelled});
  return view;
}

// The words of the line of `text` whose first word is `first` (empty when none is).
std::vector<std::string> line_starting(const std::string& text, const std::string& first) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> found;
    for (std::string word; words >> word;) {
      found.push_back(word);
    }
    if (!found.empty() && found.front() == first) {
      return found;
    }
  }
  return {};
}

std::string text_of(const pipeline::OrderView& view) {
  std::ostringstream out;
  print_text(out, view, false);
  return out.str();
}

rapidjson::Document json_of(const pipeline::OrderView& view) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_json(w, view);
  rapidjson::Document document;
  document.Parse(buffer.GetString());
  EXPECT_FALSE(document.HasParseError()) << buffer.GetString();
  return document;
}

TEST(OrderTimeline, TheOrderComesFirstWithTheStatusItsMessageCarriedThenEachEvent) {
  const auto view = view_with_events();
  ASSERT_EQ(view.timeline.size(), 3U);
  const auto& created = view.timeline[0];
  EXPECT_FALSE(created.event_id.has_value());
  // orders.status has moved on to cancelled; the first event says where it started.
  EXPECT_EQ(created.status, "pending");
  EXPECT_EQ(created.occurred_at, "2026-12-07T10:00:00.000Z");
  EXPECT_EQ(created.partition, 2);
  EXPECT_EQ(created.offset, 40);
  EXPECT_EQ(created.since_created_ms, 0);
  EXPECT_EQ(view.timeline[1].status, "confirmed");
  EXPECT_EQ(view.timeline[1].offset, 43);
  EXPECT_EQ(view.timeline[1].since_created_ms, 133'000);
  EXPECT_EQ(view.timeline[2].status, "cancelled");
  EXPECT_EQ(view.timeline[2].reason, "restaurant too busy");
}

TEST(OrderTimeline, AnOrderWithoutEventsHasOnlyItsOwnEntryWithItsStoredStatus) {
  auto row = order_row();
  row.status = "pending";
  row.source_partition.reset();
  row.source_offset.reset();
  const auto timeline = pipeline::order_timeline(row, {});
  ASSERT_EQ(timeline.size(), 1U);
  EXPECT_EQ(timeline[0].status, "pending");
  EXPECT_FALSE(timeline[0].partition.has_value());

  pipeline::OrderView view;
  view.order_id = row.order_id;
  view.row = row;
  view.timeline = timeline;
  const auto text = text_of(view);
  EXPECT_NE(text.find("timeline (no status events applied)"), std::string::npos) << text;
  EXPECT_EQ(text.find("REASON"), std::string::npos) << text;
  const auto json = json_of(view);
  ASSERT_EQ(json["timeline"].Size(), 1U);
  EXPECT_TRUE(json["timeline"][0]["event_id"].IsNull());
  EXPECT_TRUE(json["timeline"][0]["partition"].IsNull());
  EXPECT_FALSE(json["timeline"][0].HasMember("reason"));
}

TEST(OrderTimeline, TextShowsTimeSinceCreatedPositionsAndTheReason) {
  const auto text = text_of(view_with_events());
  EXPECT_NE(text.find("timeline (2 status events applied)"), std::string::npos) << text;
  EXPECT_NE(text.find("SINCE CREATED"), std::string::npos) << text;
  // One line per entry, in order, each with its time, status and offset.
  const auto created = text.find("+0s");
  const auto confirmed = text.find("+2m13s");
  const auto cancelled = text.find("+1h02m05s");
  ASSERT_NE(created, std::string::npos) << text;
  ASSERT_NE(confirmed, std::string::npos) << text;
  ASSERT_NE(cancelled, std::string::npos) << text;
  EXPECT_LT(created, confirmed);
  EXPECT_LT(confirmed, cancelled);
  const auto cancelled_line = text.substr(cancelled, text.find('\n', cancelled) - cancelled);
  EXPECT_NE(cancelled_line.find("cancelled"), std::string::npos) << cancelled_line;
  EXPECT_NE(cancelled_line.find(" 47 "), std::string::npos) << cancelled_line;
  EXPECT_NE(cancelled_line.find("restaurant too busy"), std::string::npos) << cancelled_line;
  // The trail the view always showed is still there.
  EXPECT_NE(text.find("in orders: cancelled, 12.50"), std::string::npos) << text;
}

TEST(OrderTimeline, SinceCreatedIsWrittenInTheUnitThatFits) {
  auto view = view_with_events();
  const std::vector<std::pair<std::int64_t, std::string>> cases{
      {85, "+0.085s"}, {13'000, "+13s"}, {59'999, "+59.999s"}, {60'000, "+1m00s"}, {-1'500, "-1.500s"}};
  for (const auto& [ms, expected] : cases) {
    view.timeline[1].since_created_ms = ms;
    const auto text = text_of(view);
    EXPECT_NE(text.find(expected + "  confirmed"), std::string::npos) << ms << "\n" << text;
  }
}

TEST(OrderTimeline, JsonHasTheTimelineArrayWithReasonOnlyWhereThereIsOne) {
  const auto json = json_of(view_with_events());
  ASSERT_TRUE(json["row"].IsObject());
  const auto& timeline = json["timeline"];
  ASSERT_EQ(timeline.Size(), 3U);
  EXPECT_STREQ(timeline[0]["status"].GetString(), "pending");
  EXPECT_EQ(timeline[0]["partition"].GetInt(), 2);
  EXPECT_EQ(timeline[0]["offset"].GetInt64(), 40);
  EXPECT_EQ(timeline[0]["since_created_ms"].GetInt64(), 0);
  EXPECT_STREQ(timeline[1]["event_id"].GetString(), "EVT-20261207-t-0000001-1");
  EXPECT_STREQ(timeline[1]["occurred_at"].GetString(), "2026-12-07T10:02:13.000Z");
  EXPECT_EQ(timeline[1]["since_created_ms"].GetInt64(), 133'000);
  EXPECT_FALSE(timeline[1].HasMember("reason"));
  EXPECT_STREQ(timeline[2]["reason"].GetString(), "restaurant too busy");
}

TEST(DatabaseStatusCounts, TextAndJsonListEveryStatusAndTheEventCount) {
  pipeline::DatabaseView view;
  view.target = "127.0.0.1:5432/x";
  view.summary.orders = 5;
  view.summary.orders_by_status = {{"pending", 0}, {"confirmed", 0},  {"preparing", 0},
                                   {"out_for_delivery", 0}, {"delivered", 4}, {"cancelled", 1}};
  view.summary.order_events = 18;
  std::ostringstream out;
  print_text(out, view, false);
  const auto text = out.str();
  EXPECT_EQ(line_starting(text, "out_for_delivery"), (std::vector<std::string>{"out_for_delivery", "0"}))
      << text;
  EXPECT_EQ(line_starting(text, "delivered"), (std::vector<std::string>{"delivered", "4"})) << text;
  EXPECT_EQ(line_starting(text, "pending"), (std::vector<std::string>{"pending", "0"})) << text;
  EXPECT_NE(text.find("order events  18"), std::string::npos) << text;

  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_json(w, view);
  rapidjson::Document json;
  json.Parse(buffer.GetString());
  ASSERT_FALSE(json.HasParseError()) << buffer.GetString();
  EXPECT_EQ(json["orders_by_status"].MemberCount(), 6U);
  EXPECT_EQ(json["orders_by_status"]["pending"].GetInt64(), 0);
  EXPECT_EQ(json["orders_by_status"]["delivered"].GetInt64(), 4);
  EXPECT_EQ(json["order_events"].GetInt64(), 18);
}

} // namespace
} // namespace foodpipe::app
