#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "support/test_env.hpp"

namespace foodpipe::domain {
namespace {

using std::chrono::milliseconds;

constexpr Timestamp k_time{milliseconds(1'767'323'045'678)}; // 2026-01-02T03:04:05.678Z

// A valid message in the exact form encode() writes.
const std::string k_valid =
    R"({"order_id":"ORD-20260102-testrun1-0000001","customer_id":"CUST-00001",)"
    R"("customer_name":"Alice Anderson","customer_email":"alice.anderson@example.com",)"
    R"("items":[{"item_id":"ITEM-001","name":"Classic Burger","quantity":2,"price":8.99,"subtotal":17.98},)"
    R"({"item_id":"ITEM-011","name":"Coke","quantity":1,"price":2.49,"subtotal":2.49}],)"
    R"("total_amount":20.47,"status":"pending","created_at":"2026-01-02T03:04:05.678Z"})";

Order valid_order() {
  Order order;
  order.order_id = "ORD-20260102-testrun1-0000001";
  order.customer_id = "CUST-00001";
  order.customer_name = "Alice Anderson";
  order.customer_email = "alice.anderson@example.com";
  order.items.push_back({"ITEM-001", "Classic Burger", 2, Money::from_cents(899), Money::from_cents(1798)});
  order.items.push_back({"ITEM-011", "Coke", 1, Money::from_cents(249), Money::from_cents(249)});
  order.total_amount = Money::from_cents(2047);
  order.status = OrderStatus::pending;
  order.created_at = k_time;
  return order;
}

// k_valid with `from` (which must occur exactly once) replaced by `to`.
std::string with(std::string_view from, std::string_view to, std::string base = k_valid) {
  const auto at = base.find(from);
  if (at == std::string::npos || base.find(from, at + 1) != std::string::npos) {
    ADD_FAILURE() << "\"" << from << "\" must occur exactly once";
    return base;
  }
  return base.replace(at, from.size(), to);
}

Rejection rejection_of(std::string_view bytes) {
  const DecodeResult result = decode(bytes);
  if (result.ok()) {
    ADD_FAILURE() << "decoded although it should not: " << bytes.substr(0, 200);
    return {};
  }
  return result.rejection();
}

// ------------------------------------------------------------------ encoding

TEST(OrderJsonEncode, WritesTheDocumentedShapeExactly) {
  EXPECT_EQ(encode(valid_order()), k_valid);
}

TEST(OrderJsonEncode, AppendsToTheBuffer) {
  std::string out = "prefix:";
  encode(valid_order(), out);
  EXPECT_EQ(out, "prefix:" + k_valid);
  out.clear();
  encode(valid_order(), out);
  EXPECT_EQ(out, k_valid);
}

TEST(OrderJsonEncode, WritesAmountsAsNumbersWithTwoDecimals) {
  Order order = valid_order();
  order.items[0].price = Money::from_cents(900);
  order.items[0].subtotal = Money::from_cents(5);
  order.total_amount = Money::from_cents(-50);
  const std::string json = encode(order);
  EXPECT_NE(json.find(R"("price":9.00,"subtotal":0.05})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("total_amount":-0.50,)"), std::string::npos) << json;
}

TEST(OrderJsonEncode, WritesEveryStatus) {
  Order order = valid_order();
  order.status = OrderStatus::out_for_delivery;
  EXPECT_NE(encode(order).find(R"("status":"out_for_delivery")"), std::string::npos);
}

TEST(OrderJsonEncode, EscapesQuotesBackslashesAndControlCharacters) {
  Order order = valid_order();
  order.customer_name = "Say \"hi\" \\ back\n\t\x01\x1F\x7F/";
  const std::string json = encode(order);
  EXPECT_NE(json.find(R"("customer_name":"Say \"hi\" \\ back\n\t\u0001\u001F)"
                      "\x7F"
                      R"(/")"),
            std::string::npos)
      << json;
  const DecodeResult decoded = decode(json);
  ASSERT_TRUE(decoded.ok()) << decoded.rejection().detail;
  EXPECT_EQ(decoded.order().customer_name, order.customer_name);
}

TEST(OrderJsonEncode, EscapesAtEveryPositionOfAWord) {
  // The encoder scans eight bytes at a time for characters to escape; put each
  // kind of special character at every offset of the words and of the tail.
  for (const char special : {'"', '\\', '\n', '\x01', '\x1F'}) {
    for (std::size_t position = 0; position < 21; ++position) {
      Order order = valid_order();
      order.customer_name = std::string(21, 'a');
      order.customer_name[position] = special;
      const std::string json = encode(order);
      const DecodeResult decoded = decode(json);
      ASSERT_TRUE(decoded.ok()) << json;
      EXPECT_EQ(decoded.order().customer_name, order.customer_name) << position;
      EXPECT_EQ(json.size(), k_valid.size() - std::string("Alice Anderson").size() + 21 +
                                 (special == '"' || special == '\\' || special == '\n' ? 1 : 5))
          << "one escape, at " << position;
    }
  }
  // Bytes just around the special ones need no escape.
  Order order = valid_order();
  order.customer_name = std::string("\x20!#[]\x7F", 6) + "\xC2\x80";
  EXPECT_NE(encode(order).find(R"("customer_name":" !#[])"
                               "\x7F\xC2\x80"
                               R"(")"),
            std::string::npos);
}

TEST(OrderJsonEncode, KeepsUnicodeAsUtf8) {
  Order order = valid_order();
  order.customer_name = "Zoë O'Brien 山田太郎 🍔";
  order.items[0].name = "寿司 🍣";
  const std::string json = encode(order);
  // Written verbatim, not as \u escapes: the bytes are valid UTF-8 already.
  EXPECT_NE(json.find(R"("customer_name":"Zoë O'Brien 山田太郎 🍔")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("name":"寿司 🍣")"), std::string::npos) << json;
  const DecodeResult decoded = decode(json);
  ASSERT_TRUE(decoded.ok()) << decoded.rejection().detail;
  EXPECT_TRUE(same_content(decoded.order(), order));
}

TEST(OrderJsonEncode, RefusesInvalidUtf8AndLeavesTheBufferAlone) {
  for (const std::string& bad :
       {std::string("Zo\xEB"), std::string("\xED\xA0\x80"), std::string("\xC0\xAF")}) {
    Order order = valid_order();
    order.items[1].name = bad;
    std::string out = "kept";
    try {
      encode(order, out);
      ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("items[1].name"), std::string::npos) << error.what();
    }
    EXPECT_EQ(out, "kept");
  }
  Order order = valid_order();
  order.customer_email = "\xFF";
  try {
    (void)encode(order);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("customer_email"), std::string::npos) << error.what();
  }
}

// ------------------------------------------------------------------ round trips

TEST(OrderJsonRoundTrip, GeneratedOrdersSurviveEncodeAndDecode) {
  OrderGenerator generator(99, "roundtrip", [] { return k_time; });
  Order order;
  Order decoded;
  Rejection rejection;
  std::string json;
  std::string again;
  for (int i = 0; i < 2000; ++i) {
    generator.next(order);
    json.clear();
    encode(order, json);
    ASSERT_TRUE(decode_into(json, decoded, rejection)) << rejection.detail << "\n" << json;
    ASSERT_TRUE(same_content(decoded, order)) << json;
    again.clear();
    encode(decoded, again);
    ASSERT_EQ(again, json);
  }
}

TEST(OrderJsonRoundTrip, DecodeIntoReusesTheOrder) {
  Order order;
  Rejection rejection;
  ASSERT_TRUE(decode_into(k_valid, order, rejection));
  order.items.reserve(8);
  const auto* const items = order.items.data();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(decode_into(k_valid, order, rejection));
    EXPECT_EQ(order.items.data(), items);
  }
  EXPECT_TRUE(same_content(order, valid_order()));
  // After a rejection the next decode still starts from scratch.
  EXPECT_FALSE(decode_into(with(R"("quantity":1,)", R"("quantity":0,)"), order, rejection));
  ASSERT_TRUE(
      decode_into(with(R"(,{"item_id":"ITEM-011","name":"Coke","quantity":1,"price":2.49,"subtotal":2.49})",
                       "", with("20.47", "17.98")),
                  order, rejection))
      << rejection.detail;
  EXPECT_EQ(order.items.size(), 1U);
}

TEST(OrderJsonDecode, ReadsTheValidExample) {
  const DecodeResult result = decode(k_valid);
  ASSERT_TRUE(result.ok()) << result.rejection().detail;
  EXPECT_TRUE(same_content(result.order(), valid_order()));
}

TEST(OrderJsonDecode, DecimalsAreExact) {
  const std::string json =
      with(R"([{"item_id":"ITEM-001","name":"Classic Burger","quantity":2,"price":8.99,"subtotal":17.98},)"
           R"({"item_id":"ITEM-011","name":"Coke","quantity":1,"price":2.49,"subtotal":2.49}])",
           R"([{"item_id":"A","name":"a","quantity":1,"price":0.10,"subtotal":0.10},)"
           R"({"item_id":"B","name":"b","quantity":1,"price":0.20,"subtotal":0.20}])",
           with("20.47", "0.30"));
  const DecodeResult result = decode(json);
  ASSERT_TRUE(result.ok()) << result.rejection().detail;
  EXPECT_EQ(result.order().total_amount.cents(), 30);
  // 0.1 x 3 is 0.30 exactly too.
  EXPECT_TRUE(decode(with(R"("quantity":1,"price":2.49,"subtotal":2.49)",
                          R"("quantity":3,"price":0.1,"subtotal":0.3)", with("20.47", "18.28")))
                  .ok());
}

TEST(OrderJsonDecode, SameContentIgnoresSpellingDifferences) {
  // Other key order, whitespace, "8.9" for 8.90, "2.490", an offset instead of Z,
  // escaped characters and unknown fields: the same order.
  const std::string other =
      " {\n \"created_at\" : \"2026-01-02T05:04:05.678+02:00\", \"status\":\"pending\", "
      "\"total_amount\":20.470,"
      R"("x-trace":{"a":[1,2,{"b":null}]},)"
      R"("items":[{"subtotal":17.98,"price":8.99,"quantity":2,)"
      R"("name":"Classic\u0020Burger","item_id":"ITEM-001"},)"
      R"({"item_id":"ITEM-011","name":"Coke","quantity":1,"price":2.490,"subtotal":2.49,"note":"cold"}],)"
      R"("customer_email":"alice.anderson@example.com","customer_name":"Alice Anderson",)"
      R"("customer_id":"CUST-00001","order_id":"ORD-20260102-testrun1-0000001"} )";
  const DecodeResult result = decode(other);
  ASSERT_TRUE(result.ok()) << result.rejection().detail;
  EXPECT_TRUE(same_content(result.order(), decode(k_valid).order()));
  EXPECT_EQ(encode(result.order()), k_valid);
}

TEST(OrderJsonDecode, AcceptsEveryStatusAndTimestampForms) {
  for (const char* status :
       {"pending", "confirmed", "preparing", "out_for_delivery", "delivered", "cancelled"}) {
    const DecodeResult result =
        decode(with(R"("status":"pending")", std::string(R"("status":")") + status + "\""));
    ASSERT_TRUE(result.ok()) << status;
    EXPECT_EQ(to_string(result.order().status), status);
  }
  const DecodeResult offset = decode(with("2026-01-02T03:04:05.678Z", "2026-01-01T22:04:05.678912-05:00"));
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(offset.order().created_at, k_time);
}

TEST(OrderJsonDecode, AcceptsEscapedSurrogatePairs) {
  const DecodeResult result = decode(with("Alice Anderson", R"(Alice \ud83c\udf54)"));
  ASSERT_TRUE(result.ok()) << result.rejection().detail;
  EXPECT_EQ(result.order().customer_name, "Alice 🍔");
}

TEST(OrderJsonDecode, SkipsUnknownFieldsAtAnyDepth) {
  const std::string json =
      with(R"("status":"pending")",
           R"("status":"pending","meta":{"tags":["a",{"deep":{"deeper":[[[]]]}}],"n":1e300,)"
           R"("t":true,"f":false,"z":null,"items":"not the real items"})");
  const DecodeResult result = decode(json);
  ASSERT_TRUE(result.ok()) << result.rejection().detail;
  EXPECT_TRUE(same_content(result.order(), valid_order()));
}

TEST(OrderJsonDecode, SurvivesDeepNestingWithoutRecursion) {
  // 100,000 levels would overflow the C stack of a recursive parser.
  constexpr std::size_t k_depth = 100'000;
  const std::string deep = std::string(k_depth, '[') + std::string(k_depth, ']');
  Rejection rejection = rejection_of(deep);
  EXPECT_EQ(rejection.code, ReasonCode::not_an_object) << rejection.detail;

  rejection = rejection_of(std::string(k_depth, '['));
  EXPECT_EQ(rejection.code, ReasonCode::invalid_json) << rejection.detail;

  // Deep nesting inside an unknown field of a valid order is fine.
  std::string nested = std::string(k_depth, '[') + std::string(k_depth, ']');
  const DecodeResult inside = decode(with(R"("status":"pending")", R"("status":"pending","junk":)" + nested));
  EXPECT_TRUE(inside.ok()) << inside.rejection().detail;

  std::string objects;
  for (std::size_t i = 0; i < 20'000; ++i) {
    objects += R"({"a":)";
  }
  objects += "1" + std::string(20'000, '}');
  const DecodeResult deep_objects =
      decode(with(R"("status":"pending")", R"("status":"pending","junk":)" + objects));
  EXPECT_TRUE(deep_objects.ok()) << deep_objects.rejection().detail;
}

// ------------------------------------------------------------------ rejections

struct Case {
  const char* name;
  std::string bytes;
  ReasonCode code;
  std::string detail; // exact, or a prefix when it ends with "..."
};

void expect_case(const Case& c) {
  const Rejection rejection = rejection_of(c.bytes);
  EXPECT_EQ(to_string(rejection.code), to_string(c.code)) << c.name << ": " << rejection.detail;
  if (c.detail.size() >= 3 && c.detail.ends_with("...")) {
    EXPECT_TRUE(rejection.detail.starts_with(c.detail.substr(0, c.detail.size() - 3)))
        << c.name << ": " << rejection.detail;
  } else {
    EXPECT_EQ(rejection.detail, c.detail) << c.name;
  }
}

TEST(OrderJsonDecode, RefusesNullsAndOversizedMessages) {
  Rejection rejection = rejection_of(std::string_view()); // a Kafka tombstone: no value at all
  EXPECT_EQ(rejection.code, ReasonCode::null_value);
  EXPECT_EQ(rejection.detail, "the message value is null (a tombstone)");
  expect_case({"null document", " null ", ReasonCode::null_value, "the document is null"});

  // An empty but present value is not a tombstone.
  rejection = rejection_of(std::string_view("", 0));
  EXPECT_EQ(rejection.code, ReasonCode::invalid_json) << rejection.detail;

  // The limit is inclusive.
  const std::string padded =
      with(R"("status":"pending")",
           R"("status":"pending","pad":")" + std::string(256 * 1024 - k_valid.size() - 9, 'x') + "\"");
  ASSERT_EQ(padded.size(), 256U * 1024U);
  EXPECT_TRUE(decode(padded).ok());
  const std::string over = with(R"("pad":")", R"("pad":"x)", padded);
  expect_case({"one byte over", over, ReasonCode::too_large,
               "the message is 262145 bytes, more than the 262144 allowed"});
  EXPECT_TRUE(decode(over, DecodeLimits{300'000}).ok());
}

TEST(OrderJsonDecode, CustomLimitApplies) {
  const DecodeResult result = decode(k_valid, DecodeLimits{100});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.rejection().code, ReasonCode::too_large);
}

TEST(OrderJsonDecode, RefusesBytesThatAreNotUtf8OrNotOneJsonDocument) {
  const std::vector<Case> cases = {
      {"latin-1 byte", with("Alice", "Alic\xE9"), ReasonCode::invalid_utf8, "invalid UTF-8 at byte 92"},
      {"encoded surrogate", with("Alice", "\xED\xA0\x80"), ReasonCode::invalid_utf8,
       "invalid UTF-8 at byte 88"},
      {"overlong", with("Alice", "\xC0\xAF"), ReasonCode::invalid_utf8, "invalid UTF-8 at byte 88"},
      {"truncated sequence", k_valid.substr(0, 20) + "\xE5\xAF", ReasonCode::invalid_utf8,
       "invalid UTF-8 at byte 20"},
      {"escaped lone low surrogate", with("Alice", R"(\udc00)"), ReasonCode::invalid_json,
       "customer_name: string escapes an unpaired UTF-16 surrogate"},
      {"escaped lone high surrogate", with("Alice", R"(\ud800x)"), ReasonCode::invalid_json, "offset ..."},
      {"escaped lone surrogate in an item", with("Coke", R"(\udfff)"), ReasonCode::invalid_json,
       "items[1].name: string escapes an unpaired UTF-16 surrogate"},
      {"empty", std::string(" "), ReasonCode::invalid_json, "offset 1: The document is empty."},
      {"truncated", k_valid.substr(0, k_valid.size() - 1), ReasonCode::invalid_json, "offset ..."},
      {"trailing data", k_valid + "{}", ReasonCode::invalid_json, "offset ..."},
      {"two documents", k_valid + "\n" + k_valid, ReasonCode::invalid_json, "offset ..."},
      {"NUL byte", with("Alice", std::string("Al\0ce", 5)), ReasonCode::invalid_json,
       "NUL byte at offset 90"},
      {"NUL after the document", k_valid + std::string("\0garbage", 8), ReasonCode::invalid_json,
       "NUL byte at ..."},
      {"comment", "/* x */" + k_valid, ReasonCode::invalid_json, "offset ..."},
      {"trailing comma", with("}],", ",}],"), ReasonCode::invalid_json, "offset ..."},
      {"single quotes", with(R"("status":"pending")", R"("status":'pending')"), ReasonCode::invalid_json,
       "offset ..."},
      {"NaN", with("20.47", "NaN"), ReasonCode::invalid_json, "offset ..."},
      {"leading zero", with("20.47", "020.47"), ReasonCode::invalid_json, "offset ..."},
      {"raw control character", with("Alice", "Al\tce"), ReasonCode::invalid_json, "offset ..."},
      {"bad escape", with("Alice", R"(Al\xce)"), ReasonCode::invalid_json, "offset ..."},
      // A syntax error wins over field problems met before it.
      {"syntax after a bad field", with(R"("order_id":"ORD)", R"("order_id":7,"x":"ORD)") + "x",
       ReasonCode::invalid_json, "offset ..."},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
}

TEST(OrderJsonDecode, RefusesRepeatedKeysInAnyObject) {
  const std::vector<Case> cases = {
      {"root field", with(R"("status":"pending")", R"("status":"pending","order_id":"ORD-2")"),
       ReasonCode::invalid_json, R"(duplicate key "order_id")"},
      {"same value", with(R"("status":"pending")", R"("status":"pending","status":"pending")"),
       ReasonCode::invalid_json, R"(duplicate key "status")"},
      {"escaped spelling", with(R"("status":"pending")", R"("status":"pending","\u0073tatus":"pending")"),
       ReasonCode::invalid_json, R"(duplicate key "status")"},
      {"unknown root field", with(R"("status":"pending")", R"("status":"pending","x":1,"x":2)"),
       ReasonCode::invalid_json, R"(duplicate key "x")"},
      {"item field", with(R"("price":2.49,)", R"("price":2.49,"price":2.49,)"), ReasonCode::invalid_json,
       R"(items[1]: duplicate key "price")"},
      {"unknown item field", with(R"("price":2.49,)", R"("price":2.49,"n":1,"n":1,)"),
       ReasonCode::invalid_json, R"(items[1]: duplicate key "n")"},
      {"nested object", with(R"("status":"pending")", R"("status":"pending","m":{"a":1,"b":{"a":1},"a":2})"),
       ReasonCode::invalid_json, R"(nested object: duplicate key "a")"},
      {"inside a non-object document", R"([{"a":1,"a":1}])", ReasonCode::invalid_json,
       R"(nested object: duplicate key "a")"},
      {"key that is not Unicode", R"([{"\udc00":1,"\udc00":1}])", ReasonCode::invalid_json,
       R"(nested object: duplicate key "???")"},
      {"long key is clipped",
       with(R"("status":"pending")",
            R"("status":"pending",")" + std::string(60, 'k') + R"(":1,")" + std::string(60, 'k') + R"(":1)"),
       ReasonCode::invalid_json, R"(duplicate key ")" + std::string(40, 'k') + R"(...")"},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
  // The same key in different objects is fine.
  EXPECT_TRUE(
      decode(with(R"("status":"pending")", R"("status":"pending","m":{"a":1,"b":{"a":1}},"n":{"a":1})"))
          .ok());
}

TEST(OrderJsonDecode, RefusesDocumentsThatAreNotObjects) {
  const std::vector<Case> cases = {
      {"array", "[" + k_valid + "]", ReasonCode::not_an_object, "the document is an array, not an object"},
      {"string", R"("order")", ReasonCode::not_an_object, "the document is a string, not an object"},
      {"number", "42", ReasonCode::not_an_object, "the document is a number, not an object"},
      {"boolean", "true", ReasonCode::not_an_object, "the document is a boolean, not an object"},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
}

TEST(OrderJsonDecode, NamesTheMissingField) {
  const std::vector<Case> cases = {
      {"order_id", with(R"("order_id":"ORD-20260102-testrun1-0000001",)", ""), ReasonCode::missing_field,
       R"(missing field "order_id")"},
      {"customer_id", with(R"("customer_id":"CUST-00001",)", ""), ReasonCode::missing_field,
       R"(missing field "customer_id")"},
      {"customer_name", with(R"("customer_name":"Alice Anderson",)", ""), ReasonCode::missing_field,
       R"(missing field "customer_name")"},
      {"customer_email", with(R"("customer_email":"alice.anderson@example.com",)", ""),
       ReasonCode::missing_field, R"(missing field "customer_email")"},
      {"items",
       with(k_valid.substr(k_valid.find(R"("items")"),
                           k_valid.find(R"("total_amount")") - k_valid.find(R"("items")")),
            ""),
       ReasonCode::missing_field, R"(missing field "items")"},
      {"total_amount", with(R"("total_amount":20.47,)", ""), ReasonCode::missing_field,
       R"(missing field "total_amount")"},
      {"status", with(R"("status":"pending",)", ""), ReasonCode::missing_field, R"(missing field "status")"},
      {"created_at", with(R"(,"created_at":"2026-01-02T03:04:05.678Z")", ""), ReasonCode::missing_field,
       R"(missing field "created_at")"},
      {"item_id", with(R"("item_id":"ITEM-011",)", ""), ReasonCode::missing_field,
       R"(items[1]: missing field "item_id")"},
      {"name", with(R"("name":"Coke",)", ""), ReasonCode::missing_field, R"(items[1]: missing field "name")"},
      {"quantity", with(R"("quantity":2,)", ""), ReasonCode::missing_field,
       R"(items[0]: missing field "quantity")"},
      {"price", with(R"("price":2.49,)", ""), ReasonCode::missing_field,
       R"(items[1]: missing field "price")"},
      {"subtotal", with(R"(,"subtotal":17.98)", ""), ReasonCode::missing_field,
       R"(items[0]: missing field "subtotal")"},
      {"everything", "{}", ReasonCode::missing_field, R"(missing field "order_id")"},
      // The first problem in field order wins, wherever it sits in the text.
      {"first in field order",
       with(R"("order_id":"ORD-20260102-testrun1-0000001",)", "",
            with(R"("status":"pending")", R"("status":7)")),
       ReasonCode::missing_field, R"(missing field "order_id")"},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
}

TEST(OrderJsonDecode, NamesTheFieldWithTheWrongType) {
  const std::vector<Case> cases = {
      {"order_id number", with(R"("ORD-20260102-testrun1-0000001")", "1"), ReasonCode::wrong_type,
       "order_id: expected string, got number"},
      {"customer_id null", with(R"("CUST-00001")", "null"), ReasonCode::wrong_type,
       "customer_id: expected string, got null"},
      {"customer_name array", with(R"("Alice Anderson")", R"(["Alice"])"), ReasonCode::wrong_type,
       "customer_name: expected string, got array"},
      {"customer_email object", with(R"("alice.anderson@example.com")", R"({"at":"example.com"})"),
       ReasonCode::wrong_type, "customer_email: expected string, got object"},
      {"items object", with(R"("items":[)", R"("items":{"list":[)", with("}],", "}]},")),
       ReasonCode::wrong_type, "items: expected array, got object"},
      {"items string",
       with(k_valid.substr(k_valid.find("[{"), k_valid.find("],") + 1 - k_valid.find("[{")), R"("two")"),
       ReasonCode::wrong_type, "items: expected array, got string"},
      {"total as string", with("20.47", R"("20.47")"), ReasonCode::wrong_type,
       "total_amount: expected number, got string"},
      {"status boolean", with(R"("pending")", "true"), ReasonCode::wrong_type,
       "status: expected string, got boolean"},
      {"created_at number", with(R"("2026-01-02T03:04:05.678Z")", "1767323045678"), ReasonCode::wrong_type,
       "created_at: expected string, got number"},
      {"item not an object", with(R"({"item_id":"ITEM-011")", R"(7,{"item_id":"ITEM-011")"),
       ReasonCode::wrong_type, "items[1]: expected object, got number"},
      {"item is an array", with(R"({"item_id":"ITEM-001")", R"([],{"item_id":"ITEM-001")"),
       ReasonCode::wrong_type, "items[0]: expected object, got array"},
      {"item_id number", with(R"("ITEM-011")", "11"), ReasonCode::wrong_type,
       "items[1].item_id: expected string, got number"},
      {"name object", with(R"("Coke")", "{}"), ReasonCode::wrong_type,
       "items[1].name: expected string, got object"},
      {"quantity string", with(R"("quantity":2)", R"("quantity":"2")"), ReasonCode::wrong_type,
       "items[0].quantity: expected number, got string"},
      {"price string", with("8.99,", R"("8.99",)"), ReasonCode::wrong_type,
       "items[0].price: expected number, got string"},
      {"subtotal null", with("17.98}", "null}"), ReasonCode::wrong_type,
       "items[0].subtotal: expected number, got null"},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
}

TEST(OrderJsonDecode, NamesTheFieldWithTheInvalidValue) {
  const std::vector<Case> cases = {
      {"empty order_id", with(R"("ORD-20260102-testrun1-0000001")", R"("")"), ReasonCode::invalid_value,
       "order_id: empty"},
      {"long order_id", with("ORD-20260102-testrun1-0000001", std::string(51, 'O')),
       ReasonCode::invalid_value, "order_id: longer than 50 bytes"},
      {"empty customer_id", with(R"("CUST-00001")", R"("")"), ReasonCode::invalid_value,
       "customer_id: empty"},
      {"long customer_id", with("CUST-00001", std::string(51, 'C')), ReasonCode::invalid_value,
       "customer_id: longer than 50 bytes"},
      {"empty name", with(R"("Alice Anderson")", R"("")"), ReasonCode::invalid_value, "customer_name: empty"},
      {"long name", with("Alice Anderson", std::string(201, 'a')), ReasonCode::invalid_value,
       "customer_name: longer than 200 bytes"},
      {"NUL in a name", with("Alice", R"(Al\u0000ce)"), ReasonCode::invalid_value,
       "customer_name: contains U+0000"},
      {"email without @", with("alice.anderson@example.com", "nobody"), ReasonCode::invalid_value,
       R"(customer_email: "nobody" has no '@')"},
      {"empty items",
       with(k_valid.substr(k_valid.find("[{"), k_valid.find("],") + 1 - k_valid.find("[{")), "[]"),
       ReasonCode::invalid_value, "items: empty"},
      {"empty item_id", with(R"("ITEM-011")", R"("")"), ReasonCode::invalid_value, "items[1].item_id: empty"},
      {"long item name", with("Coke", std::string(201, 'c')), ReasonCode::invalid_value,
       "items[1].name: longer than 200 bytes"},
      {"quantity 0", with(R"("quantity":2)", R"("quantity":0)"), ReasonCode::invalid_value,
       "items[0].quantity: 0 is not in 1..1000"},
      {"quantity negative", with(R"("quantity":2)", R"("quantity":-2)"), ReasonCode::invalid_value,
       "items[0].quantity: -2 is not in 1..1000"},
      {"quantity too big", with(R"("quantity":2)", R"("quantity":1001)"), ReasonCode::invalid_value,
       "items[0].quantity: 1001 is not in 1..1000"},
      {"quantity huge", with(R"("quantity":2)", R"("quantity":99999999999999999999999)"),
       ReasonCode::invalid_value, "items[0].quantity: 99999999999999999999999 is not in 1..1000"},
      {"quantity fraction", with(R"("quantity":2)", R"("quantity":2.0)"), ReasonCode::invalid_value,
       "items[0].quantity: 2.0 is not a whole number"},
      {"quantity exponent", with(R"("quantity":2)", R"("quantity":2e0)"), ReasonCode::invalid_value,
       "items[0].quantity: 2e0 is not a whole number"},
      {"price zero", with("8.99,", "0,"), ReasonCode::invalid_value, "items[0].price: 0.00 is not positive"},
      {"price negative", with("8.99,", "-8.99,"), ReasonCode::invalid_value,
       "items[0].price: -8.99 is not positive"},
      {"price three decimals", with("8.99,", "8.999,"), ReasonCode::invalid_value,
       "items[0].price: 8.999 has more than two decimals"},
      {"price exponent", with("8.99,", "899e-2,"), ReasonCode::invalid_value,
       "items[0].price: 899e-2 has an exponent"},
      {"price overflow", with("8.99,", "92233720368547758.08,"), ReasonCode::invalid_value,
       "items[0].price: 92233720368547758.08 is out of range"},
      {"price above the column", with("8.99,", "100000000,"), ReasonCode::invalid_value,
       "items[0].price: 100000000.00 is above 99999999.99"},
      {"subtotal zero", with("17.98}", "0.00}"), ReasonCode::invalid_value,
       "items[0].subtotal: 0.00 is not positive"},
      {"total negative", with("20.47", "-20.47"), ReasonCode::invalid_value,
       "total_amount: -20.47 is not positive"},
      {"unknown status", with(R"("pending")", R"("shipped")"), ReasonCode::invalid_value,
       R"(status: unknown value "shipped")"},
      {"status in capitals", with(R"("pending")", R"("PENDING")"), ReasonCode::invalid_value,
       R"(status: unknown value "PENDING")"},
      {"status with a control character", with(R"("pending")", R"("pend\ning")"), ReasonCode::invalid_value,
       R"(status: unknown value "pend?ing")"},
      {"bad month", with("2026-01-02T03", "2026-13-02T03"), ReasonCode::invalid_value,
       R"(created_at: "2026-13-02T03:04:05.678Z" is not a real date and time of day)"},
      {"no offset", with("05.678Z", "05.678"), ReasonCode::invalid_value,
       R"(created_at: "2026-01-02T03:04:05.678" has no offset (Z or +HH:MM))"},
      {"epoch millis as text", with(R"("2026-01-02T03:04:05.678Z")", R"("1767323045678")"),
       ReasonCode::invalid_value, R"(created_at: "1767323045678" is not an RFC 3339 date-time with offset)"},
      // invalid_value wins over a total mismatch anywhere.
      {"value before mismatch", with("17.98}", "17.00}", with(R"("quantity":1,)", R"("quantity":0,)")),
       ReasonCode::invalid_value, "items[1].quantity: 0 is not in 1..1000"},
      // Items are reported in index order, each item's fields in field order.
      {"first item first",
       with(R"("name":"Coke")", R"("name":"")", with(R"("item_id":"ITEM-001")", R"("item_id":"")")),
       ReasonCode::invalid_value, "items[0].item_id: empty"},
      // An item error is reported before the fields after "items".
      {"item before total", with(R"("name":"Coke")", R"("name":"")", with(R"("total_amount":20.47,)", "")),
       ReasonCode::invalid_value, "items[1].name: empty"},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
}

// Every created_at that parse_timestamp() refuses is invalid_value with a detail
// saying why; none of them may reach PostgreSQL, where year 0000 would make a
// db_rejected row (timestamptz has no year 0).
TEST(OrderJsonDecode, RefusesTimesOutsideTheStorableRangeAsInvalidValue) {
  const auto at = [](std::string_view time) {
    return with("2026-01-02T03:04:05.678Z", time);
  };
  const Case cases[] = {
      {"year 0000", at("0000-01-01T00:00:00.000Z"), ReasonCode::invalid_value,
       R"(created_at: "0000-01-01T00:00:00.000Z" is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999Z)"},
      {"year 0000 by an offset", at("0001-01-01T00:30:00+01:00"), ReasonCode::invalid_value,
       R"(created_at: "0001-01-01T00:30:00+01:00" is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999Z)"},
      {"year 10000 by an offset", at("9999-12-31T23:30:00-01:00"), ReasonCode::invalid_value,
       R"(created_at: "9999-12-31T23:30:00-01:00" is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999Z)"},
      {"leap second", at("2016-12-31T23:59:60Z"), ReasonCode::invalid_value,
       R"(created_at: "2016-12-31T23:59:60Z" is a leap second (:60), which is not accepted)"},
      {"leap second at the end of time", at("9999-12-31T23:59:60Z"), ReasonCode::invalid_value,
       R"(created_at: "9999-12-31T23:59:60Z" is a leap second (:60), which is not accepted)"},
      {"offset of 24 hours", at("2026-01-02T03:04:05.678+24:00"), ReasonCode::invalid_value,
       R"(created_at: "2026-01-02T03:04:05.678+24:00" has an offset beyond 23:59)"},
      {"20 fraction digits", at("2026-01-02T03:04:05.67812345678901234567Z"), ReasonCode::invalid_value,
       R"(created_at: "2026-01-02T03:04:05.67812345678901234567..." has more than 9 fraction digits)"},
      {"no Z", at("2026-01-02T03:04:05.678"), ReasonCode::invalid_value,
       R"(created_at: "2026-01-02T03:04:05.678" has no offset (Z or +HH:MM))"},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
  // The first and last storable instants are orders like any other.
  for (const char* time : {"0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59Z"}) {
    const DecodeResult result = decode(at(time));
    ASSERT_TRUE(result.ok()) << time << ": " << result.rejection().detail;
    const DecodeResult again = decode(encode(result.order()));
    ASSERT_TRUE(again.ok()) << time;
    EXPECT_EQ(again.order(), result.order()) << time;
  }
}

TEST(OrderJsonDecode, LimitsTheNumberOfItems) {
  std::string items;
  for (std::size_t i = 0; i < k_max_items; ++i) {
    items += R"({"item_id":"A","name":"a","quantity":1,"price":0.01,"subtotal":0.01},)";
  }
  const std::string list = k_valid.substr(k_valid.find("[{"), k_valid.find("],") + 1 - k_valid.find("[{"));
  const std::string hundred =
      with(list, "[" + items.substr(0, items.size() - 1) + "]", with("20.47", "1.00"));
  EXPECT_TRUE(decode(hundred).ok());
  expect_case({"101 items",
               with(list, "[" + items + items.substr(0, items.find("},") + 1) + "]", with("20.47", "1.01")),
               ReasonCode::invalid_value, "items: 101 line items, more than 100"});
}

TEST(OrderJsonDecode, ChecksTotalsInExactCents) {
  const std::vector<Case> cases = {
      {"subtotal off by a cent", with("17.98}", "17.97}", with("20.47", "20.46")), ReasonCode::total_mismatch,
       "items[0].subtotal: 17.97 is not 8.99 x 2 = 17.98"},
      {"subtotal of a later item",
       with(R"("quantity":1,"price":2.49,"subtotal":2.49)", R"("quantity":1,"price":2.49,"subtotal":4.98)",
            with("20.47", "22.96")),
       ReasonCode::total_mismatch, "items[1].subtotal: 4.98 is not 2.49 x 1 = 2.49"},
      {"total off by a cent", with("20.47", "20.48"), ReasonCode::total_mismatch,
       "total_amount: 20.48 is not the sum of the subtotals, 20.47"},
      {"total of one item only", with("20.47", "17.98"), ReasonCode::total_mismatch,
       "total_amount: 17.98 is not the sum of the subtotals, 20.47"},
  };
  for (const Case& c : cases) {
    expect_case(c);
  }
}

// ------------------------------------------------------------------ corpus

// test/data/bad-messages/<reason>.json: one message per reason code that
// decode() can produce, shared with the consumer's tests.
TEST(OrderJsonDecode, BadMessageCorpusHasOneFilePerReasonAndEachIsRejectedForIt) {
  const std::filesystem::path dir = std::filesystem::path(test::source_dir()) / "test/data/bad-messages";
  std::set<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    const std::string reason = entry.path().stem().string();
    std::ifstream file(entry.path(), std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    const std::string bytes = content.str();
    const auto expected = parse_reason_code(reason);
    ASSERT_TRUE(expected.has_value()) << entry.path() << " is not named for a reason code";
    const DecodeResult result = decode(bytes);
    ASSERT_FALSE(result.ok()) << entry.path();
    EXPECT_EQ(to_string(result.rejection().code), reason)
        << entry.path() << ": " << result.rejection().detail;
    EXPECT_FALSE(result.rejection().detail.empty());
    found.insert(reason);
  }
  const std::set<std::string> decodable = {"invalid_utf8",   "invalid_json", "not_an_object",
                                           "missing_field",  "wrong_type",   "invalid_value",
                                           "total_mismatch", "too_large",    "null_value"};
  EXPECT_EQ(found, decodable);
}

TEST(ReasonCode, StringsAreStableAndRoundTrip) {
  const std::vector<std::pair<ReasonCode, std::string_view>> all = {
      {ReasonCode::invalid_utf8, "invalid_utf8"},
      {ReasonCode::invalid_json, "invalid_json"},
      {ReasonCode::not_an_object, "not_an_object"},
      {ReasonCode::missing_field, "missing_field"},
      {ReasonCode::wrong_type, "wrong_type"},
      {ReasonCode::invalid_value, "invalid_value"},
      {ReasonCode::total_mismatch, "total_mismatch"},
      {ReasonCode::too_large, "too_large"},
      {ReasonCode::null_value, "null_value"},
      {ReasonCode::conflicting_duplicate, "conflicting_duplicate"},
      {ReasonCode::db_rejected, "db_rejected"},
      {ReasonCode::unsupported_schema, "unsupported_schema"},
      {ReasonCode::illegal_transition, "illegal_transition"},
      {ReasonCode::unknown_order, "unknown_order"},
  };
  for (const auto& [code, name] : all) {
    EXPECT_EQ(to_string(code), name);
    EXPECT_EQ(parse_reason_code(name), code);
  }
  // Stored as text, but appended at the end all the same, so that no value ever moves.
  EXPECT_EQ(static_cast<int>(ReasonCode::db_rejected), 10);
  EXPECT_EQ(static_cast<int>(ReasonCode::unsupported_schema), 11);
  EXPECT_EQ(static_cast<int>(ReasonCode::unknown_order), 13);
  EXPECT_FALSE(parse_reason_code("Invalid_json").has_value());
  EXPECT_FALSE(parse_reason_code("").has_value());
}

} // namespace
} // namespace foodpipe::domain
