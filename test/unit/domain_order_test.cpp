#include <chrono>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "domain/order.hpp"
#include "domain/timestamp.hpp"
#include "domain/utf8.hpp"

namespace foodpipe::domain {
namespace {

using std::chrono::milliseconds;

Timestamp at_ms(std::int64_t ms) {
  return Timestamp(milliseconds(ms));
}

std::int64_t ms_of(std::string_view text) {
  const auto time = parse_timestamp(text);
  EXPECT_TRUE(time.has_value()) << "\"" << text << "\" should parse";
  return time ? time->time_since_epoch().count() : -1;
}

// 2026-11-28T07:30:00.123Z, computed independently with `date -u -d ... +%s`.
constexpr std::int64_t k_example_ms = 1'795'851'000'123;

TEST(Timestamp, FormatsIsoWithMillisecondsAndZ) {
  EXPECT_EQ(format_timestamp(at_ms(k_example_ms)), "2026-11-28T07:30:00.123Z");
  EXPECT_EQ(format_timestamp(at_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(at_ms(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_timestamp(at_ms(951'782'400'000)), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(at_ms(253'402'300'799'999)), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_timestamp(at_ms(k_example_ms)).size(), k_timestamp_text_size);
}

TEST(Timestamp, FormatClampsToYearsOneToNineThousandNineHundredNinetyNine) {
  EXPECT_EQ(format_timestamp(at_ms(253'402'300'800'000)), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_timestamp(at_ms(-62'135'596'800'000)), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(at_ms(-62'135'596'800'001)), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(at_ms(-62'167'219'200'000)), "0001-01-01T00:00:00.000Z") << "year 0000";
  EXPECT_EQ(format_timestamp(k_min_timestamp), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(k_max_timestamp), "9999-12-31T23:59:59.999Z");
}

TEST(Timestamp, AppendKeepsWhatIsThere) {
  std::string out = "at ";
  append_timestamp(at_ms(0), out);
  EXPECT_EQ(out, "at 1970-01-01T00:00:00.000Z");
}

TEST(Timestamp, ParsesWhatItFormats) {
  for (const std::int64_t ms :
       {std::int64_t{0}, std::int64_t{-1}, k_example_ms, std::int64_t{951'782'400'000},
        std::int64_t{-62'135'596'800'000}, std::int64_t{253'402'300'799'999}}) {
    EXPECT_EQ(ms_of(format_timestamp(at_ms(ms))), ms);
  }
}

TEST(Timestamp, ParsesRfc3339Variants) {
  EXPECT_EQ(ms_of("2026-11-28T07:30:00.123Z"), k_example_ms);
  EXPECT_EQ(ms_of("2026-11-28t07:30:00.123z"), k_example_ms);
  EXPECT_EQ(ms_of("2026-11-28 07:30:00.123Z"), k_example_ms);
  EXPECT_EQ(ms_of("2026-11-28T07:30:00Z"), k_example_ms - 123);
  EXPECT_EQ(ms_of("2026-11-28T07:30:00.1Z"), k_example_ms - 23);
  EXPECT_EQ(ms_of("2026-11-28T07:30:00.12Z"), k_example_ms - 3);
  // Digits beyond milliseconds are truncated toward the past.
  EXPECT_EQ(ms_of("2026-11-28T07:30:00.123999999Z"), k_example_ms);
  EXPECT_EQ(ms_of("2026-11-28T07:30:00.1239Z"), k_example_ms);
  // Offsets are converted to UTC.
  EXPECT_EQ(ms_of("2026-11-28T09:30:00.123+02:00"), k_example_ms);
  EXPECT_EQ(ms_of("2026-11-28T02:00:00.123-05:30"), k_example_ms);
  EXPECT_EQ(ms_of("2026-11-28T07:30:00.123+00:00"), k_example_ms);
  EXPECT_EQ(ms_of("2026-11-28T07:30:00.123-00:00"), k_example_ms);
  // An offset can move the instant across a day and a year boundary.
  EXPECT_EQ(format_timestamp(*parse_timestamp("2027-01-01T01:00:00+02:00")), "2026-12-31T23:00:00.000Z");
  EXPECT_EQ(ms_of("1969-12-31T23:59:59.999Z"), -1);
}

TEST(Timestamp, KnowsTheCalendar) {
  EXPECT_TRUE(parse_timestamp("2024-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(parse_timestamp("2000-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("2026-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("1900-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("2026-04-31T00:00:00Z").has_value());
  EXPECT_TRUE(parse_timestamp("2026-12-31T23:59:59Z").has_value());
}

TEST(Timestamp, RefusesMalformedText) {
  for (const char* text : {
           "",
           "2026-11-28",
           "2026-11-28T07:30:00",             // no offset
           "2026-11-28T07:30Z",               // no seconds
           "2026-11-28T07:30:00.Z",           // empty fraction
           "2026-11-28T07:30:00.1234567890Z", // ten fraction digits
           "2026-13-01T00:00:00Z",
           "2026-00-01T00:00:00Z",
           "2026-01-00T00:00:00Z",
           "2026-01-01T24:00:00Z",
           "2026-01-01T00:60:00Z",
           "2026-12-31T23:59:60Z", // leap second
           "2026-1-01T00:00:00Z",
           "26-01-01T00:00:00Z",
           "+2026-01-01T00:00:00Z",
           "2026-01-01X00:00:00Z",
           "2026-01-01T00:00:00+2:00",
           "2026-01-01T00:00:00+0200",
           "2026-01-01T00:00:00+24:00",
           "2026-01-01T00:00:00+01:60",
           "2026-01-01T00:00:00ZZ",
           "2026-01-01T00:00:00Z ",
           " 2026-01-01T00:00:00Z",
           "2026-01-01T00:00:00.12a3Z",
           "0000-01-01T00:30:00+01:00", // before year 0 in UTC
           "2026-01-01T00:00:00\xC2\xA0Z",
       }) {
    EXPECT_FALSE(parse_timestamp(text).has_value()) << "\"" << text << "\"";
  }
}

// Every text that is refused says why; the reason becomes the detail of an
// order's invalid_value rejection.
TEST(Timestamp, SaysWhyATextIsRefused) {
  const std::pair<const char*, TimestampError> cases[] = {
      {"", TimestampError::syntax},
      {"2026-11-28", TimestampError::syntax},
      {"1767323045678", TimestampError::syntax},
      {"2026-11-28T07:30Z", TimestampError::syntax},
      {"2026-11-28T07:30:00.Z", TimestampError::syntax},
      {"2026-01-01T00:00:00+2:00", TimestampError::syntax},
      {"2026-01-01T00:00:00ZZ", TimestampError::syntax},
      {"2026-12-31T23:59:60ZZ", TimestampError::syntax}, // malformed first, leap second second
      {"2026-11-28T07:30:00", TimestampError::no_offset},
      {"2026-11-28T07:30:00.123", TimestampError::no_offset},
      {"2026-13-01T00:00:00Z", TimestampError::no_such_time},
      {"2026-02-29T00:00:00Z", TimestampError::no_such_time},
      {"2026-01-01T24:00:00Z", TimestampError::no_such_time},
      {"2026-01-01T00:00:61Z", TimestampError::no_such_time},
      {"2016-12-31T23:59:60Z", TimestampError::leap_second},
      {"9999-12-31T23:59:60Z", TimestampError::leap_second},
      {"2026-11-28T07:30:00.12345678901234567890Z", TimestampError::long_fraction},
      {"2026-01-01T00:00:00+24:00", TimestampError::bad_offset},
      {"2026-01-01T00:00:00-01:60", TimestampError::bad_offset},
      {"0000-01-01T00:00:00.000Z", TimestampError::out_of_range},
      {"0000-12-31T23:59:59.999Z", TimestampError::out_of_range},
      {"0001-01-01T00:30:00+01:00", TimestampError::out_of_range}, // 0000-12-31T23:30Z
      {"9999-12-31T23:30:00-01:00", TimestampError::out_of_range}, // 10000-01-01T00:30Z
  };
  for (const auto& [text, expected] : cases) {
    TimestampError error = TimestampError::syntax;
    EXPECT_FALSE(parse_timestamp(text, &error).has_value()) << "\"" << text << "\"";
    EXPECT_EQ(to_string(error), to_string(expected)) << "\"" << text << "\"";
  }
}

TEST(Timestamp, AcceptsTheFirstAndLastInstantsOfTheRange) {
  EXPECT_EQ(parse_timestamp("0001-01-01T00:00:00Z"), k_min_timestamp);
  EXPECT_EQ(parse_timestamp("0001-01-01T01:00:00+01:00"), k_min_timestamp);
  EXPECT_EQ(parse_timestamp("9999-12-31T23:59:59.999Z"), k_max_timestamp);
  EXPECT_EQ(parse_timestamp("9999-12-31T23:59:59.999999999Z"), k_max_timestamp);
  EXPECT_EQ(parse_timestamp("9999-12-31T22:59:59.999-01:00"), k_max_timestamp);
  // The bounds are on the instant, not on the local time that spells it.
  EXPECT_EQ(parse_timestamp("0000-12-31T23:00:00-01:00"), k_min_timestamp);
  EXPECT_EQ(format_timestamp(*parse_timestamp("0001-01-01T00:00:00.000Z")), "0001-01-01T00:00:00.000Z");
}

TEST(OrderStatus, RoundTripsEveryStatus) {
  const OrderStatus all[] = {OrderStatus::pending,          OrderStatus::confirmed, OrderStatus::preparing,
                             OrderStatus::out_for_delivery, OrderStatus::delivered, OrderStatus::cancelled};
  const char* names[] = {"pending", "confirmed", "preparing", "out_for_delivery", "delivered", "cancelled"};
  for (std::size_t i = 0; i < std::size(all); ++i) {
    EXPECT_EQ(to_string(all[i]), names[i]);
    EXPECT_EQ(parse_order_status(names[i]), all[i]);
  }
  EXPECT_FALSE(parse_order_status("Pending").has_value());
  EXPECT_FALSE(parse_order_status("shipped").has_value());
  EXPECT_FALSE(parse_order_status("").has_value());
  EXPECT_FALSE(parse_order_status("pending ").has_value());
}

Order sample_order() {
  Order order;
  order.order_id = "ORD-20260102-testrun1-0000001";
  order.customer_id = "CUST-00001";
  order.customer_name = "Alice Anderson";
  order.customer_email = "alice.anderson@example.com";
  order.items.push_back({"ITEM-001", "Classic Burger", 2, Money::from_cents(899), Money::from_cents(1798)});
  order.total_amount = Money::from_cents(1798);
  order.created_at = at_ms(k_example_ms);
  return order;
}

TEST(Order, SameContentComparesEveryField) {
  const Order base = sample_order();
  EXPECT_TRUE(same_content(base, base));
  EXPECT_TRUE(same_content(base, Order(base)));

  const auto differs = [&base](auto mutate) {
    Order other = base;
    mutate(other);
    return !same_content(base, other) && !same_content(other, base);
  };
  EXPECT_TRUE(differs([](Order& o) { o.order_id += "x"; }));
  EXPECT_TRUE(differs([](Order& o) { o.customer_id = "CUST-00002"; }));
  EXPECT_TRUE(differs([](Order& o) { o.customer_name = "Alice Andersen"; }));
  EXPECT_TRUE(differs([](Order& o) { o.customer_email = "a@example.com"; }));
  EXPECT_TRUE(differs([](Order& o) { o.total_amount = Money::from_cents(1799); }));
  EXPECT_TRUE(differs([](Order& o) { o.status = OrderStatus::confirmed; }));
  EXPECT_TRUE(differs([](Order& o) { o.created_at += milliseconds(1); }));
  EXPECT_TRUE(differs([](Order& o) { o.items.clear(); }));
  EXPECT_TRUE(differs([](Order& o) { o.items.push_back(o.items[0]); }));
  EXPECT_TRUE(differs([](Order& o) { o.items[0].item_id = "ITEM-002"; }));
  EXPECT_TRUE(differs([](Order& o) { o.items[0].name = "Classic burger"; }));
  EXPECT_TRUE(differs([](Order& o) { o.items[0].quantity = 3; }));
  EXPECT_TRUE(differs([](Order& o) { o.items[0].price = Money::from_cents(898); }));
  EXPECT_TRUE(differs([](Order& o) { o.items[0].subtotal = Money::from_cents(1797); }));
}

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ASCII that is longer than eight bytes"));
  EXPECT_TRUE(is_valid_utf8("Zo\xC3\xAB"));               // ë
  EXPECT_TRUE(is_valid_utf8("\xE5\xAF\xBF\xE5\x8F\xB8")); // 寿司
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x8D\x94"));         // 🍔
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));             // U+D7FF
  EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));             // U+E000
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF
  EXPECT_TRUE(is_valid_utf8(std::string_view("\0", 1)));  // U+0000 is valid UTF-8
}

TEST(Utf8, ReplacesEachBadByteWithTheReplacementCharacter) {
  EXPECT_EQ(replace_invalid_utf8(""), "");
  EXPECT_EQ(replace_invalid_utf8("Zo\xC3\xAB"), "Zo\xC3\xAB");
  EXPECT_EQ(replace_invalid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  // A surrogate (ED A0 80) is not well-formed: each of its bytes is replaced.
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(is_valid_utf8(replace_invalid_utf8("x\xC3")));
}

TEST(Utf8, FindsTheFirstBadByte) {
  EXPECT_EQ(first_invalid_utf8("abc\xFF"), 3U);
  EXPECT_EQ(first_invalid_utf8("abcdefghijk\x80"), 11U); // lone continuation after the fast path
  EXPECT_EQ(first_invalid_utf8("\xC0\xAF"), 0U);         // overlong '/'
  EXPECT_EQ(first_invalid_utf8("\xC1\xBF"), 0U);
  EXPECT_EQ(first_invalid_utf8("\xE0\x80\xAF"), 0U);     // overlong
  EXPECT_EQ(first_invalid_utf8("\xF0\x80\x80\xAF"), 0U); // overlong
  EXPECT_EQ(first_invalid_utf8("x\xED\xA0\x80"), 1U);    // U+D800 surrogate
  EXPECT_EQ(first_invalid_utf8("\xED\xBF\xBF"), 0U);     // U+DFFF surrogate
  EXPECT_EQ(first_invalid_utf8("\xF4\x90\x80\x80"), 0U); // above U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xF5\x80\x80\x80"), 0U);
  EXPECT_EQ(first_invalid_utf8("ok\xE5\xAF"), 2U); // truncated at the end
  EXPECT_EQ(first_invalid_utf8("\xE5\xAF"
                               "a"),
            0U); // truncated by ASCII
  EXPECT_EQ(first_invalid_utf8("\xF0\x9F\x8D"), 0U);
  EXPECT_FALSE(is_valid_utf8("\xFE"));
}

} // namespace
} // namespace foodpipe::domain
