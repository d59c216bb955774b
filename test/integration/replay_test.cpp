// foodpipe replay against the real broker and PostgreSQL: exact ranges by
// offset and by time, republishing with provenance headers, a dry run that
// changes nothing, and a DLQ redrive of one reason only.

#include <csignal>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "domain/timestamp.hpp"
#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "pipeline/replay.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

using test::parse_json;

struct Received {
  std::int32_t partition = 0;
  std::map<std::string, std::string> headers;
};

class ReplayTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    kafka::Admin admin(settings());
    admin.create_topic(m_target, 3, 1, {}, 10s);
  }

  void produce(int count, const std::string& seed) {
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(count), "--seed", seed, "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  test::CommandResult replay(std::vector<std::string> extra) {
    std::vector<std::string> args = {"replay", "--db", m_db.uri(), "--json", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  // Every message of a topic with its headers.
  std::vector<Received> read_all(const std::string& topic) {
    kafka::Reader reader(settings());
    std::vector<kafka::PartitionRange> ranges;
    for (const auto partition : reader.partitions(topic, 10s)) {
      const auto marks = reader.watermarks(topic, partition, 10s);
      ranges.push_back({partition, marks.low, marks.high});
    }
    std::vector<Received> received;
    reader.read(topic, ranges, [&](kafka::MessageView m) {
      Received r;
      r.partition = m.partition();
      for (const auto& [name, value] : m.headers()) {
        r.headers[name] = value;
      }
      received.push_back(std::move(r));
      return true;
    });
    return received;
  }

  std::int64_t high(const std::string& topic, std::int32_t partition) {
    kafka::Reader reader(settings());
    return reader.watermarks(topic, partition, 10s).high;
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }

  test::ScratchDatabase m_db{"fpreplay"};
  std::string m_topic = test::unique_name("replay");
  std::string m_target = test::unique_name("replaytarget");
};

TEST_F(ReplayTest, ByOffsetReadsExactlyTheRangeOntoATopicWithProvenance) {
  produce(600, "21");
  ASSERT_GE(high(m_topic, 0), 60) << "partition 0 needs some messages";
  const auto result = replay({"--topic", m_topic, "--partition", "0", "--from-offset", "10", "--to-offset", "50",
                              "--to-topic", m_target});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["read"].GetUint64(), 40U);
  EXPECT_EQ(summary["republished"].GetUint64(), 40U);
  EXPECT_EQ(summary["failed"].GetUint64(), 0U);
  ASSERT_EQ(summary["partitions"].Size(), 1U);
  EXPECT_EQ(summary["partitions"][0]["from"].GetInt64(), 10);
  EXPECT_EQ(summary["partitions"][0]["to"].GetInt64(), 50);

  const auto received = read_all(m_target);
  ASSERT_EQ(received.size(), 40U);
  std::set<std::int64_t> offsets;
  for (const auto& message : received) {
    EXPECT_EQ(message.headers.at("replay-source-topic"), m_topic);
    EXPECT_EQ(message.headers.at("replay-source-partition"), "0");
    EXPECT_EQ(message.headers.count("run-id"), 1U) << "the original headers are kept";
    offsets.insert(std::stoll(message.headers.at("replay-source-offset")));
  }
  EXPECT_EQ(offsets.size(), 40U);
  EXPECT_EQ(*offsets.begin(), 10);
  EXPECT_EQ(*offsets.rbegin(), 49) << "--to-offset is exclusive";
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "0") << "a topic target writes nothing to the database";
}

TEST_F(ReplayTest, ByTimeReadsExactlyTheSecondRun) {
  produce(300, "31");
  std::this_thread::sleep_for(1500ms);
  const auto between = domain::format_timestamp(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
  std::this_thread::sleep_for(1500ms);
  produce(123, "32");

  const auto result = replay({"--topic", m_topic, "--from-time", between});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["read"].GetUint64(), 123U);
  EXPECT_EQ(summary["applied"].GetUint64(), 123U);
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "123");
  EXPECT_EQ(sql("SELECT count(*) FROM consumer_offsets"), "0") << "no group's offsets are written";

  // --to-time: the first run only.
  const auto first = replay({"--topic", m_topic, "--from-beginning", "--to-time", between, "--to-topic", m_target});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(parse_json(first.out)["republished"].GetUint64(), 300U);
}

TEST_F(ReplayTest, CountIsPerPartition) {
  produce(300, "41");
  const auto result = replay({"--topic", m_topic, "--from-beginning", "--count", "7", "--to-topic", m_target});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(parse_json(result.out)["read"].GetUint64(), 21U);
  EXPECT_EQ(read_all(m_target).size(), 21U);
}

