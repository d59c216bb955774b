#pragma once

// The reference data of the pipeline: 100 customers and the original's 20 menu
// items. This is the single source of truth: `seed-db` loads it into the
// `customers` and `menu_items` tables and the order generator draws from it.
// Stable forever: changing an entry changes every seeded run's bytes.

#include <cstdint>
#include <span>
#include <string>

namespace foodpipe::domain {

struct Customer {
  std::string id;    // CUST-00001 .. CUST-00100
  std::string name;  // UTF-8, may hold accents and apostrophes
  std::string email; // ASCII, unique
};

struct MenuItem {
  std::string id;       // ITEM-001 .. ITEM-020
  std::string name;
  std::string category; // burger, side, salad, drink, dessert, chicken
  std::int64_t price_cents;
};

// 100 customers, in id order. Built once; the references stay valid for the
// life of the program.
[[nodiscard]] std::span<const Customer> customers();

// 20 menu items, in id order.
[[nodiscard]] std::span<const MenuItem> menu_items();

} // namespace foodpipe::domain
