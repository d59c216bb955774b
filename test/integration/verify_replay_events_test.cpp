// inspect --verify and replay on a topic of orders and their status events
// (issue 14), against the real broker and PostgreSQL: 30 orders of
// produce --lifecycle and one event of no order (an unknown_order dead letter).
// Verify accounts for every event as for orders and names a lost order_events row; replaying the range
// into the database counts the events as already present and changes nothing,
// however often; a status changed by hand and a lost last event are put back,
// a lost earlier event is named and left, and deleting its order then
// replaying rebuilds the order's whole history.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "kafka/producer.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using test::parse_json;

// Every stored row of the tables the events touch, as text, in a fixed order;
// %s: the columns that only a row written again changes (processed_at,
// applied_seq, applied_at), or nothing.
constexpr const char* k_orders_dump =
    "SELECT coalesce(string_agg(concat_ws('|', order_id, customer_id, customer_name, customer_email, items::text,"
    " total_amount::text, status, created_at::text, source_topic, source_partition::text, source_offset::text%s),"
    " E'\\n' ORDER BY order_id), '') FROM orders";
constexpr const char* k_events_dump =
    "SELECT coalesce(string_agg(concat_ws('|', event_id, order_id, status, previous_status, occurred_at::text,"
    " coalesce(reason, '(none)'), source_topic, source_partition::text, source_offset::text%s),"
    " E'\\n' ORDER BY event_id), '') FROM order_events";
constexpr const char* k_dead_letters_dump =
    "SELECT coalesce(string_agg(concat_ws('|', source_topic, source_partition::text, source_offset::text,"
    " reason_code), E'\\n' ORDER BY source_partition, source_offset), '') FROM dead_letters";

class VerifyReplayEventsTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    const auto produced =
        test::run_foodpipe({"produce", "--topic", m_topic, "--lifecycle", "--count", "30", "--time-scale", "0",
                            "--rate", "0", "--seed", "1406", "--json", "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
    const auto summary = parse_json(produced.out);
    m_events = summary["events_delivered"].GetUint64();
    ASSERT_GT(m_events, 30U);
    ASSERT_NO_FATAL_FAILURE(publish_event_of_no_order());
    const auto consumed = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group",
                                              m_group, "--until-end", "--quiet"});
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
    ASSERT_EQ(count("order_events"), m_events);
  }

  // One more event, for an order that was never published: consume
  // dead-letters it (unknown_order), so every verdict of a consumed topic is here.
  void publish_event_of_no_order() {
    const domain::OrderStatusEvent event{"EVT-NOPE-1", "ORD-NOPE", "CUST-00001", domain::OrderStatus::confirmed,
                                         *domain::parse_timestamp("2026-01-02T03:04:05.000Z"), std::nullopt};
    const auto type = domain::type_headers(domain::MessageKind::order_status);
    kafka::Headers headers;
    headers.add(std::string(domain::k_type_header), std::string(type.type))
        .add(std::string(domain::k_schema_version_header), std::string(type.schema_version));
    std::uint64_t failed = 0;
    kafka::Producer producer({test::bootstrap_servers(), {}}, {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    producer.produce(m_topic, event.customer_id, domain::encode(event), &headers, nullptr);
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
  }

  test::CommandResult verify() {
    return test::run_foodpipe({"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                               "--json", "--quiet"});
  }

  test::CommandResult replay() {
    return test::run_foodpipe(
        {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning", "--json", "--quiet"});
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }
  std::uint64_t count(const std::string& table) { return std::stoull(sql("SELECT count(*) FROM " + table)); }

  // The whole state of the three tables; `when_written`: with the columns
  // that say when a row was written (a row written again changes them).
  std::string dump(bool when_written = true) {
    char orders[1000];
    std::snprintf(orders, sizeof orders, k_orders_dump, when_written ? ", processed_at::text" : "");
    char events[1000];
    std::snprintf(events, sizeof events, k_events_dump, when_written ? ", applied_seq::text, applied_at::text" : "");
    return sql(orders) + "\n--\n" + sql(events) + "\n--\n" + sql(k_dead_letters_dump);
  }

  // An order with at least `events` applied events; its id.
  std::string order_with_events(int events) {
    return sql("SELECT order_id FROM order_events GROUP BY order_id HAVING count(*) >= " + std::to_string(events) +
               " ORDER BY order_id LIMIT 1");
  }

  test::ScratchDatabase m_db{"fpverifyevents"};
  std::string m_topic = test::unique_name("verify_events");
  std::string m_group = test::unique_name("group");
  std::uint64_t m_events = 0;
};

TEST_F(VerifyReplayEventsTest, VerifyAccountsForEveryEventAsApplied) {
  const auto verified = verify();
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  const auto report = parse_json(verified.out);
  EXPECT_TRUE(report["passed"].GetBool());
  const auto& events = report["events"];
  EXPECT_EQ(events["checked"].GetUint64(), m_events + 1);
  EXPECT_EQ(events["applied"].GetUint64(), count("order_events"));
  EXPECT_EQ(events["applied"].GetUint64(), m_events);
  EXPECT_EQ(events["duplicates"].GetUint64(), 0U);
  EXPECT_EQ(events["dead_lettered"].GetUint64(), 1U);
  EXPECT_EQ(events["missing"].GetUint64(), 0U);
  EXPECT_EQ(events["different"].GetUint64(), 0U);
  // The totals hold the orders and the events.
  EXPECT_EQ(report["checked"].GetUint64(), 30U + m_events + 1);
  EXPECT_EQ(report["ok"].GetUint64(), 30U + m_events);
  EXPECT_EQ(report["dead_lettered"].GetUint64(), 1U);

  const auto text = test::run_foodpipe(
      {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--quiet"});
  ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("of which " + std::to_string(m_events + 1) + " order status events: " +
                          std::to_string(m_events) + " applied, 0 duplicates, 1 dead-lettered, 0 missing"),
            std::string::npos)
      << text.out;
}

TEST_F(VerifyReplayEventsTest, ReplayingTheRangeTwiceChangesNothing) {
  const auto before = dump();
  for (int round = 0; round < 2; ++round) {
    const auto replayed = replay();
    ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
    const auto summary = parse_json(replayed.out);
    EXPECT_EQ(summary["applied"].GetUint64(), 0U) << round;
    EXPECT_EQ(summary["restored"].GetUint64(), 0U) << round;
    // The event of no order is a dead letter again, recorded once.
    EXPECT_EQ(summary["dead_lettered"].GetUint64(), 1U) << round;
    EXPECT_EQ(summary["dead_letters_recorded"].GetUint64(), 0U) << round;
    EXPECT_EQ(summary["already_present"].GetUint64(), 30U + m_events) << round;
    const auto& events = summary["events"];
    EXPECT_EQ(events["read"].GetUint64(), m_events + 1) << round;
    EXPECT_EQ(events["already_present"].GetUint64(), m_events) << round;
    EXPECT_EQ(events["applied"].GetUint64(), 0U) << round;
    EXPECT_EQ(events["dead_lettered"].GetUint64(), 1U) << round;
    EXPECT_EQ(events["statuses_restored"].GetUint64(), 0U) << round;
    EXPECT_EQ(events["not_repaired"].GetUint64(), 0U) << round;
    EXPECT_EQ(dump(), before) << "round " << round;
  }
  EXPECT_EQ(verify().exit_code, 0);
}

TEST_F(VerifyReplayEventsTest, ALostEarlierEventIsNamedAndRebuiltByDeletingItsOrderAndReplaying) {
  const auto order_id = order_with_events(2);
  ASSERT_FALSE(order_id.empty());
  const auto before = dump(false);
  // Its first event: later events of the order are still stored.
  const auto event_id = sql("SELECT event_id FROM order_events WHERE order_id = '" + order_id +
                            "' ORDER BY applied_seq LIMIT 1");
  const auto offset = sql("SELECT source_offset FROM order_events WHERE event_id = '" + event_id + "'");
  sql("DELETE FROM order_events WHERE event_id = '" + event_id + "'");

  const auto verified = verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.out << verified.err;
  const auto report = parse_json(verified.out);
  EXPECT_FALSE(report["passed"].GetBool());
  EXPECT_EQ(report["events"]["missing"].GetUint64(), 1U);
  EXPECT_EQ(report["events"]["applied"].GetUint64(), m_events - 1);
  bool named = false;
  for (const auto& problem : report["problems"].GetArray()) {
    if (problem.HasMember("event_id") && problem["event_id"].GetString() == event_id) {
      named = true;
      EXPECT_STREQ(problem["kind"].GetString(), "missing");
      EXPECT_EQ(std::to_string(problem["offset"].GetInt64()), offset);
      EXPECT_STREQ(problem["order_id"].GetString(), order_id.c_str());
    }
  }
  EXPECT_TRUE(named) << verified.out;

  // Replay does not guess the event's place in the history, nor hide the loss
  // behind a dead letter: it says so, exit 1, and changes nothing.
  const auto lost = dump();
  const auto replayed = replay();
  EXPECT_EQ(replayed.exit_code, 1) << replayed.out << replayed.err;
  const auto summary = parse_json(replayed.out);
  EXPECT_EQ(summary["events"]["not_repaired"].GetUint64(), 1U);
  EXPECT_EQ(summary["events"]["applied"].GetUint64(), 0U);
  EXPECT_EQ(summary["dead_letters_recorded"].GetUint64(), 0U);
  EXPECT_NE(replayed.err.find(event_id), std::string::npos) << replayed.err;
  EXPECT_EQ(dump(), lost);
  EXPECT_EQ(verify().exit_code, 1);

  // The repair: delete the order (its events go with it) and replay.
  sql("DELETE FROM orders WHERE order_id = '" + order_id + "'");
  const auto repaired = replay();
  ASSERT_EQ(repaired.exit_code, 0) << repaired.out << repaired.err;
  const auto repair = parse_json(repaired.out);
  EXPECT_EQ(repair["events"]["not_repaired"].GetUint64(), 0U);
  EXPECT_EQ(repair["applied"].GetUint64(), 1U + repair["events"]["applied"].GetUint64());
  EXPECT_GE(repair["events"]["applied"].GetUint64(), 2U);
  EXPECT_EQ(repair["dead_letters_recorded"].GetUint64(), 0U);
  // Everything as consumed; only when the rebuilt rows were written differs.
  EXPECT_EQ(dump(false), before);
  EXPECT_EQ(count("order_events"), m_events);
  EXPECT_EQ(verify().exit_code, 0);
}

TEST_F(VerifyReplayEventsTest, AStatusChangedByHandAndALostLastEventArePutBack) {
  const auto order_id = order_with_events(2);
  ASSERT_FALSE(order_id.empty());
  const auto before = dump();
  sql("UPDATE orders SET status = 'pending' WHERE order_id = '" + order_id + "'");
  const auto verified = verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.out;
  EXPECT_EQ(parse_json(verified.out)["events"]["different"].GetUint64(), 1U) << verified.out;

  const auto replayed = replay();
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out << replayed.err;
  const auto summary = parse_json(replayed.out);
  EXPECT_EQ(summary["events"]["statuses_restored"].GetUint64(), 1U);
  EXPECT_EQ(summary["events"]["applied"].GetUint64(), 0U);
  EXPECT_EQ(summary["dead_letters_recorded"].GetUint64(), 0U);
  EXPECT_EQ(dump(), before);
  EXPECT_EQ(verify().exit_code, 0);

  // The order's last event: replay moves the order back one step and applies it again.
  const auto stable = dump(false);
  const auto last = sql("SELECT event_id FROM order_events WHERE order_id = '" + order_id +
                        "' ORDER BY applied_seq DESC LIMIT 1");
  sql("DELETE FROM order_events WHERE event_id = '" + last + "'");
  EXPECT_EQ(verify().exit_code, 1);
  const auto again = replay();
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  const auto repaired = parse_json(again.out);
  EXPECT_EQ(repaired["events"]["applied"].GetUint64(), 1U);
  EXPECT_EQ(repaired["events"]["not_repaired"].GetUint64(), 0U);
  EXPECT_EQ(dump(false), stable);
  EXPECT_EQ(verify().exit_code, 0);
}

} // namespace
} // namespace foodpipe
