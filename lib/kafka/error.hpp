#pragma once

// KafkaError: a librdkafka error that ends an operation, with what the user
// can do about it in what(). Its code is librdkafka's rd_kafka_resp_err_t
// held as an int, so that this header needs no librdkafka header: the codes
// the layers above test for are named in `errc` (error.cpp checks each
// against rdkafka.h at compile time).

#include <string>

#include "core/error.hpp"

#include "kafka/fwd.hpp"

namespace foodpipe::kafka {

namespace errc {
inline constexpr int none = 0;                        // RD_KAFKA_RESP_ERR_NO_ERROR
inline constexpr int timed_out = -185;                // RD_KAFKA_RESP_ERR__TIMED_OUT
inline constexpr int message_timed_out = -192;        // RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
inline constexpr int unsupported_feature = -165;      // RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE
inline constexpr int unknown_topic_or_partition = 3;  // RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
inline constexpr int message_too_large = 10;          // RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
inline constexpr int record_list_too_large = 18;      // RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE
inline constexpr int topic_authorization_failed = 29; // RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
} // namespace errc

class KafkaError : public Error {
public:
  KafkaError(const std::string& message, int code, bool fatal = false, bool retriable = false,
             ExitCode exit_code = ExitCode::failure)
      : Error(message, exit_code), m_code(code), m_fatal(fatal), m_retriable(retriable) {}

  // librdkafka's rd_kafka_resp_err_t.
  [[nodiscard]] int code() const noexcept { return m_code; }
  [[nodiscard]] bool fatal() const noexcept { return m_fatal; }
  [[nodiscard]] bool retriable() const noexcept { return m_retriable; }
  // The message was over a size limit (librdkafka's message.max.bytes, or the broker's).
  [[nodiscard]] bool too_large() const noexcept {
    return m_code == errc::message_too_large || m_code == errc::record_list_too_large;
  }

private:
  int m_code;
  bool m_fatal;
  bool m_retriable;
};

// Builds a KafkaError from an rd_kafka_error_t (which it does not destroy).
[[nodiscard]] KafkaError make_error(const std::string& context, const rd_kafka_error_t* error);

} // namespace foodpipe::kafka
