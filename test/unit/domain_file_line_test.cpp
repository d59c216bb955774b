// classify_line(): which kind of message a line of `produce --from-file` holds
// (domain/file_line.hpp, docs/messages.md "Files of orders and events").

#include <string>

#include <gtest/gtest.h>

#include "domain/file_line.hpp"
#include "domain/generator.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"

namespace foodpipe::domain {
namespace {

// "order", "order_status" or "rejected: <reason> <detail>".
std::string kind_of(const std::string& line) {
  const auto result = classify_line(line);
  if (!result) {
    return "rejected: " + std::string(to_string(result.rejection().code)) + " " + result.rejection().detail;
  }
  EXPECT_EQ(result.type().version, 1U);
  return std::string(to_string(result.type().kind));
}

TEST(FileLine, EncodedOrdersAndEventsAreToldApartByTheirFields) {
  OrderGenerator generator(7, "fileline");
  const auto order = generator.next();
  EXPECT_EQ(kind_of(encode(order)), "order");
  const OrderStatusEvent event{"EVT-1", order.order_id, order.customer_id, OrderStatus::confirmed,
                               *parse_timestamp("2026-01-02T03:04:09.911Z"), std::nullopt};
  EXPECT_EQ(kind_of(encode(event)), "order_status");
  // The decision is by members, not by their place: event_id last still is an event.
  EXPECT_EQ(kind_of(R"({"status":"confirmed","order_id":"O","event_id":"E"})"), "order_status");
}

TEST(FileLine, ATypeMemberDecidesOverTheFields) {
  EXPECT_EQ(kind_of(R"({"type":"order_status","order_id":"O"})"), "order_status");
  EXPECT_EQ(kind_of(R"({"event_id":"E","type":"order"})"), "order");
  EXPECT_EQ(kind_of(R"({"type":"invoice","event_id":"E"})"),
            R"(rejected: unsupported_schema type "invoice" is not a message type foodpipe reads (order, order_status))");
  EXPECT_EQ(kind_of(R"({"type":"Order_Status"})").rfind("rejected: unsupported_schema", 0), 0U)
      << "matched exactly, as the header is";
  EXPECT_EQ(kind_of(R"({"type":1,"event_id":"E"})"),
            "rejected: unsupported_schema type: expected a string naming the message type (order, order_status)");
  EXPECT_EQ(kind_of(R"({"type":{"kind":"order"}})").rfind("rejected: unsupported_schema", 0), 0U);
  EXPECT_EQ(kind_of(R"({"type":null})").rfind("rejected: unsupported_schema", 0), 0U);
}

TEST(FileLine, OnlyTopLevelMembersCount) {
  // Nested "type", "event_id" and "items" are someone's unknown fields, not the line's kind.
  EXPECT_EQ(kind_of(R"({"order_id":"O","extra":{"type":"invoice","event_id":"E"}})"), "order");
  EXPECT_EQ(kind_of(R"({"event_id":"E","extra":{"items":[]}})"), "order_status");
  EXPECT_EQ(kind_of(R"({"event_id":"E","extra":[{"type":"invoice"}],"status":"confirmed"})"), "order_status");
}

TEST(FileLine, AnEventIdWithItemsIsAnOrder) {
  // An order line that happens to carry an unknown event_id stays an order, as
  // it was before files could hold events.
  EXPECT_EQ(kind_of(R"({"event_id":"E","items":[]})"), "order");
}

TEST(FileLine, WhatIsNeitherGoesToTheOrderDecoder) {
  // So that it is refused with the order decoder's reason, as before.
  EXPECT_EQ(kind_of(""), "order");
  EXPECT_EQ(kind_of("not json"), "order");
  EXPECT_EQ(kind_of("[1,2]"), "order");
  EXPECT_EQ(kind_of("null"), "order");
  EXPECT_EQ(kind_of(R"({"order_id": 12})"), "order");
  EXPECT_EQ(kind_of(R"({"event_id":"E")"), "order") << "truncated: the order decoder says invalid_json";
  EXPECT_EQ(decode(R"({"event_id":"E")").rejection().code, ReasonCode::invalid_json);
  EXPECT_EQ(kind_of(R"({"foo":1})"), "order");
}

} // namespace
} // namespace foodpipe::domain
