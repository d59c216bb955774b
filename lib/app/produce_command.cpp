// foodpipe produce: reproducible orders onto Kafka at an exact rate.

#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <optional>

#include "app/commands.hpp"
#include "app/long_job.hpp"
#include "app/metrics_server.hpp"
#include "app/number.hpp"
#include "app/progress.hpp"
#include "app/replication_options.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "app/settings.hpp"
#include "core/defaults.hpp"
#include "core/log.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/produce.hpp"
#include "pipeline/vocabulary.hpp"

namespace foodpipe::app {
namespace {

// Sent, rate, delivered, failed and an ETA when the end is known.
void show(ProgressLine& line, const pipeline::ProduceProgress& p) {
  const double elapsed = seconds_of(p.elapsed);
  const double rate = elapsed > 0 ? static_cast<double>(p.sent) / elapsed : 0.0;
  std::string eta;
  if (p.target && *p.target >= p.sent) {
    if (const auto left = eta_text(p.sent, *p.target, p.elapsed)) {
      eta = "  ETA " + *left;
    }
  }
  // A lifecycle run's events: after its orders, so the line starts as it always did.
  std::string events;
  if (p.events_sent > 0) {
    events = "  events " + std::to_string(p.events_sent);
  }
  char text[256];
  std::snprintf(text, sizeof text,
                "sent %" PRIu64 "  %.1f/s  delivered %" PRIu64 "  failed %" PRIu64 "%s  elapsed %s%s",
                p.sent, rate, p.delivered, p.failed, events.c_str(), clock_text(p.elapsed).c_str(),
                eta.c_str());
  line.update(p.elapsed, text, "progress",
              {{"sent", std::to_string(p.sent)}, {"delivered", std::to_string(p.delivered)},
               {"failed", std::to_string(p.failed)}, {"per_second", std::to_string(static_cast<std::int64_t>(rate))}});
}

// Bounds of the numeric options (documented in --help).
constexpr CountRange k_partitions_range{1, 10'000};
constexpr NumberRange k_rate_range{0, pipeline::RateSchedule::k_max_rate};
constexpr double k_min_positive_rate = 0.000001; // the schedule's resolution: one order per 10^6 s
constexpr SecondsRange k_duration_range{std::chrono::milliseconds(0), k_max_duration};
constexpr CountRange k_linger_ms_range{0, 900'000};         // librdkafka's linger.ms
constexpr CountRange k_batch_bytes_range{1, 2'147'483'647}; // librdkafka's batch.size
constexpr SecondsRange k_flush_timeout_range{std::chrono::milliseconds(0), k_max_timeout};

constexpr std::string_view k_details =
    "Each order goes to --topic keyed by its customer_id (so one customer's orders stay in\n"
    "order on one partition), with headers schema-version, content-type and run-id. The\n"
    "producer is idempotent with acks=all: a retry never duplicates, and every message is\n"
    "counted as delivered or failed. The topic and <topic>.dlq are created when missing,\n"
    "with --replication-factor copies of each partition (default: min(3, brokers in the\n"
    "cluster)) and min.insync.replicas = --min-insync-replicas (default: 2 with three copies or\n"
    "more, else 1): on three brokers, one may fail without losing or refusing a write. Neither\n"
    "may exceed the cluster's broker count (exit 2). The choice is logged, and in --json.\n\n"
    "The same --seed and --run-id give the same orders (apart from created_at); without\n"
    "--seed a random one is chosen and printed, so any run can be repeated.\n\n"
    "Exit status: 0 when every message was delivered, 1 when any failed or an input line was\n"
    "invalid, 2 for bad options. SIGINT/SIGTERM stop generating, flush, report (interrupted)\n"
    "and exit 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), or 1 when a\n"
    "message was not delivered: a failure wins over the interruption.\n\n"
    "With --lifecycle each generated order is followed by its status events (confirmed,\n"
    "preparing, out_for_delivery, delivered, or cancelled for about 5%), keyed by the order's\n"
    "customer_id, in order, with headers type=order_status, schema-version=1, content-type and\n"
    "run-id, at seeded delays (confirmed within seconds, delivered within minutes:\n"
    "docs/messages.md). --time-scale F multiplies every delay: 1 real time, 0.01 a hundred times\n"
    "faster, 0 none (0 to 1000, at most six decimals). --rate, --count and --duration count\n"
    "orders; the run ends when the last event of the last order is sent (or on SIGINT/SIGTERM,\n"
    "which leaves the rest unsent: events_unsent in --json). The summary and --json count\n"
    "orders (sent, delivered, failed) and events (events, events_delivered, events_failed)\n"
    "apart. Not with --from-file.\n\n"
    "--from-file reads one JSON object per line: orders, and status events for them, sent in\n"
    "the file's order byte for byte, keyed by their customer_id. A line is a status event when\n"
    "it has \"type\": \"order_status\", or no type member but an event_id and no items; any\n"
    "other line is an order (\"type\" naming a third kind is refused). Events get the headers\n"
    "type=order_status and schema-version=1, orders the usual ones. A line that is neither a\n"
    "valid order nor a valid event is logged with its line number and reason, not sent, and\n"
    "makes the exit status 1. --count and --rate count lines sent, orders and events alike.\n\n"
    "Numbers: --rate 0 or 0.000001 to 1000000000, --duration 0 to 31536000 s (365 days),\n"
    "--partitions 1 to 10000, --replication-factor and --min-insync-replicas 1 to the\n"
    "cluster's broker count, --linger-ms 0 to 900000, --batch-size 1 to 2147483647,\n"
    "--connect-timeout 0.001 to 86400 s (a day), --flush-timeout 0 to 86400 s, --count and\n"
    "--seed any whole number >= 0; anything else is exit 2, from a flag, the environment or\n"
    "--config alike.\n\n"
    "With --metrics-port P, Prometheus metrics are served at http://127.0.0.1:P/metrics\n"
    "(docs/metrics.md); a port in use is an error before any work starts.\n\n"
    "Examples:\n"
    "  foodpipe produce --rate 50 --duration 60        # exactly 3000 orders in 60 s\n"
    "  foodpipe produce --rate 0 --count 1000000 --json # as fast as possible, summary for scripts\n"
    "  foodpipe produce --seed 42 --run-id demo --count 10\n"
    "  foodpipe produce --from-file orders.jsonl        # one JSON order or event per line, validated\n"
    "  foodpipe produce --lifecycle --count 100 --time-scale 0.01 --seed 7\n"
    "                                                   # 100 orders and their events, 100x faster\n";

void add_options(po::options_description& desc, po::positional_options_description&) {
  // clang-format off
  desc.add_options()
    ("topic", po::value<std::string>()->default_value(std::string(defaults::k_topic))->value_name("NAME"),
       "topic to publish to")
    ("partitions", po::value<std::string>()->default_value("3")->value_name("N"), "partitions when the topic is created")
    ("rate", po::value<std::string>()->default_value("10")->value_name("R"), "orders per second; 0 = as fast as possible")
    ("count", po::value<std::string>()->value_name("N"), "stop after N orders")
    ("duration", po::value<std::string>()->default_value("0")->value_name("S"), "stop after S seconds; 0 = until stopped")
    ("seed", po::value<std::string>()->value_name("N"), "PRNG seed: the same seed gives the same orders")
    ("run-id", po::value<std::string>()->value_name("ID"), "pin the run id in order ids (1-16 of [0-9a-z])")
    ("from-file", po::value<std::string>()->value_name("FILE|-"),
       "publish JSON-lines orders and status events from FILE (- = stdin)")
    ("lifecycle", po::bool_switch(), "follow each order by its status events")
    ("time-scale", po::value<std::string>()->value_name("F"),
       "with --lifecycle: multiply every event delay by F (1 = real time, 0 = none)")
    ("compression", po::value<std::string>()->default_value("snappy")->value_name("CODEC"), "none, gzip, snappy, lz4 or zstd")
    ("linger-ms", po::value<std::string>()->default_value("10")->value_name("MS"), "how long to wait to fill a batch")
    ("batch-size", po::value<std::string>()->value_name("BYTES"), "maximum batch size in bytes (librdkafka batch.size)")
    ("connect-timeout", po::value<std::string>()->default_value(connect_timeout_default())->value_name("S"),
       "seconds to wait for the brokers")
    ("flush-timeout", po::value<std::string>()->default_value("30")->value_name("S"), "seconds to wait for outstanding deliveries at the end")
    ("quiet,q", po::bool_switch(), "no progress output");
  // clang-format on
  add_replication_options(desc);
  add_metrics_options(desc);
}

pipeline::ProduceOptions options_from(const Context& context, const po::variables_map& vm) {
  pipeline::ProduceOptions options;
  options.kafka = {context.bootstrap_servers, context.kafka_properties};
  options.topic = vm["topic"].as<std::string>();
  if (options.topic.empty()) {
    throw UsageError("--topic must not be empty");
  }
  const auto value = [&](const std::string& name) { return option_value(context, vm, name); };
  options.partitions = static_cast<int>(parse_count(value("partitions"), k_partitions_range));
  options.replication = replication_request(context, vm);
  const auto rate = value("rate");
  options.rate = parse_number(rate, k_rate_range);
  if (options.rate > 0 && options.rate < k_min_positive_rate) {
    throw UsageError(rate.describe() + ": expected 0 (as fast as possible) or a rate from 0.000001 to " +
                     std::to_string(static_cast<std::uint64_t>(k_rate_range.max)) + " orders per second");
  }
  if (vm.count("count") != 0U) {
    options.count = parse_count(value("count"));
  }
  options.duration = parse_seconds(value("duration"), k_duration_range);
  if (vm.count("seed") != 0U) {
    options.seed = parse_count(value("seed"));
  }
  if (vm.count("run-id") != 0U) {
    options.run_id = vm["run-id"].as<std::string>();
    if (!pipeline::is_valid_run_id(*options.run_id)) {
      throw UsageError("--run-id " + *options.run_id + ": expected 1 to 16 characters of [0-9a-z]");
    }
  }
  if (vm.count("from-file") != 0U) {
    options.from_file = vm["from-file"].as<std::string>();
    if (options.seed) {
      throw UsageError("--seed generates orders; it cannot be combined with --from-file");
    }
  }
  options.lifecycle = vm["lifecycle"].as<bool>();
  if (options.lifecycle && options.from_file) {
    throw UsageError("--lifecycle generates its orders; it cannot be combined with --from-file");
  }
  if (vm.count("time-scale") != 0U) {
    if (!options.lifecycle) {
      throw UsageError("--time-scale scales the delays of --lifecycle; add --lifecycle or drop --time-scale");
    }
    const auto text = value("time-scale");
    const auto scale = pipeline::parse_time_scale(text.text);
    if (!scale) {
      throw UsageError(text.describe() + ": expected a factor from 0 to 1000 with at most six decimals "
                                         "(1 = real time, 0.01 = a hundred times faster, 0 = no delay)");
    }
    options.time_scale = *scale;
  }
  options.compression = vm["compression"].as<std::string>();
  options.linger_ms = static_cast<int>(parse_count(value("linger-ms"), k_linger_ms_range));
  if (vm.count("batch-size") != 0U) {
    options.batch_size = static_cast<int>(parse_count(value("batch-size"), k_batch_bytes_range));
  }
  options.connect_timeout = parse_seconds(value("connect-timeout"), k_connect_timeout_range);
  options.flush_timeout = parse_seconds(value("flush-timeout"), k_flush_timeout_range);
  return options;
}

ExitCode run_command(const Context& context, const po::variables_map& vm) {
  const auto report = run_long_job<pipeline::ProducerMetrics>(
      context, vm, "produce", options_from(context, vm),
      [](const auto& options, const auto& progress) { return pipeline::run_produce(options, progress); }, show);
  const bool failed = report.failed > 0 || report.events_failed > 0;
  if (failed) {
    std::cerr << failure_line(report) << '\n';
  }
  if (failed || report.invalid_lines > 0) {
    return ExitCode::failure;
  }
  return report.interrupted ? ExitCode::interrupted : ExitCode::ok;
}

} // namespace

Command make_produce_command() {
  Command command;
  command.name = "produce";
  command.summary = "publish reproducible mock orders (or orders from a file) at an exact rate";
  command.usage = "foodpipe produce [--rate R] [--count N | --duration S] [--seed N] [options]";
  command.details = k_details;
  command.offers_json = true;
  command.env = {{"KAFKA_TOPIC_ORDERS", "topic"},
                 {"PRODUCER_RATE", "rate"},
                 {"PRODUCER_DURATION", "duration"},
                 {"MOCK_SEED", "seed"},
                 {"PRODUCER_CLIENT_ID", "client-id"}};
  command.options = add_options;
  command.run = run_command;
  return command;
}

} // namespace foodpipe::app
