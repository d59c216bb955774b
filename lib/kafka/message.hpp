#pragma once

// A Kafka message as the layers above lib/kafka see it, and the headers they
// give one to produce: no librdkafka header here, so that code outside
// lib/kafka cannot reach into librdkafka's structs. librdkafka's types are
// only named (declared the way rdkafka.h declares them) for the few lib/kafka
// files that hand them over.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/fwd.hpp"

namespace foodpipe::kafka {

enum class TimestampType { not_available, create_time, log_append_time };

struct Timestamp {
  std::int64_t ms = -1; // milliseconds since the epoch; -1 when not available
  TimestampType type = TimestampType::not_available;
};

// A message polled, read or reported delivered, without owning it: valid as
// long as the message it views. Its key and value are the bytes librdkafka
// holds; a null key or value (a tombstone) is an empty view, and nullopt
// from the optional_ accessors where the difference matters.
class MessageView {
public:
  explicit MessageView(const rd_kafka_message_t& message) noexcept : m_message(&message) {}

  [[nodiscard]] std::string_view key() const noexcept;
  [[nodiscard]] std::string_view value() const noexcept;
  [[nodiscard]] std::optional<std::string_view> optional_key() const noexcept;
  [[nodiscard]] std::optional<std::string_view> optional_value() const noexcept;
  [[nodiscard]] std::int32_t partition() const noexcept;
  [[nodiscard]] std::int64_t offset() const noexcept;
  [[nodiscard]] Timestamp timestamp() const noexcept;
  // The broker it was read from; -1 when unknown (e.g. a delivery report).
  [[nodiscard]] std::int32_t broker() const noexcept;

  // The value of the last header called `name`; nullopt when there is none.
  // A header with a null value is an empty view.
  [[nodiscard]] std::optional<std::string_view> header(const char* name) const;
  // Every header as (name, value), in order.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> headers() const;

  // Whether librdkafka reported an error for it (a failed delivery, or an
  // event polled as a message), and which: its name (e.g. "MSG_TIMED_OUT")
  // and its description.
  [[nodiscard]] bool ok() const noexcept;
  [[nodiscard]] std::string error_name() const;
  [[nodiscard]] std::string error_text() const;
  // The broker refused it as too large (MSG_SIZE_TOO_LARGE, RECORD_LIST_TOO_LARGE).
  [[nodiscard]] bool too_large() const noexcept;
  // librdkafka's code (rd_kafka_resp_err_t), for a KafkaError.
  [[nodiscard]] int error_code() const noexcept;

  // Events a consumer polls as messages (offset(): where it happened):
  // the fetcher reached the end of what can be read (enable.partition.eof),
  [[nodiscard]] bool partition_eof() const noexcept;
  // the position left the log (auto.offset.reset=error),
  [[nodiscard]] bool offset_out_of_range() const noexcept;
  // the broker refused the login or the principal's rights (topic or group).
  [[nodiscard]] bool access_refused() const noexcept;
  // What librdkafka says about a polled error event (its own text when it
  // has one, else error_text()). Not for delivery reports, whose payload is
  // the message's value.
  [[nodiscard]] std::string event_text() const;

  // Delivery reports: the time from produce() to the report, in microseconds
  // (-1 when unknown), and the opaque pointer given to produce().
  [[nodiscard]] std::int64_t latency_us() const noexcept;
  [[nodiscard]] void* opaque() const noexcept;

  // For lib/kafka only.
  [[nodiscard]] const rd_kafka_message_t& native() const noexcept { return *m_message; }

protected:
  MessageView() noexcept = default;
  const rd_kafka_message_t* m_message = nullptr;
};

// A message polled from a consumer, owned: destroyed with it. Empty (false)
// when the poll timed out.
class Message : public MessageView {
public:
  Message() noexcept = default;
  // Takes ownership of what rd_kafka_consumer_poll returned (may be null).
  explicit Message(rd_kafka_message_t* owned) noexcept;
  ~Message();
  Message(Message&& other) noexcept;
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  explicit operator bool() const noexcept { return m_message != nullptr; }
};

// Headers to give a message: built with add(), or copied from a message read.
class Headers {
public:
  Headers();
  explicit Headers(std::size_t capacity);
  ~Headers();
  Headers(Headers&&) noexcept;
  Headers& operator=(Headers&&) noexcept;
  Headers(const Headers&) = delete;
  Headers& operator=(const Headers&) = delete;

  // The headers `message` carries (none when it has none).
  [[nodiscard]] static Headers copy_of(const MessageView& message);

  Headers& add(std::string_view name, std::string_view value);

  // For lib/kafka only: the list librdkafka reads, and giving it away to a
  // call that takes ownership.
  [[nodiscard]] rd_kafka_headers_t* native() const noexcept { return m_headers.get(); }
  [[nodiscard]] rd_kafka_headers_t* release() noexcept { return m_headers.release(); }

private:
  struct Deleter {
    void operator()(rd_kafka_headers_t* headers) const noexcept;
  };
  std::unique_ptr<rd_kafka_headers_t, Deleter> m_headers;
};

} // namespace foodpipe::kafka
