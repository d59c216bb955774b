// The order status event: its JSON codec (order_event_json.hpp) and the state
// machine the consumer applies it with (order_event.hpp).

#include <array>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/order_event.hpp"
#include "domain/order_event_json.hpp"

namespace foodpipe::domain {
namespace {

using std::chrono::milliseconds;

constexpr Timestamp k_time{milliseconds(1'767'323'049'911)}; // 2026-01-02T03:04:09.911Z

const std::string k_valid = R"({"event_id":"EVT-20260102-testrun1-0000001-1",)"
                            R"("order_id":"ORD-20260102-testrun1-0000001","customer_id":"CUST-00042",)"
                            R"("status":"confirmed","occurred_at":"2026-01-02T03:04:09.911Z"})";

OrderStatusEvent valid_event() {
  OrderStatusEvent event;
  event.event_id = "EVT-20260102-testrun1-0000001-1";
  event.order_id = "ORD-20260102-testrun1-0000001";
  event.customer_id = "CUST-00042";
  event.status = OrderStatus::confirmed;
  event.occurred_at = k_time;
  return event;
}

// k_valid with `from` (exactly once in it) replaced by `to`.
std::string with(std::string_view from, std::string_view to) {
  std::string base = k_valid;
  const auto at = base.find(from);
  if (at == std::string::npos || base.find(from, at + 1) != std::string::npos) {
    ADD_FAILURE() << "\"" << from << "\" must occur exactly once";
    return base;
  }
  return base.replace(at, from.size(), to);
}

Rejection rejection_of(std::string_view bytes, const DecodeLimits& limits = {}) {
  const EventDecodeResult result = decode_event(bytes, limits);
  if (result.ok()) {
    ADD_FAILURE() << "decoded although it should not: " << bytes.substr(0, 200);
    return {};
  }
  return result.rejection();
}

// ------------------------------------------------------------------ encoding

TEST(OrderEventEncode, WritesTheDocumentedShapeExactly) {
  EXPECT_EQ(encode(valid_event()), k_valid);
}

TEST(OrderEventEncode, WritesAReasonLastAndOnlyWhenThereIsOne) {
  OrderStatusEvent event = valid_event();
  event.status = OrderStatus::cancelled;
  event.reason = "customer said \"no\"";
  EXPECT_EQ(encode(event), with(R"("status":"confirmed","occurred_at":"2026-01-02T03:04:09.911Z"})",
                                R"("status":"cancelled","occurred_at":"2026-01-02T03:04:09.911Z",)"
                                R"("reason":"customer said \"no\""})"));
}

TEST(OrderEventEncode, AppendsToTheBuffer) {
  std::string out = "x";
  encode(valid_event(), out);
  EXPECT_EQ(out, "x" + k_valid);
}

TEST(OrderEventEncode, RefusesTextThatIsNotUtf8NamingTheFieldAndLeavesTheBuffer) {
  OrderStatusEvent event = valid_event();
  event.reason = std::string("bad \xC3(");
  std::string out = "kept";
  try {
    encode(event, out);
    FAIL() << "encoded invalid UTF-8";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "cannot encode an order status event whose reason is not valid UTF-8");
  }
  EXPECT_EQ(out, "kept");
  event = valid_event();
  event.customer_id = "\xFF";
  EXPECT_THROW((void)encode(event), std::invalid_argument);
}

TEST(OrderEventEncode, RoundTripsEveryStatusAndAnEscapedReason) {
  for (int i = 0; i < 6; ++i) {
    OrderStatusEvent event = valid_event();
    event.status = static_cast<OrderStatus>(i);
    event.reason = i % 2 == 0 ? std::optional<std::string>("tab\there, Zoë") : std::nullopt;
    const EventDecodeResult decoded = decode_event(encode(event));
    ASSERT_TRUE(decoded.ok()) << decoded.rejection().detail;
    EXPECT_EQ(decoded.event(), event);
  }
}

// ------------------------------------------------------------------ decoding

TEST(OrderEventDecode, ReadsTheDocumentedShape) {
  const EventDecodeResult result = decode_event(k_valid);
  ASSERT_TRUE(result.ok()) << result.rejection().detail;
  EXPECT_EQ(result.event(), valid_event());
}

TEST(OrderEventDecode, AcceptsAnyKeyOrderOffsetsWhitespaceAndUnknownFields) {
  const std::string json = R"( { "type":"order_status", "extra":{"a":[1,{"b":null}],"n":-1.5e300},)"
                           R"( "status" : "cancelled", "reason":"payment declined",)"
                           R"( "occurred_at":"2026-01-02T05:04:09.911+02:00", "customer_id":"CUST-00042",)"
                           R"( "order_id":"ORD-20260102-testrun1-0000001",)"
                           R"( "event_id":"EVT-20260102-testrun1-0000001-1" } )";
  const EventDecodeResult result = decode_event(json);
  ASSERT_TRUE(result.ok()) << result.rejection().detail;
  OrderStatusEvent expected = valid_event();
  expected.status = OrderStatus::cancelled;
  expected.reason = "payment declined";
  EXPECT_EQ(result.event(), expected);
}

TEST(OrderEventDecode, ChecksTheRawBytesFirstAsOrdersDo) {
  EXPECT_EQ(rejection_of(std::string_view()),
            (Rejection{ReasonCode::null_value, "the message value is null (a tombstone)"}));
  EXPECT_EQ(rejection_of(k_valid, DecodeLimits{10}),
            (Rejection{ReasonCode::too_large, "the message is " + std::to_string(k_valid.size()) +
                                                  " bytes, more than the 10 allowed"}));
  EXPECT_EQ(rejection_of(with("CUST-00042", "CUST-\xC0\xAF")),
            (Rejection{ReasonCode::invalid_utf8, "invalid UTF-8 at byte 109"}));
  EXPECT_EQ(rejection_of(k_valid + std::string(1, '\0')),
            (Rejection{ReasonCode::invalid_json, "NUL byte at offset " + std::to_string(k_valid.size())}));
}

TEST(OrderEventDecode, RefusesWhatIsNotOneJsonObject) {
  EXPECT_EQ(rejection_of("").code, ReasonCode::invalid_json);
  EXPECT_EQ(rejection_of(k_valid + "{}").code, ReasonCode::invalid_json);
  EXPECT_EQ(rejection_of("\xEF\xBB\xBF" + k_valid).code, ReasonCode::invalid_json); // a byte order mark
  EXPECT_EQ(rejection_of("{\"event_id\":\"a\",}").code, ReasonCode::invalid_json);
  EXPECT_EQ(rejection_of("null"), (Rejection{ReasonCode::null_value, "the document is null"}));
  EXPECT_EQ(rejection_of("[1]"),
            (Rejection{ReasonCode::not_an_object, "the document is an array, not an object"}));
  EXPECT_EQ(rejection_of("\"x\""),
            (Rejection{ReasonCode::not_an_object, "the document is a string, not an object"}));
  EXPECT_EQ(rejection_of(std::string(100'000, '[') + std::string(100'000, ']')).code,
            ReasonCode::not_an_object); // iterative: deep nesting is no crash
}

TEST(OrderEventDecode, RefusesANumberBeyondDoubleAnywhereAsOrdersDo) {
  // RapidJSON refuses 1e400 while scanning (the offset is where the number
  // starts), even in a field that is skipped; what matters here is that an
  // event is judged as an order would be.
  const std::string huge = with(R"("status")", R"("n":1e400,"status")");
  const Rejection rejection = rejection_of(huge);
  EXPECT_EQ(rejection.code, ReasonCode::invalid_json);
  EXPECT_EQ(rejection.detail, "offset 120: Number too big to be stored in double.");
  const DecodeResult as_order = decode(huge);
  ASSERT_FALSE(as_order.ok());
  EXPECT_EQ(as_order.rejection().code, ReasonCode::invalid_json);
}

TEST(OrderEventDecode, RefusesRepeatedKeysAtAnyDepth) {
  EXPECT_EQ(rejection_of(with(R"("status":"confirmed")", R"("status":"confirmed","status":"delivered")")),
            (Rejection{ReasonCode::invalid_json, "duplicate key \"status\""}));
  EXPECT_EQ(rejection_of(with(R"("status")", R"("x":{"k":1,"k":2},"status")")),
            (Rejection{ReasonCode::invalid_json, "nested object: duplicate key \"k\""}));
  EXPECT_EQ(rejection_of(with(R"("status")", R"("x":1,"x":2,"status")")),
            (Rejection{ReasonCode::invalid_json, "duplicate key \"x\""}));
  // The same unknown key in two different objects is no repeat.
  EXPECT_TRUE(decode_event(with(R"("status")", R"("x":{"k":1},"y":{"k":2},"status")")).ok());
}

TEST(OrderEventDecode, RefusesAnEscapedLoneSurrogate) {
  EXPECT_EQ(rejection_of(with("CUST-00042", R"(CUST-\udc00)")),
            (Rejection{ReasonCode::invalid_json,
                       "customer_id: string escapes an unpaired UTF-16 surrogate"}));
}

TEST(OrderEventDecode, ReportsTheFirstMissingFieldInFieldOrder) {
  EXPECT_EQ(rejection_of(R"({"reason":"r"})"),
            (Rejection{ReasonCode::missing_field, "missing field \"event_id\""}));
  EXPECT_EQ(rejection_of(with(R"("customer_id":"CUST-00042",)", "")),
            (Rejection{ReasonCode::missing_field, "missing field \"customer_id\""}));
  EXPECT_EQ(rejection_of(with(R"(,"occurred_at":"2026-01-02T03:04:09.911Z")", "")),
            (Rejection{ReasonCode::missing_field, "missing field \"occurred_at\""}));
  // An earlier field's problem comes first whatever the key order.
  EXPECT_EQ(rejection_of(R"({"status":"nope","event_id":7})"),
            (Rejection{ReasonCode::wrong_type, "event_id: expected string, got number"}));
}

TEST(OrderEventDecode, ReportsWrongTypesNamingFieldAndType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with(R"("EVT-20260102-testrun1-0000001-1")", "12"), "event_id: expected string, got number"},
      {with(R"("ORD-20260102-testrun1-0000001")", "[]"), "order_id: expected string, got array"},
      {with(R"("CUST-00042")", "{}"), "customer_id: expected string, got object"},
      {with(R"("confirmed")", "true"), "status: expected string, got boolean"},
      {with(R"("2026-01-02T03:04:09.911Z")", "1767323049911"), "occurred_at: expected string, got number"},
      {with(R"(09.911Z")", R"(09.911Z","reason":null)"), "reason: expected string, got null"},
  };
  for (const auto& [json, detail] : cases) {
    EXPECT_EQ(rejection_of(json), (Rejection{ReasonCode::wrong_type, detail})) << json;
  }
}

