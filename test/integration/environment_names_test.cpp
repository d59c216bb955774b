// The original Python pipeline's environment variables, and --client-id,
// against the real broker and PostgreSQL: what each one sets must reach Kafka
// (the topic produced to and consumed from, the group, where a new group
// starts, the client.id the broker sees).

#include <csignal>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;
using test::parse_json;

constexpr int k_orders = 20;

class EnvironmentNamesTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto seeded = test::run_foodpipe({"seed-db", "--db", m_db.uri()});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    const auto produced = test::run_foodpipe({"produce", "-b", test::bootstrap_servers(), "--count",
                                              std::to_string(k_orders), "--quiet", "--json"},
                                             {{"KAFKA_TOPIC_ORDERS", m_topic},
                                              {"PRODUCER_RATE", "0"},
                                              {"MOCK_SEED", "7"},
                                              {"PRODUCER_CLIENT_ID", "env-names-producer"}});
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
    const auto summary = parse_json(produced.out);
    EXPECT_EQ(std::string(summary["topic"].GetString()), m_topic);
    EXPECT_EQ(summary["delivered"].GetUint64(), static_cast<std::uint64_t>(k_orders));
    EXPECT_EQ(summary["seed"].GetUint64(), 7U);
  }

  // The consumer's variables for this test's topic and `group`.
  std::map<std::string, std::string> consumer_env(const std::string& group, const std::string& start) const {
    return {{"KAFKA_TOPIC_ORDERS", m_topic},
            {"CONSUMER_GROUP_ID", group},
            {"CONSUMER_AUTO_OFFSET_RESET", start}};
  }

  rapidjson::Document consume(const std::string& group, const std::string& start,
                              const std::vector<std::string>& stop) {
    std::vector<std::string> args = {"consume", "-b", test::bootstrap_servers(), "--db", m_db.uri(),
                                     "--quiet", "--json"};
    args.insert(args.end(), stop.begin(), stop.end());
    const auto result = test::run_foodpipe(args, consumer_env(group, start));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return parse_json(result.out);
  }

  test::ScratchDatabase m_db{"fpenvnames"};
  std::string m_topic = test::unique_name("envnames");
};

TEST_F(EnvironmentNamesTest, ConsumerAutoOffsetResetDecidesWhereANewGroupStarts) {
  // latest: the 20 orders already there are never read; nothing more comes, so the idle timeout ends it.
  const auto late = consume(test::unique_name("late"), "latest", {"--idle-timeout", "3"});
  EXPECT_EQ(late["consumed"].GetUint64(), 0U);
  EXPECT_STREQ(late["stopped_by"].GetString(), "idle");

  const auto group = test::unique_name("early");
  const auto early = consume(group, "earliest", {"--until-end"});
  EXPECT_EQ(early["consumed"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  EXPECT_EQ(early["applied"].GetUint64(), static_cast<std::uint64_t>(k_orders));
  const auto stored = test::query_value(
      m_db.conninfo(), "SELECT sum(next_offset) FROM consumer_offsets WHERE group_id = '" + group + "'");
  EXPECT_EQ(stored, std::to_string(k_orders));
}

TEST_F(EnvironmentNamesTest, ClientIdIsWhatTheBrokerShowsForTheMember) {
  const auto group = test::unique_name("clientid");
  test::BackgroundFoodpipe consumer({"consume", "-b", test::bootstrap_servers(), "--db", m_db.uri(),
                                     "--quiet", "--client-id", "env-names-consumer"},
                                    consumer_env(group, "earliest"));
  // Joining takes a rebalance; poll the group view until the broker lists the member.
  rapidjson::Document view;
  for (int attempt = 0; attempt < 60; ++attempt) {
    const auto result = test::run_foodpipe(
        {"inspect", "group", "-b", test::bootstrap_servers(), "--db", m_db.uri(), "--json"},
        consumer_env(group, ""));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    view = parse_json(result.out);
    if (view["members"].Size() == 1U) {
      break;
    }
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_EQ(view["members"].Size(), 1U);
  EXPECT_STREQ(view["members"][0]["client_id"].GetString(), "env-names-consumer");
  consumer.signal(SIGTERM);
  EXPECT_EQ(consumer.wait().exit_code, 128 + SIGTERM);
}

} // namespace
} // namespace foodpipe
