#pragma once

// librdkafka's statistics: with statistics.interval.ms set, a client emits a
// JSON document describing itself every interval (librdkafka's STATISTICS.md
// lists its fields). Foodpipe exports a few of them as metrics; this is the
// part of the document it reads, parsed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace foodpipe::kafka {

// How often a client given a StatisticsHandler emits them, unless
// -X statistics.interval.ms says otherwise (0 turns them off).
inline constexpr std::chrono::milliseconds k_statistics_interval{5000};

struct BrokerStatistics {
  std::int32_t id = -1; // the broker's node id
  std::string name;     // librdkafka's name for it, "host:port/id"
  std::string state;    // "UP", "DOWN", "CONNECT", ...
  // Round-trip time of this client's requests to the broker over the last
  // interval, in seconds; nullopt when no request completed in it.
  std::optional<double> rtt_avg_seconds;
  std::optional<double> rtt_p99_seconds;
};

struct Statistics {
  std::string type; // "producer" or "consumer"
  // Messages (and their bytes) waiting in the producer's queues for a
  // delivery report: msg_cnt and msg_size. 0 for a consumer.
  std::int64_t producer_queue_messages = 0;
  std::int64_t producer_queue_bytes = 0;
  // Messages (and their bytes) fetched from the brokers that the application
  // has not polled yet, over every partition: the sum of fetchq_cnt and
  // fetchq_size. 0 for a producer.
  std::int64_t fetch_queue_messages = 0;
  std::int64_t fetch_queue_bytes = 0;
  // The cluster's brokers this client knows, by node id; bootstrap entries
  // (node id -1) and librdkafka's internal pseudo-brokers are left out.
  std::vector<BrokerStatistics> brokers;
};

// Reads one document. A field it lacks reads as 0 (or as no sample), so that
// librdkafka versions with fewer fields still parse. Throws
// std::invalid_argument when the text is not a JSON object.
[[nodiscard]] Statistics parse_statistics(std::string_view json);

// Called with each document, parsed, on the thread that polls the client
// (inside Producer::poll/flush/produce or Consumer::poll).
using StatisticsHandler = std::function<void(const Statistics&)>;

} // namespace foodpipe::kafka
