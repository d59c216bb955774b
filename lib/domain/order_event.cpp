#include "domain/order_event.hpp"

namespace foodpipe::domain {
namespace {

// The position on the forward chain; OrderStatus lists the chain in order, so
// its value is the position (cancelled, off the chain, is never compared).
int step(OrderStatus status) noexcept {
  return static_cast<int>(status);
}

TransitionVerdict refuse(OrderStatus from, OrderStatus to, std::string_view why) {
  std::string detail(to_string(from));
  detail += " -> ";
  detail += to_string(to);
  detail += ": ";
  detail += why;
  return {TransitionOutcome::illegal, std::move(detail)};
}

} // namespace

bool same_content(const OrderStatusEvent& a, const OrderStatusEvent& b) noexcept {
  // Spelled out rather than `a == b`, as for orders: a new field must be
  // classified as content or not here.
  return a.event_id == b.event_id && a.order_id == b.order_id && a.customer_id == b.customer_id &&
         a.status == b.status && a.occurred_at == b.occurred_at && a.reason == b.reason;
}

bool is_final(OrderStatus status) noexcept {
  return status == OrderStatus::delivered || status == OrderStatus::cancelled;
}

TransitionVerdict transition(OrderStatus from, OrderStatus to) {
  // The same status first, so that "delivered -> delivered" reads as a repeat
  // rather than as an attempt to leave delivered.
  if (from == to) {
    return refuse(from, to, "the order is already " + std::string(to_string(to)));
  }
  if (is_final(from)) {
    return refuse(from, to, std::string(to_string(from)) + " is final");
  }
  if (to == OrderStatus::cancelled || step(to) > step(from)) {
    return {TransitionOutcome::applied, {}};
  }
  return refuse(from, to, "backwards");
}

} // namespace foodpipe::domain
