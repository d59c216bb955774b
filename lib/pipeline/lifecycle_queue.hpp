#pragma once

// The status events `produce --lifecycle` still owes: every order in flight
// with the rest of its planned lifecycle, ordered by when its next event is
// due. A min-heap holds one entry per order in flight (its next event only),
// so that an order's events leave in their planned order, the earliest due
// event among thousands of orders is found in O(1) and each push or pop costs
// O(log n), and memory grows with the orders in flight, not with the events
// of the run. Pure: the caller reads the clock and publishes; not thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "domain/lifecycle.hpp"

namespace foodpipe::pipeline {

class LifecycleQueue {
public:
  using Clock = std::chrono::steady_clock;

  // Takes an order's planned events (plan_lifecycle(), already scaled), the
  // first due at order_due + its delay and each later one its delay after the
  // one before: the times are the plan's, not when events happened to go out,
  // so a late send never shifts the rest of a lifecycle. An empty plan is
  // ignored. Events due at the same time leave in the order they were added.
  void add(std::vector<domain::PlannedEvent> plan, Clock::time_point order_due);

  [[nodiscard]] bool empty() const noexcept { return m_heap.empty(); }
  // Orders with at least one event still to send.
  [[nodiscard]] std::size_t orders_in_flight() const noexcept { return m_heap.size(); }
  // Events added and not popped yet.
  [[nodiscard]] std::uint64_t events_pending() const noexcept { return m_pending; }

  // Precondition for both: !empty(). The earliest due event (its customer_id
  // is the message key) and when it is due.
  [[nodiscard]] Clock::time_point next_due() const noexcept { return m_heap.front().due; }
  [[nodiscard]] const domain::OrderStatusEvent& next() const noexcept;

  // Precondition: !empty(). Forgets next() (it was sent) and queues the
  // event after it of the same order, if any.
  void pop();

private:
  struct Lifecycle {
    std::vector<domain::PlannedEvent> plan;
    std::size_t next = 0; // index in plan of the event due next
  };
  struct Entry {
    Clock::time_point due;
    std::uint64_t sequence; // ties: first queued, first sent
    std::size_t slot;       // in m_lifecycles
  };
  // std::push_heap keeps the largest first; "larger" here is sooner.
  static bool later(const Entry& a, const Entry& b) noexcept {
    return a.due != b.due ? a.due > b.due : a.sequence > b.sequence;
  }
  void push(Clock::time_point due, std::size_t slot);

  std::vector<Entry> m_heap;
  // Slots of finished orders are reused, so the vector stays as large as the
  // most orders ever in flight at once.
  std::vector<Lifecycle> m_lifecycles;
  std::vector<std::size_t> m_free;
  std::uint64_t m_sequence = 0;
  std::uint64_t m_pending = 0;
};

} // namespace foodpipe::pipeline
