#pragma once

// The audit behind `foodpipe inspect --verify`: is every message below a
// group's stored offsets accounted for in the database?
//
// For each partition with a row in consumer_offsets, every offset from the
// log start to the stored next offset is accounted for. The messages there are
// read (assign, no group, nothing committed; read_committed, so aborted
// records are never seen) and decoded with the consumer's own gate
// (domain::decode). Each message then gets one verdict:
//   ok             the orders row at its own position holds the same content
//   different      the orders row at its own position holds other content, or
//                  its order_id is stored elsewhere with other content and the
//                  message has no dead letter
//   dead_lettered  dead_letters has a row at its position
//   duplicate      its order_id is stored from another position with the same
//                  content (an exact duplicate, fine)
//   missing        none of the above: no row for its order_id and no dead
//                  letter (a message that does not decode counts as missing
//                  when it has no dead letter)
// "Same content" is the store's own comparison (order_store.cpp): every field
// equal, amounts as numeric (cents), items as jsonb (in order), times as
// instants. A message whose values PostgreSQL refuses (db_rejected in
// consume) is dead_lettered or missing by its dead letter, never an error.
//
// Order status events (issue 14; a message whose headers say type=order_status,
// domain::classify_message) get the same verdicts against order_events, by
// event_id and by the unique position of the row:
//   ok             the order_events row at its own position holds the same event
//                  (event_id, order_id, status, occurred_at, reason), and, when
//                  it is its order's last applied event, orders.status is still
//                  the status it moved the order to
//   different      otherwise at its own position, or its event_id is stored
//                  elsewhere with other content and it has no dead letter
//   dead_lettered  dead_letters has a row at its position (illegal_transition,
//                  unknown_order, ...)
//   duplicate      its event_id is stored from another position, same content
//   missing        none of the above (also an event that does not decode, or a
//                  message of a schema this build does not read, without a dead letter)
// They are in the totals and also counted on their own (VerifyReport::events).
//
// The other offsets of the range hold no message: transaction markers,
// aborted records, keys removed by compaction. They are counted
// (without_message), never a problem. Offsets the reader could not reach
// (the last stable offset is below the stored offset: an open transaction, or
// a topic recreated shorter) are a problem: nothing can be said about them.
//
// Offsets the group never read because retention removed them first are
// recorded by consume in skipped_offsets; they are reported ("removed by
// retention before consumption") and do not fail the audit unless the caller
// asks (VerifyReport::passed(strict)).
//
// How, for speed: the decoded messages are COPYed in chunks of a few
// megabytes into a session-temporary table, and each chunk is classified
// against orders (by primary key) and dead_letters (by its unique position
// key) as soon as it is staged, on a worker thread while the next chunk is
// read and decoded (db/order_audit.hpp). The stage only ever holds one chunk,
// so the time per message does not grow with the messages. The database is
// only read; the temporary table vanishes with the session.

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/defaults.hpp"
#include "kafka/config.hpp"

namespace foodpipe::pipeline {

struct VerifyOptions {
  kafka::ClientSettings kafka;
  std::string db_conninfo;
  std::string topic{defaults::k_topic};
  std::string group{defaults::k_group};
  std::size_t limit = 20;              // problems named in the report; all are counted
  // No size limit by default: a message consume refused as too_large has its
  // dead letter, and one a consume with a larger limit stored is still checked.
  std::size_t max_message_bytes = std::numeric_limits<std::size_t>::max();
  std::chrono::milliseconds timeout{defaults::k_connect_timeout};
};

// One message that is not accounted for.
struct VerifyProblem {
  std::string kind;     // "missing" or "different"
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string order_id; // empty when the message does not decode
  std::string event_id; // set for an order status event
  std::string detail;   // one line: why
};

// The order status events among the checked messages (their verdicts are in
// the report's totals too). ok: applied, the order_events row at its position.
struct VerifyEvents {
  std::uint64_t checked = 0;
  std::uint64_t ok = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t missing = 0;
  std::uint64_t different = 0;
};

struct VerifyPartition {
  std::int32_t partition = 0;
  // [from, to): the offsets checked, from the log start (older messages were
  // deleted by retention, after or before the group read them) to the group's
  // stored next offset. Empty when the log starts past the stored offset.
  std::int64_t from = 0;
  std::int64_t to = 0;
  std::int64_t log_start = 0;   // when the audit began
  std::uint64_t messages = 0;   // read and checked
  std::uint64_t without_message = 0; // markers, aborted records, compacted keys
  // Removed by retention while the audit was reading (after the group read them).
  std::uint64_t gone = 0;
  // [unread_from, to) could not be read: the log ends first (an open
  // transaction holds the last stable offset back, or the topic is shorter
  // than the stored offset). Equal to `to` when everything was read.
  std::int64_t unread_from = 0;
  [[nodiscard]] bool fully_read() const noexcept { return unread_from >= to; }
};

// Offsets the group never read: removed by retention before consumption.
struct VerifySkipped {
  std::int32_t partition = 0;
  std::int64_t from = 0;
  std::int64_t to = 0; // exclusive
  std::string reason;  // "retention"
  std::string detected_at;
};

struct VerifyReport {
  std::vector<VerifyPartition> partitions;
  std::uint64_t checked = 0;
  std::uint64_t ok = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t missing = 0;
  std::uint64_t different = 0;
  // Of the dead-lettered and missing: messages whose values PostgreSQL refuses.
  std::uint64_t refused_by_database = 0;
  VerifyEvents events; // of all the above, the order status events
  std::uint64_t without_message = 0; // offsets without a message, over all partitions
  std::uint64_t gone = 0;            // removed by retention during the audit
  std::uint64_t unread = 0;          // offsets the log did not let the audit read
  std::vector<VerifySkipped> skipped; // from skipped_offsets, by partition and offset
  std::vector<VerifyProblem> problems; // the first `limit`, in (partition, offset) order
  bool interrupted = false;
  std::chrono::steady_clock::duration read_time{};
  std::chrono::steady_clock::duration compare_time{};
  std::chrono::steady_clock::duration elapsed{};

  // Every offset still in the log below the stored offsets is accounted for.
  [[nodiscard]] bool all_accounted_for() const noexcept {
    return !interrupted && missing == 0 && different == 0 && unread == 0;
  }
  [[nodiscard]] std::uint64_t skipped_offsets() const noexcept;
  // The verdict: all_accounted_for(), and with `strict` no skipped range either.
  [[nodiscard]] bool passed(bool strict) const noexcept {
    return all_accounted_for() && (!strict || skipped.empty());
  }
};

struct VerifyProgress {
  std::string phase; // "reading" or "comparing"
  std::uint64_t read = 0;
  std::uint64_t total = 0;
  std::chrono::steady_clock::duration elapsed{};
};

using VerifyProgressCallback = std::function<void(const VerifyProgress&)>;

// Runs the audit. Stops early (report.interrupted) on SIGINT/SIGTERM. Expects
// a topic and a group (std::invalid_argument otherwise: the command checks its
// flags before). Throws
// Error when the group has no stored offsets for the topic or the database
// has no (or an older) foodpipe schema, KafkaError and DbError when a
// service fails.
[[nodiscard]] VerifyReport run_verify(const VerifyOptions& options, const VerifyProgressCallback& progress = {});

} // namespace foodpipe::pipeline
