// foodpipe inspect --verify: the audit of a group's stored progress (pipeline/verify.hpp).

#include "app/inspect_verify.hpp"

#include <cinttypes>
#include <cstdio>
#include <iostream>

#include "app/number.hpp"
#include "app/progress.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"
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
    print_json(std::cout, report, strict);
  } else {
    print_text(std::cout, report, options.topic, strict);
  }
  if (report.interrupted) {
    return ExitCode::interrupted;
  }
  return report.passed(strict) ? ExitCode::ok : ExitCode::failure;
}

} // namespace foodpipe::app
