// OrderStore applying order status events (Batch::events, table order_events)
// against the real PostgreSQL: each test migrates a scratch database of its own
// and drops it at the end. Needs PostgreSQL only, no broker.

#include <chrono>
#include <future>
#include <thread>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.hpp"
#include "db/connection.hpp"
#include "db/order_audit.hpp"
#include "db/order_store.hpp"
#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "pipeline/seed_db.hpp"
#include "support/test_env.hpp"

namespace foodpipe::db {
namespace {

constexpr std::string_view k_group = "order-processors";
constexpr std::string_view k_topic = "food-orders";

// 2026-01-02T03:04:05.678Z
domain::Timestamp fixed_time() { return domain::Timestamp{std::chrono::milliseconds{1'767'323'045'678}}; }

// The lifecycle of issue 14: forwards one step at a time, cancelled from any
// state before delivered. The tests' own table: the store only applies one.
std::vector<StatusTransition> lifecycle() {
  return {{"pending", "confirmed"},          {"confirmed", "preparing"},
          {"preparing", "out_for_delivery"}, {"out_for_delivery", "delivered"},
          {"pending", "cancelled"},          {"confirmed", "cancelled"},
          {"preparing", "cancelled"},        {"out_for_delivery", "cancelled"}};
}

std::vector<EventVerdict> verdicts(const WriteResult& result) {
  std::vector<EventVerdict> out;
  for (const auto& outcome : result.events) {
    out.push_back(outcome.verdict);
  }
  return out;
}

class OrderEventsStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    log::init(log::Level::warning, log::Format::text);
    pipeline::SeedDbOptions options;
    options.conninfo = m_database.conninfo();
    options.load_reference_data = false;
    (void)pipeline::seed_db(options);
    m_connection.emplace(Connection::connect(m_database.conninfo()));
    m_store.emplace(*m_connection);
    m_store->set_status_transitions(lifecycle());
  }

  [[nodiscard]] std::string query(const std::string& sql) const {
    return test::query_value(m_database.conninfo(), sql);
  }
  [[nodiscard]] int count(const std::string& table) const {
    return std::stoi(query("SELECT count(*) FROM " + table));
  }
  [[nodiscard]] std::string status_of(const domain::Order& order) const {
    return query("SELECT status FROM orders WHERE order_id = '" + order.order_id + "'");
  }
  [[nodiscard]] std::string stored_offset(int partition) const {
    return query("SELECT next_offset FROM consumer_offsets WHERE group_id = 'order-processors' AND "
                 "topic = 'food-orders' AND partition = " + std::to_string(partition));
  }

  [[nodiscard]] Batch batch(std::vector<OffsetAdvance> offsets = {}) const {
    Batch b;
    b.group = std::string(k_group);
    b.topic = std::string(k_topic);
    b.offsets = std::move(offsets);
    return b;
  }

  // n orders with fixed content, stored in partition 0 at offsets [0, n).
  std::vector<domain::Order> store_orders(std::size_t n) {
    domain::OrderGenerator generator(7, "eventtest", fixed_time);
    Batch b = batch({{0, std::nullopt, static_cast<std::int64_t>(n)}});
    std::vector<domain::Order> orders;
    for (std::size_t i = 0; i < n; ++i) {
      orders.push_back(generator.next());
      b.orders.push_back(IncomingOrder{orders.back(), 0, static_cast<std::int64_t>(i),
                                       orders.back().customer_id, domain::encode(orders.back())});
    }
    const auto result = m_store->write(b);
    EXPECT_EQ(result.applied, n);
    m_store->commit();
    return orders;
  }

  // An event of `order` at partition 0, `offset`, `seconds` after fixed_time().
  static EventRow event(const domain::Order& order, std::string event_id, std::string status,
                        std::int64_t offset, int seconds = 0) {
    EventRow row;
    row.event_id = std::move(event_id);
    row.order_id = order.order_id;
    row.customer_id = order.customer_id;
    row.status = std::move(status);
    row.occurred_at = fixed_time() + std::chrono::seconds(seconds);
    row.partition = 0;
    row.offset = offset;
    row.key = order.customer_id;
    row.value = "{\"event_id\":\"" + row.event_id + "\"}";
    return row;
  }

