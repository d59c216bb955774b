#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "domain/money.hpp"

namespace foodpipe::domain {
namespace {

constexpr std::int64_t k_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t k_max = std::numeric_limits<std::int64_t>::max();

std::int64_t cents(std::string_view text) {
  const auto money = Money::parse(text);
  EXPECT_TRUE(money.has_value()) << "\"" << text << "\" should parse";
  return money ? money->cents() : -1;
}

MoneyError error_of(std::string_view text) {
  MoneyError error{};
  EXPECT_FALSE(Money::parse(text, &error).has_value()) << "\"" << text << "\" should not parse";
  return error;
}

TEST(Money, ParsesPlainDecimals) {
  EXPECT_EQ(cents("12"), 1200);
  EXPECT_EQ(cents("12.5"), 1250);
  EXPECT_EQ(cents("12.50"), 1250);
  EXPECT_EQ(cents("0.99"), 99);
  EXPECT_EQ(cents("0.05"), 5);
  EXPECT_EQ(cents("0"), 0);
  EXPECT_EQ(cents("-0"), 0);
  EXPECT_EQ(cents("-0.50"), -50);
  EXPECT_EQ(cents("-12.3"), -1230);
  EXPECT_EQ(cents("007.10"), 710);
}

TEST(Money, AcceptsTrailingZerosBeyondCents) {
  EXPECT_EQ(cents("1.500"), 150);
  EXPECT_EQ(cents("1.5000000000000000000000"), 150);
  EXPECT_EQ(cents("8.990"), 899);
}

TEST(Money, ReachesBothEndsOfInt64) {
  EXPECT_EQ(cents("92233720368547758.07"), k_max);
  EXPECT_EQ(cents("-92233720368547758.08"), k_min);
  EXPECT_EQ(error_of("92233720368547758.08"), MoneyError::overflow);
  EXPECT_EQ(error_of("-92233720368547758.09"), MoneyError::overflow);
  EXPECT_EQ(error_of("92233720368547759"), MoneyError::overflow);
  EXPECT_EQ(error_of("99999999999999999999999999999"), MoneyError::overflow);
}

TEST(Money, RefusesWhatIsNotAPlainDecimal) {
  EXPECT_EQ(error_of(""), MoneyError::empty);
  EXPECT_EQ(error_of("."), MoneyError::syntax);
  EXPECT_EQ(error_of("-"), MoneyError::syntax);
  EXPECT_EQ(error_of("+1"), MoneyError::syntax);
  EXPECT_EQ(error_of(".5"), MoneyError::syntax);
  EXPECT_EQ(error_of("1."), MoneyError::syntax);
  EXPECT_EQ(error_of(" 1"), MoneyError::syntax);
  EXPECT_EQ(error_of("1 "), MoneyError::syntax);
  EXPECT_EQ(error_of("1,50"), MoneyError::syntax);
  EXPECT_EQ(error_of("1.2.3"), MoneyError::syntax);
  EXPECT_EQ(error_of("--1"), MoneyError::syntax);
  EXPECT_EQ(error_of("0x10"), MoneyError::syntax);
  EXPECT_EQ(error_of("NaN"), MoneyError::syntax);
  EXPECT_EQ(error_of("1e2"), MoneyError::exponent);
  EXPECT_EQ(error_of("1.5E-1"), MoneyError::exponent);
  EXPECT_EQ(error_of("0.999"), MoneyError::too_precise);
  EXPECT_EQ(error_of("1.001"), MoneyError::too_precise);
  EXPECT_EQ(error_of("1.0000000001"), MoneyError::too_precise);
  // A syntax error is reported even when the digits before it overflow.
  EXPECT_EQ(error_of("99999999999999999999x"), MoneyError::syntax);
}

TEST(Money, ParseWithoutErrorPointerIsSafe) {
  EXPECT_FALSE(Money::parse("abc").has_value());
}

TEST(Money, FormatsExactlyTwoDecimals) {
  EXPECT_EQ(Money::from_cents(899).to_string(), "8.99");
  EXPECT_EQ(Money::from_cents(-50).to_string(), "-0.50");
  EXPECT_EQ(Money::from_cents(0).to_string(), "0.00");
  EXPECT_EQ(Money::from_cents(5).to_string(), "0.05");
  EXPECT_EQ(Money::from_cents(-5).to_string(), "-0.05");
  EXPECT_EQ(Money::from_cents(100).to_string(), "1.00");
  EXPECT_EQ(Money::from_cents(123456).to_string(), "1234.56");
  EXPECT_EQ(Money::from_cents(k_max).to_string(), "92233720368547758.07");
  EXPECT_EQ(Money::from_cents(k_min).to_string(), "-92233720368547758.08");
  EXPECT_EQ(Money::from_cents(k_min).to_string().size(), Money::k_max_text);
}

TEST(Money, AppendToKeepsWhatIsThere) {
  std::string out = "price=";
  Money::from_cents(1099).append_to(out);
  EXPECT_EQ(out, "price=10.99");
}

TEST(Money, FormatAndParseRoundTrip) {
  for (const std::int64_t value :
       {k_min, k_min + 1, std::int64_t{-100001}, std::int64_t{-1}, std::int64_t{0}, std::int64_t{1},
        std::int64_t{99}, std::int64_t{100}, std::int64_t{987654321}, k_max - 1, k_max}) {
    const Money money = Money::from_cents(value);
    EXPECT_EQ(Money::parse(money.to_string()), money) << value;
  }
}

// PostgreSQL's numeric text, as lib/db sends it for $1::numeric and reads it back
// (these cases come from the db::numeric helpers that Money replaced).
TEST(Money, WritesTheTextANumericColumnTakes) {
  EXPECT_EQ(Money::from_cents(1000).to_string(), "10.00");
  EXPECT_EQ(Money::from_cents(-1234).to_string(), "-12.34");
  EXPECT_EQ(Money::from_cents(9999999999).to_string(), "99999999.99"); // the largest numeric(10, 2)
  EXPECT_EQ(Money::from_cents(-9999999999).to_string(), "-99999999.99");
}

TEST(Money, ReadsTheTextPostgresPrintsForNumeric) {
  EXPECT_EQ(cents("8.99"), 899);
  EXPECT_EQ(cents("8.9"), 890);
  EXPECT_EQ(cents("8"), 800);
  EXPECT_EQ(cents("-0.05"), -5);
  EXPECT_EQ(cents("99999999.99"), 9999999999);
  EXPECT_EQ(cents("-99999999.99"), -9999999999);
  // An unconstrained numeric keeps the scale of what was stored: sum(price) or 8.990.
  EXPECT_EQ(cents("8.990"), 899);
  EXPECT_EQ(cents("0.000"), 0);
  // PostgreSQL never prints a '+'; the old db helper let one through, Money does not.
  EXPECT_EQ(error_of("+1.00"), MoneyError::syntax);
  EXPECT_EQ(error_of("1.234"), MoneyError::too_precise);
  EXPECT_EQ(error_of("1e3"), MoneyError::exponent);
  EXPECT_EQ(error_of("1.a"), MoneyError::syntax);
  EXPECT_EQ(error_of("abc"), MoneyError::syntax);
  EXPECT_EQ(error_of("99999999999999999999"), MoneyError::overflow);
}

TEST(Money, AddsExactlyWhereBinaryFloatingPointDoesNot) {
  // 0.1 + 0.2 != 0.3 in double; in cents it is exact.
  EXPECT_EQ(*Money::parse("0.10") + *Money::parse("0.20"), *Money::parse("0.30"));
  Money sum;
  for (int i = 0; i < 1000; ++i) {
    sum += *Money::parse("0.01");
  }
  EXPECT_EQ(sum, Money::from_cents(1000));
  EXPECT_EQ(sum.to_string(), "10.00");
}

TEST(Money, MultipliesByQuantity) {
  EXPECT_EQ(Money::from_cents(899) * 3, Money::from_cents(2697));
  EXPECT_EQ(3 * Money::from_cents(899), Money::from_cents(2697));
  EXPECT_EQ(Money::from_cents(899) * 0, Money{});
  EXPECT_EQ(Money::from_cents(-250) * 2, Money::from_cents(-500));
}

TEST(Money, ArithmeticDetectsOverflow) {
  const Money big = Money::from_cents(k_max);
  EXPECT_FALSE(big.checked_add(Money::from_cents(1)).has_value());
  EXPECT_EQ(big.checked_add(Money::from_cents(-1)), Money::from_cents(k_max - 1));
  EXPECT_FALSE(Money::from_cents(k_min).checked_sub(Money::from_cents(1)).has_value());
  EXPECT_FALSE(big.checked_mul(2).has_value());
  EXPECT_FALSE(Money::from_cents(k_min).checked_mul(-1).has_value());
  EXPECT_EQ(Money::from_cents(k_max / 2).checked_mul(2), Money::from_cents(k_max - 1));
  EXPECT_THROW(big + Money::from_cents(1), std::overflow_error);
  EXPECT_THROW(Money::from_cents(k_min) - Money::from_cents(1), std::overflow_error);
  EXPECT_THROW(big * 2, std::overflow_error);
  Money value = big;
  EXPECT_THROW(value += Money::from_cents(1), std::overflow_error);
  EXPECT_EQ(value, big) << "a failed += leaves the value unchanged";
}

TEST(Money, Compares) {
  EXPECT_LT(Money::from_cents(-1), Money{});
  EXPECT_GT(Money::from_cents(100), Money::from_cents(99));
  EXPECT_EQ(*Money::parse("1.5"), *Money::parse("1.50"));
  EXPECT_NE(*Money::parse("1.5"), *Money::parse("1.05"));
  EXPECT_LE(Money::from_cents(7), Money::from_cents(7));
}

TEST(Money, ErrorNamesAreStable) {
  EXPECT_EQ(to_string(MoneyError::empty), "empty");
  EXPECT_EQ(to_string(MoneyError::syntax), "syntax");
  EXPECT_EQ(to_string(MoneyError::exponent), "exponent");
  EXPECT_EQ(to_string(MoneyError::too_precise), "too_precise");
  EXPECT_EQ(to_string(MoneyError::overflow), "overflow");
}

} // namespace
} // namespace foodpipe::domain
