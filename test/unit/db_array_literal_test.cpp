#include "db/array_literal.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace foodpipe::db {
namespace {

TEST(ArrayLiteral, TextElementsAreQuotedWithQuotesAndBackslashesEscaped) {
  EXPECT_EQ(text_array({}), "{}");
  EXPECT_EQ(text_array({"a", "b c", "say \"hi\"", R"(back\slash)", "", "NULL", "{x,y}"}),
            R"({"a","b c","say \"hi\"","back\\slash","","NULL","{x,y}"})");
}

TEST(ArrayLiteral, IntegersOfAnyWidth) {
  EXPECT_EQ(integer_array(std::vector<std::size_t>{}), "{}");
  EXPECT_EQ(integer_array(std::vector<std::int32_t>{0, 2, -1}), "{0,2,-1}");
  EXPECT_EQ(integer_array(std::vector<std::int64_t>{9223372036854775807}), "{9223372036854775807}");
}

} // namespace
} // namespace foodpipe::db
