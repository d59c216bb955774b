#pragma once

// The doctor job: can foodpipe reach Kafka and PostgreSQL with these settings,
// can this librdkafka form consumer groups with that broker, and is the
// database seeded? Never throws for an unreachable service: that is a finding.

#include <chrono>
#include <optional>
#include <string>

#include "kafka/config.hpp"

namespace foodpipe::pipeline {

struct DoctorOptions {
  kafka::ClientSettings kafka;
  std::string db_conninfo;
  std::chrono::seconds timeout{5};
};

struct KafkaFindings {
  std::string bootstrap_servers;
  bool reachable = false;
  std::string cluster_id;
  int brokers = 0;
  std::string librdkafka_version;
  std::optional<bool> groups_supported; // nullopt when the probe could not run (TLS/SASL listener)
  std::string problem;                  // empty when all is well: what is wrong and what to do
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

} // namespace foodpipe::pipeline
