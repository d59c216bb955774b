#include "support/mutator.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "domain/money.hpp"
#include "domain/order_json.hpp"
#include "domain/timestamp.hpp"

namespace foodpipe::test {
namespace {

using domain::Money;
using domain::Order;

constexpr std::array<std::string_view, k_mutation_count> k_names{
    "valid",         "resend",       "conflict",    "flip_bits",     "insert_bytes",  "delete_bytes",
    "truncate",      "deep_nesting", "huge_number", "bad_escape",    "invalid_utf8",  "odd_timestamp",
    "huge_string",   "nul_character", "duplicate_key", "wrong_type", "amount_beyond_column",
    "long_id",       "tombstone",    "empty_value", "missing_key"};

// How often each kind is drawn, out of the sum. Byte-level damage and odd
// field values dominate; 300 KB strings are rare so that a 20,000-message run
// stays around 50 MB.
struct Weighted {
  Mutation mutation;
  std::uint32_t weight;
};
constexpr std::array<Weighted, k_mutation_count> k_weights{{
    {Mutation::valid, 14},         {Mutation::resend, 6},         {Mutation::conflict, 2},
    {Mutation::flip_bits, 10},     {Mutation::insert_bytes, 8},   {Mutation::delete_bytes, 8},
    {Mutation::truncate, 6},       {Mutation::deep_nesting, 3},   {Mutation::huge_number, 8},
    {Mutation::bad_escape, 8},     {Mutation::invalid_utf8, 8},   {Mutation::odd_timestamp, 10},
    {Mutation::huge_string, 1},    {Mutation::nul_character, 5},  {Mutation::duplicate_key, 5},
    {Mutation::wrong_type, 8},     {Mutation::amount_beyond_column, 6}, {Mutation::long_id, 6},
    {Mutation::tombstone, 2},      {Mutation::empty_value, 2},    {Mutation::missing_key, 5},
}};

constexpr std::uint32_t total_weight() {
  std::uint32_t sum = 0;
  for (const Weighted& w : k_weights) {
    sum += w.weight;
  }
  return sum;
}

// 2026-01-01T00:00:00Z: the stepping clock's first reading.
constexpr domain::Timestamp k_start{std::chrono::milliseconds(1'767'225'600'000)};

// ------------------------------------------------------------ an editable order

// An order's JSON as editable pieces: each field's key (the text between its
// quotes, escapes allowed) and its value as raw JSON text, which may be
// anything, valid JSON or not.
struct Field {
  std::string key;
  std::string value;
};
using Object = std::vector<Field>;

struct JsonOrder {
  Object root;                           // "items" is rendered from `items` unless items_raw is set
  std::vector<Object> items;
  std::optional<std::string> items_raw;
};

std::string quote(std::string_view text) {
  std::string out;
  domain::encode_string(text, out);
  return out;
}

JsonOrder fields_of(const Order& order) {
  JsonOrder json;
  json.root = {{"order_id", quote(order.order_id)},
               {"customer_id", quote(order.customer_id)},
               {"customer_name", quote(order.customer_name)},
               {"customer_email", quote(order.customer_email)},
               {"items", ""},
               {"total_amount", order.total_amount.to_string()},
               {"status", quote(domain::to_string(order.status))},
               {"created_at", quote(domain::format_timestamp(order.created_at))}};
  for (const domain::LineItem& item : order.items) {
    json.items.push_back({{"item_id", quote(item.item_id)},
                          {"name", quote(item.name)},
                          {"quantity", std::to_string(item.quantity)},
                          {"price", item.price.to_string()},
                          {"subtotal", item.subtotal.to_string()}});
  }
  return json;
}

void render_object(const Object& object, const JsonOrder* order, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const Field& field : object) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    out.push_back('"');
    out.append(field.key);
    out.append("\":");
    if (order != nullptr && field.key == "items" && !order->items_raw) {
      out.push_back('[');
      for (std::size_t i = 0; i < order->items.size(); ++i) {
        if (i > 0) {
          out.push_back(',');
        }
        render_object(order->items[i], nullptr, out);
      }
      out.push_back(']');
    } else if (order != nullptr && field.key == "items") {
      out.append(*order->items_raw);
    } else {
      out.append(field.value);
    }
  }
  out.push_back('}');
}

