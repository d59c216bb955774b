// What doctor and inspect topic conclude about replication from a cluster's
// metadata (plain structs, as the broker reported them): under-replicated and
// offline partitions, the ISR against min.insync.replicas, topics with fewer
// copies than the cluster can give.

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include "pipeline/doctor.hpp"
#include "pipeline/inspect.hpp"

namespace foodpipe::pipeline {
namespace {

kafka::BrokerInfo broker(std::int32_t id) { return {id, "localhost", 9092 + 100 * (id - 1)}; }

kafka::PartitionInfo partition(std::int32_t id, std::int32_t leader, std::vector<std::int32_t> replicas,
                               std::vector<std::int32_t> isr) {
  return {id, leader, std::move(replicas), std::move(isr)};
}

kafka::ClusterMetadata three_brokers(std::vector<kafka::TopicInfo> topics) {
  kafka::ClusterMetadata metadata;
  metadata.brokers = {broker(1), broker(2), broker(3)};
  metadata.topics = std::move(topics);
  return metadata;
}

KafkaFindings findings_of(const kafka::ClusterMetadata& metadata) {
  KafkaFindings findings;
  check_replication(metadata, findings);
  return findings;
}

TEST(ReplicationFindings, AHealthyClusterHasNothingToSay) {
  const auto findings = findings_of(three_brokers({{"orders", RD_KAFKA_RESP_ERR_NO_ERROR,
                                                    {partition(0, 1, {1, 2, 3}, {1, 2, 3}),
                                                     partition(1, 2, {2, 3, 1}, {2, 3, 1})}}}));
  EXPECT_EQ(findings.expected_replication_factor, 3);
  EXPECT_TRUE(findings.topics.empty());
  EXPECT_TRUE(findings.warnings.empty());
}

TEST(ReplicationFindings, OneBrokerExpectsOneCopy) {
  kafka::ClusterMetadata metadata;
  metadata.brokers = {broker(1)};
  metadata.topics = {{"orders", RD_KAFKA_RESP_ERR_NO_ERROR, {partition(0, 1, {1}, {1})}}};
  const auto findings = findings_of(metadata);
  EXPECT_EQ(findings.expected_replication_factor, 1);
  EXPECT_TRUE(findings.warnings.empty());
}

TEST(ReplicationFindings, ABrokerDownLeavesPartitionsUnderReplicatedOrOffline) {
  const auto findings = findings_of(three_brokers({
      {"orders", RD_KAFKA_RESP_ERR_NO_ERROR,
       {partition(0, 1, {1, 2, 3}, {1, 3}), partition(1, 3, {2, 3, 1}, {3, 1}), partition(2, 3, {3, 1, 2}, {3, 1, 2})}},
      {"single", RD_KAFKA_RESP_ERR_NO_ERROR, {partition(0, -1, {2}, {2})}},
  }));
  ASSERT_EQ(findings.topics.size(), 2U);
  EXPECT_EQ(findings.topics[0].topic, "orders");
  EXPECT_EQ(findings.topics[0].replication_factor, 3);
  EXPECT_FALSE(findings.topics[0].below_cluster_size);
  EXPECT_EQ(findings.topics[0].under_replicated, (std::vector<std::int32_t>{0, 1}));
  EXPECT_TRUE(findings.topics[0].offline.empty());
  EXPECT_EQ(findings.topics[1].topic, "single");
  EXPECT_TRUE(findings.topics[1].below_cluster_size);
  EXPECT_EQ(findings.topics[1].offline, (std::vector<std::int32_t>{0}));
  EXPECT_TRUE(findings.topics[1].under_replicated.empty()) << "its one replica is the whole ISR";

  ASSERT_EQ(findings.warnings.size(), 3U);
  EXPECT_EQ(findings.warnings[0].rfind("1 partition offline (no leader): single/0; ", 0), 0U) << findings.warnings[0];
  EXPECT_NE(findings.warnings[0].find("compose/broker start"), std::string::npos);
  EXPECT_EQ(findings.warnings[1].rfind("2 partitions under-replicated (fewer replicas in sync than assigned) in "
                                       "1 topic: orders (2 of 3); ",
                                       0),
            0U)
      << findings.warnings[1];
  EXPECT_NE(findings.warnings[1].find("foodpipe inspect topic"), std::string::npos);
  EXPECT_EQ(findings.warnings[2].rfind("1 topic with a replication factor below 3, what a cluster of 3 brokers "
                                       "can give: single (1); ",
                                       0),
            0U)
      << findings.warnings[2];
  EXPECT_NE(findings.warnings[2].find("kafka-reassign-partitions"), std::string::npos);
}

TEST(ReplicationFindings, ABrokerMissingFromTheMetadataStillCountsAndIsNamed) {
  kafka::ClusterMetadata metadata;
  metadata.brokers = {broker(1), broker(2)}; // 3 is down: fenced, no longer listed
  metadata.topics = {
      {"orders", RD_KAFKA_RESP_ERR_NO_ERROR, {partition(0, 1, {3, 1, 2}, {1, 2})}},
      {"__consumer_offsets", RD_KAFKA_RESP_ERR_NO_ERROR, {partition(0, 2, {2, 3, 1}, {2, 1})}},
      {"two", RD_KAFKA_RESP_ERR_NO_ERROR, {partition(0, 1, {1, 2}, {1, 2})}},
  };
  const auto findings = findings_of(metadata);
  EXPECT_EQ(findings.missing_brokers, (std::vector<std::int32_t>{3}));
  EXPECT_EQ(findings.expected_replication_factor, 3) << "the cluster has three brokers, one of them down";
  ASSERT_EQ(findings.warnings.size(), 3U);
  EXPECT_EQ(findings.warnings[0].rfind("broker 3 holds replicas but is not in the cluster's metadata: down or "
                                       "fenced; ",
                                       0),
            0U)
      << findings.warnings[0];
  EXPECT_NE(findings.warnings[1].find("in 2 topics: orders (1 of 1), __consumer_offsets (1 of 1); "),
            std::string::npos)
      << "the users' topics first: " << findings.warnings[1];
  EXPECT_NE(findings.warnings[2].find("1 topic with a replication factor below 3, what a cluster of 3 brokers "
                                      "can give: two (2); "),
            std::string::npos)
      << findings.warnings[2];
}

TEST(ReplicationFindings, AWarningNamesAFewAndCountsTheRest) {
  std::vector<kafka::TopicInfo> topics;
  for (int i = 0; i < 8; ++i) {
    std::string name = "t"; // += rather than "t" + ...: GCC 12 warns falsely (-Wrestrict) on the latter
    name += std::to_string(i);
    topics.push_back({name, RD_KAFKA_RESP_ERR_NO_ERROR, {partition(0, 1, {1}, {1})}});
  }
  topics.push_back({"gone", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, {}});
  const auto findings = findings_of(three_brokers(topics));
  EXPECT_EQ(findings.topics.size(), 8U) << "a topic the broker reports an error for is not judged";
  ASSERT_EQ(findings.warnings.size(), 1U);
  EXPECT_NE(findings.warnings[0].find("8 topics with a replication factor below 3"), std::string::npos);
  EXPECT_NE(findings.warnings[0].find(": t0 (1), t1 (1), t2 (1), t3 (1), t4 (1) and 3 more; "), std::string::npos)
      << findings.warnings[0];
}

TEST(ReplicationFindings, TheIsrAgainstMinInsyncReplicas) {
  TopicState topic;
  topic.min_insync_replicas = 2;
  PartitionState full;
  full.leader = 1;
  full.replicas = {1, 2, 3};
  full.in_sync_replicas = {1, 2, 3};
  auto one_down = full;
  one_down.in_sync_replicas = {1, 3};
  auto two_down = full;
  two_down.in_sync_replicas = {3};
  auto offline = full;
  offline.leader = -1;
  topic.partitions = {full, one_down, two_down, offline};

  EXPECT_FALSE(full.under_replicated());
  EXPECT_FALSE(topic.at_min_insync(full));
  EXPECT_FALSE(topic.below_min_insync(full));
  EXPECT_TRUE(one_down.under_replicated());
  EXPECT_TRUE(topic.at_min_insync(one_down));
  EXPECT_FALSE(topic.below_min_insync(one_down));
  EXPECT_TRUE(topic.below_min_insync(two_down));
  EXPECT_FALSE(topic.at_min_insync(two_down));
  EXPECT_TRUE(offline.offline());
  EXPECT_FALSE(full.offline());
  EXPECT_EQ(topic.replication_factor(), 3);

  topic.min_insync_replicas.reset();
  EXPECT_FALSE(topic.at_min_insync(one_down)) << "unknown minimum: nothing is claimed";
  EXPECT_FALSE(topic.below_min_insync(two_down));
}

} // namespace
} // namespace foodpipe::pipeline
