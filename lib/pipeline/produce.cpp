#include "pipeline/produce.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/buffer_pool.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "domain/file_line.hpp"
#include "domain/generator.hpp"
#include "domain/message_kind.hpp"
#include "domain/order_event_json.hpp"
#include "domain/order_json.hpp"
#include "domain/rate_schedule.hpp"
#include "kafka/admin.hpp"
#include "kafka/error.hpp"
#include "kafka/producer.hpp"
#include "pipeline/lifecycle_queue.hpp"
#include "pipeline/metrics.hpp"

namespace foodpipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view k_schema_version = "1";
constexpr std::string_view k_content_type = "application/json";
constexpr auto k_retention_ms = "604800000"; // 7 days

// Creates the topic and its dead-letter topic when missing; warns when an
// existing topic's partition count or replication factor differs from the
// one it would be created with.
void ensure_topics(kafka::Admin& admin, const ProduceOptions& options, const kafka::Replication& replication,
                   ProduceReport& report) {
  const auto ensure = [&](const std::string& name, bool& created) {
    const auto metadata = admin.metadata(options.connect_timeout, name);
    const bool exists = !metadata.topics.empty() && metadata.topics[0].ok();
    if (exists) {
      const auto& partitions = metadata.topics[0].partitions;
      const auto count = static_cast<int>(partitions.size());
      if (count != options.partitions) {
        log::warning("produce", "topic exists with another partition count; keeping it",
                     {{"topic", name}, {"partitions", std::to_string(count)},
                      {"requested", std::to_string(options.partitions)}});
      }
      if (!partitions.empty() &&
          static_cast<int>(partitions.front().replicas.size()) != replication.replication_factor) {
        log::warning("produce",
                     "topic exists with another replication factor; keeping it "
                     "(kafka-reassign-partitions changes it)",
                     {{"topic", name},
                      {"replication_factor", std::to_string(partitions.front().replicas.size())},
                      {"chosen", std::to_string(replication.replication_factor)}});
      }
      return;
    }
    auto configs = replication.topic_configs();
    configs.emplace_back("retention.ms", k_retention_ms);
    const auto result = admin.create_topic(name, options.partitions, replication.replication_factor, configs,
                                           options.connect_timeout);
    created = result == kafka::Admin::CreateResult::created;
    if (created) {
      log::info("produce", "created topic",
                {{"topic", name}, {"partitions", std::to_string(options.partitions)},
                 {"replication_factor", std::to_string(replication.replication_factor)},
                 {"min_insync_replicas", std::to_string(replication.min_insync_replicas)}});
    }
  };
  ensure(options.topic, report.topic_created);
  ensure(options.topic + ".dlq", report.dlq_created);
}

// Which of the two numbers the user gave, for the log.
std::string requested_text(const kafka::Replication& replication) {
  if (replication.replication_factor_requested && replication.min_insync_replicas_requested) {
    return "both";
  }
  if (replication.replication_factor_requested) {
    return "replication-factor";
  }
  return replication.min_insync_replicas_requested ? "min-insync-replicas" : "none";
}

kafka::Properties producer_defaults(const ProduceOptions& options) {
  kafka::Properties defaults = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.codec", options.compression},
      {"linger.ms", std::to_string(options.linger_ms)},
      // Java's partitioner, so that a customer lands where a Java producer would put it.
      {"partitioner", "murmur2_random"},
      // 20,000 messages is ~66 ms of buffer at 300k/s: no throughput lost, and
      // peak RSS stays near 40 MB instead of ~110 MB when the broker lags
      // (docs/performance.md).
      {"queue.buffering.max.messages", "20000"},
  };
  if (options.batch_size) {
    defaults.emplace_back("batch.size", std::to_string(*options.batch_size));
  }
  return defaults;
}

