#pragma once

// KafkaError: a librdkafka error that ends an operation, with what the user
// can do about it in what().

#include <string>

#include <librdkafka/rdkafka.h>

#include "core/error.hpp"

namespace foodpipe::kafka {

class KafkaError : public Error {
public:
  KafkaError(const std::string& message, rd_kafka_resp_err_t code, bool fatal = false,
             bool retriable = false, ExitCode exit_code = ExitCode::failure)
      : Error(message, exit_code), m_code(code), m_fatal(fatal), m_retriable(retriable) {}

  [[nodiscard]] rd_kafka_resp_err_t code() const noexcept { return m_code; }
  [[nodiscard]] bool fatal() const noexcept { return m_fatal; }
  [[nodiscard]] bool retriable() const noexcept { return m_retriable; }
  // The message was over a size limit (librdkafka's message.max.bytes, or the broker's).
  [[nodiscard]] bool too_large() const noexcept {
    return m_code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || m_code == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
  }

private:
  rd_kafka_resp_err_t m_code;
  bool m_fatal;
  bool m_retriable;
};

// Builds a KafkaError from an rd_kafka_error_t (which it does not destroy).
[[nodiscard]] KafkaError make_error(const std::string& context, const rd_kafka_error_t* error);

} // namespace foodpipe::kafka