TEST(OrderEventDecode, ReportsInvalidValuesNamingTheField) {
  const std::string long_event_id(k_max_event_id_size + 1, 'E');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with("EVT-20260102-testrun1-0000001-1", ""), "event_id: empty"},
      {with("EVT-20260102-testrun1-0000001-1", long_event_id), "event_id: longer than 64 bytes"},
      {with("ORD-20260102-testrun1-0000001", std::string(51, 'O')), "order_id: longer than 50 bytes"},
      {with("CUST-00042", R"(CUST\u0000)"), "customer_id: contains U+0000"},
      {with(R"("confirmed")", R"("Confirmed")"), "status: unknown value \"Confirmed\""},
      {with("2026-01-02T03:04:09.911Z", "2026-01-02T03:04:09.911"),
       "occurred_at: \"2026-01-02T03:04:09.911\" has no offset (Z or +HH:MM)"},
      {with("2026-01-02T03:04:09.911Z", "2026-02-29T03:04:09Z"),
       "occurred_at: \"2026-02-29T03:04:09Z\" is not a real date and time of day"},
      {with(R"(09.911Z")", R"(09.911Z","reason":"")"), "reason: empty"},
      {with(R"(09.911Z")", R"(09.911Z","reason":")" + std::string(201, 'r') + "\""),
       "reason: longer than 200 bytes"},
  };
  for (const auto& [json, detail] : cases) {
    EXPECT_EQ(rejection_of(json), (Rejection{ReasonCode::invalid_value, detail})) << json;
  }
  // The bounds themselves are accepted.
  const std::string longest_event_id(k_max_event_id_size, 'E');
  EXPECT_TRUE(decode_event(with("EVT-20260102-testrun1-0000001-1", longest_event_id)).ok());
}

