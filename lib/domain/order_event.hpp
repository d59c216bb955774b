#pragma once

// An order status event: one step of an order's lifecycle, published after the
// order under the same key (customer_id), so that Kafka keeps an order and its
// events in one partition, in order. Plain values, like order.hpp; the rules an
// event from outside must satisfy are checked by decode_event() in
// order_event_json.hpp.
//
// The state machine the consumer applies events with is here too, pure:
//
//   pending -> confirmed -> preparing -> out_for_delivery -> delivered
//      \___________\____________\_____________\______________> cancelled
//
// Forward moves are applied, including those that skip steps (pending ->
// preparing): a status event that was dead-lettered for its bytes must not
// strand every later event of its order. Refused, as illegal_transition: a move
// backwards, any move out of a final status (delivered, cancelled), and the
// current status again. The last one is a decision: a redelivered or replayed
// event is recognised by its event_id before the state machine is asked (an
// exact duplicate, counted), so a second, different event claiming the status
// the order already has is a producer's mistake worth a dead letter, and every
// event stays applied, duplicate or dead-lettered (rule 2 of
// docs/architecture.md) with no fourth, silent "ignored".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/order.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::domain {

struct OrderStatusEvent {
  std::string event_id;    // "EVT-20260102-testrun1-0000001-1" (lifecycle.hpp); unique per event
  std::string order_id;    // the order it moves
  std::string customer_id; // the order's customer: the Kafka message key, as for the order
  OrderStatus status = OrderStatus::confirmed; // the status the order moves to
  Timestamp occurred_at{};                     // UTC
  std::optional<std::string> reason;           // free text, e.g. why it was cancelled

  friend bool operator==(const OrderStatusEvent&, const OrderStatusEvent&) = default;
};

// True when both carry the same content in every field (times in UTC
// milliseconds, so "+02:00" and "Z" forms of one instant are equal). Tells an
// exact duplicate from a conflicting event that reuses an event_id.
[[nodiscard]] bool same_content(const OrderStatusEvent& a, const OrderStatusEvent& b) noexcept;

// delivered and cancelled: nothing moves an order out of them.
[[nodiscard]] bool is_final(OrderStatus status) noexcept;

enum class TransitionOutcome : std::uint8_t {
  applied, // the order moves to the event's status
  illegal  // refused: dead-lettered as illegal_transition
};

struct TransitionVerdict {
  TransitionOutcome outcome = TransitionOutcome::illegal;
  // Empty when applied; otherwise one line for the dead letter's detail:
  // "preparing -> confirmed: backwards", "delivered -> cancelled: delivered is final",
  // "confirmed -> confirmed: the order is already confirmed".
  std::string detail;

  [[nodiscard]] bool applied() const noexcept { return outcome == TransitionOutcome::applied; }
  friend bool operator==(const TransitionVerdict&, const TransitionVerdict&) = default;
};

// Whether an order in status `from` may move to `to` (see the top of this file).
// Of the 36 pairs, 14 are applied: each non-final status to every later one of
// the chain and to cancelled.
[[nodiscard]] TransitionVerdict transition(OrderStatus from, OrderStatus to);

} // namespace foodpipe::domain