TEST_F(ReplayTest, ADryRunPrintsTheRangesAndChangesNothing) {
  produce(200, "51");
  const auto text = test::run_foodpipe(
      {"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning", "--dry-run", "--quiet"});
  ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
  for (int p = 0; p < 3; ++p) {
    const auto line = m_topic + " partition " + std::to_string(p) + ": offsets 0 to " +
                      std::to_string(high(m_topic, p)) + " (exclusive): " + std::to_string(high(m_topic, p)) +
                      " offsets";
    EXPECT_NE(text.out.find(line), std::string::npos) << text.out;
  }
  EXPECT_NE(text.out.find("dry run: 200 offsets"), std::string::npos) << text.out;

  const auto json = replay({"--topic", m_topic, "--from-beginning", "--dry-run", "--to-topic", m_target});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto summary = parse_json(json.out);
  EXPECT_TRUE(summary["dry_run"].GetBool());
  EXPECT_EQ(summary["planned"].GetUint64(), 200U);
  EXPECT_EQ(summary["read"].GetUint64(), 0U);

  EXPECT_EQ(sql("SELECT count(*) FROM orders"), "0");
  EXPECT_EQ(sql("SELECT count(*) FROM dead_letters"), "0");
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(high(m_target, p), 0) << "partition " << p;
  }
}

TEST_F(ReplayTest, ADlqRedriveTakesOnlyOneReasonAndCarriesProvenance) {
  produce(50, "61");
  std::uint64_t failed = 0;
  {
    kafka::Producer producer(settings(), {{"enable.idempotence", "true"}},
                             [&failed](kafka::MessageView m) { failed += !m.ok() ? 1U : 0U; });
    for (const std::string bad : {"not json", "{oops", "{\"order_id\": 7}", "[1]", "also not json"}) {
      producer.produce(m_topic, "CUST-BAD", bad, nullptr, nullptr);
    }
    ASSERT_EQ(producer.flush(30s), 0);
  }
  ASSERT_EQ(failed, 0U);
  const auto consumed = test::run_foodpipe({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group",
                                            test::unique_name("group"), "--until-end", "--quiet"});
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  const auto invalid_json = sql("SELECT count(*) FROM dead_letters WHERE reason_code = 'invalid_json'");
  ASSERT_EQ(invalid_json, "3");

  const auto result = replay({"--topic", m_topic + ".dlq", "--from-beginning", "--reason", "invalid_json",
                              "--to-topic", m_target});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["read"].GetUint64(), 5U);
  EXPECT_EQ(summary["republished"].GetUint64(), 3U);
  EXPECT_EQ(summary["skipped_by_filter"].GetUint64(), 2U);

  const auto received = read_all(m_target);
  ASSERT_EQ(received.size(), 3U);
  for (const auto& message : received) {
    EXPECT_EQ(message.headers.at("reason-code"), "invalid_json");
    EXPECT_EQ(message.headers.at("original-topic"), m_topic);
    EXPECT_EQ(message.headers.at("replay-source-topic"), m_topic + ".dlq");
    EXPECT_EQ(message.headers.count("replay-source-partition"), 1U);
    EXPECT_EQ(message.headers.count("replay-source-offset"), 1U);
  }
}

TEST_F(ReplayTest, SigintFinishesTheBatchInFlightReportsAndExits130) {
  produce(60000, "71");
  test::BackgroundFoodpipe running({"replay", "--db", m_db.uri(), "--topic", m_topic, "--from-beginning",
                                    "--batch-size", "500", "--json", "--quiet"});
  // Signal as soon as it starts reading (its "replaying" log line), not after a guess.
  for (int i = 0; i < 300 && running.stderr_so_far().find("replaying") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(200ms);
  running.signal(SIGINT);
  const auto result = running.wait(60);
  ASSERT_EQ(result.exit_code, 130) << result.out << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_TRUE(summary["interrupted"].GetBool());
  EXPECT_LT(summary["read"].GetUint64(), 60000U);
  // Everything read was written: the batch in flight was finished, not lost half-way.
  EXPECT_EQ(sql("SELECT count(*) FROM orders"), std::to_string(summary["applied"].GetUint64()));
  EXPECT_EQ(summary["applied"].GetUint64(), summary["read"].GetUint64());
}

TEST_F(ReplayTest, AMissingTargetTopicFailsAtOnce) {
  produce(10, "81");
  const auto result = replay({"--topic", m_topic, "--from-beginning", "--to-topic", m_target + "-absent"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("does not exist"), std::string::npos) << result.err;
}

TEST(ReplayTimeTest, RelativeAndAbsoluteTimesParse) {
  const auto now = std::chrono::system_clock::now();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  EXPECT_EQ(pipeline::parse_replay_time("-1h", now), now_ms - 3'600'000);
  EXPECT_EQ(pipeline::parse_replay_time("-30m", now), now_ms - 1'800'000);
  EXPECT_EQ(pipeline::parse_replay_time("-2d", now), now_ms - 172'800'000);
  EXPECT_EQ(pipeline::parse_replay_time("2026-01-02T03:04:05Z", now), 1767323045000);
  EXPECT_EQ(pipeline::parse_replay_time("2026-01-02T03:04:05", now), 1767323045000);
  EXPECT_EQ(pipeline::parse_replay_time("2026-01-02T04:04:05+01:00", now), 1767323045000);
  EXPECT_FALSE(pipeline::parse_replay_time("yesterday", now));
  EXPECT_FALSE(pipeline::parse_replay_time("-1w", now));
  EXPECT_FALSE(pipeline::parse_replay_time("-h", now));
}

} // namespace
} // namespace foodpipe
