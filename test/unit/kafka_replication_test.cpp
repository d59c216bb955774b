// How many copies a created topic gets, from the cluster's size and what the
// user asked for (kafka::choose_replication).

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "kafka/replication.hpp"

namespace foodpipe::kafka {
namespace {

const std::string k_cluster = "localhost:9092";

ReplicationRequest asked(std::optional<int> replication_factor, std::optional<int> min_insync_replicas = {}) {
  ReplicationRequest request;
  if (replication_factor) {
    request.replication_factor =
        RequestedCount{*replication_factor, "--replication-factor " + std::to_string(*replication_factor)};
  }
  if (min_insync_replicas) {
    request.min_insync_replicas =
        RequestedCount{*min_insync_replicas, "--min-insync-replicas " + std::to_string(*min_insync_replicas)};
  }
  return request;
}

std::string usage_error(int brokers, const ReplicationRequest& request) {
  try {
    (void)choose_replication(brokers, request, k_cluster);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(Replication, DefaultsFollowTheClusterSize) {
  struct Case {
    int brokers;
    int replication_factor;
    int min_insync_replicas;
  };
  for (const auto& c : {Case{1, 1, 1}, Case{2, 2, 1}, Case{3, 3, 2}, Case{4, 3, 2}, Case{9, 3, 2}}) {
    const auto chosen = choose_replication(c.brokers, {}, k_cluster);
    EXPECT_EQ(chosen.brokers, c.brokers);
    EXPECT_EQ(chosen.replication_factor, c.replication_factor) << c.brokers << " brokers";
    EXPECT_EQ(chosen.min_insync_replicas, c.min_insync_replicas) << c.brokers << " brokers";
    EXPECT_FALSE(chosen.replication_factor_requested);
    EXPECT_FALSE(chosen.min_insync_replicas_requested);
  }
  EXPECT_EQ(default_replication_factor(1), 1);
  EXPECT_EQ(default_replication_factor(7), 3);
  EXPECT_EQ(default_min_insync_replicas(2), 1);
  EXPECT_EQ(default_min_insync_replicas(3), 2);
  EXPECT_EQ(default_min_insync_replicas(5), 2);
}

TEST(Replication, ARequestedFactorSetsTheDefaultMinimum) {
  const auto two = choose_replication(3, asked(2), k_cluster);
  EXPECT_EQ(two.replication_factor, 2);
  EXPECT_EQ(two.min_insync_replicas, 1)
      << "two copies with a minimum of 2 would stop writes whenever one broker is down";
  EXPECT_TRUE(two.replication_factor_requested);
  EXPECT_FALSE(two.min_insync_replicas_requested);

  const auto five = choose_replication(5, asked(5), k_cluster);
  EXPECT_EQ(five.replication_factor, 5);
  EXPECT_EQ(five.min_insync_replicas, 2);

  const auto both = choose_replication(3, asked(3, 3), k_cluster);
  EXPECT_EQ(both.replication_factor, 3);
  EXPECT_EQ(both.min_insync_replicas, 3);
  EXPECT_TRUE(both.min_insync_replicas_requested);

  const auto minimum_only = choose_replication(3, asked(std::nullopt, 1), k_cluster);
  EXPECT_EQ(minimum_only.replication_factor, 3);
  EXPECT_EQ(minimum_only.min_insync_replicas, 1);
}

TEST(Replication, NeverMoreThanTheClusterHasBrokers) {
  EXPECT_EQ(usage_error(1, asked(2)),
            "--replication-factor 2: the cluster at localhost:9092 has only 1 broker; use at most 1");
  EXPECT_EQ(usage_error(3, asked(4)),
            "--replication-factor 4: the cluster at localhost:9092 has only 3 brokers; use at most 3");
  EXPECT_EQ(usage_error(1, asked(std::nullopt, 2)),
            "--min-insync-replicas 2: the cluster at localhost:9092 has only 1 broker; use at most 1");
  EXPECT_EQ(usage_error(3, asked(3, 4)),
            "--min-insync-replicas 4: the cluster at localhost:9092 has only 3 brokers; use at most 3");
  EXPECT_EQ(usage_error(3, asked(3, 3)), "(no error)");
}

TEST(Replication, NeverAMinimumAboveTheFactor) {
  EXPECT_EQ(usage_error(3, asked(1, 2)),
            "--min-insync-replicas 2: more than the replication factor 1, so every write with acks=all would be "
            "refused; lower it or raise --replication-factor");
  EXPECT_EQ(usage_error(5, asked(std::nullopt, 4)),
            "--min-insync-replicas 4: more than the replication factor 3 chosen for 5 brokers at localhost:9092, so "
            "every write with acks=all would be refused; lower it or raise --replication-factor");
}

TEST(Replication, AMessageNamesWhereTheValueWasWritten) {
  ReplicationRequest request;
  request.replication_factor = RequestedCount{2, "replication-factor = 2 in app.conf (--replication-factor)"};
  EXPECT_EQ(usage_error(1, request),
            "replication-factor = 2 in app.conf (--replication-factor): the cluster at localhost:9092 has only 1 "
            "broker; use at most 1");
}

TEST(Replication, AClusterWithoutBrokersIsAnErrorNotAUsageError) {
  try {
    (void)choose_replication(0, {}, k_cluster);
    FAIL();
  } catch (const UsageError&) {
    FAIL() << "nothing the user wrote is wrong";
  } catch (const Error& error) {
    EXPECT_EQ(error.exit_code(), ExitCode::failure);
  }
}

TEST(Replication, TopicConfigAndDescription) {
  const auto chosen = choose_replication(3, {}, k_cluster);
  EXPECT_EQ(chosen.topic_configs(), (Properties{{"min.insync.replicas", "2"}}));
  EXPECT_EQ(chosen.describe(), "replication factor 3, min.insync.replicas 2 (the defaults for 3 brokers)");
  EXPECT_EQ(choose_replication(3, asked(2), k_cluster).describe(),
            "replication factor 2, min.insync.replicas 1 (replication factor as asked, the other the default, on 3 "
            "brokers)");
  EXPECT_EQ(choose_replication(1, asked(1, 1), k_cluster).describe(),
            "replication factor 1, min.insync.replicas 1 (as asked, on 1 broker)");
}

} // namespace
} // namespace foodpipe::kafka
