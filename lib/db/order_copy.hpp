#pragma once

// How OrderStore turns orders and dead letters into COPY text rows for its
// staging tables (order_store.cpp creates them with these columns, in this
// order). Separate so that the exact bytes can be unit-tested without a server.
// Pure functions; thread-safe on distinct arguments.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/copy_buffer.hpp"
#include "db/order_batch.hpp"
#include "domain/order.hpp"

namespace foodpipe::db {

// Column lists for "COPY <table> (<columns>) FROM STDIN": the orders table's
// columns as OrderStore writes them (processed_at takes its default), the
// order staging table's (the same plus seq), and the dead-letter staging table's.
inline constexpr std::string_view k_order_columns =
    "order_id, customer_id, customer_name, customer_email, items, total_amount, status, created_at, "
    "source_topic, source_partition, source_offset";
inline constexpr std::string_view k_order_stage_columns =
    "order_id, customer_id, customer_name, customer_email, items, total_amount, status, created_at, "
    "source_topic, source_partition, source_offset, seq";
inline constexpr std::string_view k_dead_letter_stage_columns =
    "source_topic, source_partition, source_offset, message_key, payload, reason_code, reason_detail";

// The status an order `o` was stored with: orders.status until status events
// move it (sql/006), then the status its first applied event moved it from.
// An order message is compared with this, not with the current status, so a
// redelivered or replayed order stays an exact duplicate after its events.
inline constexpr std::string_view k_original_status_sql =
    "coalesce((SELECT e.previous_status FROM order_events e WHERE e.order_id = o.order_id"
    " ORDER BY e.applied_seq LIMIT 1), o.status)";

// "Same content" in SQL, for a stored row `o` of orders and a staged row `s`
// of the same columns: every field equal, amounts as numeric (cents), items
// as jsonb (in order), times as instants, the status as stored before any
// event (k_original_status_sql); true or false, never NULL. The one
// definition behind OrderStore's exact-duplicate check and the audit of
// OrderAudit, so that they can never disagree (domain::same_content is the
// same rule on decoded orders).
inline constexpr std::string_view k_same_content_sql =
    "(o.customer_id = s.customer_id"
    " AND o.customer_name IS NOT DISTINCT FROM s.customer_name"
    " AND o.customer_email IS NOT DISTINCT FROM s.customer_email"
    " AND o.items = s.items AND o.total_amount = s.total_amount"
    " AND coalesce((SELECT e.previous_status FROM order_events e WHERE e.order_id = o.order_id"
    " ORDER BY e.applied_seq LIMIT 1), o.status) = s.status"
    " AND o.created_at = s.created_at) IS TRUE";
static_assert(k_same_content_sql.find(k_original_status_sql) != std::string_view::npos,
              "k_same_content_sql compares the original status, spelled as k_original_status_sql");

// Appends the line items as the JSON array stored in orders.items:
//   [{"item_id":"ITEM-003","name":"Bacon Burger","quantity":2,"price":10.99,"subtotal":21.98}]
// Strings are escaped as JSON requires ('"', '\\', control characters as
// \uXXXX) and otherwise copied byte for byte: a NUL becomes \u0000, which jsonb
// refuses (SQLSTATE 22P05), and invalid UTF-8 stays invalid for the server to
// refuse (22021). Amounts have exactly two decimals (never floating point).
void append_items_json(const std::vector<domain::LineItem>& items, std::string& out);

// One row of k_order_columns, followed by `seq` when given (k_order_stage_columns:
// the row's number within the batch). `scratch` is reused for the items JSON.
// Values are copied byte for byte: PostgreSQL, not this function, decides
// what it refuses.
void append_order_row(CopyBuffer& rows, const IncomingOrder& incoming, std::string_view topic,
                      std::optional<std::size_t> seq, std::string& scratch);

// One row of the dead-letter staging table. Key and payload go as bytea
// (NULL when absent); the topic and detail through storable_text().
void append_dead_letter_stage_row(CopyBuffer& rows, const DeadLetter& letter, std::string& scratch);

// `text` as a text column can always hold it: each NUL byte and each byte
// that does not belong to well-formed UTF-8 becomes U+FFFD. Used for the
// dead letters' own text, which must never make the dead-letter write fail.
[[nodiscard]] std::string storable_text(std::string_view text);

} // namespace foodpipe::db
