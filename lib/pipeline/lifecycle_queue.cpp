#include "pipeline/lifecycle_queue.hpp"

#include <algorithm>
#include <utility>

namespace foodpipe::pipeline {

void LifecycleQueue::add(std::vector<domain::PlannedEvent> plan, Clock::time_point order_due) {
  if (plan.empty()) {
    return;
  }
  const auto first_due = order_due + plan.front().delay;
  m_pending += plan.size();
  std::size_t slot = 0;
  if (m_free.empty()) {
    slot = m_lifecycles.size();
    m_lifecycles.push_back({std::move(plan), 0});
  } else {
    slot = m_free.back();
    m_free.pop_back();
    m_lifecycles[slot] = {std::move(plan), 0};
  }
  push(first_due, slot);
}

const domain::OrderStatusEvent& LifecycleQueue::next() const noexcept {
  const auto& lifecycle = m_lifecycles[m_heap.front().slot];
  return lifecycle.plan[lifecycle.next].event;
}

void LifecycleQueue::pop() {
  const Entry top = m_heap.front();
  std::pop_heap(m_heap.begin(), m_heap.end(), later);
  m_heap.pop_back();
  --m_pending;
  auto& lifecycle = m_lifecycles[top.slot];
  if (++lifecycle.next < lifecycle.plan.size()) {
    push(top.due + lifecycle.plan[lifecycle.next].delay, top.slot);
  } else {
    lifecycle.plan.clear(); // the events' strings go now, the slot's capacity stays
    m_free.push_back(top.slot);
  }
}

void LifecycleQueue::push(Clock::time_point due, std::size_t slot) {
  m_heap.push_back({due, m_sequence++, slot});
  std::push_heap(m_heap.begin(), m_heap.end(), later);
}

} // namespace foodpipe::pipeline
