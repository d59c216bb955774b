#include "db/order_events.hpp"

#include <charconv>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "domain/utf8.hpp"

namespace foodpipe::db {
namespace {

// The first text field PostgreSQL would refuse (a text column holds neither
// NUL bytes nor invalid UTF-8), or nullptr. Checked here so that the staging
// COPY cannot fail on data: one bad event then costs no savepoint dance.
const char* unstorable_field(const EventRow& event) {
  const auto bad = [](std::string_view text) {
    return text.find('\0') != std::string_view::npos || !domain::is_valid_utf8(text);
  };
  if (bad(event.event_id)) {
    return "event_id";
  }
  if (bad(event.order_id)) {
    return "order_id";
  }
  if (bad(event.customer_id)) {
    return "customer_id";
  }
  if (bad(event.status)) {
    return "status";
  }
  if (event.reason && bad(*event.reason)) {
    return "reason";
  }
  return nullptr;
}

template <typename Integer>
void integer_field(CopyBuffer& rows, Integer value) {
  char text[24];
  const auto converted = std::to_chars(text, text + sizeof text, value);
  rows.field(std::string_view(text, static_cast<std::size_t>(converted.ptr - text)));
}

} // namespace

std::string_view to_string(EventVerdict verdict) noexcept {
  switch (verdict) {
  case EventVerdict::applied: return "applied";
  case EventVerdict::duplicate: return "duplicate";
  case EventVerdict::illegal_transition: return "illegal_transition";
  case EventVerdict::unknown_order: return "unknown_order";
  case EventVerdict::customer_mismatch: return "customer_mismatch";
  case EventVerdict::conflicting_duplicate: return "conflicting_duplicate";
  case EventVerdict::rejected: return "rejected";
  }
  return "unknown";
}

bool same_event_content(const EventRow& a, const EventRow& b) noexcept {
  return a.event_id == b.event_id && a.order_id == b.order_id && a.status == b.status &&
         a.occurred_at == b.occurred_at && a.reason == b.reason;
}

EventPlan plan_events(const std::vector<EventRow>& events) {
  EventPlan plan;
  // event_id -> index into plan.candidates, or into events for a rejected first occurrence
  struct First {
    std::size_t index; // into events
    std::optional<std::size_t> candidate;
  };
  std::unordered_map<std::string_view, First> first_by_id;
  first_by_id.reserve(events.size());
  plan.candidates.reserve(events.size());
  for (std::size_t index = 0; index < events.size(); ++index) {
    const EventRow& event = events[index];
    const auto [found, inserted] = first_by_id.try_emplace(event.event_id, First{index, std::nullopt});
    if (inserted) {
      if (const char* field = unstorable_field(event)) {
        plan.decided.emplace_back(index, EventOutcome{EventVerdict::rejected, {},
                                                      std::string("the event's ") + field +
                                                          " holds a NUL byte or invalid UTF-8"});
        continue;
      }
      found->second.candidate = plan.candidates.size();
      plan.candidates.push_back(index);
      continue;
    }
    const EventRow& first = events[found->second.index];
    if (!same_event_content(first, event)) {
      // The position of the first occurrence is the one to look at; the topic
      // is the caller's, so describe it by partition and offset only.
      plan.decided.emplace_back(
          index, EventOutcome{EventVerdict::conflicting_duplicate, {},
                              "event_id \"" + domain::replace_invalid_utf8(event.event_id) +
                                  "\" was already used by the event at partition " +
                                  std::to_string(first.partition) + " offset " +
                                  std::to_string(first.offset) +
                                  " in the same batch, with different content"});
      continue;
    }
    if (!found->second.candidate) {
      plan.decided.emplace_back(index, EventOutcome{EventVerdict::rejected, {},
                                                    "a copy of an event PostgreSQL cannot store (NUL byte or "
                                                    "invalid UTF-8)"});
      continue;
    }
    plan.copies.emplace_back(*found->second.candidate, index);
  }
  return plan;
}

void append_event_stage_row(CopyBuffer& rows, const EventRow& event, std::size_t seq) {
  integer_field(rows, seq);
  rows.field(event.event_id);
  rows.field(event.order_id);
  rows.field(event.customer_id);
  rows.field(event.status);
  char time[domain::k_timestamp_text_size];
  const char* const time_end = domain::format_timestamp(event.occurred_at, time);
  rows.field(std::string_view(time, static_cast<std::size_t>(time_end - time)));
  if (event.reason) {
    rows.field(*event.reason);
  } else {
    rows.field(std::nullopt);
  }
  integer_field(rows, event.partition);
  integer_field(rows, event.offset);
  rows.end_row();
}

} // namespace foodpipe::db
