// foodpipe produce against the real broker: exact counts, keys and partitions,
// headers, reproducibility, SIGTERM without loss, and an unreachable broker.

#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

struct Message {
  std::int32_t partition;
  std::int64_t offset;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

// A topic created a moment ago may take a few milliseconds to appear in the
// broker's metadata cache (KRaft publishes it asynchronously).
kafka::ClusterMetadata wait_for_topic(kafka::Admin& admin, const std::string& topic) {
  auto metadata = admin.metadata(10s, topic);
  for (int i = 0; i < 50 && (metadata.topics.empty() || metadata.topics[0].error != RD_KAFKA_RESP_ERR_NO_ERROR); ++i) {
    std::this_thread::sleep_for(100ms);
    metadata = admin.metadata(10s, topic);
  }
  return metadata;
}

std::vector<Message> read_all(const std::string& topic) {
  kafka::Admin admin(settings());
  const auto metadata = wait_for_topic(admin, topic);
  kafka::Reader reader(settings());
  std::vector<kafka::PartitionRange> ranges;
  for (const auto& partition : metadata.topics.at(0).partitions) {
    const auto marks = reader.watermarks(topic, partition.id, 10s);
    ranges.push_back({partition.id, marks.low, marks.high});
  }
  std::vector<Message> messages;
  reader.read(topic, ranges, [&](kafka::MessageView m) {
    messages.push_back({m.partition(), m.offset(),
                        std::string(m.key()),
                        std::string(m.value()), m.headers()});
    return true;
  });
  return messages;
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << text;
  EXPECT_TRUE(doc.IsObject()) << text;
  return doc;
}

std::string header(const Message& message, const std::string& name) {
  for (const auto& [key, value] : message.headers) {
    if (key == name) {
      return value;
    }
  }
  return "<missing>";
}

TEST(Produce, ExactCountKeysPartitionsAndHeaders) {
  const auto topic = test::unique_name("produce_exact");
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--rate", "0", "--count", "2000", "--seed", "7",
                                          "--run-id", "itest", "--json", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["delivered"].GetUint64(), 2000U);
  EXPECT_EQ(summary["failed"].GetUint64(), 0U);
  EXPECT_EQ(summary["seed"].GetUint64(), 7U);
  EXPECT_STREQ(summary["run_id"].GetString(), "itest");

  const auto messages = read_all(topic);
  ASSERT_EQ(messages.size(), 2000U);
  std::map<std::string, std::set<std::int32_t>> partitions_of_customer;
  std::set<std::string> order_ids;
  for (const auto& message : messages) {
    const auto decoded = domain::decode(message.value);
    ASSERT_TRUE(decoded.ok()) << message.value;
    EXPECT_EQ(message.key, decoded.order().customer_id);
    partitions_of_customer[message.key].insert(message.partition);
    order_ids.insert(decoded.order().order_id);
    EXPECT_EQ(header(message, "schema-version"), "1");
    EXPECT_EQ(header(message, "content-type"), "application/json");
    EXPECT_EQ(header(message, "run-id"), "itest");
  }
  EXPECT_EQ(order_ids.size(), 2000U) << "order ids must be unique";
  EXPECT_GT(partitions_of_customer.size(), 90U) << "2000 orders should touch nearly all 100 customers";
  std::set<std::int32_t> used;
  for (const auto& [customer, parts] : partitions_of_customer) {
    EXPECT_EQ(parts.size(), 1U) << customer << " must always land on the same partition";
    used.insert(parts.begin(), parts.end());
  }
  EXPECT_EQ(used.size(), 3U) << "keys spread over all three partitions";
}

