#include "domain/order_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include <rapidjson/allocators.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

#include "domain/json_text.hpp"
#include "domain/timestamp.hpp"
#include "domain/utf8.hpp"

namespace foodpipe::domain {
namespace {

// Indexed by ReasonCode.
constexpr std::array<std::string_view, 14> k_reason_names{
    "invalid_utf8",       "invalid_json",  "not_an_object",         "missing_field", "wrong_type",
    "invalid_value",      "total_mismatch", "too_large",            "null_value",    "conflicting_duplicate",
    "db_rejected",        "unsupported_schema", "illegal_transition", "unknown_order"};
static_assert(k_reason_names.size() == static_cast<std::size_t>(ReasonCode::unknown_order) + 1,
              "one name per ReasonCode");

// RapidJSON's parse stack lives in a buffer on the C stack, so that decoding a
// normal order allocates nothing beyond the order's own strings; deeper
// documents spill into heap chunks.
constexpr std::size_t k_stack_buffer_size = 2048;
using PoolAllocator = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;

rapidjson::SizeType json_size(std::size_t size) {
  return static_cast<rapidjson::SizeType>(size);
}

// ---------------------------------------------------------------- encoding

// An output stream that appends to a std::string through a raw cursor: room
// is reserved before each token, which is then written unchecked (RapidJSON's
// PutReserve and PutUnsafe for escaped strings). The string is over-sized
// while writing; finish() trims it.
class StringSink {
public:
  using Ch = char;
  explicit StringSink(std::string& out) : m_out(out), m_size(out.size()) { grow(k_initial_room); }
  StringSink(const StringSink&) = delete;
  StringSink& operator=(const StringSink&) = delete;
  ~StringSink() = default;

  void reserve(std::size_t count) {
    if (m_out.size() - m_size < count) {
      grow(count);
    }
  }
  void put_unsafe(char c) { m_data[m_size++] = c; }
  void Put(char c) {
    reserve(1);
    put_unsafe(c);
  }
  void Flush() {}

  // "text", in one copy.
  void append_quoted(std::string_view text) {
    reserve(text.size() + 2);
    m_data[m_size] = '"';
    std::memcpy(m_data + m_size + 1, text.data(), text.size());
    m_data[m_size + 1 + text.size()] = '"';
    m_size += text.size() + 2;
  }
  // A string literal: its size is known here, so the copy compiles to a few moves.
  template <std::size_t N>
  void append_literal(const char (&text)[N]) {
    reserve(N - 1);
    std::memcpy(m_data + m_size, text, N - 1);
    m_size += N - 1;
  }
  // Room for `count` bytes at the cursor, to format into in place; commit()
  // then keeps what was written up to `end`.
  char* room(std::size_t count) {
    reserve(count);
    return m_data + m_size;
  }
  void commit(const char* end) { m_size = static_cast<std::size_t>(end - m_data); }

  void finish() { m_out.resize(m_size); }

private:
  static constexpr std::size_t k_initial_room = 512; // a typical order, items included

  void grow(std::size_t count) {
    m_out.resize(std::max(m_out.size() * 2, m_size + count + k_initial_room));
    m_data = m_out.data();
  }

  std::string& m_out;
  std::size_t m_size; // bytes written so far, including what `out` held before
  char* m_data = nullptr;
};

} // namespace
} // namespace foodpipe::domain

namespace rapidjson {
template <>
inline void PutReserve(foodpipe::domain::StringSink& sink, size_t count) {
  sink.reserve(count);
}
template <>
inline void PutUnsafe(foodpipe::domain::StringSink& sink, char c) {
  sink.put_unsafe(c);
}
} // namespace rapidjson

