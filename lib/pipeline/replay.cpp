#include "pipeline/replay.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "db/connection.hpp"
#include "db/event_repair.hpp"
#include "db/migrator.hpp"
#include "db/order_store.hpp"
#include "domain/message_kind.hpp"
#include "domain/order_json.hpp"
#include "kafka/error.hpp"
#include "kafka/message.hpp"
#include "kafka/producer.hpp"
#include "kafka/reader.hpp"
#include "pipeline/consume_rules.hpp"

namespace foodpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view k_component = "replay";

void warn_gone(const ReplayOptions& options, const ReplaySpan& span, std::int64_t log_start) {
  log::warning(k_component, "offsets already removed from the log (retention or delete-records); not replayed",
               {{"topic", options.topic},
                {"partition", std::to_string(span.partition)},
                {"from", std::to_string(span.from)},
                {"to", std::to_string(span.to)},
                {"reading_from", std::to_string(log_start)}});
}

std::vector<ReplayRange> plan_ranges(const ReplayOptions& options, kafka::Reader& reader,
                                     std::vector<ReplaySpan>& gone) {
  const auto existing = reader.partitions(options.topic, options.timeout);
  const auto chosen = replay_partitions(existing, options.partitions);
  for (const auto partition : chosen) {
    if (!std::binary_search(existing.begin(), existing.end(), partition)) {
      throw UsageError("--partition " + std::to_string(partition) + ": topic " + options.topic + " has partitions 0.." +
                       std::to_string(existing.empty() ? 0 : existing.back()));
    }
  }

  std::map<std::int32_t, kafka::Watermarks> marks;
  std::map<std::int32_t, std::int64_t> start_times;
  std::map<std::int32_t, std::int64_t> end_times;
  for (const auto partition : chosen) {
    marks[partition] = reader.watermarks(options.topic, partition, options.timeout);
    start_times[partition] = options.start.time_ms;
    end_times[partition] = options.end.time_ms;
  }
  const auto starts_by_time = options.start.kind == ReplayStart::Kind::time
                                  ? reader.offsets_for_times(options.topic, start_times, options.timeout)
                                  : std::map<std::int32_t, std::int64_t>{};
  const auto ends_by_time = options.end.kind == ReplayEnd::Kind::time
                                ? reader.offsets_for_times(options.topic, end_times, options.timeout)
                                : std::map<std::int32_t, std::int64_t>{};

  std::vector<ReplayRange> ranges;
  for (const auto partition : chosen) {
    const auto plan = plan_replay_range(
        partition, marks[partition], options.start, options.end,
        options.start.kind == ReplayStart::Kind::time ? starts_by_time.at(partition) : 0,
        options.end.kind == ReplayEnd::Kind::time ? ends_by_time.at(partition) : 0);
    if (plan.gone) {
      gone.push_back(*plan.gone);
      warn_gone(options, gone.back(), marks[partition].low);
    }
    ranges.push_back(plan.range);
  }
  return ranges;
}

// Into PostgreSQL through the consumer's write path, batch by batch: orders
// and order status events as consume classifies and applies them.
class DatabaseTarget {
public:
  DatabaseTarget(const ReplayOptions& options, ReplayReport& report)
      : m_options(options), m_report(report),
        m_connection(db::Connection::connect(options.db_conninfo, std::chrono::duration_cast<std::chrono::seconds>(
                                                                      std::max<std::chrono::milliseconds>(
                                                                          options.timeout, 1s)))) {
    db::require_foodpipe_schema(m_connection);
    m_store = std::make_unique<db::OrderStore>(m_connection);
    m_store->set_status_transitions(status_transitions());
    m_limits.max_message_bytes = options.max_message_bytes;
    m_batch.group = options.dead_letter_group;
    m_batch.restore_changed_rows = true;
    m_batch.topic = options.topic;
  }

  void add(kafka::MessageView message) {
    const auto type = domain::classify_message(message.header(domain::k_type_header.data()),
                                               message.header(domain::k_schema_version_header.data()));
    add_typed_message(m_batch, type, message.partition(), message.offset(), message.optional_key(),
                      message.optional_value(), m_limits);
    if (m_batch.orders.size() + m_batch.events.size() + m_batch.dead_letters.size() >= m_options.batch_size) {
      flush();
    }
  }

