#include "kafka/group_admin.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include "kafka/client_events.hpp"
#include "kafka/error.hpp"

namespace foodpipe::kafka {
namespace {

struct GroupListDeleter {
  void operator()(const rd_kafka_group_list* list) const noexcept { rd_kafka_group_list_destroy(list); }
};
using GroupListPtr = std::unique_ptr<const rd_kafka_group_list, GroupListDeleter>;

struct ConfigResourceDeleter {
  void operator()(rd_kafka_ConfigResource_t* resource) const noexcept { rd_kafka_ConfigResource_destroy(resource); }
};
using ConfigResourcePtr = std::unique_ptr<rd_kafka_ConfigResource_t, ConfigResourceDeleter>;

struct AlterOffsetsDeleter {
  void operator()(rd_kafka_AlterConsumerGroupOffsets_t* alter) const noexcept {
    rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
  }
};
using AlterOffsetsPtr = std::unique_ptr<rd_kafka_AlterConsumerGroupOffsets_t, AlterOffsetsDeleter>;

std::string text_or_empty(const char* text) { return text != nullptr ? std::string(text) : std::string(); }

bool is_unreachable(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
         err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
}

// The group's coordinator is moving or still loading the group's offsets (right after a
// broker started, or a coordinator failed over): worth asking again shortly.
bool coordinator_busy(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
}

// Calls request(time left) (which returns an error code) until it returns one that is
// not coordinator_busy or `timeout` has passed, 200 ms apart; returns the last code.
// Every attempt gets only the time that is left, so the whole stays within `timeout`.
template <typename Request>
rd_kafka_resp_err_t ask_coordinator(std::chrono::milliseconds timeout, Request&& request) {
  using std::chrono::milliseconds;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left = [&] {
    return std::max(std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()),
                    milliseconds(1));
  };
  auto err = request(timeout);
  while (coordinator_busy(err) && std::chrono::steady_clock::now() + milliseconds(200) < deadline) {
    std::this_thread::sleep_for(milliseconds(200));
    err = request(left());
  }
  return err;
}

// Options for one admin request, which librdkafka ends after `timeout`.
AdminOptionsPtr request_options(rd_kafka_t* handle, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout) {
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(handle, op));
  std::array<char, 512> error{};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), error.data(),
                                            error.size());
  return options;
}

// The result event of the admin request sent to `queue`. Throws KafkaError
// naming the bootstrap servers when no broker answered, or starting with
// `what` when the request failed as a whole.
EventPtr await_result(rd_kafka_t* handle, const std::string& bootstrap_servers, rd_kafka_queue_t* queue,
                      std::chrono::milliseconds timeout, const std::string& what) {
  const auto unreachable = [&](rd_kafka_resp_err_t err) {
    const auto* events = ClientEvents::of(handle);
    return KafkaError(events != nullptr ? unreachable_message(bootstrap_servers, *events)
                                        : "cannot reach Kafka at " + bootstrap_servers,
                      err, false, true);
  };
  // The request timeout bounds the wait; a margin for the local queue. Short
  // slices, so that a refused login ends the wait at once.
  const auto* events = ClientEvents::of(handle);
  const auto deadline = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(5);
  EventPtr event;
  while (!event && std::chrono::steady_clock::now() < deadline) {
    if (events != nullptr) {
      events->throw_if_refused(bootstrap_servers);
    }
    event.reset(rd_kafka_queue_poll(queue, 200));
  }
  if (!event) {
    throw unreachable(RD_KAFKA_RESP_ERR__TIMED_OUT);
  }
  if (const auto err = rd_kafka_event_error(event.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (is_unreachable(err)) {
      throw unreachable(err);
    }
    throw KafkaError(what + ": " + rd_kafka_event_error_string(event.get()), err);
  }
  return event;
}

// Big-endian reads over the Kafka protocol's wire format.
class WireReader {
public:
  explicit WireReader(std::string_view bytes) : m_bytes(bytes) {}

  bool read_i16(std::int16_t& value) { return read_big_endian(value); }
  bool read_i32(std::int32_t& value) { return read_big_endian(value); }
  bool read_string(std::string& value) {
    std::int16_t length = 0;
    if (!read_i16(length) || length < 0 || static_cast<std::size_t>(length) > m_bytes.size() - m_at) {
      return false;
    }
    value.assign(m_bytes.substr(m_at, static_cast<std::size_t>(length)));
    m_at += static_cast<std::size_t>(length);
    return true;
  }

private:
  template <typename T> bool read_big_endian(T& value) {
    if (m_bytes.size() - m_at < sizeof(T)) {
      return false;
    }
    std::uint64_t raw = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      raw = (raw << 8U) | static_cast<unsigned char>(m_bytes[m_at + i]);
    }
    m_at += sizeof(T);
    value = static_cast<T>(raw);
    return true;
  }

  std::string_view m_bytes;
  std::size_t m_at = 0;
};

} // namespace

