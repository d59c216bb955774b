#pragma once

// An admin client over librdkafka: cluster metadata now; topics, watermarks and
// group offsets as the commands that need them arrive. Not thread-safe: one
// Admin per thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafka/client_events.hpp"
#include "kafka/config.hpp"
#include "kafka/error.hpp"
#include "kafka/handles.hpp"

namespace foodpipe::kafka {

struct BrokerInfo {
  std::int32_t id = -1;
  std::string host;
  int port = 0;
};

struct PartitionInfo {
  std::int32_t id = -1;
  std::int32_t leader = -1;
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> in_sync_replicas;
};

struct TopicInfo {
  std::string name;
  int error = errc::none; // librdkafka's code, e.g. errc::unknown_topic_or_partition
  std::vector<PartitionInfo> partitions;

  // The metadata describes it (it exists and may be read).
  [[nodiscard]] bool ok() const noexcept { return error == errc::none; }
};

struct ClusterMetadata {
  std::string cluster_id;
  std::int32_t controller_id = -1;
  std::vector<BrokerInfo> brokers;
  std::vector<TopicInfo> topics;
};

class Admin {
public:
  // Throws UsageError for refused -X properties, KafkaError if the client
  // cannot be created. Connecting happens lazily.
  explicit Admin(const ClientSettings& settings);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Brokers and either every topic (topic == nullopt) or just one. Throws
  // KafkaError naming the bootstrap servers and the cause when no broker
  // answers within `timeout`.
  [[nodiscard]] ClusterMetadata metadata(std::chrono::milliseconds timeout,
                                         const std::optional<std::string>& topic = std::nullopt);

  enum class CreateResult { created, already_exists };

  // Creates a topic (CreateTopics). An existing topic is not an error.
  // Throws KafkaError (e.g. policy violation, not authorised, timeout).
  CreateResult create_topic(const std::string& name, int partitions, int replication_factor,
                            const Properties& configs, std::chrono::milliseconds timeout);

  [[nodiscard]] rd_kafka_t* handle() const noexcept { return m_handle.get(); }

private:
  ClientSettings m_settings;
  ClientEvents m_events;
  HandlePtr m_handle;
};

} // namespace foodpipe::kafka
