#pragma once

// Order status events as OrderStore applies them (table order_events,
// sql/006). Plain rows with no knowledge of the message format or of the state
// machine: the caller decodes the messages into EventRow and gives the store
// the legal moves as a table of (from, to) pairs (OrderStore::set_status_transitions),
// so the rules live in one place above this layer and the store only applies them.
//
// plan_events() and append_event_stage_row() are the parts that need no
// database. Pure; thread-safe on distinct arguments.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/copy_buffer.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::db {

// One consumed status event, with its Kafka coordinates (the topic is
// Batch::topic: events share the orders' topic so that an order and its
// events share a partition) and its raw bytes for a dead letter.
struct EventRow {
  std::string event_id;
  std::string order_id;
  std::string customer_id; // the message key; must equal the stored order's
  std::string status;      // the status the event moves the order to, e.g. "confirmed"
  domain::Timestamp occurred_at{};
  std::optional<std::string> reason; // e.g. why it was cancelled
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key; // nullopt: the message had no key
  std::string value;              // the message value as received

  friend bool operator==(const EventRow&, const EventRow&) = default;
};

// A legal move of orders.status. Statuses must be those that sql/002 allows.
struct StatusTransition {
  std::string from;
  std::string to;

  friend bool operator==(const StatusTransition&, const StatusTransition&) = default;
};

// What became of one event. Everything but applied and duplicate is for the
// caller to dead-letter (with the reason code of its choice).
enum class EventVerdict : std::uint8_t {
  applied,               // orders.status moved (or stayed, for a legal from == to) and the event was stored
  duplicate,             // the event_id is stored (or came earlier in the batch) with the same content
  illegal_transition,    // the table has no (current status, event status): nothing changed
  unknown_order,         // no order with this order_id is stored (nor inserted by this batch)
  customer_mismatch,     // the stored order belongs to another customer_id (another key)
  conflicting_duplicate, // the event_id, or the message's position, is taken by other content
  rejected               // text PostgreSQL cannot store (a NUL byte, invalid UTF-8): never sent
};

// "applied", "duplicate", ... exactly the enumerator's name.
[[nodiscard]] std::string_view to_string(EventVerdict verdict) noexcept;

struct EventOutcome {
  EventVerdict verdict = EventVerdict::applied;
  // The order's status just before this event was judged (after the batch's
  // earlier events of the same order): set for applied and illegal_transition.
  std::string previous_status;
  // One line for a dead letter, naming the event and what was in the way;
  // empty for applied and duplicate.
  std::string detail;

  friend bool operator==(const EventOutcome&, const EventOutcome&) = default;
};

// What happens to a batch's events before the database is asked.
struct EventPlan {
  // Indices into the events of the first occurrence of each event_id that
  // PostgreSQL can store, in the order given: the rows OrderStore stages.
  std::vector<std::size_t> candidates;
  // Later occurrences with the same content: (index into candidates, index
  // into the events). Each fares as its candidate does: a duplicate when the
  // candidate is applied or a duplicate, else the candidate's verdict.
  std::vector<std::pair<std::size_t, std::size_t>> copies;
  // Verdicts already known, by index into the events: rejected rows, later
  // occurrences with other content (conflicting_duplicate), and copies of a
  // rejected row (rejected). Indices not here are candidates or copies.
  std::vector<std::pair<std::size_t, EventOutcome>> decided;
};

// Deduplicates the events within the batch and sets aside the rejected ones.
[[nodiscard]] EventPlan plan_events(const std::vector<EventRow>& events);

// "Same content" of two events with the same event_id: order_id, status,
// occurred_at and reason (customer_id is the order's, position and bytes are
// the message's). The rule of the database's duplicate check, on rows.
[[nodiscard]] bool same_event_content(const EventRow& a, const EventRow& b) noexcept;

// The column list of the staging table OrderStore COPYs the candidates into.
inline constexpr std::string_view k_event_stage_columns =
    "seq, event_id, order_id, customer_id, status, occurred_at, reason, source_partition, source_offset";

// One staging row (k_event_stage_columns) for the event at `seq` in the plan's candidates.
void append_event_stage_row(CopyBuffer& rows, const EventRow& event, std::size_t seq);

} // namespace foodpipe::db
