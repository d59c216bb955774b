#pragma once

// An aligned text table for human output (inspect's views): a header row and
// columns padded to their widest cell, two spaces apart, numbers aligned to
// the right. Colour (ANSI escapes) only when asked, i.e. on a terminal:
// widths are computed on the text, never on the escapes, so a table lines up
// with and without colour. Pure; no I/O beyond the stream it is given.

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace foodpipe::app {

enum class Align { left, right };

enum class Colour { none, bold, dim, red, green, yellow, cyan };

// `text` wrapped in the escape for `colour` (and a reset) when enabled; the
// text alone otherwise or for Colour::none.
[[nodiscard]] std::string paint(std::string_view text, Colour colour, bool enabled);

// Width on a terminal: UTF-8 code points (wide CJK and emoji count as one; a
// learner's table stays readable, the rare wide character shifts a column).
[[nodiscard]] std::size_t display_width(std::string_view utf8);

struct Cell {
  Cell(std::string text_, Colour colour_ = Colour::none) : text(std::move(text_)), colour(colour_) {} // NOLINT
  Cell(const char* text_, Colour colour_ = Colour::none) : text(text_), colour(colour_) {}             // NOLINT
  std::string text;
  Colour colour = Colour::none;
};

class Table {
public:
  struct Column {
    std::string title;
    Align align = Align::left;
  };

  explicit Table(std::vector<Column> columns);

  // Throws std::invalid_argument when the row has not one cell per column.
  void add_row(std::vector<Cell> cells);

  [[nodiscard]] bool empty() const noexcept { return m_rows.empty(); }

  // Header and rows, each line starting with `indent` and ending in '\n'; no
  // trailing spaces.
  void print(std::ostream& out, bool colour, std::string_view indent = "") const;
  [[nodiscard]] std::string to_string(bool colour, std::string_view indent = "") const;

private:
  std::vector<Column> m_columns;
  std::vector<std::vector<Cell>> m_rows;
};

} // namespace foodpipe::app
