// foodpipe inspect --verify: the audit of a group's stored progress (pipeline/verify.hpp).

#include "app/inspect_verify.hpp"

#include <cinttypes>
#include <cstdio>
#include <iostream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/number.hpp"
#include "app/progress.hpp"
#include "db/order_batch.hpp"
#include "pipeline/verify.hpp"

namespace foodpipe::app {
namespace {

// The inspect command owns the option declarations; accept the value types it
// may reasonably choose for them.
std::string option_text(const po::variables_map& vm, const std::string& name, const std::string& fallback) {
  if (vm.count(name) == 0U || vm[name].empty()) {
    return fallback;
  }
  const auto& value = vm[name].value();
  if (const auto* text = boost::any_cast<std::string>(&value)) {
    return *text;
  }
  if (const auto* number = boost::any_cast<std::size_t>(&value)) {
    return std::to_string(*number);
  }
  if (const auto* number = boost::any_cast<int>(&value)) {
    return std::to_string(*number);
  }
  if (const auto* number = boost::any_cast<unsigned>(&value)) {
    return std::to_string(*number);
  }
  if (const auto* number = boost::any_cast<std::int64_t>(&value)) {
    return std::to_string(*number);
  }
  throw UsageError("--" + name + ": unexpected option type");
}

void show(ProgressLine& line, const pipeline::VerifyProgress& p) {
  const double elapsed = seconds_of(p.elapsed);
  const double rate = elapsed > 0 ? static_cast<double>(p.read) / elapsed : 0.0;
  char text[200];
  if (p.phase == "reading") {
    std::snprintf(text, sizeof text, "verify: read %" PRIu64 " of %" PRIu64 "  %.0f/s", p.read, p.total, rate);
  } else {
    std::snprintf(text, sizeof text, "verify: read %" PRIu64 "; comparing with the database", p.read);
  }
  line.update(p.elapsed, text, p.phase,
              {{"read", std::to_string(p.read)}, {"total", std::to_string(p.total)}});
}

std::string span_text(std::int64_t from, std::int64_t to) {
  return "offsets " + std::to_string(from) + ".." + std::to_string(to) + " (exclusive)";
}

void print_text(const pipeline::VerifyReport& r, const std::string& topic, bool strict, std::ostream& out) {
  char line[400];
  std::snprintf(line, sizeof line,
                "checked %" PRIu64 " messages in %.1f s (read %.1f s, compare %.1f s): %" PRIu64 " ok, %" PRIu64
                " duplicates, %" PRIu64 " dead-lettered, %" PRIu64 " missing, %" PRIu64 " different\n",
                r.checked, seconds_of(r.elapsed), seconds_of(r.read_time), seconds_of(r.compare_time), r.ok,
                r.duplicates, r.dead_lettered, r.missing, r.different);
  out << line;
  if (r.without_message > 0) {
    out << "  " << r.without_message
        << " offsets without a message (transaction markers, aborted records, compacted keys): nothing to check\n";
  }
  if (r.refused_by_database > 0) {
    out << "  " << r.refused_by_database
        << " messages hold values PostgreSQL refuses: only a dead letter accounts for them\n";
  }
  for (const auto& p : r.partitions) {
    out << "  partition " << p.partition << ": ";
    if (p.log_start > p.to) {
      out << "nothing to check: the log starts at " << p.log_start << ", past the stored offset " << p.to << '\n';
      continue;
    }
    out << span_text(p.from, p.to) << ": " << p.messages << " messages";
    if (p.without_message > 0) {
      out << ", " << p.without_message << " offsets without a message";
    }
    if (p.gone > 0) {
      out << ", " << p.gone << " removed by retention during the audit";
    }
    if (!p.fully_read()) {
      out << "; " << span_text(p.unread_from, p.to) << " NOT READABLE: the log ends at " << p.unread_from
          << " (an open transaction holds it back, or the topic is shorter than the stored offset)";
    }
    out << '\n';
  }
  for (const auto& problem : r.problems) {
    out << problem.kind << ' ' << db::describe_position(topic, problem.partition, problem.offset) << ' '
        << (problem.order_id.empty() ? std::string("(no order_id)") : problem.order_id) << ": " << problem.detail
        << '\n';
  }
  const auto problems = r.missing + r.different;
  if (problems > r.problems.size()) {
    out << "... and " << problems - r.problems.size() << " more (--limit)\n";
  }
  for (const auto& skipped : r.skipped) {
    out << (strict ? "error: " : "warning: ") << "partition " << skipped.partition << ": "
        << span_text(skipped.from, skipped.to) << ", " << skipped.to - skipped.from
        << " offsets removed by retention before consumption (recorded " << skipped.detected_at << ")\n";
  }
  if (r.interrupted) {
    out << "interrupted before the end: nothing concluded\n";
    return;
  }
  if (!r.all_accounted_for()) {
    out << "FAILED: " << problems << " messages not accounted for";
    if (r.unread > 0) {
      out << ", " << r.unread << " offsets not readable (run again once open transactions end)";
    }
    out << '\n';
    return;
  }
  const auto skipped = r.skipped_offsets();
  if (strict && skipped > 0) {
    out << "FAILED (--strict): " << skipped << " offsets in " << r.skipped.size()
        << (r.skipped.size() == 1 ? " range" : " ranges") << " were removed by retention before consumption\n";
    return;
  }
  out << "OK: every message below the stored offsets is accounted for";
  if (skipped > 0) {
    out << "; " << skipped << " offsets were removed by retention before consumption (--strict fails on them)";
  }
  out << '\n';
}

void print_json(const pipeline::VerifyReport& r, bool strict, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("checked");
  w.Uint64(r.checked);
  w.Key("ok"); // messages whose row at their own position matches
  w.Uint64(r.ok);
  w.Key("passed"); // the exit status is 0
  w.Bool(r.passed(strict));
  w.Key("strict");
  w.Bool(strict);
  w.Key("missing");
  w.Uint64(r.missing);
  w.Key("different");
  w.Uint64(r.different);
  w.Key("dead_lettered");
  w.Uint64(r.dead_lettered);
  w.Key("duplicates");
  w.Uint64(r.duplicates);
  w.Key("refused_by_database");
  w.Uint64(r.refused_by_database);
  w.Key("without_message");
  w.Uint64(r.without_message);
  w.Key("gone");
  w.Uint64(r.gone);
  w.Key("unread");
  w.Uint64(r.unread);
  w.Key("skipped_offsets");
  w.Uint64(r.skipped_offsets());
  w.Key("interrupted");
  w.Bool(r.interrupted);
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : r.partitions) {
    w.StartObject();
    w.Key("partition");
    w.Int(p.partition);
    w.Key("from");
    w.Int64(p.from);
    w.Key("to");
    w.Int64(p.to);
    w.Key("log_start");
    w.Int64(p.log_start);
    w.Key("messages");
    w.Uint64(p.messages);
    w.Key("without_message");
    w.Uint64(p.without_message);
    w.Key("gone");
    w.Uint64(p.gone);
    w.Key("unread_from");
    w.Int64(p.unread_from);
    w.EndObject();
  }
  w.EndArray();
  w.Key("skipped"); // removed by retention before consumption (table skipped_offsets)
  w.StartArray();
  for (const auto& skipped : r.skipped) {
    w.StartObject();
    w.Key("partition");
    w.Int(skipped.partition);
    w.Key("from");
    w.Int64(skipped.from);
    w.Key("to");
    w.Int64(skipped.to);
    w.Key("reason");
    w.String(skipped.reason.c_str());
    w.Key("detected_at");
    w.String(skipped.detected_at.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("problems");
  w.StartArray();
  for (const auto& problem : r.problems) {
    w.StartObject();
    w.Key("kind");
    w.String(problem.kind.c_str());
    w.Key("partition");
    w.Int(problem.partition);
    w.Key("offset");
    w.Int64(problem.offset);
    w.Key("order_id");
    if (problem.order_id.empty()) {
      w.Null();
    } else {
      w.String(problem.order_id.c_str());
    }
    w.Key("detail");
    w.String(problem.detail.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.Key("elapsed_ms");
  w.Int64(std::chrono::duration_cast<std::chrono::milliseconds>(r.elapsed).count());
  w.EndObject();
  out << buffer.GetString() << '\n';
}

} // namespace

ExitCode run_inspect_verify(const Context& ctx, const po::variables_map& vm) {
  pipeline::VerifyOptions options;
  options.kafka = {ctx.bootstrap_servers, ctx.kafka_properties};
  options.db_conninfo = ctx.db_conninfo;
  options.topic = option_text(vm, "topic", options.topic);
  options.group = option_text(vm, "group", options.group);
  options.limit = parse_count("limit", option_text(vm, "limit", "20"), {1, 100'000});
  options.timeout = parse_seconds("connect-timeout", option_text(vm, "connect-timeout", connect_timeout_default()),
                                  k_connect_timeout_range);
  if (options.topic.empty() || options.group.empty()) {
    throw UsageError("--topic and --group must not be empty");
  }
  const bool quiet = vm.count("quiet") != 0U && !vm["quiet"].empty() && vm["quiet"].as<bool>();
  const bool strict = vm.count("strict") != 0U && !vm["strict"].empty() && vm["strict"].as<bool>();
  ProgressLine line(ctx.stderr_is_terminal, quiet, "verify");
  const auto report = pipeline::run_verify(options, [&line](const auto& p) { show(line, p); });
  line.finish();
  if (ctx.json) {
    print_json(report, strict, std::cout);
  } else {
    print_text(report, options.topic, strict, std::cout);
  }
  if (report.interrupted) {
    return ExitCode::interrupted;
  }
  return report.passed(strict) ? ExitCode::ok : ExitCode::failure;
}

} // namespace foodpipe::app
