// The aligned table of inspect's human output: widths, alignment, colour that
// never shifts a column.

#include <gtest/gtest.h>

#include "app/table.hpp"

namespace foodpipe::app {
namespace {

Table sample() {
  Table table({{"PARTITION", Align::right}, {"LEADER", Align::right}, {"NOTE", Align::left}});
  table.add_row({"0", "1", "ok"});
  table.add_row({"12", "1", Cell("behind", Colour::red)});
  return table;
}

TEST(AppTable, PadsColumnsToTheWidestCellAndRightAlignsNumbers) {
  EXPECT_EQ(sample().to_string(false),
            "PARTITION  LEADER  NOTE\n"
            "        0       1  ok\n"
            "       12       1  behind\n");
}

TEST(AppTable, WithoutColourThereAreNoEscapes) {
  EXPECT_EQ(sample().to_string(false).find('\033'), std::string::npos);
}

TEST(AppTable, ColourWrapsTheTextButNotThePadding) {
  const auto text = sample().to_string(true);
  EXPECT_NE(text.find("\033[1mPARTITION\033[0m"), std::string::npos) << text;
  EXPECT_NE(text.find("  \033[31mbehind\033[0m\n"), std::string::npos) << text;
  // Removing the escapes gives the plain table back: colour never moves a column.
  std::string stripped;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\033') {
      i = text.find('m', i);
      continue;
    }
    stripped += text[i];
  }
  EXPECT_EQ(stripped, sample().to_string(false));
}

TEST(AppTable, IndentsEveryLineAndLeavesNoTrailingSpaces) {
  Table table({{"A", Align::left}, {"B", Align::left}});
  table.add_row({"long value", ""});
  EXPECT_EQ(table.to_string(false, "  "), "  A           B\n  long value\n");
}

TEST(AppTable, MultiByteTextCountsAsOneColumnPerCharacter) {
  EXPECT_EQ(display_width("Zoë"), 3U);
  Table table({{"NAME", Align::left}, {"N", Align::right}});
  table.add_row({"Zoë", "1"});
  table.add_row({"Bob", "22"});
  EXPECT_EQ(table.to_string(false), "NAME   N\nZoë    1\nBob   22\n");
}

TEST(AppTable, ARowWithTheWrongNumberOfCellsIsRefused) {
  Table table({{"A", Align::left}});
  EXPECT_THROW(table.add_row({"1", "2"}), std::invalid_argument);
}

TEST(AppTable, PaintIsANoOpWhenDisabled) {
  EXPECT_EQ(paint("x", Colour::green, false), "x");
  EXPECT_EQ(paint("x", Colour::none, true), "x");
  EXPECT_EQ(paint("x", Colour::green, true), "\033[32mx\033[0m");
}

} // namespace
} // namespace foodpipe::app
