#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "db/numeric.hpp"

namespace foodpipe::db {
namespace {

TEST(DbNumeric, CentsToNumericText) {
  EXPECT_EQ(cents_to_numeric(899), "8.99");
  EXPECT_EQ(cents_to_numeric(1000), "10.00");
  EXPECT_EQ(cents_to_numeric(5), "0.05");
  EXPECT_EQ(cents_to_numeric(0), "0.00");
  EXPECT_EQ(cents_to_numeric(-5), "-0.05");
  EXPECT_EQ(cents_to_numeric(-1234), "-12.34");
  EXPECT_EQ(cents_to_numeric(std::numeric_limits<std::int64_t>::min()), "-92233720368547758.08");
  EXPECT_EQ(cents_to_numeric(std::numeric_limits<std::int64_t>::max()), "92233720368547758.07");
}

TEST(DbNumeric, NumericTextToCents) {
  EXPECT_EQ(numeric_to_cents("8.99"), 899);
  EXPECT_EQ(numeric_to_cents("8.9"), 890);
  EXPECT_EQ(numeric_to_cents("8"), 800);
  EXPECT_EQ(numeric_to_cents("-0.05"), -5);
  EXPECT_EQ(numeric_to_cents("+1.00"), 100);
  EXPECT_EQ(numeric_to_cents("99999999.99"), 9999999999);
  for (const char* bad : {"", "-", ".5", "1.", "1.234", "1e3", "1,00", "abc", "1.a", "99999999999999999999"}) {
    EXPECT_FALSE(numeric_to_cents(bad)) << bad;
  }
}

TEST(DbNumeric, RoundTrips) {
  for (std::int64_t cents : {1LL, 99LL, 100LL, 101LL, 123456789LL, -42LL}) {
    EXPECT_EQ(numeric_to_cents(cents_to_numeric(cents)), cents);
  }
}

} // namespace
} // namespace foodpipe::db
