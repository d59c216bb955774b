// What inspect --watch draws: the full and the narrow layout for a given
// width, with and without colour, a service shown as unreachable, a screen too
// short for every partition, the plain snapshot and the JSON line.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "app/report_json.hpp"
#include "app/table.hpp"
#include "app/watch_screen.hpp"
#include "pipeline/vocabulary.hpp"
#include "support/test_env.hpp"

namespace foodpipe::app {
namespace {

using test::lines_of;

using pipeline::GroupPartition;
using pipeline::WatchSample;

WatchSample sample_at(std::int64_t at_ms, std::int64_t produced, std::int64_t stored, int partitions = 3) {
  WatchSample s;
  s.at_ms = at_ms;
  s.taken_at = "2026-12-07T16:30:05.250Z";
  s.topic_exists = true;
  s.brokers = 1;
  s.group.group = "order-processors";
  s.group.topic = "food-orders";
  s.group.description.known = true;
  s.group.description.state = "Stable";
  pipeline::GroupMember member;
  member.client_id = "foodpipe-consume-1";
  member.client_host = "/127.0.0.1";
  member.assignment = {{"food-orders", {0, 1, 2}}};
  s.group.description.members = {member};
  for (int p = 0; p < partitions; ++p) {
    GroupPartition row;
    row.partition = p;
    row.log_end = produced;
    row.stored = stored;
    row.committed = stored;
    row.lag = pipeline::partition_lag(stored, 0, produced);
    s.group.total_lag += row.lag;
    s.group.partitions.push_back(row);
  }
  s.database_target = "127.0.0.1:5432/foodpipe";
  s.database = db::DatabaseSummary{};
  s.database->orders = stored * partitions;
  s.database->schema_version = 6;
  s.database->dead_letters_by_reason = {{"invalid_json", 2}};
  return s;
}

struct Fixture {
  WatchSample before = sample_at(1000, 1000, 900);
  WatchSample now = sample_at(2000, 1200, 1000);
  pipeline::WatchRates rates = pipeline::compute_rates(&before, now);
  pipeline::LagHistory history;
  WatchFrame frame;
  Fixture() {
    history.add(before);
    history.add(now);
    frame.sample = &now;
    frame.rates = &rates;
    frame.history = &history;
    frame.bootstrap_servers = "localhost:9092";
    frame.number = 2;
  }
};

TEST(WatchScreen, FullLayoutShowsTotalsPartitionsGroupAndDeadLetters) {
  Fixture f;
  const auto screen = render_watch_screen(f.frame, {120, 40}, false);
  const auto lines = lines_of(screen);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("lag 600  in 600/s  out 300/s  orders 3000 (300/s)  dead letters 2", 0), 0U)
      << lines[0];
  EXPECT_NE(screen.find("PARTITION  LOG START  LOG END  STORED  COMMITTED  LAG   IN/s  OUT/s"),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("          0          0     1200    1000       1000  200  200/s  100/s"),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("group order-processors: Stable, 1 member"), std::string::npos);
  EXPECT_NE(screen.find("foodpipe-consume-1  /127.0.0.1  0,1,2"), std::string::npos) << screen;
  EXPECT_NE(screen.find("invalid_json"), std::string::npos);
  EXPECT_NE(screen.find("broker: localhost:9092, 1 broker; topic food-orders: 3 partitions"),
            std::string::npos);
  EXPECT_NE(screen.find("database: 127.0.0.1:5432/foodpipe"), std::string::npos);
  EXPECT_EQ(lines.back(), "q quit  p pause");
  EXPECT_EQ(screen.find('\033'), std::string::npos) << "no colour asked, no escape";
  for (const auto& line : lines) {
    EXPECT_LE(display_width(line), 120U) << line;
  }
}

TEST(WatchScreen, NarrowTerminalGetsAShorterLayoutNeverWiderThanItself) {
  Fixture f;
  for (const std::size_t columns : {79U, 60U, 40U, 20U}) {
    const auto screen = render_watch_screen(f.frame, {columns, 40}, false);
    for (const auto& line : lines_of(screen)) {
      EXPECT_LE(display_width(line), columns) << columns << " columns: " << line;
    }
    EXPECT_EQ(screen.rfind("lag 600", 0), 0U) << "the totals come first: " << screen;
  }
  const auto narrow = render_watch_screen(f.frame, {60, 40}, false);
  EXPECT_NE(narrow.find("  P   END    AT  LAG   IN/s  OUT/s"), std::string::npos) << narrow;
  EXPECT_NE(narrow.find("  foodpipe-consume-1: 0,1,2"), std::string::npos) << narrow;
  EXPECT_EQ(narrow.find("LOG START"), std::string::npos);
  EXPECT_EQ(lines_of(render_watch_screen(f.frame, {60, 40}, false))[0],
            "lag 600  in 600/s  out 300/s  orders 3000  dl 2  16:30:05Z");
}

TEST(WatchScreen, ColourOnlyWhenAskedAndWidthsIgnoreTheEscapes) {
  Fixture f;
  const auto plain = render_watch_screen(f.frame, {60, 40}, false);
  const auto coloured = render_watch_screen(f.frame, {60, 40}, true);
  EXPECT_NE(coloured.find("\033[33mlag 600\033[0m"), std::string::npos) << "a lag is yellow";
  const auto plain_lines = lines_of(plain);
  const auto coloured_lines = lines_of(coloured);
  ASSERT_EQ(plain_lines.size(), coloured_lines.size());
  for (std::size_t i = 0; i < plain_lines.size(); ++i) {
    std::string stripped;
    for (std::size_t c = 0; c < coloured_lines[i].size(); ++c) {
      if (coloured_lines[i][c] == '\033') {
        c = coloured_lines[i].find('m', c);
        continue;
      }
      stripped += coloured_lines[i][c];
    }
    EXPECT_EQ(stripped, plain_lines[i]) << "the same text, only painted";
  }
}

TEST(WatchScreen, AShortTerminalCountsThePartitionsItCannotShowAndNothingScrolls) {
  Fixture f;
  f.now = sample_at(2000, 1200, 1000, 30);
  f.rates = pipeline::compute_rates(&f.before, f.now);
  const auto screen = render_watch_screen(f.frame, {100, 20}, false);
  const auto lines = lines_of(screen);
  EXPECT_LE(lines.size(), 19U) << "the last row stays free";
  EXPECT_NE(screen.find("more partitions"), std::string::npos) << screen;
  EXPECT_EQ(lines.back(), "q quit  p pause") << screen;
}

TEST(WatchScreen, AServiceAwayIsShownAsUnreachable) {
  Fixture f;
  f.now = sample_at(2000, 0, 0, 0);
  f.now.kafka_problem = "no broker answered at localhost:1 within 1 s";
  f.now.database.reset();
  f.now.database_problem = "cannot connect to 127.0.0.1:1";
  f.rates = pipeline::compute_rates(&f.before, f.now);
  const auto screen = render_watch_screen(f.frame, {100, 30}, false);
  EXPECT_EQ(screen.rfind("lag ?", 0), 0U) << screen;
  EXPECT_NE(screen.find("broker: unreachable (no broker answered at localhost:1 within 1 s)"),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("database: unreachable (cannot connect to 127.0.0.1:1)"), std::string::npos)
      << screen;
  EXPECT_NE(render_watch_screen(f.frame, {100, 30}, true).find("\033[31munreachable\033[0m"),
            std::string::npos);
}

TEST(WatchScreen, ATopicThatDoesNotExistYetHasNoLagAndSaysSo) {
  Fixture f;
  f.now = sample_at(2000, 0, 0, 0);
  f.now.topic_exists = false;
  f.rates = pipeline::compute_rates(&f.before, f.now);
  const auto screen = render_watch_screen(f.frame, {100, 30}, false);
  EXPECT_EQ(screen.rfind("lag -  orders 0", 0), 0U) << screen;
  EXPECT_NE(screen.find("topic food-orders: does not exist (yet)"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("LOG END"), std::string::npos) << "no table without partitions";
}

TEST(WatchScreen, OnANarrowScreenWhyAServiceIsAwayIsFoldedNotCut) {
  Fixture f;
  f.now.database.reset();
  f.now.database_problem = "cannot connect to PostgreSQL at 127.0.0.1:5432/food_orders (Connection refused); "
                           "start it with compose/up or set --db";
  const auto screen = render_watch_screen(f.frame, {60, 40}, false);
  EXPECT_NE(screen.find("\ndatabase: unreachable\n  cannot connect to PostgreSQL at"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("  (Connection refused); start it with compose/up or set --db\n"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("  (the lag counts from Kafka's committed offsets meanwhile)"), std::string::npos);
  for (const auto& line : lines_of(screen)) {
    EXPECT_LE(display_width(line), 60U) << line;
  }
  EXPECT_NE(render_watch_snapshot(f.frame).find("database: unreachable (cannot connect to PostgreSQL at "
                                                "127.0.0.1:5432/food_orders (Connection refused); start it"),
            std::string::npos)
      << "one line where there is no width to fit";
}

TEST(WatchScreen, PausedSaysSo) {
  Fixture f;
  f.frame.paused = true;
  const auto lines = lines_of(render_watch_screen(f.frame, {100, 30}, false));
  EXPECT_EQ(lines[0].rfind("PAUSED  lag 600", 0), 0U) << lines[0];
  EXPECT_EQ(lines.back(), "q quit  p resume");
}

TEST(WatchScreen, RatesReadAsWordsWhenThereAreNone) {
  EXPECT_EQ(rate_text(12.345), "12.3/s");
  EXPECT_EQ(rate_text(1234.5), "1234/s");
  EXPECT_EQ(rate_text(std::nullopt), "-");
  EXPECT_EQ(rate_text(std::nullopt, pipeline::RateGap::new_partition), "new");
  EXPECT_EQ(rate_text(std::nullopt, pipeline::RateGap::reset), "reset");
}

TEST(WatchScreen, FitToWidthCountsCodePointsAndKeepsEscapes) {
  EXPECT_EQ(fit_to_width("abcdef", 4), "abcd");
  EXPECT_EQ(fit_to_width("abc", 4), "abc");
  EXPECT_EQ(fit_to_width("\u2581\u2582\u2583", 2), "\u2581\u2582");
  EXPECT_EQ(fit_to_width("\033[33mabcdef\033[0m", 3), "\033[33mabc\033[0m");
  EXPECT_EQ(fit_to_width("abcdef", 0), "abcdef") << "0: no limit";
}

TEST(WatchScreen, SnapshotAndJsonLine) {
  Fixture f;
  const auto snapshot = render_watch_snapshot(f.frame);
  EXPECT_EQ(snapshot.rfind("--- sample 2 at 2026-12-07T16:30:05.250Z ---\nlag 600", 0), 0U) << snapshot;
  EXPECT_EQ(snapshot.find("q quit"), std::string::npos) << "no keys without a terminal";
  std::ostringstream out;
  print_json(out, f.frame);
  rapidjson::Document json;
  json.Parse(out.str().c_str());
  ASSERT_FALSE(json.HasParseError()) << out.str();
  EXPECT_STREQ(json["view"].GetString(), "watch");
  EXPECT_EQ(json["sample"].GetUint64(), 2U);
  EXPECT_EQ(json["group"]["total_lag"].GetInt64(), 600);
  EXPECT_EQ(json["group"]["partitions"][1]["lag"].GetInt64(), 200);
  EXPECT_DOUBLE_EQ(json["rates"]["partitions"][1]["in_per_s"].GetDouble(), 200.0);
  EXPECT_STREQ(json["rates"]["partitions"][1]["out"].GetString(), "ok");
  EXPECT_EQ(json["database"]["orders"].GetInt64(), 3000);
  EXPECT_EQ(json["database"]["dead_letters_by_reason"]["invalid_json"]["count"].GetInt64(), 2);
  EXPECT_EQ(out.str().find('\n'), out.str().size() - 1) << "one line";
  f.now.kafka_problem = "no broker answered";
  std::ostringstream away;
  print_json(away, f.frame);
  json.Parse(away.str().c_str());
  EXPECT_TRUE(json["group"].IsNull());
  EXPECT_FALSE(json["kafka"]["ok"].GetBool());
}

} // namespace
} // namespace foodpipe::app
