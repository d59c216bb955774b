#include "app/table.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace foodpipe::app {
namespace {

std::string_view escape_for(Colour colour) {
  switch (colour) {
  case Colour::none:
    return "";
  case Colour::bold:
    return "\033[1m";
  case Colour::dim:
    return "\033[2m";
  case Colour::red:
    return "\033[31m";
  case Colour::green:
    return "\033[32m";
  case Colour::yellow:
    return "\033[33m";
  case Colour::cyan:
    return "\033[36m";
  }
  return "";
}

void print_line(std::ostream& out, const std::vector<Table::Column>& columns, const std::vector<Cell>& cells,
                const std::vector<std::size_t>& widths, bool colour, std::string_view indent) {
  std::string line(indent);
  for (std::size_t c = 0; c < cells.size(); ++c) {
    const auto padding = std::string(widths[c] - display_width(cells[c].text), ' ');
    const bool last = c + 1 == cells.size();
    if (c > 0) {
      line += "  ";
    }
    if (columns[c].align == Align::right) {
      line += padding;
      line += paint(cells[c].text, cells[c].colour, colour);
    } else {
      line += paint(cells[c].text, cells[c].colour, colour);
      if (!last) {
        line += padding;
      }
    }
  }
  // An empty last cell would leave the separator behind.
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  out << line << '\n';
}

} // namespace

std::string paint(std::string_view text, Colour colour, bool enabled) {
  if (!enabled || colour == Colour::none || text.empty()) {
    return std::string(text);
  }
  std::string painted(escape_for(colour));
  painted += text;
  painted += "\033[0m";
  return painted;
}

std::size_t display_width(std::string_view utf8) {
  // Count every byte that is not a UTF-8 continuation byte (10xxxxxx).
  return static_cast<std::size_t>(std::count_if(
      utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

Table::Table(std::vector<Column> columns) : m_columns(std::move(columns)) {}

void Table::add_row(std::vector<Cell> cells) {
  if (cells.size() != m_columns.size()) {
    throw std::invalid_argument("table row has " + std::to_string(cells.size()) + " cells for " +
                                std::to_string(m_columns.size()) + " columns");
  }
  m_rows.push_back(std::move(cells));
}

void Table::print(std::ostream& out, bool colour, std::string_view indent) const {
  std::vector<std::size_t> widths;
  std::vector<Cell> header;
  for (const auto& column : m_columns) {
    widths.push_back(display_width(column.title));
    header.emplace_back(column.title, Colour::bold);
  }
  for (const auto& row : m_rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c].text));
    }
  }
  print_line(out, m_columns, header, widths, colour, indent);
  for (const auto& row : m_rows) {
    print_line(out, m_columns, row, widths, colour, indent);
  }
}

std::string Table::to_string(bool colour, std::string_view indent) const {
  std::ostringstream out;
  print(out, colour, indent);
  return out.str();
}

} // namespace foodpipe::app
