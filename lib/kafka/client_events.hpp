#pragma once

// What librdkafka reports through its error callback, kept so that a failed
// operation can say *why* ("Connection refused") and not just "timed out".
// Thread-safe: written from librdkafka's threads, read from the caller's.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "kafka/error.hpp"
#include "kafka/fwd.hpp"
#include "kafka/statistics.hpp"

namespace foodpipe::kafka {

class ClientEvents {
public:
  // Installs the error callback with this object as the conf's opaque; the
  // object must outlive the rd_kafka_t made from the conf. librdkafka's
  // connection failures are also taken from its log callback (see config.cpp),
  // because a blocking metadata call serves no error callbacks.
  // `owner` is for the client that embeds this object (the producer finds
  // itself there in its delivery callback).
  void attach(rd_kafka_conf_t* conf, void* owner = nullptr);

  [[nodiscard]] void* owner() const noexcept { return m_owner; }

  // Installs librdkafka's statistics callback on `conf` (after attach()):
  // each document is parsed and handed to `handler`. The caller sets
  // statistics.interval.ms (librdkafka emits nothing while it is 0).
  void attach_statistics(rd_kafka_conf_t* conf, StatisticsHandler handler);
  // Parses one document and calls the handler; a document that does not
  // parse is logged once and skipped. Never throws: librdkafka calls it.
  void deliver_statistics(std::string_view json) noexcept;

  // The ClientEvents attached to a handle's conf, or nullptr.
  [[nodiscard]] static ClientEvents* of(const rd_kafka_t* handle) noexcept;

  // A failed broker connection. RD_KAFKA_RESP_ERR__AUTHENTICATION (the broker
  // refused the SASL login) and RD_KAFKA_RESP_ERR__SSL (the TLS handshake
  // failed, e.g. an untrusted certificate) are also kept as the refusal:
  // no wait or retry cures them, and later errors do not replace them.
  void record_error(int code, const std::string& reason);

  [[nodiscard]] std::string last_error() const;
  [[nodiscard]] int last_code() const;
  [[nodiscard]] bool fatal() const;

  // The refusal: once a broker refused this client's login or a TLS
  // handshake failed, that code and librdkafka's text; until then, and for
  // good once await_usable_broker() found a usable broker (a later refusal
  // may be a broker restarting, which the operations' own timeouts deal
  // with), RD_KAFKA_RESP_ERR_NO_ERROR.
  [[nodiscard]] int refusal_code() const;
  [[nodiscard]] std::string refusal() const;
  // Throws KafkaError (exit 1, not retriable) with refusal_message() when
  // there is a refusal.
  void throw_if_refused(const std::string& bootstrap_servers) const;

  // Returns once `handle` (whose conf this object is attached to) has a broker
  // it can use, i.e. connected and, behind SASL, logged in; immediately after
  // the first time. Asks in short slices, so that a refusal ends the wait
  // within a fraction of a second instead of after `timeout`. Throws
  // KafkaError: the refusal, or unreachable_message() after `timeout`.
  void await_usable_broker(rd_kafka_t* handle, const std::string& bootstrap_servers,
                           std::chrono::milliseconds timeout);

private:
  mutable std::mutex m_mutex;
  std::string m_last_error;
  int m_last_code = errc::none; // librdkafka codes (rd_kafka_resp_err_t)
  bool m_fatal = false;
  std::string m_refusal;
  int m_refusal_code = errc::none;
  std::atomic<bool> m_broker_usable{false};
  void* m_owner = nullptr;
  StatisticsHandler m_on_statistics;
  bool m_statistics_failed = false; // a bad document was logged already
};

// What a broker connection failure reported by librdkafka's log (facility
// FAIL, which carries no error code) is: RD_KAFKA_RESP_ERR__AUTHENTICATION for
// a refused SASL login, RD_KAFKA_RESP_ERR__SSL for a failed TLS handshake,
// RD_KAFKA_RESP_ERR__TRANSPORT otherwise.
[[nodiscard]] int classify_connection_failure(std::string_view message);

// "cannot reach Kafka at <servers> (<reason>); start it with compose/up or set
// --bootstrap-servers" — the reason is the OS's word where librdkafka gave one.
// When the brokers refused the login or the TLS handshake failed, says that
// instead, naming the settings to check (sasl.username and sasl.password;
// ssl.ca.location).
[[nodiscard]] std::string unreachable_message(const std::string& bootstrap_servers,
                                              const ClientEvents& events);

// The one-line message for a refusal: `code` is RD_KAFKA_RESP_ERR__AUTHENTICATION
// or RD_KAFKA_RESP_ERR__SSL, `reason` librdkafka's text.
[[nodiscard]] std::string refusal_message(const std::string& bootstrap_servers, int code,
                                          const std::string& reason);

} // namespace foodpipe::kafka
