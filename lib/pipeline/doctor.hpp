#pragma once

// The doctor job: can foodpipe reach Kafka and PostgreSQL with these settings,
// can this librdkafka form consumer groups with that broker, and is the
// database seeded? Never throws for an unreachable service: that is a finding.
// It also warns about replication: partitions under-replicated or offline, and
// topics with fewer copies than the cluster can give (warnings, not failures).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafka/admin.hpp"
#include "kafka/config.hpp"

namespace foodpipe::pipeline {

struct DoctorOptions {
  kafka::ClientSettings kafka;
  std::string db_conninfo;
  std::chrono::seconds timeout{5};
};

// A topic with a replication finding: too few copies for the cluster, or
// partitions out of sync or without a leader.
struct TopicReplication {
  std::string topic;
  int replication_factor = 0;               // the most replicas any partition has
  bool below_cluster_size = false;          // replication_factor < min(3, brokers)
  std::vector<std::int32_t> under_replicated; // partitions whose ISR is smaller than their replicas
  std::vector<std::int32_t> offline;          // partitions without a leader
};

struct KafkaFindings {
  std::string bootstrap_servers;
  bool reachable = false;
  std::string cluster_id;
  int brokers = 0;
  std::string librdkafka_version;
  std::optional<bool> groups_supported; // nullopt when the probe could not run (TLS/SASL listener)
  std::string problem;                  // empty when all is well: what is wrong and what to do
  // Replication, over every topic of the cluster (internal ones too: a
  // __consumer_offsets on one broker stops every group when that broker does).
  // Brokers named among some partition's replicas but absent from the
  // metadata: down or fenced. `brokers` counts only those that answer.
  std::vector<std::int32_t> missing_brokers;
  // min(3, brokers + missing_brokers): what foodpipe creates topics with on
  // the whole cluster.
  int expected_replication_factor = 0;
  std::vector<TopicReplication> topics; // only topics with a finding, by name
  // Each says what is wrong and what to do; they do not make the check fail.
  std::vector<std::string> warnings;
};

struct PostgresFindings {
  std::string target; // host:port/db, never with a password
  bool reachable = false;
  bool database_exists = false;
  std::string server_version; // "15.20"
  std::optional<int> schema_version;
  std::string problem;
};

struct DoctorReport {
  KafkaFindings kafka;
  PostgresFindings postgres;
  [[nodiscard]] bool ok() const { return kafka.problem.empty() && postgres.problem.empty(); }
};

[[nodiscard]] DoctorReport run_doctor(const DoctorOptions& options);

// Fills the replication part of `findings` (expected_replication_factor,
// topics, warnings) from a cluster's metadata: every topic, the brokers it
// lists. Pure.
void check_replication(const kafka::ClusterMetadata& metadata, KafkaFindings& findings);

} // namespace foodpipe::pipeline