// The line source of --from-file.
class LineReader {
public:
  explicit LineReader(const std::string& path) {
    if (path == "-") {
      m_in = &std::cin;
    } else {
      m_file = std::make_unique<std::ifstream>(path, std::ios::binary);
      if (!*m_file) {
        throw Error("cannot read --from-file " + path + ": no such file or not readable", ExitCode::usage);
      }
      m_in = m_file.get();
    }
  }
  bool next(std::string& line) {
    if (!std::getline(*m_in, line)) {
      return false;
    }
    ++m_line_number;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    return true;
  }
  [[nodiscard]] std::uint64_t line_number() const { return m_line_number; }

private:
  std::unique_ptr<std::ifstream> m_file;
  std::istream* m_in = nullptr;
  std::uint64_t m_line_number = 0;
};

// Reaches the cluster first, so that an unreachable broker fails within
// --connect-timeout with its address rather than after message.timeout.ms;
// creates the topics when asked.
void prepare_cluster(const ProduceOptions& options, ProduceReport& report) {
  kafka::Admin admin(options.kafka);
  const auto cluster = admin.metadata(options.connect_timeout);
  if (!options.create_topics) {
    return;
  }
  // Checked against the cluster even when both topics exist: a request
  // it cannot hold is a mistake worth saying before anything is sent.
  const auto& replication = report.replication.emplace(kafka::choose_replication(
      static_cast<int>(cluster.brokers.size()), options.replication, options.kafka.bootstrap_servers));
  log::info("produce", "replication of created topics",
            {{"replication_factor", std::to_string(replication.replication_factor)},
             {"min_insync_replicas", std::to_string(replication.min_insync_replicas)},
             {"brokers", std::to_string(replication.brokers)},
             {"requested", requested_text(replication)}});
  ensure_topics(admin, options, replication, report);
}

// Where the orders come from: the generator, or the lines of --from-file,
// which may hold status events too (domain/file_line.hpp says which a line is;
// decoded first: an invalid line is counted and logged, not sent).
class OrderSource {
public:
  OrderSource(const ProduceOptions& options, ProduceReport& report) : m_report(report) {
    m_limits.max_message_bytes = options.max_message_bytes;
    if (options.from_file) {
      m_lines = std::make_unique<LineReader>(*options.from_file);
      report.run_id = options.run_id.value_or(domain::random_run_id());
    } else {
      const auto seed = options.seed.value_or(domain::random_seed());
      report.seed = seed;
      report.run_id = options.run_id.value_or(domain::random_run_id());
      m_generator = std::make_unique<domain::OrderGenerator>(seed, report.run_id);
      log::info("produce", "generating orders",
                {{"seed", std::to_string(seed)}, {"run_id", report.run_id}, {"topic", options.topic}});
    }
  }

  enum class Next { order, event, skip, end };

  // The next message's value and key (the customer id); `key` points into the
  // order, the event or `value`, valid until the next call. Only a file gives events.
  Next next(std::string& value, std::string_view& key) {
    if (!m_lines) {
      value.clear();
      key = m_generator->next_encoded(value);
      return Next::order;
    }
    if (!m_lines->next(value)) {
      return Next::end;
    }
    if (value.empty()) {
      return Next::skip;
    }
    const auto kind = domain::classify_line(value);
    if (!kind) {
      return invalid("line", kind.rejection());
    }
    if (kind.type().kind == domain::MessageKind::order_status) {
      auto decoded = domain::decode_event(value, m_limits);
      if (!decoded) {
        return invalid("status event line", decoded.rejection());
      }
      m_event = std::move(decoded).event();
      key = m_event.customer_id;
      return Next::event;
    }
    auto decoded = domain::decode(value, m_limits);
    if (!decoded) {
      return invalid("order line", decoded.rejection());
    }
    m_order = std::move(decoded).order();
    key = m_order.customer_id;
    return Next::order;
  }

