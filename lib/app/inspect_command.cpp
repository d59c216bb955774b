// foodpipe inspect: topics, partitions, watermarks, group lag, database
// counts, dead letters and one order's trail and timeline, as tables or JSON.

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>

#include "app/commands.hpp"
#include "app/inspect_verify.hpp"
#include "app/inspect_watch.hpp"
#include "app/number.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
#include "app/settings.hpp"
#include "app/text.hpp"
#include "core/defaults.hpp"
#include "pipeline/inspect.hpp"

namespace foodpipe::app {
namespace {

constexpr std::string_view k_views = "topic, group, db, dlq, order, messages (none: the overview)";

// ---------------------------------------------------------------------------
// The views: each asks pipeline, then prints the answer as JSON or text.

struct Request {
  pipeline::InspectOptions options;
  bool json = false;
  bool colour = false;
};

template <typename View> void render(const Request& r, const View& view, std::ostream& out) {
  if (r.json) {
    print_json(out, view);
  } else {
    print_text(out, view, r.colour);
  }
}

ExitCode run_overview(const Request& r, std::ostream& out) {
  const auto o = pipeline::inspect_overview(r.options);
  render(r, o, out);
  if (o.database) {
    return ExitCode::ok;
  }
  // The text report shows the problem where people look; under --json it is
  // inside the document, so it also goes to stderr as the usual error line.
  if (r.json) {
    std::cerr << "foodpipe: error: " << o.database_problem << '\n';
  }
  return ExitCode::failure;
}

ExitCode run_group(const Request& r, const std::optional<std::uint64_t>& max_lag, std::ostream& out) {
  const auto g = pipeline::inspect_group(r.options);
  render(r, g, out);
  if (max_lag && g.total_lag > static_cast<std::int64_t>(*max_lag)) {
    out.flush();
    std::cerr << "foodpipe: total lag " << g.total_lag << " of group " << g.group << " on " << g.topic
              << " exceeds --max-lag " << *max_lag << '\n';
    return ExitCode::failure;
  }
  return ExitCode::ok;
}

ExitCode run_order(const Request& r, const std::string& order_id, std::ostream& out) {
  const auto v = pipeline::inspect_order(r.options, order_id);
  if (!v.found()) {
    throw Error("order " + order_id + " is in neither orders nor dead_letters; check the id, or consume the topic " +
                "first ('foodpipe consume --until-end')");
  }
  render(r, v, out);
  return ExitCode::ok;
}

ExitCode run_messages(const Request& r, const pipeline::MessagesRequest& request, std::ostream& out) {
  const auto messages = pipeline::read_messages(r.options, request);
  for (const auto& m : messages) {
    render(r, m, out);
  }
  if (!r.json && messages.empty()) {
    std::cerr << "foodpipe: no messages at " << r.options.topic << "/" << request.partition << " from offset "
              << request.offset << '\n';
  }
  return ExitCode::ok;
}

// A whole number that may be negative (--offset -5).
std::int64_t parse_offset(const std::string& text) {
  std::int64_t value = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
    throw UsageError("--offset " + text + ": expected a whole number (negative: that many before the end)");
  }
  return value;
}

bool given(const po::variables_map& vm, const std::string& option) {
  return vm.count(option) != 0U && !vm[option].defaulted();
}

// Options that belong to one view only are refused elsewhere, so that a typo
// in the view name does not silently ignore them.
void refuse_unless(const po::variables_map& vm, const std::string& view, const std::vector<std::string>& options,
                   const std::string& owner) {
  for (const auto& option : options) {
    if (vm.count(option) != 0U && !vm[option].defaulted() && view != owner) {
      throw UsageError("--" + option + " belongs to 'foodpipe inspect " + owner + "'");
    }
  }
}

// Refuses a view name that is not one, an order id where it does not belong,
// and the options of one view given to another.
void check_view(const po::variables_map& vm, const std::string& view) {
  const bool has_argument = vm.count("order-id") != 0U;
  static const std::vector<std::string> k_known = {"", "topic", "group", "db", "dlq", "order", "messages"};
  if (std::find(k_known.begin(), k_known.end(), view) == k_known.end()) {
    std::string hint;
    for (const auto& known : k_known) {
      if (!known.empty() && edit_distance(view, known) <= 2) {
        hint = "did you mean '" + known + "'? ";
        break;
      }
    }
    throw UsageError("unknown view '" + view + "'; " + hint + "the views are " + std::string(k_views));
  }
  if (view == "order" && !has_argument) {
    throw UsageError("inspect order needs an order id, e.g. 'foodpipe inspect order ORD-20261201-demo-0000001'");
  }
  if (view != "order" && has_argument) {
    throw UsageError("unexpected '" + vm["order-id"].as<std::string>() + "' after 'inspect " + view +
                     "'; the views are " + std::string(k_views));
  }
  refuse_unless(vm, view, {"max-lag"}, "group");
  refuse_unless(vm, view, {"reason"}, "dlq");
  refuse_unless(vm, view, {"partition", "offset"}, "messages");
  if (!vm["watch"].as<bool>() && given(vm, "count") && view != "messages") {
    throw UsageError("--count belongs to 'foodpipe inspect messages' and to --watch");
  }
}

// --watch samples the overview or the group view; --interval belongs to it,
// and --count counts its samples.
void check_watch(const po::variables_map& vm, const std::string& view) {
  if (!vm["watch"].as<bool>()) {
    if (given(vm, "interval")) {
      throw UsageError("--interval belongs to --watch, e.g. 'foodpipe inspect group --watch --interval 2'");
    }
    return;
  }
  if (view != "" && view != "group") {
    throw UsageError("--watch works with 'foodpipe inspect' (the overview) and 'foodpipe inspect group', "
                     "not with 'inspect " +
                     view + "'");
  }
  if (given(vm, "max-lag")) {
    throw UsageError(
        "--max-lag checks one snapshot; run 'foodpipe inspect group --max-lag N' without --watch");
  }
}

ExitCode run_watch(const Context& context, const po::variables_map& vm, const Request& request,
                   const std::string& view) {
  WatchRequest watch;
  watch.options = request.options;
  watch.view = view.empty() ? pipeline::WatchView::overview : pipeline::WatchView::group;
  watch.interval = parse_seconds(option_value(context, vm, "interval"),
                                 {std::chrono::milliseconds(100), std::chrono::milliseconds(k_max_timeout)});
  if (given(vm, "count")) {
    watch.count = parse_count(option_value(context, vm, "count"), {1, UINT64_MAX});
  }
  watch.json = request.json;
  watch.terminal = context.stdout_is_terminal;
  watch.colour = request.colour;
  return run_inspect_watch(watch);
}

Request request_from(const Context& context, const po::variables_map& vm) {
  Request request;
  request.json = context.json;
  request.colour = context.stdout_is_terminal && std::getenv("NO_COLOR") == nullptr;
  request.options.kafka = {context.bootstrap_servers, context.kafka_properties};
  request.options.db_conninfo = context.db_conninfo;
  request.options.topic = vm["topic"].as<std::string>();
  request.options.group = vm["group"].as<std::string>();
  request.options.connect_timeout =
      parse_seconds(option_value(context, vm, "connect-timeout"), k_connect_timeout_range);
  return request;
}

pipeline::MessagesRequest messages_from(const Context& context, const po::variables_map& vm) {
  if (vm.count("partition") == 0U) {
    throw UsageError("inspect messages needs --partition, e.g. 'foodpipe inspect messages --partition 0 --offset 0'");
  }
  pipeline::MessagesRequest messages;
  messages.partition =
      static_cast<std::int32_t>(parse_count(option_value(context, vm, "partition"), {0, INT32_MAX}));
  messages.offset = parse_offset(vm["offset"].as<std::string>());
  messages.count = parse_count(option_value(context, vm, "count"));
  return messages;
}

ExitCode run_inspect(const Context& context, const po::variables_map& vm) {
  const std::string view = vm.count("view") != 0U ? vm["view"].as<std::string>() : std::string();
  if (vm["verify"].as<bool>()) {
    if (!view.empty()) {
      throw UsageError("--verify is a view of its own; run 'foodpipe inspect --verify' without '" + view + "'");
    }
    if (vm["watch"].as<bool>()) {
      throw UsageError("--watch works with 'foodpipe inspect' (the overview) and 'foodpipe inspect group', "
                       "not with --verify");
    }
    return run_inspect_verify(context, vm);
  }
  if (vm["strict"].as<bool>()) {
    throw UsageError("--strict belongs to 'foodpipe inspect --verify'");
  }
  check_view(vm, view);
  check_watch(vm, view);
  const Request request = request_from(context, vm);
  if (vm["watch"].as<bool>()) {
    return run_watch(context, vm, request, view);
  }
  const auto value = [&](const std::string& name) { return option_value(context, vm, name); };
  const auto limit = parse_count(value("limit"), {1, 100'000});

  auto& out = std::cout;
  if (view.empty()) {
    return run_overview(request, out);
  }
  if (view == "topic") {
    render(request, pipeline::inspect_topic(request.options), out);
    return ExitCode::ok;
  }
  if (view == "group") {
    std::optional<std::uint64_t> max_lag;
    if (vm.count("max-lag") != 0U) {
      max_lag = parse_count(value("max-lag"), {0, INT64_MAX});
    }
    return run_group(request, max_lag, out);
  }
  if (view == "db") {
    render(request, pipeline::inspect_database(request.options), out);
    return ExitCode::ok;
  }
  if (view == "dlq") {
    std::optional<std::string> reason;
    if (vm.count("reason") != 0U) {
      reason = vm["reason"].as<std::string>();
    }
    render(request, pipeline::inspect_dead_letters(request.options, reason, static_cast<std::int64_t>(limit)), out);
    return ExitCode::ok;
  }
  if (view == "order") {
    return run_order(request, vm["order-id"].as<std::string>(), out);
  }
  return run_messages(request, messages_from(context, vm), out);
}

} // namespace

// What `foodpipe inspect --help` prints after the options: every view with an example.
constexpr std::string_view k_details =
      "Without a view: one screen with the brokers, the topic and its dead-letter topic,\n"
      "the group's total lag and the database's counts. Every view reads only; nothing is\n"
      "created, joined, committed or written. --json prints one JSON object per line.\n\n"
      "Views:\n"
      "  topic     brokers, then per partition of --topic and <topic>.dlq: leader, replicas,\n"
      "            low and high watermark (first offset still kept, next offset to be written),\n"
      "            messages in the log, retention.\n"
      "              foodpipe inspect topic --topic food-orders\n"
      "  group     per partition: the next offset stored in the database (where the consumer\n"
      "            resumes), the one committed to Kafka (what Kafka's tools see), the log end\n"
      "            and the lag; the group's state and members. --max-lag N exits 1 when the\n"
      "            total lag is above N (for CI).\n"
      "              foodpipe inspect group --group order-processors --max-lag 0\n"
      "  db        orders and their count per status (all six, 0 included), newest\n"
      "            processed_at, status events applied (order_events), dead letters by reason,\n"
      "            schema version.\n"
      "              foodpipe inspect db --json\n"
      "  dlq       the newest dead letters: reason, detail, source position, payload excerpt.\n"
      "              foodpipe inspect dlq --reason invalid_json --limit 5\n"
      "  order ID  the stored row, the Kafka message it came from, its timeline (the order,\n"
      "            then each status event applied: status, occurred_at, partition, offset, time\n"
      "            since created_at, a cancellation's reason) and dead letters naming it.\n"
      "              foodpipe inspect order ORD-20261201-demo-0000001\n"
      "  messages  raw messages of one partition, like kcat -J with --json.\n"
      "              foodpipe inspect messages --partition 0 --offset 100 --count 3 --json\n"
      "              foodpipe inspect messages --partition 0 --offset=-5    # the last 5\n\n"
      "  --verify  audit: is every message below the stored offsets an order or a dead letter?\n"
      "            Offsets without a message (transaction markers, aborted records, compacted\n"
      "            keys) are counted, not problems. Ranges the group never read because retention\n"
      "            removed them first (table skipped_offsets) are reported as a warning: exit 0\n"
      "            when everything still in the log is accounted for; --strict makes them exit 1.\n"
      "              foodpipe inspect --verify\n"
      "              foodpipe inspect --verify --strict --json\n\n"
      "  --watch   the overview or the group view again every --interval S seconds (default 1,\n"
      "            fractions allowed): per partition the log end, the stored offset, the lag and\n"
      "            messages per second in and out; the group's state and members; dead letters\n"
      "            by reason and their rate; the orders; a sparkline of the total lag over the\n"
      "            last minute. The other views are single lookups and refuse --watch. On a\n"
      "            terminal one screen is redrawn in place (q or Ctrl-C quits, p pauses the\n"
      "            redraw; narrower than 80 columns, a shorter layout). Piped: one snapshot per\n"
      "            interval, with --json one JSON object per line; --count N stops after N. A\n"
      "            broker or database that goes away is shown as unreachable and the watch goes\n"
      "            on. Reads only, like every view.\n"
      "              foodpipe inspect group --watch\n"
      "              foodpipe inspect --watch --interval 0.5\n"
      "              foodpipe inspect group --watch --json --count 3\n\n"
      "Exit status: 0 ok (--watch: after --count samples, q or Ctrl-C), 1 unreachable service,\n"
      "database not seeded, unknown order or lag above --max-lag, 2 bad options or an unknown\n"
      "view. Stopped by SIGINT/SIGTERM (--verify prints its report, marked interrupted):\n"
      "128 + the signal's number, 130 or 143.\n"
      "Numbers: --limit 1 to 100000, --max-lag 0 to 9223372036854775807, --connect-timeout\n"
      "0.001 to 86400 s (a day), --interval 0.1 to 86400 s.\n";

Command make_inspect_command() {
  Command command;
  command.name = "inspect";
  command.summary = "look into the pipeline: topic, group lag, database, dead letters, one order's trail";
  command.usage = "foodpipe inspect [VIEW [ORDER_ID]] [options]   (VIEW: topic, group, db, dlq, order, messages)";
  command.details = k_details;
  command.offers_json = true;
  command.env = {{"KAFKA_TOPIC_ORDERS", "topic"}, {"CONSUMER_GROUP_ID", "group"}};
  command.options = [](po::options_description& desc, po::positional_options_description& positional) {
    // clang-format off
    desc.add_options()
      ("view", po::value<std::string>()->value_name("VIEW"), "topic, group, db, dlq, order, messages (positional)")
      ("order-id", po::value<std::string>()->value_name("ID"), "the order of 'inspect order' (positional)")
      ("topic", po::value<std::string>()->default_value(std::string(defaults::k_topic))->value_name("T"),
         "the orders topic")
      ("group", po::value<std::string>()->default_value(std::string(defaults::k_group))->value_name("G"),
         "the consumer group")
      ("max-lag", po::value<std::string>()->value_name("N"), "group: exit 1 when the total lag is above N")
      ("reason", po::value<std::string>()->value_name("CODE"), "dlq: only dead letters with this reason code")
      ("limit", po::value<std::string>()->default_value("20")->value_name("N"),
         "dlq: how many dead letters to show (--verify: problems to name)")
      ("partition", po::value<std::string>()->value_name("P"), "messages: the partition to read")
      ("offset", po::value<std::string>()->default_value("0")->value_name("N"),
         "messages: first offset; negative (--offset=-5) counts back from the log end")
      ("count", po::value<std::string>()->default_value("10")->value_name("C"),
         "messages: how many at most; --watch: stop after C samples (default: never)")
      ("watch", po::bool_switch(),
         "overview and group: sample again every --interval (a live screen on a terminal)")
      ("interval", po::value<std::string>()->default_value("1")->value_name("S"),
         "--watch: seconds between samples, 0.1 to 86400")
      ("connect-timeout", po::value<std::string>()->default_value(connect_timeout_default())->value_name("S"),
         "seconds to wait for the brokers and the database")
      ("verify", po::bool_switch(), "audit the group's stored progress against the topic")
      ("strict", po::bool_switch(), "--verify: also exit 1 when offsets were removed by retention before consumption")
      ("quiet,q", po::bool_switch(), "no progress output (--verify)");
    // clang-format on
    positional.add("view", 1).add("order-id", 1);
  };
  command.run = run_inspect;
  return command;
}

} // namespace foodpipe::app
