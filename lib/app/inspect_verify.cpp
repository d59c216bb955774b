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

void print_text(const pipeline::VerifyReport& r, const std::string& topic, std::ostream& out) {
  char line[300];
  std::snprintf(line, sizeof line,
                "checked %" PRIu64 " messages in %.1f s (read %.1f s, compare %.1f s): %" PRIu64 " ok, %" PRIu64
                " duplicates, %" PRIu64 " dead-lettered, %" PRIu64 " missing, %" PRIu64 " different\n",
                r.checked, seconds_of(r.elapsed), seconds_of(r.read_time), seconds_of(r.compare_time), r.ok,
                r.duplicates, r.dead_lettered, r.missing, r.different);
  out << line;
  for (const auto& range : r.partitions) {
    out << "  partition " << range.partition << ": offsets " << range.from << ".." << range.to << " (exclusive)\n";
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
  if (r.interrupted) {
    out << "interrupted before the end: nothing concluded\n";
  } else if (r.all_accounted_for()) {
    out << "OK: every message below the stored offsets is accounted for\n";
  } else {
    out << "FAILED: " << problems << " messages not accounted for\n";
  }
}

void print_json(const pipeline::VerifyReport& r, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("checked");
  w.Uint64(r.checked);
  w.Key("ok"); // messages whose row at their own position matches
  w.Uint64(r.ok);
  w.Key("passed"); // everything accounted for: the exit status is 0
  w.Bool(r.all_accounted_for());
  w.Key("missing");
  w.Uint64(r.missing);
  w.Key("different");
  w.Uint64(r.different);
  w.Key("dead_lettered");
  w.Uint64(r.dead_lettered);
  w.Key("duplicates");
  w.Uint64(r.duplicates);
  w.Key("interrupted");
  w.Bool(r.interrupted);
  w.Key("partitions");
  w.StartArray();
  for (const auto& range : r.partitions) {
    w.StartObject();
    w.Key("partition");
    w.Int(range.partition);
    w.Key("from");
    w.Int64(range.from);
    w.Key("to");
    w.Int64(range.to);
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
  options.limit = parse_count("limit", option_text(vm, "limit", "20"));
  const bool quiet = vm.count("quiet") != 0U && !vm["quiet"].empty() && vm["quiet"].as<bool>();
  ProgressLine line(ctx.stderr_is_terminal, quiet, "verify");
  const auto report = pipeline::run_verify(options, [&line](const auto& p) { show(line, p); });
  line.finish();
  if (ctx.json) {
    print_json(report, std::cout);
  } else {
    print_text(report, options.topic, std::cout);
  }
  if (report.interrupted) {
    return ExitCode::interrupted;
  }
  return report.all_accounted_for() ? ExitCode::ok : ExitCode::failure;
}

} // namespace foodpipe::app
