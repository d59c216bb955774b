// The verify and replay summaries' status-event parts (issue 14): the text
// line appears only when events were read, so that an orders-only topic prints
// what it always did; --json always has the "events" object; an event's
// problem names its event_id; replay says when a lost event was left alone.

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/verify.hpp"
#include "support/test_env.hpp"

namespace foodpipe::app {
namespace {

std::string text_of(const pipeline::VerifyReport& report) {
  std::ostringstream out;
  print_text(out, report, "t", false);
  return out.str();
}

template <typename Report, typename... Extra>
std::string json_of(const Report& report, const Extra&... extra) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_json(w, report, extra...);
  return buffer.GetString();
}

pipeline::VerifyReport verify_report() {
  pipeline::VerifyReport report;
  report.checked = 10;
  report.ok = 9;
  report.missing = 1;
  return report;
}

TEST(VerifyReportEvents, TextHasTheEventLineOnlyWhenThereWereEvents) {
  auto report = verify_report();
  EXPECT_EQ(text_of(report).find("order status events"), std::string::npos) << text_of(report);
  report.events = {6, 5, 0, 0, 1, 0};
  EXPECT_NE(text_of(report).find("\n  of which 6 order status events: 5 applied, 0 duplicates, 0 dead-lettered, "
                                  "1 missing, 0 different\n"),
            std::string::npos)
      << text_of(report);
}

TEST(VerifyReportEvents, JsonHasTheEventsAndAnEventProblemNamesItsEventId) {
  auto report = verify_report();
  report.events = {6, 5, 0, 0, 1, 0};
  report.problems.push_back({"missing", 1, 7, "ORD-1", "EVT-1-3", "no order_events row"});
  report.problems.push_back({"missing", 2, 3, "ORD-2", "", "no orders row"});
  const auto json = test::parse_json(json_of(report, false));
  const auto& events = json["events"];
  EXPECT_EQ(events["checked"].GetUint64(), 6U);
  EXPECT_EQ(events["applied"].GetUint64(), 5U);
  EXPECT_EQ(events["missing"].GetUint64(), 1U);
  EXPECT_EQ(events["different"].GetUint64(), 0U);
  EXPECT_STREQ(json["problems"][0]["event_id"].GetString(), "EVT-1-3");
  EXPECT_FALSE(json["problems"][1].HasMember("event_id"));
  EXPECT_NE(text_of(report).find("missing t[1]@7 ORD-1 event EVT-1-3: no order_events row\n"), std::string::npos)
      << text_of(report);
}

TEST(ReplayReportEvents, TextAndJsonCountTheEventsAndSayWhatWasNotRepaired) {
  pipeline::ReplayOptions options;
  options.topic = "t";
  pipeline::ReplayReport report;
  report.read = 5;
  const auto text = [&] {
    std::ostringstream out;
    print_text(out, report, options);
    return out.str();
  };
  EXPECT_EQ(text().find("order status events"), std::string::npos) << text();
  EXPECT_EQ(test::parse_json(json_of(report))["events"]["read"].GetUint64(), 0U);
  report.events = {4, 1, 2, 0, 1, 1};
  EXPECT_NE(text().find("  of which 4 order status events: 1 applied, 2 already present, 0 dead-lettered, 1 order "
                        "statuses restored, 1 not repaired\n"),
            std::string::npos)
      << text();
  EXPECT_NE(text().find("NOT re-applied"), std::string::npos) << text();
  const auto json = test::parse_json(json_of(report));
  EXPECT_EQ(json["events"]["already_present"].GetUint64(), 2U);
  EXPECT_EQ(json["events"]["statuses_restored"].GetUint64(), 1U);
  EXPECT_EQ(json["events"]["not_repaired"].GetUint64(), 1U);
}

} // namespace
} // namespace foodpipe::app
