#pragma once

// Pieces the decoders of lib/domain share (order_json.cpp, order_event_json.cpp,
// message_kind.cpp), so that every message type words a rejection alike and
// checks its raw bytes in the same order. Not part of what the layers above use.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/order_json.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::domain::json_text {

// A JSON value's type, as a detail names it: "expected string, got number".
enum class JsonType : std::uint8_t { null, boolean, number, string, object, array };
[[nodiscard]] std::string_view type_name(JsonType type) noexcept;

// What a SAX decoder learnt about one field while streaming through a message;
// field problems are kept here and reported after the parse, in field order.
enum class SlotState : std::uint8_t { absent, ok, wrong_type, bad_value };
struct Slot {
  SlotState state = SlotState::absent;
  JsonType got = JsonType::null; // for wrong_type
  std::string detail;            // for bad_value
};

// A document whose top-level value is not an object: null_value for `null`,
// not_an_object naming what it is; nullopt for an object.
[[nodiscard]] std::optional<Rejection> document_problem(JsonType top);

// Message content quoted in a rejection's detail: at most 40 bytes cut on a
// character boundary, control characters and bytes that are not UTF-8 shown as
// '?', "..." when cut; so a detail stays one short valid line whatever the
// message holds.
[[nodiscard]] std::string clip(std::string_view text);
// clip(text) in double quotes.
[[nodiscard]] std::string quoted(std::string_view text);

// The end of a detail for a time that parse_timestamp() refused, after the
// quoted text: " has no offset (Z or +HH:MM)", ...
[[nodiscard]] std::string_view timestamp_problem(TimestampError error) noexcept;

// The checks on the raw bytes that come before any JSON parsing, in this order:
// a null pointer (a tombstone) -> null_value, more than max_message_bytes ->
// too_large, not strict UTF-8 -> invalid_utf8, a NUL byte (RapidJSON would read
// it as the end) -> invalid_json. nullopt when the bytes pass.
[[nodiscard]] std::optional<Rejection> check_bytes(std::string_view bytes, const DecodeLimits& limits);

} // namespace foodpipe::domain::json_text