  test::ScratchDatabase m_database{"fp_events"};
  std::optional<Connection> m_connection;
  std::optional<OrderStore> m_store;
};

TEST_F(OrderEventsStoreTest, LegalChainsApplyInOrderInOneBatch) {
  const auto orders = store_orders(2);
  // Two orders' chains interleaved as one partition would carry them.
  Batch b = batch({{0, 2, 8}});
  b.events = {event(orders[0], "E-A1", "confirmed", 2, 1),
              event(orders[1], "E-B1", "confirmed", 3, 2),
              event(orders[0], "E-A2", "preparing", 4, 3),
              event(orders[0], "E-A3", "out_for_delivery", 5, 4),
              event(orders[1], "E-B2", "cancelled", 6, 5),
              event(orders[0], "E-A4", "delivered", 7, 6)};
  b.events[4].reason = "customer changed their mind";
  const auto result = m_store->write(b);
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(result.events_applied, 6U);
  EXPECT_EQ(result.event_duplicates, 0U);
  ASSERT_EQ(result.events.size(), 6U);
  const std::vector<std::string> previous = {"pending", "pending", "confirmed", "preparing", "confirmed",
                                             "out_for_delivery"};
  for (std::size_t i = 0; i < result.events.size(); ++i) {
    EXPECT_EQ(result.events[i].verdict, EventVerdict::applied) << i;
    EXPECT_EQ(result.events[i].previous_status, previous[i]) << i;
    EXPECT_EQ(result.events[i].detail, "") << i;
  }
  // Nothing visible before commit.
  EXPECT_EQ(count("order_events"), 0);
  EXPECT_EQ(status_of(orders[0]), "pending");
  m_store->commit();

  EXPECT_EQ(status_of(orders[0]), "delivered");
  EXPECT_EQ(status_of(orders[1]), "cancelled");
  EXPECT_EQ(stored_offset(0), "8");
  EXPECT_EQ(query("SELECT string_agg(event_id || ':' || status || '@' || source_offset, ',' "
                  "ORDER BY occurred_at) FROM order_events WHERE order_id = '" + orders[0].order_id + "'"),
            "E-A1:confirmed@2,E-A2:preparing@4,E-A3:out_for_delivery@5,E-A4:delivered@7");
  EXPECT_EQ(query("SELECT source_topic || '|' || source_partition || '|' || reason || '|' || "
                  "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') "
                  "FROM order_events WHERE event_id = 'E-B2'"),
            "food-orders|0|customer changed their mind|2026-01-02T03:04:10.678");
  EXPECT_EQ(query("SELECT count(*) FROM order_events WHERE reason IS NULL"), "5");
}

TEST_F(OrderEventsStoreTest, AnOrderAndItsEventsInTheSameBatch) {
  domain::OrderGenerator generator(11, "samebatch", fixed_time);
  const auto order = generator.next();
  Batch b = batch({{0, std::nullopt, 3}});
  b.orders.push_back(IncomingOrder{order, 0, 0, order.customer_id, domain::encode(order)});
  b.events = {event(order, "E-1", "confirmed", 1), event(order, "E-2", "preparing", 2)};
  const auto result = m_store->write(b);
  EXPECT_EQ(result.applied, 1U);
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::applied, EventVerdict::applied}));
  m_store->commit();
  EXPECT_EQ(status_of(order), "preparing");
  EXPECT_EQ(count("order_events"), 2);
}

