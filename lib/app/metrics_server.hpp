#pragma once

// The /metrics endpoint of long-running commands (produce, consume): a tiny
// HTTP server (Boost.Beast) on its own thread that answers GET /metrics with
// the registry in Prometheus' text format. Beast stays inside
// metrics_server.cpp; core/ only renders text.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "app/command.hpp"
#include "core/metrics.hpp"

namespace foodpipe::app {

namespace po = boost::program_options;

// Serves `render()` at GET (and HEAD) /metrics; any other path is 404, any
// other method on /metrics is 405. Connections may be kept alive; one that
// has not sent a whole request within 3 s (idle, or slow) is closed, and at
// most 32 are open at once: a connection over the limit is closed as soon as
// it is accepted. A failed accept (no file descriptor left) is retried after
// a pause, and these events are logged at most once per 10 s.
class MetricsServer {
public:
  // Binds and listens at once (port 0: any free port; see port()), so a port
  // in use is reported before any work starts. Throws UsageError for an
  // address that is not an IP address, foodpipe::Error when it cannot listen.
  MetricsServer(const std::string& address, std::uint16_t port, std::function<std::string()> render);
  ~MetricsServer(); // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Starts answering, on a thread of its own. render() is called on it.
  void start();
  // Closes the listener and open connections and joins the thread. Idempotent.
  void stop() noexcept;

  [[nodiscard]] std::uint16_t port() const noexcept;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Adds --metrics-port, --metrics-address and --metrics-linger.
void add_metrics_options(po::options_description& desc);

// What produce and consume share: a registry holding the process metrics
// (foodpipe_build_info, process_start_time_seconds, process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, process_max_fds) and, when
// --metrics-port was given, the server for it.
//
//   MetricsEndpoint endpoint(context, vm);
//   std::optional<pipeline::ProducerMetrics> metrics;
//   if (endpoint.enabled()) { metrics.emplace(endpoint.registry()); }
//   endpoint.start();   // after every metric is registered
//   ... work ...
//   endpoint.linger();  // after the summary is printed
class MetricsEndpoint {
public:
  // Throws UsageError for bad option values (--metrics-port 0 to 65535,
  // --metrics-linger 0 to 365 days).
  MetricsEndpoint(const Context& context, const po::variables_map& vm);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return m_port.has_value(); }
  [[nodiscard]] metrics::Registry& registry() noexcept { return m_registry; }

  // Binds, logs the address and port actually used, and starts serving.
  // Does nothing when disabled. Throws like MetricsServer's constructor.
  void start();
  // Keeps serving for --metrics-linger seconds after the work, so that the
  // final values of a short run can be scraped; SIGINT/SIGTERM end it early.
  void linger() const;

private:
  std::optional<std::uint16_t> m_port;
  std::string m_address;
  std::chrono::milliseconds m_linger{0};
  metrics::Registry m_registry;
  std::unique_ptr<MetricsServer> m_server;
};

} // namespace foodpipe::app