std::optional<std::map<std::string, std::vector<std::int32_t>>> decode_member_assignment(std::string_view bytes) {
  std::map<std::string, std::vector<std::int32_t>> result;
  if (bytes.empty()) {
    return result; // no assignment yet (rebalancing)
  }
  WireReader reader(bytes);
  std::int16_t version = 0;
  std::int32_t topics = 0;
  if (!reader.read_i16(version) || !reader.read_i32(topics) || topics < 0) {
    return std::nullopt;
  }
  for (std::int32_t t = 0; t < topics; ++t) {
    std::string topic;
    std::int32_t count = 0;
    if (!reader.read_string(topic) || !reader.read_i32(count) || count < 0) {
      return std::nullopt;
    }
    auto& partitions = result[topic];
    for (std::int32_t p = 0; p < count; ++p) {
      std::int32_t partition = 0;
      if (!reader.read_i32(partition)) {
        return std::nullopt;
      }
      partitions.push_back(partition);
    }
  }
  // User data follows; foodpipe's assignors put nothing there that matters here.
  return result;
}

GroupAdmin::GroupAdmin(const ClientSettings& settings) : m_settings(settings), m_admin(settings) {}

GroupAdmin::~GroupAdmin() = default;

GroupDescription GroupAdmin::describe_group(const std::string& group, std::chrono::milliseconds timeout) {
  if (auto* events = ClientEvents::of(m_admin.handle()); events != nullptr) {
    events->await_usable_broker(m_admin.handle(), m_settings.bootstrap_servers, timeout);
  }
  const rd_kafka_group_list* raw = nullptr;
  const auto err = ask_coordinator(timeout, [&](std::chrono::milliseconds left) {
    if (raw != nullptr) {
      rd_kafka_group_list_destroy(raw);
      raw = nullptr;
    }
    auto listed = rd_kafka_list_groups(m_admin.handle(), group.c_str(), &raw, static_cast<int>(left.count()));
    // The one group asked for, answered by a coordinator that is not ready for it.
    if (listed == RD_KAFKA_RESP_ERR_NO_ERROR && raw->group_cnt == 1 && coordinator_busy(raw->groups[0].err)) {
      listed = raw->groups[0].err;
    }
    return listed;
  });
  const GroupListPtr list(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const auto* events = ClientEvents::of(m_admin.handle());
    if (is_unreachable(err) && events != nullptr) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, *events), err, false, true);
    }
    throw KafkaError("cannot describe group " + group + " at " + m_settings.bootstrap_servers + ": " +
                         rd_kafka_err2str(err),
                     err);
  }
  GroupDescription description;
  description.group = group;
  for (int i = 0; i < list->group_cnt; ++i) {
    const auto& info = list->groups[i];
    if (group != info.group) {
      continue;
    }
    // A coordinator answers "Dead" with no error for a group it does not know.
    description.state = text_or_empty(info.state);
    description.known = info.err == RD_KAFKA_RESP_ERR_NO_ERROR && description.state != "Dead";
    description.protocol_type = text_or_empty(info.protocol_type);
    description.protocol = text_or_empty(info.protocol);
    for (int m = 0; m < info.member_cnt; ++m) {
      const auto& raw_member = info.members[m];
      GroupMember member;
      member.member_id = text_or_empty(raw_member.member_id);
      member.client_id = text_or_empty(raw_member.client_id);
      member.client_host = text_or_empty(raw_member.client_host);
      if (description.protocol_type == "consumer" && raw_member.member_assignment != nullptr) {
        const auto decoded = decode_member_assignment(std::string_view(
            static_cast<const char*>(raw_member.member_assignment),
            static_cast<std::size_t>(std::max(raw_member.member_assignment_size, 0))));
        if (decoded) {
          member.assignment = *decoded;
        }
      }
      description.members.push_back(std::move(member));
    }
  }
  return description;
}