  // The next generated order, whole and encoded (appended to a cleared
  // `value`): a lifecycle needs its id, customer and created_at. The bytes are
  // those next() gives (generator.hpp: next_encoded writes encode(next())).
  // Precondition: a generated run. Returns its sequence number.
  std::uint64_t next_order(domain::Order& order, std::string& value) {
    m_generator->next(order);
    value.clear();
    domain::encode(order, value);
    return m_generator->sequence();
  }
  [[nodiscard]] std::uint64_t seed() const { return m_generator->seed(); }

private:
  // Counts and logs a line that is not sent: "invalid order line", as it
  // always was, or "invalid status event line", or "invalid line" for one
  // whose type member names no kind.
  Next invalid(std::string_view what, const domain::Rejection& rejection) {
    ++m_report.invalid_lines;
    log::error("produce", "invalid " + std::string(what) + "; not sent",
               {{"line", std::to_string(m_lines->line_number())},
                {"reason", std::string(domain::to_string(rejection.code))},
                {"detail", rejection.detail}});
    return Next::skip;
  }

  ProduceReport& m_report;
  domain::DecodeLimits m_limits;
  std::unique_ptr<domain::OrderGenerator> m_generator;
  std::unique_ptr<LineReader> m_lines;
  domain::Order m_order;
  domain::OrderStatusEvent m_event;
};

// An event's JSON starts so (order_event_json.hpp: encode() writes event_id
// first), an order's with "order_id": a report tells them apart by its
// payload, which is the lent buffer, without a record per message.
constexpr std::string_view k_event_prefix = R"({"event_id")";

// How a delivery report tells an event from an order: not at all (a generated
// run without --lifecycle), by the payload's prefix (a lifecycle run, which
// encodes its events itself), or by the type header (a file's lines are sent
// as they were written, so their bytes cannot say; the report carries the
// headers of the message).
enum class EventsBy : std::uint8_t { none, prefix, header };

// Counts each delivery report and gives its value's buffer back to the pool,
// an event's report as an event.
kafka::Producer::DeliveryHandler delivery_handler(ProduceReport& report, BufferPool& buffers,
                                                  ProducerMetrics* metrics, EventsBy events_by) {
  return [&report, &buffers, metrics, events_by](kafka::MessageView message) {
    const auto size = message.value().size();
    const bool event =
        (events_by == EventsBy::prefix && message.value().starts_with(k_event_prefix)) ||
        (events_by == EventsBy::header &&
         message.header(domain::k_type_header.data()) ==
             domain::type_headers(domain::MessageKind::order_status).type);
    buffers.give_back({static_cast<const char*>(message.opaque()), size});
    if (message.ok()) {
      ++(event ? report.events_delivered : report.delivered);
      report.bytes += size;
      // librdkafka's own enqueue-to-report time: no clock reads of ours per message.
      const auto latency_us = message.latency_us();
      report.latency_us.record(latency_us);
      if (metrics != nullptr) {
        metrics->delivered.inc();
        metrics->bytes.inc(size);
        metrics->delivery_latency.observe(static_cast<double>(latency_us) / 1e6);
      }
    } else {
      ++(event ? report.events_failed : report.failed);
      if (metrics != nullptr) {
        metrics->failed.inc();
      }
      const auto error = message.error_name();
      const auto count = ++report.failed_by_error[error];
      if (count <= 3) {
        log::warning("produce", "delivery failed", {{"error", error}, {"reason", message.error_text()}});
      }
    }
    if (metrics != nullptr) {
      metrics->in_flight.add(-1);
    }
  };
}

// How many orders the run sends: --count, or what the rate allows in
// --duration, whichever is fewer; nullopt for no bound but time or a signal.
std::optional<std::uint64_t> send_target(const ProduceOptions& options, const domain::RateSchedule& schedule,
                                         Clock::time_point start) {
  std::optional<std::uint64_t> target = options.count;
  if (options.duration.count() > 0 && !schedule.unlimited()) {
    const auto by_duration = schedule.sent_allowed(start + options.duration);
    target = target ? std::min(*target, by_duration) : by_duration;
  }
  return target;
}

