#pragma once

// OrderAudit: the database side of `foodpipe inspect --verify`
// (pipeline/verify.hpp says what is checked and why). Messages are staged in
// chunks of a few megabytes (COPY) into a session-temporary table, and each
// chunk is classified against orders and dead_letters by one query per
// question as soon as it is staged; no statement runs per message. The stage
// then is emptied for the next chunk, so the server's work per message is the
// same at any size (a pass over a stage of every message would spill its joins
// to disk and grow faster than the messages). Staging and classifying run on
// a worker thread, one chunk at a time, while the caller decodes the next
// chunk: the server and the caller work side by side. Only reads the
// foodpipe tables.
//
// A message whose values PostgreSQL refuses (a NUL byte, a time it cannot
// hold, anything the stage's types reject: what consume turns into a
// db_rejected dead letter) must not fail the audit: a chunk that is refused
// is staged again in halves, each its own COPY, until the refused rows stand
// alone. They are staged without their order, with the server's reason,
// and are accounted for only by a dead letter at their position, like a
// message that does not decode.
//
// Usage, one audit per connection at a time:
//   db::OrderAudit audit(connection, topic);        // creates/empties the stage
//   auto stored = audit.stored_offsets(group);      // before the first add
//   audit.add(incoming);                           // or add_undecodable(...), add_event(...)
//   ...
//   auto counts = audit.classify();                 // the last chunks, then the totals
//   if (counts.missing + counts.different > 0) audit.problems(20);
//
// Order status events are staged in a table of their own (order_audit_events.cpp)
// and classified against order_events and dead_letters the same way, in
// chunks of their own.
//
// Threading: the caller's methods are for one thread. Between the first add
// and classify() the connection belongs to the audit's worker (the caller
// must not use it); classify() and the destructor wait for the worker.
// Throws DbError (e.g. 42P01 without the schema: run seed-db); a failure of
// the worker is thrown by the add or classify() after it.
#include <cstdint>
#include <future>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.hpp"
#include "db/copy_buffer.hpp"
#include "db/order_batch.hpp"
#include "db/order_events.hpp"
#include "db/result.hpp"

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
  // Keeps the first `problem_limit` problems (problems()), by position.
  OrderAudit(Connection& connection, std::string topic, std::size_t problem_limit = 20);
  // Waits for the chunk being classified (an audit abandoned half-way); never throws.
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

  // Classifies the last chunks and returns the verdicts of every staged message.
  [[nodiscard]] AuditCounts classify();
  // After classify(): the first `limit` missing or different messages, in
  // (partition, offset) order (at most the constructor's problem_limit).
  [[nodiscard]] std::vector<AuditProblem> problems(std::size_t limit) const;

private:
  struct Position {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
  };
  // Messages staged and classified together: orders (and undecodable
  // messages) or order status events.
  struct Chunk {
    bool events = false;
    CopyBuffer rows;
    std::vector<Position> positions; // of an orders chunk's rows, in order
  };
  void added(std::int32_t partition, std::int64_t offset);
  // Hands the chunk being filled to the worker, once the one before is done.
  void submit(Chunk& filling);
  // Waits for the worker's chunk; rethrows its failure.
  void settle();
  // The worker's part: stage a chunk, classify it, add up its verdicts.
  void audit_chunk(const Chunk& chunk);
  void stage_orders(const Chunk& chunk);
  void stage_apart(const Chunk& chunk, std::size_t first, std::size_t last, std::vector<std::size_t>& starts,
                   CopyBuffer& refused);
  void refuse(const Position& position, const DbError& error, CopyBuffer& refused);
  void classify_orders();
  void classify_events(std::uint64_t staged);
  // Adds the rows of a "SELECT verdict, count(*) ... GROUP BY verdict" to
  // `counts` (AuditCounts or EventAuditCounts); returns how many of them are
  // missing or different.
  template <class Counts>
  static std::uint64_t add_verdicts(const Result& rows, Counts& counts);
  void keep_problems(std::vector<AuditProblem> found);
  void create_event_stage();
  void stage_events(const Chunk& chunk);
  [[nodiscard]] std::vector<AuditProblem> order_problems();
  [[nodiscard]] std::vector<AuditProblem> event_problems();

  Connection& m_connection;
  std::string m_topic;
  std::size_t m_problem_limit;
  Chunk m_orders;                     // being filled by the caller
  Chunk m_events{true, {}, {}};
  Chunk m_working;                    // being staged and classified by the worker
  std::future<void> m_worker;         // valid while m_working is the worker's
  std::string m_scratch;
  // The worker's results, read by the caller after settle().
  AuditCounts m_counts;
  std::vector<AuditProblem> m_problems; // the first m_problem_limit, by position
};

template <class Counts>
std::uint64_t OrderAudit::add_verdicts(const Result& rows, Counts& counts) {
  std::uint64_t problems = 0;
  for (int row = 0; row < rows.rows(); ++row) {
    const std::string_view verdict = rows.value(row, 0);
    const auto count = parse_integer<std::uint64_t>(rows.value(row, 1));
    if (verdict == "ok") {
      counts.ok += count;
    } else if (verdict == "duplicate") {
      counts.duplicates += count;
    } else if (verdict == "dead_lettered") {
      counts.dead_lettered += count;
    } else if (verdict == "missing") {
      counts.missing += count;
      problems += count;
    } else {
      counts.different += count;
      problems += count;
    }
  }
  return problems;
}

} // namespace foodpipe::db
