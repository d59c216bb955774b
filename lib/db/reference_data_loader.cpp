#include "db/reference_data_loader.hpp"

#include <map>
#include <string>
#include <tuple>

#include "db/transaction.hpp"
#include "domain/money.hpp"
#include "domain/reference_data.hpp"

namespace foodpipe::db {
namespace {

// (xmax = 0) tells a fresh insert from an update; an unchanged row returns nothing.
constexpr const char* k_upsert_customer = R"sql(
INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)
ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email
WHERE (customers.name, customers.email) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.email)
RETURNING (xmax = 0) AS inserted)sql";

constexpr const char* k_upsert_menu_item = R"sql(
INSERT INTO menu_items (item_id, name, category, price) VALUES ($1, $2, $3, $4::numeric)
ON CONFLICT (item_id) DO UPDATE
  SET name = EXCLUDED.name, category = EXCLUDED.category, price = EXCLUDED.price
WHERE (menu_items.name, menu_items.category, menu_items.price)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.category, EXCLUDED.price)
RETURNING (xmax = 0) AS inserted)sql";

// A menu price as the text of numeric(10, 2): the text PostgreSQL reads for $4::numeric
// and prints back for the column, so it also compares equal to what plan_reference_data() reads.
std::string price_text(const domain::MenuItem& item) {
  return domain::Money::from_cents(item.price_cents).to_string();
}

void count(const Result& result, UpsertCounts& counts) {
  if (result.empty()) {
    ++counts.unchanged;
  } else if (result.value(0, 0) == "t") {
    ++counts.inserted;
  } else {
    ++counts.updated;
  }
}

bool table_exists(Connection& connection, const std::string& table) {
  return !connection.exec_params("SELECT to_regclass($1)", {table}).is_null(0, 0);
}

// key -> the row's other columns as text, as the database returns them.
using Rows = std::map<std::string, std::vector<std::string>, std::less<>>;

Rows read_rows(Connection& connection, const std::string& sql) {
  Rows rows;
  const Result result = connection.exec(sql);
  for (int row = 0; row < result.rows(); ++row) {
    std::vector<std::string> values;
    for (int column = 1; column < result.columns(); ++column) {
      values.emplace_back(result.value(row, column));
    }
    rows.emplace(std::string(result.value(row, 0)), std::move(values));
  }
  return rows;
}

void plan_row(const Rows& existing, std::string_view key, const std::vector<std::string>& wanted,
              UpsertCounts& counts) {
  const auto found = existing.find(key);
  if (found == existing.end()) {
    ++counts.inserted;
  } else if (found->second != wanted) {
    ++counts.updated;
  } else {
    ++counts.unchanged;
  }
}

} // namespace

ReferenceDataCounts load_reference_data(Connection& connection) {
  ReferenceDataCounts counts;
  Transaction transaction(connection);
  for (const auto& customer : domain::customers()) {
    count(connection.exec_params(k_upsert_customer, {customer.id, customer.name, customer.email}),
          counts.customers);
  }
  for (const auto& item : domain::menu_items()) {
    count(connection.exec_params(k_upsert_menu_item, {item.id, item.name, item.category, price_text(item)}),
          counts.menu_items);
  }
  transaction.commit();
  return counts;
}

ReferenceDataCounts plan_reference_data(Connection& connection) {
  ReferenceDataCounts counts;
  const Rows customers = table_exists(connection, "customers")
                             ? read_rows(connection, "SELECT customer_id, name, email FROM customers")
                             : Rows{};
  for (const auto& customer : domain::customers()) {
    plan_row(customers, customer.id, {customer.name, customer.email}, counts.customers);
  }
  // numeric(10,2) prints with exactly two decimals, like price_text().
  const Rows items = table_exists(connection, "menu_items")
                         ? read_rows(connection, "SELECT item_id, name, category, price FROM menu_items")
                         : Rows{};
  for (const auto& item : domain::menu_items()) {
    plan_row(items, item.id, {item.name, item.category, price_text(item)}, counts.menu_items);
  }
  return counts;
}

ReferenceDataCounts plan_reference_data_for_empty_database() {
  ReferenceDataCounts counts;
  counts.customers.inserted = static_cast<int>(domain::customers().size());
  counts.menu_items.inserted = static_cast<int>(domain::menu_items().size());
  return counts;
}

} // namespace foodpipe::db