TEST_F(OrderEventsStoreTest, IllegalMovesAreReportedAndChangeNothing) {
  const auto orders = store_orders(1);
  const auto& order = orders[0];
  Batch b = batch({{0, 1, 6}});
  b.events = {event(order, "E-1", "delivered", 1),  // skips ahead from pending
              event(order, "E-2", "confirmed", 2),  // legal
              event(order, "E-3", "pending", 3),    // backwards
              event(order, "E-4", "cancelled", 4),  // legal
              event(order, "E-5", "confirmed", 5)}; // out of a final state
  const auto result = m_store->write(b);
  EXPECT_EQ(verdicts(result),
            (std::vector<EventVerdict>{EventVerdict::illegal_transition, EventVerdict::applied,
                                       EventVerdict::illegal_transition, EventVerdict::applied,
                                       EventVerdict::illegal_transition}));
  EXPECT_EQ(result.events_applied, 2U);
  EXPECT_EQ(result.events[0].previous_status, "pending");
  EXPECT_EQ(result.events[2].previous_status, "confirmed");
  EXPECT_EQ(result.events[4].previous_status, "cancelled");
  EXPECT_EQ(result.events[2].detail, "event_id \"E-3\": order_id \"" + order.order_id +
                                         "\" is confirmed, and confirmed -> pending is not a legal move");
  m_store->commit();
  EXPECT_EQ(status_of(order), "cancelled");
  EXPECT_EQ(query("SELECT string_agg(event_id, ',' ORDER BY source_offset) FROM order_events"), "E-2,E-4");
}

TEST_F(OrderEventsStoreTest, AStatusOutsideTheTableIsIllegalNotAnError) {
  const auto orders = store_orders(1);
  Batch b = batch({{0, 1, 2}});
  b.events = {event(orders[0], "E-1", "lost_in_space", 1)};
  const auto result = m_store->write(b);
  EXPECT_EQ(verdicts(result), std::vector<EventVerdict>{EventVerdict::illegal_transition});
  m_store->commit();
  EXPECT_EQ(status_of(orders[0]), "pending");
  EXPECT_EQ(count("order_events"), 0);
}

TEST_F(OrderEventsStoreTest, DuplicatesAreCountedOnceAndNeverAppliedTwice) {
  const auto orders = store_orders(1);
  const auto& order = orders[0];
  Batch first = batch({{0, 1, 4}});
  first.events = {event(order, "E-1", "confirmed", 1), event(order, "E-2", "preparing", 2),
                  event(order, "E-1", "confirmed", 3)}; // a redelivery within the batch
  auto result = m_store->write(first);
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::applied, EventVerdict::applied,
                                                         EventVerdict::duplicate}));
  EXPECT_EQ(result.events_applied, 2U);
  EXPECT_EQ(result.event_duplicates, 1U);
  m_store->commit();
  const std::string k_applied =
      "SELECT string_agg(applied_at::text, ',' ORDER BY event_id) FROM order_events";
  const std::string applied_at = query(k_applied);

  // A replay of the same range (no offsets move): every event is a duplicate,
  // even E-1, whose move (pending -> confirmed) would now be backwards.
  Batch replay = batch();
  replay.events = first.events;
  result = m_store->write(replay);
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::duplicate, EventVerdict::duplicate,
                                                         EventVerdict::duplicate}));
  EXPECT_EQ(result.events_applied, 0U);
  EXPECT_EQ(result.event_duplicates, 3U);
  m_store->commit();
  EXPECT_EQ(count("order_events"), 2);
  EXPECT_EQ(status_of(order), "preparing");
  EXPECT_EQ(query(k_applied), applied_at);
}

TEST_F(OrderEventsStoreTest, SameEventIdOrPositionWithOtherContentIsAConflict) {
  const auto orders = store_orders(2);
  Batch first = batch({{0, 2, 3}});
  first.events = {event(orders[0], "E-1", "confirmed", 2)};
  (void)m_store->write(first);
  m_store->commit();

  Batch b = batch({{0, 3, 6}});
  b.events = {event(orders[0], "E-1", "cancelled", 3),  // stored E-1 said confirmed
              event(orders[1], "E-9", "confirmed", 4),
              event(orders[1], "E-9", "cancelled", 5)}; // E-9 again, other content, same batch
  auto result = m_store->write(b);
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::conflicting_duplicate,
                                                         EventVerdict::applied,
                                                         EventVerdict::conflicting_duplicate}));
  EXPECT_EQ(result.events[0].detail,
            "event_id \"E-1\" is already stored (from food-orders[0]@2) with different content");
  EXPECT_EQ(result.events[2].detail,
            "event_id \"E-9\" was already used by the event at partition 0 offset 4 in the same batch, "
            "with different content");
  m_store->commit();
  EXPECT_EQ(status_of(orders[0]), "confirmed");
  EXPECT_EQ(status_of(orders[1]), "confirmed");

  // A replay whose log was recreated: position food-orders[0]@2 now carries another event.
  Batch moved = batch();
  moved.events = {event(orders[1], "E-NEW", "preparing", 2)};
  result = m_store->write(moved);
  EXPECT_EQ(verdicts(result), std::vector<EventVerdict>{EventVerdict::conflicting_duplicate});
  EXPECT_EQ(result.events[0].detail,
            "event_id \"E-NEW\": its position food-orders[0]@2 already holds event_id \"E-1\"");
  m_store->commit();
  EXPECT_EQ(status_of(orders[1]), "confirmed");
  EXPECT_EQ(count("order_events"), 2);
}

