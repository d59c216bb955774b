#include "db/order_audit.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "db/error.hpp"
#include "db/handles.hpp"
#include "db/order_batch.hpp"
#include "db/order_copy.hpp"

namespace foodpipe::db {
namespace {

// A chunk of COPY text: large enough that the round trips do not matter,
// small enough to keep memory flat for any number of messages.
constexpr std::size_t k_chunk_bytes = 8 * 1024 * 1024;

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

const std::string k_copy_stage = "COPY pg_temp.foodpipe_verify_stage (" + std::string(k_order_columns) + ") FROM STDIN";
const std::string k_copy_refused =
    "COPY pg_temp.foodpipe_verify_stage (source_topic, source_partition, source_offset, refusal) FROM STDIN";

// PostgreSQL refusing data rather than failing: class 22 (data exception)
// and 23 (integrity constraint violation).
bool is_refusal(std::string_view sqlstate) {
  return sqlstate.size() == 5 && (sqlstate.starts_with("22") || sqlstate.starts_with("23"));
}

std::string field_of(const PGresult* result, int code) {
  const char* value = PQresultErrorField(result, code);
  return value != nullptr ? value : "";
}


// One verdict per staged message; $1 is the topic. The row at the message's
// own position decides first: a dead letter cannot excuse a stored row that
// was changed afterwards.
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
         "LEFT JOIN orders o ON o.order_id = s.order_id "
         "LEFT JOIN dead_letters d ON d.source_topic = $1::text "
         "  AND d.source_partition = s.source_partition AND d.source_offset = s.source_offset";
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

OrderAudit::OrderAudit(Connection& connection, std::string topic)
    : m_connection(connection), m_topic(std::move(topic)) {
  m_connection.exec(k_create_stage);
  create_event_stage();
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
  append_order_row(m_rows, message, m_topic, std::nullopt, m_scratch);
  added(message.partition, message.offset);
}

void OrderAudit::add_undecodable(std::int32_t partition, std::int64_t offset) {
  for (int column = 0; column < 8; ++column) {
    m_rows.field(std::nullopt);
  }
  m_rows.field(m_topic);
  m_rows.field(std::to_string(partition));
  m_rows.field(std::to_string(offset));
  m_rows.end_row();
  added(partition, offset);
}

void OrderAudit::added(std::int32_t partition, std::int64_t offset) {
  m_positions.push_back({partition, offset});
  if (m_rows.data().size() >= k_chunk_bytes) {
    send_chunk();
  }
}

// Each chunk is one COPY whose outcome is read only when the next chunk is
// full: the server parses and stores a chunk while the caller decodes the
// next, and a refused chunk can still be staged again from memory.
// Connection::copy_in waits for the outcome, hence libpq directly.
void OrderAudit::send_chunk() {
  if (m_rows.rows() == 0) {
    return;
  }
  collect();
  std::swap(m_rows, m_sent);
  std::swap(m_positions, m_sent_positions);
  m_rows.clear();
  m_positions.clear();

  PGconn* conn = m_connection.native();
  const ResultPtr started(PQexec(conn, k_copy_stage.c_str()));
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) {
    throw DbError("cannot stage messages on " + m_connection.describe() + ": " +
                      std::string(started ? PQresultErrorMessage(started.get()) : PQerrorMessage(conn)),
                  started ? field_of(started.get(), PG_DIAG_SQLSTATE) : std::string(),
                  PQstatus(conn) != CONNECTION_OK);
  }
  m_copying = true;
  std::string_view data = m_sent.data();
  while (!data.empty()) {
    const std::size_t piece = std::min<std::size_t>(data.size(), 1U << 20U);
    if (PQputCopyData(conn, data.data(), static_cast<int>(piece)) != 1) {
      throw DbError("lost the connection to PostgreSQL at " + m_connection.describe() +
                        " while staging messages: " + std::string(PQerrorMessage(conn)),
                    "", true);
    }
    data.remove_prefix(piece);
  }
  if (PQputCopyEnd(conn, nullptr) != 1) {
    throw DbError("lost the connection to PostgreSQL at " + m_connection.describe() +
                      " while staging messages: " + std::string(PQerrorMessage(conn)),
                  "", true);
  }
  m_copying = false;
  m_awaiting = true;
}

void OrderAudit::collect() {
  if (!m_awaiting) {
    return;
  }
  m_awaiting = false;
  PGconn* conn = m_connection.native();
  std::optional<DbError> failure;
  while (PGresult* raw = PQgetResult(conn)) {
    const ResultPtr result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && !failure) {
      failure.emplace("staging messages failed on " + m_connection.describe() + ": " +
                          std::string(PQresultErrorMessage(raw)),
                      field_of(raw, PG_DIAG_SQLSTATE), PQstatus(conn) != CONNECTION_OK);
      failure->set_diagnostics({field_of(raw, PG_DIAG_MESSAGE_PRIMARY), field_of(raw, PG_DIAG_MESSAGE_DETAIL),
                                field_of(raw, PG_DIAG_CONTEXT)});
    }
  }
  if (failure) {
    if (!is_refusal(failure->sqlstate())) {
      throw *failure;
    }
    // Some row of the chunk is refused, and with it the whole COPY: stage
    // the chunk again in halves until each refused row stands alone.
    std::vector<std::size_t> starts;
    starts.reserve(m_sent_positions.size());
    const std::string_view data = m_sent.data();
    for (std::size_t at = 0; at < data.size(); at = data.find('\n', at) + 1) {
      starts.push_back(at);
    }
    if (starts.size() == 1) {
      refuse(m_sent_positions.front(), *failure);
    } else {
      const std::size_t middle = starts.size() / 2;
      stage_apart(0, middle, starts);
      stage_apart(middle, starts.size(), starts);
    }
  }
  m_sent.clear();
  m_sent_positions.clear();
}

