#include "kafka/admin.hpp"

#include <librdkafka/rdkafka.h>

#include <array>

#include "kafka/error.hpp"

namespace foodpipe::kafka {

Admin::Admin(const ClientSettings& settings) : m_settings(settings) {
  ConfPtr conf = make_conf(settings);
  m_events.attach(conf.get());
  m_handle = make_client(ClientKind::producer, std::move(conf), "a Kafka client");
}

Admin::~Admin() = default;

ClusterMetadata Admin::metadata(std::chrono::milliseconds timeout, const std::optional<std::string>& topic) {
  m_events.await_usable_broker(m_handle.get(), m_settings.bootstrap_servers, timeout);
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_topic_t* topic_handle = nullptr;
  if (topic) {
    topic_handle = rd_kafka_topic_new(m_handle.get(), topic->c_str(), nullptr);
  }
  const auto err = rd_kafka_metadata(m_handle.get(), topic ? 0 : 1, topic_handle, &raw,
                                     static_cast<int>(timeout.count()));
  if (topic_handle != nullptr) {
    rd_kafka_topic_destroy(topic_handle);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), err, false, true);
    }
    throw KafkaError("metadata request to " + m_settings.bootstrap_servers + " failed: " + rd_kafka_err2str(err), err);
  }
  const MetadataPtr metadata(raw);

  ClusterMetadata result;
  if (char* id = rd_kafka_clusterid(m_handle.get(), 0); id != nullptr) {
    result.cluster_id = id;
    rd_kafka_mem_free(m_handle.get(), id);
  }
  result.controller_id = rd_kafka_controllerid(m_handle.get(), 0);
  for (int i = 0; i < metadata->broker_cnt; ++i) {
    const auto& broker = metadata->brokers[i];
    result.brokers.push_back({broker.id, broker.host, broker.port});
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& raw_topic = metadata->topics[i];
    TopicInfo info;
    info.name = raw_topic.topic;
    info.error = raw_topic.err;
    for (int p = 0; p < raw_topic.partition_cnt; ++p) {
      const auto& raw_partition = raw_topic.partitions[p];
      PartitionInfo partition;
      partition.id = raw_partition.id;
      partition.leader = raw_partition.leader;
      partition.replicas.assign(raw_partition.replicas, raw_partition.replicas + raw_partition.replica_cnt);
      partition.in_sync_replicas.assign(raw_partition.isrs, raw_partition.isrs + raw_partition.isr_cnt);
      info.partitions.push_back(std::move(partition));
    }
    result.topics.push_back(std::move(info));
  }
  return result;
}

Admin::CreateResult Admin::create_topic(const std::string& name, int partitions, int replication_factor,
                                        const Properties& configs, std::chrono::milliseconds timeout) {
  m_events.await_usable_broker(m_handle.get(), m_settings.bootstrap_servers, timeout);
  std::array<char, 512> error{};
  NewTopicPtr topic(rd_kafka_NewTopic_new(name.c_str(), partitions, replication_factor, error.data(), error.size()));
  if (!topic) {
    throw KafkaError("cannot create topic " + name + ": " + error.data(), RD_KAFKA_RESP_ERR__INVALID_ARG, false,
                     false, ExitCode::usage);
  }
  for (const auto& [key, value] : configs) {
    if (const auto err = rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()); err) {
      throw KafkaError("topic config " + key + "=" + value + ": " + rd_kafka_err2str(err), err);
    }
  }
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(m_handle.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), error.data(),
                                            error.size());
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()), error.data(),
                                              error.size());
  QueuePtr queue(rd_kafka_queue_new(m_handle.get()));
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(m_handle.get(), topics, 1, options.get(), queue.get());

  // The request timeout bounds the wait; add a margin for the local queue.
  EventPtr event(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 5000));
  if (!event) {
    throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), RD_KAFKA_RESP_ERR__TIMED_OUT,
                     false, true);
  }
  if (const auto err = rd_kafka_event_error(event.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), err, false, true);
    }
    throw KafkaError("cannot create topic " + name + ": " + rd_kafka_event_error_string(event.get()), err);
  }
  const auto* result = rd_kafka_event_CreateTopics_result(event.get());
  std::size_t count = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return CreateResult::already_exists;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      throw KafkaError("cannot create topic " + name + ": " + (message != nullptr ? message : rd_kafka_err2str(err)),
                       err);
    }
  }
  return CreateResult::created;
}

} // namespace foodpipe::kafka
