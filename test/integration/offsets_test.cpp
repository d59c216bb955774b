// foodpipe offsets against the real broker and PostgreSQL: a dry run of every
// target changes nothing; --execute moves the database's and Kafka's offsets to
// the same values; Kafka's clamping; --to-datetime; --partition; the refusal
// while a consumer of the group runs; a Kafka refusal or a concurrent write
// rolls the database back; and consume re-reads from where the offsets were
// moved.

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "core/error.hpp"
#include "db/connection.hpp"
#include "db/inspect_queries.hpp"
#include "domain/timestamp.hpp"
#include "kafka/group_admin.hpp"
#include "kafka/reader.hpp"
#include "pipeline/offsets.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Offsets = std::map<std::int32_t, std::int64_t>;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

using test::parse_json;

std::string iso_in_a_minute() {
  return domain::format_timestamp(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() + 60s));
}

std::size_t lines_of(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A seeded database, a fresh topic of 3 partitions with 300 orders, and a
// group that has consumed them all (so the database and Kafka hold its offsets).
class OffsetsTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    produce(300, "71");
    const auto consumed = consume();
    ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
    ASSERT_EQ(parse_json(consumed.out)["consumed"].GetUint64(), 300U);
    m_ends = log_ends();
    ASSERT_EQ(database(), m_ends);
    // consume commits to Kafka asynchronously after each transaction.
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (kafka_committed() != m_ends && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(kafka_committed(), m_ends) << "consume's commits to Kafka did not arrive";
  }

  void produce(int count, const std::string& seed) {
    const auto produced = test::run_foodpipe({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                              std::to_string(count), "--seed", seed, "--quiet"});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  test::CommandResult consume() {
    return test::run_foodpipe(
        {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--json", "--quiet"});
  }

  test::CommandResult offsets(std::vector<std::string> extra, bool json = true) {
    std::vector<std::string> args = {"offsets", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group};
    if (json) {
      args.emplace_back("--json");
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_foodpipe(args);
  }

  // The "after" of each partition in a --json report; fails the test unless
  // the command succeeded.
  Offsets after_of(const test::CommandResult& result, bool executed) { return after_of(result, executed, m_group); }

  Offsets after_of(const test::CommandResult& result, bool executed, const std::string& group) {
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    const auto report = parse_json(result.out);
    Offsets after;
    if (!report.IsObject()) {
      return after;
    }
    EXPECT_EQ(report["executed"].GetBool(), executed);
    EXPECT_EQ(std::string(report["group"].GetString()), group);
    EXPECT_EQ(std::string(report["topic"].GetString()), m_topic);
    for (const auto& p : report["partitions"].GetArray()) {
      after[p["partition"].GetInt()] = p["after"].GetInt64();
    }
    return after;
  }

  Offsets database() {
    auto connection = db::Connection::connect(m_db.conninfo());
    return db::stored_offsets(connection, m_group, m_topic);
  }

  Offsets kafka_committed() {
    kafka::GroupAdmin admin(settings());
    return admin.committed_offsets(m_group, m_topic, {0, 1, 2}, 10s);
  }

  Offsets log_ends() {
    kafka::Reader reader(settings());
    Offsets ends;
    for (const auto partition : reader.partitions(m_topic, 10s)) {
      ends[partition] = reader.watermarks(m_topic, partition, 10s).high;
    }
    return ends;
  }

  static Offsets all(std::int64_t offset) { return {{0, offset}, {1, offset}, {2, offset}}; }

  // Starts `foodpipe consume` of the group in the background and waits until
  // the broker lists it as a member.
  std::unique_ptr<test::BackgroundFoodpipe> start_member() {
    auto consumer = std::make_unique<test::BackgroundFoodpipe>(
        std::vector<std::string>{"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--quiet"});
    kafka::GroupAdmin admin(settings());
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < until) {
      const auto group = admin.describe_group(m_group, 10s);
      if (group.state == "Stable" && group.members.size() == 1U) {
        return consumer;
      }
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << "the consumer never became a member; stderr:\n" << consumer->stderr_so_far();
    return consumer;
  }

  static void stop(test::BackgroundFoodpipe& consumer) {
    consumer.signal(SIGTERM);
    const auto result = consumer.wait(60);
    EXPECT_EQ(result.err.find("foodpipe: error:"), std::string::npos) << result.err;
  }

  pipeline::OffsetsOptions options_for(pipeline::OffsetTarget target) {
    pipeline::OffsetsOptions options;
    options.kafka = settings();
    options.db_conninfo = m_db.uri();
    options.group = m_group;
    options.topic = m_topic;
    options.target = target;
    options.execute = true;
    return options;
  }

  test::ScratchDatabase m_db{"fpoffsets"};
  std::string m_topic = test::unique_name("offsets");
  std::string m_group = test::unique_name("offsetsgroup");
  Offsets m_ends;
};

TEST_F(OffsetsTest, ADryRunOfEveryTargetChangesNothing) {
  Offsets minus_ten;
  for (const auto& [partition, end] : m_ends) {
    minus_ten[partition] = end - 10;
  }
  const std::vector<std::pair<std::vector<std::string>, Offsets>> cases = {
      {{"--to-earliest"}, all(0)},
      {{"--to-latest"}, m_ends},
      {{"--to-offset", "5"}, all(5)},
      {{"--to-offset", "5", "--dry-run"}, all(5)},
      {{"--to-datetime=-1d"}, all(0)},
      {{"--to-datetime", "2100-01-01T00:00:00Z"}, m_ends},
      {{"--shift-by=-10"}, minus_ten},
  };
  for (const auto& [args, expected] : cases) {
    SCOPED_TRACE(args.front());
    const auto result = offsets(args);
    EXPECT_EQ(after_of(result, false), expected);
    const auto report = parse_json(result.out);
    for (const auto& p : report["partitions"].GetArray()) {
      const auto partition = p["partition"].GetInt();
      EXPECT_EQ(p["database_before"].GetInt64(), m_ends.at(partition));
      EXPECT_EQ(p["kafka_before"].GetInt64(), m_ends.at(partition));
      EXPECT_EQ(p["log_start"].GetInt64(), 0);
      EXPECT_EQ(p["log_end"].GetInt64(), m_ends.at(partition));
      EXPECT_FALSE(p["clamped"].GetBool());
    }
    EXPECT_EQ(database(), m_ends) << "a dry run wrote the database";
    EXPECT_EQ(kafka_committed(), m_ends) << "a dry run committed to Kafka";
  }

  const auto text = offsets({"--to-earliest"}, false);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("dry run, nothing changed"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("NEW OFFSET"), std::string::npos) << text.out;
}

TEST_F(OffsetsTest, ExecuteMovesTheDatabaseAndKafkaToTheSameOffsets) {
  EXPECT_EQ(after_of(offsets({"--to-offset", "5", "--execute"}), true), all(5));
  EXPECT_EQ(database(), all(5));
  EXPECT_EQ(kafka_committed(), all(5));

  // Kafka's own tool sees the same committed offsets.
  const auto described = test::run_kafka_tool({"consumer-groups", "--describe", "--group", m_group});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  int rows = 0;
  std::istringstream lines(described.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string group;
    std::string topic;
    std::string partition;
    std::string current;
    fields >> group >> topic >> partition >> current;
    if (group == m_group && topic == m_topic) {
      EXPECT_EQ(current, "5") << line;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 3) << described.out;

  EXPECT_EQ(after_of(offsets({"--to-latest", "--execute"}), true), m_ends);
  EXPECT_EQ(database(), m_ends);
  EXPECT_EQ(kafka_committed(), m_ends);

  Offsets minus_seven;
  for (const auto& [partition, end] : m_ends) {
    minus_seven[partition] = end - 7;
  }
  const auto shifted = offsets({"--shift-by=-7", "--execute"}, false);
  ASSERT_EQ(shifted.exit_code, 0) << shifted.err;
  EXPECT_NE(shifted.out.find("moved in the database and in Kafka"), std::string::npos) << shifted.out;
  EXPECT_EQ(database(), minus_seven);
  EXPECT_EQ(kafka_committed(), minus_seven);

  EXPECT_EQ(after_of(offsets({"--to-earliest", "--execute"}), true), all(0));
  EXPECT_EQ(database(), all(0));
  EXPECT_EQ(kafka_committed(), all(0));
}

TEST_F(OffsetsTest, TargetsOutsideTheLogAreClampedAsKafkaDoes) {
  // Partition 0's log start moves to 10 (as retention would move it).
  const auto plan = std::filesystem::temp_directory_path() / (m_topic + "-delete.json");
  std::ofstream(plan) << R"({"version":1,"partitions":[{"topic":")" << m_topic
                      << R"(","partition":0,"offset":10}]})";
  const auto deleted = test::run_kafka_tool({"delete-records", "--offset-json-file", plan.string()});
  std::filesystem::remove(plan);
  ASSERT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;

  const auto low = parse_json(offsets({"--to-offset", "3", "--partition", "0"}).out);
  ASSERT_TRUE(low.IsObject());
  ASSERT_EQ(low["partitions"].Size(), 1U);
  EXPECT_EQ(low["partitions"][0]["log_start"].GetInt64(), 10);
  EXPECT_EQ(low["partitions"][0]["after"].GetInt64(), 10);
  EXPECT_TRUE(low["partitions"][0]["clamped"].GetBool());

  const auto high = parse_json(offsets({"--to-offset", "1000000", "--execute"}).out);
  ASSERT_TRUE(high.IsObject());
  for (const auto& p : high["partitions"].GetArray()) {
    EXPECT_EQ(p["after"].GetInt64(), m_ends.at(p["partition"].GetInt()));
    EXPECT_TRUE(p["clamped"].GetBool());
  }
  EXPECT_EQ(database(), m_ends);
  EXPECT_EQ(kafka_committed(), m_ends);

  const auto text = offsets({"--shift-by=-100000", "--execute"}, false);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("below the log start, so 10 (clamped"), std::string::npos) << text.out;
  EXPECT_EQ(database(), (Offsets{{0, 10}, {1, 0}, {2, 0}}));
  EXPECT_EQ(kafka_committed(), (Offsets{{0, 10}, {1, 0}, {2, 0}}));
}

