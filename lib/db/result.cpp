#include "db/result.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <stdexcept>
#include <string>

namespace foodpipe::db {

int Result::rows() const noexcept { return m_result ? PQntuples(m_result.get()) : 0; }

int Result::columns() const noexcept { return m_result ? PQnfields(m_result.get()) : 0; }

void Result::check(int row, int column) const {
  if (row < 0 || row >= rows() || column < 0 || column >= columns()) {
    throw std::out_of_range("result has " + std::to_string(rows()) + " rows and " +
                            std::to_string(columns()) + " columns; asked for row " +
                            std::to_string(row) + ", column " + std::to_string(column));
  }
}

std::string_view Result::value(int row, int column) const {
  check(row, column);
  const char* data = PQgetvalue(m_result.get(), row, column);
  const int length = PQgetlength(m_result.get(), row, column);
  return {data, static_cast<std::size_t>(length)};
}

bool Result::is_null(int row, int column) const {
  check(row, column);
  return PQgetisnull(m_result.get(), row, column) != 0;
}

std::optional<std::string_view> Result::optional_value(int row, int column) const {
  if (is_null(row, column)) {
    return std::nullopt;
  }
  return value(row, column);
}

std::string_view Result::column_name(int column) const {
  if (column < 0 || column >= columns()) {
    throw std::out_of_range("result has no column " + std::to_string(column));
  }
  return PQfname(m_result.get(), column);
}

int Result::column_index(std::string_view name) const {
  for (int column = 0; column < columns(); ++column) {
    if (column_name(column) == name) {
      return column;
    }
  }
  throw std::out_of_range("result has no column named '" + std::string(name) + "'");
}

std::int64_t Result::affected_rows() const noexcept {
  if (!m_result) {
    return 0;
  }
  const std::string_view text = PQcmdTuples(m_result.get());
  std::int64_t count = 0;
  std::from_chars(text.data(), text.data() + text.size(), count);
  return count;
}

std::string_view Result::command_status() const noexcept {
  return m_result ? PQcmdStatus(m_result.get()) : "";
}

} // namespace foodpipe::db