TEST_F(OrderEventsStoreTest, UnknownOrdersAndOtherCustomersAreReported) {
  const auto orders = store_orders(1);
  domain::Order ghost = orders[0];
  ghost.order_id = "ORD-NOT-STORED";
  Batch b = batch({{0, 1, 4}});
  b.events = {event(ghost, "E-1", "confirmed", 1), event(orders[0], "E-2", "confirmed", 2),
              event(orders[0], "E-3", "preparing", 3)};
  b.events[1].customer_id = "CUST-SOMEONE-ELSE";
  const auto result = m_store->write(b);
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::unknown_order,
                                                         EventVerdict::customer_mismatch,
                                                         EventVerdict::illegal_transition}));
  EXPECT_EQ(result.events[0].detail, "event_id \"E-1\": order_id \"ORD-NOT-STORED\" is not stored");
  EXPECT_EQ(result.events[1].detail, "event_id \"E-2\": order_id \"" + orders[0].order_id +
                                         "\" belongs to customer_id \"" + orders[0].customer_id +
                                         "\", not \"CUST-SOMEONE-ELSE\"");
  EXPECT_EQ(result.events[2].previous_status, "pending") << "the mismatched event did not move the order";
  m_store->commit();
  EXPECT_EQ(count("order_events"), 0);
  EXPECT_EQ(status_of(orders[0]), "pending");
}

TEST_F(OrderEventsStoreTest, TextPostgresCannotStoreIsRejectedBeforeTheServer) {
  const auto orders = store_orders(1);
  Batch b = batch({{0, 1, 4}});
  b.events = {event(orders[0], "E-1", "confirmed", 1), event(orders[0], "E-2", "cancelled", 2),
              event(orders[0], "E-3", "preparing", 3)};
  b.events[1].reason = std::string("nul\0byte", 8);
  const auto result = m_store->write(b);
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::applied, EventVerdict::rejected,
                                                         EventVerdict::applied}));
  EXPECT_EQ(result.events[1].detail, "the event's reason holds a NUL byte or invalid UTF-8");
  m_store->commit();
  EXPECT_EQ(status_of(orders[0]), "preparing");
}

TEST_F(OrderEventsStoreTest, ARolledBackBatchLeavesNothing) {
  const auto orders = store_orders(1);
  Batch b = batch({{0, 1, 3}});
  b.events = {event(orders[0], "E-1", "confirmed", 1), event(orders[0], "E-2", "cancelled", 2)};
  const auto result = m_store->write(b);
  EXPECT_EQ(result.events_applied, 2U);
  ASSERT_EQ(m_store->record_dead_letters(std::string(k_group),
                                         {DeadLetter{std::string(k_topic), 0, 2, std::nullopt,
                                                     std::string("x"), domain::ReasonCode::invalid_value,
                                                     "test"}}),
            1U);
  m_store->rollback();
  EXPECT_EQ(count("order_events"), 0);
  EXPECT_EQ(count("dead_letters"), 0);
  EXPECT_EQ(status_of(orders[0]), "pending");
  EXPECT_EQ(stored_offset(0), "1");

  // The same batch again applies as if the first had never been.
  const auto again = m_store->write(b);
  EXPECT_EQ(verdicts(again), (std::vector<EventVerdict>{EventVerdict::applied, EventVerdict::applied}));
  m_store->commit();
  EXPECT_EQ(status_of(orders[0]), "cancelled");
}