// Calls the progress callback about once a second (and once at the end).
class ProgressTicker {
public:
  ProgressTicker(const ProgressCallback& callback, const ProduceReport& report, Clock::time_point start,
                 std::optional<std::uint64_t> target)
      : m_callback(callback), m_report(report), m_start(start), m_next(start + std::chrono::seconds(1)),
        m_target(target) {}

  void tick(Clock::time_point now) {
    if (m_callback && now >= m_next) {
      show(now - m_start);
      m_next = now + std::chrono::seconds(1);
    }
  }
  void show(Clock::duration elapsed) const {
    if (m_callback) {
      m_callback({m_report.sent, m_report.delivered, m_report.failed, m_report.invalid_lines,
                  m_report.events_sent, elapsed, m_target});
    }
  }

private:
  const ProgressCallback& m_callback;
  const ProduceReport& m_report;
  Clock::time_point m_start;
  Clock::time_point m_next;
  std::optional<std::uint64_t> m_target;
};

// The headers of a run that writes both kinds of message (--lifecycle, or a
// --from-file whose lines may be events): orders exactly as a run of orders
// alone writes them (there as the producer's common headers), events with their type.
struct TypedHeaders {
  kafka::Headers order{3};
  kafka::Headers event{4};
};

// The send loop's parts, for send_orders.
struct SendRun {
  const ProduceOptions& options;
  ProduceReport& report;
  kafka::Producer& producer;
  BufferPool& buffers;
  OrderSource& source;
  const domain::RateSchedule& schedule;
  std::optional<std::uint64_t> target;
  Clock::time_point deadline;
  ProgressTicker& ticker;
  const TypedHeaders* headers; // each message's own; nullptr: the producer's common ones
};

// Waits, serving delivery reports, until message `number` is due on the
// schedule. False when a stop was requested meanwhile.
bool wait_until_due(const SendRun& run, std::uint64_t number, Clock::time_point now) {
  const auto due = run.schedule.due(number);
  while (now < due && !stop_requested()) {
    // Rounded up, as --lifecycle's wait is: poll() waits whole milliseconds, and a
    // wait under one rounded down to 0 returned at once, so at 2,000 orders/s the
    // loop spun (91% of a core in the soak). Late by under 1 ms, the next messages
    // catch up at once: the schedule is absolute.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(due - now);
    run.producer.poll(std::min(wait, std::chrono::milliseconds(100)));
    now = Clock::now();
    run.ticker.tick(now);
  }
  return !stop_requested();
}