std::map<std::int32_t, std::int64_t> GroupAdmin::committed_offsets(const std::string& group, const std::string& topic,
                                                                   const std::vector<std::int32_t>& partitions,
                                                                   std::chrono::milliseconds timeout) {
  // rd_kafka_committed asks the group's coordinator (OffsetFetch); the handle
  // needs the group's id for that but never subscribes, so it never joins
  // the group and never disturbs its members.
  ClientEvents events;
  ConfPtr conf = make_conf(m_settings, {{"group.id", group},
                                        {"enable.auto.commit", "false"},
                                        {"enable.auto.offset.store", "false"}});
  events.attach(conf.get());
  const auto handle = make_client(ClientKind::consumer, std::move(conf), "a Kafka client");
  events.await_usable_broker(handle.get(), m_settings.bootstrap_servers, timeout);

  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto partition : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  const auto err = ask_coordinator(timeout, [&](std::chrono::milliseconds left) {
    return rd_kafka_committed(handle.get(), list.get(), static_cast<int>(left.count()));
  });
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (is_unreachable(err)) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, events), err, false, true);
    }
    throw KafkaError("cannot read the offsets group " + group + " committed to " + topic + ": " +
                         rd_kafka_err2str(err),
                     err);
  }
  std::map<std::int32_t, std::int64_t> result;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& entry = list->elems[i];
    if (entry.err == RD_KAFKA_RESP_ERR_NO_ERROR && entry.offset >= 0) {
      result[entry.partition] = entry.offset;
    }
  }
  return result;
}

void GroupAdmin::alter_committed_offsets(const std::string& group, const std::string& topic,
                                         const std::map<std::int32_t, std::int64_t>& offsets,
                                         std::chrono::milliseconds timeout) {
  if (offsets.empty()) {
    return;
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [partition, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  }
  AlterOffsetsPtr alter(rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get()));
  const auto options = request_options(m_admin.handle(), RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout);
  QueuePtr queue(rd_kafka_queue_new(m_admin.handle()));
  rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {alter.get()};
  rd_kafka_AlterConsumerGroupOffsets(m_admin.handle(), requests, 1, options.get(), queue.get());
  const std::string what = "cannot commit offsets of group " + group + " on " + topic;
  const auto event = await_result(m_admin.handle(), m_settings.bootstrap_servers, queue.get(), timeout, what);
  const auto* result = rd_kafka_event_AlterConsumerGroupOffsets_result(event.get());
  std::size_t group_count = 0;
  const auto** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &group_count);
  for (std::size_t g = 0; g < group_count; ++g) {
    if (const auto* group_error = rd_kafka_group_result_error(groups[g]); group_error != nullptr) {
      throw make_error(what, group_error);
    }
    const auto* partitions = rd_kafka_group_result_partitions(groups[g]);
    if (partitions == nullptr) {
      continue;
    }
    // One line: the partitions the broker refused, grouped by reason.
    std::map<rd_kafka_resp_err_t, std::string> refused;
    for (int i = 0; i < partitions->cnt; ++i) {
      const auto& element = partitions->elems[i];
      if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        auto& ids = refused[element.err];
        if (!ids.empty()) {
          ids += ',';
        }
        ids += std::to_string(element.partition);
      }
    }
    if (!refused.empty()) {
      std::string reasons;
      for (const auto& [err, ids] : refused) {
        if (!reasons.empty()) {
          reasons += "; ";
        }
        reasons += "partition " + ids + ": " + rd_kafka_err2str(err);
      }
      throw KafkaError(what + " (" + reasons + ")", refused.begin()->first);
    }
  }
}

std::map<std::string, std::string> GroupAdmin::topic_config(const std::string& topic,
                                                            std::chrono::milliseconds timeout) {
  ConfigResourcePtr resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  const auto options = request_options(m_admin.handle(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  QueuePtr queue(rd_kafka_queue_new(m_admin.handle()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(m_admin.handle(), resources, 1, options.get(), queue.get());
  const auto event = await_result(m_admin.handle(), m_settings.bootstrap_servers, queue.get(), timeout,
                                  "cannot read the configuration of topic " + topic);
  const auto* result = rd_kafka_event_DescribeConfigs_result(event.get());
  std::size_t resource_count = 0;
  const auto** described = rd_kafka_DescribeConfigs_result_resources(result, &resource_count);
  std::map<std::string, std::string> config;
  for (std::size_t r = 0; r < resource_count; ++r) {
    if (const auto err = rd_kafka_ConfigResource_error(described[r]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_ConfigResource_error_string(described[r]);
      throw KafkaError("cannot read the configuration of topic " + topic + ": " +
                           (message != nullptr && *message != '\0' ? message : rd_kafka_err2str(err)),
                       err);
    }
    std::size_t entry_count = 0;
    const auto** entries = rd_kafka_ConfigResource_configs(described[r], &entry_count);
    for (std::size_t e = 0; e < entry_count; ++e) {
      config[text_or_empty(rd_kafka_ConfigEntry_name(entries[e]))] =
          text_or_empty(rd_kafka_ConfigEntry_value(entries[e]));
    }
  }
  return config;
}

} // namespace foodpipe::kafka