  // Writes and commits what is batched. A failed write is rolled back by the
  // store and thrown: the replay stops there (it can simply be run again).
  void flush() {
    if (m_batch.orders.empty() && m_batch.events.empty() && m_batch.dead_letters.empty()) {
      return;
    }
    set_aside_lost_events();
    const auto result = m_store->write(m_batch);
    // As consume does: an event not applied is a dead letter (a position
    // keeps its first one, so a replay records none twice).
    auto letters = event_dead_letters(m_batch, result.events);
    const auto recorded = letters.empty() ? 0 : m_store->record_dead_letters(m_batch.group, letters);
    m_store->commit();
    m_report.applied += result.applied + result.events_applied;
    m_report.already_present += result.duplicates + result.event_duplicates;
    m_report.restored += result.restored;
    m_report.dead_lettered += result.dead_letters.size() + letters.size();
    m_report.dead_letters_recorded += result.dead_letters_recorded + recorded;
    m_report.events.applied += result.events_applied;
    m_report.events.already_present += result.event_duplicates;
    m_report.events.dead_lettered += letters.size();
    m_batch.orders.clear();
    m_batch.events.clear();
    m_batch.dead_letters.clear();
  }

private:
  // Before the store judges the events (db/event_repair.hpp): statuses
  // changed by hand are put back, and events whose order_events row was lost
  // are taken out of the batch, counted and named, never applied or
  // dead-lettered.
  void set_aside_lost_events() {
    if (m_batch.events.empty()) {
      return;
    }
    m_report.events.read += m_batch.events.size();
    const auto restored = db::restore_event_statuses(m_connection, m_batch.topic, m_batch.events);
    m_report.events.statuses_restored += restored;
    m_report.restored += restored;
    const auto lost = db::lost_events(m_connection, m_batch.topic, m_batch.events);
    std::vector<db::EventRow> kept;
    kept.reserve(m_batch.events.size());
    for (std::size_t i = 0; i < m_batch.events.size(); ++i) {
      auto& event = m_batch.events[i];
      if (!lost[i]) {
        kept.push_back(std::move(event));
        continue;
      }
      ++m_report.events.not_repaired;
      log::warning(k_component,
                   "an applied event's order_events row is gone; not repaired in place (delete the order and "
                   "replay the range from its order message)",
                   {{"topic", m_batch.topic},
                    {"partition", std::to_string(event.partition)},
                    {"offset", std::to_string(event.offset)},
                    {"event_id", event.event_id},
                    {"order_id", event.order_id}});
    }
    m_batch.events = std::move(kept);
  }

  const ReplayOptions& m_options;
  ReplayReport& m_report;
  db::Connection m_connection;
  std::unique_ptr<db::OrderStore> m_store;
  domain::DecodeLimits m_limits;
  db::Batch m_batch; // no offsets: a replay never moves a group's progress
};

// Onto another topic, with provenance headers.
class TopicTarget {
public:
  TopicTarget(const ReplayOptions& options, ReplayReport& report)
      : m_options(options), m_report(report),
        m_producer(options.kafka, {{"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"}},
                   [this](kafka::MessageView delivered) {
                     if (delivered.ok()) {
                       ++m_report.republished;
                     } else {
                       ++m_report.failed;
                       log::warning(k_component, "message not delivered",
                                    {{"topic", *m_options.to_topic}, {"error", delivered.error_name()}});
                     }
                   }) {}

  void add(kafka::MessageView message) {
    auto headers = kafka::Headers::copy_of(message);
    headers.add(k_replay_source_topic_header, m_options.topic)
        .add(k_replay_source_partition_header, std::to_string(message.partition()))
        .add(k_replay_source_offset_header, std::to_string(message.offset()));
    // A null key or value stays null (data() == nullptr).
    m_producer.produce(*m_options.to_topic, message.key(), message.value(), &headers, nullptr);
    if (++m_since_poll >= 1000) {
      m_since_poll = 0;
      m_producer.poll(0ms);
    }
  }

  // Waits for every delivery report; what cannot be delivered in time is
  // purged and counted as failed.
  void flush() { (void)m_producer.close(30s); }

private:
  const ReplayOptions& m_options;
  ReplayReport& m_report;
  kafka::Producer m_producer;
  std::size_t m_since_poll = 0;
};

// Otherwise every message would wait for message.timeout.ms and fail where
// the broker does not create topics on demand.
void require_target_topic(const ReplayOptions& options, kafka::Reader& reader) {
  try {
    (void)reader.partitions(*options.to_topic, options.timeout);
  } catch (const kafka::KafkaError& error) {
    if (error.code() != kafka::errc::unknown_topic_or_partition) {
      throw;
    }
    throw Error("--to-topic " + *options.to_topic + " does not exist at " + options.kafka.bootstrap_servers +
                "; create it first (e.g. kafka-topics.sh --create --topic " + *options.to_topic + ")");
  }
}