// Sends until the target, the deadline, the end of --from-file or a stop
// request, counting into the report. A file's events are sent as they come,
// between its orders, and count towards --count and --rate as its orders do:
// a file is paced by its lines (sent + events_sent; events_sent is 0 for generated orders).
void send_orders(const SendRun& run) {
  auto& report = run.report;
  const auto& schedule = run.schedule;
  const auto start = schedule.start();
  std::string value; // the encoded order or the file's line
  const std::function<bool()> should_stop = [] { return stop_requested(); };
  // Only a rate or a --duration needs the clock on every turn. A clock read is
  // not free (on this project's VMs it traps to the hypervisor, about 0.1 us:
  // docs/performance.md), so a run bounded by --count alone skips it.
  const bool paced = !schedule.unlimited() || run.options.duration.count() > 0;

  for (;;) {
    if (stop_requested()) {
      report.interrupted = true;
      break;
    }
    const auto messages = report.sent + report.events_sent;
    if (run.target && messages >= *run.target) {
      break;
    }
    const auto now = paced ? Clock::now() : start;
    // With a rate, --duration is already the exact target count (a late
    // wake-up must not drop the last message); unlimited runs stop on time.
    if (schedule.unlimited() && now >= run.deadline) {
      break;
    }
    // The absolute schedule: message n+1 goes at start + (n+1)/rate, however
    // late the previous one was, so the rate never drifts.
    if (!schedule.unlimited() && !wait_until_due(run, messages + 1, now)) {
      report.interrupted = true;
      break;
    }

    std::string_view key; // the customer id
    const auto next = run.source.next(value, key);
    if (next == OrderSource::Next::end) {
      break;
    }
    if (next == OrderSource::Next::skip) {
      continue;
    }

    const bool event = next == OrderSource::Next::event;
    const kafka::Headers* headers = run.headers == nullptr ? nullptr : event ? &run.headers->event
                                                                             : &run.headers->order;
    // The opaque is the buffer too: a report's payload is not promised for an empty value.
    const std::string_view lent = run.buffers.fill(value);
    if (!run.producer.produce(run.options.topic, key, lent, headers, const_cast<char*>(lent.data()),
                              should_stop, kafka::Producer::Value::lend)) {
      run.buffers.give_back(lent);
      report.interrupted = true;
      break;
    }
    ++(event ? report.events_sent : report.sent);
    if (run.options.metrics != nullptr) {
      run.options.metrics->in_flight.add(1);
    }
    // Serve delivery reports regularly; librdkafka only calls back from poll().
    if (((report.sent + report.events_sent) & 0xFF) == 0 || !schedule.unlimited()) {
      run.producer.poll(std::chrono::milliseconds(0));
      run.producer.throw_if_fatal();
      run.ticker.tick(Clock::now());
    }
  }
}

// Enqueues one message with its own headers, lending its value from the
// pool. False when a stop request ended a wait for room in the queue.
bool send_one(const SendRun& run, std::string_view key, std::string_view value,
              const kafka::Headers& headers) {
  const std::function<bool()> should_stop = [] { return stop_requested(); };
  const std::string_view lent = run.buffers.fill(value);
  if (!run.producer.produce(run.options.topic, key, lent, &headers, const_cast<char*>(lent.data()),
                            should_stop, kafka::Producer::Value::lend)) {
    run.buffers.give_back(lent);
    return false;
  }
  if (run.options.metrics != nullptr) {
    run.options.metrics->in_flight.add(1);
  }
  return true;
}

// send_orders for --lifecycle: orders on the rate's schedule and, between
// them, every status event whose planned time has come, earliest first (an
// event and an order due at the same time: the event, so that a run without
// delays keeps one order in flight). Orders stop at the target or the
// deadline; the run goes on until the last of their events is sent, or a
// stop request.
void send_lifecycle(const SendRun& run) {
  const auto& headers = *run.headers;
  auto& report = run.report;
  const auto& schedule = run.schedule;
  LifecycleQueue queue;
  domain::Order order;
  std::string value;
  bool orders_done = false;
  for (;;) {
    if (stop_requested()) {
      report.interrupted = true;
      break;
    }
    const auto now = Clock::now();
    if (!orders_done && ((run.target && report.sent >= *run.target) ||
                         (schedule.unlimited() && now >= run.deadline))) {
      orders_done = true;
    }
    if (orders_done && queue.empty()) {
      break;
    }
    // The absolute schedules of send_orders: order n at start + n/rate, an
    // event at its order's due time plus its planned delays.
    const auto order_due = schedule.unlimited() ? now : schedule.due(report.sent + 1);
    const bool event_next = !queue.empty() && (orders_done || queue.next_due() <= order_due);
    const auto due = event_next ? queue.next_due() : order_due;
    if (due > now) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(due - now);
      run.producer.poll(std::min(wait, std::chrono::milliseconds(100)));
      run.ticker.tick(Clock::now());
      continue;
    }

    if (event_next) {
      const auto& event = queue.next();
      value.clear();
      domain::encode(event, value);
      if (!send_one(run, event.customer_id, value, headers.event)) {
        report.interrupted = true;
        break;
      }
      ++report.events_sent;
      queue.pop();
    } else {
      const auto sequence = run.source.next_order(order, value);
      if (!send_one(run, order.customer_id, value, headers.order)) {
        report.interrupted = true;
        break;
      }
      ++report.sent;
      auto random = domain::lifecycle_random(run.source.seed(), sequence);
      queue.add(domain::plan_lifecycle(order, random, run.options.time_scale), order_due);
    }
    if (((report.sent + report.events_sent) & 0xFF) == 0 || !schedule.unlimited()) {
      run.producer.poll(std::chrono::milliseconds(0));
      run.producer.throw_if_fatal();
      run.ticker.tick(Clock::now());
    }
  }
  report.events_unsent = queue.events_pending();
}

} // namespace

