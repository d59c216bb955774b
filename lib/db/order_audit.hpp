#pragma once

// OrderAudit: the database side of `foodpipe inspect --verify`
// (pipeline/verify.hpp says what is checked and why). Messages are staged in
// bulk (COPY, in chunks) into a session-temporary table, then classified
// against orders and dead_letters by one query per question; no statement
// runs per message. One COPY stays open while messages are added, so the
// server stores a chunk while the caller decodes the next; no statement other
// than the COPY may run on the connection between the first add and
// classify(). Only reads the foodpipe tables.
//
// Usage, one audit per connection at a time:
//   db::OrderAudit audit(connection, topic);        // creates/empties the stage
//   audit.add(incoming);                           // or add_undecodable(...)
//   ...
//   auto counts = audit.classify();                 // flushes, one pass
//   if (counts.missing + counts.different > 0) audit.problems(20);
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

namespace foodpipe::db {

struct AuditCounts {
  std::uint64_t ok = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t missing = 0;
  std::uint64_t different = 0;
};

struct AuditProblem {
  std::string kind; // "missing" or "different"
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string order_id; // empty for a message that did not decode
  std::string detail;
};

class OrderAudit {
public:
  OrderAudit(Connection& connection, std::string topic);
  // Ends a COPY still open (an audit abandoned half-way); never throws.
  ~OrderAudit();
  OrderAudit(const OrderAudit&) = delete;
  OrderAudit& operator=(const OrderAudit&) = delete;

  // The group's stored next offsets for the audit's topic (partition -> next_offset).
  [[nodiscard]] std::map<std::int32_t, std::int64_t> stored_offsets(const std::string& group);

  // Stages a message that decoded (its order, partition and offset; key and
  // value are not used). COPYed once the chunk is full.
  void add(const IncomingOrder& message);
  // Stages a message that did not decode: accounted for only by a dead letter.
  void add_undecodable(std::int32_t partition, std::int64_t offset);

  // Flushes the last chunk and counts the verdicts of every staged message.
  [[nodiscard]] AuditCounts classify();
  // The first `limit` missing or different messages, in (partition, offset) order.
  [[nodiscard]] std::vector<AuditProblem> problems(std::size_t limit);

private:
  void flush();
  void finish_copy();

  Connection& m_connection;
  std::string m_topic;
  CopyBuffer m_rows;
  std::string m_scratch;
  bool m_copying = false; // a COPY into the stage is open on the connection
};

} // namespace foodpipe::db
