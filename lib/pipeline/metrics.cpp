#include "pipeline/metrics.hpp"

#include <set>
#include <string>

namespace foodpipe::pipeline {

namespace {

// Drops the series of brokers the statistics no longer list (e.g. one taken
// out of the cluster).
void keep_only(metrics::Family<metrics::Gauge>& family, const std::set<std::string>& brokers) {
  family.remove_if(
      [&brokers](const metrics::LabelValues& values) { return brokers.count(values.at(0)) == 0; });
}

} // namespace

BrokerMetrics::BrokerMetrics(metrics::Registry& registry)
    : rtt_avg(registry.gauge_family("foodpipe_kafka_broker_rtt_avg_seconds",
                                    "Mean round-trip time of requests to the broker over librdkafka's last "
                                    "statistics interval.",
                                    {"broker"})),
      rtt_p99(registry.gauge_family("foodpipe_kafka_broker_rtt_p99_seconds",
                                    "99th percentile round-trip time of requests to the broker over "
                                    "librdkafka's last statistics interval.",
                                    {"broker"})) {}

void BrokerMetrics::update(const kafka::Statistics& statistics) {
  std::set<std::string> listed;
  for (const auto& broker : statistics.brokers) {
    const auto id = std::to_string(broker.id);
    listed.insert(id);
    if (broker.rtt_avg_seconds) {
      rtt_avg.with({id}).set(*broker.rtt_avg_seconds);
    }
    if (broker.rtt_p99_seconds) {
      rtt_p99.with({id}).set(*broker.rtt_p99_seconds);
    }
  }
  keep_only(rtt_avg, listed);
  keep_only(rtt_p99, listed);
}

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
                                          metrics::seconds_buckets())),
      brokers(registry),
      queue_messages(registry.gauge("foodpipe_kafka_producer_queue_messages",
                                    "Messages in librdkafka's producer queues (no delivery report yet).")),
      queue_bytes(registry.gauge("foodpipe_kafka_producer_queue_bytes",
                                 "Bytes of the messages in librdkafka's producer queues.")) {}

void ProducerMetrics::update(const kafka::Statistics& statistics) {
  brokers.update(statistics);
  queue_messages.set(static_cast<double>(statistics.producer_queue_messages));
  queue_bytes.set(static_cast<double>(statistics.producer_queue_bytes));
}

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
                                {"topic", "group", "partition"})),
      waiting_for_database(registry.gauge("foodpipe_consumer_waiting_for_database",
                                          "1 while consumption is paused until the database is back, else 0.")),
      brokers(registry),
      fetch_queue_messages(registry.gauge("foodpipe_kafka_consumer_fetch_queue_messages",
                                          "Messages fetched from the brokers and not taken by the consumer yet.")),
      fetch_queue_bytes(registry.gauge("foodpipe_kafka_consumer_fetch_queue_bytes",
                                       "Bytes of the messages fetched and not taken by the consumer yet.")),
      events(registry.counter_family("foodpipe_consumer_events_total",
                                     "Order status events committed to the database, by the status they "
                                     "name and result (applied, duplicate or dead_letter).",
                                     {"status", "result"})) {}

void ConsumerMetrics::count_batch(std::uint64_t applied_count, std::uint64_t duplicate_count,
                                  std::uint64_t dead_letter_count) {
  batches.inc();
  applied.inc(applied_count);
  duplicates.inc(duplicate_count);
  dead_letters.inc(dead_letter_count);
}

void ConsumerMetrics::set_lag(const std::string& topic, const std::string& group,
                              const std::map<std::int32_t, std::int64_t>& partitions) {
  lag.remove_if([&](const metrics::LabelValues& values) {
    return values.at(0) != topic || values.at(1) != group ||
           partitions.count(static_cast<std::int32_t>(std::stoi(values.at(2)))) == 0;
  });
  for (const auto& [partition, behind] : partitions) {
    lag.with({topic, group, std::to_string(partition)}).set(static_cast<double>(behind));
  }
}

void ConsumerMetrics::update(const kafka::Statistics& statistics) {
  brokers.update(statistics);
  fetch_queue_messages.set(static_cast<double>(statistics.fetch_queue_messages));
  fetch_queue_bytes.set(static_cast<double>(statistics.fetch_queue_bytes));
}

} // namespace foodpipe::pipeline
