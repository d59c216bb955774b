#include "app/metrics_server.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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

constexpr auto k_idle_timeout = std::chrono::seconds(10);
constexpr std::string_view k_path = "/metrics";

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
  Session(tcp::socket socket, std::function<std::string()> render)
      : m_stream(std::move(socket)), m_render(std::move(render)) {}

  void read() {
    m_request = {};
    m_stream.expires_after(k_idle_timeout);
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

  beast::tcp_stream m_stream;
  std::function<std::string()> m_render;
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

} // namespace

// ---------------------------------------------------------------------------

struct MetricsServer::Impl {
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::function<std::string()> render;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code error, tcp::socket socket) {
      if (error) {
        if (error != net::error::operation_aborted) {
          log::warning("metrics", "accept failed", {{"error", error.message()}});
        }
        if (!acceptor.is_open()) {
          return;
        }
      } else {
        std::make_shared<Session>(std::move(socket), render)->read();
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
