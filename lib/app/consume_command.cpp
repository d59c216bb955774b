// foodpipe consume: orders from Kafka into PostgreSQL, exactly once in effect.

#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <optional>

#include "app/commands.hpp"
#include "app/long_job.hpp"
#include "app/metrics_server.hpp"
#include "app/number.hpp"
#include "app/progress.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "app/settings.hpp"
#include "core/defaults.hpp"
#include "core/log.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/consume.hpp"

namespace foodpipe::app {
namespace {

// Bounds of the numeric options (documented in --help).
constexpr CountRange k_batch_size_range{1, 1'000'000};
constexpr CountRange k_batch_ms_range{0, 3'600'000}; // a batch waits an hour at most
constexpr CountRange k_message_bytes_range{1, 1'000'000'000}; // librdkafka's message.max.bytes at most
constexpr CountRange k_max_messages_range{1};
constexpr SecondsRange k_idle_timeout_range{std::chrono::milliseconds(0), k_max_duration};

// Consumed, rate, outcomes, lag, and whether it is waiting for the database.
void show(ProgressLine& line, const pipeline::ConsumeProgress& p) {
  const double elapsed = seconds_of(p.elapsed);
  const double rate = elapsed > 0 ? static_cast<double>(p.consumed) / elapsed : 0.0;
  const std::string lag = p.lag ? std::to_string(*p.lag) : std::string("?");
  char text[256];
  std::snprintf(text, sizeof text,
                "consumed %" PRIu64 "  %.0f/s  applied %" PRIu64 "  duplicates %" PRIu64 "  dead letters %" PRIu64
                "  lag %s%s",
                p.consumed, rate, p.applied, p.duplicates, p.dead_letters, lag.c_str(),
                p.waiting_for_database ? "  (waiting for database)" : "");
  line.update(p.elapsed, text, p.waiting_for_database ? "progress (waiting for database)" : "progress",
              {{"consumed", std::to_string(p.consumed)}, {"applied", std::to_string(p.applied)},
               {"duplicates", std::to_string(p.duplicates)}, {"dead_letters", std::to_string(p.dead_letters)},
               {"lag", lag}});
}

constexpr std::string_view k_details =
    "Joins consumer group --group on --topic. Each batch's orders, dead letters and next\n"
    "offsets are written in ONE PostgreSQL transaction; the offsets live in the table\n"
    "consumer_offsets and an assigned partition starts where the database says, so a crash\n"
    "at any moment neither loses nor doubles an order. Bad messages go to dead_letters\n"
    "(with a reason code) and to <topic>.dlq. A database outage pauses consumption and\n"
    "retries with backoff. Start as many processes as you like in one group.\n"
    "Each process holds two database connections: the next batch is written beside the\n"
    "one in flight and committed after it (batches_beside in --json counts them).\n\n"
    "Order status events (header type=order_status, docs/messages.md) move orders.status\n"
    "through pending, confirmed, preparing, out_for_delivery, delivered (or cancelled) and\n"
    "are stored once in order_events, in the same transaction; a move the state machine\n"
    "refuses is dead-lettered illegal_transition, an event for an order not stored\n"
    "unknown_order, a type or version this foodpipe does not read unsupported_schema.\n\n"
    "Any topic works, whoever wrote it. Only committed transactions are read\n"
    "(isolation.level=read_committed, always: an aborted transaction never becomes a row,\n"
    "and an open one holds its partition back until it ends). Offsets without a message\n"
    "(transaction markers, aborted or compacted records) are normal: the stored offset is\n"
    "the position after what was read. When retention removed offsets before the group\n"
    "read them, consume continues from the log start, warns once and records the range in\n"
    "skipped_offsets (inspect --verify reports it). Kafka's committed offsets only mirror\n"
    "the database's; move both with 'foodpipe offsets'.\n\n"
    "Exit status: 0 when stopped by a stop condition (--until-end, --max-messages,\n"
    "--idle-timeout), 1 on a fatal error, 2 for bad options. SIGINT/SIGTERM finish or roll\n"
    "back the batch in flight, print the summary (stopped by signal) and exit with\n"
    "128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.\n\n"
    "Numbers: --batch-size 1 to 1000000, --batch-ms 0 to 3600000, --max-message-bytes 1 to\n"
    "1000000000, --max-messages >= 1, --idle-timeout 0 to 31536000 s (365 days; 0 = never),\n"
    "--connect-timeout 0.001 to 86400 s (a day); anything else is exit 2.\n\n"
    "With --metrics-port P, Prometheus metrics are served at http://127.0.0.1:P/metrics\n"
    "(docs/metrics.md); a port in use is an error before any work starts.\n\n"
    "Examples:\n"
    "  foodpipe consume                                  # until Ctrl-C\n"
    "  foodpipe consume --until-end --json               # in CI: drain the topic, print a summary\n"
    "  foodpipe consume --group audit --from latest      # a second group, new messages only\n";

void add_options(po::options_description& desc, po::positional_options_description&) {
  // clang-format off
  desc.add_options()
    ("group", po::value<std::string>()->default_value(std::string(defaults::k_group))->value_name("G"),
       "consumer group")
    ("topic", po::value<std::string>()->default_value(std::string(defaults::k_topic))->value_name("T"),
       "topic to consume")
    ("from", po::value<std::string>()->default_value("earliest")->value_name("WHERE"),
       "earliest or latest: where a partition with no stored offset starts")
    ("batch-size",
       po::value<std::string>()->default_value(std::to_string(defaults::k_consume_batch_size))->value_name("N"),
       "messages per transaction at most")
    ("batch-ms", po::value<std::string>()->default_value("50")->value_name("MS"), "close a batch after this long")
    ("max-message-bytes",
       po::value<std::string>()->default_value(std::to_string(defaults::k_max_message_bytes))->value_name("B"),
       "larger messages are dead-lettered as too_large")
    ("until-end", po::bool_switch(), "stop once the group's stored offsets reach the log end (as of start) of every partition")
    ("max-messages", po::value<std::string>()->value_name("N"), "stop after N messages")
    ("idle-timeout", po::value<std::string>()->default_value("0")->value_name("S"),
       "stop after S seconds without messages (the clock stops while the group rebalances)")
    ("connect-timeout", po::value<std::string>()->default_value(connect_timeout_default())->value_name("S"),
       "seconds to wait for the brokers and the topic")
    ("quiet,q", po::bool_switch(), "no progress output");
  // clang-format on
  add_metrics_options(desc);
}

pipeline::ConsumeOptions options_from(const Context& context, const po::variables_map& vm) {
  pipeline::ConsumeOptions options;
  options.kafka = {context.bootstrap_servers, context.kafka_properties};
  options.db_conninfo = context.db_conninfo;
  options.group = vm["group"].as<std::string>();
  options.topic = vm["topic"].as<std::string>();
  const auto value = [&](const std::string& name) { return option_value(context, vm, name); };
  const auto from = value("from");
  if (from.text != "earliest" && from.text != "latest") {
    throw UsageError(from.describe() + ": expected earliest or latest");
  }
  options.from = from.text == "latest" ? pipeline::ConsumeOptions::StartFrom::latest
                                       : pipeline::ConsumeOptions::StartFrom::earliest;
  options.batch_size = parse_count(value("batch-size"), k_batch_size_range);
  options.batch_time = std::chrono::milliseconds(parse_count(value("batch-ms"), k_batch_ms_range));
  options.max_message_bytes = parse_count(value("max-message-bytes"), k_message_bytes_range);
  options.until_end = vm["until-end"].as<bool>();
  if (vm.count("max-messages") != 0U) {
    options.max_messages = parse_count(value("max-messages"), k_max_messages_range);
  }
  options.idle_timeout = parse_seconds(value("idle-timeout"), k_idle_timeout_range);
  options.connect_timeout = parse_seconds(value("connect-timeout"), k_connect_timeout_range);
  // Checked after every other flag, as the job itself used to check it.
  if (options.group.empty() || options.topic.empty()) {
    throw UsageError("--group and --topic must not be empty");
  }
  return options;
}

ExitCode run_command(const Context& context, const po::variables_map& vm) {
  const auto report = run_long_job<pipeline::ConsumerMetrics>(
      context, vm, "consume", options_from(context, vm),
      [](const auto& options, const auto& progress) { return pipeline::run_consume(options, progress); }, show);
  return report.stopped_by == "signal" ? ExitCode::interrupted : ExitCode::ok;
}

} // namespace

Command make_consume_command() {
  Command command;
  command.name = "consume";
  command.summary = "materialise orders into PostgreSQL with an exactly-once effect, dead-lettering bad ones";
  command.usage = "foodpipe consume [--group G] [--topic T] [--until-end] [options]";
  command.details = k_details;
  command.offers_json = true;
  // CONSUMER_AUTO_OFFSET_RESET keeps the original project's setting working:
  // its earliest or latest is what --from decides here (auto.offset.reset
  // itself is always error, since the database holds the offsets).
  command.env = {{"KAFKA_TOPIC_ORDERS", "topic"},
                 {"CONSUMER_GROUP_ID", "group"},
                 {"CONSUMER_AUTO_OFFSET_RESET", "from"}};
  command.options = add_options;
  command.run = run_command;
  return command;
}

} // namespace foodpipe::app
