#include <gtest/gtest.h>

#include "app/number.hpp"
#include "core/error.hpp"

namespace foodpipe::app {
namespace {

TEST(Number, Counts) {
  EXPECT_EQ(parse_count("count", "0"), 0U);
  EXPECT_EQ(parse_count("count", "1000000"), 1000000U);
  EXPECT_EQ(parse_count("count", "18446744073709551615"), 18446744073709551615ULL);
  for (const char* bad : {"", "-1", "+1", "1.5", "1e3", "12abc", " 1", "18446744073709551616"}) {
    EXPECT_THROW((void)parse_count("count", bad), UsageError) << bad;
  }
}

TEST(Number, NonNegativeDecimals) {
  EXPECT_DOUBLE_EQ(parse_non_negative("rate", "0"), 0.0);
  EXPECT_DOUBLE_EQ(parse_non_negative("rate", "50"), 50.0);
  EXPECT_DOUBLE_EQ(parse_non_negative("rate", "0.5"), 0.5);
  for (const char* bad : {"", "-1", "abc", "nan", "inf", "5/s", "1,5"}) {
    EXPECT_THROW((void)parse_non_negative("rate", bad), UsageError) << bad;
  }
}

TEST(Number, MessageNamesTheOption) {
  try {
    (void)parse_count("count", "-5");
    FAIL();
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "--count -5: expected a whole number >= 0");
  }
}

} // namespace
} // namespace foodpipe::app
