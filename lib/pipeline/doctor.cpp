#include "pipeline/doctor.hpp"

#include "core/redact.hpp"
#include "db/connection.hpp"
#include "db/error.hpp"
#include "kafka/admin.hpp"
#include "kafka/broker_probe.hpp"
#include "kafka/error.hpp"

namespace foodpipe::pipeline {
namespace {

KafkaFindings check_kafka(const DoctorOptions& options) {
  KafkaFindings findings;
  findings.bootstrap_servers = options.kafka.bootstrap_servers;
  findings.librdkafka_version = kafka::librdkafka_version();
  try {
    kafka::Admin admin(options.kafka);
    const auto metadata = admin.metadata(options.timeout);
    findings.reachable = true;
    findings.cluster_id = metadata.cluster_id;
    findings.brokers = static_cast<int>(metadata.brokers.size());
  } catch (const Error& error) {
    findings.problem = error.what();
    return findings;
  }

  // The probe speaks plaintext only; behind TLS or SASL it cannot tell.
  const auto protocol = kafka::property_or(options.kafka.properties, "security.protocol", "plaintext");
  if (protocol != "plaintext" && protocol != "PLAINTEXT") {
    return findings;
  }
  try {
    const auto address = kafka::first_bootstrap_server(options.kafka.bootstrap_servers);
    const auto versions = kafka::probe_api_versions(address.host, address.port, options.timeout);
    const auto incompatibility = kafka::group_incompatibility(
        versions, kafka::librdkafka_version_number(), options.kafka.bootstrap_servers);
    findings.groups_supported = !incompatibility.has_value();
    if (incompatibility) {
      findings.problem = *incompatibility;
    }
  } catch (const std::exception& error) {
    findings.problem = std::string("the broker answered metadata but not ApiVersions: ") + error.what();
  }
  return findings;
}

PostgresFindings check_postgres(const DoctorOptions& options) {
  PostgresFindings findings;
  findings.target = redact_conninfo(options.db_conninfo);
  try {
    auto connection = db::Connection::connect(options.db_conninfo, options.timeout);
    findings.target = connection.describe();
    findings.reachable = true;
    findings.database_exists = true;
    const int version = connection.server_version();
    findings.server_version = std::to_string(version / 10000) + "." + std::to_string(version % 10000);
    const auto has_table = connection.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (has_table.value(0, 0) == "t") {
      const auto max = connection.exec("SELECT max(version) FROM schema_migrations");
      if (!max.is_null(0, 0)) {
        findings.schema_version = std::stoi(std::string(max.value(0, 0)));
      }
    }
    if (!findings.schema_version) {
      findings.problem = "database " + connection.database_name() + " has no schema yet; run foodpipe seed-db";
    }
  } catch (const db::DbError& error) {
    if (error.sqlstate() == "3D000") {
      findings.reachable = true;
      findings.problem = std::string(error.what());
    } else {
      findings.problem = error.what();
    }
  } catch (const Error& error) {
    findings.problem = error.what();
  }
  return findings;
}

} // namespace

DoctorReport run_doctor(const DoctorOptions& options) {
  DoctorReport report;
  report.kafka = check_kafka(options);
  report.postgres = check_postgres(options);
  return report;
}

} // namespace foodpipe::pipeline
