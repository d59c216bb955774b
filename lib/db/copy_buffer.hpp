#pragma once

// CopyBuffer: rows in PostgreSQL's COPY text format (tab-separated, \N for
// NULL, backslash escapes), for Connection::copy_in:
//
//   db::CopyBuffer rows;
//   rows.field("ORD-1"); rows.field(std::nullopt); rows.bytea(raw_payload); rows.end_row();
//   conn.copy_in("COPY staging (order_id, note, payload) FROM STDIN", rows.data());
//
// Not thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace foodpipe::db {

class CopyBuffer {
public:
  // A text value (any bytes except NUL), or NULL.
  void field(std::optional<std::string_view> value);
  // Raw bytes for a bytea column (hex format).
  void bytea(std::string_view raw);
  void end_row();

  [[nodiscard]] std::string_view data() const noexcept { return m_data; }
  [[nodiscard]] std::size_t rows() const noexcept { return m_rows; }
  void clear() noexcept;

private:
  void separate();

  std::string m_data;
  std::size_t m_rows = 0;
  bool m_row_started = false;
};

} // namespace foodpipe::db
