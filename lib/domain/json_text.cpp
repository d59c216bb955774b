#include "domain/json_text.hpp"

#include "domain/utf8.hpp"

namespace foodpipe::domain::json_text {

std::string_view type_name(JsonType type) noexcept {
  switch (type) {
  case JsonType::null: return "null";
  case JsonType::boolean: return "boolean";
  case JsonType::number: return "number";
  case JsonType::string: return "string";
  case JsonType::object: return "object";
  case JsonType::array: return "array";
  }
  return "null";
}

std::string clip(std::string_view text) {
  constexpr std::size_t k_max = 40;
  // Text that is not UTF-8 (an escaped lone surrogate in a key, a header's raw
  // bytes) is shown byte by byte, every byte outside printable ASCII as '?'.
  if (!is_valid_utf8(text)) {
    std::string ascii(text.substr(0, k_max));
    for (char& c : ascii) {
      const auto byte = static_cast<unsigned char>(c);
      c = byte < 0x20 || byte >= 0x7F ? '?' : c;
    }
    return text.size() > k_max ? ascii + "..." : ascii;
  }
  std::size_t size = text.size();
  if (size > k_max) {
    size = k_max;
    while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xC0U) == 0x80U) {
      --size;
    }
  }
  std::string out;
  out.reserve(size + 3);
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7F ? '?' : text[i]);
  }
  if (size < text.size()) {
    out.append("...");
  }
  return out;
}

std::string quoted(std::string_view text) {
  // Appended rather than "\"" + clip(text) + "\"", on which GCC 12 warns a
  // false -Wrestrict at -O3.
  std::string out(1, '"');
  out += clip(text);
  out += '"';
  return out;
}

std::string_view timestamp_problem(TimestampError error) noexcept {
  switch (error) {
  case TimestampError::syntax: break;
  case TimestampError::no_offset: return " has no offset (Z or +HH:MM)";
  case TimestampError::no_such_time: return " is not a real date and time of day";
  case TimestampError::leap_second: return " is a leap second (:60), which is not accepted";
  case TimestampError::long_fraction: return " has more than 9 fraction digits";
  case TimestampError::bad_offset: return " has an offset beyond 23:59";
  case TimestampError::out_of_range: return " is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999Z";
  }
  return " is not an RFC 3339 date-time with offset";
}

std::optional<Rejection> check_bytes(std::string_view bytes, const DecodeLimits& limits) {
  if (bytes.data() == nullptr) {
    return Rejection{ReasonCode::null_value, "the message value is null (a tombstone)"};
  }
  if (bytes.size() > limits.max_message_bytes) {
    return Rejection{ReasonCode::too_large, "the message is " + std::to_string(bytes.size()) +
                                                " bytes, more than the " +
                                                std::to_string(limits.max_message_bytes) + " allowed"};
  }
  if (const std::size_t bad = first_invalid_utf8(bytes); bad != bytes.size()) {
    return Rejection{ReasonCode::invalid_utf8, "invalid UTF-8 at byte " + std::to_string(bad)};
  }
  // RapidJSON reads a NUL byte as the end of the input, which would hide what follows.
  if (const auto nul = bytes.find('\0'); nul != std::string_view::npos) {
    return Rejection{ReasonCode::invalid_json, "NUL byte at offset " + std::to_string(nul)};
  }
  return std::nullopt;
}

std::optional<Rejection> document_problem(JsonType top) {
  if (top == JsonType::null) {
    return Rejection{ReasonCode::null_value, "the document is null"};
  }
  if (top != JsonType::object) {
    const std::string_view article = top == JsonType::array ? "an " : "a ";
    return Rejection{ReasonCode::not_an_object,
                     "the document is " + std::string(article) + std::string(type_name(top)) + ", not an object"};
  }
  return std::nullopt;
}

} // namespace foodpipe::domain::json_text
