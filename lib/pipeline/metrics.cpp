#include "pipeline/metrics.hpp"

#include <string>

namespace foodpipe::pipeline {

// Commit and delivery times both span ~1 ms (a small batch, linger.ms) to
// seconds (a slow database, a broker failover).

ProducerMetrics::ProducerMetrics(metrics::Registry& registry)
    : messages(registry.counter_family("foodpipe_producer_messages_total",
                                       "Messages with a delivery report, by result (delivered or failed).",
                                       {"result"})),
      delivered(messages.with({"delivered"})),
      failed(messages.with({"failed"})),
      bytes(registry.counter("foodpipe_producer_delivered_bytes_total", "Value bytes of delivered messages.")),
      in_flight(registry.gauge("foodpipe_producer_in_flight",
                               "Messages handed to the producer that have no delivery report yet.")),
      delivery_latency(registry.histogram("foodpipe_producer_delivery_latency_seconds",
                                          "Time from enqueue to the delivery report of delivered messages.",
                                          metrics::seconds_buckets())) {}

ConsumerMetrics::ConsumerMetrics(metrics::Registry& registry)
    : messages(registry.counter_family(
          "foodpipe_consumer_messages_total",
          "Messages committed to the database, by result (applied, duplicate or dead_letter).", {"result"})),
      applied(messages.with({"applied"})),
      duplicates(messages.with({"duplicate"})),
      dead_letters(messages.with({"dead_letter"})),
      dead_letters_by_reason(registry.counter_family("foodpipe_consumer_dead_letters_total",
                                                     "Dead letters committed, by reason code.", {"reason"})),
      batches(registry.counter("foodpipe_consumer_batches_total",
                               "Batches committed to the database (orders, dead letters and offsets in one "
                               "transaction).")),
      stale_batches(registry.counter("foodpipe_consumer_stale_batches_total",
                                     "Batches rolled back because another consumer had moved the stored offsets.")),
      database_retries(registry.counter("foodpipe_consumer_database_retries_total",
                                        "Times the database was found unavailable and consumption paused to retry.")),
      rebalances(registry.counter("foodpipe_consumer_rebalances_total",
                                  "Partition assignments received from the consumer group.")),
      skipped_offsets(registry.counter("foodpipe_consumer_skipped_offsets_total",
                                       "Offsets never read because retention removed them before the group got "
                                       "there (recorded in skipped_offsets).")),
      dead_letters_truncated(registry.counter("foodpipe_consumer_dead_letters_truncated_total",
                                              "Dead letters published cut to the DLQ topic because they were over "
                                              "its size limit (the dead_letters table keeps them whole).")),
      batch_commit(registry.histogram("foodpipe_consumer_batch_commit_seconds",
                                      "Time to write a batch, publish its dead letters and commit the transaction.",
                                      metrics::seconds_buckets())),
      lag(registry.gauge_family("foodpipe_consumer_lag",
                                "Messages between the offset stored in the database and the log end, per assigned "
                                "partition.",
                                {"partition"})),
      waiting_for_database(registry.gauge("foodpipe_consumer_waiting_for_database",
                                          "1 while consumption is paused until the database is back, else 0.")) {}

void ConsumerMetrics::count_batch(std::uint64_t applied_count, std::uint64_t duplicate_count,
                                  std::uint64_t dead_letter_count) {
  batches.inc();
  applied.inc(applied_count);
  duplicates.inc(duplicate_count);
  dead_letters.inc(dead_letter_count);
}

void ConsumerMetrics::set_lag(const std::map<std::int32_t, std::int64_t>& partitions) {
  lag.remove_if([&partitions](const metrics::LabelValues& values) {
    return partitions.count(static_cast<std::int32_t>(std::stoi(values.at(0)))) == 0;
  });
  for (const auto& [partition, behind] : partitions) {
    lag.with({std::to_string(partition)}).set(static_cast<double>(behind));
  }
}

} // namespace foodpipe::pipeline
