#include "domain/order.hpp"

#include <array>

namespace foodpipe::domain {
namespace {

constexpr std::array<std::string_view, 6> k_status_names{"pending",          "confirmed", "preparing",
                                                         "out_for_delivery", "delivered", "cancelled"};

} // namespace

std::string_view to_string(OrderStatus status) noexcept {
  const auto index = static_cast<std::size_t>(status);
  return index < k_status_names.size() ? k_status_names[index] : std::string_view("pending");
}

std::optional<OrderStatus> parse_order_status(std::string_view text) noexcept {
  for (std::size_t i = 0; i < k_status_names.size(); ++i) {
    if (k_status_names[i] == text) {
      return static_cast<OrderStatus>(i);
    }
  }
  return std::nullopt;
}

bool same_content(const Order& a, const Order& b) noexcept {
  // Spelled out rather than `a == b` so that adding a field to Order without
  // deciding whether it is content shows up here in review.
  if (a.order_id != b.order_id || a.customer_id != b.customer_id || a.customer_name != b.customer_name ||
      a.customer_email != b.customer_email || a.total_amount != b.total_amount || a.status != b.status ||
      a.created_at != b.created_at || a.items.size() != b.items.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    const LineItem& x = a.items[i];
    const LineItem& y = b.items[i];
    if (x.item_id != y.item_id || x.name != y.name || x.quantity != y.quantity || x.price != y.price ||
        x.subtotal != y.subtotal) {
      return false;
    }
  }
  return true;
}

} // namespace foodpipe::domain
