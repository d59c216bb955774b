#include "domain/reference_data.hpp"

#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

namespace foodpipe::domain {
namespace {

struct Name {
  std::string_view display;
  std::string_view slug; // ASCII, for the e-mail address
};

// 20 first and 20 last names; customer i (0-based) is first[i % 20] with
// last[(3 * (i % 20) + i / 20) % 20], which gives 100 distinct pairs. A few
// names carry accents and an apostrophe on purpose: every layer must carry them
// through verbatim.
constexpr std::array<Name, 20> k_first_names{{
    {"Alice", "alice"},   {"Bruno", "bruno"},   {"Chloé", "chloe"},   {"Dmitri", "dmitri"},
    {"Emeka", "emeka"},   {"Fatima", "fatima"}, {"Grace", "grace"},   {"Hiro", "hiro"},
    {"Ingrid", "ingrid"}, {"José", "jose"},     {"Kavya", "kavya"},   {"Liam", "liam"},
    {"Mei", "mei"},       {"Noah", "noah"},     {"Olga", "olga"},     {"Priya", "priya"},
    {"Quinn", "quinn"},   {"Rafael", "rafael"}, {"Sofia", "sofia"},   {"Zoë", "zoe"},
}};

constexpr std::array<Name, 20> k_last_names{{
    {"Anderson", "anderson"}, {"Baptiste", "baptiste"}, {"Chen", "chen"},
    {"Dubois", "dubois"},     {"Eriksen", "eriksen"},   {"Fernández", "fernandez"},
    {"García", "garcia"},     {"Haddad", "haddad"},     {"Ivanova", "ivanova"},
    {"Jensen", "jensen"},     {"Kowalski", "kowalski"}, {"Lindqvist", "lindqvist"},
    {"Müller", "muller"},     {"Nguyen", "nguyen"},     {"O'Brien", "obrien"},
    {"Patel", "patel"},       {"Rossi", "rossi"},       {"Schmidt", "schmidt"},
    {"Tanaka", "tanaka"},     {"Okafor", "okafor"},
}};

std::vector<Customer> build_customers() {
  std::vector<Customer> result;
  result.reserve(100);
  for (std::size_t i = 0; i < 100; ++i) {
    const Name& first = k_first_names[i % 20];
    const Name& last = k_last_names[(3 * (i % 20) + i / 20) % 20];
    char id[32]; // room for any size_t, so -Wformat-truncation is satisfied
    std::snprintf(id, sizeof id, "CUST-%05zu", i + 1);
    Customer customer;
    customer.id = id;
    customer.name.append(first.display).append(" ").append(last.display);
    customer.email.append(first.slug).append(".").append(last.slug).append("@example.com");
    result.push_back(std::move(customer));
  }
  return result;
}

std::vector<MenuItem> build_menu_items() {
  struct Row {
    std::string_view name;
    std::string_view category;
    std::int64_t price_cents;
  };
  // The original project's menu, in its order.
  constexpr std::array<Row, 20> k_rows{{
      {"Classic Burger", "burger", 899},      {"Cheeseburger", "burger", 999},
      {"Bacon Burger", "burger", 1099},       {"Veggie Burger", "burger", 849},
      {"French Fries", "side", 349},          {"Onion Rings", "side", 449},
      {"Sweet Potato Fries", "side", 499},    {"Coleslaw", "side", 299},
      {"Caesar Salad", "salad", 699},         {"Garden Salad", "salad", 599},
      {"Coke", "drink", 249},                 {"Sprite", "drink", 249},
      {"Iced Tea", "drink", 299},             {"Lemonade", "drink", 299},
      {"Milkshake", "drink", 499},            {"Apple Pie", "dessert", 399},
      {"Ice Cream Sundae", "dessert", 449},   {"Brownie", "dessert", 349},
      {"Chicken Nuggets", "chicken", 599},    {"Chicken Sandwich", "chicken", 799},
  }};
  std::vector<MenuItem> result;
  result.reserve(k_rows.size());
  for (std::size_t i = 0; i < k_rows.size(); ++i) {
    char id[32]; // room for any size_t, so -Wformat-truncation is satisfied
    std::snprintf(id, sizeof id, "ITEM-%03zu", i + 1);
    result.push_back({id, std::string(k_rows[i].name), std::string(k_rows[i].category),
                      k_rows[i].price_cents});
  }
  return result;
}

} // namespace

std::span<const Customer> customers() {
  static const std::vector<Customer> k_customers = build_customers();
  return k_customers;
}

std::span<const MenuItem> menu_items() {
  static const std::vector<MenuItem> k_items = build_menu_items();
  return k_items;
}

} // namespace foodpipe::domain