TEST_F(OrderEventsStoreTest, OffsetsEventsAndTheirDeadLettersCommitTogether) {
  const auto orders = store_orders(1);
  // A stale batch (partition 0 is at 1, not 5) applies nothing at all.
  Batch stale = batch({{0, 5, 7}});
  stale.events = {event(orders[0], "E-1", "confirmed", 5), event(orders[0], "E-2", "preparing", 6)};
  const auto refused = m_store->write(stale);
  EXPECT_TRUE(refused.stale);
  EXPECT_TRUE(refused.events.empty());
  EXPECT_FALSE(m_store->in_batch());
  EXPECT_EQ(count("order_events"), 0);
  EXPECT_EQ(status_of(orders[0]), "pending");

  // A dead letter validation produced, then three events (one illegal).
  Batch b = batch({{0, 1, 5}});
  b.dead_letters.push_back(DeadLetter{std::string(k_topic), 0, 1, std::nullopt, std::string("old"),
                                      domain::ReasonCode::invalid_json, "given"});
  b.events = {event(orders[0], "E-1", "confirmed", 2), event(orders[0], "E-2", "delivered", 3),
              event(orders[0], "E-3", "preparing", 4)};
  const auto result = m_store->write(b);
  ASSERT_FALSE(result.stale);
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::applied,
                                                         EventVerdict::illegal_transition,
                                                         EventVerdict::applied}));
  EXPECT_EQ(result.dead_letters_recorded, 1U);
  // The caller dead-letters what was not applied, in the same transaction.
  std::vector<DeadLetter> letters;
  for (std::size_t i = 0; i < result.events.size(); ++i) {
    if (result.events[i].verdict == EventVerdict::illegal_transition) {
      const EventRow& row = b.events[i];
      letters.push_back(DeadLetter{std::string(k_topic), row.partition, row.offset, row.key, row.value,
                                   domain::ReasonCode::invalid_value, result.events[i].detail});
    }
  }
  EXPECT_EQ(m_store->record_dead_letters(std::string(k_group), letters), 1U);
  // Another session sees none of it before the commit.
  EXPECT_EQ(stored_offset(0), "1");
  EXPECT_EQ(count("order_events"), 0);
  EXPECT_EQ(count("dead_letters"), 0);
  m_store->commit();
  EXPECT_EQ(stored_offset(0), "5");
  EXPECT_EQ(status_of(orders[0]), "preparing");
  EXPECT_EQ(query("SELECT string_agg(event_id, ',' ORDER BY event_id) FROM order_events"), "E-1,E-3");
  EXPECT_EQ(query("SELECT string_agg(source_offset || ':' || reason_detail, ' | ' ORDER BY source_offset) "
                  "FROM dead_letters"),
            "1:given | 3:" + result.events[1].detail);
}

