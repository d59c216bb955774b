#include "kafka/message.hpp"

#include <librdkafka/rdkafka.h>

namespace foodpipe::kafka {

std::string_view MessageView::key() const noexcept {
  return m_message->key == nullptr ? std::string_view()
                                   : std::string_view(static_cast<const char*>(m_message->key), m_message->key_len);
}

std::string_view MessageView::value() const noexcept {
  return m_message->payload == nullptr ? std::string_view()
                                       : std::string_view(static_cast<const char*>(m_message->payload), m_message->len);
}

std::optional<std::string_view> MessageView::optional_key() const noexcept {
  return m_message->key == nullptr ? std::nullopt : std::optional<std::string_view>(key());
}

std::optional<std::string_view> MessageView::optional_value() const noexcept {
  return m_message->payload == nullptr ? std::nullopt : std::optional<std::string_view>(value());
}

std::int32_t MessageView::partition() const noexcept { return m_message->partition; }

std::int64_t MessageView::offset() const noexcept { return m_message->offset; }

Timestamp MessageView::timestamp() const noexcept {
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  Timestamp timestamp;
  timestamp.ms = rd_kafka_message_timestamp(m_message, &type);
  timestamp.type = type == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? TimestampType::create_time
                   : type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? TimestampType::log_append_time
                                                                : TimestampType::not_available;
  return timestamp;
}

std::int32_t MessageView::broker() const noexcept { return rd_kafka_message_broker_id(m_message); }

std::optional<std::string_view> MessageView::header(const char* name) const {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m_message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return value == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(value), size);
}

std::vector<std::pair<std::string, std::string>> MessageView::headers() const {
  std::vector<std::pair<std::string, std::string>> result;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m_message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return result;
  }
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    result.emplace_back(name, value != nullptr ? std::string(static_cast<const char*>(value), size) : std::string());
  }
  return result;
}

bool MessageView::ok() const noexcept { return m_message->err == RD_KAFKA_RESP_ERR_NO_ERROR; }

std::string MessageView::error_name() const { return rd_kafka_err2name(m_message->err); }

std::string MessageView::error_text() const { return rd_kafka_err2str(m_message->err); }

bool MessageView::too_large() const noexcept {
  return m_message->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
         m_message->err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

int MessageView::error_code() const noexcept { return m_message->err; }

bool MessageView::partition_eof() const noexcept { return m_message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF; }

bool MessageView::offset_out_of_range() const noexcept {
  return m_message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET;
}

bool MessageView::access_refused() const noexcept {
  const auto err = m_message->err;
  return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED || err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED;
}

std::string MessageView::event_text() const { return rd_kafka_message_errstr(m_message); }

std::int64_t MessageView::latency_us() const noexcept { return rd_kafka_message_latency(m_message); }

void* MessageView::opaque() const noexcept { return m_message->_private; }

Message::Message(rd_kafka_message_t* owned) noexcept { m_message = owned; }

Message::~Message() {
  if (m_message != nullptr) {
    // Ours since the poll that returned it; librdkafka's API takes it non-const.
    rd_kafka_message_destroy(const_cast<rd_kafka_message_t*>(m_message));
  }
}

Message::Message(Message&& other) noexcept : MessageView(other) { other.m_message = nullptr; }

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    Message gone(std::move(*this)); // destroys what this held, on leaving
    m_message = other.m_message;
    other.m_message = nullptr;
  }
  return *this;
}

void Headers::Deleter::operator()(rd_kafka_headers_t* headers) const noexcept { rd_kafka_headers_destroy(headers); }

Headers::Headers() : Headers(4) {}

Headers::Headers(std::size_t capacity) : m_headers(rd_kafka_headers_new(capacity)) {}

Headers::~Headers() = default;
Headers::Headers(Headers&&) noexcept = default;
Headers& Headers::operator=(Headers&&) noexcept = default;

Headers Headers::copy_of(const MessageView& message) {
  rd_kafka_headers_t* original = nullptr;
  Headers copy(0);
  copy.m_headers.reset(rd_kafka_message_headers(&message.native(), &original) == RD_KAFKA_RESP_ERR_NO_ERROR
                           ? rd_kafka_headers_copy(original)
                           : rd_kafka_headers_new(4));
  return copy;
}

Headers& Headers::add(std::string_view name, std::string_view value) {
  rd_kafka_header_add(m_headers.get(), name.data(), static_cast<ssize_t>(name.size()), value.data(),
                      static_cast<ssize_t>(value.size()));
  return *this;
}

} // namespace foodpipe::kafka
