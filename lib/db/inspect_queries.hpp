#pragma once

// The read-only queries behind `foodpipe inspect`: counts, stored offsets,
// dead letters, one order's row and the status events applied to it. Every
// function runs plain SELECTs on the given Connection (no transaction, no
// lock) and throws DbError; an absent table is SQLSTATE 42P01
// (db/migrator.hpp's require_foodpipe_schema checks first).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/connection.hpp"

namespace foodpipe::db {

struct DatabaseSummary {
  std::int64_t orders = 0;
  // Every status sql/002 allows, in lifecycle order (pending first, cancelled
  // last), with 0 for a status no order has: a script need not know which are absent.
  std::vector<std::pair<std::string, std::int64_t>> orders_by_status;
  std::int64_t order_events = 0; // rows in order_events: status events applied
  std::optional<std::string> newest_processed_at; // ISO-8601 UTC; nullopt without orders
  std::map<std::string, std::int64_t> dead_letters_by_reason;
  int schema_version = 0;                         // highest version in schema_migrations
  [[nodiscard]] std::int64_t dead_letters() const;
};

[[nodiscard]] DatabaseSummary summarise_database(Connection& connection);

// partition -> next offset stored by `group` for `topic` (table consumer_offsets).
[[nodiscard]] std::map<std::int32_t, std::int64_t> stored_offsets(Connection& connection, const std::string& group,
                                                                  const std::string& topic);

struct DeadLetterRow {
  std::int64_t id = 0;
  std::string source_topic;
  std::int32_t source_partition = 0;
  std::int64_t source_offset = 0;
  std::optional<std::string> key;     // raw bytes
  std::optional<std::string> payload; // raw bytes, at most the excerpt length asked for
  std::int64_t payload_bytes = 0;     // the full payload's length
  std::string reason_code;
  std::string reason_detail;
  std::string consumer_group;
  std::string failed_at;              // ISO-8601 UTC
};

// The newest dead letters first (optionally of one reason), at most `limit`,
// each payload cut to `excerpt_bytes`.
[[nodiscard]] std::vector<DeadLetterRow> recent_dead_letters(Connection& connection,
                                                             const std::optional<std::string>& reason,
                                                             std::int64_t limit, std::int64_t excerpt_bytes);

// Dead letters whose raw payload contains `text` (e.g. an order id), oldest first.
[[nodiscard]] std::vector<DeadLetterRow> dead_letters_containing(Connection& connection, const std::string& text,
                                                                 std::int64_t limit, std::int64_t excerpt_bytes);

struct OrderRow {
  std::string order_id;
  std::string customer_id;
  std::string customer_name;
  std::string customer_email;
  std::string items_json;   // as stored (jsonb rendered by PostgreSQL)
  std::string total_amount; // numeric as text, e.g. "42.50"
  std::string status;
  std::string created_at;   // ISO-8601 UTC
  std::string processed_at; // ISO-8601 UTC
  std::optional<std::string> source_topic;
  std::optional<std::int32_t> source_partition;
  std::optional<std::int64_t> source_offset;
};

[[nodiscard]] std::optional<OrderRow> find_order(Connection& connection, const std::string& order_id);

// One row of order_events (sql/006): a status event that was applied.
struct OrderEventRow {
  std::string event_id;
  std::string status;          // the status it moved the order to
  std::string previous_status; // the status it moved the order from
  std::string occurred_at;     // ISO-8601 UTC, as the producer said
  std::optional<std::string> reason;
  std::string source_topic;
  std::int32_t source_partition = 0;
  std::int64_t source_offset = 0;
  std::string applied_at;      // ISO-8601 UTC
  // occurred_at - the order's created_at, in whole milliseconds (negative when
  // the producer's clock put the event first).
  std::int64_t since_created_ms = 0;
};

// The events applied to one order, in the order they were applied (which is
// the order of its status moves), empty for an order without any.
[[nodiscard]] std::vector<OrderEventRow> order_events_of(Connection& connection, const std::string& order_id);

} // namespace foodpipe::db