namespace foodpipe::domain {
namespace {

// What writing a string needs: escapes ('"', '\\', U+0000..U+001F), and a
// UTF-8 check when any byte is above 0x7F. One pass, eight bytes at a time,
// with the classic "has a byte less than n / equal to zero" word tricks, which
// are exact for "is there any such byte"; pure-ASCII text (most of an order)
// is thus checked for both at once.
struct TextScan {
  bool needs_escape = false;
  bool non_ascii = false;
};

TextScan scan_text(std::string_view text) {
  constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
  constexpr std::uint64_t k_high = 0x8080808080808080ULL;
  const auto has_zero_byte = [](std::uint64_t word) { return (word - k_ones) & ~word; };
  std::uint64_t special = 0;
  std::uint64_t bytes = 0;
  const auto check = [&](std::uint64_t word) {
    special |= ((word - k_ones * 0x20) & ~word) | has_zero_byte(word ^ (k_ones * '"')) |
               has_zero_byte(word ^ (k_ones * '\\'));
    bytes |= word;
  };
  const std::size_t size = text.size();
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, sizeof word);
    check(word);
  }
  if (i < size) {
    // The last 1 to 7 bytes: the last eight again when there are that many
    // (bytes seen twice change nothing), else padded with spaces, which are
    // neither special nor above 0x7F.
    std::uint64_t word = k_ones * ' ';
    if (size >= 8) {
      std::memcpy(&word, text.data() + size - 8, sizeof word);
    } else {
      std::memcpy(&word, text.data(), size);
    }
    check(word);
  }
  return {(special & k_high) != 0, (bytes & k_high) != 0};
}

// RapidJSON's writer, used only for the rare string that needs escapes: its
// table decides every escape. A lone root string pushes nothing on its level
// stack, so it allocates nothing.
using EscapingWriter = rapidjson::Writer<StringSink, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator,
                                         rapidjson::kWriteNoFlags>;

// Appends `text` as a JSON string; false, writing nothing, when it is not
// valid UTF-8 (the JSON would be invalid).
bool put_string(StringSink& sink, std::string_view text) {
  const TextScan found = scan_text(text);
  if (found.non_ascii && !is_valid_utf8(text)) {
    return false;
  }
  if (!found.needs_escape) {
    sink.append_quoted(text);
    return true;
  }
  EscapingWriter writer(sink);
  writer.String(text.data(), json_size(text.size()));
  return true;
}

void put_money(StringSink& sink, Money value) {
  sink.commit(value.format(sink.room(Money::k_max_text)));
}

void put_int(StringSink& sink, std::int32_t value) {
  constexpr std::size_t k_max_digits = 11; // "-2147483648"
  char* const start = sink.room(k_max_digits);
  sink.commit(std::to_chars(start, start + k_max_digits, value).ptr);
}

// The created_at text last written on this thread: the generator gives a few
// hundred consecutive orders the same millisecond, so most orders reuse it.
struct TimestampText {
  bool filled = false;
  Timestamp time{};
  std::array<char, k_timestamp_text_size> text{};
};
thread_local TimestampText t_last_timestamp;

void put_timestamp(StringSink& sink, Timestamp time) {
  TimestampText& last = t_last_timestamp;
  if (!last.filled || time != last.time) {
    format_timestamp(time, last.text.data());
    last.time = time;
    last.filled = true;
  }
  char* out = sink.room(k_timestamp_text_size + 2);
  *out++ = '"';
  out = std::copy(last.text.begin(), last.text.end(), out);
  *out++ = '"';
  sink.commit(out);
}

// Writes the whole document. The keys and punctuation are constant, so they
// are copied as pre-quoted literals (`,"customer_id":`) instead of going
// through a JSON writer's key escaping and state machine on every order.
// Returns false at the first string that is not valid UTF-8.
bool write_order(StringSink& sink, const Order& order) {
  sink.append_literal(R"({"order_id":)");
  if (!put_string(sink, order.order_id)) {
    return false;
  }
  sink.append_literal(R"(,"customer_id":)");
  if (!put_string(sink, order.customer_id)) {
    return false;
  }
  sink.append_literal(R"(,"customer_name":)");
  if (!put_string(sink, order.customer_name)) {
    return false;
  }
  sink.append_literal(R"(,"customer_email":)");
  if (!put_string(sink, order.customer_email)) {
    return false;
  }
  sink.append_literal(R"(,"items":[)");
  bool first = true;
  for (const LineItem& item : order.items) {
    if (!first) {
      sink.append_literal(",");
    }
    first = false;
    sink.append_literal(R"({"item_id":)");
    if (!put_string(sink, item.item_id)) {
      return false;
    }
    sink.append_literal(R"(,"name":)");
    if (!put_string(sink, item.name)) {
      return false;
    }
    sink.append_literal(R"(,"quantity":)");
    put_int(sink, item.quantity);
    sink.append_literal(R"(,"price":)");
    put_money(sink, item.price);
    sink.append_literal(R"(,"subtotal":)");
    put_money(sink, item.subtotal);
    sink.append_literal("}");
  }
  sink.append_literal(R"(],"total_amount":)");
  put_money(sink, order.total_amount);
  sink.append_literal(R"(,"status":)");
  sink.append_quoted(to_string(order.status)); // lowercase ASCII names
  sink.append_literal(R"(,"created_at":)");
  put_timestamp(sink, order.created_at);
  sink.append_literal("}");
  return true;
}
// ---------------------------------------------------------------- decoding