// Once events moved an order, its order message still describes the order as
// stored before them: a redelivery is a duplicate, not a conflict, and a
// replay's repair of other fields leaves the status to the events.
TEST_F(OrderEventsStoreTest, AnOrderMessageIsComparedWithTheStatusBeforeItsEvents) {
  const auto orders = store_orders(2);
  Batch b = batch({{0, 2, 4}});
  b.events = {event(orders[0], "E-1", "confirmed", 2), event(orders[0], "E-2", "preparing", 3)};
  (void)m_store->write(b);
  m_store->commit();

  // The same order message again (at a new position), and one with another status.
  auto other_status = orders[1];
  other_status.status = domain::OrderStatus::cancelled;
  Batch again = batch({{0, 4, 6}});
  again.orders = {IncomingOrder{orders[0], 0, 4, orders[0].customer_id, domain::encode(orders[0])},
                  IncomingOrder{other_status, 0, 5, other_status.customer_id, domain::encode(other_status)}};
  auto result = m_store->write(again);
  EXPECT_EQ(result.duplicates, 1U);
  ASSERT_EQ(result.dead_letters.size(), 1U);
  EXPECT_EQ(result.dead_letters[0].offset, 5);
  EXPECT_EQ(result.dead_letters[0].reason, domain::ReasonCode::conflicting_duplicate);
  m_store->commit();
  EXPECT_EQ(status_of(orders[0]), "preparing");

  // A stored row changed by hand, then repaired by a replay of its message:
  // the amount comes back, the status the events set stays.
  const std::string where = " WHERE order_id = '" + orders[0].order_id + "'";
  (void)query("UPDATE orders SET total_amount = total_amount + 1" + where);
  Batch repair = batch();
  repair.restore_changed_rows = true;
  repair.orders = {IncomingOrder{orders[0], 0, 0, orders[0].customer_id, domain::encode(orders[0])}};
  result = m_store->write(repair);
  EXPECT_EQ(result.restored, 1U);
  m_store->commit();
  EXPECT_EQ(query("SELECT status || '|' || total_amount FROM orders" + where),
            "preparing|" + orders[0].total_amount.to_string());

  // inspect --verify's audit agrees: the moved order's message is ok, and a
  // message with another status names the status stored before the events.
  auto audit_connection = Connection::connect(m_database.conninfo());
  OrderAudit audit(audit_connection, std::string(k_topic));
  auto tampered = orders[0];
  tampered.status = domain::OrderStatus::delivered;
  audit.add(IncomingOrder{orders[0], 0, 0, orders[0].customer_id, ""});
  audit.add(IncomingOrder{orders[1], 0, 1, orders[1].customer_id, ""});
  audit.add(IncomingOrder{tampered, 0, 7, tampered.customer_id, ""});
  const auto counts = audit.classify();
  EXPECT_EQ(counts.ok, 2U);
  EXPECT_EQ(counts.different, 1U);
  const auto problems = audit.problems(10);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].offset, 7);
  EXPECT_NE(problems[0].detail.find("status (stored pending, message delivered)"), std::string::npos)
      << problems[0].detail;
}

