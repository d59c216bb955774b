#include "kafka/client_events.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <regex>

#include "core/log.hpp"
#include "kafka/error.hpp"

namespace foodpipe::kafka {
namespace {

using namespace std::chrono_literals;

extern "C" void error_callback(rd_kafka_t* /*handle*/, int code, const char* reason, void* opaque) {
  auto* events = static_cast<ClientEvents*>(opaque);
  const auto error = static_cast<rd_kafka_resp_err_t>(code);
  events->record_error(error, reason != nullptr ? reason : "");
  log::debug("kafka", reason != nullptr ? reason : "", {{"error", rd_kafka_err2name(error)}});
}

// Served inside rd_kafka_poll/rd_kafka_consumer_poll, on the polling thread.
// Returning 0 lets librdkafka free the document.
extern "C" int statistics_callback(rd_kafka_t* /*handle*/, char* json, size_t json_len, void* opaque) {
  static_cast<ClientEvents*>(opaque)->deliver_statistics(std::string_view(json, json_len));
  return 0;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// librdkafka's transport errors read "localhost:9092/bootstrap: Connect to
// ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state CONNECT)";
// the user needs the part after "failed: ".
std::string os_reason(const std::string& reason) {
  auto text = reason;
  if (const auto failed = text.find("failed: "); failed != std::string::npos) {
    text = text.substr(failed + 8);
  }
  if (const auto after = text.find(" (after"); after != std::string::npos) {
    text = text.substr(0, after);
  }
  return text;
}

// "sasl_ssl://localhost:9094/bootstrap: SASL authentication error: <detail>
// (after 306ms in state AUTH_REQ)" -> "<detail>", without OpenSSL's
// "error:0A000086:SSL routines::" codes.
std::string detail_after(const std::string& reason, std::string_view marker) {
  auto text = reason;
  if (const auto at = text.find(marker); at != std::string::npos) {
    text = text.substr(at + marker.size());
  }
  static const std::regex k_openssl_code(R"(error:[0-9A-Fa-f]+:SSL routines:[^:]*:)");
  text = std::regex_replace(text, k_openssl_code, "");
  if (const auto after = text.find(" (after"); after != std::string::npos) {
    text = text.substr(0, after);
  }
  return text;
}

} // namespace

void ClientEvents::attach(rd_kafka_conf_t* conf, void* owner) {
  m_owner = owner;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_error_cb(conf, &error_callback);
}

void ClientEvents::attach_statistics(rd_kafka_conf_t* conf, StatisticsHandler handler) {
  m_on_statistics = std::move(handler);
  rd_kafka_conf_set_stats_cb(conf, &statistics_callback);
}

void ClientEvents::deliver_statistics(std::string_view json) noexcept {
  if (!m_on_statistics) {
    return;
  }
  try {
    m_on_statistics(parse_statistics(json));
  } catch (const std::exception& error) {
    // Metrics are an aid: a document this version cannot read must not stop
    // the work, nor fill the log every interval.
    if (!m_statistics_failed) {
      m_statistics_failed = true;
      log::warning("kafka", "cannot use librdkafka's statistics", {{"error", error.what()}});
    }
  } catch (...) {
    m_statistics_failed = true; // nothing may unwind into librdkafka
  }
}

ClientEvents* ClientEvents::of(const rd_kafka_t* handle) noexcept {
  return static_cast<ClientEvents*>(rd_kafka_opaque(handle));
}

void ClientEvents::record_error(int code, const std::string& reason) {
  const std::lock_guard lock(m_mutex);
  if ((code == RD_KAFKA_RESP_ERR__AUTHENTICATION || code == RD_KAFKA_RESP_ERR__SSL) &&
      m_refusal_code == RD_KAFKA_RESP_ERR_NO_ERROR) {
    m_refusal_code = code;
    m_refusal = reason;
  }
  // "All brokers are down" follows the real cause; keep the cause.
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !m_last_error.empty()) {
    return;
  }
  m_last_code = code;
  m_last_error = reason;
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    m_fatal = true;
  }
}

