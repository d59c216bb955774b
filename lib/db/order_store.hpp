#pragma once

// OrderStore: the consumer's exactly-once write path (rules 1 and 2 of docs/architecture.md).
// One batch = ONE PostgreSQL transaction holding, in this order:
//
//   1. the offsets: per partition (ascending), a conditional
//        UPDATE consumer_offsets SET next_offset = next WHERE ... AND next_offset = expected
//      or, for expected == nullopt, INSERT ... ON CONFLICT DO NOTHING; each must
//      touch exactly one row, else the batch is stale: everything is rolled
//      back and nothing else happens. Competing consumers serialise on the
//      row lock, and the loser finds the offset moved: a consumer that lost
//      its partition can never move the offset, backwards or forwards.
//   2. the orders: the first occurrence of each order_id in the batch
//      (plan_batch) is a candidate; a later copy with the same content fares
//      as its candidate does (a duplicate, or the same dead letter). Normal path: the candidates are COPYed
//      straight into orders under a savepoint (as fast as a plain COPY). If
//      that COPY fails with a data error (23505: an order_id is stored
//      already, a re-delivery or a conflict, possibly by a concurrent
//      transaction; 22xxx/23xxx: a value refused), it is rolled back to the
//      savepoint and the staged path runs: the candidates are COPYed into a
//      session-temporary staging table and inserted with one INSERT ...
//      SELECT ... ON CONFLICT (order_id) DO NOTHING RETURNING; each row that
//      was not inserted is compared with the stored row: same content -> a
//      duplicate (counted), other content -> a conflicting_duplicate dead
//      letter (with Batch::restore_changed_rows, a stored row that came
//      from the same position with other content is instead put back to the
//      message's content: a replay's repair). If PostgreSQL refuses the data (SQLSTATE class 22 or 23: a NUL
//      byte, an amount beyond numeric(10,2), a too-long id, a CHECK) the
//      staged insert is rolled back to a savepoint and retried on halves,
//      each under its own savepoint, until the refused rows stand alone: they
//      become db_rejected dead letters ("SQLSTATE 22003: numeric field
//      overflow"), the others go in. No step makes a round trip per row.
//   2b. the events (Batch::events; only when there are any), after the orders
//      so that an event may follow its order in the same batch: plan_events()
//      sets aside in-batch copies and text PostgreSQL cannot store; the rest
//      are COPYed into a staging table; the orders they name are locked
//      (SELECT ... FOR NO KEY UPDATE, in order_id order, so two writers never
//      deadlock and a concurrent writer of the same order waits); then ONE
//      statement judges and applies them all: an event_id (or a position)
//      already in order_events is a duplicate or a conflict, an order not
//      stored is unknown, another customer_id a mismatch; the rest are walked
//      per order in the order given by a recursive CTE (step k judges every
//      order's k-th event against the status step k-1 left, using the table
//      of set_status_transitions()), so a batch costs three round trips
//      however many events it holds, and events of one order apply in order.
//      Orders take their final status with one UPDATE; applied events go to
//      order_events with one INSERT. The verdicts come back per event
//      (WriteResult::events): dead-lettering the ones not applied is the
//      caller's decision, with record_dead_letters() in this transaction.
//   3. the dead letters (given + found), with one INSERT ... ON CONFLICT
//      (source_topic, source_partition, source_offset) DO NOTHING: a replayed
//      position keeps its first dead letter.
//
// Writing beside the batch before (write(batch, before_offsets)): step 1 goes
// last, after the caller's before_offsets() returns. A consumer that runs
// two batches of its partitions at once, on two connections, lets the
// second write its rows while the first still holds the offsets; the
// second's before_offsets() waits until the first has taken them, then it
// locks the rows (SELECT ... FOR UPDATE waits for the first's COMMIT and
// reads what it committed), and its conditional UPDATE finds the offsets it
// expects, or goes stale if the first rolled back. The caller keeps the
// two batches' order_ids apart (a second that waited on the first's row that
// the first then waited on would deadlock), and writes beside a batch only
// when that one updates offset rows that exist: a row it inserts is not
// visible to the UPDATE beside it, which would find no row and go stale.
//
// write() leaves the transaction open so that the caller can publish the dead
// letters (e.g. to the DLQ topic) before commit(). Any other error (connection
// lost, serialization failure, deadlock, shutdown) rolls the batch back and is
// thrown as DbError; DbError::is_transient() says whether retrying can help.
//
// Usage, one store per connection:
//   db::OrderStore store(connection);
//   auto offsets = store.load_offsets(group, topic);   // where to start
//   auto result = store.write(batch);
//   if (result.stale) { re-read offsets, seek, drop the batch }
//   else { publish result.dead_letters; store.commit(); }
//
// Threading: not thread-safe; uses its Connection (which must outlive it and
// must not be used by others while a batch is open). The staging tables and
// prepared statements live in the connection's session: after a lost
// connection, connect again and make a new OrderStore. Not copyable or movable.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.hpp"
#include "db/connection.hpp"
#include "db/copy_buffer.hpp"
#include "db/error.hpp"
#include "db/order_batch.hpp"
#include "db/order_events.hpp"
#include "db/transaction.hpp"

namespace foodpipe::db {

struct WriteResult {
  // An offset condition failed: the transaction was rolled back, nothing was
  // written, and apart from stale_partitions nothing below is set. Re-read the
  // offsets (load_offsets) and resume from there, or drop the partitions.
  bool stale = false;
  std::vector<std::int32_t> stale_partitions; // ascending

