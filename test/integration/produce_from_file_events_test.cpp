// produce --from-file with status events among the orders (issue 14): each
// line goes out byte for byte with the headers of its kind, keyed by its
// customer, lines that are neither a valid order nor a valid event are
// reported and not sent, and consume then applies the events to the orders.
// Against the real broker and PostgreSQL.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/generator.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"
#include "kafka/message.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

struct Sent {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Partition 0 of `topic`, in offset order.
std::vector<Sent> read_partition(const std::string& topic) {
  kafka::Reader reader({test::bootstrap_servers(), {}});
  const auto marks = reader.watermarks(topic, 0, 10s);
  std::vector<Sent> sent;
  reader.read(topic, {{0, marks.low, marks.high}}, [&sent](kafka::MessageView m) {
    Sent message{std::string(m.key()), std::string(m.value()), {}};
    for (auto& [name, value] : m.headers()) {
      message.headers[name] = value;
    }
    sent.push_back(std::move(message));
    return true;
  });
  return sent;
}

std::string event_line(const std::string& id, const domain::Order& order, domain::OrderStatus status,
                       const char* occurred_at, std::optional<std::string> reason = std::nullopt) {
  return domain::encode(domain::OrderStatusEvent{id, order.order_id, order.customer_id, status,
                                                 *domain::parse_timestamp(occurred_at), std::move(reason)});
}

TEST(ProduceFromFileEvents, EventLinesGetEventHeadersAndConsumeAppliesThem) {
  test::ScratchDatabase db{"fpfileevents"};
  const auto seeded = test::run_foodpipe({"seed-db", "--db", db.uri()});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  const auto topic = test::unique_name("fileevents");

  domain::OrderGenerator generator(1414, "fileevents");
  const auto first = generator.next();
  const auto second = generator.next();
  const auto typed = R"({"type":"order_status",)" +
                     event_line("EVT-F-B1", second, domain::OrderStatus::cancelled, "2026-01-02T03:07:00.000Z",
                                "customer cancelled")
                         .substr(1);
  const std::vector<std::string> lines = {
      domain::encode(first),                                                                    // 1
      domain::encode(second),                                                                   // 2
      event_line("EVT-F-A1", first, domain::OrderStatus::confirmed, "2026-01-02T03:04:09.911Z"), // 3
      R"({"foo":1})",                                         // 4: neither: an order without its fields
      typed,                                                  // 5: an event by its type member
      R"({"type":"invoice","event_id":"EVT-F-X"})",           // 6: a type foodpipe does not read
      R"({"event_id":"EVT-F-A9","order_id":")" + first.order_id + R"(","customer_id":")" + first.customer_id +
          R"(","occurred_at":"2026-01-02T03:05:00.000Z"})",   // 7: an event without its status
      "",                                                     // 8: skipped, as always
      event_line("EVT-F-A2", first, domain::OrderStatus::delivered, "2026-01-02T03:30:00.000Z"), // 9
  };
  const auto path = "/tmp/" + test::unique_name("fileevents") + ".jsonl";
  {
    std::ofstream file(path);
    for (const auto& line : lines) {
      file << line << '\n';
    }
  }
  const auto produced = test::run_foodpipe(
      {"produce", "--topic", topic, "--partitions", "1", "--from-file", path, "--rate", "0", "--json"});
  std::remove(path.c_str());
  EXPECT_EQ(produced.exit_code, 1) << "invalid lines make the run fail\n" << produced.err;
  const auto summary = test::parse_json(produced.out);
  EXPECT_EQ(summary["sent"].GetUint64(), 2U);
  EXPECT_EQ(summary["delivered"].GetUint64(), 2U);
  EXPECT_EQ(summary["events"].GetUint64(), 3U);
  EXPECT_EQ(summary["events_delivered"].GetUint64(), 3U);
  EXPECT_EQ(summary["events_failed"].GetUint64(), 0U);
  EXPECT_EQ(summary["invalid_lines"].GetUint64(), 3U);
  // Each refused line named with its number and the reason its kind's decoder gave.
  const auto logged = [&produced](const std::string& what, const std::string& line, const std::string& reason) {
    const auto at = produced.err.find("invalid " + what + "; not sent");
    if (at == std::string::npos) {
      return false;
    }
    const auto record = produced.err.substr(at, produced.err.find('\n', at) - at);
    return record.find("line=" + line) != std::string::npos && record.find("reason=" + reason) != std::string::npos;
  };
  EXPECT_TRUE(logged("order line", "4", "missing_field")) << produced.err;
  EXPECT_TRUE(logged("line", "6", "unsupported_schema")) << produced.err;
  EXPECT_TRUE(logged("status event line", "7", "missing_field")) << produced.err;

  // In the file's order, byte for byte, each keyed by its customer with its kind's headers.
  const auto sent = read_partition(topic);
  const std::vector<std::size_t> sent_lines = {0, 1, 2, 4, 8};
  ASSERT_EQ(sent.size(), sent_lines.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const auto& message = sent[i];
    EXPECT_EQ(message.value, lines[sent_lines[i]]) << "message " << i;
    const bool event = i >= 2;
    EXPECT_EQ(message.key, event ? (i == 3 ? second.customer_id : first.customer_id)
                                 : (i == 0 ? first.customer_id : second.customer_id))
        << "message " << i;
    EXPECT_EQ(message.headers.count("type"), event ? 1U : 0U) << "orders keep their headers: no type";
    if (event) {
      EXPECT_EQ(message.headers.at("type"), "order_status");
    }
    EXPECT_EQ(message.headers.count("schema-version") == 1 ? message.headers.at("schema-version") : "", "1");
    EXPECT_EQ(message.headers.count("content-type") == 1 ? message.headers.at("content-type") : "",
              "application/json");
  }

  const auto consumed = test::run_foodpipe({"consume", "--db", db.uri(), "--topic", topic, "--group",
                                            test::unique_name("group"), "--until-end", "--json", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto result = test::parse_json(consumed.out);
  EXPECT_EQ(result["consumed"].GetUint64(), 5U);
  EXPECT_EQ(result["applied"].GetUint64(), 2U);
  EXPECT_EQ(result["events_applied"].GetUint64(), 3U);
  EXPECT_EQ(result["dead_letters"].GetUint64(), 0U);

  const auto sql = [&db](const std::string& query) { return test::query_value(db.conninfo(), query); };
  EXPECT_EQ(sql("SELECT status FROM orders WHERE order_id = '" + first.order_id + "'"), "delivered");
  EXPECT_EQ(sql("SELECT status FROM orders WHERE order_id = '" + second.order_id + "'"), "cancelled");
  EXPECT_EQ(sql("SELECT string_agg(event_id || ' ' || previous_status || '->' || status || ' @' || source_offset, "
                "',' ORDER BY source_offset) FROM order_events"),
            "EVT-F-A1 pending->confirmed @2,EVT-F-B1 pending->cancelled @3,EVT-F-A2 confirmed->delivered @4");
  EXPECT_EQ(sql("SELECT reason FROM order_events WHERE event_id = 'EVT-F-B1'"), "customer cancelled");
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters"), "0");
}

// A file of orders alone is published as it always was: the headers of an
// order and no events counted.
TEST(ProduceFromFileEvents, AFileOfOrdersAloneHasNoEvents) {
  const auto topic = test::unique_name("fileorders");
  domain::OrderGenerator generator(99, "fileorders");
  const auto path = "/tmp/" + test::unique_name("fileorders") + ".jsonl";
  {
    std::ofstream file(path);
    for (int i = 0; i < 3; ++i) {
      file << domain::encode(generator.next()) << '\n';
    }
  }
  const auto produced = test::run_foodpipe(
      {"produce", "--topic", topic, "--partitions", "1", "--from-file", path, "--rate", "0", "--json"});
  std::remove(path.c_str());
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const auto summary = test::parse_json(produced.out);
  EXPECT_EQ(summary["delivered"].GetUint64(), 3U);
  EXPECT_EQ(summary["events"].GetUint64(), 0U);
  EXPECT_EQ(summary["invalid_lines"].GetUint64(), 0U);
  for (const auto& message : read_partition(topic)) {
    EXPECT_EQ(message.headers.count("type"), 0U);
    EXPECT_EQ(message.headers.size(), 3U) << "schema-version, content-type, run-id";
  }
}

} // namespace
} // namespace foodpipe
