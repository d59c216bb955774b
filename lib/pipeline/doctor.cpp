#include "pipeline/doctor.hpp"

#include <algorithm>
#include <set>

#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "db/error.hpp"
#include "kafka/admin.hpp"
#include "kafka/broker_probe.hpp"
#include "kafka/error.hpp"
#include "kafka/replication.hpp"

namespace foodpipe::pipeline {
namespace {

// At most this many topics or partitions are named in one warning; the JSON has them all.
constexpr std::size_t k_named_in_warning = 5;

// "a, b, c and 4 more".
std::string first_few(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size() && i < k_named_in_warning; ++i) {
    text += (i == 0 ? "" : ", ") + names[i];
  }
  if (names.size() > k_named_in_warning) {
    text += " and " + std::to_string(names.size() - k_named_in_warning) + " more";
  }
  return text;
}

std::string count_text(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

KafkaFindings check_kafka(const DoctorOptions& options) {
  KafkaFindings findings;
  findings.bootstrap_servers = options.kafka.bootstrap_servers;
  findings.librdkafka_version = kafka::librdkafka_version();
  std::vector<kafka::BrokerInfo> brokers;
  try {
    kafka::Admin admin(options.kafka);
    const auto metadata = admin.metadata(options.timeout);
    findings.reachable = true;
    findings.cluster_id = metadata.cluster_id;
    findings.brokers = static_cast<int>(metadata.brokers.size());
    brokers = metadata.brokers;
    check_replication(metadata, findings);
  } catch (const Error& error) {
    findings.problem = error.what();
    return findings;
  }

  // The probe speaks plaintext only; behind TLS or SASL it cannot tell.
  const auto protocol = kafka::property_or(options.kafka.properties, "security.protocol", "plaintext");
  if (protocol != "plaintext" && protocol != "PLAINTEXT") {
    return findings;
  }
  // The first bootstrap server, then the brokers the metadata lists: on a
  // cluster the first one may be the broker that is down.
  const auto first = kafka::first_bootstrap_server(options.kafka.bootstrap_servers);
  std::vector<kafka::HostPort> candidates = {first};
  for (const auto& broker : brokers) {
    candidates.push_back({broker.host, static_cast<std::uint16_t>(broker.port)});
  }
  std::string failure;
  for (const auto& address : candidates) {
    try {
      const auto versions = kafka::probe_api_versions(address.host, address.port, options.timeout);
      const auto incompatibility = kafka::group_incompatibility(
          versions, kafka::librdkafka_version_number(), options.kafka.bootstrap_servers);
      findings.groups_supported = !incompatibility.has_value();
      if (incompatibility) {
        findings.problem = *incompatibility;
      }
      return findings;
    } catch (const std::exception& error) {
      if (failure.empty()) {
        failure = error.what();
      }
    }
  }
  findings.problem = "the broker answered metadata but not ApiVersions: " + failure;
  return findings;
}

PostgresFindings check_postgres(const DoctorOptions& options) {
  PostgresFindings findings;
  findings.target = db::redact_conninfo(options.db_conninfo);
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

// What the replication warnings name, users' topics first.
struct ReplicationNames {
  std::vector<std::string> offline; // topic/partition
  std::vector<std::string> under;   // topic (n of m)
  std::size_t under_partitions = 0;
  std::vector<std::string> low;     // topic (factor)
};

// Brokers named among the replicas that are not `live` (listed in the metadata).
std::set<std::int32_t> missing_brokers(const kafka::ClusterMetadata& metadata, const std::set<std::int32_t>& live) {
  std::set<std::int32_t> missing;
  for (const auto& topic : metadata.topics) {
    for (const auto& partition : topic.partitions) {
      for (const auto replica : partition.replicas) {
        if (live.count(replica) == 0U) {
          missing.insert(replica);
        }
      }
    }
  }
  return missing;
}

void add_replication_warnings(const std::set<std::int32_t>& missing, const ReplicationNames& names,
                              std::size_t cluster_size, KafkaFindings& findings) {
  const auto& [offline, under, under_partitions, low] = names;
  if (!missing.empty()) {
    std::vector<std::string> ids;
    for (const auto id : missing) {
      ids.push_back(std::to_string(id));
    }
    findings.warnings.push_back(
        std::string(missing.size() == 1 ? "broker " : "brokers ") + first_few(ids) +
        (missing.size() == 1 ? " holds" : " hold") +
        " replicas but is not in the cluster's metadata: down or fenced; start it again (compose/broker "
        "start for the local cluster)");
  }
  if (!offline.empty()) {
    findings.warnings.push_back(
        count_text(offline.size(), "partition") + " offline (no leader): " + first_few(offline) +
        "; nothing can be read or written there until a broker holding a replica is back: restart the "
        "stopped brokers (compose/broker start for the local cluster)");
  }
  if (!under.empty()) {
    findings.warnings.push_back(
        count_text(under_partitions, "partition") +
        " under-replicated (fewer replicas in sync than assigned) in " + count_text(under.size(), "topic") +
        ": " + first_few(under) +
        "; a broker is down or falling behind: bring it back (Kafka refills the ISR by itself); "
        "foodpipe inspect topic --topic T shows which");
  }
  if (!low.empty()) {
    findings.warnings.push_back(
        count_text(low.size(), "topic") + " with a replication factor below " +
        std::to_string(findings.expected_replication_factor) + ", what a cluster of " +
        count_text(cluster_size, "broker") + " can give: " + first_few(low) +
        "; losing one broker loses or stops them: recreate them (foodpipe produce chooses the cluster's "
        "default) or add replicas with kafka-reassign-partitions");
  }
}

} // namespace

void check_replication(const kafka::ClusterMetadata& metadata, KafkaFindings& findings) {
  // A broker that is down is missing from the metadata but still named among
  // the replicas: the cluster's size counts it.
  std::set<std::int32_t> live;
  for (const auto& broker : metadata.brokers) {
    live.insert(broker.id);
  }
  const auto missing = missing_brokers(metadata, live);
  findings.missing_brokers.assign(missing.begin(), missing.end());
  const auto cluster_size = live.size() + missing.size();
  findings.expected_replication_factor = kafka::default_replication_factor(static_cast<int>(cluster_size));

  ReplicationNames named;
  auto& [offline, under, under_partitions, low] = named;
  for (const auto& topic : metadata.topics) {
    if (!topic.ok()) {
      continue;
    }
    TopicReplication found;
    found.topic = topic.name;
    for (const auto& partition : topic.partitions) {
      found.replication_factor =
          std::max(found.replication_factor, static_cast<int>(partition.replicas.size()));
      if (partition.leader < 0) {
        found.offline.push_back(partition.id);
        offline.push_back(topic.name + "/" + std::to_string(partition.id));
      }
      if (partition.in_sync_replicas.size() < partition.replicas.size()) {
        found.under_replicated.push_back(partition.id);
      }
    }
    if (!found.under_replicated.empty()) {
      under_partitions += found.under_replicated.size();
      under.push_back(topic.name + " (" + std::to_string(found.under_replicated.size()) + " of " +
                      std::to_string(topic.partitions.size()) + ")");
    }
    found.below_cluster_size =
        !topic.partitions.empty() && found.replication_factor < findings.expected_replication_factor;
    if (found.below_cluster_size) {
      low.push_back(topic.name + " (" + std::to_string(found.replication_factor) + ")");
    }
    if (found.below_cluster_size || !found.under_replicated.empty() || !found.offline.empty()) {
      std::sort(found.offline.begin(), found.offline.end());
      std::sort(found.under_replicated.begin(), found.under_replicated.end());
      findings.topics.push_back(std::move(found));
    }
  }
  std::sort(findings.topics.begin(), findings.topics.end(),
            [](const TopicReplication& a, const TopicReplication& b) { return a.topic < b.topic; });
  // Named in a warning: the users' topics first, Kafka's own (__consumer_offsets, ...) after.
  const auto users_first = [](const std::string& a, const std::string& b) {
    const bool a_internal = a.rfind("__", 0) == 0;
    const bool b_internal = b.rfind("__", 0) == 0;
    return a_internal != b_internal ? b_internal : a < b;
  };
  for (auto* names : {&offline, &under, &low}) {
    std::sort(names->begin(), names->end(), users_first);
  }

  add_replication_warnings(missing, named, cluster_size, findings);
}

DoctorReport run_doctor(const DoctorOptions& options) {
  DoctorReport report;
  report.kafka = check_kafka(options);
  report.postgres = check_postgres(options);
  return report;
}

} // namespace foodpipe::pipeline
