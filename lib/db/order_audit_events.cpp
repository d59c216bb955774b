// OrderAudit's order status events (order_audit.hpp, pipeline/verify.hpp):
// staged into a table of their own and classified against order_events and
// dead_letters, as the orders are against orders and dead_letters.

#include <optional>
#include <string_view>

#include "db/order_audit.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::db {
namespace {

// Events are small (about 150 bytes of COPY text): a smaller chunk than the
// orders' keeps the memory flat with no visible cost.
constexpr std::size_t k_event_chunk_bytes = 4 * 1024 * 1024;

// The types mirror order_events (sql/006), so that values compare as stored:
// times as instants. event_id is NULL for a message that did not decode.
const std::string k_create_event_stage =
    "CREATE TEMP TABLE IF NOT EXISTS foodpipe_verify_event_stage ("
    "  event_id text,"
    "  order_id text,"
    "  status text,"
    "  occurred_at timestamptz,"
    "  reason text,"
    "  source_partition integer,"
    "  source_offset bigint"
    ");"
    "TRUNCATE pg_temp.foodpipe_verify_event_stage";
const std::string k_truncate_event_stage = "TRUNCATE pg_temp.foodpipe_verify_event_stage";

const std::string k_copy_event_stage = "COPY pg_temp.foodpipe_verify_event_stage "
                                       "(event_id, order_id, status, occurred_at, reason, source_partition, "
                                       "source_offset) FROM STDIN";

// The store's duplicate rule for events (order_store.cpp, k_apply_events) on
// a stored row `alias` and the staged row s; true or false, never NULL.
std::string same_event(const std::string& alias) {
  return "(" + alias + ".event_id = s.event_id AND " + alias + ".order_id = s.order_id AND " + alias +
         ".status = s.status AND " + alias + ".occurred_at = s.occurred_at AND " + alias +
         ".reason IS NOT DISTINCT FROM s.reason) IS TRUE";
}

// One verdict per staged event; $1 is the topic. As for orders, the row at
// the message's own position decides first. An event stored there is also
// 'different' when it is its order's last applied event (applied_seq) and the
// order's status is no longer the one it moved the order to: a status changed
// behind the pipeline's back. The stage holds one chunk; each lookup is an
// index probe (LATERAL ... LIMIT 1, as for the orders in order_audit.cpp).
std::string classified_events(std::string_view extra_columns) {
  return "SELECT s.source_partition, s.source_offset, s.event_id, s.order_id, "
         "CASE WHEN p.event_id IS NOT NULL "
         "       THEN CASE WHEN NOT " + same_event("p") + " THEN 'different' "
         "                 WHEN p.applied_seq = latest.seq AND o.status IS DISTINCT FROM p.status THEN 'different' "
         "                 ELSE 'ok' END "
         "     WHEN d.id IS NOT NULL THEN 'dead_lettered' "
         "     WHEN e.event_id IS NULL THEN 'missing' "
         "     WHEN " + same_event("e") + " THEN 'duplicate' "
         "     ELSE 'different' END AS verdict" +
         std::string(extra_columns) +
         " FROM pg_temp.foodpipe_verify_event_stage s "
         "LEFT JOIN LATERAL (SELECT * FROM order_events x WHERE x.source_topic = $1::text "
         "  AND x.source_partition = s.source_partition AND x.source_offset = s.source_offset LIMIT 1) p ON true "
         "LEFT JOIN LATERAL (SELECT * FROM order_events x WHERE x.event_id = s.event_id LIMIT 1) e ON true "
         "LEFT JOIN LATERAL (SELECT x.status FROM orders x WHERE x.order_id = p.order_id LIMIT 1) o ON true "
         "LEFT JOIN LATERAL (SELECT max(x.applied_seq) AS seq FROM order_events x "
         "                   WHERE x.order_id = p.order_id) latest ON true "
         "LEFT JOIN LATERAL (SELECT x.id FROM dead_letters x WHERE x.source_topic = $1::text "
         "  AND x.source_partition = s.source_partition AND x.source_offset = s.source_offset LIMIT 1) d ON true";
}

// For a problem: the row at its own position (event_id, status), where the
// event_id is stored instead, and the order's status.
constexpr std::string_view k_event_problem_columns =
    ", p.event_id AS own_event_id, p.status AS own_status, o.status AS order_status, "
    "e.source_topic AS stored_topic, e.source_partition AS stored_partition, e.source_offset AS stored_offset, "
    "concat_ws(', ', "
    "  CASE WHEN p.order_id IS DISTINCT FROM s.order_id THEN 'order_id' END, "
    "  CASE WHEN p.status IS DISTINCT FROM s.status "
    "       THEN 'status (stored ' || p.status || ', message ' || s.status || ')' END, "
    "  CASE WHEN p.occurred_at IS DISTINCT FROM s.occurred_at THEN 'occurred_at' END, "
    "  CASE WHEN p.reason IS DISTINCT FROM s.reason THEN 'reason' END) AS differing";

std::string event_problem_detail(const Result& rows, int row, std::string_view topic, std::int32_t partition,
                                 std::int64_t offset) {
  const bool decoded = !rows.is_null(row, 2);
  if (std::string_view(rows.value(row, 4)) == "missing") {
    return decoded ? "no order_events row for this event_id and no dead letter"
                   : "an order status event that does not decode and has no dead letter";
  }
  if (!rows.is_null(row, 5)) { // a row at its own position
    if (std::string_view(rows.value(row, 5)) != std::string_view(rows.value(row, 2))) {
      return "the order_events row stored from its own position is event " + std::string(rows.value(row, 5));
    }
    const std::string fields(rows.value(row, 11));
    if (!fields.empty()) {
      return "the order_events row stored from its own position differs: " + fields;
    }
    const std::string status = rows.is_null(row, 7) ? std::string("(none)") : std::string(rows.value(row, 7));
    return "the order's status is " + status +
           ", but its last applied event (this one) moved it to " + std::string(rows.value(row, 6));
  }
  std::string where = "another position";
  if (!rows.is_null(row, 8) && !rows.is_null(row, 9) && !rows.is_null(row, 10)) {
    const auto stored_partition = parse_integer<std::int32_t>(rows.value(row, 9));
    const auto stored_offset = parse_integer<std::int64_t>(rows.value(row, 10));
    if (rows.value(row, 8) != topic || stored_partition != partition || stored_offset != offset) {
      where = describe_position(std::string(rows.value(row, 8)), stored_partition, stored_offset);
    }
  }
  return "its event_id is stored from " + where + " with other content, and this message has no dead letter";
}

} // namespace

