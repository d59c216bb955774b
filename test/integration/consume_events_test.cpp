// consume applies order status events (issue 14): orders and their events
// share a partition, the events move orders.status through the state machine
// and are stored once in order_events, the ones that cannot apply are dead
// letters (table and <topic>.dlq), and consuming the same range again changes
// nothing. Against the real broker and PostgreSQL.

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/generator.hpp"
#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/message.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/foreign_topic.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using test::parse_json;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

class ConsumeEventsTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    kafka::Admin admin(settings());
    admin.create_topic(m_topic, 1, 1, {}, 10s);
    admin.create_topic(m_topic + ".dlq", 1, 1, {}, 10s);
  }

  // One message as it is written by `produce` (orders: schema-version only)
  // or by an events producer (type and schema-version).
  struct Outgoing {
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  void publish(const std::vector<Outgoing>& messages) {
    std::uint64_t failed = 0;
    kafka::Producer producer(settings(), {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (const auto& message : messages) {
      kafka::Headers headers;
      for (const auto& [name, value] : message.headers) {
        headers.add(name, value);
      }
      producer.produce(m_topic, message.key, message.value, &headers, nullptr);
    }
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
  }

  static Outgoing order_message(const domain::Order& order) {
    return {order.customer_id,
            domain::encode(order),
            {{"schema-version", "1"}, {"content-type", "application/json"}}};
  }

  static Outgoing event_message(const std::string& event_id, const domain::Order& order,
                                domain::OrderStatus status, const char* occurred_at,
                                std::optional<std::string> reason = std::nullopt) {
    domain::OrderStatusEvent event{event_id, order.order_id, order.customer_id, status,
                                   *domain::parse_timestamp(occurred_at), std::move(reason)};
    const auto headers = domain::type_headers(domain::MessageKind::order_status);
    return {order.customer_id,
            domain::encode(event),
            {{std::string(domain::k_type_header), std::string(headers.type)},
             {std::string(domain::k_schema_version_header), std::string(headers.schema_version)}}};
  }

  test::CommandResult consume(const std::string& group) {
    return test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", group,
                               "--until-end", "--json", "--quiet"});
  }

  std::vector<std::string> dlq_reasons() {
    kafka::Reader reader(settings());
    const auto marks = reader.watermarks(m_topic + ".dlq", 0, 10s);
    std::vector<std::string> reasons;
    reader.read(m_topic + ".dlq", {{0, marks.low, marks.high}}, [&reasons](kafka::MessageView m) {
      reasons.push_back(std::string(m.header("original-offset").value_or("?")) + " " +
                        std::string(m.header("reason-code").value_or("(none)")));
      return true;
    });
    // The batch's own dead letters are published before the store's: order by position.
    std::sort(reasons.begin(), reasons.end());
    return reasons;
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  test::ScratchDatabase m_db{"fpevents"};
  std::string m_topic = test::unique_name("eventstest");
};

TEST_F(ConsumeEventsTest, EventsMoveOrdersOnceAndTheRestAreDeadLetters) {
  domain::OrderGenerator generator(1414, "events");
  const auto first = generator.next();
  const auto second = generator.next();
  const auto stranger = generator.next(); // never published: its events have no order

  Outgoing unsupported = order_message(first);
  unsupported.headers = {{"type", "invoice"}, {"schema-version", "1"}};
  publish({
      order_message(first),                                                                         // 0
      order_message(second),                                                                        // 1
      event_message("EVT-A-1", first, domain::OrderStatus::confirmed, "2026-01-02T03:04:09.911Z"),  // 2
      event_message("EVT-A-2", first, domain::OrderStatus::preparing, "2026-01-02T03:05:00.000Z"),  // 3
      // 4: backwards, preparing -> confirmed
      event_message("EVT-A-3", first, domain::OrderStatus::confirmed, "2026-01-02T03:05:30.000Z"),
      // 5: an order never published
      event_message("EVT-X-1", stranger, domain::OrderStatus::confirmed, "2026-01-02T03:06:00.000Z"),
      event_message("EVT-B-1", second, domain::OrderStatus::cancelled, "2026-01-02T03:07:00.000Z",
                    "customer cancelled"),                                                          // 6
      event_message("EVT-A-4", first, domain::OrderStatus::delivered, "2026-01-02T03:30:00.000Z"),  // 7
      unsupported,                                                                                  // 8
  });

  const auto run = consume(test::unique_name("group"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto summary = parse_json(run.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), 9U);
  EXPECT_EQ(summary["applied"].GetUint64(), 2U);
  EXPECT_EQ(summary["duplicates"].GetUint64(), 0U);
  EXPECT_EQ(summary["events_applied"].GetUint64(), 4U);
  EXPECT_EQ(summary["event_duplicates"].GetUint64(), 0U);
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 3U);
  EXPECT_EQ(summary["dead_letters_by_reason"]["illegal_transition"].GetUint64(), 1U);
  EXPECT_EQ(summary["dead_letters_by_reason"]["unknown_order"].GetUint64(), 1U);
  EXPECT_EQ(summary["dead_letters_by_reason"]["unsupported_schema"].GetUint64(), 1U);

  const std::string statuses =
      "SELECT string_agg(order_id || '=' || status, ',' ORDER BY order_id) FROM orders";
  const std::string expected_statuses =
      first.order_id < second.order_id ? first.order_id + "=delivered," + second.order_id + "=cancelled"
                                       : second.order_id + "=cancelled," + first.order_id + "=delivered";
  EXPECT_EQ(sql(statuses), expected_statuses);
  const std::string events =
      "SELECT string_agg(event_id || ' ' || order_id || ' ' || previous_status || '->' || status || ' @' || "
      "source_offset, ',' ORDER BY source_offset) FROM order_events";
  const std::string expected_events = "EVT-A-1 " + first.order_id + " pending->confirmed @2,EVT-A-2 " +
                                      first.order_id + " confirmed->preparing @3,EVT-B-1 " + second.order_id +
                                      " pending->cancelled @6,EVT-A-4 " + first.order_id +
                                      " preparing->delivered @7";
  EXPECT_EQ(sql(events), expected_events);
  const std::string letters =
      "SELECT string_agg(source_offset || ' ' || reason_code, ',' ORDER BY source_offset) FROM dead_letters";
  EXPECT_EQ(sql(letters), "4 illegal_transition,5 unknown_order,8 unsupported_schema");
  EXPECT_EQ(sql("SELECT reason FROM order_events WHERE event_id = 'EVT-B-1'"), "customer cancelled");
  EXPECT_EQ(dlq_reasons(),
            (std::vector<std::string>{"4 illegal_transition", "5 unknown_order", "8 unsupported_schema"}));

  // The same range again under a new group: every event is an exact
  // duplicate, nothing moves, the dead letters keep their first rows.
  const auto again = consume(test::unique_name("group"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto second_summary = parse_json(again.out);
  EXPECT_EQ(second_summary["consumed"].GetUint64(), 9U);
  EXPECT_EQ(second_summary["applied"].GetUint64(), 0U);
  EXPECT_EQ(second_summary["duplicates"].GetUint64(), 2U);
  EXPECT_EQ(second_summary["events_applied"].GetUint64(), 0U);
  EXPECT_EQ(second_summary["event_duplicates"].GetUint64(), 4U);
  EXPECT_EQ(second_summary["dead_letters_by_reason"]["illegal_transition"].GetUint64(), 1U);
  EXPECT_EQ(second_summary["dead_letters_by_reason"]["unknown_order"].GetUint64(), 1U);
  EXPECT_EQ(second_summary["dead_letters_by_reason"]["unsupported_schema"].GetUint64(), 1U);
  EXPECT_EQ(sql(statuses), expected_statuses);
  EXPECT_EQ(sql(events), expected_events);
  EXPECT_EQ(sql(letters), "4 illegal_transition,5 unknown_order,8 unsupported_schema");
}

// Events written by Kafka's own Java producer, in transactions: the order with
// no headers at all (read as an order of version 1), its events with only the
// two headers a stranger needs. The aborted transaction's event never moves the
// order, and the transaction markers leave holes the offsets pass over.
TEST_F(ConsumeEventsTest, EventsFromKafkasTransactionalProducerApplyOnlyWhenCommitted) {
  domain::OrderGenerator generator(2727, "strangerevents");
  const auto order = generator.next();
  const auto order_run = test::write_with_stranger(m_topic, {order.customer_id + "\t" + domain::encode(order)}, {});
  ASSERT_EQ(order_run.records.size(), 1U);

  std::vector<std::string> lines;
  for (const auto& [id, status] : std::vector<std::pair<const char*, domain::OrderStatus>>{
           {"EVT-S-1", domain::OrderStatus::confirmed},
           {"EVT-S-2", domain::OrderStatus::preparing},
           {"EVT-S-3", domain::OrderStatus::delivered}}) {
    const domain::OrderStatusEvent event{id, order.order_id, order.customer_id, status,
                                         *domain::parse_timestamp("2026-01-02T03:04:05.000Z"), std::nullopt};
    lines.push_back(order.customer_id + "\t" + domain::encode(event));
  }
  const auto events_run = test::write_with_stranger(
      m_topic, lines,
      {"--transactions", "c2,a1", "--header", "type=order_status", "--header", "schema-version=1"});
  ASSERT_EQ(events_run.count('C'), 2U);
  ASSERT_EQ(events_run.count('A'), 1U);

  const auto run = consume(test::unique_name("group"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto summary = parse_json(run.out);
  EXPECT_EQ(summary["applied"].GetUint64(), 1U);
  EXPECT_EQ(summary["events_applied"].GetUint64(), 2U);
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 0U);
  EXPECT_EQ(sql("SELECT status FROM orders"), "preparing");
  EXPECT_EQ(sql("SELECT string_agg(event_id || ' ' || previous_status || '->' || status, ',' "
                "ORDER BY applied_seq) FROM order_events"),
            "EVT-S-1 pending->confirmed,EVT-S-2 confirmed->preparing");
}

} // namespace
} // namespace foodpipe
