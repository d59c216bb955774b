// The pending status events of produce --lifecycle (pipeline/lifecycle_queue.hpp):
// earliest due first, one order's events in their planned order at their
// planned times, ties first-added-first, and one heap entry per order in flight.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "domain/lifecycle.hpp"
#include "domain/random.hpp"
#include "pipeline/lifecycle_queue.hpp"

namespace foodpipe::pipeline {
namespace {

using std::chrono::milliseconds;
using Clock = LifecycleQueue::Clock;

const Clock::time_point k_t0{std::chrono::seconds(1000)};

// A plan of events "<order>-1", "<order>-2", ... with the given delays (ms).
std::vector<domain::PlannedEvent> plan(const std::string& order, const std::vector<int>& delays_ms) {
  std::vector<domain::PlannedEvent> events;
  for (std::size_t i = 0; i < delays_ms.size(); ++i) {
    domain::PlannedEvent planned;
    planned.delay = milliseconds(delays_ms[i]);
    planned.event.event_id = order + "-" + std::to_string(i + 1);
    planned.event.order_id = order;
    planned.event.customer_id = "CUST-" + order;
    events.push_back(std::move(planned));
  }
  return events;
}

// Pops everything: "<event id>@<ms after k_t0>" in the order they leave.
std::vector<std::string> drain(LifecycleQueue& queue) {
  std::vector<std::string> out;
  while (!queue.empty()) {
    const auto at = std::chrono::duration_cast<milliseconds>(queue.next_due() - k_t0).count();
    out.push_back(queue.next().event_id + "@" + std::to_string(at));
    queue.pop();
  }
  return out;
}

TEST(LifecycleQueue, StartsEmptyAndIgnoresAnEmptyPlan) {
  LifecycleQueue queue;
  EXPECT_TRUE(queue.empty());
  queue.add({}, k_t0);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.orders_in_flight(), 0U);
  EXPECT_EQ(queue.events_pending(), 0U);
}

TEST(LifecycleQueue, OneOrdersEventsLeaveInOrderAtTheirCumulativeTimes) {
  LifecycleQueue queue;
  queue.add(plan("A", {1000, 5000, 0, 120000}), k_t0);
  EXPECT_EQ(queue.orders_in_flight(), 1U);
  EXPECT_EQ(queue.events_pending(), 4U);
  EXPECT_EQ(queue.next().customer_id, "CUST-A");
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"A-1@1000", "A-2@6000", "A-3@6000", "A-4@126000"}));
  EXPECT_EQ(queue.events_pending(), 0U);
  EXPECT_EQ(queue.orders_in_flight(), 0U);
}

TEST(LifecycleQueue, InterleavesOrdersByDueTime) {
  LifecycleQueue queue;
  queue.add(plan("A", {5, 5}), k_t0);
  queue.add(plan("B", {1, 10}), k_t0 + milliseconds(2));
  EXPECT_EQ(queue.orders_in_flight(), 2U);
  EXPECT_EQ(queue.events_pending(), 4U);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"B-1@3", "A-1@5", "A-2@10", "B-2@13"}));
}

TEST(LifecycleQueue, TiesLeaveFirstQueuedFirst) {
  // No delays at all (--time-scale 0): A's second event is queued after B's
  // first, so the two orders alternate, each still in its own order.
  LifecycleQueue queue;
  queue.add(plan("A", {0, 0}), k_t0);
  queue.add(plan("B", {0, 0}), k_t0);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"A-1@0", "B-1@0", "A-2@0", "B-2@0"}));
}

TEST(LifecycleQueue, AnOrderAddedLaterCanLeaveFirst) {
  LifecycleQueue queue;
  queue.add(plan("A", {60000}), k_t0);
  queue.add(plan("B", {1000}), k_t0 + milliseconds(100));
  EXPECT_EQ(queue.next().event_id, "B-1");
  EXPECT_EQ(queue.next_due(), k_t0 + milliseconds(1100));
  queue.pop();
  EXPECT_EQ(queue.orders_in_flight(), 1U);
  EXPECT_EQ(queue.events_pending(), 1U);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"A-1@60000"}));
}

TEST(LifecycleQueue, FinishedOrdersFreeTheirPlaceForNewOnes) {
  LifecycleQueue queue;
  queue.add(plan("A", {1}), k_t0);
  queue.add(plan("B", {2, 2}), k_t0);
  queue.pop(); // A-1: A is done
  EXPECT_EQ(queue.orders_in_flight(), 1U);
  queue.add(plan("C", {0}), k_t0 + milliseconds(1));
  EXPECT_EQ(queue.orders_in_flight(), 2U);
  EXPECT_EQ(queue.events_pending(), 3U);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"C-1@1", "B-1@2", "B-2@4"}));
}

TEST(LifecycleQueue, ManyOrdersInFlightLeaveInTimeOrderAndInOrderPerOrder) {
  // Real plans of 2000 orders placed 10 ms apart, with real-time delays: up to
  // 2000 in flight at once. Every event must leave no earlier than the one
  // before it, each order's events in lifecycle order, and all of them once.
  LifecycleQueue queue;
  std::uint64_t planned = 0;
  std::map<std::string, std::vector<domain::PlannedEvent>> plans;
  const domain::Timestamp created{milliseconds(1'767'323'045'678)};
  for (std::uint64_t n = 1; n <= 2000; ++n) {
    const auto order_id = "ORD-20260102-q-" + std::to_string(n);
    auto random = domain::lifecycle_random(7, n);
    auto events = domain::plan_lifecycle(order_id, "CUST-00001", created, random);
    planned += events.size();
    plans[order_id] = events;
    queue.add(std::move(events), k_t0 + milliseconds(10 * n));
  }
  EXPECT_EQ(queue.orders_in_flight(), 2000U);
  EXPECT_EQ(queue.events_pending(), planned);

  std::map<std::string, std::size_t> seen; // order id -> events popped so far
  Clock::time_point last = Clock::time_point::min();
  std::uint64_t popped = 0;
  while (!queue.empty()) {
    ASSERT_GE(queue.next_due(), last);
    last = queue.next_due();
    const auto& event = queue.next();
    auto& index = seen[event.order_id];
    const auto& expected = plans.at(event.order_id);
    ASSERT_LT(index, expected.size());
    EXPECT_EQ(event, expected[index].event) << event.order_id << " event " << index;
    ++index;
    queue.pop();
    ++popped;
  }
  EXPECT_EQ(popped, planned);
  for (const auto& [order_id, events] : plans) {
    EXPECT_EQ(seen[order_id], events.size()) << order_id;
  }
}

} // namespace
} // namespace foodpipe::pipeline
