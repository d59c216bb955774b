// foodpipe consume on topics foodpipe did not write: Kafka's own Java producer
// with transactions committed, aborted and held open; a compacted topic; a log
// start moved past the group's stored offset by kafka-delete-records; a topic
// deleted and created again under the stored offsets. Offsets there are not
// contiguous, and every test checks that the consumer follows the log as the
// broker serves it: it finishes, applies each committed record once, never an
// aborted one, and stores the position after what it read.

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"
#include "kafka/admin.hpp"
#include "support/foreign_topic.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;


using test::parse_json;

// The order_id of a StrangerProducer input line ("key<TAB>json").
std::string order_id_of(const std::string& line) {
  return domain::decode(std::string_view(line).substr(line.find('\t') + 1)).order().order_id;
}

class ConsumeForeignTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  }

  void create_topics(int partitions, const kafka::Properties& configs = {}) {
    test::create_topic(m_topic, partitions, configs);
    test::create_topic(m_topic + ".dlq", partitions);
  }

  test::CommandResult consume(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"consume", "--db",  m_db.uri(),    "--topic", m_topic, "--group",
                                     m_group,   "--json", "--until-end", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  // foodpipe's own orders onto the topic.
  void produce(int count, int seed) {
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(count), "--seed", std::to_string(seed), "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  // inspect --verify of the group: every offset accounted for (exit 0)?
  void expect_verified() {
    const auto verify = test::run_foodpipe(
        {"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--json"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }

  std::string stored_offset(int partition) {
    return sql("SELECT next_offset FROM consumer_offsets WHERE group_id = '" + m_group + "' AND topic = '" + m_topic +
               "' AND partition = " + std::to_string(partition));
  }

  [[nodiscard]] kafka::Watermarks marks(int partition) const { return test::watermarks(m_topic, partition); }

  test::ScratchDatabase m_db{"fpforeign"};
  std::string m_topic = test::unique_name("foreign");
  std::string m_group = test::unique_name("group");
};

TEST_F(ConsumeForeignTest, TransactionalTopicCommittedOnceAbortedNeverAndCaughtUpPastTheMarkers) {
  create_topics(3);
  const auto run = test::write_with_stranger(m_topic, test::order_lines(240, 71, "stranger"),
                                             {"--transactions", "c7,a4,c5,a3,c1,a1"});
  std::set<std::string> committed;
  std::set<std::string> aborted;
  for (const auto& record : run.records) {
    (record.kind == 'C' ? committed : aborted).insert(order_id_of(record.line));
  }
  ASSERT_FALSE(aborted.empty());

  const auto started = Clock::now();
  const auto result = consume({"--batch-size", "13"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_LT(Clock::now() - started, 30s) << "--until-end must not wait for anything on such a topic";
  EXPECT_EQ(result.err.find("re-reading"), std::string::npos) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_STREQ(summary["stopped_by"].GetString(), "end");
  EXPECT_EQ(summary["consumed"].GetUint64(), committed.size());
  EXPECT_EQ(summary["applied"].GetUint64(), committed.size());
  EXPECT_EQ(summary["dead_letters"].GetUint64(), 0U);

  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(committed.size()));
  EXPECT_EQ(sql("SELECT count(DISTINCT order_id) FROM orders"), std::to_string(committed.size()));
  for (const auto& id : aborted) {
    EXPECT_EQ(sql("SELECT count(*) FROM orders WHERE order_id = '" + id + "'"), "0") << id << " was aborted";
  }
  // Each row sits at the offset Kafka gave its record.
  for (const auto& record : run.records) {
    if (record.kind == 'C') {
      EXPECT_EQ(sql("SELECT source_partition || '@' || source_offset FROM orders WHERE order_id = '" +
                    order_id_of(record.line) + "'"),
                std::to_string(record.partition) + "@" + std::to_string(record.offset));
    }
  }
  // Each log ends in a commit or abort marker: the stored position is past it.
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(stored_offset(p), std::to_string(marks(p).high)) << "partition " << p;
  }

  // Nothing left to do, and the audit accounts for every offset.
  const auto again = consume();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(parse_json(again.out)["consumed"].GetUint64(), 0U);
  expect_verified();
}

TEST_F(ConsumeForeignTest, AMissingDeadLetterTopicIsCreatedSoABadMessageDoesNotHoldThePartition) {
  test::create_topic(m_topic, 2); // no <topic>.dlq, as on most topics
  auto lines = test::order_lines(3, 79, "stranger");
  lines.emplace_back("CUST-00001\tnot an order at all");
  (void)test::write_with_stranger(m_topic, lines, {});

  const auto result = consume();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["applied"].GetUint64(), 3U);
  EXPECT_EQ(summary["dead_letters_by_reason"]["invalid_json"].GetUint64(), 1U);
  const auto metadata = kafka::Admin(test::kafka_settings()).metadata(10s, m_topic + ".dlq");
  ASSERT_EQ(metadata.topics.size(), 1U);
  EXPECT_EQ(metadata.topics[0].partitions.size(), 2U) << "as many partitions as the topic";
  EXPECT_EQ(test::watermarks(m_topic + ".dlq", 0).high + test::watermarks(m_topic + ".dlq", 1).high, 1);
}

TEST_F(ConsumeForeignTest, AnOpenTransactionHoldsItsPartitionBackWithoutAFault) {
  create_topics(1);
  const auto input = test::write_input(test::order_lines(30, 72, "stranger"));
  // 20 committed records, then a transaction of 10 that stays open until stdin closes.
  auto producer = test::start_stranger_producer(
      {"--topic", m_topic, "--input", input, "--transactions", "c20", "--open", "10", "--hold-ms", "-1", "--finally",
       "commit"});
  ASSERT_TRUE(producer.wait_for_output("open", 60)) << producer.stderr_so_far();
  std::remove(input.c_str());

  const auto held = consume();
  ASSERT_EQ(held.exit_code, 0) << held.err;
  EXPECT_EQ(parse_json(held.out)["applied"].GetUint64(), 20U) << "the open transaction is not read";
  // Offsets 0-19 are the records, 20 their commit marker, 21 the open transaction's first.
  EXPECT_EQ(stored_offset(0), "21") << "stopped at the last stable offset";
  EXPECT_EQ(held.err.find("warning"), std::string::npos) << held.err;

  producer.close_stdin();
  const auto ended = producer.wait(60);
  ASSERT_EQ(ended.exit_code, 0) << ended.err;
  const auto rest = consume();
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(parse_json(rest.out)["applied"].GetUint64(), 10U);
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "30");
  EXPECT_EQ(stored_offset(0), std::to_string(marks(0).high)) << "past the commit marker";
}

TEST_F(ConsumeForeignTest, CompactedTopicIsReadThroughItsHoles) {
  // 20 keys, each written four times with different orders: compaction keeps
  // the last order of each key. The helper keeps writing "tick" records so
  // that segments roll and the cleaner runs.
  domain::OrderGenerator generator(73, "compact");
  std::vector<std::string> lines;
  std::map<std::string, std::string> last_order_of_key;
  for (int round = 0; round < 4; ++round) {
    for (int k = 0; k < 20; ++k) {
      const auto order = generator.next();
      const auto key = "KEY-" + std::to_string(k);
      lines.push_back(key + "\t" + domain::encode(order));
      last_order_of_key[key] = order.order_id;
    }
  }
  const auto remaining = test::make_compacted_topic(m_topic, lines);
  test::create_topic(m_topic + ".dlq", 1);
  const auto end = marks(0).high;
  ASSERT_LT(static_cast<std::int64_t>(remaining.size()), end - marks(0).low)
      << "the log cleaner did not compact the topic in time";

  const auto result = consume({"--batch-size", "5"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // The cleaner may pass again while consume reads (the ticks share a key,
  // and the last segments are dirty): consume reads what the log held, which
  // is between what it holds now and what it held before.
  const auto remaining_after = test::offsets_in_log(m_topic, 0);
  const auto summary = parse_json(result.out);
  EXPECT_LE(summary["consumed"].GetUint64(), remaining.size());
  EXPECT_GE(summary["consumed"].GetUint64(), remaining_after.size());
  EXPECT_EQ(summary["consumed"].GetUint64(),
            summary["applied"].GetUint64() + summary["duplicates"].GetUint64() + summary["dead_letters"].GetUint64());
  // The ticks (a bare number each) are not orders; nothing else is a dead letter.
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters WHERE message_key <> 'tick'::bytea"), "0");
  for (const auto& [key, order_id] : last_order_of_key) {
    EXPECT_EQ(sql("SELECT count(*) FROM orders WHERE order_id = '" + order_id + "'"), "1") << key;
  }
  EXPECT_EQ(stored_offset(0), std::to_string(end));
  expect_verified();
}

TEST_F(ConsumeForeignTest, RetentionPastTheStoredOffsetIsReportedRecordedAndSkipped) {
  create_topics(1);
  produce(300, 75);
  ASSERT_EQ(consume().exit_code, 0);
  ASSERT_EQ(stored_offset(0), "300");
  produce(200, 76);
  // Kafka's own tool moves the log start from 0 to 400, past the stored 300.
  test::delete_records(m_topic, 0, 400);
  ASSERT_EQ(marks(0).low, 400);

  const auto started = Clock::now();
  const auto result = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group,
                                          "--json", "--until-end"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_LT(Clock::now() - started, 30s);
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), 100U) << "400..499";
  EXPECT_EQ(summary["skipped_offsets"].GetUint64(), 100U);
  EXPECT_EQ(stored_offset(0), "500");
  EXPECT_EQ(sql("SELECT from_offset || '-' || to_offset || ' ' || reason FROM skipped_offsets WHERE group_id = '" +
                m_group + "' AND topic = '" + m_topic + "' AND partition = 0"),
            "300-400 retention");
  // One warning naming the topic, the partition and the range.
  const auto warning = result.err.find("removed by retention");
  ASSERT_NE(warning, std::string::npos) << result.err;
  const auto line = result.err.substr(warning, result.err.find('\n', warning) - warning);
  EXPECT_NE(line.find(m_topic), std::string::npos) << line;
  EXPECT_NE(line.find("from=300"), std::string::npos) << line;
  EXPECT_NE(line.find("to=400"), std::string::npos) << line;
  EXPECT_EQ(result.err.find("removed by retention", warning + 1), std::string::npos) << "once";

  expect_verified();
}

// An operator who moves the group's offsets with Kafka's own tool learns, once,
// that consume follows the database's.
TEST_F(ConsumeForeignTest, KafkasOwnResetIsReportedOnceAndTheDatabaseIsFollowed) {
  create_topics(1);
  produce(40, 80);
  ASSERT_EQ(consume().exit_code, 0);
  const auto reset = test::run_kafka_tool({"consumer-groups", "--reset-offsets", "--group", m_group, "--topic",
                                           m_topic, "--to-earliest", "--execute"});
  ASSERT_EQ(reset.exit_code, 0) << reset.out << reset.err;

  const auto result = consume();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(parse_json(result.out)["consumed"].GetUint64(), 0U) << "nothing re-read";
  const auto line = result.err.find("Kafka's committed offsets differ from the database's");
  ASSERT_NE(line, std::string::npos) << result.err;
  EXPECT_NE(result.err.find("following the database", line), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("0: kafka 0 database 40", line), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("Kafka's committed offsets differ", line + 1), std::string::npos) << "once";
}

TEST_F(ConsumeForeignTest, ATopicCreatedAgainUnderTheStoredOffsetsIsReadFromItsStart) {
  create_topics(1);
  produce(50, 77);
  ASSERT_EQ(consume().exit_code, 0);
  ASSERT_EQ(stored_offset(0), "50");

  // The topic goes away (compose/down --wipe, say) while the database stays.
  ASSERT_EQ(test::run_kafka_tool({"topics", "--delete", "--topic", m_topic}).exit_code, 0);
  const auto deadline = Clock::now() + 30s;
  for (;;) {
    try {
      kafka::Admin(test::kafka_settings()).create_topic(m_topic, 1, 1, {}, 10s);
      break;
    } catch (const std::exception& error) {
      ASSERT_LT(Clock::now(), deadline) << error.what();
      std::this_thread::sleep_for(500ms);
    }
  }
  produce(20, 78);
  const auto result = consume();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["applied"].GetUint64(), 20U);
  EXPECT_EQ(summary["skipped_offsets"].GetUint64(), 0U);
  EXPECT_EQ(stored_offset(0), "20") << "moved back to the new log's end";
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "70");
}

} // namespace
} // namespace foodpipe
