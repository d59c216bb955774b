#pragma once

// The run of a long job (produce, consume): a progress line on a terminal, a
// metric set and its /metrics port when --metrics-port asks for one, and the
// report printed as text or --json. The port is bound before any work, so a
// port in use fails at once; the report is out before a --metrics-linger wait.

#include <iostream>
#include <optional>

#include "app/command.hpp"
#include "app/metrics_server.hpp"
#include "app/progress.hpp"
#include "app/report_json.hpp"
#include "app/report_text.hpp"

namespace foodpipe::app {

// `job(options, on_progress)` runs the pipeline job; `show(line, progress)`
// puts one progress value on the line. Returns the job's report once printed.
template <typename Metrics, typename Options, typename Job, typename Show>
auto run_long_job(const Context& context, const po::variables_map& vm, const char* name, Options options,
                  const Job& job, const Show& show) {
  ProgressLine line(context.stderr_is_terminal, vm["quiet"].as<bool>(), name);
  MetricsEndpoint endpoint(context, vm);
  std::optional<Metrics> metrics;
  if (endpoint.enabled()) {
    options.metrics = &metrics.emplace(endpoint.registry());
  }
  endpoint.start();
  const auto report = job(options, [&line, &show](const auto& progress) { show(line, progress); });
  line.finish();
  if (context.json) {
    print_json(std::cout, report);
  } else {
    print_text(std::cout, report);
  }
  std::cout.flush();
  endpoint.linger();
  return report;
}

} // namespace foodpipe::app