// Where the read messages go: the database or --to-topic.
class Target {
public:
  Target(const ReplayOptions& options, ReplayReport& report) {
    if (options.to_topic) {
      m_topic = std::make_unique<TopicTarget>(options, report);
    } else {
      m_database = std::make_unique<DatabaseTarget>(options, report);
    }
  }
  void add(kafka::MessageView message) {
    if (m_topic) {
      m_topic->add(message);
    } else {
      m_database->add(message);
    }
  }
  void flush() {
    if (m_topic) {
      m_topic->flush();
    } else {
      m_database->flush();
    }
  }

private:
  std::unique_ptr<DatabaseTarget> m_database;
  std::unique_ptr<TopicTarget> m_topic;
};

// Whether a read message is replayed; counts the ones passed over.
bool replayed(const ReplayOptions& options, kafka::MessageView message, ReplayReport& report) {
  if (message.header("payload-truncated") == std::optional<std::string_view>("true")) {
    ++report.skipped_truncated;
    return false;
  }
  if (options.reason) {
    const auto reason = message.header("reason-code");
    if (!reason || *reason != *options.reason) {
      ++report.skipped_by_filter;
      return false;
    }
  }
  return true;
}

// What the read found besides messages: offsets without one, offsets gone
// while reading, and planned offsets the log ended before.
void count_outcome(const ReplayOptions& options, const kafka::ReadResult& outcome, ReplayReport& report) {
  for (const auto& range : outcome.ranges) {
    report.without_message += range.without_message();
    for (const auto& span : range.gone) {
      report.gone.push_back({range.partition, span.from, span.to});
      warn_gone(options, report.gone.back(), span.to);
    }
    if (range.ended == kafka::RangeEnd::log_end) {
      report.unread.push_back({range.partition, range.end, range.to});
      log::warning(k_component, "the log ends before the planned range does (an open transaction?); not replayed",
                   {{"topic", options.topic},
                    {"partition", std::to_string(range.partition)},
                    {"from", std::to_string(range.end)},
                    {"to", std::to_string(range.to)}});
    }
  }
}

} // namespace

ReplayReport run_replay(const ReplayOptions& options, const ReplayProgressCallback& progress) {
  // The command checked its flags; these are the job's own preconditions.
  if (options.topic.empty() || (options.to_topic && options.to_topic->empty()) || options.batch_size == 0) {
    throw std::invalid_argument("run_replay: an empty topic or to_topic, or batch_size 0");
  }
  const auto started = Clock::now();
  ReplayReport report;
  report.dry_run = options.dry_run;

  kafka::Reader reader(options.kafka);
  report.ranges = plan_ranges(options, reader, report.gone);
  if (options.to_topic) {
    require_target_topic(options, reader);
  }
  std::vector<kafka::PartitionRange> ranges;
  for (const auto& range : report.ranges) {
    report.planned += range.count();
    ranges.push_back({range.partition, range.from, range.to});
  }
  if (options.dry_run || report.planned == 0) {
    report.elapsed = Clock::now() - started;
    return report;
  }

  Target target(options, report);
  log::info(k_component, "replaying",
            {{"topic", options.topic},
             {"offsets", std::to_string(report.planned)},
             {"into", options.to_topic ? "topic " + *options.to_topic : std::string("the database")}});

  auto next_progress = Clock::now() + 1s;
  const auto outcome = reader.read(options.topic, ranges, [&](kafka::MessageView message) {
    if (stop_requested()) {
      report.interrupted = true;
      return false;
    }
    ++report.read;
    if (!replayed(options, message, report)) {
      return true;
    }
    target.add(message);
    if (progress && (report.read & 1023U) == 0 && Clock::now() >= next_progress) {
      next_progress = Clock::now() + 1s;
      progress({report.read, report.planned, Clock::now() - started});
    }
    return true;
  });
  count_outcome(options, outcome, report);
  // The batch in flight is finished even when interrupted: it is small, and
  // a write the database does not complete is rolled back by it.
  target.flush();
  report.elapsed = Clock::now() - started;
  if (progress) {
    progress({report.read, report.planned, report.elapsed});
  }
  return report;
}

} // namespace foodpipe::pipeline
