#pragma once

// The metrics the produce and consume jobs update, registered under their
// Prometheus names (docs/metrics.md lists them). A job given none (the
// default) updates nothing; one given a set updates it from its own thread
// while a scraper reads the registry from another.

#include <cstdint>
#include <map>

#include <string>

#include "core/metrics.hpp"
#include "kafka/statistics.hpp"

namespace foodpipe::pipeline {

// What both commands take from librdkafka's statistics: the round-trip time
// of requests to each broker, over the last statistics interval.
struct BrokerMetrics {
  explicit BrokerMetrics(metrics::Registry& registry);

  // Replaces the series with one per broker in `statistics`; a broker with
  // no request in the interval keeps its last values.
  void update(const kafka::Statistics& statistics);

  metrics::Family<metrics::Gauge>& rtt_avg; // {broker}, seconds
  metrics::Family<metrics::Gauge>& rtt_p99; // {broker}, seconds
};

struct ProducerMetrics {
  explicit ProducerMetrics(metrics::Registry& registry);

  // Takes the producer's librdkafka statistics (kafka::Producer's on_statistics).
  void update(const kafka::Statistics& statistics);

  metrics::Family<metrics::Counter>& messages; // {result}
  metrics::Counter& delivered;          // foodpipe_producer_messages_total{result="delivered"}
  metrics::Counter& failed;             // foodpipe_producer_messages_total{result="failed"}
  metrics::Counter& bytes;              // delivered value bytes
  metrics::Gauge& in_flight;            // enqueued, no delivery report yet
  metrics::Histogram& delivery_latency; // seconds, enqueue -> delivery report, delivered only
  BrokerMetrics brokers;
  metrics::Gauge& queue_messages;       // librdkafka's msg_cnt
  metrics::Gauge& queue_bytes;          // librdkafka's msg_size
};

struct ConsumerMetrics {
  explicit ConsumerMetrics(metrics::Registry& registry);

  // Counts one committed batch's outcome (and its messages).
  void count_batch(std::uint64_t applied, std::uint64_t duplicates, std::uint64_t dead_letters);
  // Replaces the lag series: one per partition of `topic` in `lag` (read by
  // `group`), none for the others.
  void set_lag(const std::string& topic, const std::string& group,
               const std::map<std::int32_t, std::int64_t>& lag);
  // Takes the consumer's librdkafka statistics (kafka::Consumer's on_statistics).
  void update(const kafka::Statistics& statistics);

  metrics::Family<metrics::Counter>& messages; // {result}
  metrics::Counter& applied;
  metrics::Counter& duplicates;
  metrics::Counter& dead_letters;
  metrics::Family<metrics::Counter>& dead_letters_by_reason;
  metrics::Counter& batches;
  metrics::Counter& stale_batches;
  metrics::Counter& database_retries;
  metrics::Counter& rebalances;
  metrics::Counter& skipped_offsets;    // removed by retention before they were read
  metrics::Counter& dead_letters_truncated; // published cut to the DLQ topic (too large for it)
  metrics::Histogram& batch_commit;     // seconds: write, dead letters to the DLQ topic, COMMIT
  metrics::Family<metrics::Gauge>& lag; // {topic, group, partition}
  metrics::Gauge& waiting_for_database; // 1 while consumption is paused for the database
  BrokerMetrics brokers;
  metrics::Gauge& fetch_queue_messages; // fetched, not polled yet
  metrics::Gauge& fetch_queue_bytes;
  // Order status events committed, by the status they name and what became of
  // them (applied, duplicate, dead_letter): messages_total counts them too.
  metrics::Family<metrics::Counter>& events; // {status, result}
};

} // namespace foodpipe::pipeline
