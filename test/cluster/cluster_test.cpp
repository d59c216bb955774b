// compose/up --brokers 3 gives the chaos tests what they need: three brokers in
// one cluster, topics replicated three times that keep taking acks=all writes
// while one broker is dead, and a killed broker that compose/broker brings back
// into every in-sync replica set.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include "kafka/admin.hpp"
#include "kafka/error.hpp"
#include "kafka/group_admin.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "support/stack.hpp"
#include "support/test_env.hpp"

namespace foodpipe::kafka {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

ClientSettings cluster_settings() { return ClientSettings{test::cluster_bootstrap_servers(), {}}; }

// The topic's partitions as the cluster sees them now.
std::vector<PartitionInfo> partitions_of(Admin& admin, const std::string& topic) {
  const auto metadata = admin.metadata(10s, topic);
  if (metadata.topics.size() != 1 || metadata.topics[0].error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {};
  }
  return metadata.topics[0].partitions;
}

bool every_isr_holds(const std::vector<PartitionInfo>& partitions, std::size_t size) {
  return !partitions.empty() && std::all_of(partitions.begin(), partitions.end(), [size](const PartitionInfo& p) {
    return p.in_sync_replicas.size() == size;
  });
}

bool contains(const std::vector<std::int32_t>& ids, std::int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST(Cluster, ThreeBrokersAnswerInOneCluster) {
  Admin admin(cluster_settings());
  const auto metadata = admin.metadata(10s);
  std::vector<std::int32_t> ids;
  for (const auto& broker : metadata.brokers) {
    ids.push_back(broker.id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::int32_t>{1, 2, 3})) << "compose/up --brokers 3 runs nodes 1, 2 and 3";
  EXPECT_TRUE(contains(ids, metadata.controller_id)) << metadata.controller_id;
  EXPECT_FALSE(metadata.cluster_id.empty());
  for (int node = 1; node <= test::k_cluster_nodes; ++node) {
    EXPECT_GT(test::broker_pid(node), 0) << "compose/broker pid " << node;
  }
}

TEST(Cluster, ReplicatedTopicTakesAcksAllWritesWhileABrokerIsDeadAndHealsWhenItReturns) {
  test::RestartKilledBrokers restore;
  ASSERT_TRUE(test::wait_until_fully_replicated(60s)) << "the cluster did not start with full ISRs";
  const auto topic = test::unique_name("cluster_rf3");
  Admin admin(cluster_settings());
  ASSERT_EQ(admin.create_topic(topic, 3, 3, {{"min.insync.replicas", "2"}}, 30s), Admin::CreateResult::created);

  // Created: three replicas each, all in sync, and the minimum ISR it was given.
  std::vector<PartitionInfo> partitions;
  for (const auto deadline = Clock::now() + 30s; Clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    partitions = partitions_of(admin, topic);
    if (partitions.size() == 3 && every_isr_holds(partitions, 3)) {
      break;
    }
  }
  ASSERT_EQ(partitions.size(), 3U);
  for (const auto& partition : partitions) {
    EXPECT_EQ(partition.replicas.size(), 3U) << "partition " << partition.id;
    EXPECT_EQ(partition.in_sync_replicas.size(), 3U) << "partition " << partition.id;
  }
  // Each broker learns of the topic from the metadata log in its own time: ask until one that
  // knows answers.
  GroupAdmin group_admin(cluster_settings());
  std::string min_isr;
  for (const auto deadline = Clock::now() + 30s; min_isr.empty() && Clock::now() < deadline;) {
    try {
      min_isr = group_admin.topic_config(topic, 10s)["min.insync.replicas"];
    } catch (const KafkaError& error) {
      std::this_thread::sleep_for(100ms);
    }
  }
  EXPECT_EQ(min_isr, "2");

  // The worst broker to lose: the one that leads partition 0.
  const std::int32_t victim = partitions[0].leader;
  ASSERT_GE(victim, 1);
  ASSERT_LE(victim, test::k_cluster_nodes);
  ASSERT_GT(test::kill_broker(victim), 0);
  EXPECT_LT(test::broker_pid(victim), 0) << "node " << victim << " still runs after kill -9";
  const auto killed_at = Clock::now();

  // acks=all with two of three replicas: every message is delivered, each once.
  constexpr int k_messages = 3000;
  int delivered = 0;
  int failed = 0;
  std::string first_error;
  {
    Producer producer(cluster_settings(), {{"acks", "all"}, {"enable.idempotence", "true"}},
                      [&](kafka::MessageView report) {
                        if (report.ok()) {
                          ++delivered;
                        } else {
                          ++failed;
                          if (first_error.empty()) {
                            first_error = report.error_text();
                          }
                        }
                      });
    for (int i = 0; i < k_messages; ++i) {
      ASSERT_TRUE(producer.produce(topic, "key-" + std::to_string(i % 97), "value-" + std::to_string(i), nullptr,
                                   nullptr));
    }
    EXPECT_EQ(producer.close(120s), 0) << "messages still in flight after 120 s";
  }
  const double produced_s = seconds_since(killed_at);
  EXPECT_EQ(delivered, k_messages) << first_error;
  EXPECT_EQ(failed, 0) << first_error;
  // A new client may first ask the dead leader's successor-to-be before the metadata moved
  // (NOT_LEADER_FOR_PARTITION): ask again until the partition's leader answers.
  Reader reader(cluster_settings());
  std::int64_t in_topic = 0;
  for (int partition = 0; partition < 3; ++partition) {
    for (const auto deadline = Clock::now() + 30s;;) {
      try {
        const auto marks = reader.watermarks(topic, partition, 10s);
        in_topic += marks.high - marks.low;
        break;
      } catch (const KafkaError& error) {
        ASSERT_LT(Clock::now(), deadline) << error.what();
        std::this_thread::sleep_for(200ms);
      }
    }
  }
  EXPECT_EQ(in_topic, k_messages);

  // The dead broker is out of every ISR and leads nothing (its writes went to the other two).
  partitions = partitions_of(admin, topic);
  ASSERT_EQ(partitions.size(), 3U);
  for (const auto& partition : partitions) {
    EXPECT_NE(partition.leader, victim) << "partition " << partition.id;
    EXPECT_FALSE(contains(partition.in_sync_replicas, victim)) << "partition " << partition.id;
    EXPECT_EQ(partition.in_sync_replicas.size(), 2U) << "partition " << partition.id;
  }

  // Back: the node rejoins and catches up; every ISR is full again within a minute.
  const auto restart_at = Clock::now();
  ASSERT_TRUE(test::start_broker(victim));
  const double back_s = seconds_since(restart_at);
  EXPECT_GT(test::broker_pid(victim), 0);
  bool healed = false;
  for (const auto deadline = restart_at + 60s; !healed && Clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    healed = every_isr_holds(partitions_of(admin, topic), 3);
  }
  const double healed_s = seconds_since(restart_at);
  EXPECT_TRUE(healed) << "the ISR of " << topic << " was not full again 60 s after node " << victim << " started";
  EXPECT_TRUE(test::wait_until_fully_replicated(60s)) << "internal topics still under-replicated";
  std::cout << "[cluster] killed node " << victim << "; " << delivered << " of " << k_messages
            << " acks=all messages delivered " << produced_s << " s after the kill; node back in the cluster "
            << back_s << " s after compose/broker start, ISR full after " << healed_s << " s\n";
}

} // namespace
} // namespace foodpipe::kafka
