// Replication on the single-node stack: produce chooses replication factor 1
// and min.insync.replicas 1, says so and sets them on the broker; asking for
// more copies than the one broker is a usage error before anything is
// created; inspect topic and doctor show the replication columns and find
// nothing to warn about. (The three-broker cluster: test/cluster.)

#include <thread>

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "kafka/admin.hpp"
#include "kafka/group_admin.hpp"
#include "support/test_env.hpp"

namespace foodpipe {
namespace {

using namespace std::chrono_literals;

kafka::ClientSettings settings() { return {test::bootstrap_servers(), {}}; }

// A topic created a moment ago may take a few milliseconds to reach every
// broker's metadata cache.
kafka::TopicInfo wait_for_topic(const std::string& topic) {
  kafka::Admin admin(settings());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto metadata = admin.metadata(10s, topic);
    if (!metadata.topics.empty() && metadata.topics[0].error == RD_KAFKA_RESP_ERR_NO_ERROR &&
        !metadata.topics[0].partitions.empty()) {
      return metadata.topics[0];
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "topic " << topic << " did not appear";
      return {};
    }
    std::this_thread::sleep_for(100ms);
  }
}

bool topic_exists(const std::string& topic) {
  kafka::Admin admin(settings());
  const auto metadata = admin.metadata(10s);
  for (const auto& info : metadata.topics) {
    if (info.name == topic) {
      return true;
    }
  }
  return false;
}

TEST(Replication, ProduceChoosesOneCopyOnOneBrokerSaysSoAndSetsIt) {
  const auto topic = test::unique_name("replication_default");
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--count", "5", "--rate", "0", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = test::parse_json(result.out);
  EXPECT_EQ(summary["replication_factor"].GetInt(), 1);
  EXPECT_EQ(summary["min_insync_replicas"].GetInt(), 1);
  EXPECT_EQ(summary["cluster_brokers"].GetInt(), 1);
  EXPECT_NE(result.err.find("info [produce] replication of created topics replication_factor=1 "
                            "min_insync_replicas=1 brokers=1 requested=none\n"),
            std::string::npos)
      << result.err;

  kafka::GroupAdmin admin(settings());
  for (const auto& name : {topic, topic + ".dlq"}) {
    const auto info = wait_for_topic(name);
    ASSERT_EQ(info.partitions.size(), 3U) << name;
    for (const auto& partition : info.partitions) {
      EXPECT_EQ(partition.replicas.size(), 1U) << name << "/" << partition.id;
    }
    EXPECT_EQ(admin.topic_config(name, 10s).at("min.insync.replicas"), "1") << name;
  }
}

TEST(Replication, AskingForWhatOneBrokerHasIsTaken) {
  const auto topic = test::unique_name("replication_asked");
  const auto result = test::run_foodpipe({"produce", "--topic", topic, "--count", "1", "--rate", "0", "--json",
                                          "--replication-factor", "1", "--min-insync-replicas", "1"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(test::parse_json(result.out)["replication_factor"].GetInt(), 1);
  EXPECT_NE(result.err.find("requested=both"), std::string::npos) << result.err;
}

TEST(Replication, MoreCopiesThanBrokersIsAUsageErrorBeforeAnyTopicIsCreated) {
  for (const auto& [flag, value] : {std::pair{"--replication-factor", "2"}, std::pair{"--min-insync-replicas", "2"}}) {
    const auto topic = test::unique_name("replication_refused");
    const auto result = test::run_foodpipe({"produce", "--topic", topic, "--count", "1", "--rate", "0", flag, value});
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.err, std::string("foodpipe: error: ") + flag + " " + value + ": the cluster at " +
                              test::bootstrap_servers() + " has only 1 broker; use at most 1\n");
    EXPECT_TRUE(result.out.empty()) << result.out;
    EXPECT_FALSE(topic_exists(topic)) << "nothing is created when the request cannot be met";
    EXPECT_FALSE(topic_exists(topic + ".dlq"));
  }
}

TEST(Replication, InspectTopicShowsReplicasInSyncAndTheMinimum) {
  const auto topic = test::unique_name("replication_inspect");
  const auto produced = test::run_foodpipe({"produce", "--topic", topic, "--count", "30", "--rate", "0", "--quiet"});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  (void)wait_for_topic(topic + ".dlq");

  const auto json = test::run_foodpipe({"inspect", "topic", "--topic", topic, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto view = test::parse_json(json.out);
  EXPECT_EQ(view["missing_brokers"].Size(), 0U);
  const auto& t = view["topics"][0];
  EXPECT_STREQ(t["name"].GetString(), topic.c_str());
  EXPECT_EQ(t["replication_factor"].GetInt(), 1);
  EXPECT_EQ(t["min_insync_replicas"].GetInt(), 1);
  EXPECT_EQ(t["under_replicated_partitions"].GetInt(), 0);
  EXPECT_EQ(t["offline_partitions"].GetInt(), 0);
  std::int64_t messages = 0;
  for (const auto& p : t["partitions"].GetArray()) {
    EXPECT_EQ(p["replicas"].Size(), 1U);
    EXPECT_EQ(p["isr"].Size(), 1U);
    EXPECT_EQ(p["leader"].GetInt(), p["replicas"][0].GetInt());
    EXPECT_FALSE(p["under_replicated"].GetBool());
    EXPECT_FALSE(p["offline"].GetBool());
    EXPECT_TRUE(p["isr_at_min"].GetBool()) << "one copy in sync is exactly the minimum of 1";
    EXPECT_FALSE(p["isr_below_min"].GetBool());
    messages += p["messages"].GetInt64();
  }
  EXPECT_EQ(messages, 30);
  EXPECT_EQ(view["topics"][1]["min_insync_replicas"].GetInt(), 1);

  const auto text = test::run_foodpipe({"inspect", "topic", "--topic", topic});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("replication factor 1, min.insync.replicas 1\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("PARTITION  LEADER  REPLICAS  ISR  STATUS  LOW  HIGH  MESSAGES"), std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("under-replicated"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("offline"), std::string::npos) << text.out;
}

TEST(Replication, DoctorFindsNothingToWarnAboutOnOneBroker) {
  // The database half is not what this is about: only Kafka's findings are checked.
  const auto json = test::run_foodpipe({"doctor", "--json"});
  const auto report = test::parse_json(json.out);
  EXPECT_STREQ(report["kafka"]["problem"].GetString(), "") << json.out;
  EXPECT_EQ(report["kafka"]["brokers"].GetInt(), 1);
  EXPECT_EQ(report["kafka"]["expected_replication_factor"].GetInt(), 1);
  EXPECT_EQ(report["kafka"]["replication"].Size(), 0U) << json.out;
  EXPECT_EQ(report["kafka"]["warnings"].Size(), 0U) << json.out;

  const auto text = test::run_foodpipe({"doctor"});
  EXPECT_EQ(text.out.find("warning"), std::string::npos) << text.out;
}

} // namespace
} // namespace foodpipe
