// foodpipe offsets: move a consumer group's offsets in the database and in
// Kafka together, with kafka-consumer-groups' --reset-offsets grammar.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iostream>

#include "app/commands.hpp"
#include "app/number.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "app/settings.hpp"
#include "core/defaults.hpp"
#include "pipeline/offsets.hpp"
#include "pipeline/replay.hpp"

namespace foodpipe::app {
namespace {

// A whole number of either sign ("-10", "+5", "7"), for --shift-by.
std::int64_t parse_signed(const std::string& option, const std::string& text) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') {
    ++first;
  }
  std::int64_t value = 0;
  const auto parsed = std::from_chars(first, last, value);
  if (first == last || parsed.ptr != last || (parsed.ec != std::errc() && parsed.ec != std::errc::result_out_of_range)) {
    throw UsageError("--" + option + " " + text + ": expected a whole number, e.g. -100 or 50");
  }
  if (parsed.ec == std::errc::result_out_of_range) {
    throw UsageError("--" + option + " " + text + ": too large");
  }
  return value;
}

std::vector<std::int32_t> partitions_option(const po::variables_map& vm) {
  std::vector<std::int32_t> partitions;
  if (vm.count("partition") == 0U) {
    return partitions;
  }
  for (const auto& value : vm["partition"].as<std::vector<std::string>>()) {
    std::size_t at = 0;
    while (at <= value.size()) {
      const auto comma = std::min(value.find(',', at), value.size());
      const auto text = value.substr(at, comma - at);
      const auto partition = parse_count("partition", text);
      if (partition > static_cast<std::uint64_t>(INT32_MAX)) {
        throw UsageError("--partition " + text + ": no such partition");
      }
      partitions.push_back(static_cast<std::int32_t>(partition));
      at = comma + 1;
    }
  }
  return partitions;
}

pipeline::OffsetsOptions options_from(const Context& context, const po::variables_map& vm) {
  pipeline::OffsetsOptions options;
  options.kafka = {context.bootstrap_servers, context.kafka_properties};
  options.db_conninfo = context.db_conninfo;
  options.group = vm["group"].as<std::string>();
  options.topic = vm["topic"].as<std::string>();
  if (options.group.empty() || options.topic.empty()) {
    throw UsageError(std::string(options.group.empty() ? "--group" : "--topic") + " must not be empty");
  }

  const int actions = static_cast<int>(vm["to-earliest"].as<bool>()) + static_cast<int>(vm["to-latest"].as<bool>()) +
                      static_cast<int>(vm.count("to-offset")) + static_cast<int>(vm.count("to-datetime")) +
                      static_cast<int>(vm.count("shift-by"));
  if (actions != 1) {
    throw UsageError(std::string(actions == 0 ? "say where to move the offsets" : "give only one target") +
                     ": exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime T, --shift-by N");
  }
  if (vm["to-earliest"].as<bool>()) {
    options.target = pipeline::OffsetTarget::earliest;
  } else if (vm["to-latest"].as<bool>()) {
    options.target = pipeline::OffsetTarget::latest;
  } else if (vm.count("to-offset") != 0U) {
    options.target = pipeline::OffsetTarget::offset;
    options.offset = static_cast<std::int64_t>(parse_count(option_value(context, vm, "to-offset"), {0, INT64_MAX}));
  } else if (vm.count("to-datetime") != 0U) {
    options.target = pipeline::OffsetTarget::datetime;
    const auto& text = vm["to-datetime"].as<std::string>();
    const auto time = pipeline::parse_replay_time(text, std::chrono::system_clock::now());
    if (!time) {
      throw UsageError("--to-datetime " + text +
                       ": expected an ISO-8601 time like 2026-12-01T10:00:00Z (no offset: UTC) or a relative one "
                       "like -1h, -30m, -45s, -2d");
    }
    options.time_ms = *time;
  } else {
    options.target = pipeline::OffsetTarget::shift;
    options.shift = parse_signed("shift-by", vm["shift-by"].as<std::string>());
  }

  options.partitions = partitions_option(vm);
  if (vm["dry-run"].as<bool>() && vm["execute"].as<bool>()) {
    throw UsageError("give --dry-run (the default) or --execute, not both");
  }
  options.execute = vm["execute"].as<bool>();
  options.timeout = parse_seconds(option_value(context, vm, "connect-timeout"), k_connect_timeout_range);
  return options;
}

} // namespace

