// inspect order's timeline and inspect db's per-status counts (issue 14)
// against the real broker and PostgreSQL: a `produce --lifecycle` run consumed
// into a fresh database, and what the views say compared with order_events
// and orders as SQL reads them.

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/lifecycle.hpp"
#include "domain/random.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

constexpr int k_orders = 20;

// The first seed from 1 whose run of k_orders has a cancelled order: the
// cancel draw is the first of each order's lifecycle stream (domain/lifecycle.hpp),
// so this is known before anything is produced, and the test needs no luck.
std::uint64_t seed_with_a_cancellation() {
  for (std::uint64_t seed = 1;; ++seed) {
    for (std::uint64_t sequence = 1; sequence <= k_orders; ++sequence) {
      auto random = domain::lifecycle_random(seed, sequence);
      if (random.bounded(100) < domain::k_cancel_percent) {
        return seed;
      }
    }
  }
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, separator);) {
    parts.push_back(part);
  }
  return parts;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) {
    words.push_back(word);
  }
  return words;
}

// What order_events holds for one order, in the order applied.
struct StoredEvent {
  std::string event_id;
  std::string status;
  std::string partition;
  std::string offset;
  std::string since_created_ms;
  std::string reason;
};

class InspectTimelineTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    s_db = std::make_unique<test::ScratchDatabase>("fptimeline");
    s_topic = test::unique_name("timeline");
    s_group = test::unique_name("group");
    const auto seeded = test::run_foodpipe({"seed-db", "--db", s_db->uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    const auto produced = test::run_foodpipe(
        {"produce", "--lifecycle", "--count", std::to_string(k_orders), "--time-scale", "0", "--seed",
         std::to_string(seed_with_a_cancellation()), "--rate", "0", "--topic", s_topic, "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
    const auto consumed = test::run_foodpipe({"consume", "--db", s_db->uri(), "--topic", s_topic, "--group",
                                              s_group, "--until-end", "--quiet", "--json"});
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  }

  static void TearDownTestSuite() { s_db.reset(); }

  static test::CommandResult inspect(std::vector<std::string> args) {
    args.insert(args.begin(), "inspect");
    const std::vector<std::string> extra{"--db", s_db->uri(), "--topic", s_topic, "--group", s_group};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  static rapidjson::Document inspect_json(std::vector<std::string> args) {
    args.emplace_back("--json");
    const auto result = inspect(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return test::parse_json(result.out);
  }

  static std::string sql(const std::string& query) { return test::query_value(s_db->conninfo(), query); }

  static std::string first_order_with_status(const std::string& status) {
    return sql("SELECT order_id FROM orders WHERE status = '" + status + "' ORDER BY order_id LIMIT 1");
  }

  static std::vector<StoredEvent> stored_events(const std::string& order_id) {
    // since_created_ms the long way round, from the two timestamps as text.
    const auto rows = sql(
        "SELECT string_agg(concat_ws('|', e.event_id, e.status, e.source_partition, e.source_offset, "
        "((extract(epoch FROM e.occurred_at) - extract(epoch FROM o.created_at)) * 1000)::bigint, "
        "coalesce(e.reason, '')), ';' ORDER BY e.applied_seq) "
        "FROM order_events e JOIN orders o USING (order_id) WHERE e.order_id = '" + order_id + "'");
    std::vector<StoredEvent> events;
    for (const auto& row : split(rows, ';')) {
      auto fields = split(row, '|');
      fields.resize(6);
      events.push_back({fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]});
    }
    return events;
  }

  // The timeline's JSON against orders and order_events: the order's own entry
  // first, then one entry per stored event, same status, position and time, in
  // the order applied, with non-decreasing times since created.
  static void expect_timeline_matches_the_tables(const std::string& order_id,
                                                 const rapidjson::Value& timeline) {
    const auto events = stored_events(order_id);
    ASSERT_FALSE(events.empty()) << order_id;
    ASSERT_EQ(timeline.Size(), events.size() + 1) << order_id;
    const auto& created = timeline[0];
    EXPECT_TRUE(created["event_id"].IsNull());
    EXPECT_STREQ(created["status"].GetString(), "pending");
    EXPECT_EQ(std::to_string(created["partition"].GetInt()),
              sql("SELECT source_partition FROM orders WHERE order_id = '" + order_id + "'"));
    EXPECT_EQ(std::to_string(created["offset"].GetInt64()),
              sql("SELECT source_offset FROM orders WHERE order_id = '" + order_id + "'"));
    EXPECT_EQ(created["since_created_ms"].GetInt64(), 0);
    std::int64_t previous = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& entry = timeline[static_cast<rapidjson::SizeType>(i + 1)];
      EXPECT_EQ(entry["event_id"].GetString(), events[i].event_id);
      EXPECT_EQ(entry["status"].GetString(), events[i].status);
      EXPECT_EQ(std::to_string(entry["partition"].GetInt()), events[i].partition);
      EXPECT_EQ(std::to_string(entry["offset"].GetInt64()), events[i].offset);
      EXPECT_EQ(std::to_string(entry["since_created_ms"].GetInt64()), events[i].since_created_ms);
      EXPECT_GE(entry["since_created_ms"].GetInt64(), previous) << i;
      previous = entry["since_created_ms"].GetInt64();
      EXPECT_EQ(entry.HasMember("reason"), !events[i].reason.empty()) << i;
    }
  }

  // The text view's timeline lines after its heading, split into words:
  // SINCE, STATUS, OCCURRED AT, PARTITION, OFFSET, FROM, [REASON...].
  static std::vector<std::vector<std::string>> text_timeline(const std::string& text) {
    const auto lines = split(text, '\n');
    std::vector<std::vector<std::string>> rows;
    bool in_timeline = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].rfind("timeline (", 0) == 0) {
        in_timeline = true;
        ++i; // the column titles
        continue;
      }
      if (in_timeline && lines[i].empty()) {
        break;
      }
      if (in_timeline) {
        rows.push_back(words_of(lines[i]));
      }
    }
    return rows;
  }

  static std::unique_ptr<test::ScratchDatabase> s_db;
  static std::string s_topic;
  static std::string s_group;
};

