// Dead letters never block a partition: one too large for the DLQ topic is
// published cut (and kept whole in the table), and a DLQ topic that vanishes
// mid-run holds the batch back until it is back, without sending any letter
// twice. Against the real broker and PostgreSQL.

#include <chrono>
#include <csignal>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "db/sha256.hpp"
#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

using test::parse_json;

struct DlqMessage {
  std::map<std::string, std::string> headers;
  std::size_t value_size = 0;
  std::string value_start;
};

class ConsumeDeadLettersTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    kafka::Admin admin(settings());
    admin.create_topic(m_topic, 1, 1, {}, 10s);
    admin.create_topic(dlq(), 1, 1, {}, 10s);
  }

  [[nodiscard]] std::string dlq() const { return m_topic + ".dlq"; }

  // Publishes values to partition 0 of the topic; the producer may send up to 2 MB.
  void publish(const std::vector<std::string>& values) {
    std::uint64_t failed = 0;
    kafka::Producer producer({test::bootstrap_servers(), {{"message.max.bytes", "2000000"}}},
                             {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (const auto& value : values) {
      producer.produce(m_topic, "CUST-00001", value, nullptr, nullptr);
    }
    ASSERT_EQ(producer.flush(30s), 0);
    ASSERT_EQ(failed, 0U);
  }

  std::vector<DlqMessage> read_dlq() {
    kafka::Reader reader(settings());
    const auto marks = reader.watermarks(dlq(), 0, 10s);
    std::vector<DlqMessage> messages;
    reader.read(dlq(), {{0, marks.low, marks.high}}, [&messages](kafka::MessageView m) {
      DlqMessage message;
      for (const auto& [name, value] : m.headers()) {
        message.headers[name] = value;
      }
      message.value_size = m.value().size();
      message.value_start = std::string(m.value().substr(0, 64));
      messages.push_back(std::move(message));
      return true;
    });
    return messages;
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  test::ScratchDatabase m_db{"fpdlq"};
  std::string m_topic = test::unique_name("dlqtest");
  std::string m_group = test::unique_name("group");
};

TEST_F(ConsumeDeadLettersTest, ALetterTooLargeForTheDlqTopicIsPublishedCutAndKeptWholeInTheTable) {
  domain::OrderGenerator generator(81, "big");
  // 1,040,000 bytes: too_large for consume (256 KiB) and over librdkafka's
  // default message.max.bytes (1,000,000) for the DLQ producer.
  std::string huge = domain::encode(generator.next());
  huge.insert(huge.size() - 1, ",\"padding\":\"" + std::string(1'040'000 - huge.size() - 13, 'x') + "\"");
  ASSERT_EQ(huge.size(), 1'040'000U);
  const auto before = domain::encode(generator.next());
  const auto after = domain::encode(generator.next());
  publish({before, huge, after});

  const auto result = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                          "--until-end", "--json", "--quiet"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["applied"].GetUint64(), 2U) << "the partition moved on past the big one";
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 1U);
  EXPECT_EQ(summary["dead_letters_truncated"].GetUint64(), 1U);

  // The table keeps the whole payload.
  EXPECT_EQ(sql("SELECT reason_code || ' ' || length(payload) FROM dead_letters"), "too_large 1040000");
  EXPECT_EQ(sql("SELECT encode(sha256(payload), 'hex') FROM dead_letters"), db::sha256_hex(huge));

  // The topic has it once, cut, saying so.
  const auto letters = read_dlq();
  ASSERT_EQ(letters.size(), 1U);
  const auto& letter = letters[0];
  EXPECT_EQ(letter.headers.at("reason-code"), "too_large");
  EXPECT_EQ(letter.headers.at("payload-truncated"), "true");
  EXPECT_EQ(letter.headers.at("original-size"), "1040000");
  EXPECT_EQ(letter.headers.at("original-sha256"), db::sha256_hex(huge));
  EXPECT_EQ(letter.headers.at("original-offset"), "1");
  EXPECT_EQ(letter.value_size, 64U * 1024U);
  EXPECT_EQ(letter.value_start, huge.substr(0, 64));

  // A redrive from the DLQ topic passes it over: its whole payload is only in the table.
  const auto redrive = test::run_foodpipe({"replay", "--topic", dlq(), "--from-beginning", "--to-topic", m_topic,
                                           "--json", "--quiet"});
  ASSERT_EQ(redrive.exit_code, 0) << redrive.err;
  const auto replayed = parse_json(redrive.out);
  EXPECT_EQ(replayed["skipped_truncated"].GetUint64(), 1U);
  EXPECT_EQ(replayed["republished"].GetUint64(), 0U);

  const auto verify = test::run_foodpipe(
      {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(ConsumeDeadLettersTest, ADlqTopicDeletedAndCreatedAgainHoldsTheBatchAndGetsEachLetterOnce) {
  test::BackgroundFoodpipe consumer({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--json",
                                     "--quiet", "--batch-size", "50", "--log-level", "debug"});
  publish({domain::encode(domain::OrderGenerator(82, "ok").next())});
  for (int i = 0; i < 600 && sql("SELECT count(*) FROM orders") != "1"; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(sql("SELECT count(*) FROM orders"), "1") << consumer.stderr_so_far();

  ASSERT_EQ(test::run_kafka_tool({"topics", "--delete", "--topic", dlq()}).exit_code, 0);
  // Bad messages whose letters have nowhere to go now.
  std::vector<std::string> bad;
  for (int i = 0; i < 20; ++i) {
    bad.push_back("not json " + std::to_string(i));
  }
  publish(bad);
  // The batch is held: retried, not committed.
  ASSERT_TRUE(consumer.wait_for_output("dead-letter topic unavailable", 90)) << consumer.stderr_so_far();
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters"), "0");
  EXPECT_EQ(sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "'"), "1");

  // Back again: every letter lands, once, and the batch commits.
  kafka::Admin(settings()).create_topic(dlq(), 1, 1, {}, 10s);
  const auto deadline = Clock::now() + 90s;
  while (sql("SELECT count(*) FROM dead_letters") != "20" && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(sql("SELECT count(*) FROM dead_letters"), "20") << consumer.stderr_so_far();
  EXPECT_EQ(sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "'"), "21");
  consumer.signal(SIGTERM);
  const auto stopped = consumer.wait(60);
  EXPECT_EQ(parse_json(stopped.out)["dead_letters"].GetUint64(), 20U) << stopped.err;

  std::map<std::string, int> copies; // original offset -> letters on the topic
  for (const auto& letter : read_dlq()) {
    ++copies[letter.headers.at("original-offset")];
  }
  EXPECT_EQ(copies.size(), 20U);
  for (const auto& [offset, count] : copies) {
    EXPECT_EQ(count, 1) << "offset " << offset << " published " << count << " times";
  }
  const auto verify = test::run_foodpipe(
      {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(ConsumeDeadLettersTest, SigtermIsHonouredWhileDeadLettersHaveNowhereToGo) {
  test::BackgroundFoodpipe consumer({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--json",
                                     "--quiet"});
  // Deleted once the consumer runs (at start it would create a missing one).
  ASSERT_TRUE(consumer.wait_for_output("partitions assigned", 60)) << consumer.stderr_so_far();
  ASSERT_EQ(test::run_kafka_tool({"topics", "--delete", "--topic", dlq()}).exit_code, 0);
  publish({"not json"});
  ASSERT_TRUE(consumer.wait_for_output("dead-letter topic unavailable", 90)) << consumer.stderr_so_far();
  const auto signalled = Clock::now();
  consumer.signal(SIGTERM);
  const auto stopped = consumer.wait(60);
  EXPECT_LT(Clock::now() - signalled, 5s) << "SIGTERM waits for nothing";
  EXPECT_EQ(stopped.exit_code, 143) << stopped.err;
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters"), "0") << "nothing committed past an unpublished letter";
}

} // namespace
} // namespace foodpipe
