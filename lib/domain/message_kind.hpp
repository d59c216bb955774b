#pragma once

// Which kind of message a Kafka record holds, from two of its headers:
//
//   type            "order" | "order_status"
//   schema-version  a decimal version number: "1"
//
// Pure: the caller passes each header's value, or nullopt when the record
// does not carry it (when a header is repeated, its last value, as librdkafka's
// "get last" lookup finds it). The rules, decided for issue 14 and documented
// in docs/messages.md:
//
//   type absent     -> an order. Today's order producer writes
//                      schema-version=1 and content-type=application/json but
//                      no type, and keeps doing so (order messages stay as they
//                      are), so every topic written so far reads as orders.
//   version absent  -> version 1. With no headers at all this is an order of
//                      version 1: older foodpipe and the Python original.
//   otherwise       -> the named type at the named version, if this build reads
//                      it (order 1, order_status 1); anything else, an unknown
//                      type, an unknown version or a version that is not a
//                      plain decimal number ("1.0", "v1", " 1", "01"), is
//                      unsupported_schema with a detail naming the header.
//
// A producer of status events writes type=order_status and schema-version=1
// (event_headers below).

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "domain/order_json.hpp"

namespace foodpipe::domain {

inline constexpr std::string_view k_type_header = "type";
inline constexpr std::string_view k_schema_version_header = "schema-version";

enum class MessageKind : std::uint8_t { order, order_status };

// "order", "order_status": the values of the type header; stable forever.
[[nodiscard]] std::string_view to_string(MessageKind kind) noexcept;
// The inverse of to_string (exact, case-sensitive); nullopt for anything else.
[[nodiscard]] std::optional<MessageKind> parse_message_kind(std::string_view text) noexcept;

// The newest schema version of each kind this build writes and reads.
inline constexpr std::uint32_t k_order_schema_version = 1;
inline constexpr std::uint32_t k_order_status_schema_version = 1;

struct MessageType {
  MessageKind kind = MessageKind::order;
  std::uint32_t version = 1;

  friend bool operator==(const MessageType&, const MessageType&) = default;
};

// A MessageType or the unsupported_schema Rejection that explains why none.
class MessageTypeResult {
public:
  explicit MessageTypeResult(MessageType type) : m_value(type) {}
  explicit MessageTypeResult(Rejection rejection) : m_value(std::move(rejection)) {}

  [[nodiscard]] bool ok() const noexcept { return m_value.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  // Precondition: ok() (type) or !ok() (rejection); std::bad_variant_access otherwise.
  [[nodiscard]] const MessageType& type() const { return std::get<MessageType>(m_value); }
  [[nodiscard]] const Rejection& rejection() const { return std::get<Rejection>(m_value); }

private:
  std::variant<MessageType, Rejection> m_value;
};

// The kind and version of a record from its headers' values (see the top of
// this file). Header values are raw bytes: a detail quotes them clipped and
// with anything unprintable as '?'. Allocates only for a rejection.
[[nodiscard]] MessageTypeResult classify_message(std::optional<std::string_view> type,
                                                 std::optional<std::string_view> schema_version);

// The values of the type and schema-version headers a producer writes for a
// kind at its newest version: {"order_status", "1"}. (The order producer
// writes only schema-version, see above.)
struct TypeHeaders {
  std::string_view type;
  std::string_view schema_version;
};
[[nodiscard]] TypeHeaders type_headers(MessageKind kind) noexcept;

} // namespace foodpipe::domain
