#pragma once

// The order status event's JSON form: the value of a message with headers
// type=order_status and schema-version=1 (message_kind.hpp), and a dead
// letter's raw payload.
//
//   {"event_id":"EVT-20260102-testrun1-0000001-1","order_id":"ORD-20260102-testrun1-0000001",
//    "customer_id":"CUST-00042","status":"confirmed","occurred_at":"2026-01-02T03:04:09.911Z"}
//
// and, when the event has one, a last field "reason":"customer cancelled".
// encode() writes exactly that shape: fields in that order, no whitespace,
// occurred_at in UTC with milliseconds, "reason" only when present.
// decode_event() is the gate for events as decode() in order_json.hpp is for
// orders: the same reason codes, the same wording of a detail, the same order
// of checks. Thread-safe; knows nothing of Kafka or SQL.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "domain/order_event.hpp"
#include "domain/order_json.hpp"

namespace foodpipe::domain {

// Bounds decode_event() enforces, in bytes of UTF-8 (order_id and customer_id
// have the orders' k_max_order_id_size and k_max_id_size). An event id is an
// order id with a short suffix (lifecycle.hpp), hence a little more room.
inline constexpr std::size_t k_max_event_id_size = 64;
inline constexpr std::size_t k_max_reason_size = 200;

// An event or the Rejection that explains why there is none.
class EventDecodeResult {
public:
  explicit EventDecodeResult(OrderStatusEvent event) : m_value(std::move(event)) {}
  explicit EventDecodeResult(Rejection rejection) : m_value(std::move(rejection)) {}

  [[nodiscard]] bool ok() const noexcept { return m_value.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // Precondition: ok() (event) or !ok() (rejection); std::bad_variant_access otherwise.
  [[nodiscard]] const OrderStatusEvent& event() const& { return std::get<OrderStatusEvent>(m_value); }
  [[nodiscard]] OrderStatusEvent&& event() && { return std::get<OrderStatusEvent>(std::move(m_value)); }
  [[nodiscard]] const Rejection& rejection() const& { return std::get<Rejection>(m_value); }

private:
  std::variant<OrderStatusEvent, Rejection> m_value;
};

// Appends the JSON of `event` to `out`. Does not check the event's rules; an
// event that passed decode_event() or came from plan_lifecycle() round-trips
// exactly. Throws std::invalid_argument naming the field, with `out` as it was,
// when a string field is not valid UTF-8.
void encode(const OrderStatusEvent& event, std::string& out);
[[nodiscard]] std::string encode(const OrderStatusEvent& event);

// Decodes and validates one message value. Checks, in this order:
//   the raw bytes as decode() does: null_value (a tombstone), too_large,
//   invalid_utf8, a NUL byte -> invalid_json
//   not exactly one JSON document, a repeated key in any object, an escaped
//   lone surrogate in a field's string                    -> invalid_json
//   the document is `null`                                -> null_value
//   the document is not an object                         -> not_an_object
//   then each field in the order encode() writes them, reporting the first problem:
//     absent (all but reason) -> missing_field, not a string -> wrong_type
//     (null included: a reason that is not there is left out),
//     unacceptable value -> invalid_value: an id empty, longer than its bound
//     or holding U+0000; a status that is not one of the six; an occurred_at
//     that parse_timestamp() refuses; a reason empty, longer than
//     k_max_reason_size or holding U+0000.
// Any of the six statuses is a valid event here, pending included: whether it
// can be applied is transition()'s question, asked by the consumer.
// Unknown fields are accepted and skipped at any depth (keys still unique).
// Never throws except std::bad_alloc.
[[nodiscard]] EventDecodeResult decode_event(std::string_view bytes, const DecodeLimits& limits = {});

// The same into `event`, reusing its capacity; false with `rejection` filled on
// failure, `event` then in an unspecified valid state.
bool decode_event_into(std::string_view bytes, OrderStatusEvent& event, Rejection& rejection,
                       const DecodeLimits& limits = {});

} // namespace foodpipe::domain