TEST_F(OffsetsTest, ToDatetimeMovesToTheFirstMessageAtOrAfterTheTime) {
  // Every message of the first 300 is older than `between`, every one of the
  // next 120 younger (timestamps are milliseconds: wait for the clock to pass).
  const auto between_time = std::chrono::system_clock::now() + 1ms;
  const auto between = domain::format_timestamp(std::chrono::time_point_cast<std::chrono::milliseconds>(between_time));
  while (std::chrono::system_clock::now() <= between_time + 1ms) {
    std::this_thread::sleep_for(1ms);
  }
  produce(120, "72");

  EXPECT_EQ(after_of(offsets({"--to-datetime", between, "--execute"}), true), m_ends);
  EXPECT_EQ(database(), m_ends);
  EXPECT_EQ(kafka_committed(), m_ends);
  // Kafka's own format without an offset (taken as UTC here).
  EXPECT_EQ(after_of(offsets({"--to-datetime", between.substr(0, between.size() - 1)}), false), m_ends);

  EXPECT_EQ(after_of(offsets({"--to-datetime=-1d", "--execute"}), true), all(0));
  const auto ends = log_ends();
  EXPECT_EQ(after_of(offsets({"--to-datetime", iso_in_a_minute(), "--execute"}), true), ends)
      << "no message is that late: the log end";
  EXPECT_EQ(database(), ends);
  EXPECT_EQ(kafka_committed(), ends);
}

