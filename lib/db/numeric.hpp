#pragma once

// Money between integer cents and PostgreSQL numeric text, without binary
// floating point (rule 3 of docs/architecture.md). Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace foodpipe::db {

// 899 -> "8.99", -5 -> "-0.05", 1000 -> "10.00". Pass as a text parameter
// cast to numeric ($1::numeric).
[[nodiscard]] std::string cents_to_numeric(std::int64_t cents);

// "8.99", "8.9", "8", "-0.05" -> cents; nullopt for anything with more than two
// decimals, an exponent, or that does not fit (numeric(10,2) always fits).
[[nodiscard]] std::optional<std::int64_t> numeric_to_cents(std::string_view text);

} // namespace foodpipe::db
