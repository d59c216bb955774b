#pragma once

// Views of a consumed message's key and value: the bytes librdkafka holds,
// valid as long as the message is. A null key or value (a tombstone) is an
// empty view; test message.key / message.payload for null where the
// difference matters.

#include <optional>
#include <string_view>

#include <librdkafka/rdkafka.h>

namespace foodpipe::kafka {

[[nodiscard]] inline std::string_view key_of(const rd_kafka_message_t& message) noexcept {
  return message.key == nullptr ? std::string_view()
                                : std::string_view(static_cast<const char*>(message.key), message.key_len);
}

[[nodiscard]] inline std::string_view value_of(const rd_kafka_message_t& message) noexcept {
  return message.payload == nullptr ? std::string_view()
                                    : std::string_view(static_cast<const char*>(message.payload), message.len);
}

// The same, with a null key or value (a tombstone) as nullopt.
[[nodiscard]] inline std::optional<std::string_view> optional_key_of(const rd_kafka_message_t& message) noexcept {
  return message.key == nullptr ? std::nullopt : std::optional<std::string_view>(key_of(message));
}

[[nodiscard]] inline std::optional<std::string_view> optional_value_of(const rd_kafka_message_t& message) noexcept {
  return message.payload == nullptr ? std::nullopt : std::optional<std::string_view>(value_of(message));
}

} // namespace foodpipe::kafka