TEST_F(OffsetsTest, PartitionLimitsTheChangeToThosePartitions) {
  const auto result = offsets({"--to-earliest", "--partition", "0", "--partition", "2", "--execute"});
  EXPECT_EQ(after_of(result, true), (Offsets{{0, 0}, {2, 0}}));
  EXPECT_EQ(database(), (Offsets{{0, 0}, {1, m_ends.at(1)}, {2, 0}}));
  EXPECT_EQ(kafka_committed(), (Offsets{{0, 0}, {1, m_ends.at(1)}, {2, 0}}));

  EXPECT_EQ(after_of(offsets({"--to-offset", "4", "--partition", "1,2", "--execute"}), true),
            (Offsets{{1, 4}, {2, 4}}));
  EXPECT_EQ(database(), (Offsets{{0, 0}, {1, 4}, {2, 4}}));
  EXPECT_EQ(kafka_committed(), (Offsets{{0, 0}, {1, 4}, {2, 4}}));
}

TEST_F(OffsetsTest, RefusedWhileAConsumerOfTheGroupRuns) {
  auto consumer = start_member();
  for (const auto& mode : {"--dry-run", "--execute"}) {
    const auto result = offsets({"--to-earliest", mode});
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_EQ(lines_of(result.err), 1U) << result.err;
    // Under --json the refusal is also the one object on stdout, with the same message.
    const auto error = parse_json(result.out);
    ASSERT_TRUE(error.IsObject()) << mode << ": " << result.out;
    EXPECT_EQ("foodpipe: error: " + std::string(error["error"].GetString()) + "\n", result.err) << mode;
    EXPECT_EQ(error["exit_code"].GetInt(), 1) << mode;
    EXPECT_NE(result.err.find("1 live member"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("stop the consumers of group " + m_group), std::string::npos) << result.err;
  }
  EXPECT_EQ(database(), m_ends);
  stop(*consumer);
  EXPECT_EQ(kafka_committed(), m_ends);
}

TEST_F(OffsetsTest, AKafkaRefusalRollsTheDatabaseBack) {
  const auto options = options_for(pipeline::OffsetTarget::earliest);
  const auto planned = pipeline::plan_offsets(options); // while the group is empty
  ASSERT_EQ(planned.partitions.size(), 3U);
  auto consumer = start_member();                        // then a member joins
  try {
    (void)pipeline::apply_offsets(options, planned);
    ADD_FAILURE() << "the broker accepted offsets for a group with a member";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("Kafka refused"), std::string::npos) << message;
    EXPECT_NE(message.find("the database was rolled back"), std::string::npos) << message;
    EXPECT_EQ(error.exit_code(), ExitCode::failure);
  }
  EXPECT_EQ(database(), m_ends) << "the database kept the new offsets although Kafka refused them";
  stop(*consumer);
  EXPECT_EQ(kafka_committed(), m_ends);
}

