#include "domain/file_line.hpp"

#include <cstddef>
#include <optional>
#include <string>

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace foodpipe::domain {
namespace {

// Notes the three top-level members classify_line() looks at and skips the
// rest. Nothing is validated: the decoder that gets the line does that, with
// its own reasons, so a document this handler cannot parse is simply an order.
class TopLevelHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevelHandler> {
public:
  bool Default() { return value(std::nullopt); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return value(std::nullopt); }
  bool String(const char* text, rapidjson::SizeType size, bool) {
    return value(std::string_view(text, size));
  }
  bool StartObject() { return open(); }
  bool StartArray() { return open(); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }
  bool Key(const char* text, rapidjson::SizeType size, bool) {
    if (m_depth == 1) {
      m_key.assign(text, size);
      has_event_id = has_event_id || m_key == "event_id";
      has_items = has_items || m_key == "items";
    }
    return true;
  }

  bool has_event_id = false;
  bool has_items = false;
  bool has_type = false;
  std::optional<std::string> type; // the "type" member's value when it is a string

private:
  bool open() {
    // An object or array as the value of "type" is a non-string type.
    if (m_depth == 1 && m_key == "type") {
      has_type = true;
      type.reset();
    }
    ++m_depth;
    return true;
  }
  bool close() {
    --m_depth;
    return true;
  }
  bool value(std::optional<std::string_view> text) {
    if (m_depth == 1 && m_key == "type") {
      has_type = true;
      type = text ? std::optional<std::string>(*text) : std::nullopt;
    }
    return true;
  }

  std::size_t m_depth = 0;
  std::string m_key; // the last key read at the top level
};

} // namespace

MessageTypeResult classify_line(std::string_view line) {
  rapidjson::MemoryStream stream(line.data(), line.size());
  TopLevelHandler handler;
  rapidjson::Reader reader;
  // Iterative, so that deep nesting cannot exhaust the C stack; numbers as
  // text, so that a huge one is not a parse error of its own.
  constexpr unsigned k_flags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  if (reader.Parse<k_flags>(stream, handler).IsError()) {
    return MessageTypeResult(MessageType{MessageKind::order, 1});
  }
  if (handler.has_type) {
    if (!handler.type) {
      return MessageTypeResult(
          Rejection{ReasonCode::unsupported_schema,
                    "type: expected a string naming the message type (order, order_status)"});
    }
    return classify_message(*handler.type, std::nullopt);
  }
  const bool event = handler.has_event_id && !handler.has_items;
  // Version 1: a line has no schema-version to name another.
  return MessageTypeResult(MessageType{event ? MessageKind::order_status : MessageKind::order, 1});
}

} // namespace foodpipe::domain
