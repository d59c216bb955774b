#pragma once

// The produce job: generate reproducible orders (or read them from a file),
// publish them keyed by customer at an exact rate with an idempotent producer,
// and account for every message: delivered, failed (by error), never lost.
// With lifecycle, each generated order is followed by its status events
// (domain/lifecycle.hpp) at their planned, scaled times.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/defaults.hpp"
#include "core/histogram.hpp"
#include "domain/lifecycle.hpp"
#include "kafka/config.hpp"
#include "kafka/replication.hpp"

namespace foodpipe::pipeline {

struct ProducerMetrics; // pipeline/metrics.hpp

struct ProduceOptions {
  kafka::ClientSettings kafka;
  std::string topic{defaults::k_topic};
  int partitions = 3;              // when the topic has to be created
  bool create_topics = true;       // the topic and its <topic>.dlq
  kafka::ReplicationRequest replication; // for created topics; empty: the cluster's default
  double rate = 10.0;              // orders per second; 0 = as fast as possible
  std::optional<std::uint64_t> count;           // stop after this many
  std::chrono::milliseconds duration{0};        // 0 = until stopped (or count)
  std::optional<std::uint64_t> seed;            // nullopt: pick one (reported)
  std::optional<std::string> run_id;            // nullopt: pick one (reported)
  // JSON lines instead of generating, orders and status events (domain/file_line.hpp); "-" = stdin
  std::optional<std::string> from_file;
  // Follow each order by its status events; generated orders only (not with from_file).
  bool lifecycle = false;
  domain::TimeScale time_scale;                 // multiplies every event delay
  std::string compression = "snappy";
  int linger_ms = 10;
  std::optional<int> batch_size;                // bytes (librdkafka batch.size)
  std::chrono::milliseconds connect_timeout{defaults::k_connect_timeout};
  std::chrono::milliseconds flush_timeout{30'000};
  std::size_t max_message_bytes = defaults::k_max_message_bytes;   // for --from-file validation
  ProducerMetrics* metrics = nullptr;           // optional; must outlive run_produce
};

struct ProduceProgress {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;
  std::uint64_t invalid = 0;
  std::uint64_t events_sent = 0; // lifecycle runs
  std::chrono::steady_clock::duration elapsed{};
  std::optional<std::uint64_t> target; // --count, or rate x duration
};

struct ProduceReport {
  std::string topic;
  std::optional<std::uint64_t> seed; // generated runs only
  std::string run_id;
  // sent, delivered and failed count orders; events_* the status events of a
  // lifecycle run or of a --from-file's event lines (all 0 otherwise).
  // failed_by_error, bytes and latency_us cover every message, orders and events.
  std::uint64_t sent = 0;            // enqueued
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;
  bool lifecycle = false;
  std::uint64_t events_sent = 0;
  std::uint64_t events_delivered = 0;
  std::uint64_t events_failed = 0;
  // Events of sent orders not sent because of a stop request.
  std::uint64_t events_unsent = 0;
  std::map<std::string, std::uint64_t> failed_by_error; // librdkafka error name -> count
  std::uint64_t invalid_lines = 0;   // --from-file lines that were not valid orders or events
  std::uint64_t bytes = 0;           // delivered value bytes
  std::chrono::steady_clock::duration elapsed{};
  Histogram latency_us;              // enqueue -> delivery report, delivered only
  bool interrupted = false;          // stopped by SIGINT/SIGTERM
  bool topic_created = false;
  bool dlq_created = false;
  // What created topics get (kafka::choose_replication); nullopt without create_topics.
  std::optional<kafka::Replication> replication;
};

// Called about once a second from the producing thread.
using ProgressCallback = std::function<void(const ProduceProgress&)>;

// Expects rate >= 0, partitions >= 1 and a topic (std::invalid_argument
// otherwise: the command checks its flags before). Throws UsageError for a
// replication the cluster cannot hold (more replicas than brokers), KafkaError when the brokers cannot
// be reached within connect_timeout (naming them) or on a fatal producer
// error, foodpipe::Error when --from-file cannot be read. Stops early, flushing,
// when foodpipe::stop_requested(). count and duration bound the orders; a
// lifecycle run ends when the last event of its last order was sent.
[[nodiscard]] ProduceReport run_produce(const ProduceOptions& options, const ProgressCallback& progress = {});

} // namespace foodpipe::pipeline