std::string ClientEvents::last_error() const {
  const std::lock_guard lock(m_mutex);
  return m_last_error;
}

int ClientEvents::last_code() const {
  const std::lock_guard lock(m_mutex);
  return m_last_code;
}

bool ClientEvents::fatal() const {
  const std::lock_guard lock(m_mutex);
  return m_fatal;
}

int ClientEvents::refusal_code() const {
  const std::lock_guard lock(m_mutex);
  return m_broker_usable.load(std::memory_order_relaxed) ? RD_KAFKA_RESP_ERR_NO_ERROR : m_refusal_code;
}

std::string ClientEvents::refusal() const {
  const std::lock_guard lock(m_mutex);
  return m_broker_usable.load(std::memory_order_relaxed) ? std::string() : m_refusal;
}

void ClientEvents::throw_if_refused(const std::string& bootstrap_servers) const {
  if (const auto code = refusal_code(); code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(refusal_message(bootstrap_servers, code, refusal()), code, false, false);
  }
}

void ClientEvents::await_usable_broker(rd_kafka_t* handle, const std::string& bootstrap_servers,
                                       std::chrono::milliseconds timeout) {
  if (m_broker_usable.load(std::memory_order_relaxed)) {
    return;
  }
  // A metadata request without topics asks only for the brokers. librdkafka
  // sends it once some broker is up (connected and logged in) and answers
  // __TRANSPORT when none was within the slice; any other answer means one was.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    throw_if_refused(bootstrap_servers);
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) {
      throw KafkaError(unreachable_message(bootstrap_servers, *this), RD_KAFKA_RESP_ERR__TRANSPORT, false, true);
    }
    const rd_kafka_metadata_t* metadata = nullptr;
    const auto err = rd_kafka_metadata(handle, 0, nullptr, &metadata, static_cast<int>(std::min(left, 200ms).count()));
    if (metadata != nullptr) {
      rd_kafka_metadata_destroy(metadata);
    }
    if (err != RD_KAFKA_RESP_ERR__TRANSPORT) {
      m_broker_usable.store(true, std::memory_order_relaxed);
      return;
    }
  }
}

int classify_connection_failure(std::string_view message) {
  if (contains(message, "SASL authentication error") || contains(message, "SASL handshake failed") ||
      contains(message, "Authentication failed")) {
    return RD_KAFKA_RESP_ERR__AUTHENTICATION;
  }
  if (contains(message, "SSL handshake failed") || contains(message, "certificate verify failed")) {
    return RD_KAFKA_RESP_ERR__SSL;
  }
  return RD_KAFKA_RESP_ERR__TRANSPORT;
}

std::string refusal_message(const std::string& bootstrap_servers, int code,
                            const std::string& reason) {
  if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
    return "Kafka at " + bootstrap_servers + " refused the login: SASL authentication failed (" +
           detail_after(reason, "SASL authentication error: ") +
           "); check sasl.username, sasl.password and sasl.mechanism (in the --config file or -X)";
  }
  if (contains(reason, "certificate verify failed")) {
    return "cannot trust Kafka at " + bootstrap_servers +
           ": certificate verify failed (the broker's certificate is not signed by a CA in ssl.ca.location, "
           "or does not name the host); check ssl.ca.location (in the --config file or -X)";
  }
  return "TLS handshake with Kafka at " + bootstrap_servers + " failed (" +
         detail_after(reason, "SSL handshake failed: ") +
         "); check security.protocol, the listener's port in --bootstrap-servers and the ssl.* settings";
}

std::string unreachable_message(const std::string& bootstrap_servers, const ClientEvents& events) {
  if (const auto code = events.refusal_code(); code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return refusal_message(bootstrap_servers, code, events.refusal());
  }
  const auto last = events.last_error();
  const auto reason = last.empty() ? std::string("no answer") : os_reason(last);
  return "cannot reach Kafka at " + bootstrap_servers + " (" + reason +
         "); start it with compose/up or set --bootstrap-servers";
}

} // namespace foodpipe::kafka
