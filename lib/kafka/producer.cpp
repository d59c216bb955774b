#include "kafka/producer.hpp"

#include <librdkafka/rdkafka.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "kafka/error.hpp"

namespace foodpipe::kafka {

Producer::Producer(const ClientSettings& settings, const Properties& defaults, DeliveryHandler on_delivery,
                   std::optional<Headers> common_headers, StatisticsHandler on_statistics)
    : m_settings(settings),
      m_on_delivery(std::move(on_delivery)),
      m_common_headers(common_headers ? common_headers->release() : nullptr) {
  Properties all_defaults = defaults;
  if (on_statistics) {
    all_defaults.emplace_back("statistics.interval.ms", std::to_string(k_statistics_interval.count()));
  }
  ConfPtr conf = make_conf(settings, all_defaults);
  m_events.attach(conf.get(), this);
  if (on_statistics) {
    m_events.attach_statistics(conf.get(), std::move(on_statistics));
  }
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::delivery_trampoline);
  m_handle = make_client(ClientKind::producer, std::move(conf), "the producer");
}

Producer::~Producer() {
  m_last_topic = nullptr;
  m_topics.clear();
  m_handle.reset();
}

void Producer::delivery_trampoline(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<Producer*>(static_cast<ClientEvents*>(opaque)->owner());
  if (self->m_on_delivery) {
    self->m_on_delivery(MessageView(*message));
  }
  if (self->m_common_headers) {
    // Every message of this producer carries a copy of the common headers:
    // keep it for the next message instead of letting librdkafka free it.
    // The report's message is librdkafka's own mutable object, destroyed
    // right after this callback; detaching is the documented way to keep
    // its headers.
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_detach_headers(const_cast<rd_kafka_message_t*>(message), &headers) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->m_spare_headers.emplace_back(headers);
    }
  }
}

HeadersPtr Producer::common_headers_copy() {
  if (m_spare_headers.empty()) {
    return HeadersPtr(rd_kafka_headers_copy(m_common_headers.get()));
  }
  HeadersPtr spare = std::move(m_spare_headers.back());
  m_spare_headers.pop_back();
  if (!m_spare_headers.empty()) {
    // The next message's list was last touched by librdkafka's broker thread
    // tens of milliseconds ago, so rd_kafka_produceva's read of its size is a
    // cache miss: about 5% of the producer's samples (docs/performance.md).
    // Fetch the cache lines of its first 64 bytes (the whole rd_kafka_headers_t
    // in librdkafka 2.0) now, while this message is sent. Integer arithmetic:
    // the type is opaque, so a pointer past its end would be out of bounds.
    const auto next = reinterpret_cast<std::uintptr_t>(m_spare_headers.back().get());
    __builtin_prefetch(reinterpret_cast<const void*>(next));
    __builtin_prefetch(reinterpret_cast<const void*>(next + 63));
  }
  return spare;
}

rd_kafka_topic_t* Producer::topic_handle(std::string_view name) {
  // Almost every call names the same topic as the last one.
  if (m_last_topic != nullptr && m_last_topic_name == name) {
    return m_last_topic;
  }
  const std::string key(name);
  auto it = m_topics.find(key);
  if (it == m_topics.end()) {
    rd_kafka_topic_t* topic = rd_kafka_topic_new(m_handle.get(), key.c_str(), nullptr);
    if (topic == nullptr) {
      throw KafkaError("cannot use topic " + key + ": " + rd_kafka_err2str(rd_kafka_last_error()),
                       rd_kafka_last_error());
    }
    it = m_topics.emplace(key, TopicPtr(topic)).first;
  }
  m_last_topic_name = it->first;
  m_last_topic = it->second.get();
  return m_last_topic;
}

void Producer::throw_if_fatal() const {
  std::array<char, 512> reason{};
  const auto code = rd_kafka_fatal_error(m_handle.get(), reason.data(), reason.size());
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(std::string("fatal producer error (") + rd_kafka_err2name(code) + "): " + reason.data(),
                     code, true);
  }
}

bool Producer::produce(std::string_view topic, std::string_view key, std::string_view value,
                       const Headers* headers, void* opaque, const std::function<bool()>& should_stop,
                       Value value_mode) {
  if (headers != nullptr && m_common_headers) {
    throw std::invalid_argument("a producer with common headers takes no per-message headers");
  }
  rd_kafka_topic_t* rkt = topic_handle(topic);
  HeadersPtr message_headers = m_common_headers ? common_headers_copy()
                               : headers != nullptr ? HeadersPtr(rd_kafka_headers_copy(headers->native()))
                                                    : nullptr;
  // rd_kafka_produceva rather than the RD_KAFKA_V_* macros: same call, no C casts.
  // The const_casts are librdkafka's API: it only reads a value, copied or lent.
  // Filled field by field (no zeroing of the whole array on every message).
  std::array<rd_kafka_vu_t, 6> args; // NOLINT(cppcoreguidelines-pro-type-member-init): each used one is set
  args[0].vtype = RD_KAFKA_VTYPE_RKT;
  args[0].u.rkt = rkt;
  args[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  args[1].u.i = value_mode == Value::copy ? RD_KAFKA_MSG_F_COPY : 0;
  args[2].vtype = RD_KAFKA_VTYPE_KEY;
  args[2].u.mem = {const_cast<char*>(key.data()), key.size()};
  args[3].vtype = RD_KAFKA_VTYPE_VALUE;
  args[3].u.mem = {const_cast<char*>(value.data()), value.size()};
  args[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
  args[4].u.ptr = opaque;
  std::size_t count = 5;
  if (message_headers) {
    args[5].vtype = RD_KAFKA_VTYPE_HEADERS;
    args[5].u.headers = message_headers.get();
    count = 6;
  }
  for (;;) {
    const ErrorPtr error(rd_kafka_produceva(m_handle.get(), args.data(), count));
    const auto err = error ? rd_kafka_error_code(error.get()) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      (void)message_headers.release(); // the message owns them now
      return true;
    }
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Backpressure: let the network catch up, then try again (with the
      // same headers: a failed call leaves them ours).
      rd_kafka_poll(m_handle.get(), 5);
      if (should_stop && should_stop()) {
        return false;
      }
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      throw_if_fatal();
    }
    throw KafkaError("cannot enqueue a message for " + std::string(topic) + ": " + rd_kafka_err2str(err), err);
  }
}

int Producer::poll(std::chrono::milliseconds timeout) {
  return rd_kafka_poll(m_handle.get(), static_cast<int>(timeout.count()));
}

int Producer::in_flight() const { return rd_kafka_outq_len(m_handle.get()); }

int Producer::flush(std::chrono::milliseconds timeout) {
  rd_kafka_flush(m_handle.get(), static_cast<int>(timeout.count()));
  throw_if_fatal();
  return in_flight();
}

int Producer::close(std::chrono::milliseconds timeout) {
  rd_kafka_flush(m_handle.get(), static_cast<int>(timeout.count()));
  const int left = rd_kafka_outq_len(m_handle.get());
  if (left > 0) {
    rd_kafka_purge(m_handle.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Serve the purged messages' reports so that each one is counted.
    rd_kafka_flush(m_handle.get(), 1000);
    rd_kafka_poll(m_handle.get(), 0);
  }
  return left;
}

} // namespace foodpipe::kafka