TEST_F(OffsetsTest, OffsetsMovedSinceThePlanAreNotOverwritten) {
  const auto options = options_for(pipeline::OffsetTarget::earliest);
  const auto planned = pipeline::plan_offsets(options);
  // A consumer's batch lands between the plan and its execution.
  (void)test::query_value(m_db.conninfo(), "UPDATE consumer_offsets SET next_offset = 7 WHERE group_id = '" + m_group +
                                               "' AND partition = 1");
  try {
    (void)pipeline::apply_offsets(options, planned);
    ADD_FAILURE() << "offsets moved since the plan were overwritten";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("moved since they were read (partition 1 is at 7, not " + std::to_string(m_ends.at(1))),
              std::string::npos)
        << message;
  }
  EXPECT_EQ(database(), (Offsets{{0, m_ends.at(0)}, {1, 7}, {2, m_ends.at(2)}}));
  EXPECT_EQ(kafka_committed(), m_ends) << "Kafka was written although the database check failed";
}

TEST_F(OffsetsTest, ConsumeReReadsFromTheOffsetMovedTo) {
  EXPECT_EQ(after_of(offsets({"--to-offset", "10", "--execute"}), true), all(10));
  std::uint64_t expected = 0;
  for (const auto& [partition, end] : m_ends) {
    expected += static_cast<std::uint64_t>(end - 10);
  }
  const auto again = consume();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto summary = parse_json(again.out);
  EXPECT_EQ(summary["consumed"].GetUint64(), expected);
  EXPECT_EQ(summary["duplicates"].GetUint64(), expected) << "the re-read orders are already stored";
  EXPECT_EQ(summary["applied"].GetUint64(), 0U);
  EXPECT_EQ(test::query_value(m_db.conninfo(), "SELECT count(*) FROM orders"), "300");
  EXPECT_EQ(database(), m_ends);
}

TEST_F(OffsetsTest, AShiftNeedsAStoredOffsetAndAnUnknownTopicOrPartitionIsAUsageError) {
  const std::string stranger = test::unique_name("nobody");
  const auto shift = test::run_foodpipe(
      {"offsets", "--db", m_db.uri(), "--topic", m_topic, "--group", stranger, "--shift-by", "5", "--json"});
  EXPECT_EQ(shift.exit_code, 2) << shift.out << shift.err;
  EXPECT_EQ(lines_of(shift.err), 1U) << shift.err;
  EXPECT_NE(shift.err.find("has no offset in the database"), std::string::npos) << shift.err;

  // Other targets work for a group that never ran: nothing before, on either side.
  const auto fresh = test::run_foodpipe(
      {"offsets", "--db", m_db.uri(), "--topic", m_topic, "--group", stranger, "--to-latest", "--json"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  const auto report = parse_json(fresh.out);
  for (const auto& p : report["partitions"].GetArray()) {
    EXPECT_TRUE(p["database_before"].IsNull());
    EXPECT_TRUE(p["kafka_before"].IsNull());
  }
  // --execute inserts the rows it had none of, and the broker takes offsets for a group it never saw.
  const auto inserted = test::run_foodpipe({"offsets", "--db", m_db.uri(), "--topic", m_topic, "--group", stranger,
                                            "--to-offset", "3", "--partition", "1", "--execute", "--json"});
  EXPECT_EQ(after_of(inserted, true, stranger), (Offsets{{1, 3}}));
  {
    auto connection = db::Connection::connect(m_db.conninfo());
    EXPECT_EQ(db::stored_offsets(connection, stranger, m_topic), (Offsets{{1, 3}}));
  }
  EXPECT_EQ(kafka::GroupAdmin(settings()).committed_offsets(stranger, m_topic, {0, 1, 2}, 10s), (Offsets{{1, 3}}));

  const auto topic = test::run_foodpipe({"offsets", "--db", m_db.uri(), "--topic", test::unique_name("nothere"),
                                         "--group", m_group, "--to-earliest"});
  EXPECT_EQ(topic.exit_code, 2) << topic.err;
  EXPECT_NE(topic.err.find("does not exist"), std::string::npos) << topic.err;
  const auto partition = offsets({"--to-earliest", "--partition", "7"});
  EXPECT_EQ(partition.exit_code, 2) << partition.err;
  EXPECT_NE(partition.err.find("has 3 partitions (0..2)"), std::string::npos) << partition.err;
  EXPECT_EQ(database(), m_ends);
}

} // namespace
} // namespace foodpipe
