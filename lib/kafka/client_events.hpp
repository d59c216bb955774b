#pragma once

// What librdkafka reports through its error callback, kept so that a failed
// operation can say *why* ("Connection refused") and not just "timed out".
// Thread-safe: written from librdkafka's threads, read from the caller's.

#include <mutex>
#include <string>

#include <librdkafka/rdkafka.h>

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

  // The ClientEvents attached to a handle's conf, or nullptr.
  [[nodiscard]] static ClientEvents* of(const rd_kafka_t* handle) noexcept;

  void record_error(rd_kafka_resp_err_t code, const std::string& reason);

  [[nodiscard]] std::string last_error() const;
  [[nodiscard]] rd_kafka_resp_err_t last_code() const;
  [[nodiscard]] bool fatal() const;

private:
  mutable std::mutex m_mutex;
  std::string m_last_error;
  rd_kafka_resp_err_t m_last_code = RD_KAFKA_RESP_ERR_NO_ERROR;
  bool m_fatal = false;
  void* m_owner = nullptr;
};

// "cannot reach Kafka at <servers> (<reason>); start it with compose/up or set
// --bootstrap-servers" — the reason is the OS's word where librdkafka gave one.
[[nodiscard]] std::string unreachable_message(const std::string& bootstrap_servers,
                                              const ClientEvents& events);

} // namespace foodpipe::kafka
