#pragma once

// What the broker knows about a consumer group and a topic's configuration,
// for `foodpipe inspect`: the group's state and members (ListGroups /
// DescribeGroups through rd_kafka_list_groups), the offsets the group has
// committed to Kafka (OffsetFetch through rd_kafka_committed, on a handle that
// carries the group's id but never joins it), and topic configuration entries
// (DescribeConfigs). Nothing here joins a group; the one write is
// alter_committed_offsets, for `foodpipe offsets`.
// Not thread-safe: one instance per thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/admin.hpp"
#include "kafka/config.hpp"

namespace foodpipe::kafka {

struct GroupMember {
  std::string member_id;
  std::string client_id;
  std::string client_host;
  // topic -> partitions, decoded from the consumer protocol's assignment bytes;
  // empty while the group is rebalancing or for a non-consumer protocol.
  std::map<std::string, std::vector<std::int32_t>> assignment;
};

struct GroupDescription {
  std::string group;
  bool known = false;          // false: the coordinator has never heard of the group (or it is empty and forgotten)
  std::string state;           // e.g. Stable, PreparingRebalance, Empty, Dead
  std::string protocol_type;   // "consumer" for Kafka consumers
  std::string protocol;        // the assignor, e.g. "range", "cooperative-sticky"
  std::vector<GroupMember> members;
};

// Decodes a ConsumerProtocolAssignment (version, [topic, [partition]], user
// data). Returns nullopt for bytes that do not parse. Pure.
[[nodiscard]] std::optional<std::map<std::string, std::vector<std::int32_t>>>
decode_member_assignment(std::string_view bytes);

class GroupAdmin {
public:
  // Throws UsageError for refused -X properties, KafkaError if a client cannot
  // be created. Connecting happens lazily.
  explicit GroupAdmin(const ClientSettings& settings);
  ~GroupAdmin();
  GroupAdmin(const GroupAdmin&) = delete;
  GroupAdmin& operator=(const GroupAdmin&) = delete;

  // The group's state and members as its coordinator reports them. Throws
  // KafkaError when no broker answers within `timeout`.
  [[nodiscard]] GroupDescription describe_group(const std::string& group, std::chrono::milliseconds timeout);

  // The offsets `group` has committed to Kafka for these partitions of
  // `topic`; a partition with no committed offset is absent. Does not join the
  // group. Throws KafkaError.
  [[nodiscard]] std::map<std::int32_t, std::int64_t> committed_offsets(const std::string& group,
                                                                       const std::string& topic,
                                                                       const std::vector<std::int32_t>& partitions,
                                                                       std::chrono::milliseconds timeout);

  // Commits `offsets` (partition -> next offset to read) of `topic` for
  // `group` without joining it (OffsetCommit through librdkafka 2.0's
  // rd_kafka_AlterConsumerGroupOffsets). The broker accepts this only while
  // the group has no members. Throws KafkaError when no broker answers within
  // `timeout` (the outcome is then unknown), when the coordinator refuses the
  // request, or when it refuses any partition (e.g. UNKNOWN_MEMBER_ID while
  // the group has members): the message names the partitions and the reason.
  // Partitions the broker refused keep their old offsets; the others may have
  // moved.
  void alter_committed_offsets(const std::string& group, const std::string& topic,
                               const std::map<std::int32_t, std::int64_t>& offsets,
                               std::chrono::milliseconds timeout);

  // The topic's configuration entries (name -> value), e.g. "retention.ms".
  // Throws KafkaError (unknown topic, unreachable broker, timeout).
  [[nodiscard]] std::map<std::string, std::string> topic_config(const std::string& topic,
                                                                std::chrono::milliseconds timeout);

  // The metadata admin, for the brokers and partitions (see Admin).
  [[nodiscard]] Admin& admin() noexcept { return m_admin; }

private:
  ClientSettings m_settings;
  Admin m_admin;
};

} // namespace foodpipe::kafka
