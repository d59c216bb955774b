#include "app/metrics_server.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include "app/number.hpp"
#include "app/settings.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"

#ifndef FOODPIPE_VERSION
#define FOODPIPE_VERSION "0.0.0"
#endif

namespace foodpipe::app {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Each connection holds a file descriptor, and the process shares its limit
// (often 1024) with librdkafka and libpq: a scraper needs one or two
// connections, so a few dozen is plenty, and idle ones go quickly. Without
// both, ~1,100 idle connections used up the descriptors.
constexpr std::size_t k_max_connections = 32;
// To receive a whole request (also the next one on a kept-alive connection),
// and to send the answer to a slow reader.
constexpr auto k_request_timeout = std::chrono::seconds(3);
constexpr auto k_write_timeout = std::chrono::seconds(10);
// After a failed accept (e.g. EMFILE: no descriptor left), wait before the
// next one: the error would repeat at once, in a tight loop.
constexpr auto k_accept_retry = std::chrono::milliseconds(200);
constexpr auto k_warning_interval = std::chrono::seconds(10);
constexpr std::string_view k_path = "/metrics";

// A warning that may happen thousands of times a second (one per refused or
// failed connection) is logged at most once per k_warning_interval, with how
// many times it happened since the last line.
class ThrottledWarning {
public:
  explicit ThrottledWarning(std::string message) : m_message(std::move(message)) {}

  void happened(const std::string& detail_key, const std::string& detail) {
    ++m_count;
    const auto now = std::chrono::steady_clock::now();
    if (m_logged && now - m_last < k_warning_interval) {
      return;
    }
    log::warning("metrics", m_message, {{detail_key, detail}, {"times", std::to_string(m_count)}});
    m_logged = true;
    m_last = now;
    m_count = 0;
  }

private:
  std::string m_message;
  bool m_logged = false;
  std::chrono::steady_clock::time_point m_last;
  std::uint64_t m_count = 0;
};

// The open connections, counted on the server's one thread. A session holds a
// Slot for its lifetime.
struct ConnectionCount {
  std::size_t open = 0;

  class Slot {
  public:
    explicit Slot(ConnectionCount& count) : m_count(&count) { ++m_count->open; }
    ~Slot() { --m_count->open; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

  private:
    ConnectionCount* m_count;
  };
};

// The answer to one request. Beast has parsed it; this only routes.
http::response<http::string_body> respond(const http::request<http::string_body>& request,
                                          const std::function<std::string()>& render) {
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  response.set(http::field::server, "foodpipe/" FOODPIPE_VERSION);

  const auto target = std::string_view(request.target().data(), request.target().size());
  const auto path = target.substr(0, target.find('?'));
  const auto plain = [&response](http::status status, std::string body) {
    response.result(status);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = std::move(body);
    response.prepare_payload();
  };
  if (path != k_path) {
    plain(http::status::not_found, "not found; metrics are at /metrics\n");
    return response;
  }
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    plain(http::status::method_not_allowed, "method not allowed; use GET\n");
    response.set(http::field::allow, "GET, HEAD");
    return response;
  }
  response.result(http::status::ok);
  response.set(http::field::content_type, std::string(metrics::k_content_type));
  response.body() = render();
  response.prepare_payload();
  if (request.method() == http::verb::head) {
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  return response;
}

// One connection: read a request, answer, repeat while the client keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
public:
  Session(tcp::socket socket, const std::function<std::string()>& render, ConnectionCount& count)
      : m_slot(count), m_stream(std::move(socket)), m_render(render) {}

