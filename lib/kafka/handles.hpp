#pragma once

// RAII for librdkafka's C handles: an empty deleter per handle type and a
// std::unique_ptr alias. The deleters are defined in handles.cpp, so that this
// header needs only the types' names. Where a C call takes ownership (rd_kafka_new takes the
// conf, rd_kafka_produceva takes the headers), call release() on that line.

#include <memory>

#include "kafka/fwd.hpp"

namespace foodpipe::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const noexcept;
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const noexcept;
};
struct TopicConfDeleter {
  void operator()(rd_kafka_topic_conf_t* conf) const noexcept;
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const noexcept;
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const noexcept;
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* headers) const noexcept;
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const noexcept;
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const noexcept;
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const noexcept;
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const noexcept;
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const noexcept;
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* topic) const noexcept;
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* topic) const noexcept;
};

using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using TopicConfPtr = std::unique_ptr<rd_kafka_topic_conf_t, TopicConfDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>;

} // namespace foodpipe::kafka
