#pragma once

// The job behind `foodpipe consume`: a consumer-group member that
// materialises orders into PostgreSQL with an exactly-once effect.
//
// Each batch's orders, dead letters and the next offset of every partition it
// touched are written in ONE transaction; the offsets live in the database and
// a newly assigned partition starts where the database says. The offset update
// is conditional on the offset the batch started from, so a consumer that lost
// its partition cannot overwrite newer progress. Dead letters also go to the
// <topic>.dlq topic (delivered before the transaction commits: at least once
// there, exactly once in the table; see dead_letter_publisher.hpp). A database
// outage pauses consumption and retries with backoff; nothing is committed
// past unwritten data.
//
// It follows the log as the broker serves it: offsets without a message
// (transaction markers, aborted transactions, compacted keys) are normal, and
// the stored next offset is the consumer's position after what it read, so a
// partition whose log ends in a marker is caught up. Only committed
// transactions are read (read_committed); an open one holds its partition back.
// When the stored offset has left the log (retention, kafka-delete-records),
// it continues from the log start and records the unread range in
// skipped_offsets, with a warning and a metric; when the log was truncated or
// recreated below it, it re-reads from the log start.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/defaults.hpp"
#include "core/histogram.hpp"
#include "kafka/config.hpp"

namespace foodpipe::pipeline {

struct ConsumerMetrics; // pipeline/metrics.hpp

struct ConsumeOptions {
  kafka::ClientSettings kafka;
  std::string db_conninfo;
  std::string topic{defaults::k_topic};
  std::string group{defaults::k_group};
  // Where a partition with no stored offset starts: its log start or its end.
  enum class StartFrom { earliest, latest };
  StartFrom from = StartFrom::earliest;
  std::size_t batch_size = defaults::k_consume_batch_size;
  std::chrono::milliseconds batch_time{50};
  std::size_t max_message_bytes = defaults::k_max_message_bytes;
  bool until_end = false;                        // stop when the group's stored offsets reach the log end as of start
  std::optional<std::uint64_t> max_messages;
  std::chrono::milliseconds idle_timeout{0};     // 0 = never
  std::chrono::milliseconds connect_timeout{defaults::k_connect_timeout};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{10'000};
  ConsumerMetrics* metrics = nullptr;            // optional; must outlive run_consume
};

struct ConsumeProgress {
  std::uint64_t consumed = 0;
  std::uint64_t applied = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_letters = 0;
  std::optional<std::int64_t> lag;   // messages behind the log end on the assigned partitions
  bool waiting_for_database = false;
  std::chrono::steady_clock::duration elapsed{};
};

struct ConsumeReport {
  std::uint64_t consumed = 0;      // messages committed one way or another (applied, duplicate, dead letter)
                                   // orders and events; applied and duplicates below are orders only
  std::uint64_t applied = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t events_applied = 0;   // order status events stored in order_events (orders.status moved)
  std::uint64_t event_duplicates = 0; // events already stored with the same content (redelivered, replayed)
  std::map<std::string, std::uint64_t> dead_letters_by_reason;
  std::uint64_t batches = 0;
  std::uint64_t batches_beside = 0; // of those, written beside the batch before (two transactions at once)
  std::uint64_t stale_batches = 0; // rolled back: another consumer owned a partition
  std::uint64_t database_retries = 0;
  std::uint64_t rebalances = 0;
  std::uint64_t skipped_offsets = 0;        // removed by retention before they were read (committed)
  std::uint64_t dead_letters_truncated = 0; // published cut to <topic>.dlq (too large for it)
  std::string stopped_by;          // "end", "max-messages", "idle", "signal"
  std::chrono::steady_clock::duration elapsed{};
  Histogram latency_ms;            // processed_at - created_at of applied orders
  [[nodiscard]] std::uint64_t dead_letters() const;
};

using ConsumeProgressCallback = std::function<void(const ConsumeProgress&)>;

// Runs until a stop condition or foodpipe::stop_requested(). Expects
// batch_size >= 1 and a group and topic (std::invalid_argument otherwise: the
// command checks its flags before). Throws KafkaError for fatal Kafka problems
// (unreachable brokers, a topic that does not appear within connect_timeout,
// authentication), DbError for a database problem no retry can fix (schema
// missing, permissions), also when it happens inside a rebalance.
[[nodiscard]] ConsumeReport run_consume(const ConsumeOptions& options, const ConsumeProgressCallback& progress = {});

} // namespace foodpipe::pipeline
