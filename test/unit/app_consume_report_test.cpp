// The consume summary's status-event counts (issue 14): the text line appears
// only when there were events, so that an orders-only run prints what it always
// did; --json always has both keys next to the orders' ones.

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "pipeline/consume.hpp"

namespace foodpipe::app {
namespace {

std::string text_of(const pipeline::ConsumeReport& report) {
  std::ostringstream out;
  print_text(out, report);
  return out.str();
}

std::string json_of(const pipeline::ConsumeReport& report) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_json(w, report);
  return buffer.GetString();
}

TEST(ConsumeReportEvents, TextHasTheEventLineOnlyWhenThereWereEvents) {
  pipeline::ConsumeReport report;
  report.consumed = 7;
  report.applied = 2;
  report.stopped_by = "end";
  EXPECT_EQ(text_of(report).find("status events"), std::string::npos);
  report.events_applied = 4;
  report.event_duplicates = 1;
  EXPECT_NE(text_of(report).find("\nstatus events: 4 applied, 1 duplicates\n"), std::string::npos)
      << text_of(report);
}

TEST(ConsumeReportEvents, JsonHasBothKeysAfterTheOrdersCounts) {
  pipeline::ConsumeReport report;
  report.consumed = 9;
  report.applied = 2;
  report.duplicates = 1;
  report.events_applied = 4;
  report.event_duplicates = 2;
  const auto json = json_of(report);
  EXPECT_NE(json.find(R"("consumed":9,"applied":2,"duplicates":1,"events_applied":4,"event_duplicates":2,)"
                      R"("dead_letters":0,)"),
            std::string::npos)
      << json;
}

} // namespace
} // namespace foodpipe::app