using json_text::JsonType;
using json_text::type_name;

// The fields of an order and of a line item, in the order encode() writes them
// and decode() reports problems.
enum RootField : std::uint8_t {
  f_order_id,
  f_customer_id,
  f_customer_name,
  f_customer_email,
  f_items,
  f_total_amount,
  f_status,
  f_created_at,
  k_root_fields
};
enum ItemField : std::uint8_t { f_item_id, f_name, f_quantity, f_price, f_subtotal, k_item_fields };
constexpr std::uint8_t k_unknown_field = 0xFF;

constexpr std::array<std::string_view, k_root_fields> k_root_names{
    "order_id", "customer_id",  "customer_name", "customer_email",
    "items",    "total_amount", "status",        "created_at"};
constexpr std::array<JsonType, k_root_fields> k_root_types{
    JsonType::string, JsonType::string, JsonType::string, JsonType::string,
    JsonType::array,  JsonType::number, JsonType::string, JsonType::string};
constexpr std::array<std::string_view, k_item_fields> k_item_names{"item_id", "name", "quantity", "price",
                                                                   "subtotal"};
constexpr std::array<JsonType, k_item_fields> k_item_types{
    JsonType::string, JsonType::string, JsonType::number, JsonType::number, JsonType::number};

template <std::size_t N>
std::uint8_t find_field(const std::array<std::string_view, N>& names, std::string_view key) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == key) {
      return static_cast<std::uint8_t>(i);
    }
  }
  return k_unknown_field;
}

using json_text::clip;
using json_text::quoted;
using json_text::timestamp_problem;

using json_text::Slot;
using json_text::SlotState;

// Builds the Order straight from RapidJSON's SAX events, without a DOM.
// Structural problems (a repeated key) stop the parse at once; field
// problems are recorded and reported after the parse, in field order, so that
// a broken document is always invalid_json whatever its fields hold.
class OrderHandler {
public:
  explicit OrderHandler(Order& order) : m_order(order) { m_stack.reserve(8); }

  bool Null() { return scalar(JsonType::null, {}); }
  bool Bool(bool) { return scalar(JsonType::boolean, {}); }
  // With kParseNumbersAsStringsFlag every number arrives through RawNumber;
  // the typed callbacks exist only to satisfy the handler concept.
  bool Int(int) { return scalar(JsonType::number, {}); }
  bool Uint(unsigned) { return scalar(JsonType::number, {}); }
  bool Int64(std::int64_t) { return scalar(JsonType::number, {}); }
  bool Uint64(std::uint64_t) { return scalar(JsonType::number, {}); }
  bool Double(double) { return scalar(JsonType::number, {}); }
  bool RawNumber(const char* text, rapidjson::SizeType size, bool) {
    return scalar(JsonType::number, {text, size});
  }
  bool String(const char* text, rapidjson::SizeType size, bool) {
    return scalar(JsonType::string, {text, size});
  }

  bool StartObject() { return start(JsonType::object); }
  bool StartArray() { return start(JsonType::array); }
  bool EndObject(rapidjson::SizeType) { return end(); }
  bool EndArray(rapidjson::SizeType) { return end(); }

