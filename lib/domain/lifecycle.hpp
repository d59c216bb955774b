#pragma once

// The seeded lifecycle of a generated order behind `produce --lifecycle`: the
// status events that follow an order, with the delay before each. Pure and
// reproducible: the plan is a function of the order's id, customer and
// created_at, of its PRNG stream and of the time scale only.
//
// The stream. Each order draws from a stream of its own,
// lifecycle_random(seed, n) for order n of a run, which is not the generator's
// stream: the orders of `--seed S` stay byte for byte what they were before
// lifecycles existed, and an order's events do not depend on how many orders
// or events came before it. Its seed is
//   SplitMix64(seed ^ k_lifecycle_salt).next() + n * 0x9E3779B97F4A7C15
// expanded by Xoshiro256StarStar's constructor (random.hpp) like any seed.
//
// The draws, in this order, each with bounded() of random.hpp:
//   cancelled?      bounded(100) < k_cancel_percent
//   if cancelled:   how many forward steps come first, bounded(4): 0 = while
//                   pending, 1 = confirmed, 2 = preparing, 3 = out_for_delivery
//   each forward step, in order (all four when not cancelled): its delay in
//                   milliseconds, lo + bounded(hi - lo + 1), with [lo, hi] of
//                   k_lifecycle_delays
//   if cancelled:   its delay the same way from k_cancel_delay, then the reason,
//                   k_cancel_reasons[bounded(4)]
// Each delay is then multiplied by the time scale (exactly, in integers,
// rounded half up to the millisecond): 1 is real time, 0.01 a hundred times
// faster, 0 no delay at all. occurred_at is created_at plus the scaled delays
// so far, so with a scale of 0 every event carries the order's created_at
// (their order is their order in the partition).
//
// Event ids are the order id's with "EVT-" for "ORD-" and the event's 1-based
// place in the lifecycle appended: "ORD-20260102-testrun1-0000001" ->
// "EVT-20260102-testrun1-0000001-1" ... "-4" (an order id of another shape gets
// "EVT-" in front). They carry the run id as order ids do, so runs never collide.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/order.hpp"
#include "domain/order_event.hpp"
#include "domain/random.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::domain {

inline constexpr std::uint64_t k_lifecycle_salt = 0x6c6966656379636cULL; // "lifecycl" in ASCII
inline constexpr std::uint32_t k_cancel_percent = 5;

// A delay's range in milliseconds, both ends included.
struct DelayRange {
  std::uint32_t lo;
  std::uint32_t hi;
};
// Before confirmed (after the order), preparing, out_for_delivery, delivered:
// confirmed within seconds, delivered within minutes.
inline constexpr std::array<DelayRange, 4> k_lifecycle_delays{{
    {1'000, 10'000},      // confirmed: 1 to 10 s after the order
    {5'000, 60'000},      // preparing: 5 s to 1 min later
    {120'000, 900'000},   // out_for_delivery: 2 to 15 min of cooking
    {180'000, 1'200'000}, // delivered: 3 to 20 min on the road
}};
inline constexpr DelayRange k_cancel_delay{1'000, 120'000}; // after the status it ends
inline constexpr std::array<std::string_view, 4> k_cancel_reasons{
    "customer cancelled", "restaurant too busy", "payment declined", "no courier available"};

// A factor for every delay, held exactly in millionths: 0 to k_max_time_scale.
class TimeScale {
public:
  static constexpr std::uint64_t k_one = 1'000'000; // millionths in 1.0

  constexpr TimeScale() noexcept = default; // real time
  [[nodiscard]] static constexpr TimeScale from_millionths(std::uint64_t millionths) noexcept {
    TimeScale scale;
    scale.m_millionths = millionths;
    return scale;
  }
  [[nodiscard]] constexpr std::uint64_t millionths() const noexcept { return m_millionths; }

  // delay x factor, rounded half up to the millisecond.
  [[nodiscard]] std::chrono::milliseconds apply(std::chrono::milliseconds delay) const noexcept;

  friend bool operator==(TimeScale, TimeScale) = default;

private:
  std::uint64_t m_millionths = k_one;
};

inline constexpr std::uint64_t k_max_time_scale = 1000;

// "1", "0.01", "0", "2.5": a plain decimal with at most 6 fraction digits,
// 0 to k_max_time_scale (the text of `--time-scale F`). nullopt for anything
// else: a sign, an exponent, ".5", "1.", more digits, a larger value.
[[nodiscard]] std::optional<TimeScale> parse_time_scale(std::string_view text) noexcept;

// The PRNG stream of order `sequence` (1-based, OrderGenerator::sequence())
// of the run seeded with `seed` (see the top of this file).
[[nodiscard]] Xoshiro256StarStar lifecycle_random(std::uint64_t seed, std::uint64_t sequence) noexcept;

// "EVT-<order id without ORD->-<ordinal>" (see the top of this file).
[[nodiscard]] std::string lifecycle_event_id(std::string_view order_id, std::size_t ordinal);

struct PlannedEvent {
  // After the previous event of the order, or after the order itself for the
  // first; already scaled.
  std::chrono::milliseconds delay{0};
  OrderStatusEvent event;

  friend bool operator==(const PlannedEvent&, const PlannedEvent&) = default;
};

// The status events that follow an order: confirmed, preparing,
// out_for_delivery, delivered, or a prefix of them ending in cancelled (with a
// reason). Every event's transition() from the one before (pending for the
// first) is applied. Draws from `random` as the top of this file says.
[[nodiscard]] std::vector<PlannedEvent> plan_lifecycle(std::string_view order_id,
                                                       std::string_view customer_id, Timestamp created_at,
                                                       Xoshiro256StarStar& random, TimeScale scale = {});
[[nodiscard]] std::vector<PlannedEvent> plan_lifecycle(const Order& order, Xoshiro256StarStar& random,
                                                       TimeScale scale = {});

} // namespace foodpipe::domain
