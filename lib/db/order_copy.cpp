#include "db/order_copy.hpp"

#include <charconv>
#include <cstdint>

#include "domain/money.hpp"
#include "domain/timestamp.hpp"
#include "domain/utf8.hpp"

namespace foodpipe::db {
namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD"; // U+FFFD

void append_json_string(std::string_view text, std::string& out) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
    case '"': out.append("\\\""); break;
    case '\\': out.append("\\\\"); break;
    case '\n': out.append("\\n"); break;
    case '\r': out.append("\\r"); break;
    case '\t': out.append("\\t"); break;
    default:
      if (byte < 0x20U) {
        out.append("\\u00");
        out.push_back(k_hex[byte >> 4U]);
        out.push_back(k_hex[byte & 0x0FU]);
      } else {
        out.push_back(c);
      }
      break;
    }
  }
  out.push_back('"');
}

template <typename Integer>
void integer_field(CopyBuffer& rows, Integer value) {
  char text[24];
  const auto converted = std::to_chars(text, text + sizeof text, value);
  rows.field(std::string_view(text, static_cast<std::size_t>(converted.ptr - text)));
}

void money_field(CopyBuffer& rows, domain::Money amount) {
  char text[domain::Money::k_max_text];
  const char* const end = amount.format(text);
  rows.field(std::string_view(text, static_cast<std::size_t>(end - text)));
}

} // namespace

void append_items_json(const std::vector<domain::LineItem>& items, std::string& out) {
  out.push_back('[');
  bool first = true;
  for (const domain::LineItem& item : items) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    out.append("{\"item_id\":");
    append_json_string(item.item_id, out);
    out.append(",\"name\":");
    append_json_string(item.name, out);
    out.append(",\"quantity\":");
    char quantity[16];
    const auto converted = std::to_chars(quantity, quantity + sizeof quantity, item.quantity);
    out.append(quantity, static_cast<std::size_t>(converted.ptr - quantity));
    out.append(",\"price\":");
    item.price.append_to(out);
    out.append(",\"subtotal\":");
    item.subtotal.append_to(out);
    out.push_back('}');
  }
  out.push_back(']');
}

void append_order_row(CopyBuffer& rows, const IncomingOrder& incoming, std::string_view topic,
                      std::optional<std::size_t> seq, std::string& scratch) {
  const domain::Order& order = incoming.order;
  rows.field(order.order_id);
  rows.field(order.customer_id);
  rows.field(order.customer_name);
  rows.field(order.customer_email);
  scratch.clear();
  append_items_json(order.items, scratch);
  rows.field(scratch);
  money_field(rows, order.total_amount);
  rows.field(domain::to_string(order.status));
  char time[domain::k_timestamp_text_size];
  const char* const time_end = domain::format_timestamp(order.created_at, time);
  rows.field(std::string_view(time, static_cast<std::size_t>(time_end - time)));
  rows.field(topic);
  integer_field(rows, incoming.partition);
  integer_field(rows, incoming.offset);
  if (seq) {
    integer_field(rows, *seq);
  }
  rows.end_row();
}

void append_dead_letter_stage_row(CopyBuffer& rows, const DeadLetter& letter, std::string& scratch) {
  rows.field(storable_text(letter.source_topic));
  integer_field(rows, letter.partition);
  integer_field(rows, letter.offset);
  if (letter.key) {
    rows.bytea(*letter.key);
  } else {
    rows.field(std::nullopt);
  }
  if (letter.payload) {
    rows.bytea(*letter.payload);
  } else {
    rows.field(std::nullopt);
  }
  rows.field(domain::to_string(letter.reason));
  scratch = storable_text(letter.detail);
  rows.field(scratch);
  rows.end_row();
}

std::string storable_text(std::string_view text) {
  const std::string valid = domain::replace_invalid_utf8(text);
  std::string out;
  out.reserve(valid.size());
  for (const char c : valid) {
    if (c == '\0') {
      out.append(k_replacement);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

} // namespace foodpipe::db