  bool Key(const char* text, rapidjson::SizeType size, bool) {
    const std::string_view key(text, size);
    Frame& frame = m_stack.back();
    m_field = k_unknown_field;
    if (frame.kind == Kind::root || frame.kind == Kind::item) {
      const bool root = frame.kind == Kind::root;
      const std::uint8_t field = root ? find_field(k_root_names, key) : find_field(k_item_names, key);
      if (field != k_unknown_field) {
        Slot& slot = root ? m_root[field] : m_item[field];
        if (slot.state != SlotState::absent) {
          return fail_duplicate(frame, key);
        }
        slot.state = SlotState::ok; // until its value says otherwise
        m_field = field;
        return true;
      }
    }
    // Unknown keys are remembered per object so that repeats are caught at any depth.
    m_seen_key.resize(sizeof frame.serial);
    std::memcpy(m_seen_key.data(), &frame.serial, sizeof frame.serial);
    m_seen_key.append(key);
    if (!m_seen.insert(m_seen_key).second) {
      return fail_duplicate(frame, key);
    }
    return true;
  }

  // After a successful parse: the first problem in field order, if any.
  [[nodiscard]] std::optional<Rejection> finish() {
    if (auto rejection = json_text::document_problem(m_top)) {
      return rejection;
    }
    m_order.items.resize(m_item_count);
    for (std::uint8_t field = 0; field < k_root_fields; ++field) {
      if (auto rejection = slot_problem(m_root[field], k_root_names[field], k_root_types[field], "")) {
        return rejection;
      }
      if (field == f_items) {
        if (m_item_elements == 0) {
          return Rejection{ReasonCode::invalid_value, "items: empty"};
        }
        if (m_item_elements > k_max_items) {
          return Rejection{ReasonCode::invalid_value, "items: " + std::to_string(m_item_elements) +
                                                          " line items, more than " +
                                                          std::to_string(k_max_items)};
        }
        if (m_item_error) {
          return std::move(m_item_error);
        }
      }
    }
    Money sum;
    for (std::size_t i = 0; i < m_order.items.size(); ++i) {
      const LineItem& item = m_order.items[i];
      // Bounded inputs: k_max_amount x k_max_quantity x k_max_items fits int64.
      const Money expected = item.price * item.quantity;
      if (item.subtotal != expected) {
        return Rejection{ReasonCode::total_mismatch,
                         "items[" + std::to_string(i) + "].subtotal: " + item.subtotal.to_string() +
                             " is not " + item.price.to_string() + " x " + std::to_string(item.quantity) +
                             " = " + expected.to_string()};
      }
      sum += item.subtotal;
    }
    if (m_order.total_amount != sum) {
      return Rejection{ReasonCode::total_mismatch, "total_amount: " + m_order.total_amount.to_string() +
                                                       " is not the sum of the subtotals, " +
                                                       sum.to_string()};
    }
    return std::nullopt;
  }

  // Set when the handler stopped the parse itself (kParseErrorTermination).
  std::optional<Rejection>& abort_reason() { return m_abort; }

private:
  enum class Kind : std::uint8_t { root, items, item, skip_object, skip_array };
  struct Frame {
    Kind kind;
    std::uint32_t serial; // distinguishes objects for the repeated-key check
  };

  bool start(JsonType type) {
    const Kind skip = type == JsonType::object ? Kind::skip_object : Kind::skip_array;
    if (m_stack.empty()) {
      m_top = type;
      push(type == JsonType::object ? Kind::root : skip);
      return true;
    }
    const Frame& frame = m_stack.back();
    switch (frame.kind) {
    case Kind::root:
      if (m_field == f_items && type == JsonType::array) {
        push(Kind::items);
        return true;
      }
      if (m_field != k_unknown_field) {
        wrong_type(m_root[m_field], type);
      }
      break;
    case Kind::items: {
      m_item_index = m_item_elements++;
      if (type != JsonType::object) {
        element_not_object(type);
      } else if (m_item_count < k_max_items) {
        begin_item();
        push(Kind::item);
        return true;
      }
      break;
    }
    case Kind::item:
      if (m_field != k_unknown_field) {
        wrong_type(m_item[m_field], type);
      }
      break;
    case Kind::skip_object:
    case Kind::skip_array: break;
    }
    push(skip);
    return true;
  }

