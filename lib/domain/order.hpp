#pragma once

// The order, as produced to Kafka and stored in PostgreSQL. Plain values:
// copyable, comparable, no invariants enforced by the types themselves. The
// rules an order must satisfy (non-empty ids, exact totals, ...) are checked by
// decode() in order_json.hpp, the one gate every order from outside passes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/money.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::domain {

enum class OrderStatus : std::uint8_t {
  pending,
  confirmed,
  preparing,
  out_for_delivery,
  delivered,
  cancelled
};

// "pending", "confirmed", "preparing", "out_for_delivery", "delivered", "cancelled":
// the strings of the JSON and of the database; stable forever.
[[nodiscard]] std::string_view to_string(OrderStatus status) noexcept;
// The inverse of to_string (exact, case-sensitive); nullopt for anything else.
[[nodiscard]] std::optional<OrderStatus> parse_order_status(std::string_view text) noexcept;

struct LineItem {
  std::string item_id; // "ITEM-001"
  std::string name;    // UTF-8
  std::int32_t quantity = 0;
  Money price;    // per unit
  Money subtotal; // price * quantity for a valid order

  friend bool operator==(const LineItem&, const LineItem&) = default;
};

struct Order {
  std::string order_id;    // "ORD-20261128-k3v9q0ab-0000001"
  std::string customer_id; // "CUST-00042"; also the Kafka message key
  std::string customer_name;
  std::string customer_email;
  std::vector<LineItem> items;
  Money total_amount; // sum of the subtotals for a valid order
  OrderStatus status = OrderStatus::pending;
  Timestamp created_at{}; // UTC

  friend bool operator==(const Order&, const Order&) = default;
};

// True when both orders carry the same content in every field, compared in
// canonical form (amounts in cents, times in UTC milliseconds, items in their
// order). Two messages that decode to orders with the same content are exact
// duplicates even if their bytes differ ("8.9" vs "8.90", "+02:00" vs "Z",
// key order, whitespace). The consumer uses it to tell a harmless re-delivery
// from a conflicting order that reuses an id.
[[nodiscard]] bool same_content(const Order& a, const Order& b) noexcept;

} // namespace foodpipe::domain