  std::uint64_t applied = 0;    // orders inserted
  std::uint64_t duplicates = 0; // exact duplicates, within the batch or of stored rows
  // Every dead letter of the transaction: the batch's own, then those the
  // store found (conflicting_duplicate, db_rejected). What to publish to the DLQ.
  std::vector<DeadLetter> dead_letters;
  // Rows actually added to dead_letters: fewer than dead_letters.size() when a
  // position already had one (a replay).
  std::uint64_t dead_letters_recorded = 0;
  // Rows whose content was put back from their own message
  // (Batch::restore_changed_rows).
  std::uint64_t restored = 0;
  // processed_at - created_at of each inserted order, in milliseconds.
  Histogram processing_latency_ms;

  // One outcome per Batch::events entry, in the same order.
  std::vector<EventOutcome> events;
  std::uint64_t events_applied = 0;   // events stored in order_events by this batch
  std::uint64_t event_duplicates = 0; // exact duplicates, within the batch or of stored events
};

class OrderStore {
public:
  // Prepares the statements and creates the session-temporary staging tables
  // (ON COMMIT DELETE ROWS) if this session does not have them yet; a second
  // store on the same connection reuses them. Call outside a transaction.
  // Throws DbError (e.g. 42P01 when the schema is missing: run seed-db), and
  // std::logic_error inside a transaction.
  explicit OrderStore(Connection& connection);
  // Rolls back an open batch; never throws.
  ~OrderStore();
  OrderStore(const OrderStore&) = delete;
  OrderStore& operator=(const OrderStore&) = delete;

  // Opens a transaction and writes the batch (see above). Returns with the
  // transaction open, unless the result is stale (then it is rolled back).
  // Throws std::invalid_argument for a batch validate_batch() refuses and
  // std::logic_error when a batch is already open (nothing is done then);
  // DbError when PostgreSQL fails other than by refusing an order's data:
  // the transaction is then rolled back, or the connection is lost (and the
  // server rolls back).
  [[nodiscard]] WriteResult write(const Batch& batch);
  // The same with the offsets taken last, after before_offsets() returns
  // (writing beside the batch before, see above). A stale result is rolled
  // back and carries nothing but the stale partitions.
  [[nodiscard]] WriteResult write(const Batch& batch, const std::function<void()>& before_offsets);

  // The legal moves of orders.status (a state machine's edges, given as
  // data so that the rules stay above this layer). Needed before a batch with
  // events: write() throws std::logic_error for one without it. Statuses
  // outside sql/002's set make such a write fail (DbError 23514).
  void set_status_transitions(std::vector<StatusTransition> transitions);

  // Adds dead letters to the open batch's transaction (e.g. for the events it
  // did not apply), like step 3: a position that already has one keeps it.
  // Returns the rows added. Throws std::logic_error without an open batch,
  // DbError otherwise (the batch is then rolled back).
  std::uint64_t record_dead_letters(const std::string& group, const std::vector<DeadLetter>& letters);

  // Commits the open batch. Throws DbError; the batch is over either way.
  // With connection_lost() the outcome is UNKNOWN: the COMMIT may or may not
  // have happened. Resolve it on a new connection with load_offsets(): the
  // partitions are at the batch's `next` offsets exactly when it committed.
  // Throws std::logic_error when no batch is open.
  void commit();
  // Rolls back the open batch, if any. Never throws (a failure is logged; a
  // lost connection has rolled back on the server).
  void rollback() noexcept;
  [[nodiscard]] bool in_batch() const noexcept { return m_transaction.has_value(); }

  // The stored next offsets of the group's partitions of a topic
  // (partition -> next_offset); partitions without a row are absent. Inside
  // an open batch it reads what the batch sees. Throws DbError.
  [[nodiscard]] std::map<std::int32_t, std::int64_t> load_offsets(const std::string& group,
                                                                  const std::string& topic);

private:
  struct Insertion; // the per-batch state of step 2

  void lock_offset_rows(const Batch& batch);
  [[nodiscard]] bool advance_offsets(const Batch& batch, WriteResult& result);
  void write_orders(const Batch& batch, WriteResult& result);
  [[nodiscard]] bool insert_directly(const Batch& batch, Insertion& insertion);
  void insert_staged(const Batch& batch, Insertion& insertion);
  void read_inserted(const Batch& batch, const Result& returned, Insertion& insertion);
  void classify_not_inserted(const Batch& batch, Insertion& insertion, WriteResult& result);
  void write_dead_letters(const Batch& batch, WriteResult& result);
  void apply_events(const Batch& batch, WriteResult& result);
  void judge_staged_events(const Batch& batch, const EventPlan& plan, WriteResult& result);
  std::uint64_t insert_staged_dead_letters(const std::string& group, const std::vector<DeadLetter>& letters);

  Connection& m_connection;
  std::optional<Transaction> m_transaction;
  // Reused across batches so that steady state does not allocate for them.
  CopyBuffer m_rows;
  std::string m_scratch;
  // set_status_transitions() as two parallel text[] literals ("{...}").
  std::optional<std::string> m_transitions_from;
  std::optional<std::string> m_transitions_to;
  // This transaction's dead-letter stage holds rows already (a second COPY must empty it first).
  bool m_dead_letters_staged = false;
};

// True for the SQLSTATEs with which PostgreSQL refuses data rather than
// fails: class 22 (data exception) and class 23 (integrity constraint violation).
[[nodiscard]] bool is_data_sqlstate(std::string_view sqlstate) noexcept;

// A db_rejected dead letter's detail: "SQLSTATE 22001: value too long for
// type character varying(50) (column order_id)", with the server's detail
// appended when it says more than the row itself (not "Failing row contains").
[[nodiscard]] std::string db_rejection_detail(const DbError& error);

} // namespace foodpipe::db