  void read() {
    m_request = {};
    m_stream.expires_after(k_request_timeout);
    http::async_read(m_stream, m_buffer, m_request,
                     [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
  }

private:
  void on_read(beast::error_code error) {
    if (error == http::error::end_of_stream) {
      close();
      return;
    }
    if (error) {
      // A malformed request or a timeout: nothing useful to answer.
      log::debug("metrics", "dropped a connection", {{"error", error.message()}});
      return;
    }
    m_response = respond(m_request, m_render);
    m_stream.expires_after(k_write_timeout);
    http::async_write(m_stream, m_response,
                      [self = shared_from_this()](beast::error_code write_error, std::size_t) {
                        if (write_error) {
                          return;
                        }
                        if (self->m_response.keep_alive()) {
                          self->read();
                        } else {
                          self->close();
                        }
                      });
  }

  void close() {
    beast::error_code ignored;
    m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  ConnectionCount::Slot m_slot;
  beast::tcp_stream m_stream;
  const std::function<std::string()>& m_render; // the server's, which outlives its sessions
  beast::flat_buffer m_buffer;
  http::request<http::string_body> m_request;
  http::response<http::string_body> m_response;
};

// When this process started, in seconds since the epoch, from /proc (Linux);
// the current time when /proc cannot tell.
double process_start_time_seconds() {
  const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return now;
  }
  // Field 22 (starttime, in clock ticks since boot) counts from after the
  // command name, which is in parentheses and may hold spaces.
  const auto close = line.rfind(')');
  if (close == std::string::npos) {
    return now;
  }
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  std::ifstream proc_stat("/proc/stat");
  std::string key;
  double boot_time = 0;
  while (proc_stat >> key) {
    if (key == "btime") {
      proc_stat >> boot_time;
      break;
    }
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  if (boot_time <= 0 || ticks <= 0 || field.empty()) {
    return now;
  }
  return boot_time + std::stod(field) / static_cast<double>(ticks);
}

constexpr double k_unknown = std::numeric_limits<double>::quiet_NaN();

// User and system CPU time of the whole process (every thread, librdkafka's
// included), in seconds.
double process_cpu_seconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    return k_unknown;
  }
  const auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Resident set size in bytes: the second field of /proc/self/statm, in pages.
double process_resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  double size_pages = 0;
  double resident_pages = 0;
  const long page = sysconf(_SC_PAGESIZE);
  if (!(statm >> size_pages >> resident_pages) || page <= 0) {
    return k_unknown;
  }
  return resident_pages * static_cast<double>(page);
}

// Open file descriptors (the entries of /proc/self/fd, counting the one that
// lists them): what the connection limit protects.
double process_open_fds() {
  std::error_code error;
  std::filesystem::directory_iterator entries("/proc/self/fd", error);
  if (error) {
    return k_unknown;
  }
  double count = 0;
  for (auto it = std::filesystem::begin(entries); it != std::filesystem::end(entries); it.increment(error)) {
    if (error) {
      return k_unknown;
    }
    ++count;
  }
  return count;
}

// The soft limit on open file descriptors (RLIMIT_NOFILE).
double process_max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return k_unknown;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                         : static_cast<double>(limit.rlim_cur);
}

} // namespace

// ---------------------------------------------------------------------------

struct MetricsServer::Impl {
  // Declared before io: sessions destroyed with the io_context give their
  // slots back to it.
  ConnectionCount connections;
  std::function<std::string()> render;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  ThrottledWarning accept_failed{"cannot accept a metrics connection; retrying"};
  ThrottledWarning over_limit{"too many open metrics connections; closing new ones at once"};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (error == net::error::operation_aborted || !acceptor.is_open()) {
        return;
      }
      if (error) {
        accept_failed.happened("error", error.message());
        accept_retry.expires_after(k_accept_retry);
        accept_retry.async_wait([this](beast::error_code wait_error) {
          if (!wait_error) {
            accept();
          }
        });
        return;
      }
      if (connections.open >= k_max_connections) {
        // Accepted only to be closed: left in the listen queue it would be
        // served later, after the idle ones, and a scraper would wait.
        beast::error_code ignored;
        socket.close(ignored);
        over_limit.happened("limit", std::to_string(k_max_connections));
      } else {
        std::make_shared<Session>(std::move(socket), render, connections)->read();
      }
      accept();
    });
  }
};

MetricsServer::MetricsServer(const std::string& address, std::uint16_t port, std::function<std::string()> render)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->render = std::move(render);
  beast::error_code error;
  const auto ip = net::ip::make_address(address, error);
  if (error) {
    throw UsageError("--metrics-address " + address + ": expected an IP address such as 127.0.0.1 or 0.0.0.0");
  }
  const tcp::endpoint endpoint(ip, port);
  const auto fail = [&](const char* what) {
    throw Error("cannot serve metrics on " + address + ":" + std::to_string(port) + " (" + what + ": " +
                error.message() + "); choose another --metrics-port, or 0 for any free port");
  };
  auto& acceptor = m_impl->acceptor;
  if (acceptor.open(endpoint.protocol(), error)) {
    fail("socket");
  }
  // Lets a restarted process take its port back from connections in
  // TIME_WAIT; on Linux it never lets two processes listen on one port.
  if (acceptor.set_option(net::socket_base::reuse_address(true), error)) {
    fail("setsockopt");
  }
  if (acceptor.bind(endpoint, error)) {
    fail("bind");
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, error)) {
    fail("listen");
  }
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
  if (m_impl->thread.joinable()) {
    return;
  }
  m_impl->accept();
  m_impl->thread = std::thread([impl = m_impl.get()] {
    try {
      impl->io.run();
    } catch (const std::exception& error) {
      // Metrics are an aid: losing the endpoint must not stop the work.
      log::error("metrics", "the metrics server stopped", {{"error", error.what()}});
    }
  });
}