ProduceReport run_produce(const ProduceOptions& options, const ProgressCallback& progress) {
  // The command checked its flags; these are the job's own preconditions.
  if (options.rate < 0 || options.partitions < 1 || options.topic.empty()) {
    throw std::invalid_argument("run_produce: rate < 0, partitions < 1 or an empty topic");
  }
  if (options.lifecycle && options.from_file) {
    throw std::invalid_argument("run_produce: a lifecycle needs generated orders, not from_file");
  }

  ProduceReport report;
  report.topic = options.topic;
  report.lifecycle = options.lifecycle;
  prepare_cluster(options, report);
  OrderSource source(options, report);

  // The values are lent to librdkafka, not copied: each message's buffer
  // (its opaque, its size the message's) comes back with its delivery report,
  // for a later message.
  // Declared before the producer, so that it outlives every message.
  BufferPool buffers;
  kafka::Headers headers(3);
  headers.add("schema-version", k_schema_version).add("content-type", k_content_type).add("run-id", report.run_id);
  // A lifecycle run writes two kinds of message, and a file may, so each
  // carries headers of its own: the producer then has no common ones.
  const bool typed = options.lifecycle || options.from_file.has_value();
  TypedHeaders typed_headers;
  std::optional<kafka::Headers> common_headers;
  if (typed) {
    typed_headers.order = std::move(headers);
    const auto event = domain::type_headers(domain::MessageKind::order_status);
    typed_headers.event.add(domain::k_type_header, event.type)
        .add(domain::k_schema_version_header, event.schema_version)
        .add("content-type", k_content_type)
        .add("run-id", report.run_id);
  } else {
    common_headers = std::move(headers);
  }
  kafka::StatisticsHandler on_statistics; // librdkafka's statistics only when someone can scrape them
  if (options.metrics != nullptr) {
    on_statistics = [metrics = options.metrics](const kafka::Statistics& statistics) {
      metrics->update(statistics);
    };
  }
  kafka::Producer producer(options.kafka, producer_defaults(options),
                           delivery_handler(report, buffers, options.metrics,
                                            options.lifecycle   ? EventsBy::prefix
                                            : options.from_file ? EventsBy::header
                                                                : EventsBy::none),
                           std::move(common_headers),
                           std::move(on_statistics));

  const auto start = Clock::now();
  const domain::RateSchedule schedule(options.rate, start);
  const auto target = send_target(options, schedule, start);
  const auto deadline = options.duration.count() > 0 ? start + options.duration : Clock::time_point::max();
  ProgressTicker ticker(progress, report, start, target);
  const SendRun run{options, report,   producer, buffers, source,
                    schedule, target, deadline, ticker,  typed ? &typed_headers : nullptr};
  if (options.lifecycle) {
    send_lifecycle(run);
  } else {
    send_orders(run);
  }

  log::debug("produce", "flushing", {{"in_flight", std::to_string(producer.in_flight())}});
  const int purged = producer.close(options.flush_timeout);
  if (purged > 0) {
    log::error("produce", "messages still unacknowledged after --flush-timeout; counted as failed",
               {{"count", std::to_string(purged)}});
  }
  report.elapsed = Clock::now() - start;
  producer.throw_if_fatal();
  ticker.show(report.elapsed);
  return report;
}

} // namespace foodpipe::pipeline