TEST(OrderEventDecode, AcceptsPendingLeavingItsLegalityToTheStateMachine) {
  const EventDecodeResult result = decode_event(with(R"("confirmed")", R"("pending")"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.event().status, OrderStatus::pending);
}

TEST(OrderEventDecode, IntoReusesTheEventAndClearsAReasonThatIsGone) {
  OrderStatusEvent event;
  Rejection rejection;
  ASSERT_TRUE(decode_event_into(with(R"(09.911Z")", R"(09.911Z","reason":"r")"), event, rejection));
  EXPECT_EQ(event.reason, std::optional<std::string>("r"));
  ASSERT_TRUE(decode_event_into(k_valid, event, rejection));
  EXPECT_EQ(event, valid_event());
  EXPECT_FALSE(decode_event_into("{}", event, rejection));
  EXPECT_EQ(rejection, (Rejection{ReasonCode::missing_field, "missing field \"event_id\""}));
}

TEST(OrderEventDecode, SameContentComparesInstantsNotTheirText) {
  const EventDecodeResult z = decode_event(k_valid);
  const EventDecodeResult offset =
      decode_event(with("2026-01-02T03:04:09.911Z", "2026-01-02T04:04:09.911+01:00"));
  ASSERT_TRUE(z.ok() && offset.ok());
  EXPECT_TRUE(same_content(z.event(), offset.event()));
  OrderStatusEvent other = z.event();
  other.reason = "x";
  EXPECT_FALSE(same_content(z.event(), other));
  other = z.event();
  other.status = OrderStatus::preparing;
  EXPECT_FALSE(same_content(z.event(), other));
}

// ------------------------------------------------------------------ state machine

constexpr std::array<OrderStatus, 6> k_all{OrderStatus::pending,   OrderStatus::confirmed,
                                           OrderStatus::preparing, OrderStatus::out_for_delivery,
                                           OrderStatus::delivered, OrderStatus::cancelled};

TEST(OrderTransition, EveryPairOfStatuses) {
  // Rows: from; columns: to, in k_all's order. The whole table, written out
  // so that a change to any of the 36 answers fails here.
  const std::array<std::array<std::string_view, 6>, 6> expected{{
      {"pending -> pending: the order is already pending", "", "", "", "", ""},
      {"confirmed -> pending: backwards", "confirmed -> confirmed: the order is already confirmed", "", "",
       "", ""},
      {"preparing -> pending: backwards", "preparing -> confirmed: backwards",
       "preparing -> preparing: the order is already preparing", "", "", ""},
      {"out_for_delivery -> pending: backwards", "out_for_delivery -> confirmed: backwards",
       "out_for_delivery -> preparing: backwards",
       "out_for_delivery -> out_for_delivery: the order is already out_for_delivery", "", ""},
      {"delivered -> pending: delivered is final", "delivered -> confirmed: delivered is final",
       "delivered -> preparing: delivered is final", "delivered -> out_for_delivery: delivered is final",
       "delivered -> delivered: the order is already delivered",
       "delivered -> cancelled: delivered is final"},
      {"cancelled -> pending: cancelled is final", "cancelled -> confirmed: cancelled is final",
       "cancelled -> preparing: cancelled is final", "cancelled -> out_for_delivery: cancelled is final",
       "cancelled -> delivered: cancelled is final",
       "cancelled -> cancelled: the order is already cancelled"},
  }};
  int applied = 0;
  for (std::size_t from = 0; from < k_all.size(); ++from) {
    for (std::size_t to = 0; to < k_all.size(); ++to) {
      const TransitionVerdict verdict = transition(k_all[from], k_all[to]);
      const std::string_view detail = expected[from][to];
      EXPECT_EQ(verdict.outcome, detail.empty() ? TransitionOutcome::applied : TransitionOutcome::illegal)
          << to_string(k_all[from]) << " -> " << to_string(k_all[to]);
      EXPECT_EQ(verdict.detail, detail);
      EXPECT_EQ(verdict.applied(), detail.empty());
      applied += verdict.applied() ? 1 : 0;
    }
  }
  EXPECT_EQ(applied, 14);
}

TEST(OrderTransition, TheHappyPathAndACancellationApplyStepByStep) {
  OrderStatus status = OrderStatus::pending;
  const std::array<OrderStatus, 4> path{OrderStatus::confirmed, OrderStatus::preparing,
                                        OrderStatus::out_for_delivery, OrderStatus::delivered};
  for (const OrderStatus next : path) {
    ASSERT_TRUE(transition(status, next).applied()) << to_string(next);
    status = next;
  }
  EXPECT_TRUE(is_final(status));
  EXPECT_TRUE(transition(OrderStatus::out_for_delivery, OrderStatus::cancelled).applied());
  EXPECT_TRUE(is_final(OrderStatus::cancelled));
  EXPECT_FALSE(is_final(OrderStatus::out_for_delivery));
  EXPECT_FALSE(is_final(OrderStatus::pending));
}

} // namespace
} // namespace foodpipe::domain
