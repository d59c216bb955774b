#pragma once

// A producer over librdkafka's C API that loses nothing it reported as sent:
// every enqueued message gets exactly one delivery report (success, error, or
// "purged" when close() gives up), a full local queue is backpressure (poll
// and retry) and never a drop, and a fatal error (e.g. the idempotent producer
// losing its sequence) surfaces as a KafkaError from the next call.
//
// Threading: produce/poll/flush/close from one thread; delivery reports run
// on that thread inside poll/flush/produce (never on librdkafka's threads).
//
// Allocation: librdkafka allocates a message, and five blocks for three
// headers, per produce() call. A producer whose messages all carry the same
// headers gets them at construction (common headers): their per-message
// copies are then taken back from delivery reports and reused. A caller that
// keeps its value buffers alive until the report can lend them (Value::lend)
// instead of having librdkafka copy them. Both cut the glibc malloc traffic
// that made up most of the gap to kcat (docs/performance.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kafka/client_events.hpp"
#include "kafka/config.hpp"
#include "kafka/handles.hpp"
#include "kafka/message.hpp"
#include "kafka/statistics.hpp"

namespace foodpipe::kafka {

class Producer {
public:
  // Called once per message with librdkafka's report (ok() or the error,
  // partition, offset, opaque() = the one given to produce()).
  using DeliveryHandler = std::function<void(MessageView)>;

  // How produce() takes a message's value.
  enum class Value {
    copy, // librdkafka copies it; the caller's buffer is free again on return
    lend, // librdkafka reads it where it is, until the message's delivery report
          // (whose payload points at it): the caller keeps it alive and unchanged
  };

  // defaults: the caller's properties (acks, idempotence, ...) applied before
  // the user's -X ones. common_headers: headers that every message carries;
  // produce() then takes none of its own. on_statistics: when set, gets
  // librdkafka's statistics every k_statistics_interval (kafka/statistics.hpp).
  // Throws UsageError for refused properties.
  Producer(const ClientSettings& settings, const Properties& defaults, DeliveryHandler on_delivery,
           std::optional<Headers> common_headers = std::nullopt, StatisticsHandler on_statistics = {});
  // Destroys the handle without flushing (close() is the orderly way).
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues a message: a copy of key and headers, and of the value unless it
  // is lent. `headers` null means the common headers (none if the producer
  // has none); a producer with common headers takes no others
  // (std::invalid_argument). A value whose data() is null
  // (std::string_view()) is a null value: a tombstone. While the local queue
  // is full it serves delivery reports and retries; `should_stop` lets the
  // caller give up waiting (returns false, the message was NOT enqueued and a
  // lent value is the caller's again). Throws KafkaError on a fatal producer
  // error or a permanent enqueue failure (e.g. message too large).
  bool produce(std::string_view topic, std::string_view key, std::string_view value,
               const Headers* headers, void* opaque,
               const std::function<bool()>& should_stop = {}, Value value_mode = Value::copy);

  // Serves delivery reports; returns how many were served.
  int poll(std::chrono::milliseconds timeout);

  // Messages enqueued or in flight, not yet reported.
  [[nodiscard]] int in_flight() const;

  // Waits up to `timeout` for every message to be reported; returns what is
  // still in flight. Throws KafkaError on a fatal error.
  int flush(std::chrono::milliseconds timeout);

  // flush(timeout), then purges whatever is left so that each of those
  // messages is reported as failed (__PURGE_QUEUE / __PURGE_INFLIGHT).
  // Returns how many had to be purged.
  int close(std::chrono::milliseconds timeout);

  // Throws KafkaError when librdkafka raised a fatal error.
  void throw_if_fatal() const;

  [[nodiscard]] const ClientEvents& events() const noexcept { return m_events; }
  [[nodiscard]] rd_kafka_t* handle() const noexcept { return m_handle.get(); }

private:
  static void delivery_trampoline(rd_kafka_t* handle, const rd_kafka_message_t* message, void* opaque);
  rd_kafka_topic_t* topic_handle(std::string_view name);
  // A copy of the common headers for one message: a recycled one if any.
  HeadersPtr common_headers_copy();

  ClientSettings m_settings;
  ClientEvents m_events;
  DeliveryHandler m_on_delivery;
  HeadersPtr m_common_headers;
  // Copies of m_common_headers taken back from delivered messages.
  std::vector<HeadersPtr> m_spare_headers;
  HandlePtr m_handle;
  std::unordered_map<std::string, TopicPtr> m_topics;
  std::string_view m_last_topic_name; // a key of m_topics (node-stable)
  rd_kafka_topic_t* m_last_topic = nullptr;
};

} // namespace foodpipe::kafka