  bool end() {
    const Kind kind = m_stack.back().kind;
    m_stack.pop_back();
    if (kind == Kind::item) {
      finish_item();
    }
    return true;
  }

  void push(Kind kind) { m_stack.push_back(Frame{kind, m_next_serial++}); }

  bool scalar(JsonType type, std::string_view text) {
    if (m_stack.empty()) {
      m_top = type;
      return true;
    }
    switch (m_stack.back().kind) {
    case Kind::root: return m_field == k_unknown_field || root_value(type, text);
    case Kind::item: return m_field == k_unknown_field || item_value(type, text);
    case Kind::items:
      m_item_index = m_item_elements++;
      element_not_object(type);
      return true;
    case Kind::skip_object:
    case Kind::skip_array: return true;
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

  // RapidJSON lets "\udc00" through as the bytes of a surrogate; refuse them.
  bool check_unicode(std::string_view text, bool in_item) {
    if (is_valid_utf8(text)) {
      return true;
    }
    const std::string field =
        in_item ? item_path() + std::string(k_item_names[m_field]) : std::string(k_root_names[m_field]);
    m_abort = Rejection{ReasonCode::invalid_json, field + ": string escapes an unpaired UTF-16 surrogate"};
    return false;
  }

  static void check_text(Slot& slot, std::string_view text, std::size_t max_size) {
    if (text.empty()) {
      bad_value(slot, "empty");
    } else if (text.size() > max_size) {
      bad_value(slot, "longer than " + std::to_string(max_size) + " bytes");
    } else if (text.find('\0') != std::string_view::npos) {
      // PostgreSQL text and jsonb cannot hold U+0000; refuse it here, not in a failed batch.
      bad_value(slot, "contains U+0000");
    }
  }

  static void check_amount(Slot& slot, std::string_view text, Money& out) {
    MoneyError error{};
    const auto amount = Money::parse(text, &error);
    if (!amount) {
      switch (error) {
      case MoneyError::exponent: bad_value(slot, clip(text) + " has an exponent"); break;
      case MoneyError::too_precise: bad_value(slot, clip(text) + " has more than two decimals"); break;
      case MoneyError::overflow: bad_value(slot, clip(text) + " is out of range"); break;
      case MoneyError::empty:
      case MoneyError::syntax: bad_value(slot, clip(text) + " is not a decimal amount"); break;
      }
      return;
    }
    out = *amount;
    if (*amount <= Money{}) {
      bad_value(slot, amount->to_string() + " is not positive");
    } else if (*amount > k_max_amount) {
      bad_value(slot, amount->to_string() + " is above " + k_max_amount.to_string());
    }
  }

  bool root_value(JsonType type, std::string_view text) {
    Slot& slot = m_root[m_field];
    if (type != k_root_types[m_field]) {
      wrong_type(slot, type);
      return true;
    }
    if (type == JsonType::string && !check_unicode(text, false)) {
      return false;
    }
    switch (m_field) {
    case f_order_id:
      m_order.order_id.assign(text);
      check_text(slot, text, k_max_order_id_size);
      break;
    case f_customer_id:
      m_order.customer_id.assign(text);
      check_text(slot, text, k_max_id_size);
      break;
    case f_customer_name:
      m_order.customer_name.assign(text);
      check_text(slot, text, k_max_name_size);
      break;
    case f_customer_email:
      m_order.customer_email.assign(text);
      check_text(slot, text, k_max_email_size);
      if (slot.state == SlotState::ok && text.find('@') == std::string_view::npos) {
        bad_value(slot, quoted(text) + " has no '@'");
      }
      break;
    case f_total_amount: check_amount(slot, text, m_order.total_amount); break;
    case f_status:
      if (const auto status = parse_order_status(text)) {
        m_order.status = *status;
      } else {
        bad_value(slot, "unknown value " + quoted(text));
      }
      break;
    case f_created_at: {
      TimestampError error{};
      if (const auto time = parse_timestamp(text, &error)) {
        m_order.created_at = *time;
      } else {
        bad_value(slot, quoted(text).append(timestamp_problem(error)));
      }
      break;
    }
    default: break;
    }
    return true;
  }

  bool item_value(JsonType type, std::string_view text) {
    Slot& slot = m_item[m_field];
    if (type != k_item_types[m_field]) {
      wrong_type(slot, type);
      return true;
    }
    LineItem& item = m_order.items[m_item_count];
    if (type == JsonType::string && !check_unicode(text, true)) {
      return false;
    }
    switch (m_field) {
    case f_item_id:
      item.item_id.assign(text);
      check_text(slot, text, k_max_id_size);
      break;
    case f_name:
      item.name.assign(text);
      check_text(slot, text, k_max_name_size);
      break;
    case f_quantity: {
      std::int64_t quantity = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), quantity);
      if (end != text.data() + text.size()) {
        bad_value(slot, clip(text) + " is not a whole number");
      } else if (error != std::errc{} || quantity < 1 || quantity > k_max_quantity) {
        bad_value(slot, clip(text) + " is not in 1.." + std::to_string(k_max_quantity));
      } else {
        item.quantity = static_cast<std::int32_t>(quantity);
      }
      break;
    }
    case f_price: check_amount(slot, text, item.price); break;
    case f_subtotal: check_amount(slot, text, item.subtotal); break;
    default: break;
    }
    return true;
  }

