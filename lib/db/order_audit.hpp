#pragma once

// OrderAudit: the database side of `foodpipe inspect --verify`
// (pipeline/verify.hpp says what is checked and why). Messages are staged in
// bulk (COPY, in chunks) into a session-temporary table, then classified
// against orders and dead_letters by one query per question; no statement
// runs per message. Each chunk's COPY is sent as it fills and its outcome is
// collected when the next chunk is full, so the server stores a chunk while
// the caller decodes the next; no other statement may run on the connection
// between the first add and classify(). Only reads the foodpipe tables.
//
// A message whose values PostgreSQL refuses (a NUL byte, a time it cannot
// hold, anything the stage's types reject: what consume turns into a
// db_rejected dead letter) must not fail the audit: a chunk that is refused
// is staged again in halves, each its own COPY, until the refused rows stand
// alone. They are staged without their order, with the server's reason,
// and are accounted for only by a dead letter at their position, like a
// message that does not decode. Each chunk is kept until its outcome is known.
//
// Usage, one audit per connection at a time:
//   db::OrderAudit audit(connection, topic);        // creates/empties the stage
//   auto stored = audit.stored_offsets(group);      // before the first add
//   audit.add(incoming);                           // or add_undecodable(...), add_event(...)
//   ...
//   auto counts = audit.classify();                 // flushes, one pass
//   if (counts.missing + counts.different > 0) audit.problems(20);
//
// Order status events are staged in a table of their own (order_audit_events.cpp)
// and classified against order_events and dead_letters the same way: their
// COPY runs, synchronously, whenever their chunk fills, after the orders'
// outstanding COPY is collected.
//
// Threading: not thread-safe; uses its Connection (which must outlive it).
// Throws DbError (e.g. 42P01 without the schema: run seed-db).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "db/connection.hpp"
#include "db/copy_buffer.hpp"
#include "db/order_batch.hpp"
#include "db/order_events.hpp"

namespace foodpipe::db {

// The verdicts of the order status events among the staged messages
// (order_audit_events.cpp): ok is an order_events row at the message's own
// position with the same content, an event applied exactly there.
struct EventAuditCounts {
  std::uint64_t staged = 0;
  std::uint64_t ok = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t missing = 0;
  std::uint64_t different = 0;
};

struct AuditCounts {
  std::uint64_t ok = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t missing = 0;
  std::uint64_t different = 0;
  // Of all the above, messages whose values PostgreSQL refused to stage
  // (each is dead_lettered or missing).
  std::uint64_t refused = 0;
  // The events alone; the counts above are of the orders (and of messages
  // that decode as neither).
  EventAuditCounts events;
};

// A range of offsets a consumer group never read (table skipped_offsets).
struct SkippedRange {
  std::int32_t partition = 0;
  std::int64_t from = 0; // first offset not read
  std::int64_t to = 0;   // exclusive: the log start the group continued from
  std::string reason;    // "retention"
  std::string detected_at; // ISO-8601 UTC
};

struct AuditProblem {
  std::string kind; // "missing" or "different"
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string order_id; // empty for a message that did not decode
  std::string event_id; // set for an order status event only
  std::string detail;
};

class OrderAudit {
public:
  OrderAudit(Connection& connection, std::string topic);
  // Ends a COPY still open or awaited (an audit abandoned half-way); never throws.
  ~OrderAudit();
  OrderAudit(const OrderAudit&) = delete;
  OrderAudit& operator=(const OrderAudit&) = delete;

  // The group's stored next offsets for the audit's topic (partition -> next_offset).
  // Before the first add().
  [[nodiscard]] std::map<std::int32_t, std::int64_t> stored_offsets(const std::string& group);
  // The ranges of the audit's topic that the group skipped because they were
  // gone from the log (table skipped_offsets), by partition and offset.
  // Before the first add().
  [[nodiscard]] std::vector<SkippedRange> skipped_offsets(const std::string& group);

  // Stages a message that decoded (its order, partition and offset; key and
  // value are not used). COPYed once the chunk is full.
  void add(const IncomingOrder& message);
  // Stages a message that did not decode: accounted for only by a dead letter.
  void add_undecodable(std::int32_t partition, std::int64_t offset);

  // Stages an order status event (its fields, partition and offset; customer_id,
  // key and value are not used: order_events stores none of them).
  void add_event(const EventRow& event);
  // Stages a message whose headers say order_status but that did not decode:
  // accounted for only by a dead letter, and counted among the events.
  void add_undecodable_event(std::int32_t partition, std::int64_t offset);

  // Flushes the last chunk and counts the verdicts of every staged message.
  [[nodiscard]] AuditCounts classify();
  // The first `limit` missing or different messages, in (partition, offset) order.
  [[nodiscard]] std::vector<AuditProblem> problems(std::size_t limit);

private:
  struct Position {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
  };

  void added(std::int32_t partition, std::int64_t offset);
  void send_chunk();
  void collect();
  void stage_apart(std::size_t first, std::size_t last, const std::vector<std::size_t>& starts);
  void refuse(const Position& position, const DbError& error);
  void create_event_stage();
  void send_events();
  [[nodiscard]] EventAuditCounts classify_events();
  [[nodiscard]] std::vector<AuditProblem> event_problems(std::size_t limit);

  Connection& m_connection;
  std::string m_topic;
  CopyBuffer m_rows;                  // the chunk being filled
  std::vector<Position> m_positions;  // of m_rows' rows, in order
  CopyBuffer m_sent;                  // the chunk whose COPY outcome is awaited
  std::vector<Position> m_sent_positions;
  CopyBuffer m_refused;               // refused messages, staged at the end
  std::uint64_t m_refused_count = 0;
  std::string m_scratch;
  CopyBuffer m_events;                // staged events not yet COPYed
  std::uint64_t m_event_count = 0;
  bool m_copying = false; // a COPY into the stage is open on the connection
  bool m_awaiting = false; // the COPY of m_sent ended; its outcome is not read yet
};

} // namespace foodpipe::db
