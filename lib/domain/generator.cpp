#include "domain/generator.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <numeric>
#include <random>
#include <stdexcept>

#include "domain/order_json.hpp"
#include "domain/reference_data.hpp"

namespace foodpipe::domain {
namespace {

constexpr std::size_t k_sequence_digits = 7;
constexpr std::size_t k_menu_size = 20; // the shuffle below works on a fixed array

// Appends the decimal digits of `value`, zero-padded to at least `width`.
void append_padded(std::string& out, std::uint64_t value, std::size_t width) {
  char digits[20];
  std::size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (std::size_t i = count; i < width; ++i) {
    out.push_back('0');
  }
  while (count > 0) {
    out.push_back(digits[--count]);
  }
}

} // namespace

Timestamp system_now() {
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::uint64_t random_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ static_cast<std::uint64_t>(device());
}

std::string random_run_id() {
  constexpr std::string_view k_alphabet = "0123456789abcdefghijklmnopqrstuv";
  std::random_device device;
  const std::uint64_t bits =
      (static_cast<std::uint64_t>(device()) << 32) ^ static_cast<std::uint64_t>(device());
  std::string id(8, '0');
  for (std::size_t i = 0; i < id.size(); ++i) {
    id[i] = k_alphabet[(bits >> (5 * i)) & 31U];
  }
  return id;
}

bool is_valid_run_id(std::string_view run_id) noexcept {
  if (run_id.empty() || run_id.size() > 16) {
    return false;
  }
  for (const char c : run_id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) {
      return false;
    }
  }
  return true;
}

OrderGenerator::OrderGenerator(std::uint64_t seed, std::string run_id, Clock clock)
    : m_seed(seed), m_run_id(std::move(run_id)), m_clock(std::move(clock)), m_random(seed) {
  if (!is_valid_run_id(m_run_id)) {
    throw std::invalid_argument("run id \"" + m_run_id + "\" is not 1 to 16 characters of [0-9a-z]");
  }
  if (!m_clock) {
    throw std::invalid_argument("order generator needs a clock");
  }
  if (menu_items().size() != k_menu_size || customers().empty()) {
    throw std::logic_error("order generator: reference data does not have the expected shape");
  }

  // The pieces of next_encoded(), with encode()'s keys, punctuation and
  // string escaping (the unit tests hold the two byte for byte).
  const auto add_field = [](std::string& json, std::string_view key, std::string_view value) {
    json += key;
    encode_string(value, json);
  };
  for (const Customer& customer : customers()) {
    std::string json;
    add_field(json, R"(,"customer_id":)", customer.id);
    add_field(json, R"(,"customer_name":)", customer.name);
    add_field(json, R"(,"customer_email":)", customer.email);
    json += R"(,"items":[)";
    m_customer_json.push_back(std::move(json));
  }
  for (const MenuItem& item : menu_items()) {
    std::string json;
    add_field(json, R"({"item_id":)", item.id);
    add_field(json, R"(,"name":)", item.name);
    json += R"(,"quantity":)";
    m_item_json.push_back(std::move(json));
    const Money price = Money::from_cents(item.price_cents);
    auto& tails = m_item_tail_json.emplace_back();
    for (std::size_t quantity = 1; quantity <= k_max_quantity; ++quantity) {
      std::string tail = std::to_string(quantity) + R"(,"price":)";
      price.append_to(tail);
      tail += R"(,"subtotal":)";
      (price * static_cast<std::int32_t>(quantity)).append_to(tail);
      tail += "}";
      tails[quantity - 1] = std::move(tail);
    }
  }
}