  std::string item_path() const { return "items[" + std::to_string(m_item_index) + "]."; }

  void element_not_object(JsonType type) {
    if (!m_item_error) {
      m_item_error =
          Rejection{ReasonCode::wrong_type, "items[" + std::to_string(m_item_index) +
                                                "]: expected object, got " + std::string(type_name(type))};
    }
  }

  void begin_item() {
    if (m_item_count == m_order.items.size()) {
      m_order.items.emplace_back();
    }
    for (Slot& slot : m_item) {
      slot.state = SlotState::absent;
    }
  }

  void finish_item() {
    if (!m_item_error) {
      for (std::uint8_t field = 0; field < k_item_fields && !m_item_error; ++field) {
        m_item_error = slot_problem(m_item[field], k_item_names[field], k_item_types[field], item_path());
      }
    }
    ++m_item_count;
  }

  // `path` is "" for the order's own fields and "items[i]." for an item's.
  static std::optional<Rejection> slot_problem(Slot& slot, std::string_view name, JsonType expected,
                                               std::string_view path) {
    switch (slot.state) {
    case SlotState::ok: return std::nullopt;
    case SlotState::absent: {
      std::string where(path);
      if (!where.empty()) {
        where.back() = ':'; // "items[2]: missing field ..."
        where.push_back(' ');
      }
      return Rejection{ReasonCode::missing_field, where + "missing field \"" + std::string(name) + "\""};
    }
    case SlotState::wrong_type:
      return Rejection{ReasonCode::wrong_type, std::string(path) + std::string(name) + ": expected " +
                                                   std::string(type_name(expected)) + ", got " +
                                                   std::string(type_name(slot.got))};
    case SlotState::bad_value:
      return Rejection{ReasonCode::invalid_value,
                       std::string(path) + std::string(name) + ": " + std::move(slot.detail)};
    }
    return std::nullopt;
  }

  bool fail_duplicate(const Frame& frame, std::string_view key) {
    std::string where;
    if (frame.kind == Kind::item) {
      where = "items[" + std::to_string(m_item_index) + "]: ";
    } else if (frame.kind == Kind::skip_object) {
      where = "nested object: ";
    }
    m_abort = Rejection{ReasonCode::invalid_json, where + "duplicate key " + quoted(key)};
    return false;
  }

  Order& m_order;
  std::vector<Frame> m_stack;
  std::uint32_t m_next_serial = 0;
  std::unordered_set<std::string> m_seen; // serial bytes + key, for keys outside the schema
  std::string m_seen_key;
  std::uint8_t m_field = k_unknown_field; // the field the next value belongs to
  JsonType m_top = JsonType::null;
  std::array<Slot, k_root_fields> m_root{};
  std::array<Slot, k_item_fields> m_item{};
  std::size_t m_item_elements = 0; // elements of "items" seen
  std::size_t m_item_index = 0;    // index of the current element
  std::size_t m_item_count = 0;    // line items stored in m_order.items
  std::optional<Rejection> m_item_error;
  std::optional<Rejection> m_abort;
};

