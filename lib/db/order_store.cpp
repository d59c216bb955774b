#include "db/order_store.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <stdexcept>
#include <utility>

#include "core/log.hpp"
#include "db/array_literal.hpp"
#include "db/order_copy.hpp"

namespace foodpipe::db {
namespace {

constexpr std::string_view k_component = "order-store";

// Session-temporary, so concurrent consumers never see each other's rows, and
// emptied by every COMMIT; a ROLLBACK (to a savepoint or of the transaction)
// removes what it COPYed. The column types mirror orders (sql/002_orders.sql)
// so that data PostgreSQL refuses is refused by the COPY already, exactly as
// a COPY straight into orders would refuse it.
const std::string k_create_stages =
    "CREATE TEMP TABLE IF NOT EXISTS foodpipe_order_stage ("
    "  order_id varchar(50),"
    "  customer_id varchar(50),"
    "  customer_name text,"
    "  customer_email text,"
    "  items jsonb,"
    "  total_amount numeric(10, 2),"
    "  status varchar(20),"
    "  created_at timestamptz,"
    "  source_topic text,"
    "  source_partition integer,"
    "  source_offset bigint,"
    "  seq integer NOT NULL"
    ") ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS foodpipe_dead_letter_stage ("
    "  source_topic text,"
    "  source_partition integer,"
    "  source_offset bigint,"
    "  message_key bytea,"
    "  payload bytea,"
    "  reason_code text,"
    "  reason_detail text"
    ") ON COMMIT DELETE ROWS;"
    // Text where order_events has varchar: a too-long order_id then simply
    // matches no order (unknown_order) instead of failing the COPY.
    "CREATE TEMP TABLE IF NOT EXISTS foodpipe_event_stage ("
    "  seq integer NOT NULL,"
    "  event_id text,"
    "  order_id text,"
    "  customer_id text,"
    "  status text,"
    "  occurred_at timestamptz,"
    "  reason text,"
    "  source_partition integer,"
    "  source_offset bigint"
    ") ON COMMIT DELETE ROWS";

const std::string k_copy_orders = "COPY orders (" + std::string(k_order_columns) + ") FROM STDIN";
// The size of a piece of the direct COPY: large enough that a send is cheap, small
// enough that the server starts on the first rows while the rest are made.
constexpr std::size_t k_copy_piece_bytes = 64 * 1024;
const std::string k_copy_stage =
    "COPY pg_temp.foodpipe_order_stage (" + std::string(k_order_stage_columns) + ") FROM STDIN";
const std::string k_copy_dead_letters =
    "COPY pg_temp.foodpipe_dead_letter_stage (" + std::string(k_dead_letter_stage_columns) + ") FROM STDIN";

const std::string k_copy_events =
    "COPY pg_temp.foodpipe_event_stage (" + std::string(k_event_stage_columns) + ") FROM STDIN";

const std::string k_advance = "foodpipe_store_advance";
const std::string k_claim = "foodpipe_store_claim";
const std::string k_lock_offsets = "foodpipe_store_lock_offsets";
const std::string k_insert_staged = "foodpipe_store_insert_staged";
const std::string k_compare = "foodpipe_store_compare";
const std::string k_insert_dead_letters = "foodpipe_store_insert_dead_letters";
const std::string k_load_offsets = "foodpipe_store_load_offsets";
const std::string k_record_skipped = "foodpipe_store_record_skipped";
const std::string k_lock_event_orders = "foodpipe_store_lock_event_orders";
const std::string k_apply_events = "foodpipe_store_apply_events";

const std::pair<const std::string*, std::string> k_statements[] = {
    {&k_advance,
     "UPDATE consumer_offsets SET next_offset = $5::bigint, updated_at = now() "
     "WHERE group_id = $1::text AND topic = $2::text AND partition = $3::integer "
     "AND next_offset = $4::bigint"},
    // Waits for a transaction that holds one of these rows and reads what it
    // committed: the conditional UPDATE alone would skip a row whose old
    // version does not match, without waiting (write beside, see the header).
    {&k_lock_offsets,
     "SELECT partition FROM consumer_offsets "
     "WHERE group_id = $1::text AND topic = $2::text AND partition = ANY($3::integer[]) "
     "ORDER BY partition FOR UPDATE"},
    {&k_claim,
     "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) "
     "VALUES ($1::text, $2::text, $3::integer, $4::bigint) "
     "ON CONFLICT (group_id, topic, partition) DO NOTHING"},
    // $1/$2: the range of seq to insert (all of them, or a slice while
    // isolating refused rows). processed_at takes its default, now().
    {&k_insert_staged,
     "INSERT INTO orders (" + std::string(k_order_columns) + ") "
     "SELECT " + std::string(k_order_columns) + " FROM pg_temp.foodpipe_order_stage "
     "WHERE seq >= $1::integer AND seq < $2::integer "
     "ON CONFLICT (order_id) DO NOTHING "
     "RETURNING source_partition, source_offset, "
     "floor(extract(epoch FROM processed_at - created_at) * 1000)::bigint"},
    // A separate statement, not the INSERT's outer query: under READ COMMITTED
    // it takes a new snapshot, so it also sees a conflicting row that a
    // concurrent transaction committed while the INSERT waited for it.
    {&k_compare,
     "SELECT s.seq, " + std::string(k_same_content_sql) + ", "
     "  o.source_topic, o.source_partition, o.source_offset "
     "FROM pg_temp.foodpipe_order_stage s JOIN orders o ON o.order_id = s.order_id "
     "WHERE s.seq = ANY($1::integer[])"},
    {&k_insert_dead_letters,
     "INSERT INTO dead_letters (" + std::string(k_dead_letter_stage_columns) + ", consumer_group) "
     "SELECT " + std::string(k_dead_letter_stage_columns) + ", $1::text "
     "FROM pg_temp.foodpipe_dead_letter_stage "
     "ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING"},
    {&k_load_offsets,
     "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1::text AND topic = $2::text"},
    {&k_record_skipped,
     "INSERT INTO skipped_offsets (group_id, topic, partition, from_offset, to_offset, reason) "
     "VALUES ($1::text, $2::text, $3::integer, $4::bigint, $5::bigint, 'retention') "
     "ON CONFLICT (group_id, topic, partition, from_offset) DO NOTHING"},
    // A statement of its own before k_apply_events: under READ COMMITTED the
    // next statement's snapshot then sees everything a writer that held one
    // of these rows committed (its order_events rows and status included).
    // NO KEY UPDATE: the lock an UPDATE of status takes, and one that does not
    // block inserts elsewhere that merely reference the order.
    // Each order by its key (a LATERAL lookup the planner cannot turn into a
    // scan of all orders), in order_id order.
    {&k_lock_event_orders,
     "SELECT count(*) FROM "
     "(SELECT DISTINCT order_id FROM pg_temp.foodpipe_event_stage ORDER BY order_id) s "
     "CROSS JOIN LATERAL (SELECT 1 FROM orders o WHERE o.order_id = s.order_id FOR NO KEY UPDATE) locked"},
    // $1 the topic, $2/$3 the legal moves (from[i] -> to[i]). Returns one row
    // per staged event in seq order: seq, verdict (duplicate, conflict,
    // position, unknown, customer, applied, illegal), the status before the
    // event, the stored event's position (for a conflict), the event_id that
    // holds the position (position), the order's customer_id (customer), and
    // on every row the number of order_events rows inserted.
    //
    // walk: per order, step 0 is the stored status; step k joins the order's
    // k-th event still to judge (live.step) and keeps the event's status when
    // (previous, event) is a legal move, else the previous one. Its rounds are
    // the most events one order has in the batch, each a hash join of all
    // orders at once; moved is each order's last step.
    //
    // The lookups in judged are LATERAL ... LIMIT 1 on purpose: the staging
    // table has no statistics, and with a plain join the planner hashes all of
    // orders and order_events (measured: 60 of 94 ms at 100k rows, growing
    // with the tables); a subquery with LIMIT stays a key lookup per event.
    {&k_apply_events,
     "WITH RECURSIVE "
     "allowed AS ("
     "  SELECT DISTINCT t.from_status, t.to_status"
     "  FROM unnest($2::text[], $3::text[]) AS t(from_status, to_status)),"
     "judged AS ("
     "  SELECT s.seq, s.order_id, s.status, o.status::text AS order_status,"
     "    CASE"
     "      WHEN e.event_id IS NOT NULL THEN"
     "        CASE WHEN e.order_id = s.order_id AND e.status = s.status AND e.occurred_at = s.occurred_at"
     "                  AND e.reason IS NOT DISTINCT FROM s.reason"
     "             THEN 'duplicate' ELSE 'conflict' END"
     "      WHEN p.event_id IS NOT NULL THEN 'position'"
     "      WHEN o.order_id IS NULL THEN 'unknown'"
     "      WHEN o.customer_id <> s.customer_id THEN 'customer'"
     "    END AS verdict,"
     "    e.source_topic AS stored_topic, e.source_partition AS stored_partition,"
     "    e.source_offset AS stored_offset, p.event_id AS position_event_id,"
     "    o.customer_id AS order_customer_id"
     "  FROM pg_temp.foodpipe_event_stage s"
     "  LEFT JOIN LATERAL (SELECT e.event_id, e.order_id, e.status, e.occurred_at, e.reason,"
     "                            e.source_topic, e.source_partition, e.source_offset"
     "                     FROM order_events e WHERE e.event_id = s.event_id LIMIT 1) e ON true"
     "  LEFT JOIN LATERAL (SELECT p.event_id FROM order_events p"
     "                     WHERE p.source_topic = $1::text AND p.source_partition = s.source_partition"
     "                       AND p.source_offset = s.source_offset LIMIT 1) p ON true"
     "  LEFT JOIN LATERAL (SELECT o.order_id, o.customer_id, o.status"
     "                     FROM orders o WHERE o.order_id = s.order_id LIMIT 1) o ON true),"
     "live AS ("
     "  SELECT seq, order_id, status, row_number() OVER (PARTITION BY order_id ORDER BY seq) AS step"
     "  FROM judged WHERE verdict IS NULL),"
     "walk (order_id, step, seq, status, previous, legal) AS ("
     "  SELECT DISTINCT ON (order_id) order_id, 0::bigint, NULL::integer, order_status, NULL::text, false"
     "  FROM judged WHERE verdict IS NULL"
     "  UNION ALL"
     "  SELECT w.order_id, l.step, l.seq,"
     "         CASE WHEN a.to_status IS NULL THEN w.status ELSE l.status END, w.status,"
     "         a.to_status IS NOT NULL"
     "  FROM walk w"
     "  JOIN live l ON l.order_id = w.order_id AND l.step = w.step + 1"
     "  LEFT JOIN allowed a ON a.from_status = w.status AND a.to_status = l.status),"
     "moved AS ("
     "  SELECT DISTINCT ON (order_id) order_id, status FROM walk ORDER BY order_id, step DESC),"
     "updated AS ("
     "  UPDATE orders o SET status = m.status FROM moved m"
     "  WHERE o.order_id = m.order_id AND o.status <> m.status RETURNING 1),"
     "inserted AS ("
     "  INSERT INTO order_events (event_id, order_id, status, previous_status, occurred_at, reason,"
     "                            source_topic, source_partition, source_offset)"
     "  SELECT s.event_id, s.order_id, s.status, w.previous, s.occurred_at, s.reason,"
     "         $1::text, s.source_partition, s.source_offset"
     "  FROM walk w JOIN pg_temp.foodpipe_event_stage s ON s.seq = w.seq"
     "  WHERE w.step > 0 AND w.legal"
     // In apply order, so that applied_seq ascends as the events were applied.
     "  ORDER BY w.seq"
     "  ON CONFLICT DO NOTHING RETURNING 1) "
     "SELECT j.seq, coalesce(j.verdict, CASE WHEN w.legal THEN 'applied' ELSE 'illegal' END), w.previous,"
     "  j.stored_topic, j.stored_partition, j.stored_offset, j.position_event_id, j.order_customer_id,"
     "  (SELECT count(*) FROM inserted) "
     "FROM judged j LEFT JOIN walk w ON w.seq = j.seq AND w.step > 0 "
     "ORDER BY j.seq"},
};

// Where in a COPY a refused value was: "column customer_name", from the
// server's context line 'COPY foodpipe_order_stage, line 1, column customer_name: "..."'.
std::string refused_column(const std::string& context) {
  const auto copy = context.find("COPY ");
  if (copy == std::string::npos) {
    return {};
  }
  constexpr std::string_view k_marker = ", column ";
  const auto column = context.find(k_marker, copy);
  if (column == std::string::npos) {
    return {};
  }
  const auto start = column + k_marker.size();
  const auto end = context.find_first_of(":\n", start);
  return context.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Runs `attempt` under a savepoint. Returns the DbError when PostgreSQL
// refused the data (the attempt is then rolled back and the transaction goes
// on); throws any other error.
template <typename Attempt>
std::optional<DbError> under_savepoint(Connection& connection, Attempt&& attempt) {
  connection.exec("SAVEPOINT foodpipe_store");
  try {
    attempt();
  } catch (const DbError& error) {
    if (error.connection_lost() || !is_data_sqlstate(error.sqlstate())) {
      throw;
    }
    connection.exec("ROLLBACK TO SAVEPOINT foodpipe_store; RELEASE SAVEPOINT foodpipe_store");
    return error;
  }
  connection.exec("RELEASE SAVEPOINT foodpipe_store");
  return std::nullopt;
}

} // namespace

bool is_data_sqlstate(std::string_view sqlstate) noexcept {
  return sqlstate.size() == 5 && (sqlstate.substr(0, 2) == "22" || sqlstate.substr(0, 2) == "23");
}

std::string db_rejection_detail(const DbError& error) {
  const ServerDiagnostics& server = error.diagnostics();
  std::string detail =
      "SQLSTATE " + (error.sqlstate().empty() ? std::string("?????") : error.sqlstate()) + ": ";
  detail += server.message.empty() ? std::string(error.what()) : server.message;
  if (const std::string column = refused_column(server.context); !column.empty()) {
    detail += " (column " + column + ")";
  }
  if (!server.detail.empty() && server.detail.rfind("Failing row contains", 0) != 0) {
    detail += ": " + server.detail;
  }
  return detail;
}

// Step 2's state for one batch. Candidate i is batch.orders[plan.candidates[i]]
// and has seq i in the staging table.
struct OrderStore::Insertion {
  BatchPlan plan;
  std::vector<bool> inserted;
  std::vector<bool> rejected;
  std::vector<DeadLetter> rejections;
  // seq -> the dead letter its candidate became (db_rejected or
  // conflicting_duplicate), for the candidate's copies (BatchPlan::copies).
  std::map<std::size_t, DeadLetter> dead_lettered;
  Histogram* latency = nullptr;
  std::uint64_t applied = 0;
};

OrderStore::OrderStore(Connection& connection) : m_connection(connection) {
  if (m_connection.in_transaction()) {
    throw std::logic_error("OrderStore must be created outside a transaction");
  }
  // A member frozen inside its batch (SIGSTOP, a VM pause) must not hold the
  // offset rows locked for ever: the server ends such a session after 20 s
  // (the batch rolls back; the new owner re-reads). A writer blocked on those
  // rows gives up after 10 s with 55P03, which callers retry as transient.
  m_connection.exec("SET idle_in_transaction_session_timeout = '20s'; SET lock_timeout = '10s'");
  // The statements need the staging tables: both are per session, set up together.
  if (!m_connection.is_prepared(k_load_offsets)) {
    m_connection.exec(k_create_stages);
    for (const auto& [name, sql] : k_statements) {
      if (!m_connection.is_prepared(*name)) {
        m_connection.prepare(*name, sql);
      }
    }
  }
}

OrderStore::~OrderStore() { rollback(); }

WriteResult OrderStore::write(const Batch& batch) { return write(batch, nullptr); }

WriteResult OrderStore::write(const Batch& batch, const std::function<void()>& before_offsets) {
  if (m_transaction) {
    throw std::logic_error("OrderStore::write: a batch is already open; commit() or rollback() it first");
  }
  validate_batch(batch);
  if (!batch.events.empty() && !m_transitions_from) {
    throw std::logic_error("OrderStore::write: a batch with events needs set_status_transitions() first");
  }
  m_transaction.emplace(m_connection);
  m_dead_letters_staged = false;
  try {
    WriteResult result;
    if (!before_offsets && !advance_offsets(batch, result)) {
      m_transaction->rollback();
      m_transaction.reset();
      return result;
    }
    write_orders(batch, result);
    apply_events(batch, result);
    write_dead_letters(batch, result);
    for (const auto& range : batch.skipped) {
      (void)m_connection.exec_prepared(k_record_skipped, {batch.group, batch.topic, std::to_string(range.partition),
                                                          std::to_string(range.from), std::to_string(range.to)});
    }
    if (before_offsets) {
      before_offsets();
      lock_offset_rows(batch);
      WriteResult offsets;
      if (!advance_offsets(batch, offsets)) {
        m_transaction->rollback();
        m_transaction.reset();
        return offsets;
      }
    }
    return result;
  } catch (...) {
    rollback();
    throw;
  }
}

void OrderStore::lock_offset_rows(const Batch& batch) {
  if (batch.offsets.empty()) {
    return;
  }
  std::string partitions = "{";
  for (const auto& advance : batch.offsets) {
    if (partitions.size() > 1) {
      partitions += ',';
    }
    partitions += std::to_string(advance.partition);
  }
  partitions += '}';
  (void)m_connection.exec_prepared(k_lock_offsets, {batch.group, batch.topic, partitions});
}

bool OrderStore::advance_offsets(const Batch& batch, WriteResult& result) {
  // Ascending partitions: two consumers that both hold several of the same
  // partitions lock them in the same order and cannot deadlock.
  std::vector<const OffsetAdvance*> advances;
  advances.reserve(batch.offsets.size());
  for (const auto& advance : batch.offsets) {
    advances.push_back(&advance);
  }
  std::sort(advances.begin(), advances.end(),
            [](const OffsetAdvance* a, const OffsetAdvance* b) { return a->partition < b->partition; });
  for (const OffsetAdvance* advance : advances) {
    const std::string partition = std::to_string(advance->partition);
    const std::string next = std::to_string(advance->next);
    std::int64_t touched = 0;
    if (advance->expected) {
      const std::string expected = std::to_string(*advance->expected);
      touched = m_connection.exec_prepared(k_advance, {batch.group, batch.topic, partition, expected, next})
                    .affected_rows();
    } else {
      touched = m_connection.exec_prepared(k_claim, {batch.group, batch.topic, partition, next}).affected_rows();
    }
    if (touched != 1) {
      result.stale_partitions.push_back(advance->partition);
    }
  }
  if (result.stale_partitions.empty()) {
    return true;
  }
  result.stale = true;
  log::debug(k_component, "stale batch rolled back",
             {{"group", batch.group}, {"topic", batch.topic},
              {"partitions", std::to_string(result.stale_partitions.size())}});
  return false;
}

void OrderStore::write_orders(const Batch& batch, WriteResult& result) {
  Insertion insertion;
  insertion.plan = plan_batch(batch);
  insertion.latency = &result.processing_latency_ms;
  const std::size_t count = insertion.plan.candidates.size();
  if (count > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument("OrderStore batch: too many orders");
  }
  result.dead_letters = batch.dead_letters;
  result.dead_letters.insert(result.dead_letters.end(), insertion.plan.conflicts.begin(),
                             insertion.plan.conflicts.end());
  if (count == 0) {
    return;
  }
  insertion.inserted.assign(count, false);
  insertion.rejected.assign(count, false);
  if (!insert_directly(batch, insertion)) {
    insert_staged(batch, insertion);
    classify_not_inserted(batch, insertion, result);
  }
  result.applied = insertion.applied;
  result.dead_letters.insert(result.dead_letters.end(), std::make_move_iterator(insertion.rejections.begin()),
                             std::make_move_iterator(insertion.rejections.end()));
  // A copy of a candidate within the batch fares as the candidate did.
  for (const auto& [seq, index] : insertion.plan.copies) {
    const auto letter = insertion.dead_lettered.find(seq);
    if (letter == insertion.dead_lettered.end()) {
      ++result.duplicates;
      continue;
    }
    const IncomingOrder& copy = batch.orders[index];
    DeadLetter own = letter->second;
    own.partition = copy.partition;
    own.offset = copy.offset;
    own.key = copy.key;
    own.payload = copy.value;
    result.dead_letters.push_back(std::move(own));
  }
}

bool OrderStore::insert_directly(const Batch& batch, Insertion& insertion) {
  const auto& candidates = insertion.plan.candidates;
  // processed_at is now(), the same for every row of the transaction; reading
  // it costs nothing extra in the savepoint's round trip.
  const Result now = m_connection.exec(
      "SAVEPOINT foodpipe_store; SELECT floor(extract(epoch FROM now()) * 1000)::bigint");
  const auto now_ms = parse_integer<std::int64_t>(now.value(0, 0));
  try {
    // Rows go out in pieces as they are made, so the server inserts one piece
    // while the next is encoded.
    std::size_t next = 0;
    m_connection.copy_in(k_copy_orders, [&](std::string_view& chunk) {
      if (next == candidates.size()) {
        return false;
      }
      m_rows.clear();
      while (next < candidates.size() && m_rows.data().size() < k_copy_piece_bytes) {
        append_order_row(m_rows, batch.orders[candidates[next++]], batch.topic, std::nullopt, m_scratch);
      }
      chunk = m_rows.data();
      return true;
    });
  } catch (const DbError& error) {
    // 23505: an order_id is stored already (a re-delivery, a conflict) or a
    // concurrent transaction just stored it; 22xxx/23xxx: a value refused.
    // The staged path sorts out which rows and why.
    if (error.connection_lost() || !is_data_sqlstate(error.sqlstate())) {
      throw;
    }
    m_connection.exec("ROLLBACK TO SAVEPOINT foodpipe_store; RELEASE SAVEPOINT foodpipe_store");
    log::debug(k_component, "direct COPY refused; staging the batch",
               {{"sqlstate", error.sqlstate()}, {"orders", std::to_string(candidates.size())}});
    return false;
  }
  m_connection.exec("RELEASE SAVEPOINT foodpipe_store");
  for (std::size_t seq = 0; seq < candidates.size(); ++seq) {
    insertion.inserted[seq] = true;
    insertion.latency->record(now_ms - batch.orders[candidates[seq]].order.created_at.time_since_epoch().count());
  }
  insertion.applied = candidates.size();
  return true;
}

void OrderStore::insert_staged(const Batch& batch, Insertion& insertion) {
  const auto& candidates = insertion.plan.candidates;
  // Returns the refusal of candidates [first, last), if any.
  const auto attempt = [&](std::size_t first, std::size_t last) {
    return under_savepoint(m_connection, [&] {
      m_rows.clear();
      for (std::size_t seq = first; seq < last; ++seq) {
        append_order_row(m_rows, batch.orders[candidates[seq]], batch.topic, seq, m_scratch);
      }
      m_connection.copy_in(k_copy_stage, m_rows.data());
      const std::string from = std::to_string(first);
      const std::string to = std::to_string(last);
      read_inserted(batch, m_connection.exec_prepared(k_insert_staged, {from, to}), insertion);
    });
  };
  // Refused [first, last): halve it until the refused rows stand alone. Every
  // range is attempted on its own before it is split or rejected, so a row is
  // only dead-lettered for an error it caused by itself; k bad rows among n
  // cost O(k log n) attempts instead of n single-row ones.
  const auto isolate = [&](const auto& self, std::size_t first, std::size_t last,
                           const DbError& refusal) -> void {
    if (last - first == 1) {
      const IncomingOrder& incoming = batch.orders[candidates[first]];
      insertion.rejected[first] = true;
      insertion.rejections.push_back(DeadLetter{batch.topic, incoming.partition, incoming.offset,
                                                incoming.key, incoming.value,
                                                domain::ReasonCode::db_rejected,
                                                db_rejection_detail(refusal)});
      if (!insertion.plan.copies.empty()) {
        insertion.dead_lettered.emplace(first, insertion.rejections.back());
      }
      log::debug(k_component, "PostgreSQL refused an order",
                 {{"order_id", incoming.order.order_id},
                  {"position", describe_position(batch.topic, incoming.partition, incoming.offset)},
                  {"sqlstate", refusal.sqlstate()}});
      return;
    }
    const std::size_t middle = first + (last - first) / 2;
    if (const auto left = attempt(first, middle)) {
      self(self, first, middle, *left);
    }
    if (const auto right = attempt(middle, last)) {
      self(self, middle, last, *right);
    }
  };
  if (const auto refusal = attempt(0, candidates.size())) {
    isolate(isolate, 0, candidates.size(), *refusal);
  }
}

void OrderStore::read_inserted(const Batch& batch, const Result& returned, Insertion& insertion) {
  // Candidates are in (partition, offset) order, and positions are unique
  // (validate_batch): find each returned row's seq by binary search.
  const auto& candidates = insertion.plan.candidates;
  for (int row = 0; row < returned.rows(); ++row) {
    const auto position = std::make_pair(parse_integer<std::int32_t>(returned.value(row, 0)),
                                         parse_integer<std::int64_t>(returned.value(row, 1)));
    const auto found = std::partition_point(candidates.begin(), candidates.end(), [&](std::size_t index) {
      const IncomingOrder& incoming = batch.orders[index];
      return std::make_pair(incoming.partition, incoming.offset) < position;
    });
    if (found == candidates.end() ||
        std::make_pair(batch.orders[*found].partition, batch.orders[*found].offset) != position) {
      throw DbError("PostgreSQL returned an order at " +
                        describe_position(batch.topic, position.first, position.second) +
                        " that the batch does not hold",
                    "");
    }
    insertion.inserted[static_cast<std::size_t>(found - candidates.begin())] = true;
    insertion.latency->record(parse_integer<std::int64_t>(returned.value(row, 2)));
    ++insertion.applied;
  }
}

void OrderStore::classify_not_inserted(const Batch& batch, Insertion& insertion, WriteResult& result) {
  const auto& candidates = insertion.plan.candidates;
  std::vector<std::size_t> pending;
  for (std::size_t seq = 0; seq < candidates.size(); ++seq) {
    if (!insertion.inserted[seq] && !insertion.rejected[seq]) {
      pending.push_back(seq);
    }
  }
  if (pending.empty()) {
    return;
  }
  const Result stored = m_connection.exec_prepared(k_compare, {integer_array(pending)});
  std::vector<bool> answered(candidates.size(), false);
  std::vector<std::size_t> restore;
  for (int row = 0; row < stored.rows(); ++row) {
    const auto seq = parse_integer<std::size_t>(stored.value(row, 0));
    if (seq >= candidates.size()) {
      throw DbError("PostgreSQL returned an unknown staging row " + std::to_string(seq), "");
    }
    answered[seq] = true;
    if (stored.value(row, 1) == "t") {
      ++result.duplicates;
      continue;
    }
    const IncomingOrder& incoming = batch.orders[candidates[seq]];
    if (batch.restore_changed_rows && stored.optional_value(row, 2) == std::optional<std::string_view>(batch.topic) &&
        !stored.is_null(row, 3) && !stored.is_null(row, 4) &&
        parse_integer<std::int32_t>(stored.value(row, 3)) == incoming.partition &&
        parse_integer<std::int64_t>(stored.value(row, 4)) == incoming.offset) {
      restore.push_back(seq);
      continue;
    }
    std::string detail = "order_id \"" + incoming.order.order_id + "\" is already stored";
    if (const auto topic = stored.optional_value(row, 2);
        topic && !stored.is_null(row, 3) && !stored.is_null(row, 4)) {
      detail += " (from " +
                describe_position(std::string(*topic), parse_integer<std::int32_t>(stored.value(row, 3)),
                                  parse_integer<std::int64_t>(stored.value(row, 4))) +
                ")";
    }
    detail += " with different content";
    result.dead_letters.push_back(DeadLetter{batch.topic, incoming.partition, incoming.offset, incoming.key,
                                             incoming.value, domain::ReasonCode::conflicting_duplicate,
                                             std::move(detail)});
    if (!insertion.plan.copies.empty()) {
      insertion.dead_lettered.emplace(seq, result.dead_letters.back());
    }
  }
  if (!restore.empty()) {
    // The staged rows are still there (this transaction's staging table).
    const Result updated = m_connection.exec_params(
        "UPDATE orders o SET customer_id = s.customer_id, customer_name = s.customer_name, "
        "customer_email = s.customer_email, items = s.items, total_amount = s.total_amount, "
        // Status events own the status once there are any: put back what
        // the message said only for an order they never moved.
        "status = CASE WHEN EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.order_id) "
        "         THEN o.status ELSE s.status END, created_at = s.created_at "
        "FROM pg_temp.foodpipe_order_stage s WHERE s.seq = ANY($1::integer[]) AND o.order_id = s.order_id",
        {integer_array(restore)});
    result.restored += static_cast<std::uint64_t>(updated.affected_rows());
  }
  for (const std::size_t seq : pending) {
    if (!answered[seq]) {
      // ON CONFLICT found a row that the next statement cannot: it was deleted
      // meanwhile. Retrying the batch decides afresh.
      throw DbError("order_id \"" + batch.orders[candidates[seq]].order.order_id +
                        "\" was neither inserted nor found (deleted concurrently?); retry the batch",
                    std::string(sqlstate::k_serialization_failure));
    }
  }
}

void OrderStore::write_dead_letters(const Batch& batch, WriteResult& result) {
  if (result.dead_letters.empty()) {
    return;
  }
  result.dead_letters_recorded = insert_staged_dead_letters(batch.group, result.dead_letters);
}

std::uint64_t OrderStore::insert_staged_dead_letters(const std::string& group,
                                                     const std::vector<DeadLetter>& letters) {
  if (m_dead_letters_staged) {
    // The stage empties at COMMIT only: without this the batch's first dead
    // letters would be offered again (harmless, ON CONFLICT, but miscounted
    // if one of them had lost its row meanwhile).
    m_connection.exec("DELETE FROM pg_temp.foodpipe_dead_letter_stage");
  }
  m_rows.clear();
  for (const DeadLetter& letter : letters) {
    append_dead_letter_stage_row(m_rows, letter, m_scratch);
  }
  m_connection.copy_in(k_copy_dead_letters, m_rows.data());
  m_dead_letters_staged = true;
  const Result inserted = m_connection.exec_prepared(k_insert_dead_letters, {group});
  return static_cast<std::uint64_t>(inserted.affected_rows());
}

std::uint64_t OrderStore::record_dead_letters(const std::string& group,
                                              const std::vector<DeadLetter>& letters) {
  if (!m_transaction) {
    throw std::logic_error("OrderStore::record_dead_letters: no batch is open");
  }
  if (letters.empty()) {
    return 0;
  }
  try {
    return insert_staged_dead_letters(group, letters);
  } catch (...) {
    rollback();
    throw;
  }
}

void OrderStore::set_status_transitions(std::vector<StatusTransition> transitions) {
  std::vector<std::string> from;
  std::vector<std::string> to;
  from.reserve(transitions.size());
  to.reserve(transitions.size());
  for (auto& transition : transitions) {
    from.push_back(std::move(transition.from));
    to.push_back(std::move(transition.to));
  }
  m_transitions_from = text_array(from);
  m_transitions_to = text_array(to);
}

void OrderStore::apply_events(const Batch& batch, WriteResult& result) {
  if (batch.events.empty()) {
    return;
  }
  result.events.assign(batch.events.size(), EventOutcome{});
  EventPlan plan = plan_events(batch.events);
  for (auto& [index, outcome] : plan.decided) {
    result.events[index] = std::move(outcome);
  }
  if (plan.candidates.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument("OrderStore batch: too many events");
  }
  if (!plan.candidates.empty()) {
    judge_staged_events(batch, plan, result);
  }
  // A copy within the batch fares as its first occurrence did.
  for (const auto& [candidate, index] : plan.copies) {
    const EventOutcome& first = result.events[plan.candidates[candidate]];
    if (first.verdict == EventVerdict::applied || first.verdict == EventVerdict::duplicate) {
      result.events[index] = EventOutcome{EventVerdict::duplicate, {}, {}};
    } else {
      result.events[index] = first;
    }
  }
  for (const EventOutcome& outcome : result.events) {
    result.event_duplicates += outcome.verdict == EventVerdict::duplicate ? 1U : 0U;
  }
}

void OrderStore::judge_staged_events(const Batch& batch, const EventPlan& plan, WriteResult& result) {
  m_rows.clear();
  for (std::size_t seq = 0; seq < plan.candidates.size(); ++seq) {
    append_event_stage_row(m_rows, batch.events[plan.candidates[seq]], seq);
  }
  m_connection.copy_in(k_copy_events, m_rows.data());
  (void)m_connection.exec_prepared(k_lock_event_orders, {});
  const Result judged =
      m_connection.exec_prepared(k_apply_events, {batch.topic, *m_transitions_from, *m_transitions_to});
  if (static_cast<std::size_t>(judged.rows()) != plan.candidates.size()) {
    throw DbError("PostgreSQL judged " + std::to_string(judged.rows()) + " of " +
                      std::to_string(plan.candidates.size()) + " staged events",
                  "");
  }
  std::uint64_t applied = 0;
  for (int row = 0; row < judged.rows(); ++row) {
    const auto seq = parse_integer<std::size_t>(judged.value(row, 0));
    if (seq >= plan.candidates.size()) {
      throw DbError("PostgreSQL returned an unknown staged event " + std::to_string(seq), "");
    }
    const EventRow& event = batch.events[plan.candidates[seq]];
    EventOutcome& outcome = result.events[plan.candidates[seq]];
    const std::string_view verdict = judged.value(row, 1);
    const std::string event_id = "event_id \"" + event.event_id + "\"";
    const std::string order_id = "order_id \"" + event.order_id + "\"";
    if (!judged.is_null(row, 2)) {
      outcome.previous_status = judged.value(row, 2);
    }
    if (verdict == "applied") {
      outcome.verdict = EventVerdict::applied;
      ++applied;
    } else if (verdict == "duplicate") {
      outcome.verdict = EventVerdict::duplicate;
    } else if (verdict == "illegal") {
      outcome.verdict = EventVerdict::illegal_transition;
      outcome.detail = event_id + ": " + order_id + " is " + outcome.previous_status + ", and " +
                       outcome.previous_status + " -> " + event.status + " is not a legal move";
    } else if (verdict == "unknown") {
      outcome.verdict = EventVerdict::unknown_order;
      outcome.detail = event_id + ": " + order_id + " is not stored";
    } else if (verdict == "customer") {
      outcome.verdict = EventVerdict::customer_mismatch;
      outcome.detail = event_id + ": " + order_id + " belongs to customer_id \"" +
                       std::string(judged.value(row, 7)) + "\", not \"" + event.customer_id + "\"";
    } else if (verdict == "conflict") {
      outcome.verdict = EventVerdict::conflicting_duplicate;
      outcome.detail = event_id + " is already stored";
      if (!judged.is_null(row, 3) && !judged.is_null(row, 4) && !judged.is_null(row, 5)) {
        outcome.detail += " (from " +
                          describe_position(std::string(judged.value(row, 3)),
                                            parse_integer<std::int32_t>(judged.value(row, 4)),
                                            parse_integer<std::int64_t>(judged.value(row, 5))) +
                          ")";
      }
      outcome.detail += " with different content";
    } else if (verdict == "position") {
      outcome.verdict = EventVerdict::conflicting_duplicate;
      outcome.detail = event_id + ": its position " +
                       describe_position(batch.topic, event.partition, event.offset) +
                       " already holds event_id \"" + std::string(judged.value(row, 6)) + "\"";
    } else {
      throw DbError("PostgreSQL returned an unknown event verdict \"" + std::string(verdict) + "\"", "");
    }
  }
  const auto inserted = parse_integer<std::uint64_t>(judged.value(0, 8));
  if (inserted != applied) {
    // Statuses moved for an event whose row a concurrent transaction took
    // first (same event_id or position, another order): undo it all and let
    // the retry judge against what is stored now.
    throw DbError(std::to_string(applied) + " events applied but " + std::to_string(inserted) +
                      " stored (written concurrently?); retry the batch",
                  std::string(sqlstate::k_serialization_failure));
  }
  result.events_applied = applied;
}

void OrderStore::commit() {
  if (!m_transaction) {
    throw std::logic_error("OrderStore::commit: no batch is open");
  }
  try {
    m_transaction->commit();
  } catch (...) {
    m_transaction.reset();
    throw;
  }
  m_transaction.reset();
}

void OrderStore::rollback() noexcept {
  // Transaction's destructor rolls back, logging a failure instead of throwing.
  m_transaction.reset();
}

std::map<std::int32_t, std::int64_t> OrderStore::load_offsets(const std::string& group,
                                                              const std::string& topic) {
  const Result rows = m_connection.exec_prepared(k_load_offsets, {group, topic});
  std::map<std::int32_t, std::int64_t> offsets;
  for (int row = 0; row < rows.rows(); ++row) {
    offsets.emplace(parse_integer<std::int32_t>(rows.value(row, 0)),
                    parse_integer<std::int64_t>(rows.value(row, 1)));
  }
  return offsets;
}

} // namespace foodpipe::db
