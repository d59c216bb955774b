#include "db/order_audit.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

#include "db/error.hpp"
#include "db/handles.hpp"
#include "db/order_batch.hpp"
#include "db/order_copy.hpp"

namespace foodpipe::db {
namespace {

// A chunk of COPY text: large enough that the round trips and the per-chunk
// statements do not matter (about 16,000 orders), small enough that the
// stage stays in temp_buffers and memory stays flat for any number of messages.
constexpr std::size_t k_chunk_bytes = 8 * 1024 * 1024;

// The session's settings, before its first temporary table (PostgreSQL
// refuses another temp_buffers after it): room for one chunk's stage in
// memory (8MB by default), and no JIT. A chunk's query is planned above
// jit_above_cost on a large orders table, and compiling it took 170 ms of the
// 280 ms that classifying 16,000 orders took (PostgreSQL 15, 1M orders).
const std::string k_session_settings = "SET temp_buffers = '32MB'; SET jit = off";

// The types mirror orders (sql/002_orders.sql), so that values are compared
// as the store compares them: amounts as numeric, items as jsonb, times as
// instants. Temporary: private to this session, gone when it ends.
const std::string k_create_stage =
    "CREATE TEMP TABLE IF NOT EXISTS foodpipe_verify_stage ("
    "  order_id text,"
    "  customer_id text,"
    "  customer_name text,"
    "  customer_email text,"
    "  items jsonb,"
    "  total_amount numeric,"
    "  status text,"
    "  created_at timestamptz,"
    "  source_topic text,"
    "  source_partition integer,"
    "  source_offset bigint,"
    "  refusal text" // why PostgreSQL refused the message's values; its order columns are NULL then
    ");"
    "TRUNCATE pg_temp.foodpipe_verify_stage";
const std::string k_truncate_stage = "TRUNCATE pg_temp.foodpipe_verify_stage";

const std::string k_copy_stage = "COPY pg_temp.foodpipe_verify_stage (" + std::string(k_order_columns) + ") FROM STDIN";
const std::string k_copy_refused =
    "COPY pg_temp.foodpipe_verify_stage (source_topic, source_partition, source_offset, refusal) FROM STDIN";

// PostgreSQL refusing data rather than failing: class 22 (data exception)
// and 23 (integrity constraint violation).
bool is_refusal(std::string_view sqlstate) {
  return sqlstate.size() == 5 && (sqlstate.starts_with("22") || sqlstate.starts_with("23"));
}

// One verdict per staged message; $1 is the topic. The row at the message's
// own position decides first: a dead letter cannot excuse a stored row that
// was changed afterwards. The stage holds one chunk: each message looks up
// its order by primary key and its dead letter by position (LATERAL ... LIMIT
// 1 keeps them index probes, whatever the planner guesses of a stage it has
// no statistics of), so the cost per message does not grow with the tables.
std::string classified(std::string_view extra_columns) {
  const std::string same(k_same_content_sql);
  return "SELECT s.source_partition, s.source_offset, s.order_id, "
         "CASE WHEN o.order_id IS NOT NULL AND o.source_topic = $1::text "
         "          AND o.source_partition = s.source_partition AND o.source_offset = s.source_offset "
         "       THEN CASE WHEN " + same + " THEN 'ok' ELSE 'different' END "
         "     WHEN d.id IS NOT NULL THEN 'dead_lettered' "
         "     WHEN o.order_id IS NULL THEN 'missing' "
         "     WHEN " + same + " THEN 'duplicate' "
         "     ELSE 'different' END AS verdict" +
         std::string(extra_columns) +
         " FROM pg_temp.foodpipe_verify_stage s "
         "LEFT JOIN LATERAL (SELECT * FROM orders x WHERE x.order_id = s.order_id LIMIT 1) o ON true "
         "LEFT JOIN LATERAL (SELECT x.id FROM dead_letters x WHERE x.source_topic = $1::text "
         "  AND x.source_partition = s.source_partition AND x.source_offset = s.source_offset LIMIT 1) d ON true";
}

// For a problem: where the stored row came from, and which fields differ.
// The status compared is the one stored before any status event
// (k_original_status_sql), as in k_same_content_sql.
std::string problem_columns() {
  const std::string original(k_original_status_sql);
  return ", o.source_topic AS stored_topic, o.source_partition AS stored_partition, "
         "o.source_offset AS stored_offset, "
         "concat_ws(', ', "
         "  CASE WHEN o.customer_id IS DISTINCT FROM s.customer_id THEN 'customer_id' END, "
         "  CASE WHEN o.customer_name IS DISTINCT FROM s.customer_name THEN 'customer_name' END, "
         "  CASE WHEN o.customer_email IS DISTINCT FROM s.customer_email THEN 'customer_email' END, "
         "  CASE WHEN o.items IS DISTINCT FROM s.items THEN 'items' END, "
         "  CASE WHEN o.total_amount IS DISTINCT FROM s.total_amount "
         "       THEN 'total_amount (stored ' || o.total_amount || ', message ' || s.total_amount || ')' "
         "       END, "
         "  CASE WHEN " + original + " IS DISTINCT FROM s.status "
         "       THEN 'status (stored ' || " + original + " || ', message ' || s.status || ')' END, "
         "  CASE WHEN o.created_at IS DISTINCT FROM s.created_at THEN 'created_at' END), "
         "s.refusal";
}

} // namespace

OrderAudit::OrderAudit(Connection& connection, std::string topic, std::size_t problem_limit)
    : m_connection(connection), m_topic(std::move(topic)), m_problem_limit(problem_limit) {
  m_connection.exec(k_session_settings);
  m_connection.exec(k_create_stage);
  create_event_stage();
}

OrderAudit::~OrderAudit() {
  if (!m_worker.valid()) {
    return;
  }
  try {
    m_worker.get();
  } catch (...) { // NOLINT(bugprone-empty-catch): abandoned; the failure is the caller's no longer
  }
}

std::map<std::int32_t, std::int64_t> OrderAudit::stored_offsets(const std::string& group) {
  const Result rows = m_connection.exec_params(
      "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1::text AND topic = $2::text",
      {group, m_topic});
  std::map<std::int32_t, std::int64_t> offsets;
  for (int row = 0; row < rows.rows(); ++row) {
    offsets.emplace(parse_integer<std::int32_t>(rows.value(row, 0)), parse_integer<std::int64_t>(rows.value(row, 1)));
  }
  return offsets;
}

std::vector<SkippedRange> OrderAudit::skipped_offsets(const std::string& group) {
  const Result rows = m_connection.exec_params(
      "SELECT partition, from_offset, to_offset, reason, "
      "to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
      "FROM skipped_offsets WHERE group_id = $1::text AND topic = $2::text ORDER BY partition, from_offset",
      {group, m_topic});
  std::vector<SkippedRange> ranges;
  for (int row = 0; row < rows.rows(); ++row) {
    SkippedRange range;
    range.partition = parse_integer<std::int32_t>(rows.value(row, 0));
    range.from = parse_integer<std::int64_t>(rows.value(row, 1));
    range.to = parse_integer<std::int64_t>(rows.value(row, 2));
    range.reason = std::string(rows.value(row, 3));
    range.detected_at = std::string(rows.value(row, 4));
    ranges.push_back(std::move(range));
  }
  return ranges;
}

void OrderAudit::add(const IncomingOrder& message) {
  append_order_row(m_orders.rows, message, m_topic, std::nullopt, m_scratch);
  added(message.partition, message.offset);
}

void OrderAudit::add_undecodable(std::int32_t partition, std::int64_t offset) {
  for (int column = 0; column < 8; ++column) {
    m_orders.rows.field(std::nullopt);
  }
  m_orders.rows.field(m_topic);
  m_orders.rows.field(std::to_string(partition));
  m_orders.rows.field(std::to_string(offset));
  m_orders.rows.end_row();
  added(partition, offset);
}

void OrderAudit::added(std::int32_t partition, std::int64_t offset) {
  m_orders.positions.push_back({partition, offset});
  if (m_orders.rows.data().size() >= k_chunk_bytes) {
    submit(m_orders);
  }
}

void OrderAudit::submit(Chunk& filling) {
  if (filling.rows.rows() == 0) {
    return;
  }
  settle();
  const bool events = filling.events;
  std::swap(m_working, filling); // the worker's last buffers are filled next
  filling.events = events;
  filling.rows.clear();
  filling.positions.clear();
  m_worker = std::async(std::launch::async, [this] { audit_chunk(m_working); });
}

void OrderAudit::settle() {
  if (m_worker.valid()) {
    m_worker.get();
  }
}

void OrderAudit::audit_chunk(const Chunk& chunk) {
  if (chunk.events) {
    stage_events(chunk);
    classify_events(chunk.rows.rows());
  } else {
    stage_orders(chunk);
    classify_orders();
  }
}

void OrderAudit::stage_orders(const Chunk& chunk) {
  m_connection.exec(k_truncate_stage);
  std::vector<std::size_t> starts;
  CopyBuffer refused;
  stage_apart(chunk, 0, chunk.positions.size(), starts, refused);
  if (refused.rows() > 0) {
    (void)m_connection.copy_in(k_copy_refused, refused.data());
  }
}

// Rows [first, last) of the chunk as one COPY. Some row refused refuses the
// whole COPY: the rows are then staged again in halves until each refused row
// stands alone. `starts` (where each row begins; COPY text escapes newlines
// inside values, so a newline always ends a row) is found at the first refusal.
void OrderAudit::stage_apart(const Chunk& chunk, std::size_t first, std::size_t last,
                             std::vector<std::size_t>& starts, CopyBuffer& refused) {
  const std::string_view data = chunk.rows.data();
  try {
    const bool whole = first == 0 && last == chunk.positions.size();
    const std::size_t begin = whole ? 0 : starts[first];
    const std::size_t end = whole || last == starts.size() ? data.size() : starts[last];
    (void)m_connection.copy_in(k_copy_stage, data.substr(begin, end - begin));
  } catch (const DbError& error) {
    if (!is_refusal(error.sqlstate())) {
      throw;
    }
    if (last - first == 1) {
      refuse(chunk.positions[first], error, refused);
      return;
    }
    if (starts.empty()) {
      starts.reserve(chunk.positions.size());
      for (std::size_t at = 0; at < data.size(); at = data.find('\n', at) + 1) {
        starts.push_back(at);
      }
    }
    const std::size_t middle = first + (last - first) / 2;
    stage_apart(chunk, first, middle, starts, refused);
    stage_apart(chunk, middle, last, starts, refused);
  }
}

void OrderAudit::refuse(const Position& position, const DbError& error, CopyBuffer& refused) {
  const auto& message = error.diagnostics().message;
  refused.field(m_topic);
  refused.field(std::to_string(position.partition));
  refused.field(std::to_string(position.offset));
  refused.field(storable_text("SQLSTATE " + error.sqlstate() + ": " + (message.empty() ? error.what() : message)));
  refused.end_row();
  ++m_counts.refused;
}

void OrderAudit::classify_orders() {
  const Result rows =
      m_connection.exec_params("SELECT verdict, count(*) FROM (" + classified("") + ") v GROUP BY verdict", {m_topic});
  const std::uint64_t problems = add_verdicts(rows, m_counts);
  if (problems > 0 && m_problem_limit > 0) {
    keep_problems(order_problems());
  }
}

AuditCounts OrderAudit::classify() {
  submit(m_orders);
  submit(m_events);
  settle();
  return m_counts;
}

void OrderAudit::keep_problems(std::vector<AuditProblem> found) {
  m_problems.insert(m_problems.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  std::stable_sort(m_problems.begin(), m_problems.end(), [](const AuditProblem& a, const AuditProblem& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  if (m_problems.size() > m_problem_limit) {
    m_problems.resize(m_problem_limit);
  }
}

std::vector<AuditProblem> OrderAudit::problems(std::size_t limit) const {
  return {m_problems.begin(), m_problems.begin() + static_cast<std::ptrdiff_t>(std::min(limit, m_problems.size()))};
}

// The first m_problem_limit missing or different orders of the staged chunk.
std::vector<AuditProblem> OrderAudit::order_problems() {
  const Result rows = m_connection.exec_params(
      "SELECT * FROM (" + classified(problem_columns()) +
          ") v WHERE verdict IN ('missing', 'different') ORDER BY source_partition, source_offset LIMIT $2::bigint",
      {m_topic, std::to_string(m_problem_limit)});
  std::vector<AuditProblem> problems;
  for (int row = 0; row < rows.rows(); ++row) {
    AuditProblem problem;
    problem.partition = parse_integer<std::int32_t>(rows.value(row, 0));
    problem.offset = parse_integer<std::int64_t>(rows.value(row, 1));
    problem.order_id = std::string(rows.value(row, 2));
    problem.kind = std::string(rows.value(row, 3));
    if (problem.kind == "missing") {
      if (!rows.is_null(row, 8)) {
        problem.detail = "PostgreSQL refuses its values (" + std::string(rows.value(row, 8)) +
                         ") and it has no dead letter";
      } else {
        problem.detail = rows.is_null(row, 2) ? "does not decode and has no dead letter"
                                              : "no orders row for this order_id and no dead letter";
      }
    } else {
      std::string where = "its own position";
      if (!rows.is_null(row, 4) && !rows.is_null(row, 5) && !rows.is_null(row, 6)) {
        const auto partition = parse_integer<std::int32_t>(rows.value(row, 5));
        const auto offset = parse_integer<std::int64_t>(rows.value(row, 6));
        if (rows.value(row, 4) != m_topic || partition != problem.partition || offset != problem.offset) {
          where = describe_position(std::string(rows.value(row, 4)), partition, offset);
        }
      }
      problem.detail = "the row stored from " + where + " differs: " + std::string(rows.value(row, 7));
    }
    problems.push_back(std::move(problem));
  }
  return problems;
}

} // namespace foodpipe::db