// Rows [first, last) of m_sent (each row ends with '\n'; COPY text escapes
// newlines inside values, so a newline always ends a row).
void OrderAudit::stage_apart(std::size_t first, std::size_t last, const std::vector<std::size_t>& starts) {
  const std::string_view data = m_sent.data();
  const std::size_t end = last < starts.size() ? starts[last] : data.size();
  try {
    (void)m_connection.copy_in(k_copy_stage, data.substr(starts[first], end - starts[first]));
  } catch (const DbError& error) {
    if (!is_refusal(error.sqlstate())) {
      throw;
    }
    if (last - first == 1) {
      refuse(m_sent_positions[first], error);
      return;
    }
    const std::size_t middle = first + (last - first) / 2;
    stage_apart(first, middle, starts);
    stage_apart(middle, last, starts);
  }
}

void OrderAudit::refuse(const Position& position, const DbError& error) {
  const auto& message = error.diagnostics().message;
  m_refused.field(m_topic);
  m_refused.field(std::to_string(position.partition));
  m_refused.field(std::to_string(position.offset));
  m_refused.field(storable_text("SQLSTATE " + error.sqlstate() + ": " + (message.empty() ? error.what() : message)));
  m_refused.end_row();
  ++m_refused_count;
}

OrderAudit::~OrderAudit() {
  if (!m_copying && !m_awaiting) {
    return;
  }
  // Abandoned (an error or a signal): end the COPY so the session is usable.
  PGconn* conn = m_connection.native();
  if (!m_copying || PQputCopyEnd(conn, "audit abandoned") == 1) {
    while (PGresult* raw = PQgetResult(conn)) {
      PQclear(raw);
    }
  }
}

AuditCounts OrderAudit::classify() {
  send_chunk();
  collect();
  send_events();
  if (m_refused.rows() > 0) {
    (void)m_connection.copy_in(k_copy_refused, m_refused.data());
    m_refused.clear();
  }
  const Result rows =
      m_connection.exec_params("SELECT verdict, count(*) FROM (" + classified("") + ") v GROUP BY verdict", {m_topic});
  AuditCounts counts;
  counts.refused = m_refused_count;
  for (int row = 0; row < rows.rows(); ++row) {
    const auto verdict = rows.value(row, 0);
    const auto count = parse_integer<std::uint64_t>(rows.value(row, 1));
    if (verdict == "ok") {
      counts.ok = count;
    } else if (verdict == "duplicate") {
      counts.duplicates = count;
    } else if (verdict == "dead_lettered") {
      counts.dead_lettered = count;
    } else if (verdict == "missing") {
      counts.missing = count;
    } else {
      counts.different = count;
    }
  }
  counts.events = classify_events();
  return counts;
}

std::vector<AuditProblem> OrderAudit::problems(std::size_t limit) {
  const Result rows = m_connection.exec_params(
      "SELECT * FROM (" + classified(problem_columns()) +
          ") v WHERE verdict IN ('missing', 'different') ORDER BY source_partition, source_offset LIMIT $2::bigint",
      {m_topic, std::to_string(limit)});
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
  // The events' first `limit` too, then the first `limit` of both by position.
  auto events = event_problems(limit);
  problems.insert(problems.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
  std::stable_sort(problems.begin(), problems.end(), [](const AuditProblem& a, const AuditProblem& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  if (problems.size() > limit) {
    problems.resize(limit);
  }
  return problems;
}

} // namespace foodpipe::db
