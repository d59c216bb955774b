#pragma once

// Loads the reference data of domain/reference_data.hpp (customers,
// menu_items) into the tables of the same names, idempotently: a row is
// inserted when missing, updated when it differs, left alone otherwise.
// Concurrent loads are safe (INSERT ... ON CONFLICT); a load is one transaction.
// Columns the reference data does not define (created_at, available) are
// never overwritten. Not thread-safe (it uses its Connection).

#include "db/connection.hpp"

namespace foodpipe::db {

struct UpsertCounts {
  int inserted = 0;
  int updated = 0;
  int unchanged = 0;
};

struct ReferenceDataCounts {
  UpsertCounts customers;
  UpsertCounts menu_items;
};

// Writes. Throws DbError (e.g. 42P01 when the tables do not exist: migrate first).
ReferenceDataCounts load_reference_data(Connection& connection);

// What load_reference_data would do, read-only; tables that do not exist yet
// count every row as inserted. Throws DbError.
[[nodiscard]] ReferenceDataCounts plan_reference_data(Connection& connection);

// The same for a database that does not exist yet: everything inserted.
[[nodiscard]] ReferenceDataCounts plan_reference_data_for_empty_database();

} // namespace foodpipe::db
