#include "domain/generator.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <numeric>
#include <random>
#include <stdexcept>

#include "domain/reference_data.hpp"

namespace foodpipe::domain {
namespace {

constexpr std::uint32_t k_max_items_per_order = 5;
constexpr std::uint32_t k_max_quantity_per_item = 3;
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
}

void OrderGenerator::next(Order& order) {
  const auto all_customers = customers();
  const auto menu = menu_items();

  const Customer& customer =
      all_customers[m_random.bounded(static_cast<std::uint32_t>(all_customers.size()))];
  const std::uint32_t item_count = 1 + m_random.bounded(k_max_items_per_order);

  std::array<std::uint8_t, k_menu_size> order_of_menu{};
  std::iota(order_of_menu.begin(), order_of_menu.end(), std::uint8_t{0});
  const auto menu_size = static_cast<std::uint32_t>(order_of_menu.size());
  for (std::uint32_t i = 0; i < item_count; ++i) {
    const std::uint32_t j = i + m_random.bounded(menu_size - i);
    std::swap(order_of_menu[i], order_of_menu[j]);
  }

  order.items.resize(item_count);
  Money total;
  for (std::uint32_t i = 0; i < item_count; ++i) {
    const MenuItem& menu_item = menu[order_of_menu[i]];
    LineItem& item = order.items[i];
    item.item_id.assign(menu_item.id);
    item.name.assign(menu_item.name);
    item.quantity = static_cast<std::int32_t>(1 + m_random.bounded(k_max_quantity_per_item));
    item.price = Money::from_cents(menu_item.price_cents);
    item.subtotal = item.price * item.quantity;
    total += item.subtotal;
  }

  ++m_sequence;
  order.created_at = m_clock();
  // ORD-YYYYMMDD-<run>-<sequence>: the date is created_at's, in UTC, formatted
  // once per day rather than once per order.
  const auto day = std::chrono::floor<std::chrono::days>(order.created_at);
  if (day != m_date_day) {
    char time_text[k_timestamp_text_size];
    format_timestamp(order.created_at, time_text);
    std::copy_n(time_text, 4, m_date.begin());
    std::copy_n(time_text + 5, 2, m_date.begin() + 4);
    std::copy_n(time_text + 8, 2, m_date.begin() + 6);
    m_date_day = day;
  }
  order.order_id.assign("ORD-");
  order.order_id.append(m_date.data(), m_date.size());
  order.order_id.push_back('-');
  order.order_id.append(m_run_id);
  order.order_id.push_back('-');
  append_padded(order.order_id, m_sequence, k_sequence_digits);

  order.customer_id.assign(customer.id);
  order.customer_name.assign(customer.name);
  order.customer_email.assign(customer.email);
  order.total_amount = total;
  order.status = OrderStatus::pending;
}

Order OrderGenerator::next() {
  Order order;
  next(order);
  return order;
}

} // namespace foodpipe::domain
