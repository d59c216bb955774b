// The consumer's pure mapping of order status events (issue 14): the
// transition table given to the store, what becomes of each message kind in a
// batch, and which store verdicts become which dead letters.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "pipeline/consume_rules.hpp"

namespace foodpipe::pipeline {
namespace {

using db::EventVerdict;
using domain::ReasonCode;

constexpr std::string_view k_event =
    R"({"event_id":"EVT-1-1","order_id":"ORD-1","customer_id":"CUST-00042","status":"cancelled",)"
    R"("occurred_at":"2026-01-02T03:04:09.911Z","reason":"customer cancelled"})";

db::Batch empty_batch() {
  db::Batch batch;
  batch.group = "g";
  batch.topic = "food-orders";
  return batch;
}

TEST(ConsumeStatusTransitions, AreExactlyTheMovesTheStateMachineApplies) {
  const std::vector<db::StatusTransition> expected{
      {"pending", "confirmed"},          {"pending", "preparing"},       {"pending", "out_for_delivery"},
      {"pending", "delivered"},          {"pending", "cancelled"},       {"confirmed", "preparing"},
      {"confirmed", "out_for_delivery"}, {"confirmed", "delivered"},     {"confirmed", "cancelled"},
      {"preparing", "out_for_delivery"}, {"preparing", "delivered"},     {"preparing", "cancelled"},
      {"out_for_delivery", "delivered"}, {"out_for_delivery", "cancelled"}};
  EXPECT_EQ(status_transitions(), expected);
}

TEST(ConsumeEventDeadLetterReason, MapsEveryVerdict) {
  EXPECT_EQ(event_dead_letter_reason(EventVerdict::applied), std::nullopt);
  EXPECT_EQ(event_dead_letter_reason(EventVerdict::duplicate), std::nullopt);
  EXPECT_EQ(event_dead_letter_reason(EventVerdict::illegal_transition), ReasonCode::illegal_transition);
  EXPECT_EQ(event_dead_letter_reason(EventVerdict::unknown_order), ReasonCode::unknown_order);
  EXPECT_EQ(event_dead_letter_reason(EventVerdict::customer_mismatch), ReasonCode::invalid_value);
  EXPECT_EQ(event_dead_letter_reason(EventVerdict::conflicting_duplicate), ReasonCode::conflicting_duplicate);
  EXPECT_EQ(event_dead_letter_reason(EventVerdict::rejected), ReasonCode::db_rejected);
}

TEST(ConsumeEventResultLabel, IsAppliedDuplicateOrDeadLetter) {
  EXPECT_EQ(event_result_label(EventVerdict::applied), "applied");
  EXPECT_EQ(event_result_label(EventVerdict::duplicate), "duplicate");
  for (const auto verdict : {EventVerdict::illegal_transition, EventVerdict::unknown_order,
                             EventVerdict::customer_mismatch, EventVerdict::conflicting_duplicate,
                             EventVerdict::rejected}) {
    EXPECT_EQ(event_result_label(verdict), "dead_letter") << db::to_string(verdict);
  }
}

TEST(ConsumeAddTypedMessage, AnOrderGoesThroughTheOrdersGateUnchanged) {
  const std::string order =
      R"({"order_id":"ORD-1","customer_id":"CUST-00042","customer_name":"Zoe",)"
      R"("customer_email":"z@example.com",)"
      R"("items":[{"item_id":"ITEM-003","name":"Bacon Burger","quantity":2,"price":10.99,"subtotal":21.98}],)"
      R"("total_amount":21.98,"status":"pending","created_at":"2026-01-02T03:04:05.678Z"})";
  auto via_type = empty_batch();
  add_typed_message(via_type, domain::classify_message(std::nullopt, "1"), 3, 17, "CUST-00042", order, {});
  auto direct = empty_batch();
  db::add_message(direct, 3, 17, "CUST-00042", order, {});
  ASSERT_EQ(via_type.orders.size(), 1U);
  EXPECT_EQ(via_type.orders[0].order, direct.orders[0].order);
  EXPECT_EQ(via_type.orders[0].offset, 17);
  EXPECT_TRUE(via_type.events.empty());
  EXPECT_TRUE(via_type.dead_letters.empty());
}

TEST(ConsumeAddTypedMessage, AnEventBecomesAnEventRow) {
  auto batch = empty_batch();
  add_typed_message(batch, domain::classify_message("order_status", "1"), 2, 40, "CUST-00042", k_event, {});
  ASSERT_EQ(batch.events.size(), 1U);
  EXPECT_TRUE(batch.orders.empty());
  EXPECT_TRUE(batch.dead_letters.empty());
  const auto& row = batch.events[0];
  EXPECT_EQ(row.event_id, "EVT-1-1");
  EXPECT_EQ(row.order_id, "ORD-1");
  EXPECT_EQ(row.customer_id, "CUST-00042");
  EXPECT_EQ(row.status, "cancelled");
  EXPECT_EQ(row.occurred_at, domain::decode_event(k_event).event().occurred_at);
  EXPECT_EQ(row.reason, std::optional<std::string>("customer cancelled"));
  EXPECT_EQ(row.partition, 2);
  EXPECT_EQ(row.offset, 40);
  EXPECT_EQ(row.key, std::optional<std::string>("CUST-00042"));
  EXPECT_EQ(row.value, k_event);
}

TEST(ConsumeAddTypedMessage, AnUnsupportedTypeIsDeadLetteredWithItsBytes) {
  auto batch = empty_batch();
  const auto type = domain::classify_message("invoice", "1");
  ASSERT_FALSE(type);
  add_typed_message(batch, type, 1, 5, std::nullopt, "{}", {});
  ASSERT_EQ(batch.dead_letters.size(), 1U);
  const db::DeadLetter expected{"food-orders", 1, 5, std::nullopt, std::string("{}"),
                                ReasonCode::unsupported_schema, type.rejection().detail};
  EXPECT_EQ(batch.dead_letters[0], expected);
  EXPECT_TRUE(batch.orders.empty());
  EXPECT_TRUE(batch.events.empty());
}

TEST(ConsumeAddTypedMessage, ABadEventIsDeadLetteredWithTheDecodersReason) {
  auto batch = empty_batch();
  const std::string bad = R"({"event_id":"EVT-1-1","order_id":"ORD-1"})";
  add_typed_message(batch, domain::classify_message("order_status", std::nullopt), 0, 9, "K", bad, {});
  const auto rejection = domain::decode_event(bad).rejection();
  EXPECT_EQ(rejection.code, ReasonCode::missing_field);
  ASSERT_EQ(batch.dead_letters.size(), 1U);
  const db::DeadLetter expected{"food-orders", 0, 9, std::string("K"), bad, rejection.code, rejection.detail};
  EXPECT_EQ(batch.dead_letters[0], expected);
  EXPECT_TRUE(batch.events.empty());
}

TEST(ConsumeAddTypedMessage, AnEventTombstoneIsANullValue) {
  auto batch = empty_batch();
  add_typed_message(batch, domain::classify_message("order_status", "1"), 0, 3, "K", std::nullopt, {});
  ASSERT_EQ(batch.dead_letters.size(), 1U);
  const db::DeadLetter expected{"food-orders", 0, 3, std::string("K"), std::nullopt, ReasonCode::null_value,
                                "tombstone: the message has no value"};
  EXPECT_EQ(batch.dead_letters[0], expected);
}

TEST(ConsumeEventDeadLetters, OnlyTheEventsNotAppliedWithTheStoresDetail) {
  auto batch = empty_batch();
  for (std::int64_t offset = 10; offset < 14; ++offset) {
    add_typed_message(batch, domain::classify_message("order_status", "1"), 4, offset, "CUST-00042", k_event,
                      {});
  }
  const std::vector<db::EventOutcome> outcomes{{EventVerdict::applied, "pending", ""},
                                               {EventVerdict::duplicate, "", ""},
                                               {EventVerdict::unknown_order, "", "x is not stored"},
                                               {EventVerdict::customer_mismatch, "", "y belongs to another"}};
  const auto letters = event_dead_letters(batch, outcomes);
  const std::vector<db::DeadLetter> expected{
      {"food-orders", 4, 12, std::string("CUST-00042"), std::string(k_event), ReasonCode::unknown_order,
       "x is not stored"},
      {"food-orders", 4, 13, std::string("CUST-00042"), std::string(k_event), ReasonCode::invalid_value,
       "y belongs to another"}};
  EXPECT_EQ(letters, expected);
}

} // namespace
} // namespace foodpipe::pipeline
