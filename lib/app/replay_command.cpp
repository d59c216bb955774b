// foodpipe replay: re-read a range of a topic into the database or onto a topic.

#include <cinttypes>
#include <cstdio>
#include <iostream>

#include "app/commands.hpp"
#include "app/number.hpp"
#include "app/progress.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "app/settings.hpp"
#include "core/defaults.hpp"
#include "pipeline/replay.hpp"
#include "pipeline/vocabulary.hpp"

namespace foodpipe::app {
namespace {

std::int64_t time_option(const po::variables_map& vm, const std::string& name) {
  const auto& text = vm[name].as<std::string>();
  const auto time = pipeline::parse_replay_time(text, std::chrono::system_clock::now());
  if (!time) {
    throw UsageError("--" + name + " " + text +
                     ": expected an ISO-8601 time like 2026-12-01T10:00:00Z or a relative one like -1h, -30m, -45s, -2d");
  }
  return *time;
}

std::int64_t offset_option(const Context& context, const po::variables_map& vm, const std::string& name) {
  return static_cast<std::int64_t>(parse_count(option_value(context, vm, name), {0, INT64_MAX}));
}

pipeline::ReplayOptions options_from(const Context& context, const po::variables_map& vm) {
  pipeline::ReplayOptions options;
  options.kafka = {context.bootstrap_servers, context.kafka_properties};
  options.db_conninfo = context.db_conninfo;
  options.topic = vm["topic"].as<std::string>();

  const int starts = static_cast<int>(vm["from-beginning"].as<bool>()) + static_cast<int>(vm.count("from-offset")) +
                     static_cast<int>(vm.count("from-time"));
  if (starts != 1) {
    throw UsageError(std::string(starts == 0 ? "say where to start" : "give only one start") +
                     ": exactly one of --from-beginning, --from-offset N, --from-time T");
  }
  if (vm["from-beginning"].as<bool>()) {
    options.start.kind = pipeline::ReplayStart::Kind::beginning;
  } else if (vm.count("from-offset") != 0U) {
    options.start.kind = pipeline::ReplayStart::Kind::offset;
    options.start.offset = offset_option(context, vm, "from-offset");
  } else {
    options.start.kind = pipeline::ReplayStart::Kind::time;
    options.start.time_ms = time_option(vm, "from-time");
  }

  const auto ends = vm.count("to-offset") + vm.count("to-time") + vm.count("count");
  if (ends > 1) {
    throw UsageError("give at most one end: --to-offset N, --to-time T or --count N (default: the log end)");
  }
  if (vm.count("to-offset") != 0U) {
    options.end.kind = pipeline::ReplayEnd::Kind::offset;
    options.end.offset = offset_option(context, vm, "to-offset");
  } else if (vm.count("to-time") != 0U) {
    options.end.kind = pipeline::ReplayEnd::Kind::time;
    options.end.time_ms = time_option(vm, "to-time");
  } else if (vm.count("count") != 0U) {
    options.end.kind = pipeline::ReplayEnd::Kind::count;
    options.end.count = parse_count(option_value(context, vm, "count"));
  }

  if (vm.count("partition") != 0U) {
    for (const auto& text : vm["partition"].as<std::vector<std::string>>()) {
      options.partitions.push_back(static_cast<std::int32_t>(parse_count("partition", text, {0, INT32_MAX})));
    }
  }
  if (vm.count("to-topic") != 0U) {
    options.to_topic = vm["to-topic"].as<std::string>();
  }
  if (vm.count("reason") != 0U) {
    const auto& reason = vm["reason"].as<std::string>();
    if (!pipeline::parse_reason_code(reason)) {
      throw UsageError("--reason " + reason + ": not a reason code (e.g. invalid_json, missing_field, total_mismatch)");
    }
    options.reason = reason;
  }
  options.dry_run = vm["dry-run"].as<bool>();
  options.batch_size = parse_count(option_value(context, vm, "batch-size"), {1, 1'000'000});
  options.max_message_bytes = parse_count(option_value(context, vm, "max-message-bytes"), {1, 1'000'000'000});
  // Checked after every other flag, as the job itself used to check them.
  if (options.topic.empty()) {
    throw UsageError("--topic must not be empty");
  }
  if (options.to_topic && options.to_topic->empty()) {
    throw UsageError("--to-topic must not be empty");
  }
  return options;
}

void show(ProgressLine& line, const pipeline::ReplayProgress& p) {
  const double elapsed = seconds_of(p.elapsed);
  const double rate = elapsed > 0 ? static_cast<double>(p.read) / elapsed : 0.0;
  const std::string eta = eta_text(p.read, p.planned, p.elapsed).value_or("?");
  char text[200];
  std::snprintf(text, sizeof text, "replay: read %" PRIu64 " of %" PRIu64 "  %.0f/s  ETA %s", p.read, p.planned, rate,
                eta.c_str());
  line.update(p.elapsed, text, "progress",
              {{"read", std::to_string(p.read)}, {"planned", std::to_string(p.planned)}, {"eta", eta}});
}

} // namespace

Command make_replay_command() {
  Command command;
  command.name = "replay";
  command.summary = "re-read a range of a topic (by offset or time) into the database or onto a topic, idempotently";
  command.usage = "foodpipe replay (--from-beginning | --from-offset N | --from-time T) [end] [options]";
  command.details =
      "Reads each chosen partition from the start to the end (exclusive) and applies the\n"
      "messages again. Into the database (the default) they pass the same validation and the\n"
      "same transactional write as consume: a stored order with the same content counts as\n"
      "already present, a missing one is inserted, a row stored from the same message but\n"
      "changed since is restored, a bad message is a dead letter at its position.\n"
      "Nothing moves any group's stored offsets. With --to-topic the messages are\n"
      "republished (key, value, headers) with the headers replay-source-topic,\n"
      "replay-source-partition and replay-source-offset.\n\n"
      "Start (exactly one): --from-beginning, --from-offset N, --from-time T.\n"
      "End (at most one; default: the log end when the replay starts): --to-offset N\n"
      "(exclusive: offset N itself is not read), --to-time T (messages before T), --count N\n"
      "(at most N offsets from EACH partition). Offsets are clamped to what the log holds:\n"
      "a start below the log start (retention) is reported, on stderr and in --json \"gone\",\n"
      "and reading begins at the log start.\n"
      "Only committed records are read (read_committed): aborted transactions are never\n"
      "replayed, and offsets without a message (transaction markers, aborted or compacted\n"
      "records) are passed over and counted.\n"
      "Times: ISO-8601 (2026-12-01T10:00:00Z; no offset means UTC) or relative: -1h, -30m, -45s, -2d.\n\n"
      "Exit status: 0 when done, 1 when a republished message failed, a range could not be\n"
      "read to its end (an open transaction holds the log back), an applied order status\n"
      "event's lost order_events row could not be re-applied, or a service failed,\n"
      "2 for bad options. SIGINT/SIGTERM stop it early (the batch in flight is finished and\n"
      "the report printed): exit 128 + the signal's number, 130 for SIGINT, 143 for SIGTERM,\n"
      "unless a message failed (1 wins).\n\n"
      "Numbers: --batch-size 1 to 1000000, --max-message-bytes 1 to 1000000000, offsets 0 to\n"
      "9223372036854775807, --partition 0 to 2147483647; anything else is exit 2.\n\n"
      "Examples:\n"
      "  foodpipe replay --from-beginning --dry-run                 # what would be read, per partition\n"
      "  foodpipe replay --from-beginning                           # repair the database after a loss\n"
      "  foodpipe replay --partition 0 --from-offset 100 --to-offset 200\n"
      "  foodpipe replay --from-time -1h --to-topic food-orders.audit   # a topic you created\n"
      "  foodpipe replay --topic food-orders.dlq --reason total_mismatch --from-beginning --to-topic food-orders\n";
  command.offers_json = true;
  command.env = {{"KAFKA_TOPIC_ORDERS", "topic"}};
  command.options = [](po::options_description& desc, po::positional_options_description&) {
    // clang-format off
    desc.add_options()
      ("topic", po::value<std::string>()->default_value(std::string(defaults::k_topic))->value_name("T"),
         "topic to read (a .dlq topic works too)")
      ("partition", po::value<std::vector<std::string>>()->composing()->value_name("P"),
         "partition to read; repeat for more (default: all)")
      ("from-beginning", po::bool_switch(), "start at the log start")
      ("from-offset", po::value<std::string>()->value_name("N"), "start at offset N")
      ("from-time", po::value<std::string>()->value_name("T"), "start at the first message at or after time T")
      ("to-offset", po::value<std::string>()->value_name("N"), "stop before offset N (exclusive)")
      ("to-time", po::value<std::string>()->value_name("T"), "stop before the first message at or after time T")
      ("count", po::value<std::string>()->value_name("N"), "read at most N offsets from each partition")
      ("to-topic", po::value<std::string>()->value_name("NAME"), "republish onto this topic instead of the database")
      ("reason", po::value<std::string>()->value_name("R"),
         "only messages whose reason-code header is R (dead letters on a .dlq topic)")
      ("dry-run", po::bool_switch(), "print the ranges and counts per partition; change nothing")
      ("batch-size",
         po::value<std::string>()->default_value(std::to_string(defaults::k_batch_size))->value_name("N"),
         "messages per transaction")
      ("max-message-bytes",
         po::value<std::string>()->default_value(std::to_string(defaults::k_max_message_bytes))->value_name("B"),
         "larger messages are dead-lettered as too_large (as in consume)")
      ("quiet,q", po::bool_switch(), "no progress output");
    // clang-format on
  };
  command.run = [](const Context& context, const po::variables_map& vm) {
    const auto options = options_from(context, vm);
    ProgressLine line(context.stderr_is_terminal, vm["quiet"].as<bool>(), "replay");
    const auto report = pipeline::run_replay(options, [&line](const auto& p) { show(line, p); });
    line.finish();
    if (context.json) {
      print_json(std::cout, report);
    } else {
      print_text(std::cout, report, options);
    }
    if (report.failed > 0 || !report.unread.empty() || report.events.not_repaired > 0) {
      return ExitCode::failure;
    }
    return report.interrupted ? ExitCode::interrupted : ExitCode::ok;
  };
  return command;
}

} // namespace foodpipe::app