Command make_offsets_command() {
  Command command;
  command.name = "offsets";
  command.summary = "move a consumer group's offsets in the database and in Kafka together (stopped group only)";
  command.usage = "foodpipe offsets (--to-earliest | --to-latest | --to-offset N | --to-datetime T | --shift-by N) "
                  "[--partition P] [--execute] [options]";
  command.details =
      "consume starts each partition from the offset in the database (consumer_offsets), not\n"
      "from Kafka's committed offset, so 'kafka-consumer-groups --reset-offsets' alone is\n"
      "overwritten by the next batch. This command moves both: the database's offsets and\n"
      "Kafka's committed offsets of --group on --topic, to the same values.\n\n"
      "Targets (exactly one), as in kafka-consumer-groups --reset-offsets:\n"
      "  --to-earliest    the log start of each partition\n"
      "  --to-latest      the log end (skip everything not yet consumed)\n"
      "  --to-offset N    offset N; outside [log start, log end] it is clamped to the nearer end\n"
      "  --to-datetime T  the first message at or after T (the log end if none is that late);\n"
      "                   ISO-8601 (2026-12-01T10:00:00Z; no offset means UTC) or relative\n"
      "                   (--to-datetime=-1h, -30m, -45s, -2d)\n"
      "  --shift-by N     the database's offset plus N (either sign), clamped like --to-offset;\n"
      "                   a partition with no offset in the database is refused\n\n"
      "Without --execute it is a dry run: it prints, per partition, the database's offset, Kafka's\n"
      "committed offset, the log start and end and the new offset, and changes nothing.\n"
      "--execute writes the database (one transaction that checks the offsets still are what\n"
      "was shown) and commits the same offsets to Kafka before the database's COMMIT; if Kafka\n"
      "refuses, the database is rolled back. The group must be stopped: while it has live\n"
      "members both a dry run and --execute refuse. docs/offsets.md has the details.\n\n"
      "Exit status: 0 done, 1 live members, offsets moved meanwhile, Kafka refused or a service\n"
      "failed (one line says what to do), 2 bad options, unknown topic or partition. After\n"
      "SIGINT/SIGTERM: 128 + the signal's number (130, 143); a signal before --execute starts\n"
      "writing changes nothing, one after lets it finish.\n\n"
      "Examples:\n"
      "  foodpipe offsets --group order-processors --to-earliest             # dry run: what would change\n"
      "  foodpipe offsets --group order-processors --to-earliest --execute   # re-read everything\n"
      "  foodpipe offsets --group order-processors --to-datetime 2026-12-01T10:00:00Z --execute\n"
      "  foodpipe offsets --group order-processors --shift-by=-100 --partition 0,2 --execute\n"
      "  foodpipe offsets --group order-processors --to-latest --json        # before/after per partition\n";
  command.offers_json = true;
  command.env = {{"KAFKA_TOPIC_ORDERS", "topic"}, {"CONSUMER_GROUP_ID", "group"}};
  command.options = [](po::options_description& desc, po::positional_options_description&) {
    // clang-format off
    desc.add_options()
      ("group", po::value<std::string>()->default_value(std::string(defaults::k_group))->value_name("G"),
         "consumer group")
      ("topic", po::value<std::string>()->default_value(std::string(defaults::k_topic))->value_name("T"),
         "topic")
      ("to-earliest", po::bool_switch(), "move to the log start")
      ("to-latest", po::bool_switch(), "move to the log end")
      ("to-offset", po::value<std::string>()->value_name("N"), "move to offset N (clamped to the log)")
      ("to-datetime", po::value<std::string>()->value_name("T"), "move to the first message at or after time T")
      ("shift-by", po::value<std::string>()->value_name("N"), "move by N from the database's offset (N may be negative)")
      ("partition", po::value<std::vector<std::string>>()->composing()->value_name("P"),
         "only partition P; repeat or give a comma list (default: all)")
      ("dry-run", po::bool_switch(), "show what would change; change nothing (the default)")
      ("execute", po::bool_switch(), "apply: write the database and Kafka")
      ("connect-timeout", po::value<std::string>()->default_value(connect_timeout_default())->value_name("S"),
         "seconds to wait for the brokers and the database");
    // clang-format on
  };
  command.run = [](const Context& context, const po::variables_map& vm) {
    const auto options = options_from(context, vm);
    const auto report = pipeline::run_offsets(options);
    if (context.json) {
      print_json(std::cout, report);
    } else {
      print_text(std::cout, report, context.stdout_is_terminal);
    }
    return ExitCode::ok;
  };
  return command;
}

} // namespace foodpipe::app