std::unique_ptr<test::ScratchDatabase> InspectTimelineTest::s_db;
std::string InspectTimelineTest::s_topic;
std::string InspectTimelineTest::s_group;

TEST_F(InspectTimelineTest, ADeliveredOrdersTimelineListsEachStatusAtItsMessagesPosition) {
  const auto order_id = first_order_with_status("delivered");
  ASSERT_FALSE(order_id.empty()) << "no order of the run reached delivered";
  const auto view = inspect_json({"order", order_id});
  // The trail the view always had is still there.
  ASSERT_TRUE(view["row"].IsObject());
  EXPECT_STREQ(view["row"]["status"].GetString(), "delivered");
  ASSERT_TRUE(view["message"].IsObject()) << view["message_note"].GetString();
  const auto& timeline = view["timeline"];
  ASSERT_TRUE(timeline.IsArray());
  std::vector<std::string> statuses;
  for (const auto& entry : timeline.GetArray()) {
    statuses.emplace_back(entry["status"].GetString());
  }
  EXPECT_EQ(statuses,
            (std::vector<std::string>{"pending", "confirmed", "preparing", "out_for_delivery", "delivered"}));
  expect_timeline_matches_the_tables(order_id, timeline);

  const auto text = inspect({"order", order_id});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("timeline (4 status events applied)"), std::string::npos) << text.out;
  const auto rows = text_timeline(text.out);
  const auto events = stored_events(order_id);
  ASSERT_EQ(rows.size(), 5U) << text.out;
  EXPECT_EQ(rows[0][1], "pending") << text.out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& row = rows[i + 1];
    ASSERT_GE(row.size(), 6U) << text.out;
    EXPECT_EQ(row[0], "+0s") << text.out; // --time-scale 0: every event at created_at
    EXPECT_EQ(row[1], events[i].status) << text.out;
    EXPECT_EQ(row[3], events[i].partition) << text.out;
    EXPECT_EQ(row[4], events[i].offset) << text.out;
    EXPECT_EQ(row[5], events[i].event_id) << text.out;
  }
}

TEST_F(InspectTimelineTest, ACancelledOrdersTimelineEndsInCancelledWithItsReason) {
  const auto order_id = first_order_with_status("cancelled");
  ASSERT_FALSE(order_id.empty()) << "the seed was chosen for a cancellation; none was stored";
  const auto reason = sql("SELECT reason FROM order_events WHERE order_id = '" + order_id +
                          "' AND status = 'cancelled'");
  ASSERT_FALSE(reason.empty());
  const auto view = inspect_json({"order", order_id});
  const auto& timeline = view["timeline"];
  expect_timeline_matches_the_tables(order_id, timeline);
  ASSERT_GE(timeline.Size(), 2U);
  const auto& last = timeline[timeline.Size() - 1];
  EXPECT_STREQ(last["status"].GetString(), "cancelled");
  ASSERT_TRUE(last.HasMember("reason"));
  EXPECT_EQ(last["reason"].GetString(), reason);

  const auto text = inspect({"order", order_id});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const auto rows = text_timeline(text.out);
  ASSERT_EQ(rows.size(), timeline.Size()) << text.out;
  EXPECT_NE(text.out.find("REASON"), std::string::npos) << text.out;
  const auto& cancelled = rows.back();
  ASSERT_GE(cancelled.size(), 7U) << text.out;
  EXPECT_EQ(cancelled[1], "cancelled");
  std::string shown;
  for (std::size_t i = 6; i < cancelled.size(); ++i) {
    shown += (shown.empty() ? "" : " ") + cancelled[i];
  }
  EXPECT_EQ(shown, reason) << text.out;
}

