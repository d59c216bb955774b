// foodpipe inspect against the real broker and PostgreSQL: a known scenario
// (N orders and a few bad messages produced to a fresh topic, consumed into a
// fresh database) and what each view's JSON must say about it.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "kafka/producer.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using test::lines_of;

using namespace std::chrono_literals;

constexpr int k_orders = 300;

using test::parse_json;

// The port of the first of test::bootstrap_servers(): the single node the suite runs on.
int broker_port() {
  const auto first = test::bootstrap_servers().substr(0, test::bootstrap_servers().find(','));
  return std::stoi(first.substr(first.rfind(':') + 1));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

class InspectTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    produce_orders(k_orders, "inspect");
    // Three bad messages, all with key CUST-BAD (so one partition): two of one reason, one of another.
    const auto dir = std::filesystem::path(test::source_dir()) / "test/data/bad-messages";
    publish_raw({read_file(dir / "invalid_json.json"), read_file(dir / "invalid_json.json"),
                 read_file(dir / "missing_field.json")});
    const auto consumed = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                              "--until-end", "--quiet", "--json"});
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  }

  void produce_orders(int count, const std::string& run_id) {
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(count), "--seed", "5", "--run-id", run_id, "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  void publish_raw(const std::vector<std::string>& payloads) {
    std::uint64_t failed = 0;
    kafka::Producer producer({test::bootstrap_servers(), {}}, {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (const auto& payload : payloads) {
      producer.produce(m_topic, "CUST-BAD", payload, nullptr, nullptr);
    }
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
  }

  test::CommandResult inspect(std::vector<std::string> args) {
    args.insert(args.begin(), "inspect");
    for (const auto& extra : {"--db", "--topic", "--group"}) {
      args.emplace_back(extra);
      args.emplace_back(std::string(extra) == "--db" ? m_db.uri() : std::string(extra) == "--topic" ? m_topic : m_group);
    }
    return test::run_foodpipe(args);
  }

  rapidjson::Document inspect_json(std::vector<std::string> args) {
    args.emplace_back("--json");
    const auto result = inspect(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return parse_json(result.out);
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  static constexpr int k_bad = 3;
  test::ScratchDatabase m_db{"fpinspect"};
  std::string m_topic = test::unique_name("inspect");
  std::string m_group = test::unique_name("group");
};

TEST_F(InspectTest, TopicViewShowsEveryMessageOnThePartitionsAndTheDeadLettersOnTheDlq) {
  const auto view = inspect_json({"topic"});
  EXPECT_STREQ(view["view"].GetString(), "topic");
  // The single node the suite runs on, which is also the controller.
  ASSERT_EQ(view["brokers"].Size(), 1U);
  const auto broker_id = view["brokers"][0]["id"].GetInt();
  EXPECT_EQ(view["controller_id"].GetInt(), broker_id);
  EXPECT_EQ(view["brokers"][0]["port"].GetInt(), broker_port());
  const auto& topics = view["topics"];
  ASSERT_EQ(topics.Size(), 2U);
  const auto& topic = topics[0];
  EXPECT_EQ(std::string(topic["name"].GetString()), m_topic);
  EXPECT_TRUE(topic["exists"].GetBool());
  ASSERT_EQ(topic["partitions"].Size(), 3U);
  std::int64_t high_sum = 0;
  std::int64_t messages = 0;
  for (const auto& p : topic["partitions"].GetArray()) {
    high_sum += p["high"].GetInt64();
    messages += p["messages"].GetInt64();
    EXPECT_EQ(p["messages"].GetInt64(), p["high"].GetInt64() - p["low"].GetInt64());
    EXPECT_EQ(p["leader"].GetInt(), broker_id);
  }
  EXPECT_EQ(high_sum, k_orders + k_bad);
  EXPECT_EQ(messages, k_orders + k_bad);
  EXPECT_EQ(topic["log_end_total"].GetInt64(), k_orders + k_bad);
  ASSERT_TRUE(topic["retention_ms"].IsInt64());
  EXPECT_NE(topic["retention_ms"].GetInt64(), 0);

  const auto& dlq = topics[1];
  EXPECT_EQ(std::string(dlq["name"].GetString()), m_topic + ".dlq");
  EXPECT_TRUE(dlq["exists"].GetBool());
  EXPECT_EQ(dlq["messages"].GetInt64(), k_bad);
}

TEST_F(InspectTest, GroupLagIsZeroAfterConsumingAndCountsWhatWasProducedSince) {
  auto view = inspect_json({"group"});
  ASSERT_EQ(view["partitions"].Size(), 3U);
  for (const auto& p : view["partitions"].GetArray()) {
    ASSERT_TRUE(p["stored_offset"].IsInt64()) << "partition " << p["partition"].GetInt();
    EXPECT_EQ(p["stored_offset"].GetInt64(), p["log_end"].GetInt64());
    EXPECT_EQ(sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "' AND partition = " +
                  std::to_string(p["partition"].GetInt())),
              std::to_string(p["stored_offset"].GetInt64()));
    // consume commits to Kafka after each transaction, for Kafka's own tools.
    ASSERT_TRUE(p["committed_offset"].IsInt64());
    EXPECT_EQ(p["committed_offset"].GetInt64(), p["log_end"].GetInt64());
    EXPECT_EQ(p["lag"].GetInt64(), 0);
  }
  EXPECT_EQ(view["total_lag"].GetInt64(), 0);
  EXPECT_EQ(inspect({"group", "--max-lag", "0"}).exit_code, 0);

  produce_orders(7, "later");
  view = inspect_json({"group"});
  std::int64_t lag = 0;
  for (const auto& p : view["partitions"].GetArray()) {
    EXPECT_EQ(p["lag"].GetInt64(), p["log_end"].GetInt64() - p["stored_offset"].GetInt64());
    lag += p["lag"].GetInt64();
  }
  EXPECT_EQ(lag, 7);
  EXPECT_EQ(view["total_lag"].GetInt64(), 7);

  const auto over = inspect({"group", "--max-lag", "6"});
  EXPECT_EQ(over.exit_code, 1) << over.err;
  EXPECT_NE(over.err.find("exceeds --max-lag 6"), std::string::npos) << over.err;
  EXPECT_EQ(inspect({"group", "--max-lag", "7"}).exit_code, 0);
}

TEST_F(InspectTest, GroupViewShowsTheLiveMembersAndTheirPartitions) {
  test::BackgroundFoodpipe consumer({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--quiet"});
  // Joining takes a rebalance; poll the view until the broker reports it settled.
  rapidjson::Document view;
  for (int attempt = 0; attempt < 60; ++attempt) {
    view = inspect_json({"group"});
    if (std::string(view["state"].GetString()) == "Stable" && view["members"].Size() == 1U &&
        view["members"][0]["assignment"].HasMember(m_topic.c_str())) {
      break;
    }
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(view["known_to_broker"].GetBool());
  EXPECT_STREQ(view["state"].GetString(), "Stable");
  EXPECT_STREQ(view["protocol_type"].GetString(), "consumer");
  ASSERT_EQ(view["members"].Size(), 1U);
  const auto& member = view["members"][0];
  EXPECT_STREQ(member["client_id"].GetString(), "foodpipe");
  ASSERT_TRUE(member["assignment"].HasMember(m_topic.c_str()));
  EXPECT_EQ(member["assignment"][m_topic.c_str()].Size(), 3U) << "one member owns every partition";
  consumer.signal(SIGTERM);
  EXPECT_EQ(consumer.wait().exit_code, 128 + SIGTERM);
}

TEST_F(InspectTest, DbViewCountsOrdersAndDeadLettersByReason) {
  const auto view = inspect_json({"db"});
  EXPECT_EQ(view["orders"].GetInt64(), k_orders);
  EXPECT_EQ(view["dead_letters"].GetInt64(), k_bad);
  EXPECT_EQ(view["dead_letters_by_reason"]["invalid_json"].GetInt64(), 2);
  EXPECT_EQ(view["dead_letters_by_reason"]["missing_field"].GetInt64(), 1);
  EXPECT_EQ(view["dead_letters_by_reason"].MemberCount(), 2U);
  EXPECT_EQ(std::to_string(view["schema_version"].GetInt()), sql("SELECT max(version) FROM schema_migrations"));
  ASSERT_TRUE(view["newest_processed_at"].IsString());
}

TEST_F(InspectTest, DlqViewFiltersByReasonAndHonoursTheLimit) {
  auto view = inspect_json({"dlq", "--reason", "invalid_json", "--limit", "1"});
  EXPECT_EQ(view["total"].GetInt64(), 2);
  ASSERT_EQ(view["dead_letters"].Size(), 1U);
  const auto& letter = view["dead_letters"][0];
  EXPECT_STREQ(letter["reason"].GetString(), "invalid_json");
  EXPECT_EQ(std::string(letter["source_topic"].GetString()), m_topic);
  EXPECT_STREQ(letter["key"].GetString(), "CUST-BAD");
  EXPECT_NE(std::string(letter["payload_excerpt"].GetString()).find("order_id"), std::string::npos);
  const auto dir = std::filesystem::path(test::source_dir()) / "test/data/bad-messages";
  EXPECT_EQ(letter["payload_bytes"].GetInt64(),
            static_cast<std::int64_t>(read_file(dir / "invalid_json.json").size()));

  view = inspect_json({"dlq"});
  EXPECT_EQ(view["dead_letters"].Size(), static_cast<rapidjson::SizeType>(k_bad));
  view = inspect_json({"dlq", "--reason", "no_such_reason"});
  EXPECT_EQ(view["dead_letters"].Size(), 0U);
}

TEST_F(InspectTest, OrderViewTracesTheRowToItsKafkaMessage) {
  const auto order_id = sql("SELECT order_id FROM orders ORDER BY order_id LIMIT 1");
  const auto partition = sql("SELECT source_partition FROM orders WHERE order_id = '" + order_id + "'");
  const auto offset = sql("SELECT source_offset FROM orders WHERE order_id = '" + order_id + "'");
  const auto view = inspect_json({"order", order_id});
  ASSERT_TRUE(view["row"].IsObject()) << order_id;
  EXPECT_EQ(std::string(view["row"]["order_id"].GetString()), order_id);
  EXPECT_EQ(std::to_string(view["row"]["source_partition"].GetInt64()), partition);
  EXPECT_EQ(std::to_string(view["row"]["source_offset"].GetInt64()), offset);
  ASSERT_TRUE(view["message"].IsObject()) << view["message_note"].GetString();
  const auto& message = view["message"];
  EXPECT_EQ(std::to_string(message["partition"].GetInt()), partition);
  EXPECT_EQ(std::to_string(message["offset"].GetInt64()), offset);
  EXPECT_NE(std::string(message["payload"].GetString()).find(order_id), std::string::npos);
  EXPECT_EQ(std::string(message["key"].GetString()), std::string(view["row"]["customer_id"].GetString()));
  EXPECT_EQ(view["dead_letters"].Size(), 0U);
  // No status events were produced: the timeline is the order's own entry alone.
  ASSERT_EQ(view["timeline"].Size(), 1U);
  EXPECT_STREQ(view["timeline"][0]["status"].GetString(), "pending");
  EXPECT_EQ(std::to_string(view["timeline"][0]["offset"].GetInt64()), offset);
  EXPECT_EQ(view["timeline"][0]["since_created_ms"].GetInt64(), 0);
}

TEST_F(InspectTest, OrderViewFindsDeadLettersAndRefusesAnUnknownOrder) {
  // The bad messages of test/data all carry this id.
  const auto view = inspect_json({"order", "ORD-20260102-testrun1-0000001"});
  EXPECT_TRUE(view["row"].IsNull());
  EXPECT_EQ(view["dead_letters"].Size(), static_cast<rapidjson::SizeType>(k_bad));

  const auto unknown = inspect({"order", "ORD-19990101-nowhere-0000001"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("ORD-19990101-nowhere-0000001 is in neither orders nor dead_letters"),
            std::string::npos)
      << unknown.err;
}

TEST_F(InspectTest, MessagesViewPrintsExactlyCountKcatEnvelopes) {
  const auto high = std::stoll(sql("SELECT max(source_offset) + 1 FROM orders WHERE source_partition = 0"));
  ASSERT_GE(high, 5);
  const auto broker_id = inspect_json({"topic"})["brokers"][0]["id"].GetInt();
  auto result = inspect({"messages", "--partition", "0", "--offset", "2", "--count", "3", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 3U) << result.out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto envelope = parse_json(lines[i]);
    EXPECT_EQ(std::string(envelope["topic"].GetString()), m_topic);
    EXPECT_EQ(envelope["partition"].GetInt(), 0);
    EXPECT_EQ(envelope["offset"].GetInt64(), static_cast<std::int64_t>(2 + i));
    EXPECT_STREQ(envelope["tstype"].GetString(), "create");
    // The producer stamps a message when it sends it, just after generating the order it
    // carries: the timestamp is the order's created_at or a little later (not exactly known).
    const auto created_ms = std::stoll(
        sql("SELECT (extract(epoch FROM created_at) * 1000)::bigint FROM orders WHERE source_partition = 0 "
            "AND source_offset = " + std::to_string(2 + i)));
    EXPECT_GE(envelope["ts"].GetInt64(), created_ms);
    EXPECT_LE(envelope["ts"].GetInt64(), created_ms + 10'000);
    EXPECT_EQ(envelope["broker"].GetInt(), broker_id);
    ASSERT_TRUE(envelope["headers"].IsArray());
    // kcat's flat list: name, value, name, value; foodpipe produce writes these three.
    std::vector<std::string> headers;
    for (const auto& header : envelope["headers"].GetArray()) {
      headers.emplace_back(header.GetString());
    }
    EXPECT_EQ(headers, (std::vector<std::string>{"schema-version", "1", "content-type", "application/json",
                                                 "run-id", "inspect"}));
    EXPECT_TRUE(envelope["key"].IsString());
    EXPECT_NE(std::string(envelope["payload"].GetString()).find("\"order_id\""), std::string::npos);
  }

  // From the end, like kcat -o -2.
  const auto log_end = inspect_json({"topic"})["topics"][0]["partitions"][0]["high"].GetInt64();
  result = inspect({"messages", "--partition", "0", "--offset=-2", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  lines = lines_of(result.out);
  ASSERT_EQ(lines.size(), 2U) << result.out;
  EXPECT_EQ(parse_json(lines[0])["offset"].GetInt64(), log_end - 2);
  EXPECT_EQ(parse_json(lines[1])["offset"].GetInt64(), log_end - 1);

  EXPECT_EQ(inspect({"messages", "--partition", "9"}).exit_code, 2);
}

TEST_F(InspectTest, OverviewSummarisesTopicGroupAndDatabase) {
  const auto view = inspect_json({});
  EXPECT_STREQ(view["view"].GetString(), "overview");
  EXPECT_EQ(view["topic"]["log_end_total"].GetInt64(), k_orders + k_bad);
  EXPECT_EQ(view["dlq"]["messages"].GetInt64(), k_bad);
  EXPECT_EQ(view["group"]["total_lag"].GetInt64(), 0);
  EXPECT_EQ(view["database"]["orders"].GetInt64(), k_orders);
  EXPECT_EQ(view["database"]["dead_letters"].GetInt64(), k_bad);

  const auto text = inspect({});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.find('\033'), std::string::npos) << "no colour when stdout is not a terminal";
  EXPECT_NE(text.out.find(m_topic + ": 3 partitions, " + std::to_string(k_orders + k_bad) + " messages"),
            std::string::npos)
      << text.out;
}

TEST(InspectErrors, UnknownViewIsAUsageErrorListingTheViews) {
  const auto result = test::run_foodpipe({"inspect", "grup"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("did you mean 'group'?"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("topic, group, db, dlq, order, messages"), std::string::npos) << result.err;
}

TEST(InspectErrors, UnreachableBrokerIsNamed) {
  const auto result = test::run_foodpipe(
      {"inspect", "topic", "--bootstrap-servers", "127.0.0.1:1", "--connect-timeout", "2"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("cannot reach Kafka at 127.0.0.1:1"), std::string::npos) << result.err;
}

TEST(InspectErrors, AnUnseededDatabaseSaysToRunSeedDb) {
  test::ScratchDatabase empty("fpinspectempty");
  const auto result = test::run_foodpipe({"inspect", "db", "--db", empty.uri()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("foodpipe seed-db"), std::string::npos) << result.err;

  const auto missing = test::run_foodpipe(
      {"inspect", "db", "--db", test::conninfo_for(test::unique_name("fpinspect_missing"))});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("foodpipe seed-db"), std::string::npos) << missing.err;
}

TEST(InspectErrors, OverviewWithoutADatabaseStillShowsKafka) {
  const auto topic = test::unique_name("inspectnodb");
  const auto missing_db = test::conninfo_for(test::unique_name("fpinspect_missing"));
  const auto json = test::run_foodpipe({"inspect", "--json", "--topic", topic, "--db", missing_db});
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_NE(json.err.find("foodpipe seed-db"), std::string::npos) << json.err;
  const auto view = test::parse_json(json.out);
  ASSERT_TRUE(view.IsObject()) << json.out;
  EXPECT_STREQ(view["view"].GetString(), "overview");
  ASSERT_EQ(view["brokers"].GetArray().Size(), 1U) << "the Kafka half is there";
  EXPECT_EQ(view["brokers"][0]["port"].GetInt(), broker_port());
  EXPECT_FALSE(view["topic"]["exists"].GetBool());
  EXPECT_STREQ(view["group"]["lag_from"].GetString(), "kafka_committed_offsets");
  EXPECT_NE(std::string(view["database"]["error"].GetString()).find("foodpipe seed-db"), std::string::npos);

  const auto text = test::run_foodpipe({"inspect", "--topic", topic, "--db", missing_db});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("kafka     " + test::bootstrap_servers()), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(from the offsets committed to Kafka)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("foodpipe seed-db"), std::string::npos) << text.out;
}

} // namespace
} // namespace foodpipe