bool reject(Rejection& rejection, ReasonCode code, std::string detail) {
  rejection.code = code;
  rejection.detail = std::move(detail);
  return false;
}

// The path of the first string field of `order` that is not valid UTF-8.
std::optional<std::string> first_invalid_field(const Order& order) {
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"order_id", &order.order_id},
      {"customer_id", &order.customer_id},
      {"customer_name", &order.customer_name},
      {"customer_email", &order.customer_email}};
  for (const auto& [name, value] : fields) {
    if (!is_valid_utf8(*value)) {
      return std::string(name);
    }
  }
  for (std::size_t i = 0; i < order.items.size(); ++i) {
    if (!is_valid_utf8(order.items[i].item_id)) {
      return "items[" + std::to_string(i) + "].item_id";
    }
    if (!is_valid_utf8(order.items[i].name)) {
      return "items[" + std::to_string(i) + "].name";
    }
  }
  return std::nullopt;
}

} // namespace

std::string_view to_string(ReasonCode code) noexcept {
  const auto index = static_cast<std::size_t>(code);
  return index < k_reason_names.size() ? k_reason_names[index] : std::string_view("invalid_json");
}

std::optional<ReasonCode> parse_reason_code(std::string_view text) noexcept {
  for (std::size_t i = 0; i < k_reason_names.size(); ++i) {
    if (k_reason_names[i] == text) {
      return static_cast<ReasonCode>(i);
    }
  }
  return std::nullopt;
}

void encode(const Order& order, std::string& out) {
  const std::size_t start = out.size();
  StringSink sink(out);
  if (!write_order(sink, order)) {
    out.resize(start);
    const auto invalid = first_invalid_field(order);
    throw std::invalid_argument("cannot encode an order whose " + invalid.value_or("text") +
                                " is not valid UTF-8");
  }
  sink.finish();
}

void encode_string(std::string_view text, std::string& out) {
  StringSink sink(out);
  if (!put_string(sink, text)) {
    throw std::invalid_argument("cannot encode text that is not valid UTF-8");
  }
  sink.finish();
}

std::string encode(const Order& order) {
  std::string out;
  out.reserve(256 + 128 * order.items.size());
  encode(order, out);
  return out;
}

bool decode_into(std::string_view bytes, Order& order, Rejection& rejection, const DecodeLimits& limits) {
  if (auto problem = json_text::check_bytes(bytes, limits)) {
    rejection = std::move(*problem);
    return false;
  }

  // Parsed in place (kParseInsituFlag) in a copy of this thread's: strings are
  // unescaped where they are instead of being pushed through a stack one
  // character at a time, and the handler copies what it keeps. The copy ends
  // in a NUL, the end for RapidJSON (there is none inside, see above).
  thread_local std::string t_text;
  t_text.assign(bytes);
  alignas(std::max_align_t) char stack_buffer[k_stack_buffer_size];
  PoolAllocator allocator(stack_buffer, sizeof stack_buffer);
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, PoolAllocator> reader(&allocator, 256);
  rapidjson::InsituStringStream stream(t_text.data());
  OrderHandler handler(order);
  // Iterative: a deeply nested message cannot exhaust the C stack. No
  // kParseValidateEncodingFlag: every byte was checked above.
  constexpr unsigned k_flags =
      rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult result = reader.Parse<k_flags>(stream, handler);
  if (result.IsError()) {
    if (auto& reason = handler.abort_reason()) {
      rejection = std::move(*reason);
      return false;
    }
    return reject(rejection, ReasonCode::invalid_json,
                  "offset " + std::to_string(result.Offset()) + ": " +
                      rapidjson::GetParseError_En(result.Code()));
  }
  if (auto problem = handler.finish()) {
    rejection = std::move(*problem);
    return false;
  }
  return true;
}

DecodeResult decode(std::string_view bytes, const DecodeLimits& limits) {
  Order order;
  Rejection rejection;
  if (decode_into(bytes, order, rejection, limits)) {
    return DecodeResult(std::move(order));
  }
  return DecodeResult(std::move(rejection));
}

} // namespace foodpipe::domain
