// The seeded lifecycle plan of produce --lifecycle (lifecycle.hpp). The pinned
// values were computed independently, by a reimplementation of SplitMix64,
// xoshiro256** and Lemire's reduction from the specification at the top of
// lifecycle.hpp and random.hpp, not by running this code.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/generator.hpp"
#include "domain/lifecycle.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"

namespace foodpipe::domain {
namespace {

using std::chrono::milliseconds;

constexpr Timestamp k_created{milliseconds(1'767'323'045'678)}; // 2026-01-02T03:04:05.678Z
constexpr std::string_view k_order_id = "ORD-20260102-testrun1-0000001";
constexpr std::string_view k_customer = "CUST-00042";

// One planned event as text: "<delay ms> <status> <occurred_at> <event id>[ <reason>]".
std::vector<std::string> describe(const std::vector<PlannedEvent>& plan) {
  std::vector<std::string> lines;
  for (const PlannedEvent& planned : plan) {
    const OrderStatusEvent& event = planned.event;
    std::string line = std::to_string(planned.delay.count()) + " " + std::string(to_string(event.status)) +
                       " " + format_timestamp(event.occurred_at) + " " + event.event_id;
    if (event.reason) {
      line += " (" + *event.reason + ")";
    }
    lines.push_back(std::move(line));
    EXPECT_EQ(event.order_id, k_order_id);
    EXPECT_EQ(event.customer_id, k_customer);
  }
  return lines;
}

std::vector<std::string> pinned(std::uint64_t sequence, TimeScale scale = {}) {
  Xoshiro256StarStar random = lifecycle_random(42, sequence);
  return describe(plan_lifecycle(k_order_id, k_customer, k_created, random, scale));
}

TEST(LifecyclePlan, PinnedEventsOfSeed42) {
  // Order 1 of seed 42 is delivered.
  EXPECT_EQ(pinned(1), (std::vector<std::string>{
                           "6638 confirmed 2026-01-02T03:04:12.316Z EVT-20260102-testrun1-0000001-1",
                           "20538 preparing 2026-01-02T03:04:32.854Z EVT-20260102-testrun1-0000001-2",
                           "692994 out_for_delivery 2026-01-02T03:16:05.848Z EVT-20260102-testrun1-0000001-3",
                           "422200 delivered 2026-01-02T03:23:08.048Z EVT-20260102-testrun1-0000001-4",
                       }));
  // Order 105 is cancelled while out for delivery, order 4 while pending.
  EXPECT_EQ(pinned(105),
            (std::vector<std::string>{
                "9346 confirmed 2026-01-02T03:04:15.024Z EVT-20260102-testrun1-0000001-1",
                "41382 preparing 2026-01-02T03:04:56.406Z EVT-20260102-testrun1-0000001-2",
                "497617 out_for_delivery 2026-01-02T03:13:14.023Z EVT-20260102-testrun1-0000001-3",
                "107770 cancelled 2026-01-02T03:15:01.793Z EVT-20260102-testrun1-0000001-4 "
                "(restaurant too busy)",
            }));
  EXPECT_EQ(pinned(4), (std::vector<std::string>{"77459 cancelled 2026-01-02T03:05:23.137Z "
                                                 "EVT-20260102-testrun1-0000001-1 (no courier available)"}));
}

TEST(LifecyclePlan, TimeScaleMultipliesEveryDelay) {
  // 0.01: a hundred times faster, rounded half up to the millisecond (3460 -> 35, 98388 -> 984).
  EXPECT_EQ(pinned(29, *parse_time_scale("0.01")),
            (std::vector<std::string>{
                "35 confirmed 2026-01-02T03:04:05.713Z EVT-20260102-testrun1-0000001-1",
                "984 cancelled 2026-01-02T03:04:06.697Z EVT-20260102-testrun1-0000001-2 (customer cancelled)",
            }));
  // 0: no delay; every event carries the order's time. The draws are the same.
  EXPECT_EQ(pinned(1, TimeScale::from_millionths(0)),
            (std::vector<std::string>{
                "0 confirmed 2026-01-02T03:04:05.678Z EVT-20260102-testrun1-0000001-1",
                "0 preparing 2026-01-02T03:04:05.678Z EVT-20260102-testrun1-0000001-2",
                "0 out_for_delivery 2026-01-02T03:04:05.678Z EVT-20260102-testrun1-0000001-3",
                "0 delivered 2026-01-02T03:04:05.678Z EVT-20260102-testrun1-0000001-4",
            }));
}

TEST(LifecyclePlan, AnOrderPlansTheSameWhateverCameBefore) {
  Xoshiro256StarStar fresh = lifecycle_random(42, 105);
  const auto alone = plan_lifecycle(k_order_id, k_customer, k_created, fresh);
  for (std::uint64_t n = 1; n < 105; ++n) {
    Xoshiro256StarStar other = lifecycle_random(42, n);
    (void)plan_lifecycle(k_order_id, k_customer, k_created, other);
  }
  Xoshiro256StarStar again = lifecycle_random(42, 105);
  EXPECT_EQ(plan_lifecycle(k_order_id, k_customer, k_created, again), alone);
  Xoshiro256StarStar other_seed = lifecycle_random(43, 105);
  EXPECT_NE(plan_lifecycle(k_order_id, k_customer, k_created, other_seed), alone);
}

TEST(LifecyclePlan, AboutFivePercentAreCancelledAtEveryPoint) {
  // Seed 7, orders 1..20000: 1043 cancelled (5.2 %), after 0, 1, 2 and 3
  // forward steps 274, 252, 243 and 274 times.
  std::map<std::size_t, int> cancelled_after;
  int cancelled = 0;
  for (std::uint64_t n = 1; n <= 20'000; ++n) {
    Xoshiro256StarStar random = lifecycle_random(7, n);
    const auto plan = plan_lifecycle(k_order_id, k_customer, k_created, random);
    ASSERT_FALSE(plan.empty());
    if (plan.back().event.status == OrderStatus::cancelled) {
      ++cancelled;
      ++cancelled_after[plan.size() - 1];
    } else {
      ASSERT_EQ(plan.size(), 4U);
    }
  }
  EXPECT_EQ(cancelled, 1043);
  EXPECT_EQ(cancelled_after, (std::map<std::size_t, int>{{0, 274}, {1, 252}, {2, 243}, {3, 274}}));
}

TEST(LifecyclePlan, EveryPlanIsLegalWithinItsRangesAndSurvivesTheCodec) {
  OrderGenerator generator(99, "lifecycle", [] { return k_created; });
  Order order;
  for (int i = 0; i < 2000; ++i) {
    generator.next(order);
    Xoshiro256StarStar random = lifecycle_random(generator.seed(), generator.sequence());
    const auto plan = plan_lifecycle(order, random);
    OrderStatus status = OrderStatus::pending;
    Timestamp at = order.created_at;
    for (std::size_t k = 0; k < plan.size(); ++k) {
      const OrderStatusEvent& event = plan[k].event;
      ASSERT_TRUE(transition(status, event.status).applied()) << order.order_id;
      const std::size_t range = event.status == OrderStatus::cancelled ? 4 : k;
      const DelayRange bounds = range == 4 ? k_cancel_delay : k_lifecycle_delays[range];
      EXPECT_GE(plan[k].delay.count(), bounds.lo);
      EXPECT_LE(plan[k].delay.count(), bounds.hi);
      EXPECT_EQ(event.occurred_at, at + plan[k].delay);
      EXPECT_EQ(event.reason.has_value(), event.status == OrderStatus::cancelled);
      EXPECT_EQ(event.customer_id, order.customer_id);
      EXPECT_EQ(event.event_id, lifecycle_event_id(order.order_id, k + 1));
      const EventDecodeResult decoded = decode_event(encode(event));
      ASSERT_TRUE(decoded.ok()) << decoded.rejection().detail;
      EXPECT_EQ(decoded.event(), event);
      status = event.status;
      at = event.occurred_at;
    }
  }
}

TEST(LifecyclePlan, PlanningDoesNotChangeTheOrdersOfASeed) {
  // The lifecycle streams are separate: orders interleaved with plans are the
  // orders of a generator that plans nothing.
  OrderGenerator plain(42, "testrun1", [] { return k_created; });
  OrderGenerator planning(42, "testrun1", [] { return k_created; });
  for (int i = 0; i < 200; ++i) {
    const Order order = planning.next();
    Xoshiro256StarStar random = lifecycle_random(42, planning.sequence());
    (void)plan_lifecycle(order, random);
    EXPECT_EQ(encode(order), encode(plain.next()));
  }
}

TEST(LifecyclePlan, EventIdsCarryTheOrderIdAndThePlace) {
  EXPECT_EQ(lifecycle_event_id("ORD-20260102-testrun1-0000001", 3), "EVT-20260102-testrun1-0000001-3");
  EXPECT_EQ(lifecycle_event_id("legacy-17", 1), "EVT-legacy-17-1");
  // The longest order id decode() accepts still gives an event id decode_event() accepts.
  EXPECT_LE(lifecycle_event_id(std::string(k_max_order_id_size, 'x'), 5).size(), k_max_event_id_size);
}

TEST(LifecyclePlan, OccurredAtIsClampedAtTheLastInstant) {
  Xoshiro256StarStar random = lifecycle_random(42, 1);
  const auto plan = plan_lifecycle(k_order_id, k_customer, k_max_timestamp - milliseconds(10'000), random);
  ASSERT_EQ(plan.size(), 4U);
  EXPECT_EQ(plan[0].event.occurred_at, k_max_timestamp - milliseconds(10'000 - 6638));
  EXPECT_EQ(plan[3].event.occurred_at, k_max_timestamp);
}

TEST(LifecycleTimeScale, ParsesPlainDecimalsExactly) {
  EXPECT_EQ(parse_time_scale("1"), TimeScale::from_millionths(1'000'000));
  EXPECT_EQ(parse_time_scale("0.01"), TimeScale::from_millionths(10'000));
  EXPECT_EQ(parse_time_scale("0"), TimeScale::from_millionths(0));
  EXPECT_EQ(parse_time_scale("2.5"), TimeScale::from_millionths(2'500'000));
  EXPECT_EQ(parse_time_scale("0.000001"), TimeScale::from_millionths(1));
  EXPECT_EQ(parse_time_scale("1000"), TimeScale::from_millionths(1'000'000'000));
  EXPECT_EQ(parse_time_scale("1000.000000"), TimeScale::from_millionths(1'000'000'000));
  EXPECT_EQ(TimeScale{}, TimeScale::from_millionths(TimeScale::k_one));
  for (const std::string_view bad :
       {"", ".", ".5", "1.", "-1", "+1", "1e-2", "0.0000001", "1000.000001", "1001", "10000", "inf", "0,5",
        " 1"}) {
    EXPECT_EQ(parse_time_scale(bad), std::nullopt) << bad;
  }
}

TEST(LifecycleTimeScale, AppliesRoundingHalfUp) {
  const TimeScale hundredth = TimeScale::from_millionths(10'000);
  EXPECT_EQ(hundredth.apply(milliseconds(149)), milliseconds(1));
  EXPECT_EQ(hundredth.apply(milliseconds(150)), milliseconds(2));
  EXPECT_EQ(hundredth.apply(milliseconds(49)), milliseconds(0));
  EXPECT_EQ(TimeScale{}.apply(milliseconds(1'200'000)), milliseconds(1'200'000));
  EXPECT_EQ(TimeScale::from_millionths(1'000'000'000).apply(milliseconds(1'200'000)),
            milliseconds(1'200'000'000));
  EXPECT_EQ(TimeScale::from_millionths(0).apply(milliseconds(1'200'000)), milliseconds(0));
}

} // namespace
} // namespace foodpipe::domain
