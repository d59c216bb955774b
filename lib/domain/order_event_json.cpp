#include "domain/order_event_json.hpp"

#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include <rapidjson/allocators.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "domain/json_text.hpp"
#include "domain/timestamp.hpp"
#include "domain/utf8.hpp"

namespace foodpipe::domain {
namespace {

using json_text::JsonType;
using json_text::quoted;
using json_text::type_name;

// The fields in the order encode() writes them and decode_event() reports
// problems; all are strings.
enum EventField : std::uint8_t {
  f_event_id,
  f_order_id,
  f_customer_id,
  f_status,
  f_occurred_at,
  f_reason,
  k_event_fields
};
constexpr std::uint8_t k_unknown_field = 0xFF;
constexpr std::array<std::string_view, k_event_fields> k_names{"event_id", "order_id",    "customer_id",
                                                               "status",   "occurred_at", "reason"};

// ---------------------------------------------------------------- encoding

// The first string field that is not valid UTF-8 (its JSON would be invalid).
std::optional<std::string_view> first_invalid_field(const OrderStatusEvent& event) {
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"event_id", &event.event_id}, {"order_id", &event.order_id}, {"customer_id", &event.customer_id}};
  for (const auto& [name, value] : fields) {
    if (!is_valid_utf8(*value)) {
      return name;
    }
  }
  if (event.reason && !is_valid_utf8(*event.reason)) {
    return "reason";
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- decoding

using json_text::Slot;
using json_text::SlotState;

// Fills the event from RapidJSON's SAX events. As in order_json.cpp, a
// structural problem (a repeated key, an escaped lone surrogate) stops the
// parse; field problems are kept and reported after it, in field order, so a
// broken document is invalid_json whatever its fields hold.
class EventHandler {
public:
  explicit EventHandler(OrderStatusEvent& event) : m_event(event) { m_stack.reserve(4); }

  bool Null() { return scalar(JsonType::null, {}); }
  bool Bool(bool) { return scalar(JsonType::boolean, {}); }
  bool Int(int) { return scalar(JsonType::number, {}); }
  bool Uint(unsigned) { return scalar(JsonType::number, {}); }
  bool Int64(std::int64_t) { return scalar(JsonType::number, {}); }
  bool Uint64(std::uint64_t) { return scalar(JsonType::number, {}); }
  bool Double(double) { return scalar(JsonType::number, {}); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return scalar(JsonType::number, {}); }
  bool String(const char* text, rapidjson::SizeType size, bool) {
    return scalar(JsonType::string, {text, size});
  }
  bool StartObject() { return start(JsonType::object); }
  bool StartArray() { return start(JsonType::array); }
  bool EndObject(rapidjson::SizeType) { return end(); }
  bool EndArray(rapidjson::SizeType) { return end(); }

  bool Key(const char* text, rapidjson::SizeType size, bool) {
    const std::string_view key(text, size);
    const Frame& frame = m_stack.back();
    m_field = k_unknown_field;
    if (frame.kind == Kind::root) {
      for (std::uint8_t field = 0; field < k_event_fields; ++field) {
        if (k_names[field] == key) {
          if (m_slots[field].state != SlotState::absent) {
            return fail_duplicate(frame, key);
          }
          m_slots[field].state = SlotState::ok; // until its value says otherwise
          m_field = field;
          return true;
        }
      }
    }
    // Keys outside the schema are remembered per object (by its serial number)
    // so that a repeat is caught at any depth.
    std::string seen(sizeof frame.serial, '\0');
    std::memcpy(seen.data(), &frame.serial, sizeof frame.serial);
    seen.append(key);
    if (!m_seen.insert(std::move(seen)).second) {
      return fail_duplicate(frame, key);
    }
    return true;
  }

  // After a successful parse: the first problem in field order, if any.
  [[nodiscard]] std::optional<Rejection> finish() {
    if (auto rejection = json_text::document_problem(m_top)) {
      return rejection;
    }
    for (std::uint8_t field = 0; field < k_event_fields; ++field) {
      Slot& slot = m_slots[field];
      const std::string name(k_names[field]);
      switch (slot.state) {
      case SlotState::ok: break;
      case SlotState::absent:
        if (field != f_reason) {
          return Rejection{ReasonCode::missing_field, "missing field \"" + name + "\""};
        }
        break;
      case SlotState::wrong_type:
        return Rejection{ReasonCode::wrong_type,
                         name + ": expected string, got " + std::string(type_name(slot.got))};
      case SlotState::bad_value: return Rejection{ReasonCode::invalid_value, name + ": " + slot.detail};
      }
    }
    if (m_slots[f_reason].state == SlotState::absent) {
      m_event.reason.reset();
    }
    return std::nullopt;
  }

  // Set when the handler stopped the parse itself.
  std::optional<Rejection>& abort_reason() { return m_abort; }

private:
  enum class Kind : std::uint8_t { root, skip_object, skip_array };
  struct Frame {
    Kind kind;
    std::uint32_t serial; // tells objects apart for the repeated-key check
  };

  bool start(JsonType type) {
    if (m_stack.empty()) {
      m_top = type;
    } else if (m_stack.back().kind == Kind::root && m_field != k_unknown_field) {
      wrong_type(m_slots[m_field], type);
    }
    const bool root = m_stack.empty() && type == JsonType::object;
    const Kind kind = root ? Kind::root : type == JsonType::object ? Kind::skip_object : Kind::skip_array;
    m_stack.push_back(Frame{kind, m_next_serial++});
    return true;
  }

  bool end() {
    m_stack.pop_back();
    return true;
  }

  bool scalar(JsonType type, std::string_view text) {
    if (m_stack.empty()) {
      m_top = type;
      return true;
    }
    if (m_stack.back().kind != Kind::root || m_field == k_unknown_field) {
      return true;
    }
    Slot& slot = m_slots[m_field];
    if (type != JsonType::string) {
      wrong_type(slot, type);
      return true;
    }
    // RapidJSON lets "\udc00" through as the bytes of a surrogate; refuse them.
    if (!is_valid_utf8(text)) {
      m_abort = Rejection{ReasonCode::invalid_json,
                          std::string(k_names[m_field]) + ": string escapes an unpaired UTF-16 surrogate"};
      return false;
    }
    switch (m_field) {
    case f_event_id:
      m_event.event_id.assign(text);
      check_text(slot, text, k_max_event_id_size);
      break;
    case f_order_id:
      m_event.order_id.assign(text);
      check_text(slot, text, k_max_order_id_size);
      break;
    case f_customer_id:
      m_event.customer_id.assign(text);
      check_text(slot, text, k_max_id_size);
      break;
    case f_status:
      if (const auto status = parse_order_status(text)) {
        m_event.status = *status;
      } else {
        bad_value(slot, "unknown value " + quoted(text));
      }
      break;
    case f_occurred_at: {
      TimestampError error{};
      if (const auto time = parse_timestamp(text, &error)) {
        m_event.occurred_at = *time;
      } else {
        bad_value(slot, quoted(text).append(json_text::timestamp_problem(error)));
      }
      break;
    }
    case f_reason:
      m_event.reason.emplace(text);
      check_text(slot, text, k_max_reason_size);
      break;
    default: break;
    }
    return true;
  }

  static void wrong_type(Slot& slot, JsonType got) {
    slot.state = SlotState::wrong_type;
    slot.got = got;
  }

  static void bad_value(Slot& slot, std::string detail) {
    slot.state = SlotState::bad_value;
    slot.detail = std::move(detail);
  }

  // The orders' rules for ids and names, with the same words.
  static void check_text(Slot& slot, std::string_view text, std::size_t max_size) {
    if (text.empty()) {
      bad_value(slot, "empty");
    } else if (text.size() > max_size) {
      bad_value(slot, "longer than " + std::to_string(max_size) + " bytes");
    } else if (text.find('\0') != std::string_view::npos) {
      bad_value(slot, "contains U+0000"); // PostgreSQL text cannot hold it
    }
  }

  bool fail_duplicate(const Frame& frame, std::string_view key) {
    const std::string where = frame.kind == Kind::root ? "" : "nested object: ";
    m_abort = Rejection{ReasonCode::invalid_json, where + "duplicate key " + quoted(key)};
    return false;
  }

  OrderStatusEvent& m_event;
  std::vector<Frame> m_stack;
  std::uint32_t m_next_serial = 0;
  std::unordered_set<std::string> m_seen;
  std::uint8_t m_field = k_unknown_field; // the field the next value belongs to
  JsonType m_top = JsonType::null;
  std::array<Slot, k_event_fields> m_slots{};
  std::optional<Rejection> m_abort;
};

} // namespace

void encode(const OrderStatusEvent& event, std::string& out) {
  if (const auto invalid = first_invalid_field(event)) {
    throw std::invalid_argument("cannot encode an order status event whose " + std::string(*invalid) +
                                " is not valid UTF-8");
  }
  // The keys are constant and need no escaping; the strings go through
  // encode_string(), the orders' escaping, which cannot throw any more.
  out.append(R"({"event_id":)");
  encode_string(event.event_id, out);
  out.append(R"(,"order_id":)");
  encode_string(event.order_id, out);
  out.append(R"(,"customer_id":)");
  encode_string(event.customer_id, out);
  out.append(R"(,"status":")");
  out.append(to_string(event.status)); // lowercase ASCII names
  out.append(R"(","occurred_at":")");
  append_timestamp(event.occurred_at, out);
  out.push_back('"');
  if (event.reason) {
    out.append(R"(,"reason":)");
    encode_string(*event.reason, out);
  }
  out.push_back('}');
}

std::string encode(const OrderStatusEvent& event) {
  std::string out;
  out.reserve(192);
  encode(event, out);
  return out;
}

bool decode_event_into(std::string_view bytes, OrderStatusEvent& event, Rejection& rejection,
                       const DecodeLimits& limits) {
  if (auto problem = json_text::check_bytes(bytes, limits)) {
    rejection = std::move(*problem);
    return false;
  }
  // Events are small and rare next to orders: a plain (not in-situ) parse of
  // the bytes, with RapidJSON's stack in a buffer here for the common case.
  constexpr std::size_t k_stack_buffer_size = 1024;
  alignas(std::max_align_t) char stack_buffer[k_stack_buffer_size];
  using PoolAllocator = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
  PoolAllocator allocator(stack_buffer, sizeof stack_buffer);
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, PoolAllocator> reader(&allocator, 256);
  // A MemoryStream reads exactly the bytes (no terminator needed) and, unlike an
  // EncodedInputStream, does not skip a byte order mark: one is invalid_json
  // here as it is for orders.
  rapidjson::MemoryStream stream(bytes.data(), bytes.size());
  EventHandler handler(event);
  // Iterative, so nesting depth cannot exhaust the C stack; numbers as text, so
  // that a huge number in an unknown field is skipped as orders skip it.
  constexpr unsigned k_flags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult result = reader.Parse<k_flags>(stream, handler);
  if (result.IsError()) {
    if (auto& reason = handler.abort_reason()) {
      rejection = std::move(*reason);
      return false;
    }
    rejection = Rejection{ReasonCode::invalid_json, "offset " + std::to_string(result.Offset()) + ": " +
                                                        rapidjson::GetParseError_En(result.Code())};
    return false;
  }
  if (auto problem = handler.finish()) {
    rejection = std::move(*problem);
    return false;
  }
  return true;
}

EventDecodeResult decode_event(std::string_view bytes, const DecodeLimits& limits) {
  OrderStatusEvent event;
  Rejection rejection;
  if (decode_event_into(bytes, event, rejection, limits)) {
    return EventDecodeResult(std::move(event));
  }
  return EventDecodeResult(std::move(rejection));
}

} // namespace foodpipe::domain