TEST(Produce, CreatesTopicAndDeadLetterTopic) {
  const auto topic = test::unique_name("produce_topics");
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--count", "1", "--rate", "0", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  kafka::Admin admin(settings());
  for (const auto& name : {topic, topic + ".dlq"}) {
    const auto metadata = wait_for_topic(admin, name);
    ASSERT_EQ(metadata.topics.size(), 1U);
    EXPECT_EQ(metadata.topics[0].error, RD_KAFKA_RESP_ERR_NO_ERROR) << name;
    EXPECT_EQ(metadata.topics[0].partitions.size(), 3U) << name;
  }
  // A second run against the existing topic with another partition count warns and keeps it.
  const auto again = test::run_foodpipe({"produce", "--topic", topic, "--count", "1", "--rate", "0", "--partitions",
                                         "5", "--quiet"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("another partition count"), std::string::npos) << again.err;
  EXPECT_EQ(admin.metadata(10s, topic).topics[0].partitions.size(), 3U);
}

TEST(Produce, RateAndDurationGiveAnExactCount) {
  const auto topic = test::unique_name("produce_rate");
  const auto started = std::chrono::steady_clock::now();
  const auto result =
      test::run_foodpipe({"produce", "--topic", topic, "--rate", "50", "--duration", "3", "--json", "--quiet"});
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(parse_json(result.out)["delivered"].GetUint64(), 150U);
  EXPECT_EQ(read_all(topic).size(), 150U);
  EXPECT_GE(took, 2900ms);
}

TEST(Produce, SameSeedAndRunIdGiveTheSameOrders) {
  const auto first = test::unique_name("produce_seed_a");
  const auto second = test::unique_name("produce_seed_b");
  for (const auto& topic : {first, second}) {
    const auto result = test::run_foodpipe(
        {"produce", "--topic", topic, "--rate", "0", "--count", "300", "--seed", "42", "--run-id", "same", "--quiet"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  auto by_id = [](const std::vector<Message>& messages) {
    std::map<std::string, domain::Order> orders;
    for (const auto& message : messages) {
      auto order = domain::decode(message.value).order();
      order.created_at = {};
      orders.emplace(order.order_id, std::move(order));
    }
    return orders;
  };
  const auto a = by_id(read_all(first));
  const auto b = by_id(read_all(second));
  ASSERT_EQ(a.size(), 300U);
  EXPECT_EQ(a, b);
}

// 50,000 orders are more than the producer's local queue holds (20,000), so
// the value buffers and header copies it reuses go round several times while
// others are in flight: every order must still arrive as generated.
TEST(Produce, OrdersArriveIntactWhileBuffersAreReused) {
  constexpr std::size_t k_orders = 50000;
  const auto topic = test::unique_name("produce_reuse");
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--rate", "0", "--count",
                                          std::to_string(k_orders), "--seed", "5", "--run-id", "reuse", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  std::map<std::string, std::string> sent; // order id -> value without created_at
  const auto without_created_at = [](domain::Order order) {
    order.created_at = {};
    return domain::encode(order);
  };
  for (const auto& message : read_all(topic)) {
    ASSERT_EQ(message.headers.size(), 3U) << message.value;
    EXPECT_EQ(header(message, "run-id"), "reuse");
    const auto decoded = domain::decode(message.value);
    ASSERT_TRUE(decoded.ok()) << message.value;
    EXPECT_EQ(message.key, decoded.order().customer_id);
    sent.emplace(decoded.order().order_id, without_created_at(decoded.order()));
  }
  ASSERT_EQ(sent.size(), k_orders);
  domain::OrderGenerator generator(5, "reuse");
  domain::Order order;
  for (std::size_t i = 0; i < k_orders; ++i) {
    generator.next(order);
    const auto it = sent.find(order.order_id);
    ASSERT_NE(it, sent.end()) << order.order_id;
    ASSERT_EQ(it->second, without_created_at(order)) << order.order_id;
  }
}

// A topic whose max.message.bytes no order batch fits: the broker refuses
// every write (MSG_SIZE_TOO_LARGE, not retried). Nothing is reported
// delivered, and one line on stderr says how many and why.
TEST(Produce, OrdersTheBrokerRefusesAreCountedFailedWithOneLine) {
  const auto topic = test::unique_name("refused");
  kafka::Admin admin(settings());
  admin.create_topic(topic, 3, 1, {{"max.message.bytes", "64"}}, 30s);
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--rate", "0", "--count", "20", "--json",
                                          "--quiet", "-X", "message.timeout.ms=3000"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const auto summary = test::parse_json(result.out);
  EXPECT_EQ(summary["delivered"].GetUint64(), 0U);
  EXPECT_EQ(summary["failed"].GetUint64(), 20U);
  EXPECT_NE(result.err.find("foodpipe: error: 20 of 20 orders were not acknowledged by the brokers (MSG_SIZE_TOO_LARGE: 20); "),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("see foodpipe inspect topic --topic " + topic + " and foodpipe doctor\n"),
            std::string::npos)
      << result.err;
}

TEST(Produce, SigtermLosesNothingThatWasReportedDelivered) {
  const auto topic = test::unique_name("produce_sigterm");
  test::BackgroundFoodpipe producer(
      {"produce", "--topic", topic, "--rate", "0", "--count", "100000000", "--json", "--quiet"});
  // Let it create the topic and get going, then stop it mid-stream.
  for (int i = 0; i < 100 && producer.stderr_so_far().find("generating orders") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(1500ms);
  producer.signal(SIGTERM);
  const auto result = producer.wait(60);
  ASSERT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_TRUE(summary["interrupted"].GetBool());
  EXPECT_EQ(summary["failed"].GetUint64(), 0U);
  const auto delivered = summary["delivered"].GetUint64();
  EXPECT_GT(delivered, 1000U) << "it should have been producing for a while";
  EXPECT_EQ(summary["sent"].GetUint64(), delivered);
  // Exactly what was reported: nothing lost, and idempotence means nothing doubled.
  EXPECT_EQ(read_all(topic).size(), delivered);
}

TEST(Produce, UnreachableBrokerFailsFastNamingTheAddress) {
  const auto started = std::chrono::steady_clock::now();
  const auto result = test::run_foodpipe(
      {"produce", "--bootstrap-servers", "127.0.0.1:1", "--connect-timeout", "2", "--count", "1", "--quiet"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("cannot reach Kafka at 127.0.0.1:1"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("compose/up"), std::string::npos) << result.err;
  EXPECT_LT(took, 8s);
}

TEST(Produce, FromFileSendsValidLinesAndReportsInvalidOnes) {
  const auto topic = test::unique_name("produce_file");
  // Three orders from the generator, with a broken line between them.
  const auto source = test::unique_name("produce_source");
  ASSERT_EQ(test::run_foodpipe({"produce", "--topic", source, "--rate", "0", "--count", "3", "--seed", "1", "--quiet"})
                .exit_code,
            0);
  const auto orders = read_all(source);
  ASSERT_EQ(orders.size(), 3U);
  const auto path = "/tmp/" + test::unique_name("orders") + ".jsonl";
  {
    std::ofstream file(path);
    file << orders[0].value << "\n{\"order_id\": 12}\n" << orders[1].value << "\n\n" << orders[2].value << "\n";
  }
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--from-file", path, "--rate", "0", "--json"});
  EXPECT_EQ(result.exit_code, 1) << "an invalid line makes the run fail";
  EXPECT_NE(result.err.find("line=2"), std::string::npos) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["delivered"].GetUint64(), 3U);
  EXPECT_EQ(summary["invalid_lines"].GetUint64(), 1U);
  const auto sent = read_all(topic);
  ASSERT_EQ(sent.size(), 3U);
  std::set<std::string> values;
  for (const auto& message : sent) {
    values.insert(message.value);
  }
  EXPECT_TRUE(values.count(orders[1].value) == 1) << "lines are published byte for byte";
  std::remove(path.c_str());
}

} // namespace
} // namespace foodpipe