void OrderAudit::create_event_stage() { m_connection.exec(k_create_event_stage); }

void OrderAudit::add_event(const EventRow& event) {
  m_events.rows.field(event.event_id);
  m_events.rows.field(event.order_id);
  m_events.rows.field(event.status);
  char time[domain::k_timestamp_text_size];
  const char* const time_end = domain::format_timestamp(event.occurred_at, time);
  m_events.rows.field(std::string_view(time, static_cast<std::size_t>(time_end - time)));
  m_events.rows.field(event.reason ? std::optional<std::string_view>(*event.reason) : std::nullopt);
  m_events.rows.field(std::to_string(event.partition));
  m_events.rows.field(std::to_string(event.offset));
  m_events.rows.end_row();
  if (m_events.rows.data().size() >= k_event_chunk_bytes) {
    submit(m_events);
  }
}

void OrderAudit::add_undecodable_event(std::int32_t partition, std::int64_t offset) {
  for (int column = 0; column < 5; ++column) {
    m_events.rows.field(std::nullopt);
  }
  m_events.rows.field(std::to_string(partition));
  m_events.rows.field(std::to_string(offset));
  m_events.rows.end_row();
  if (m_events.rows.data().size() >= k_event_chunk_bytes) {
    submit(m_events);
  }
}

// Events passed decode_event() (valid UTF-8, no NUL, a time parse_timestamp()
// accepts), so PostgreSQL has nothing to refuse here, as in OrderStore, and a
// refusal is an error.
void OrderAudit::stage_events(const Chunk& chunk) {
  m_connection.exec(k_truncate_event_stage);
  (void)m_connection.copy_in(k_copy_event_stage, chunk.rows.data());
}

void OrderAudit::classify_events(std::uint64_t staged) {
  auto& counts = m_counts.events;
  counts.staged += staged;
  const Result rows = m_connection.exec_params(
      "SELECT verdict, count(*) FROM (" + classified_events("") + ") v GROUP BY verdict", {m_topic});
  const std::uint64_t problems = add_verdicts(rows, counts);
  if (problems > 0 && m_problem_limit > 0) {
    keep_problems(event_problems());
  }
}

// The first m_problem_limit missing or different events of the staged chunk.
std::vector<AuditProblem> OrderAudit::event_problems() {
  std::vector<AuditProblem> problems;
  const Result rows = m_connection.exec_params(
      "SELECT * FROM (" + classified_events(k_event_problem_columns) +
          ") v WHERE verdict IN ('missing', 'different') ORDER BY source_partition, source_offset LIMIT $2::bigint",
      {m_topic, std::to_string(m_problem_limit)});
  for (int row = 0; row < rows.rows(); ++row) {
    AuditProblem problem;
    problem.partition = parse_integer<std::int32_t>(rows.value(row, 0));
    problem.offset = parse_integer<std::int64_t>(rows.value(row, 1));
    problem.event_id = rows.is_null(row, 2) ? std::string() : std::string(rows.value(row, 2));
    problem.order_id = rows.is_null(row, 3) ? std::string() : std::string(rows.value(row, 3));
    problem.kind = std::string(rows.value(row, 4));
    problem.detail = event_problem_detail(rows, row, m_topic, problem.partition, problem.offset);
    problems.push_back(std::move(problem));
  }
  return problems;
}

} // namespace foodpipe::db