// Two writers of the same order's events (a replay while the consumer runs):
// the second waits for the order's row lock, then judges against what the
// first committed, so it counts the first's event as a duplicate instead of
// applying it again or failing on the event_id.
TEST_F(OrderEventsStoreTest, ASecondWriterWaitsForTheOrderAndSeesTheFirstsEvents) {
  using namespace std::chrono_literals;
  const auto orders = store_orders(1);
  Connection other = Connection::connect(m_database.conninfo());
  Connection observer = Connection::connect(m_database.conninfo());
  OrderStore second_store(other);
  second_store.set_status_transitions(lifecycle());

  Batch consumed = batch({{0, 1, 3}});
  consumed.events = {event(orders[0], "E-1", "confirmed", 1), event(orders[0], "E-2", "preparing", 2)};
  const auto first = m_store->write(consumed);
  ASSERT_EQ(first.events_applied, 2U);

  Batch replayed = batch();
  replayed.events = {event(orders[0], "E-1", "confirmed", 1), event(orders[0], "E-3", "cancelled", 5)};
  auto second = std::async(std::launch::async, [&] { return second_store.write(replayed); });
  const std::string waiting =
      "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()";
  for (int i = 0; i < 500 && observer.exec(waiting).value(0, 0) == "0"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(second.wait_for(0s), std::future_status::timeout) << "the second writer did not wait";
  m_store->commit();
  const auto result = second.get();
  EXPECT_EQ(verdicts(result), (std::vector<EventVerdict>{EventVerdict::duplicate, EventVerdict::applied}));
  EXPECT_EQ(result.events[1].previous_status, "preparing");
  second_store.commit();
  EXPECT_EQ(status_of(orders[0]), "cancelled");
  EXPECT_EQ(query("SELECT string_agg(event_id || ':' || previous_status || '->' || status, ',' "
                  "ORDER BY applied_seq) FROM order_events"),
            "E-1:pending->confirmed,E-2:confirmed->preparing,E-3:preparing->cancelled");
}

TEST_F(OrderEventsStoreTest, DeletingAnOrderTakesItsHistory) {
  const auto orders = store_orders(1);
  Batch b = batch({{0, 1, 2}});
  b.events = {event(orders[0], "E-1", "confirmed", 1)};
  (void)m_store->write(b);
  m_store->commit();
  (void)query("DELETE FROM orders WHERE order_id = '" + orders[0].order_id + "'");
  EXPECT_EQ(count("order_events"), 0);
}

TEST_F(OrderEventsStoreTest, MisuseIsRefusedBeforeTouchingTheDatabase) {
  const auto orders = store_orders(1);
  Connection other = Connection::connect(m_database.conninfo());
  OrderStore bare(other);
  Batch b = batch({{0, 1, 2}});
  b.events = {event(orders[0], "E-1", "confirmed", 1)};
  EXPECT_THROW((void)bare.write(b), std::logic_error);
  EXPECT_FALSE(bare.in_batch());
  EXPECT_THROW((void)bare.record_dead_letters(std::string(k_group), {}), std::logic_error);

  Batch outside = batch({{0, 1, 2}});
  outside.events = {event(orders[0], "E-1", "confirmed", 2)};
  EXPECT_THROW((void)m_store->write(outside), std::invalid_argument);
  Batch shared = batch({{0, 1, 3}});
  shared.events = {event(orders[0], "E-1", "confirmed", 1), event(orders[0], "E-2", "preparing", 1)};
  EXPECT_THROW((void)m_store->write(shared), std::invalid_argument);
  EXPECT_FALSE(m_store->in_batch());
  EXPECT_EQ(stored_offset(0), "1");
}

// The consumer's shape: 1 order : 4 events, many orders per batch, and a
// second batch that replays the first. Counts are exact; the time is printed
// for comparison, not asserted (a shared CI machine).
TEST_F(OrderEventsStoreTest, FullMixedBatches) {
  constexpr std::size_t k_orders = 400;
  domain::OrderGenerator generator(3, "mixed", fixed_time);
  const std::vector<std::string> chain = {"confirmed", "preparing", "out_for_delivery", "delivered"};
  Batch b = batch({{0, std::nullopt, static_cast<std::int64_t>(k_orders * 5)}});
  std::vector<domain::Order> orders;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < k_orders; ++i) {
    orders.push_back(generator.next());
    b.orders.push_back(IncomingOrder{orders.back(), 0, offset++, orders.back().customer_id,
                                     domain::encode(orders.back())});
  }
  // Each order's events in order, but the orders' chains interleaved.
  for (std::size_t step = 0; step < chain.size(); ++step) {
    for (std::size_t i = 0; i < k_orders; ++i) {
      b.events.push_back(event(orders[i], "E-" + std::to_string(i) + "-" + std::to_string(step), chain[step],
                               offset++, static_cast<int>(step)));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const auto result = m_store->write(b);
  m_store->commit();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.applied, k_orders);
  EXPECT_EQ(result.events_applied, k_orders * 4);
  EXPECT_EQ(count("order_events"), static_cast<int>(k_orders * 4));
  EXPECT_EQ(query("SELECT count(*) FROM orders WHERE status = 'delivered'"), std::to_string(k_orders));
  std::cout << "[          ] " << k_orders << " orders + " << k_orders * 4 << " events in one batch: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";

  Batch replay = b;
  replay.offsets.clear();
  const auto again = m_store->write(replay);
  m_store->commit();
  EXPECT_EQ(again.applied, 0U);
  EXPECT_EQ(again.duplicates, k_orders);
  EXPECT_EQ(again.events_applied, 0U);
  EXPECT_EQ(again.event_duplicates, k_orders * 4);
  EXPECT_EQ(count("order_events"), static_cast<int>(k_orders * 4));

  // For comparison: as many messages, all of them orders (partition 1).
  Batch only_orders = batch({{1, std::nullopt, static_cast<std::int64_t>(k_orders * 5)}});
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(k_orders * 5); ++i) {
    const auto order = generator.next();
    only_orders.orders.push_back(IncomingOrder{order, 1, i, order.customer_id, domain::encode(order)});
  }
  const auto orders_start = std::chrono::steady_clock::now();
  EXPECT_EQ(m_store->write(only_orders).applied, k_orders * 5);
  m_store->commit();
  const auto orders_elapsed = std::chrono::steady_clock::now() - orders_start;
  std::cout << "[          ] " << k_orders * 5 << " orders in one batch: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(orders_elapsed).count() << " ms\n";
}

} // namespace
} // namespace foodpipe::db
