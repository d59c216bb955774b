#pragma once

// Reads fixed offset ranges of a topic's partitions without a consumer group
// (assign, not subscribe): for audits, `inspect messages`, replays and tests.
// Nothing is committed anywhere. Not thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kafka/client_events.hpp"
#include "kafka/config.hpp"
#include "kafka/handles.hpp"

namespace foodpipe::kafka {

struct Watermarks {
  std::int64_t low = 0;  // the first offset still in the log
  std::int64_t high = 0; // the offset the next message will get
};

struct PartitionRange {
  std::int32_t partition = 0;
  std::int64_t from = 0; // first offset to read
  std::int64_t to = 0;   // one past the last offset to read
};

class Reader {
public:
  // Called per message; return false to stop reading.
  using Visitor = std::function<bool(const rd_kafka_message_t&)>;

  explicit Reader(const ClientSettings& settings);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Low and high watermark of one partition. Throws KafkaError.
  [[nodiscard]] Watermarks watermarks(const std::string& topic, std::int32_t partition,
                                      std::chrono::milliseconds timeout);

  // For each partition (key) and time (value, milliseconds since the epoch):
  // the first offset whose message timestamp is >= the time, or the
  // partition's high watermark when no message is that late (a time in the
  // future). Throws KafkaError.
  [[nodiscard]] std::map<std::int32_t, std::int64_t> offsets_for_times(
      const std::string& topic, const std::map<std::int32_t, std::int64_t>& times, std::chrono::milliseconds timeout);

  // The partition ids of a topic, ascending. Throws KafkaError when the topic
  // does not exist or no broker answers within `timeout`.
  [[nodiscard]] std::vector<std::int32_t> partitions(const std::string& topic, std::chrono::milliseconds timeout);

  // Reads every range (empty ranges are skipped) and returns how many messages
  // were visited. Throws KafkaError when a partition makes no progress for
  // `idle_timeout` or reports an error.
  std::uint64_t read(const std::string& topic, const std::vector<PartitionRange>& ranges, const Visitor& visit,
                     std::chrono::milliseconds idle_timeout = std::chrono::seconds(30));

private:
  ClientSettings m_settings;
  ClientEvents m_events;
  HandlePtr m_handle;
};

// The headers of a message as (name, value) pairs, in order.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> headers_of(const rd_kafka_message_t& message);

} // namespace foodpipe::kafka
