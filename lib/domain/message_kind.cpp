#include "domain/message_kind.hpp"

#include <string>

#include "domain/json_text.hpp"

namespace foodpipe::domain {
namespace {

// A schema-version header's number: 1 to 9 decimal digits, no sign, no
// leading zero, nothing else. Stricter than necessary on purpose: a writer that
// puts "1.0" or " 1" there writes something else than foodpipe expects, and
// saying so beats guessing.
std::optional<std::uint32_t> parse_version(std::string_view text) noexcept {
  if (text.empty() || text.size() > 9 || text.front() == '0') {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value;
}

std::uint32_t newest_version(MessageKind kind) noexcept {
  return kind == MessageKind::order ? k_order_schema_version : k_order_status_schema_version;
}

MessageTypeResult unsupported(std::string detail) {
  return MessageTypeResult(Rejection{ReasonCode::unsupported_schema, std::move(detail)});
}

} // namespace

std::string_view to_string(MessageKind kind) noexcept {
  return kind == MessageKind::order_status ? "order_status" : "order";
}

std::optional<MessageKind> parse_message_kind(std::string_view text) noexcept {
  if (text == "order") {
    return MessageKind::order;
  }
  if (text == "order_status") {
    return MessageKind::order_status;
  }
  return std::nullopt;
}

MessageTypeResult classify_message(std::optional<std::string_view> type,
                                   std::optional<std::string_view> schema_version) {
  MessageKind kind = MessageKind::order;
  if (type) {
    const auto parsed = parse_message_kind(*type);
    if (!parsed) {
      return unsupported("type " + json_text::quoted(*type) +
                         " is not a message type foodpipe reads (order, order_status)");
    }
    kind = *parsed;
  }
  std::uint32_t version = 1;
  if (schema_version) {
    const auto parsed = parse_version(*schema_version);
    if (!parsed) {
      return unsupported("schema-version " + json_text::quoted(*schema_version) + " is not a version number");
    }
    version = *parsed;
  }
  // Every version from 1 to the newest is read (only 1 exists so far).
  if (version > newest_version(kind)) {
    const std::string implied = type ? "" : " (no type header)";
    return unsupported("schema-version " + std::to_string(version) + " of " + std::string(to_string(kind)) +
                       implied + " is newer than this foodpipe reads (" +
                       std::to_string(newest_version(kind)) + ")");
  }
  return MessageTypeResult(MessageType{kind, version});
}

TypeHeaders type_headers(MessageKind kind) noexcept {
  static_assert(k_order_schema_version == 1 && k_order_status_schema_version == 1,
                "the texts below are the newest versions");
  return kind == MessageKind::order ? TypeHeaders{"order", "1"} : TypeHeaders{"order_status", "1"};
}

} // namespace foodpipe::domain
