// The produce report's text and --json (report_text.hpp, report_json.hpp):
// orders and the status events of a lifecycle run counted apart, and a run
// without --lifecycle rendered as before apart from the new keys, all 0.

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "pipeline/produce.hpp"

namespace foodpipe::app {
namespace {

pipeline::ProduceReport orders_only() {
  pipeline::ProduceReport r;
  r.topic = "food-orders";
  r.run_id = "demo";
  r.seed = 42;
  r.sent = 10;
  r.delivered = 10;
  r.bytes = 4000;
  return r;
}

pipeline::ProduceReport lifecycle_run() {
  auto r = orders_only();
  r.lifecycle = true;
  r.events_sent = 38;
  r.events_delivered = 37;
  r.events_failed = 1;
  r.events_unsent = 2;
  r.failed_by_error["_MSG_TIMED_OUT"] = 1;
  return r;
}

rapidjson::Document json_of(const pipeline::ProduceReport& r) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_json(w, r);
  rapidjson::Document doc;
  doc.Parse(buffer.GetString());
  EXPECT_FALSE(doc.HasParseError()) << buffer.GetString();
  return doc;
}

std::string text_of(const pipeline::ProduceReport& r) {
  std::ostringstream out;
  print_text(out, r);
  return out.str();
}

TEST(ProduceReportRendering, JsonCountsOrdersAndEventsApart) {
  const auto doc = json_of(lifecycle_run());
  EXPECT_EQ(doc["sent"].GetUint64(), 10U);
  EXPECT_EQ(doc["delivered"].GetUint64(), 10U);
  EXPECT_EQ(doc["failed"].GetUint64(), 0U);
  EXPECT_TRUE(doc["lifecycle"].GetBool());
  EXPECT_EQ(doc["events"].GetUint64(), 38U);
  EXPECT_EQ(doc["events_delivered"].GetUint64(), 37U);
  EXPECT_EQ(doc["events_failed"].GetUint64(), 1U);
  EXPECT_EQ(doc["events_unsent"].GetUint64(), 2U);
  EXPECT_EQ(doc["failed_by_error"]["_MSG_TIMED_OUT"].GetUint64(), 1U);
}

TEST(ProduceReportRendering, JsonWithoutLifecycleKeepsItsKeysAndZeroEvents) {
  const auto doc = json_of(orders_only());
  for (const char* key :
       {"topic", "run_id", "seed", "sent", "delivered", "failed", "failed_by_error", "invalid_lines", "bytes",
        "elapsed_ms", "records_per_sec", "mb_per_sec", "latency_ms", "interrupted", "topic_created",
        "replication_factor"}) {
    EXPECT_TRUE(doc.HasMember(key)) << key;
  }
  EXPECT_FALSE(doc["lifecycle"].GetBool());
  EXPECT_EQ(doc["events"].GetUint64(), 0U);
  EXPECT_EQ(doc["events_delivered"].GetUint64(), 0U);
  EXPECT_EQ(doc["events_failed"].GetUint64(), 0U);
  EXPECT_EQ(doc["events_unsent"].GetUint64(), 0U);
}

TEST(ProduceReportRendering, TextNamesEventsOnlyForALifecycleRun) {
  const auto orders = text_of(orders_only());
  EXPECT_EQ(orders.substr(0, 18), "10 records sent, 0");
  EXPECT_NE(orders.find("\ndelivered 10, failed 0; topic food-orders, run id demo, seed 42\n"),
            std::string::npos)
      << orders;
  EXPECT_EQ(orders.find("events"), std::string::npos) << orders;

  const auto lifecycle = text_of(lifecycle_run());
  EXPECT_EQ(lifecycle.substr(0, 18), "48 records sent, 0");
  EXPECT_NE(lifecycle.find("\ndelivered 10, failed 0; events sent 38, delivered 37, failed 1, unsent 2 "
                           "(_MSG_TIMED_OUT: 1); topic food-orders, run id demo, seed 42\n"),
            std::string::npos)
      << lifecycle;
}

TEST(ProduceReportRendering, FailureLineCountsEventsOfALifecycleRun) {
  const std::string tail =
      "; a timed-out one may still have been written: see foodpipe inspect topic --topic food-orders and "
      "foodpipe doctor";
  EXPECT_EQ(failure_line(lifecycle_run()),
            "foodpipe: error: 0 of 10 orders and 1 of 38 status events were not acknowledged by the brokers "
            "(_MSG_TIMED_OUT: 1)" +
                tail);
  auto r = orders_only();
  r.failed = 1;
  r.failed_by_error["_MSG_TIMED_OUT"] = 1;
  EXPECT_EQ(failure_line(r),
            "foodpipe: error: 1 of 10 orders were not acknowledged by the brokers (_MSG_TIMED_OUT: 1)" +
                tail);
}

// A --from-file run whose file held events: not a lifecycle run, but its
// events are named as a lifecycle run's are (a file of orders alone is
// rendered as before: the tests above).
TEST(ProduceReportRendering, TextAndFailureLineNameTheEventsOfAFile) {
  auto r = orders_only();
  r.seed.reset();
  r.events_sent = 3;
  r.events_delivered = 2;
  r.events_failed = 1;
  r.failed_by_error["_MSG_TIMED_OUT"] = 1;
  const auto text = text_of(r);
  EXPECT_EQ(text.substr(0, 18), "13 records sent, 0");
  EXPECT_NE(text.find("\ndelivered 10, failed 0; events sent 3, delivered 2, failed 1 (_MSG_TIMED_OUT: 1)"),
            std::string::npos)
      << text;
  EXPECT_EQ(failure_line(r).rfind("foodpipe: error: 0 of 10 orders and 1 of 3 status events were not "
                                  "acknowledged by the brokers (_MSG_TIMED_OUT: 1)",
                                  0),
            0U)
      << failure_line(r);
}

} // namespace
} // namespace foodpipe::app
