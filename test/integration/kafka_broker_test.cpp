// The broker that compose/up starts answers librdkafka's metadata request and
// speaks a protocol this librdkafka can form consumer groups with.

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include "kafka/admin.hpp"
#include "kafka/broker_probe.hpp"
#include "kafka/error.hpp"
#include "support/test_env.hpp"

namespace foodpipe::kafka {
namespace {

TEST(KafkaBroker, AnswersMetadata) {
  Admin admin(ClientSettings{test::bootstrap_servers(), {}});
  const auto metadata = admin.metadata(std::chrono::seconds(10));
  ASSERT_EQ(metadata.brokers.size(), 1U) << "compose/up runs a single-node cluster";
  EXPECT_EQ(metadata.brokers[0].id, 1);
  EXPECT_EQ(metadata.brokers[0].port, 9092);
  EXPECT_FALSE(metadata.cluster_id.empty());
}

TEST(KafkaBroker, UnknownTopicIsReportedPerTopic) {
  Admin admin(ClientSettings{test::bootstrap_servers(), {}});
  const auto name = test::unique_name("no_such_topic");
  const auto metadata = admin.metadata(std::chrono::seconds(10), name);
  ASSERT_EQ(metadata.topics.size(), 1U);
  // Automatic topic creation is off in compose/up's config.
  EXPECT_EQ(metadata.topics[0].error, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
}

TEST(KafkaBroker, SpeaksAProtocolThisLibrdkafkaCanGroupWith) {
  const auto address = first_bootstrap_server(test::bootstrap_servers());
  const auto versions = probe_api_versions(address.host, address.port, std::chrono::seconds(10));
  EXPECT_EQ(versions.error_code, 0);
  ASSERT_TRUE(versions.find(k_api_join_group).has_value());
  EXPECT_FALSE(group_incompatibility(versions, librdkafka_version_number(), test::bootstrap_servers()))
      << "compose/up must start a broker that librdkafka " << rd_kafka_version_str() << " can use";
}

TEST(KafkaBroker, UnreachableBrokerNamesTheAddressAndTheCause) {
  Admin admin(ClientSettings{"127.0.0.1:1", {}});
  try {
    (void)admin.metadata(std::chrono::seconds(3));
    FAIL() << "expected KafkaError";
  } catch (const KafkaError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("127.0.0.1:1"), std::string::npos) << message;
    EXPECT_NE(message.find("Connection refused"), std::string::npos) << message;
    EXPECT_NE(message.find("compose/up"), std::string::npos) << message;
  }
}

} // namespace
} // namespace foodpipe::kafka