OrderGenerator::Draw OrderGenerator::draw() {
  Draw draw;
  draw.customer = m_random.bounded(static_cast<std::uint32_t>(m_customer_json.size()));
  draw.item_count = 1 + m_random.bounded(k_max_items);

  std::array<std::uint8_t, k_menu_size> order_of_menu{};
  std::iota(order_of_menu.begin(), order_of_menu.end(), std::uint8_t{0});
  const auto menu_size = static_cast<std::uint32_t>(order_of_menu.size());
  for (std::uint32_t i = 0; i < draw.item_count; ++i) {
    const std::uint32_t j = i + m_random.bounded(menu_size - i);
    std::swap(order_of_menu[i], order_of_menu[j]);
    draw.items[i] = order_of_menu[i];
  }
  for (std::uint32_t i = 0; i < draw.item_count; ++i) {
    draw.quantities[i] = static_cast<std::uint8_t>(1 + m_random.bounded(k_max_quantity));
  }

  ++m_sequence;
  draw.created_at = m_clock();
  return draw;
}

void OrderGenerator::append_order_id(std::string& out, Timestamp created_at) {
  // ORD-YYYYMMDD-<run>-<sequence>: the date is created_at's, in UTC, formatted
  // once per day rather than once per order.
  const auto day = std::chrono::floor<std::chrono::days>(created_at);
  if (day != m_date_day) {
    char time_text[k_timestamp_text_size];
    format_timestamp(created_at, time_text);
    std::copy_n(time_text, 4, m_date.begin());
    std::copy_n(time_text + 5, 2, m_date.begin() + 4);
    std::copy_n(time_text + 8, 2, m_date.begin() + 6);
    m_date_day = day;
  }
  out.append("ORD-");
  out.append(m_date.data(), m_date.size());
  out.push_back('-');
  out.append(m_run_id);
  out.push_back('-');
  append_padded(out, m_sequence, k_sequence_digits);
}

void OrderGenerator::next(Order& order) {
  const Draw drawn = draw();
  const auto menu = menu_items();
  order.items.resize(drawn.item_count);
  Money total;
  for (std::uint32_t i = 0; i < drawn.item_count; ++i) {
    const MenuItem& menu_item = menu[drawn.items[i]];
    LineItem& item = order.items[i];
    item.item_id.assign(menu_item.id);
    item.name.assign(menu_item.name);
    item.quantity = drawn.quantities[i];
    item.price = Money::from_cents(menu_item.price_cents);
    item.subtotal = item.price * item.quantity;
    total += item.subtotal;
  }
  order.created_at = drawn.created_at;
  order.order_id.clear();
  append_order_id(order.order_id, drawn.created_at);

  const Customer& customer = customers()[drawn.customer];
  order.customer_id.assign(customer.id);
  order.customer_name.assign(customer.name);
  order.customer_email.assign(customer.email);
  order.total_amount = total;
  order.status = OrderStatus::pending;
}

std::string_view OrderGenerator::next_encoded(std::string& json) {
  const Draw drawn = draw();
  const auto menu = menu_items();
  json.append(R"({"order_id":")");
  append_order_id(json, drawn.created_at); // [0-9A-Za-z-]: nothing to escape
  json.push_back('"');
  json.append(m_customer_json[drawn.customer]);
  Money total;
  for (std::uint32_t i = 0; i < drawn.item_count; ++i) {
    const std::uint8_t item = drawn.items[i];
    const std::uint8_t quantity = drawn.quantities[i];
    if (i > 0) {
      json.push_back(',');
    }
    json.append(m_item_json[item]);
    json.append(m_item_tail_json[item][quantity - 1U]);
    total += Money::from_cents(menu[item].price_cents) * quantity;
  }
  json.append(R"(],"total_amount":)");
  total.append_to(json);
  json.append(R"(,"status":"pending","created_at":")");
  if (drawn.created_at != m_encoded_time) {
    format_timestamp(drawn.created_at, m_encoded_time_text.data());
    m_encoded_time = drawn.created_at;
  }
  json.append(m_encoded_time_text.data(), m_encoded_time_text.size());
  json.append("\"}");
  return customers()[drawn.customer].id;
}

Order OrderGenerator::next() {
  Order order;
  next(order);
  return order;
}

} // namespace foodpipe::domain
