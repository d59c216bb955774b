// docs/schema/*.schema.json against what the encoders write: generated orders
// and their lifecycle events, and every JSON example in docs/messages.md, pass
// RapidJSON's schema validator; a few broken messages do not (so the schema is
// seen to be enforced); the schemas' bounds are the decoders' constants.

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "domain/generator.hpp"
#include "domain/lifecycle.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"
#include "support/test_env.hpp"

namespace foodpipe::domain {
namespace {

using std::chrono::milliseconds;

std::string read_text(const std::string& relative) {
  const std::string path = test::source_dir() + "/" + relative;
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text.substr(0, 200);
  return document;
}

// One schema file, loaded once per test.
class Schema {
public:
  explicit Schema(const std::string& relative) : m_json(parse(read_text(relative))), m_schema(m_json) {}

  // "" when `message` is valid; otherwise the keyword and the place that failed.
  std::string problem(const std::string& message) const {
    rapidjson::Document document = parse(message);
    rapidjson::SchemaValidator validator(m_schema);
    if (document.Accept(validator)) {
      return "";
    }
    rapidjson::StringBuffer where;
    validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
    return std::string(validator.GetInvalidSchemaKeyword()) + " at " + where.GetString();
  }

  const rapidjson::Document& json() const { return m_json; }

private:
  rapidjson::Document m_json;
  rapidjson::SchemaDocument m_schema;
};

const std::string k_order_schema = "docs/schema/order.schema.json";
const std::string k_event_schema = "docs/schema/order_status.schema.json";

TEST(MessageSchema, BothAreDraft202012) {
  for (const std::string& file : {k_order_schema, k_event_schema}) {
    const Schema schema(file);
    ASSERT_TRUE(schema.json().IsObject());
    EXPECT_STREQ(schema.json()["$schema"].GetString(), "https://json-schema.org/draft/2020-12/schema");
  }
}

TEST(MessageSchema, GeneratedOrdersAndTheirEventsPass) {
  const Schema orders(k_order_schema);
  const Schema events(k_event_schema);
  OrderGenerator generator(42, "schema", [] { return Timestamp{milliseconds(1'767'323'045'678)}; });
  Order order;
  std::set<OrderStatus> seen;
  std::size_t with_reason = 0;
  for (int i = 0; i < 300; ++i) {
    generator.next(order);
    const std::string json = encode(order);
    ASSERT_EQ(orders.problem(json), "") << json;
    Xoshiro256StarStar random = lifecycle_random(generator.seed(), generator.sequence());
    for (const PlannedEvent& planned : plan_lifecycle(order, random)) {
      const std::string event = encode(planned.event);
      ASSERT_EQ(events.problem(event), "") << event;
      seen.insert(planned.event.status);
      with_reason += planned.event.reason ? 1U : 0U;
    }
  }
  // Every status an event can carry was among them, cancellations with their reasons.
  EXPECT_EQ(seen.size(), 5U);
  EXPECT_GT(with_reason, 0U);
  // next_encoded(), the producer's fast path, writes what encode() writes; check it too.
  std::string json;
  generator.next_encoded(json);
  EXPECT_EQ(orders.problem(json), "") << json;
}

TEST(MessageSchema, EncodedEdgesPass) {
  const Schema orders(k_order_schema);
  const Schema events(k_event_schema);
  Order order;
  order.order_id = std::string(k_max_order_id_size, 'o');
  order.customer_id = "C";
  order.customer_name = "Zoë \"Z\" O'Brien\t";
  order.customer_email = "@";
  order.items.push_back({"I", "n", k_max_quantity, k_max_amount, k_max_amount});
  order.total_amount = k_max_amount;
  order.status = OrderStatus::cancelled;
  order.created_at = k_min_timestamp;
  EXPECT_EQ(orders.problem(encode(order)), "") << encode(order);
  order.items[0] = {"I", "n", 1, Money::from_cents(1), Money::from_cents(1)};
  order.total_amount = Money::from_cents(1);
  order.created_at = k_max_timestamp;
  EXPECT_EQ(orders.problem(encode(order)), "") << encode(order);

  OrderStatusEvent event;
  event.event_id = std::string(k_max_event_id_size, 'e');
  event.order_id = "O";
  event.customer_id = "C";
  event.status = OrderStatus::pending;
  event.occurred_at = k_max_timestamp;
  event.reason = std::string(k_max_reason_size, 'r');
  EXPECT_EQ(events.problem(encode(event)), "") << encode(event);
}

TEST(MessageSchema, BrokenMessagesFailWhereExpected) {
  const Schema orders(k_order_schema);
  const Schema events(k_event_schema);
  const std::string event = R"({"event_id":"E","order_id":"O","customer_id":"C","status":"confirmed",)"
                            R"("occurred_at":"2026-01-02T03:04:09.911Z"})";
  ASSERT_EQ(events.problem(event), "");
  const auto broken = [&](std::string_view from, std::string_view to) {
    std::string copy = event;
    copy.replace(copy.find(from), from.size(), to);
    return events.problem(copy);
  };
  EXPECT_EQ(broken(R"("status":"confirmed")", R"("status":"shipped")"), "enum at #/status");
  EXPECT_EQ(broken(R"("event_id":"E")", R"("event_id":"")"), "minLength at #/event_id");
  EXPECT_EQ(broken(R"("event_id":"E",)", ""), "required at #");
  EXPECT_EQ(broken(R"(.911Z")", R"(.911+01:00")"), "pattern at #/occurred_at");
  EXPECT_EQ(broken(R"(.911Z")", R"(.911Z","reason":null)"), "type at #/reason");
  EXPECT_EQ(broken(R"(.911Z")", R"(.911Z","type":"order_status")"), "additionalProperties at #/type");

  const std::string order = encode(OrderGenerator(1, "schema", [] { return k_min_timestamp; }).next());
  ASSERT_EQ(orders.problem(order), "");
  const auto broken_order = [&](std::string_view from, std::string_view to) {
    std::string copy = order;
    copy.replace(copy.find(from), from.size(), to);
    return orders.problem(copy);
  };
  EXPECT_EQ(broken_order(R"("quantity":)", R"("quantity":0,"q":)"), "minimum at #/items/0/quantity");
  EXPECT_EQ(broken_order(R"("quantity":)", R"("q":1,"quantity":)"), "additionalProperties at #/items/0/q");
  EXPECT_EQ(broken_order(R"("status":"pending")", R"("status":"Pending")"), "enum at #/status");
  EXPECT_EQ(broken_order(R"("items":[)", R"("items":[],"x":[)"), "minItems at #/items");
}

// The schema's numbers are the decoders' constants.
TEST(MessageSchema, BoundsAreTheDecodersConstants) {
  const Schema orders(k_order_schema);
  const Schema events(k_event_schema);
  const rapidjson::Value& order = orders.json()["properties"];
  const rapidjson::Value& item = order["items"]["items"]["properties"];
  const rapidjson::Value& event = events.json()["properties"];
  EXPECT_EQ(order["order_id"]["maxLength"].GetUint64(), k_max_order_id_size);
  EXPECT_EQ(order["customer_id"]["maxLength"].GetUint64(), k_max_id_size);
  EXPECT_EQ(order["customer_name"]["maxLength"].GetUint64(), k_max_name_size);
  EXPECT_EQ(order["customer_email"]["maxLength"].GetUint64(), k_max_email_size);
  EXPECT_EQ(order["items"]["maxItems"].GetUint64(), k_max_items);
  EXPECT_EQ(item["item_id"]["maxLength"].GetUint64(), k_max_id_size);
  EXPECT_EQ(item["name"]["maxLength"].GetUint64(), k_max_name_size);
  EXPECT_EQ(item["quantity"]["maximum"].GetInt64(), k_max_quantity);
  ASSERT_EQ(k_max_amount.to_string(), "99999999.99");
  for (const rapidjson::Value* amount : {&item["price"], &item["subtotal"], &order["total_amount"]}) {
    EXPECT_EQ((*amount)["maximum"].GetDouble(), 99999999.99);
    EXPECT_EQ((*amount)["minimum"].GetDouble(), 0.01);
  }
  EXPECT_EQ(event["event_id"]["maxLength"].GetUint64(), k_max_event_id_size);
  EXPECT_EQ(event["order_id"]["maxLength"].GetUint64(), k_max_order_id_size);
  EXPECT_EQ(event["customer_id"]["maxLength"].GetUint64(), k_max_id_size);
  EXPECT_EQ(event["reason"]["maxLength"].GetUint64(), k_max_reason_size);
  // Both list the six statuses in to_string()'s spelling and order.
  for (const rapidjson::Value* statuses : {&order["status"]["enum"], &event["status"]["enum"]}) {
    ASSERT_EQ(statuses->Size(), 6U);
    for (rapidjson::SizeType i = 0; i < 6; ++i) {
      EXPECT_EQ((*statuses)[i].GetString(), to_string(static_cast<OrderStatus>(i)));
    }
  }
}

TEST(MessageSchema, EveryExampleInTheDocsPassesTheSchemaAndTheDecoder) {
  const Schema orders(k_order_schema);
  const Schema events(k_event_schema);
  const std::string doc = read_text("docs/messages.md");
  const std::string open = "```json\n";
  std::size_t examples = 0;
  for (auto at = doc.find(open); at != std::string::npos; at = doc.find(open, at)) {
    at += open.size();
    const std::string json = doc.substr(at, doc.find("\n```", at) - at);
    ++examples;
    if (json.find("\"event_id\"") != std::string::npos) {
      EXPECT_EQ(events.problem(json), "") << json;
      const EventDecodeResult decoded = decode_event(json);
      ASSERT_TRUE(decoded.ok()) << decoded.rejection().detail;
      EXPECT_EQ(encode(decoded.event()), json); // written as the encoder writes it
    } else {
      EXPECT_EQ(orders.problem(json), "") << json;
      const DecodeResult decoded = decode(json);
      ASSERT_TRUE(decoded.ok()) << decoded.rejection().detail;
      EXPECT_EQ(encode(decoded.order()), json);
    }
  }
  EXPECT_EQ(examples, 3U);
}

} // namespace
} // namespace foodpipe::domain
