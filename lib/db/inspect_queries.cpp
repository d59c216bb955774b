#include "db/inspect_queries.hpp"

#include <algorithm>
#include <charconv>

#include "db/error.hpp"
#include "domain/order.hpp"

namespace foodpipe::db {
namespace {

// Timestamps as ISO-8601 UTC with milliseconds, whatever the session's TimeZone.
std::string iso_utc(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

// bytea arrives as encode(..., 'hex'): two hex digits per byte.
std::string from_hex(std::string_view hex) {
  const auto nibble = [](char c) -> unsigned {
    if (c >= '0' && c <= '9') {
      return static_cast<unsigned>(c - '0');
    }
    return static_cast<unsigned>(c - 'a' + 10);
  };
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>((nibble(hex[i]) << 4U) | nibble(hex[i + 1])));
  }
  return bytes;
}

std::string dead_letter_select(const std::string& where) {
  return "SELECT id, source_topic, source_partition, source_offset, encode(message_key, 'hex'), "
         "encode(substring(payload FROM 1 FOR $2::integer), 'hex'), coalesce(octet_length(payload), 0), "
         "reason_code, coalesce(reason_detail, ''), coalesce(consumer_group, ''), " +
         iso_utc("failed_at") + " FROM dead_letters " + where;
}

std::vector<DeadLetterRow> dead_letter_rows(const Result& result) {
  std::vector<DeadLetterRow> rows;
  for (int r = 0; r < result.rows(); ++r) {
    DeadLetterRow row;
    row.id = parse_integer<std::int64_t>(result.value(r, 0));
    row.source_topic = result.value(r, 1);
    row.source_partition = parse_integer<std::int32_t>(result.value(r, 2));
    row.source_offset = parse_integer<std::int64_t>(result.value(r, 3));
    if (!result.is_null(r, 4)) {
      row.key = from_hex(result.value(r, 4));
    }
    if (!result.is_null(r, 5)) {
      row.payload = from_hex(result.value(r, 5));
    }
    row.payload_bytes = parse_integer<std::int64_t>(result.value(r, 6));
    row.reason_code = result.value(r, 7);
    row.reason_detail = result.value(r, 8);
    row.consumer_group = result.value(r, 9);
    row.failed_at = result.value(r, 10);
    rows.push_back(std::move(row));
  }
  return rows;
}

// Every status, counted; the ones no order has are there with 0.
std::vector<std::pair<std::string, std::int64_t>> orders_by_status(Connection& connection) {
  using domain::OrderStatus;
  std::vector<std::pair<std::string, std::int64_t>> counts;
  for (const auto status : {OrderStatus::pending, OrderStatus::confirmed, OrderStatus::preparing,
                            OrderStatus::out_for_delivery, OrderStatus::delivered, OrderStatus::cancelled}) {
    counts.emplace_back(domain::to_string(status), 0);
  }
  const auto result = connection.exec("SELECT status, count(*) FROM orders GROUP BY status");
  for (int r = 0; r < result.rows(); ++r) {
    const std::string status(result.value(r, 0));
    const auto count = parse_integer<std::int64_t>(result.value(r, 1));
    const auto it =
        std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == status; });
    // sql/002's CHECK allows only the six; one more would come from a schema
    // this build does not know, and is shown rather than hidden.
    if (it != counts.end()) {
      it->second = count;
    } else {
      counts.emplace_back(status, count);
    }
  }
  return counts;
}

} // namespace

std::int64_t DatabaseSummary::dead_letters() const {
  std::int64_t total = 0;
  for (const auto& [reason, count] : dead_letters_by_reason) {
    total += count;
  }
  return total;
}

DatabaseSummary summarise_database(Connection& connection) {
  DatabaseSummary summary;
  const auto orders = connection.exec("SELECT count(*), " + iso_utc("max(processed_at)") + " FROM orders");
  summary.orders = parse_integer<std::int64_t>(orders.value(0, 0));
  if (!orders.is_null(0, 1)) {
    summary.newest_processed_at = std::string(orders.value(0, 1));
  }
  summary.orders_by_status = orders_by_status(connection);
  const auto events = connection.exec("SELECT count(*) FROM order_events");
  summary.order_events = parse_integer<std::int64_t>(events.value(0, 0));
  const auto reasons =
      connection.exec("SELECT reason_code, count(*) FROM dead_letters GROUP BY reason_code ORDER BY reason_code");
  for (int r = 0; r < reasons.rows(); ++r) {
    summary.dead_letters_by_reason[std::string(reasons.value(r, 0))] = parse_integer<std::int64_t>(reasons.value(r, 1));
  }
  const auto version = connection.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  summary.schema_version = parse_integer<int>(version.value(0, 0));
  return summary;
}