void MetricsServer::stop() noexcept {
  if (!m_impl) {
    return;
  }
  // run() returns at once; the listener is closed once its thread is gone
  // (an acceptor is not thread-safe), and open connections are dropped with
  // the io_context.
  m_impl->io.stop();
  if (m_impl->thread.joinable()) {
    m_impl->thread.join();
  }
  beast::error_code ignored;
  m_impl->acceptor.close(ignored);
}

std::uint16_t MetricsServer::port() const noexcept {
  beast::error_code error;
  const auto endpoint = m_impl->acceptor.local_endpoint(error);
  return error ? 0 : endpoint.port();
}

// ---------------------------------------------------------------------------

void add_metrics_options(po::options_description& desc) {
  // clang-format off
  desc.add_options()
    ("metrics-port", po::value<std::string>()->value_name("P"),
       "serve Prometheus metrics at http://ADDRESS:P/metrics; 0 = any free port (logged)")
    ("metrics-address", po::value<std::string>()->default_value("127.0.0.1")->value_name("ADDRESS"),
       "IP address the metrics server listens on; 0.0.0.0 for every interface")
    ("metrics-linger", po::value<std::string>()->default_value("0")->value_name("S"),
       "keep serving metrics S seconds after the work ends, for a last scrape");
  // clang-format on
}

MetricsEndpoint::MetricsEndpoint(const Context& context, const po::variables_map& vm)
    : m_address(vm["metrics-address"].as<std::string>()),
      m_linger(parse_seconds(option_value(context, vm, "metrics-linger"))) {
  if (vm.count("metrics-port") != 0U) {
    m_port = static_cast<std::uint16_t>(parse_count(option_value(context, vm, "metrics-port"), {0, 65535}));
  } else if (m_linger.count() > 0) {
    throw UsageError("--metrics-linger needs --metrics-port");
  }
  m_registry.gauge_family("foodpipe_build_info", "Always 1; the labels say which foodpipe is running.", {"version"})
      .with({FOODPIPE_VERSION})
      .set(1);
  m_registry.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.")
      .set(process_start_time_seconds());
  // The names and meanings of Prometheus' own clients, so that dashboards
  // made for other processes work; read from the kernel at each scrape.
  m_registry.counter_function("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                              process_cpu_seconds);
  m_registry.gauge_function("process_resident_memory_bytes", "Resident memory size in bytes.",
                            process_resident_memory_bytes);
  m_registry.gauge_function("process_open_fds", "Number of open file descriptors.", process_open_fds);
  m_registry.gauge_function("process_max_fds", "Maximum number of open file descriptors.", process_max_fds);
}

MetricsEndpoint::~MetricsEndpoint() = default;

void MetricsEndpoint::start() {
  if (!m_port || m_server) {
    return;
  }
  m_server = std::make_unique<MetricsServer>(m_address, *m_port, [this] { return m_registry.render(); });
  m_server->start();
  const auto port = std::to_string(m_server->port());
  const auto host = m_address.find(':') == std::string::npos ? m_address : "[" + m_address + "]"; // IPv6
  log::info("metrics", "serving Prometheus metrics",
            {{"address", m_address}, {"port", port}, {"url", "http://" + host + ":" + port + "/metrics"}});
}

void MetricsEndpoint::linger() const {
  if (!m_server || m_linger.count() == 0 || stop_requested()) {
    return;
  }
  log::info("metrics", "work done; still serving metrics", {{"seconds", metrics::format_value(static_cast<double>(m_linger.count()) / 1000.0)}});
  const auto until = std::chrono::steady_clock::now() + m_linger;
  while (std::chrono::steady_clock::now() < until && !stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

} // namespace foodpipe::app
