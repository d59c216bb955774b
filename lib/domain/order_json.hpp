#pragma once

// The order's JSON form: the Kafka message value, the lines of a
// `produce --from-file` file and the raw payload kept with a dead letter.
//
//   {"order_id":"ORD-20260102-testrun1-0000001","customer_id":"CUST-00042",
//    "customer_name":"Zoë O'Brien","customer_email":"zoe.obrien@example.com",
//    "items":[{"item_id":"ITEM-003","name":"Bacon Burger","quantity":2,
//              "price":10.99,"subtotal":21.98}],
//    "total_amount":21.98,"status":"pending","created_at":"2026-01-02T03:04:05.678Z"}
//
// encode() writes exactly that shape: fields in that order, no whitespace,
// amounts as JSON numbers with exactly two decimals, created_at in UTC with
// milliseconds. decode() is the validation gate shared by the consumer and the
// producer's --from-file: it either returns an Order that satisfies every rule
// below or a Rejection with a stable reason code and a short detail.
//
// Everything here is thread-safe (no shared state) and never touches Kafka or SQL.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/defaults.hpp"
#include "domain/money.hpp"
#include "domain/order.hpp"

namespace foodpipe::domain {

// Why a message was not applied. The snake_case strings of to_string() are
// stored in dead_letters.reason_code and used by scripts: stable forever.
enum class ReasonCode : std::uint8_t {
  invalid_utf8,          // the bytes are not UTF-8
  invalid_json,          // not one JSON document, or a key repeated within an object
  not_an_object,         // valid JSON whose top-level value is not an object
  missing_field,         // a required field is absent (detail names it)
  wrong_type,            // a field has the wrong JSON type (detail names field and expected type)
  invalid_value,         // right type, unacceptable value (empty id, quantity 0, bad time, ...)
  total_mismatch,        // subtotal != price x quantity, or total != sum of subtotals (exact cents)
  too_large,             // more bytes than DecodeLimits::max_message_bytes
  null_value,            // a null message value (a tombstone) or the JSON document `null`
  conflicting_duplicate, // set by the consumer: an order_id already stored with other content
  db_rejected,           // set by the consumer: PostgreSQL refused the row
  // Added with order status events (issue 14); appended so that no existing value moves.
  unsupported_schema, // the headers name a message type or schema-version this build cannot read
  illegal_transition, // set by the consumer: a status event the state machine refuses (order_event.hpp)
  unknown_order       // set by the consumer: a status event for an order_id that is not stored
};

// "invalid_utf8", "invalid_json", ... exactly the enumerator's name.
[[nodiscard]] std::string_view to_string(ReasonCode code) noexcept;
// The inverse of to_string; nullopt for anything else.
[[nodiscard]] std::optional<ReasonCode> parse_reason_code(std::string_view text) noexcept;

struct Rejection {
  ReasonCode code = ReasonCode::invalid_json;
  // One short line naming the field, e.g. `items[2].quantity: 0 is below 1`.
  // Valid UTF-8; quoted message content is truncated to a few dozen bytes.
  std::string detail;

  friend bool operator==(const Rejection&, const Rejection&) = default;
};

// Bounds decode() enforces. Sizes are in bytes of UTF-8.
inline constexpr std::size_t k_max_order_id_size = 50; // order_id
inline constexpr std::size_t k_max_id_size = 50;       // customer_id, item_id
inline constexpr std::size_t k_max_name_size = 200;    // customer_name, item name
inline constexpr std::size_t k_max_email_size = 254;   // RFC 5321 path limit
inline constexpr std::size_t k_max_items = 100;        // line items per order
inline constexpr std::int32_t k_max_quantity = 1000;   // per line item
// Largest price, subtotal or total: what a NUMERIC(10,2) column holds.
inline constexpr Money k_max_amount = Money::from_cents(9'999'999'999);

struct DecodeLimits {
  std::size_t max_message_bytes = defaults::k_max_message_bytes;
};

// An Order or the Rejection that explains why there is none.
class DecodeResult {
public:
  explicit DecodeResult(Order order) : m_value(std::move(order)) {}
  explicit DecodeResult(Rejection rejection) : m_value(std::move(rejection)) {}

  [[nodiscard]] bool ok() const noexcept { return m_value.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // Precondition: ok() (order) or !ok() (rejection); std::bad_variant_access otherwise.
  [[nodiscard]] const Order& order() const& { return std::get<Order>(m_value); }
  [[nodiscard]] Order& order() & { return std::get<Order>(m_value); }
  [[nodiscard]] Order&& order() && { return std::get<Order>(std::move(m_value)); }
  [[nodiscard]] const Rejection& rejection() const& { return std::get<Rejection>(m_value); }

private:
  std::variant<Order, Rejection> m_value;
};

// Appends the JSON of `order` to `out` (clear `out` first to replace; keeping a
// std::string across calls reuses its capacity). Does not check the order's
// business rules; an order that passed decode() or came from the generator
// round-trips exactly. Strings are written as UTF-8 with JSON escapes for '"',
// '\\' and control characters.
// Throws std::invalid_argument naming the field, with `out` as it was, when a
// string field is not valid UTF-8 (the JSON would be invalid). Allocates only
// when `out` must grow.
void encode(const Order& order, std::string& out);
// Appends `text` as a JSON string, quoted and escaped exactly as encode()
// writes an order's strings. Throws std::invalid_argument when it is not
// valid UTF-8.
void encode_string(std::string_view text, std::string& out);
[[nodiscard]] std::string encode(const Order& order);

// Decodes and validates one message value. Checks, in this order:
//   bytes.data() == nullptr (a tombstone)                 -> null_value
//   bytes.size() > limits.max_message_bytes               -> too_large
//   bytes are not strict UTF-8                            -> invalid_utf8
//   not exactly one JSON document (RFC 8259, no comments, no NaN, no trailing
//   data, no NUL byte), a repeated key in any object, an escaped lone surrogate
//                                                         -> invalid_json
//   the document is `null`                                -> null_value
//   the document is not an object                         -> not_an_object
//   then each field in the order encode() writes them (items one by one, each
//   item's fields in order), reporting the first problem:
//     absent -> missing_field, wrong JSON type -> wrong_type,
//     unacceptable value -> invalid_value (ids empty or longer than
//     k_max_*_size, names empty or too long, email without '@', a string
//     holding U+0000 (PostgreSQL cannot store it), quantity not an integer in
//     1..k_max_quantity, amounts not decimals with at most two significant
//     fraction digits or not in (0, k_max_amount], no items or more than
//     k_max_items, unknown status, created_at not an RFC 3339 date-time that
//     parse_timestamp() accepts: leap seconds and instants outside years
//     0001..9999 in UTC, year 0000 included, are refused here rather than
//     by PostgreSQL)
//   finally, in exact cents: each subtotal == price x quantity, then
//   total_amount == sum of subtotals                       -> total_mismatch
// Unknown fields are accepted and skipped at any depth (their keys must still
// be unique). Nesting depth is bounded only by the message size: parsing is
// iterative. Never throws except std::bad_alloc.
[[nodiscard]] DecodeResult decode(std::string_view bytes, const DecodeLimits& limits = {});

// The same, reusing `order`'s capacity (strings and items) for hot loops. On
// success returns true and `order` holds the result; on failure returns false,
// fills `rejection`, and leaves `order` in an unspecified valid state.
bool decode_into(std::string_view bytes, Order& order, Rejection& rejection, const DecodeLimits& limits = {});

} // namespace foodpipe::domain
