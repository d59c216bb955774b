#include "domain/lifecycle.hpp"

#include <algorithm>

namespace foodpipe::domain {
namespace {

constexpr std::array<OrderStatus, 4> k_forward{OrderStatus::confirmed, OrderStatus::preparing,
                                               OrderStatus::out_for_delivery, OrderStatus::delivered};

std::chrono::milliseconds draw_delay(Xoshiro256StarStar& random, DelayRange range) {
  return std::chrono::milliseconds(range.lo + random.bounded(range.hi - range.lo + 1));
}

} // namespace

std::chrono::milliseconds TimeScale::apply(std::chrono::milliseconds delay) const noexcept {
  // In integers, so that a seed and a scale give the same times on every
  // machine; delays are minutes and the factor at most 1000, far from overflow.
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(delay.count(), 0));
  return std::chrono::milliseconds(static_cast<std::int64_t>((ms * m_millionths + k_one / 2) / k_one));
}

std::optional<TimeScale> parse_time_scale(std::string_view text) noexcept {
  constexpr std::size_t k_max_fraction_digits = 6;
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  const auto digits = [](std::string_view part) {
    return std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 4 || !digits(whole) || !digits(fraction) ||
      (dot != std::string_view::npos && fraction.empty()) || fraction.size() > k_max_fraction_digits) {
    return std::nullopt;
  }
  std::uint64_t millionths = 0;
  for (const char c : whole) {
    millionths = millionths * 10 + static_cast<std::uint64_t>(c - '0');
  }
  millionths *= TimeScale::k_one;
  std::uint64_t place = TimeScale::k_one;
  for (const char c : fraction) {
    place /= 10;
    millionths += place * static_cast<std::uint64_t>(c - '0');
  }
  if (millionths > k_max_time_scale * TimeScale::k_one) {
    return std::nullopt;
  }
  return TimeScale::from_millionths(millionths);
}

Xoshiro256StarStar lifecycle_random(std::uint64_t seed, std::uint64_t sequence) noexcept {
  // The golden-ratio step keeps neighbouring orders' seeds apart before the
  // constructor's SplitMix64 expansion decorrelates them fully.
  SplitMix64 base(seed ^ k_lifecycle_salt);
  return Xoshiro256StarStar(base.next() + sequence * 0x9E3779B97F4A7C15ULL);
}

std::string lifecycle_event_id(std::string_view order_id, std::size_t ordinal) {
  constexpr std::string_view k_order_prefix = "ORD-";
  std::string id = "EVT-";
  id += order_id.substr(0, k_order_prefix.size()) == k_order_prefix ? order_id.substr(k_order_prefix.size())
                                                                      : order_id;
  id += '-';
  id += std::to_string(ordinal);
  return id;
}

std::vector<PlannedEvent> plan_lifecycle(std::string_view order_id, std::string_view customer_id,
                                         Timestamp created_at, Xoshiro256StarStar& random, TimeScale scale) {
  const bool cancelled = random.bounded(100) < k_cancel_percent;
  const std::size_t forward_steps = cancelled ? random.bounded(static_cast<std::uint32_t>(k_forward.size()))
                                              : k_forward.size();
  std::vector<PlannedEvent> plan;
  plan.reserve(forward_steps + (cancelled ? 1 : 0));
  Timestamp at = created_at;
  const auto add = [&](OrderStatus status, std::chrono::milliseconds delay) -> OrderStatusEvent& {
    const std::chrono::milliseconds scaled = scale.apply(delay);
    // Clamped so that an order near the end of year 9999 still gets events
    // decode_event() accepts.
    at = k_max_timestamp - at < scaled ? k_max_timestamp : at + scaled;
    PlannedEvent& planned = plan.emplace_back();
    planned.delay = scaled;
    planned.event.event_id = lifecycle_event_id(order_id, plan.size());
    planned.event.order_id.assign(order_id);
    planned.event.customer_id.assign(customer_id);
    planned.event.status = status;
    planned.event.occurred_at = at;
    return planned.event;
  };
  for (std::size_t i = 0; i < forward_steps; ++i) {
    add(k_forward[i], draw_delay(random, k_lifecycle_delays[i]));
  }
  if (cancelled) {
    OrderStatusEvent& event = add(OrderStatus::cancelled, draw_delay(random, k_cancel_delay));
    const auto reasons = static_cast<std::uint32_t>(k_cancel_reasons.size());
    event.reason.emplace(k_cancel_reasons[random.bounded(reasons)]);
  }
  return plan;
}

std::vector<PlannedEvent> plan_lifecycle(const Order& order, Xoshiro256StarStar& random, TimeScale scale) {
  return plan_lifecycle(order.order_id, order.customer_id, order.created_at, random, scale);
}

} // namespace foodpipe::domain
