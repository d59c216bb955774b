// Broker failures on the three-node cluster (compose/up --brokers 3): a leader
// killed under a fast producer, a broker killed and brought back under a group
// of two consumers, the group coordinator killed, a rolling restart under a
// steady load, one consume --until-end losing its coordinator, and two of
// three brokers down. Each test ends with exact
// counts and inspect --verify, and prints how long the pipeline took to
// recover ("[ recovery ]" lines, for the record).

#include <chrono>
#include <csignal>
#include <iostream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "kafka/admin.hpp"
#include "kafka/reader.hpp"
#include "support/stack.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::parse_json;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// An orderly stop of one node (SIGTERM: controlled shutdown), as a rolling
// restart does it.
void stop_broker(int node) {
  const auto stopped = test::run_command(test::source_dir() + "/compose/broker", {"stop", std::to_string(node)});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
}

void record(const std::string& what, double seconds) {
  std::cout << "[ recovery ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name() << ": " << what
            << " " << seconds << " s\n";
}

class BrokerFailures : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    kafka::Admin admin(settings());
    admin.create_topic(m_topic, 3, 3, {{"min.insync.replicas", "2"}}, 30s);
    admin.create_topic(m_topic + ".dlq", 3, 3, {{"min.insync.replicas", "2"}}, 30s);
  }

  // Every node runs again and every partition of the topic is fully in sync,
  // whatever the test did.
  void TearDown() override {
    test::restart_stopped_brokers();
    EXPECT_TRUE(test::wait_until_fully_replicated(120s));
  }

  [[nodiscard]] kafka::ClientSettings settings() const { return {test::cluster_bootstrap_servers(), {}}; }

  std::vector<std::string> with_cluster(std::vector<std::string> args) const {
    args.insert(args.end(), {"--bootstrap-servers", test::cluster_bootstrap_servers()});
    return args;
  }

  // The node that leads `partition` of the topic now.
  std::int32_t leader_of(int partition) {
    const auto metadata = kafka::Admin(settings()).metadata(30s, m_topic);
    return metadata.topics.at(0).partitions.at(static_cast<std::size_t>(partition)).leader;
  }

  // Waits until every partition of the topic has its three replicas in sync.
  bool wait_in_sync(std::chrono::seconds timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      try {
        const auto metadata = kafka::Admin(settings()).metadata(10s, m_topic);
        bool in_sync = !metadata.topics.empty() && !metadata.topics[0].partitions.empty();
        for (const auto& partition : metadata.topics[0].partitions) {
          in_sync = in_sync && partition.leader >= 0 && partition.in_sync_replicas.size() == 3;
        }
        if (in_sync) {
          return true;
        }
      } catch (const std::exception&) {
        // a broker may be between states; ask again
      }
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }

  std::int64_t log_end_total() {
    std::int64_t total = 0;
    for (int p = 0; p < 3; ++p) {
      total += kafka::Reader(settings()).watermarks(m_topic, p, 30s).high;
    }
    return total;
  }

  std::string sql(const std::string& query) { return test::query_value(m_db.conninfo(), query); }
  std::int64_t rows() { return std::stoll(sql("SELECT count(*) FROM orders")); }

  // Orders produced before the failure (fast, no failure involved).
  void produce_all(int count) {
    const auto produced = test::run_foodpipe(
        with_cluster({"produce", "--topic", m_topic, "--rate", "0", "--count", std::to_string(count), "--quiet"}));
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
  }

  test::BackgroundFoodpipe start_consumer(const std::string& idle_timeout = "0") {
    return test::BackgroundFoodpipe(with_cluster({"consume", "--db", m_db.uri(), "--topic", m_topic, "--group",
                                                  m_group, "--json", "--quiet", "--idle-timeout", idle_timeout}));
  }

  // The stored offsets equal the log end, every row is there once, no dead
  // letter, and the audit accounts for every offset.
  void expect_exactly_once(std::int64_t expected) {
    std::cout << "[ counts   ] rows " << rows() << ", distinct order ids " << sql("SELECT count(DISTINCT order_id) FROM orders")
              << ", dead letters " << sql("SELECT count(*) FROM dead_letters") << ", stored offsets "
              << sql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = '" + m_group + "'")
              << ", log end " << log_end_total() << "\n";
    EXPECT_EQ(rows(), expected);
    EXPECT_EQ(sql("SELECT count(DISTINCT order_id) FROM orders"), std::to_string(expected));
    EXPECT_EQ(sql("SELECT count(*) FROM dead_letters"), "0");
    EXPECT_EQ(sql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = '" + m_group + "'"),
              std::to_string(log_end_total()));
    const auto verify = test::run_foodpipe(
        with_cluster({"inspect", "--verify", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--quiet"}));
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }

  // Waits until `expected` rows are stored; returns false after `timeout`.
  bool wait_for_rows(std::int64_t expected, std::chrono::seconds timeout) {
    const auto until = Clock::now() + timeout;
    while (rows() < expected && Clock::now() < until) {
      std::this_thread::sleep_for(200ms);
    }
    return rows() >= expected;
  }

  // kill -9 of `node` while consumers run; returns when it happened, once
  // 1,000 more rows are stored (or two minutes passed), recording how long that took.
  Clock::time_point kill_under_consumers(std::int32_t node, const std::string& what) {
    const auto killed = Clock::now();
    const auto rows_at_kill = rows();
    test::kill_broker(node);
    while (rows() <= rows_at_kill + 1000 && seconds_since(killed) < 120) {
      std::this_thread::sleep_for(200ms);
    }
    record(what, seconds_since(killed));
    return killed;
  }

  // The node that coordinates the group, from Kafka's own tool; asked again
  // for up to a minute (right after a kill the tool may time out finding it).
  std::int32_t coordinator_of_group() {
    static const std::regex id(R"(:\d+\s+\((\d+)\))");
    const auto until = Clock::now() + 60s;
    std::string last;
    while (Clock::now() < until) {
      const auto described = test::run_kafka_tool({"consumer-groups", "--bootstrap-server",
                                                    test::cluster_bootstrap_servers(), "--describe", "--group",
                                                    m_group, "--state", "--timeout", "10000"});
      std::smatch match;
      if (std::regex_search(described.out, match, id)) {
        return std::stoi(match[1].str());
      }
      last = described.out + described.err.substr(0, 2000);
      std::this_thread::sleep_for(1s);
    }
    ADD_FAILURE() << "no coordinator in:\n" << last;
    return -1;
  }

  test::ScratchDatabase m_db{"fpcluster"};
  std::string m_topic = test::unique_name("cluster");
  std::string m_group = test::unique_name("group");
};

TEST_F(BrokerFailures, ProduceLosesAndDoublesNothingWhenALeaderIsKilled) {
  test::BackgroundFoodpipe producer(with_cluster(
      {"produce", "--topic", m_topic, "--rate", "50000", "--count", "300000", "--json", "--quiet"}));
  std::this_thread::sleep_for(2s);
  const auto victim = leader_of(0);
  const auto killed = Clock::now();
  test::kill_broker(victim);
  const auto result = producer.wait(300);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["delivered"].GetUint64() + summary["failed"].GetUint64(), 300000U);
  EXPECT_EQ(summary["delivered"].GetUint64(), 300000U);
  record("produce finished after the kill in", seconds_since(killed));
  std::cout << "[ recovery ] p99 delivery latency " << summary["latency_ms"]["p99"].GetDouble() << " ms\n";
  EXPECT_EQ(log_end_total(), 300000) << "each delivered order in the topic once (idempotence)";

  const auto consumed = test::run_foodpipe(with_cluster(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--json", "--quiet"}));
  ASSERT_EQ(consumed.exit_code, 0) << consumed.err;
  EXPECT_EQ(parse_json(consumed.out)["duplicates"].GetUint64(), 0U);
  expect_exactly_once(300000);
}

TEST_F(BrokerFailures, TwoConsumersLoseAndDoubleNothingWhenABrokerIsKilledAndBroughtBack) {
  produce_all(300000);
  auto first = start_consumer("20");
  auto second = start_consumer("20");
  ASSERT_TRUE(wait_for_rows(60000, 120s)) << first.stderr_so_far() << second.stderr_so_far();
  // A partition leader that is not the coordinator: the group itself stays.
  auto victim = leader_of(1);
  if (victim == coordinator_of_group()) {
    victim = leader_of(2) != victim ? leader_of(2) : leader_of(0);
  }
  const auto killed = kill_under_consumers(victim, "rows growing again after the kill in");
  std::this_thread::sleep_for(5s);
  test::start_broker(victim);
  ASSERT_TRUE(wait_for_rows(300000, 240s)) << first.stderr_so_far() << second.stderr_so_far();
  record("all rows stored after the kill in", seconds_since(killed));
  for (auto* consumer : {&first, &second}) {
    const auto result = consumer->wait(120);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_STREQ(parse_json(result.out)["stopped_by"].GetString(), "idle");
  }
  expect_exactly_once(300000);
}

// Whether the members' sessions time out depends on how soon they find the
// new coordinator (1 s or 10+ s, run to run). When they do, they rejoin under
// the new coordinator, which first waits for the old members (12-15 s more
// here). Orders keep coming at 1,000 a second for 40 s, so a consumer is never
// idle except in that wait: one that counted it as idle time (10 s) would stop
// with the lag unread.
TEST_F(BrokerFailures, TheGroupReformsWhenItsCoordinatorIsKilled) {
  produce_all(200000);
  auto first = start_consumer("10");
  auto second = start_consumer("10");
  ASSERT_TRUE(wait_for_rows(40000, 120s)) << first.stderr_so_far() << second.stderr_so_far();
  const auto coordinator = coordinator_of_group();
  ASSERT_GT(coordinator, 0);
  test::BackgroundFoodpipe producer(
      with_cluster({"produce", "--topic", m_topic, "--rate", "1000", "--count", "40000", "--quiet"}));
  const auto killed = kill_under_consumers(coordinator, "rows growing again after the coordinator was killed in");
  ASSERT_TRUE(wait_for_rows(200000, 240s)) << first.stderr_so_far() << second.stderr_so_far();
  record("the backlog stored after the kill in", seconds_since(killed));
  const auto produced = producer.wait(120);
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  ASSERT_TRUE(wait_for_rows(240000, 120s)) << first.stderr_so_far() << second.stderr_so_far();
  record("all rows stored after the kill in", seconds_since(killed));
  EXPECT_NE(coordinator_of_group(), coordinator) << "another broker coordinates the group";
  for (auto* consumer : {&first, &second}) {
    const auto result = consumer->wait(120);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_STREQ(parse_json(result.out)["stopped_by"].GetString(), "idle");
    std::cout << "[ consumer ] session lost: "
              << (result.err.find("session timed out") != std::string::npos ? "yes" : "no") << "\n";
  }
  expect_exactly_once(240000);
}

// The hang this tier was written for: one consume --until-end whose group
// coordinator (which also leads a partition: three brokers, three partitions)
// is killed mid-run. It must keep polling, find the new coordinator and
// leaders, and end on its own.
TEST_F(BrokerFailures, UntilEndFinishesWhenTheCoordinatorThatLeadsAPartitionIsKilled) {
  produce_all(200000);
  test::BackgroundFoodpipe consumer(with_cluster(
      {"consume", "--db", m_db.uri(), "--topic", m_topic, "--group", m_group, "--until-end", "--json", "--quiet"}));
  ASSERT_TRUE(wait_for_rows(20000, 120s)) << consumer.stderr_so_far();
  const auto coordinator = coordinator_of_group();
  ASSERT_GT(coordinator, 0);
  const auto killed = Clock::now();
  test::kill_broker(coordinator);
  const auto result = consumer.wait(240);
  record("consume --until-end ended after the kill in", seconds_since(killed));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_STREQ(parse_json(result.out)["stopped_by"].GetString(), "end");
  expect_exactly_once(200000);
}

TEST_F(BrokerFailures, ARollingRestartUnderLoadLosesNothingAndNoConsumerExits) {
  // produce runs until told to stop, so every restart happens under load however
  // long the nodes take to come back (16-60 s each, depending on the machine),
  // and for at least a minute on a machine where they come back quickly.
  constexpr double rate = 2000;
  constexpr double least_seconds = 65;
  const auto load_started = Clock::now();
  test::BackgroundFoodpipe producer(
      with_cluster({"produce", "--topic", m_topic, "--rate", "2000", "--json", "--quiet"}));
  auto consumer = start_consumer();
  std::this_thread::sleep_for(5s);
  for (int node = 1; node <= 3; ++node) {
    const auto restarted = Clock::now();
    stop_broker(node); // an orderly restart: SIGTERM, then start again
    test::start_broker(node);
    ASSERT_TRUE(wait_in_sync(120s)) << "node " << node;
    record("node " + std::to_string(node) + " back in sync in", seconds_since(restarted));
  }
  if (const double so_far = seconds_since(load_started); so_far < least_seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(least_seconds - so_far));
  }
  const double loaded = seconds_since(load_started);
  producer.signal(SIGTERM);
  const auto produced = producer.wait(180);
  ASSERT_EQ(produced.exit_code, 128 + SIGTERM) << "produce ran through every restart: " << produced.err;
  const auto delivered = static_cast<std::int64_t>(parse_json(produced.out)["delivered"].GetUint64());
  EXPECT_EQ(parse_json(produced.out)["failed"].GetUint64(), 0U);
  // The rate's schedule is absolute (a late message does not push the next
  // ones back), so a producer that stalled through a restart falls short here.
  EXPECT_GT(static_cast<double>(delivered), 0.9 * rate * loaded)
      << "at 2,000 a second for " << loaded << " s: the producer kept its rate through every restart";
  ASSERT_TRUE(wait_for_rows(delivered, 120s)) << consumer.stderr_so_far();
  EXPECT_EQ(consumer.stderr_so_far().find("foodpipe: error"), std::string::npos) << consumer.stderr_so_far();
  // Lag back to 0 while the consumer still runs.
  const auto lag = test::run_foodpipe(with_cluster({"inspect", "group", "--db", m_db.uri(), "--topic", m_topic,
                                                    "--group", m_group, "--max-lag", "0"}));
  EXPECT_EQ(lag.exit_code, 0) << lag.out << lag.err;
  consumer.signal(SIGTERM);
  const auto stopped = consumer.wait(60);
  EXPECT_EQ(stopped.exit_code, 128 + SIGTERM) << stopped.err;
  expect_exactly_once(delivered);
}

TEST_F(BrokerFailures, WithTwoOfThreeBrokersDownProduceFailsVisiblyAndConsumeStillStopsOnSigterm) {
  ASSERT_TRUE(wait_in_sync(60s));
  produce_all(1000);
  auto consumer = start_consumer();
  ASSERT_TRUE(wait_for_rows(1000, 60s)) << consumer.stderr_so_far();
  test::kill_broker(2);
  test::kill_broker(3);
  const auto started = Clock::now();
  const auto result = test::run_foodpipe(with_cluster({"produce", "--topic", m_topic, "--rate", "0", "--count",
                                                       "100", "--json", "--quiet", "-X", "message.timeout.ms=15000",
                                                       "--flush-timeout", "30"}));
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  const auto summary = parse_json(result.out);
  EXPECT_EQ(summary["delivered"].GetUint64(), 0U) << "acks=all: nothing is reported delivered";
  EXPECT_EQ(summary["failed"].GetUint64(), 100U);
  const bool named = result.err.find("NOT_ENOUGH_REPLICAS") != std::string::npos ||
                     result.err.find("Not enough in-sync replicas") != std::string::npos ||
                     result.err.find("timed out") != std::string::npos ||
                     result.err.find("MSG_TIMED_OUT") != std::string::npos;
  EXPECT_TRUE(named) << result.err;
  EXPECT_NE(result.err.find("foodpipe: error: 100 of 100 orders were not acknowledged by the brokers ("),
            std::string::npos)
      << result.err;
  record("produce gave up after", seconds_since(started));
  std::cout << "[ stderr   ] " << result.err.substr(result.err.rfind('\n', result.err.size() - 2) + 1);

  // The consumer, its coordinator or leaders perhaps gone, still polls: SIGTERM ends it.
  const auto signalled = Clock::now();
  consumer.signal(SIGTERM);
  const auto stopped = consumer.wait(60);
  EXPECT_EQ(stopped.exit_code, 128 + SIGTERM) << stopped.err;
  record("consume stopped on SIGTERM, two brokers down, in", seconds_since(signalled));
  EXPECT_LT(seconds_since(signalled), 30);
  EXPECT_EQ(rows(), 1000);
}

} // namespace
} // namespace foodpipe