std::string render(const JsonOrder& order) {
  std::string out;
  render_object(order.root, &order, out);
  return out;
}

Field* find(Object& object, std::string_view key) {
  for (Field& field : object) {
    if (field.key == key) {
      return &field;
    }
  }
  return nullptr;
}

constexpr std::array<std::string_view, 8> k_string_keys{"order_id", "customer_id", "customer_name", "customer_email",
                                                        "status",   "created_at",  "item_id",       "name"};
constexpr std::array<std::string_view, 4> k_number_keys{"total_amount", "quantity", "price", "subtotal"};

template <std::size_t N>
bool is_one_of(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The text of `count` bytes, for strings that must stay valid UTF-8: a short
// random run of ASCII and multi-byte characters, repeated, cut on a character
// boundary.
template <typename Pick>
std::string long_text(std::size_t count, Pick&& pick) {
  constexpr std::array<std::string_view, 8> k_pieces{"a", "Z", " ", "'", "\xC3\xA9", "\xF0\x9F\x8D\x95",
                                                     "\xE6\x97\xA5", "0"};
  std::string run;
  while (run.size() < 48) {
    run.append(k_pieces[pick(static_cast<std::uint32_t>(k_pieces.size()))]);
  }
  std::string text;
  text.reserve(count + run.size());
  while (text.size() < count) {
    text.append(run);
  }
  std::size_t size = count;
  while (size > 0 && (static_cast<unsigned char>(text[size]) & 0xC0U) == 0x80U) {
    --size;
  }
  text.resize(size);
  return text;
}

} // namespace

std::string_view to_string(Mutation mutation) noexcept {
  const auto index = static_cast<std::size_t>(mutation);
  return index < k_names.size() ? k_names[index] : std::string_view("valid");
}

MessageMutator::MessageMutator(std::uint64_t seed)
    // Its own stream, so that the generator's draws (seeded with `seed`) and
    // the mutator's are independent.
    : m_random(seed ^ 0x6D75746174696F6EULL),
      m_generator(seed, "fuzz", [now = k_start]() mutable {
        const domain::Timestamp reading = now;
        now += std::chrono::milliseconds(1);
        return reading;
      }) {
  m_sent.reserve(k_history);
  m_valid.reserve(k_history);
}

MutatedMessage MessageMutator::next() {
  std::uint32_t draw = pick(total_weight());
  Mutation mutation = Mutation::valid;
  for (const Weighted& w : k_weights) {
    if (draw < w.weight) {
      mutation = w.mutation;
      break;
    }
    draw -= w.weight;
  }
  if ((mutation == Mutation::resend && m_sent_count == 0) || (mutation == Mutation::conflict && m_valid_count == 0)) {
    mutation = Mutation::valid;
  }

  MutatedMessage message;
  message.mutation = mutation;
  if (mutation == Mutation::resend) {
    const std::size_t window = std::min(m_sent_count, k_history);
    message = m_sent[pick(static_cast<std::uint32_t>(window))];
    message.mutation = Mutation::resend;
  } else if (mutation == Mutation::conflict) {
    const std::size_t window = std::min(m_valid_count, k_history);
    Order order = m_valid[pick(static_cast<std::uint32_t>(window))];
    // Same id and key, another status: the order the id was first stored with differs.
    order.status = order.status == domain::OrderStatus::cancelled ? domain::OrderStatus::delivered
                                                                  : domain::OrderStatus::cancelled;
    message.key = order.customer_id;
    message.value = domain::encode(order);
  } else if (mutation == Mutation::tombstone) {
    message.key = m_generator.next().customer_id;
  } else {
    Order order = m_generator.next();
    message.key = order.customer_id;
    message.value = mutate(mutation, order);
    if (mutation == Mutation::valid) {
      if (m_valid.size() < k_history) {
        m_valid.push_back(order);
      } else {
        m_valid[m_valid_count % k_history] = order;
      }
      ++m_valid_count;
    }
  }

  if (m_sent.size() < k_history) {
    m_sent.push_back(message);
  } else {
    m_sent[m_sent_count % k_history] = message;
  }
  ++m_sent_count;
  return message;
}

