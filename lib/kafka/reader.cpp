#include "kafka/reader.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "kafka/error.hpp"

namespace foodpipe::kafka {

Reader::Reader(const ClientSettings& settings) : m_settings(settings) {
  // librdkafka 2.0 wants a group.id even for assign(); with assign and no
  // commits the group never reaches the broker.
  ConfPtr conf = make_conf(settings, {{"group.id", "foodpipe-reader"},
                                      {"enable.auto.commit", "false"},
                                      {"enable.auto.offset.store", "false"},
                                      {"enable.partition.eof", "false"},
                                      {"auto.offset.reset", "error"}});
  m_events.attach(conf.get(), this);
  std::array<char, 512> error{};
  m_handle.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size()));
  if (!m_handle) {
    throw KafkaError(std::string("cannot create a Kafka reader: ") + error.data(), RD_KAFKA_RESP_ERR__INVALID_ARG);
  }
  (void)conf.release(); // owned by the rd_kafka_t now
}

Reader::~Reader() {
  if (m_handle) {
    rd_kafka_assign(m_handle.get(), nullptr);
  }
}

Watermarks Reader::watermarks(const std::string& topic, std::int32_t partition, std::chrono::milliseconds timeout) {
  Watermarks marks;
  const auto err = rd_kafka_query_watermark_offsets(m_handle.get(), topic.c_str(), partition, &marks.low, &marks.high,
                                                    static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), err, false, true);
    }
    throw KafkaError("cannot read the offsets of " + topic + "/" + std::to_string(partition) + ": " +
                         rd_kafka_err2str(err),
                     err);
  }
  return marks;
}

std::map<std::int32_t, std::int64_t> Reader::offsets_for_times(const std::string& topic,
                                                             const std::map<std::int32_t, std::int64_t>& times,
                                                             std::chrono::milliseconds timeout) {
  std::map<std::int32_t, std::int64_t> offsets;
  if (times.empty()) {
    return offsets;
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(times.size())));
  for (const auto& [partition, time] : times) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = time;
  }
  const auto err = rd_kafka_offsets_for_times(m_handle.get(), list.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), err, false, true);
    }
    throw KafkaError("cannot look up offsets by time in " + topic + ": " + rd_kafka_err2str(err), err);
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& element = list->elems[i];
    if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaError("cannot look up offsets by time in " + topic + "/" + std::to_string(element.partition) + ": " +
                           rd_kafka_err2str(element.err),
                       element.err);
    }
    // -1 (OFFSET_END): no message at or after that time.
    offsets[element.partition] =
        element.offset >= 0 ? element.offset : watermarks(topic, element.partition, timeout).high;
  }
  return offsets;
}

std::vector<std::int32_t> Reader::partitions(const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(m_handle.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(m_handle.get(), 0, handle, &raw, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), err, false, true);
  }
  const MetadataPtr metadata(raw);
  std::vector<std::int32_t> ids;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const auto& info = metadata->topics[t];
    if (info.err != RD_KAFKA_RESP_ERR_NO_ERROR || info.partition_cnt == 0) {
      throw KafkaError("topic " + topic + " does not exist at " + m_settings.bootstrap_servers + "; check --topic",
                       info.err != RD_KAFKA_RESP_ERR_NO_ERROR ? info.err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                       true);
    }
    for (int p = 0; p < info.partition_cnt; ++p) {
      ids.push_back(info.partitions[p].id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::uint64_t Reader::read(const std::string& topic, const std::vector<PartitionRange>& ranges, const Visitor& visit,
                           std::chrono::milliseconds idle_timeout) {
  std::map<std::int32_t, std::int64_t> end_of;
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size())));
  for (const auto& range : ranges) {
    if (range.to > range.from) {
      rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), range.partition)->offset = range.from;
      end_of[range.partition] = range.to;
    }
  }
  if (end_of.empty()) {
    return 0;
  }
  if (const auto err = rd_kafka_assign(m_handle.get(), assignment.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError("cannot assign " + topic + ": " + rd_kafka_err2str(err), err);
  }

  std::uint64_t visited = 0;
  auto last_progress = std::chrono::steady_clock::now();
  bool stopped = false;
  while (!end_of.empty() && !stopped) {
    MessagePtr message(rd_kafka_consumer_poll(m_handle.get(), 100));
    const auto now = std::chrono::steady_clock::now();
    if (!message) {
      if (now - last_progress > idle_timeout) {
        throw KafkaError("no progress reading " + topic + " for " + std::to_string(idle_timeout.count() / 1000) +
                             " s: " + unreachable_message(m_settings.bootstrap_servers, m_events),
                         RD_KAFKA_RESP_ERR__TIMED_OUT);
      }
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        continue;
      }
      throw KafkaError("reading " + topic + "/" + std::to_string(message->partition) + ": " +
                           rd_kafka_message_errstr(message.get()),
                       message->err);
    }
    last_progress = now;
    const auto it = end_of.find(message->partition);
    if (it == end_of.end() || message->offset >= it->second) {
      continue;
    }
    ++visited;
    if (!visit(*message)) {
      stopped = true;
    }
    if (message->offset + 1 >= it->second) {
      end_of.erase(it);
    }
  }
  rd_kafka_assign(m_handle.get(), nullptr);
  return visited;
}

std::vector<std::pair<std::string, std::string>> headers_of(const rd_kafka_message_t& message) {
  std::vector<std::pair<std::string, std::string>> result;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return result;
  }
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    result.emplace_back(name, value != nullptr ? std::string(static_cast<const char*>(value), size) : std::string());
  }
  return result;
}

} // namespace foodpipe::kafka
