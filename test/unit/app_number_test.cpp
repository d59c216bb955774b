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

TEST(Number, CountsInRange) {
  EXPECT_EQ(parse_count("batch-size", "1", {1, 1'000'000}), 1U);
  EXPECT_EQ(parse_count("batch-size", "1000000", {1, 1'000'000}), 1'000'000U);
  for (const char* bad : {"0", "1000001", "18446744073709551615", "18446744073709551616", "-1", "1e3"}) {
    EXPECT_THROW((void)parse_count("batch-size", bad, {1, 1'000'000}), UsageError) << bad;
  }
  try {
    (void)parse_count("batch-ms", "18446744073709551615", {0, 3'600'000});
    FAIL();
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "--batch-ms 18446744073709551615: expected a whole number from 0 to 3600000");
  }
}

TEST(Number, NumbersInRange) {
  EXPECT_DOUBLE_EQ(parse_number({"rate", "1e9", {}}, {0, 1e9}), 1e9);
  EXPECT_DOUBLE_EQ(parse_number({"rate", "0.000001", {}}, {0, 1e9}), 0.000001);
  for (const char* bad : {"2e9", "1000000000.5", "-0.1", "nan", "inf", "-inf", "1e400", "", " 5", "5 "}) {
    EXPECT_THROW((void)parse_number({"rate", bad, {}}, {0, 1e9}), UsageError) << bad;
  }
  try {
    (void)parse_number({"rate", "2e9", {}}, {0, 1e9});
    FAIL();
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "--rate 2e9: expected a number from 0 to 1000000000");
  }
}

TEST(Number, SecondsAreBoundedBeforeTheyBecomeIntegers) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_seconds("idle-timeout", "0"), milliseconds(0));
  EXPECT_EQ(parse_seconds("idle-timeout", "0.5"), milliseconds(500));
  EXPECT_EQ(parse_seconds("idle-timeout", "0.0016"), milliseconds(2)); // rounded, not cut
  EXPECT_EQ(parse_seconds("duration", "31536000"), k_max_duration);
  EXPECT_EQ(parse_seconds("duration", "1e3"), milliseconds(1'000'000));
  // Each of these once overflowed the cast to milliseconds, or a time point.
  for (const char* bad : {"1e16", "1e10", "31536000.001", "9223372036854775807", "1e308", "inf", "nan", "-1", "-0.5"}) {
    EXPECT_THROW((void)parse_seconds("idle-timeout", bad), UsageError) << bad;
  }
  try {
    (void)parse_seconds("idle-timeout", "1e16");
    FAIL();
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "--idle-timeout 1e16: expected seconds from 0 to 31536000 (365 days)");
  }
}

TEST(Number, ATimeoutMustBeMoreThanNothing) {
  const SecondsRange range{std::chrono::milliseconds(1), k_max_timeout};
  EXPECT_EQ(parse_seconds("connect-timeout", "0.001", range), std::chrono::milliseconds(1));
  EXPECT_EQ(parse_seconds("connect-timeout", "86400", range), k_max_timeout);
  for (const char* bad : {"0", "0.0004", "86400.5", "1e9"}) {
    EXPECT_THROW((void)parse_seconds("connect-timeout", bad, range), UsageError) << bad;
  }
  try {
    (void)parse_seconds("connect-timeout", "0", range);
    FAIL();
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "--connect-timeout 0: expected seconds from 0.001 to 86400 (a day)");
  }
}

TEST(Number, MessageNamesWhereTheValueWasWritten) {
  const auto message = [](const OptionValue& value) {
    try {
      (void)parse_number(value, {0, 1e9});
    } catch (const UsageError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({"rate", "2e9", {Origin::Kind::environment, "PRODUCER_RATE"}}),
            "PRODUCER_RATE=2e9 (--rate): expected a number from 0 to 1000000000");
  EXPECT_EQ(message({"rate", "2e9", {Origin::Kind::config_file, "/etc/foodpipe.conf"}}),
            "rate = 2e9 in /etc/foodpipe.conf (--rate): expected a number from 0 to 1000000000");
  // Still one line, and not a page long, whatever the value holds.
  EXPECT_EQ(message({"rate", "1\nfoodpipe: ok\x1b[2J", {Origin::Kind::environment, "PRODUCER_RATE"}}),
            "PRODUCER_RATE=1\\x0afoodpipe: ok\\x1b[2J (--rate): expected a number from 0 to 1000000000");
  EXPECT_EQ(message({"rate", std::string(100, '9'), {}}),
            "--rate " + std::string(40, '9') + "...: expected a number from 0 to 1000000000");
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