std::string MessageMutator::mutate(Mutation mutation, Order& order) {
  const auto choose = [this](std::uint32_t bound) { return pick(bound); };
  JsonOrder json = fields_of(order);

  // A random field of the order or of one of its items whose key is in `keys`.
  const auto pick_field = [&](auto keys) -> Field& {
    std::vector<Field*> fields;
    for (Field& field : json.root) {
      if (is_one_of(keys, field.key)) {
        fields.push_back(&field);
      }
    }
    for (Object& item : json.items) {
      for (Field& field : item) {
        if (is_one_of(keys, field.key)) {
          fields.push_back(&field);
        }
      }
    }
    return *fields[pick(static_cast<std::uint32_t>(fields.size()))];
  };
  // Inserts `text` inside a string value (between its quotes, on a character boundary).
  const auto insert_in_string = [&](Field& field, std::string_view text) {
    std::size_t at = 1 + pick(static_cast<std::uint32_t>(field.value.size() - 1));
    while (at + 1 < field.value.size() && (static_cast<unsigned char>(field.value[at]) & 0xC0U) == 0x80U) {
      ++at;
    }
    field.value.insert(at, text);
  };
  // Somewhere for an extra, unknown field: the order itself or one of its items.
  const auto some_object = [&]() -> Object& {
    const std::uint32_t at = pick(static_cast<std::uint32_t>(json.items.size() + 1));
    return at == 0 ? json.root : json.items[at - 1];
  };

  switch (mutation) {
  case Mutation::valid:
  case Mutation::resend:
  case Mutation::conflict:
  case Mutation::tombstone: return domain::encode(order);

  case Mutation::flip_bits: {
    std::string bytes = domain::encode(order);
    const std::uint32_t count = 1 + pick(4);
    for (std::uint32_t i = 0; i < count; ++i) {
      bytes[pick(static_cast<std::uint32_t>(bytes.size()))] ^= static_cast<char>(1U << pick(8));
    }
    return bytes;
  }
  case Mutation::insert_bytes: {
    constexpr std::string_view k_punctuation = "{}[]\":,\\0123456789-+.eE tfnu";
    std::string bytes = domain::encode(order);
    const bool any_byte = pick(2) == 0;
    const std::uint32_t count = 1 + pick(8);
    std::string inserted;
    for (std::uint32_t i = 0; i < count; ++i) {
      inserted.push_back(any_byte ? static_cast<char>(pick(256))
                                  : k_punctuation[pick(static_cast<std::uint32_t>(k_punctuation.size()))]);
    }
    bytes.insert(pick(static_cast<std::uint32_t>(bytes.size() + 1)), inserted);
    return bytes;
  }
  case Mutation::delete_bytes: {
    std::string bytes = domain::encode(order);
    const std::uint32_t at = pick(static_cast<std::uint32_t>(bytes.size()));
    const auto most = static_cast<std::uint32_t>(std::min<std::size_t>(16, bytes.size() - at));
    bytes.erase(at, 1 + pick(most));
    return bytes;
  }
  case Mutation::truncate: {
    std::string bytes = domain::encode(order);
    bytes.resize(1 + pick(static_cast<std::uint32_t>(bytes.size() - 1)));
    return bytes;
  }

  case Mutation::deep_nesting: {
    const std::size_t depth = 1000 + pick(9001);
    const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
    std::string objects;
    for (std::size_t i = 0; i < depth; ++i) {
      objects.append("{\"a\":");
    }
    objects.append("1");
    switch (pick(6)) {
    case 0: return arrays;                                   // not an object
    case 1: return std::string(depth, pick(2) == 0 ? '[' : '{'); // never closed
    case 2: return objects + std::string(depth, '}');       // an object, but no order
    case 3: some_object().push_back({"nested", pick(2) == 0 ? arrays : objects + std::string(depth, '}')}); break;
    case 4: json.items_raw = arrays; break;                 // items holds arrays, not objects
    default: some_object().push_back({"nested", objects + std::string(depth - 1, '}')}); break; // one short
    }
    return render(json);
  }
  case Mutation::huge_number: {
    constexpr std::array<std::string_view, 12> k_numbers{
        "1e400", "-1e400", "0.1e-400", "-0", "-0.0", "0e0", "1E+2", "18446744073709551616", "-9223372036854775809",
        "4.2e-1", "0.10e1", "123456789012345678901234567890.12"};
    std::string number;
    switch (pick(4)) {
    case 0: number = std::string(k_numbers[pick(static_cast<std::uint32_t>(k_numbers.size()))]); break;
    case 1: // a 400-digit integer
      number.push_back(static_cast<char>('1' + pick(9)));
      for (int i = 1; i < 400; ++i) {
        number.push_back(static_cast<char>('0' + pick(10)));
      }
      break;
    case 2: number = "0." + std::string(400, '0') + "1"; break;
    default: number.clear(); break; // the field's own value with 400 more fraction zeros
    }
    if (pick(5) == 0) {
      some_object().push_back({"extra_number", number.empty() ? "1." + std::string(400, '0') : number});
    } else {
      Field& field = pick_field(k_number_keys);
      if (number.empty()) {
        field.value += (field.value.find('.') == std::string::npos ? "." : "") + std::string(400, '0');
      } else {
        field.value = number;
      }
    }
    return render(json);
  }
  case Mutation::bad_escape: {
    constexpr std::array<std::string_view, 14> k_escapes{
        "\\u00", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\udbff\\udbff", "\\x41", "\\'", "\\u12G4", "\\U0041",
        // valid ones: the order stays good
        "\\u00e9", "\\ud83c\\udf54", "\\/", "\\b", "\\u0041"};
    Field& field = pick_field(k_string_keys);
    if (pick(8) == 0) {
      field.value.insert(field.value.size() - 1, "\\"); // escapes the closing quote
    } else {
      insert_in_string(field, k_escapes[pick(static_cast<std::uint32_t>(k_escapes.size()))]);
    }
    return render(json);
  }
  case Mutation::invalid_utf8: {
    constexpr std::array<std::string_view, 17> k_bytes{
        "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xF0\x80\x80\x80", // overlong
        "\x80", "\xBF", "\x80\x80\x80",                             // lone continuation bytes
        "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFE", "\xFF", // never in UTF-8
        "\xE2\x82", "\xC3",                                         // cut short
        "\xED\xA0\x80", "\xF4\x90\x80\x80",                         // a surrogate, past U+10FFFF
        // valid, if unusual: U+FFFF and U+10FFFF
        "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF"};
    const std::string_view bytes = k_bytes[pick(static_cast<std::uint32_t>(k_bytes.size()))];
    if (pick(6) == 0) {
      std::string text = render(json); // between tokens, or in a key
      text.insert(pick(static_cast<std::uint32_t>(text.size() + 1)), bytes);
      return text;
    }
    insert_in_string(pick_field(k_string_keys), bytes);
    return render(json);
  }
  case Mutation::odd_timestamp: {
    constexpr std::array<std::string_view, 26> k_times{
        "\"0000-01-01T00:00:00.000Z\"",        "\"0000-12-31T23:59:59.999Z\"",
        "\"0001-01-01T00:00:00.000Z\"",        "\"0001-01-01T00:30:00+01:00\"",
        "\"0000-12-31T23:00:00-01:00\"",       "\"9999-12-31T23:59:59.999Z\"",
        "\"9999-12-31T23:59:60Z\"",            "\"9999-12-31T23:30:00-01:00\"",
        "\"2016-12-31T23:59:60Z\"",            "\"2026-06-30T23:59:60+00:00\"",
        "\"2026-01-02T03:04:05+24:00\"",       "\"2026-01-02T03:04:05-23:59\"",
        "\"2026-01-02T03:04:05+14:00\"",       "\"2026-01-02T03:04:05.12345678901234567890Z\"",
        "\"2026-01-02T03:04:05.123456789Z\"",  "\"2026-01-02T03:04:05\"",
        "\"2026-01-02t03:04:05z\"",            "\"2026-01-02 03:04:05Z\"",
        "\"2026-02-29T00:00:00Z\"",            "\"2024-02-29T00:00:00Z\"",
        "\"\"",                                "\"-0001-01-01T00:00:00Z\"",
        "\"+10000-01-01T00:00:00Z\"",          "1767323045678",
        "null",                                "\"1970-01-01T00:00:00Z\""};
    find(json.root, "created_at")->value = std::string(k_times[pick(static_cast<std::uint32_t>(k_times.size()))]);
    return render(json);
  }
  case Mutation::huge_string: {
    switch (pick(4)) {
    case 0: find(json.root, "customer_name")->value = quote(long_text(300 * 1024, choose)); break; // too large
    case 1: some_object().push_back({"notes", quote(long_text(200 * 1024, choose))}); break; // still valid
    case 2: find(json.root, "customer_name")->value = quote(long_text(100 * 1024, choose)); break; // too long
    default: *find(json.items[0], "name") = {"name", quote(long_text(300 * 1024, choose))}; break;
    }
    return render(json);
  }
  case Mutation::nul_character: {
    switch (pick(5)) {
    case 0: insert_in_string(pick_field(k_string_keys), "\\u0000"); break;
    case 1: insert_in_string(pick_field(k_string_keys), std::string_view("\0", 1)); break;
    case 2: return render(json) + std::string(1, '\0');
    case 3: some_object().push_back({"note", "\"a\\u0000b\""}); break; // an unknown field may hold it
    default: some_object().push_back({"a\\u0000b", "1"}); break;
    }
    return render(json);
  }
  case Mutation::duplicate_key: {
    switch (pick(6)) {
    case 0: {
      const Field copy = json.root[pick(static_cast<std::uint32_t>(json.root.size()))];
      if (copy.key == "items") {
        json.items_raw = "[]"; // rendered in place of both copies
      }
      json.root.push_back(copy);
      break;
    }
    case 1: {
      Object& item = json.items[pick(static_cast<std::uint32_t>(json.items.size()))];
      item.push_back(item[pick(static_cast<std::uint32_t>(item.size()))]);
      break;
    }
    case 2:
      json.root.push_back({"extra", "1"});
      json.root.push_back({"extra", "2"});
      break;
    case 3: some_object().push_back({"nested", R"({"x":1,"y":[{"x":1,"x":2}]})"}); break;
    case 4: some_object().push_back({"nested", R"({"a":{"k":1},"b":{"k":1},"k":[{"k":2}]})"}); break; // fine
    default: json.root.push_back({"order\\u005fid", find(json.root, "order_id")->value}); break; // same key, escaped
    }
    return render(json);
  }
  case Mutation::wrong_type: {
    constexpr std::array<std::string_view, 11> k_values{"\"8.99\"", "17",    "true", "false",         "null", "{}",
                                                        "[]",       "[1]",   "-3.5", "{\"a\":\"b\"}", "\"\""};
    const std::string_view value = k_values[pick(static_cast<std::uint32_t>(k_values.size()))];
    switch (pick(4)) {
    case 0: json.items_raw = std::string(value); break;
    case 1: json.items_raw = "[" + std::string(value) + "]"; break;
    default: {
      const std::uint32_t at = pick(static_cast<std::uint32_t>(json.items.size() + 1));
      Object& object = at == 0 ? json.root : json.items[at - 1];
      Field& field = object[pick(static_cast<std::uint32_t>(object.size()))];
      if (field.key == "items") {
        json.items_raw = std::string(value);
      } else {
        field.value = std::string(value);
      }
      break;
    }
    }
    return render(json);
  }
  case Mutation::amount_beyond_column: {
    const auto one_item = [&](std::int64_t price_cents, std::int32_t quantity) {
      order.items.resize(1);
      order.items[0].price = Money::from_cents(price_cents);
      order.items[0].quantity = quantity;
      order.items[0].subtotal = Money::from_cents(price_cents * quantity);
      order.total_amount = order.items[0].subtotal;
      return domain::encode(order);
    };
    switch (pick(8)) {
    case 0: return one_item(9'999'999'999, 1);  // the largest NUMERIC(10,2): fine
    case 1: return one_item(10'000'000'000, 1); // one cent more
    case 2: return one_item(9'999'999'999, 2);  // a subtotal past it
    case 3: {                                   // each item fine, the total past it
      order.items.resize(1);
      order.items[0].quantity = 1;
      order.items[0].price = order.items[0].subtotal = Money::from_cents(6'000'000'000);
      order.items.push_back(order.items[0]);
      order.items[1].item_id = order.items[0].item_id == "ITEM-001" ? "ITEM-002" : "ITEM-001";
      order.total_amount = Money::from_cents(12'000'000'000);
      return domain::encode(order);
    }
    case 4: return one_item(1, 1000); // the smallest price, the largest quantity: fine
    case 5: pick_field(k_number_keys).value = "92233720368547758.08"; break;
    case 6: pick_field(k_number_keys).value = "99999999.999"; break;
    default: pick_field(k_number_keys).value = "-0.01"; break;
    }
    return render(json);
  }
  case Mutation::long_id: {
    const auto padded = [&](const std::string& text, std::size_t size, std::string_view pad) {
      std::string out = text;
      while (out.size() + pad.size() <= size) {
        out.append(pad);
      }
      while (out.size() < size) {
        out.push_back('x');
      }
      return out;
    };
    switch (pick(8)) {
    case 0: order.order_id = padded(order.order_id + "-", 51, "x"); break;
    case 1: order.order_id = padded(order.order_id + "-", 50, "x"); break;        // the limit: fine
    case 2: order.order_id = padded(order.order_id + "-", 50, "\xC3\xA9"); break; // 50 bytes, fewer characters
    case 3: order.customer_id = padded(order.customer_id + "-", 51, "x"); break;
    case 4: order.items[0].item_id = padded(order.items[0].item_id + "-", 51, "x"); break;
    case 5: order.order_id = padded(order.order_id + "-", 10'000, "x"); break;
    case 6: order.customer_name = padded(order.customer_name + " ", 201, "\xC3\xA9"); break;
    default: { // 254 bytes with an '@': the longest email accepted
      const std::string local = padded(order.order_id, 254 - std::string_view("@example.com").size(), "x");
      order.customer_email = local + "@example.com";
      break;
    }
    }
    return domain::encode(order);
  }
  case Mutation::empty_value: {
    constexpr std::array<std::string_view, 5> k_empty{"", " ", "\n\t \r", "{}", "null"};
    return std::string(k_empty[pick(static_cast<std::uint32_t>(k_empty.size()))]);
  }
  case Mutation::missing_key: {
    switch (pick(4)) {
    case 0: json.root.erase(json.root.begin() + pick(static_cast<std::uint32_t>(json.root.size()))); break;
    case 1: {
      Object& item = json.items[pick(static_cast<std::uint32_t>(json.items.size()))];
      item.erase(item.begin() + pick(static_cast<std::uint32_t>(item.size())));
      break;
    }
    case 2: json.items[pick(static_cast<std::uint32_t>(json.items.size()))].clear(); break;
    default: json.items.clear(); break; // "items":[]
    }
    return render(json);
  }
  }
  return domain::encode(order);
}

} // namespace foodpipe::test
