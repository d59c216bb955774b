#include "kafka/client_events.hpp"

#include "core/log.hpp"

namespace foodpipe::kafka {
namespace {

extern "C" void error_callback(rd_kafka_t* /*handle*/, int code, const char* reason, void* opaque) {
  auto* events = static_cast<ClientEvents*>(opaque);
  const auto error = static_cast<rd_kafka_resp_err_t>(code);
  events->record_error(error, reason != nullptr ? reason : "");
  log::debug("kafka", reason != nullptr ? reason : "", {{"error", rd_kafka_err2name(error)}});
}

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

} // namespace

void ClientEvents::attach(rd_kafka_conf_t* conf, void* owner) {
  m_owner = owner;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_error_cb(conf, &error_callback);
}

ClientEvents* ClientEvents::of(const rd_kafka_t* handle) noexcept {
  return static_cast<ClientEvents*>(rd_kafka_opaque(handle));
}

void ClientEvents::record_error(rd_kafka_resp_err_t code, const std::string& reason) {
  const std::lock_guard lock(m_mutex);
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

rd_kafka_resp_err_t ClientEvents::last_code() const {
  const std::lock_guard lock(m_mutex);
  return m_last_code;
}

bool ClientEvents::fatal() const {
  const std::lock_guard lock(m_mutex);
  return m_fatal;
}

std::string unreachable_message(const std::string& bootstrap_servers, const ClientEvents& events) {
  const auto last = events.last_error();
  const auto reason = last.empty() ? std::string("no answer") : os_reason(last);
  return "cannot reach Kafka at " + bootstrap_servers + " (" + reason +
         "); start it with compose/up or set --bootstrap-servers";
}

} // namespace foodpipe::kafka