TEST_F(InspectTimelineTest, DbViewCountsOrdersPerStatusAndTheStoredEvents) {
  const auto view = inspect_json({"db"});
  const auto& by_status = view["orders_by_status"];
  ASSERT_TRUE(by_status.IsObject());
  EXPECT_EQ(by_status.MemberCount(), 6U);
  std::int64_t total = 0;
  for (const auto* status :
       {"pending", "confirmed", "preparing", "out_for_delivery", "delivered", "cancelled"}) {
    ASSERT_TRUE(by_status.HasMember(status)) << status;
    const auto expected = sql(std::string("SELECT count(*) FROM orders WHERE status = '") + status + "'");
    EXPECT_EQ(std::to_string(by_status[status].GetInt64()), expected) << status;
    total += by_status[status].GetInt64();
  }
  // The same counts as GROUP BY, which names only the statuses that have orders.
  for (const auto& row : split(sql("SELECT string_agg(status || '=' || n, ';') FROM "
                                   "(SELECT status, count(*) AS n FROM orders GROUP BY status) s"),
                               ';')) {
    const auto fields = split(row, '=');
    ASSERT_EQ(fields.size(), 2U) << row;
    EXPECT_EQ(std::to_string(by_status[fields[0].c_str()].GetInt64()), fields[1]) << row;
  }
  EXPECT_EQ(total, k_orders);
  EXPECT_EQ(view["orders"].GetInt64(), k_orders);
  EXPECT_GT(by_status["delivered"].GetInt64(), 0);
  EXPECT_GT(by_status["cancelled"].GetInt64(), 0);
  EXPECT_EQ(by_status["pending"].GetInt64(), 0); // every order had at least one event
  EXPECT_EQ(std::to_string(view["order_events"].GetInt64()), sql("SELECT count(*) FROM order_events"));
  EXPECT_GT(view["order_events"].GetInt64(), k_orders);

  const auto text = inspect({"db"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("order events  " + sql("SELECT count(*) FROM order_events")), std::string::npos)
      << text.out;
  for (const auto& line : split(text.out, '\n')) {
    const auto words = words_of(line);
    if (words.size() == 2 && words[0] == "pending") {
      EXPECT_EQ(words[1], "0") << text.out;
    }
  }
  EXPECT_NE(text.out.find("out_for_delivery"), std::string::npos) << text.out;
}

// With --time-scale 0 every event carries created_at, so the times above are
// all 0. A thousandth of real time (a lifecycle of at most ~2.2 s) gives each
// event a time of its own; the view must show the same as SQL and grow.
TEST(InspectTimelineScaled, TimesSinceCreatedAreThoseOfTheTablesAndGrowStepByStep) {
  test::ScratchDatabase db("fptimelinescaled");
  const auto topic = test::unique_name("timelinescaled");
  const auto group = test::unique_name("group");
  ASSERT_EQ(test::run_foodpipe({"seed-db", "--db", db.uri()}).exit_code, 0);
  const auto produced = test::run_foodpipe({"produce", "--lifecycle", "--count", "3", "--time-scale", "0.001",
                                            "--seed", "1", "--rate", "0", "--topic", topic, "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const auto consumed = test::run_foodpipe(
      {"consume", "--db", db.uri(), "--topic", topic, "--group", group, "--until-end", "--quiet", "--json"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto sql = [&db](const std::string& query) { return test::query_value(db.conninfo(), query); };
  const auto order_id =
      sql("SELECT order_id FROM orders WHERE status = 'delivered' ORDER BY order_id LIMIT 1");
  ASSERT_FALSE(order_id.empty());
  const auto expected =
      split(sql("SELECT string_agg(((extract(epoch FROM e.occurred_at) - "
                "extract(epoch FROM o.created_at)) * 1000)::bigint::text, ';' ORDER BY e.applied_seq) "
                "FROM order_events e JOIN orders o USING (order_id) WHERE e.order_id = '" + order_id + "'"),
            ';');
  ASSERT_EQ(expected.size(), 4U);

  const auto result =
      test::run_foodpipe({"inspect", "order", order_id, "--db", db.uri(), "--topic", topic, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto view = test::parse_json(result.out);
  const auto& timeline = view["timeline"];
  ASSERT_EQ(timeline.Size(), 5U) << result.out;
  std::int64_t previous = 0;
  for (rapidjson::SizeType i = 1; i < timeline.Size(); ++i) {
    const auto since = timeline[i]["since_created_ms"].GetInt64();
    EXPECT_EQ(std::to_string(since), expected[i - 1]) << i;
    // Every step of the plan waits at least a second of real time: 1 ms here.
    EXPECT_GT(since, previous) << i;
    previous = since;
  }
}

} // namespace
} // namespace foodpipe