std::map<std::int32_t, std::int64_t> stored_offsets(Connection& connection, const std::string& group,
                                                    const std::string& topic) {
  const auto result = connection.exec_params(
      "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1::text AND topic = $2::text",
      {group, topic});
  std::map<std::int32_t, std::int64_t> offsets;
  for (int r = 0; r < result.rows(); ++r) {
    offsets[parse_integer<std::int32_t>(result.value(r, 0))] = parse_integer<std::int64_t>(result.value(r, 1));
  }
  return offsets;
}

std::vector<DeadLetterRow> recent_dead_letters(Connection& connection, const std::optional<std::string>& reason,
                                               std::int64_t limit, std::int64_t excerpt_bytes) {
  const auto limit_text = std::to_string(limit);
  const auto excerpt_text = std::to_string(excerpt_bytes);
  const std::optional<std::string_view> reason_param =
      reason ? std::optional<std::string_view>(*reason) : std::nullopt;
  return dead_letter_rows(connection.exec_params(
      dead_letter_select("WHERE ($3::text IS NULL OR reason_code = $3::text) ORDER BY id DESC LIMIT $1::bigint"),
      {limit_text, excerpt_text, Param(reason_param)}));
}

std::vector<DeadLetterRow> dead_letters_containing(Connection& connection, const std::string& text, std::int64_t limit,
                                                   std::int64_t excerpt_bytes) {
  const auto limit_text = std::to_string(limit);
  const auto excerpt_text = std::to_string(excerpt_bytes);
  return dead_letter_rows(connection.exec_params(
      dead_letter_select("WHERE position(convert_to($3::text, 'UTF8') IN payload) > 0 ORDER BY id LIMIT $1::bigint"),
      {limit_text, excerpt_text, text}));
}

std::optional<OrderRow> find_order(Connection& connection, const std::string& order_id) {
  const auto result = connection.exec_params(
      "SELECT order_id, customer_id, coalesce(customer_name, ''), coalesce(customer_email, ''), items::text, "
      "total_amount::text, status, " +
          iso_utc("created_at") + ", " + iso_utc("processed_at") +
          ", source_topic, source_partition, source_offset FROM orders WHERE order_id = $1::text",
      {order_id});
  if (result.empty()) {
    return std::nullopt;
  }
  OrderRow row;
  row.order_id = result.value(0, 0);
  row.customer_id = result.value(0, 1);
  row.customer_name = result.value(0, 2);
  row.customer_email = result.value(0, 3);
  row.items_json = result.value(0, 4);
  row.total_amount = result.value(0, 5);
  row.status = result.value(0, 6);
  row.created_at = result.value(0, 7);
  row.processed_at = result.value(0, 8);
  if (!result.is_null(0, 9)) {
    row.source_topic = std::string(result.value(0, 9));
  }
  if (!result.is_null(0, 10)) {
    row.source_partition = parse_integer<std::int32_t>(result.value(0, 10));
  }
  if (!result.is_null(0, 11)) {
    row.source_offset = parse_integer<std::int64_t>(result.value(0, 11));
  }
  return row;
}

std::vector<OrderEventRow> order_events_of(Connection& connection, const std::string& order_id) {
  // applied_seq, not occurred_at: events with the same occurred_at (a
  // lifecycle produced with --time-scale 0) keep the order they moved it in.
  // extract(epoch) is numeric, so the difference in milliseconds is exact.
  const auto result = connection.exec_params(
      "SELECT e.event_id, e.status, e.previous_status, " + iso_utc("e.occurred_at") +
          ", e.reason, e.source_topic, e.source_partition, e.source_offset, " + iso_utc("e.applied_at") +
          ", round((extract(epoch FROM e.occurred_at) - extract(epoch FROM o.created_at)) * 1000)::bigint "
          "FROM order_events e JOIN orders o USING (order_id) "
          "WHERE e.order_id = $1::text ORDER BY e.applied_seq",
      {order_id});
  std::vector<OrderEventRow> rows;
  for (int r = 0; r < result.rows(); ++r) {
    OrderEventRow row;
    row.event_id = result.value(r, 0);
    row.status = result.value(r, 1);
    row.previous_status = result.value(r, 2);
    row.occurred_at = result.value(r, 3);
    if (!result.is_null(r, 4)) {
      row.reason = std::string(result.value(r, 4));
    }
    row.source_topic = result.value(r, 5);
    row.source_partition = parse_integer<std::int32_t>(result.value(r, 6));
    row.source_offset = parse_integer<std::int64_t>(result.value(r, 7));
    row.applied_at = result.value(r, 8);
    row.since_created_ms = parse_integer<std::int64_t>(result.value(r, 9));
    rows.push_back(std::move(row));
  }
  return rows;
}

} // namespace foodpipe::db
