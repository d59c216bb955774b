#pragma once

// Result: the rows of one successful statement (text format), owning its
// PGresult. Values are views into the PGresult: valid while the Result lives.
// Immutable, so safe to read from several threads. Accessors with a row or
// column out of range throw std::out_of_range.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/error.hpp"
#include "db/handles.hpp"

namespace foodpipe::db {

class Result {
public:
  Result() = default;
  explicit Result(ResultPtr result) noexcept : m_result(std::move(result)) {}

  [[nodiscard]] int rows() const noexcept;
  [[nodiscard]] int columns() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return rows() == 0; }

  // The text of a value; "" for NULL (tell them apart with is_null).
  [[nodiscard]] std::string_view value(int row, int column) const;
  [[nodiscard]] bool is_null(int row, int column) const;
  // nullopt for NULL.
  [[nodiscard]] std::optional<std::string_view> optional_value(int row, int column) const;

  [[nodiscard]] std::string_view column_name(int column) const;
  // The column's index; throws std::out_of_range when there is no such column.
  [[nodiscard]] int column_index(std::string_view name) const;

  // Rows affected by INSERT/UPDATE/DELETE/COPY/..., 0 when not applicable.
  [[nodiscard]] std::int64_t affected_rows() const noexcept;
  // The command tag, e.g. "INSERT 0 3".
  [[nodiscard]] std::string_view command_status() const noexcept;

  [[nodiscard]] const PGresult* native() const noexcept { return m_result.get(); }

private:
  void check(int row, int column) const;

  ResultPtr m_result;
};

// An integer column's text, all of it; throws DbError for anything else
// (PostgreSQL sent what the query did not promise).
template <typename Integer>
[[nodiscard]] Integer parse_integer(std::string_view text) {
  Integer value{};
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
    throw DbError("unexpected integer \"" + std::string(text) + "\" from PostgreSQL", "");
  }
  return value;
}

} // namespace foodpipe::db
