#include "kafka/consumer.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/error.hpp"

#include "core/log.hpp"
#include "kafka/error.hpp"
#include "kafka/reader.hpp"

namespace foodpipe::kafka {

static_assert(k_offset_beginning == RD_KAFKA_OFFSET_BEGINNING);
static_assert(k_offset_end == RD_KAFKA_OFFSET_END);

// librdkafka's callbacks, with the access of a member.
struct Consumer::Callbacks {
  static void rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                        void* opaque) noexcept;
};
namespace {

PartitionListPtr make_list(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [partition, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  }
  return list;
}

PartitionListPtr make_list(const std::string& topic, const std::vector<std::int32_t>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto partition : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  return list;
}

void check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(what + ": " + rd_kafka_err2str(err), err);
  }
}

// Properties the consumer's contract depends on (consumer.hpp), with why, for
// the usage error of a -X that sets one otherwise.
struct OwnedProperty {
  const char* name;
  const char* value;
  const char* why;
};
constexpr OwnedProperty k_owned[] = {
    {"enable.auto.commit", "false", "the offsets live in PostgreSQL, written with each batch"},
    {"enable.auto.offset.store", "false", "the offsets live in PostgreSQL, written with each batch"},
    {"enable.partition.eof", "true", "the end of a partition tells where a log that ends in markers ends"},
    {"auto.offset.reset", "error", "an offset that left the log is reported, never skipped silently"},
    {"isolation.level", "read_committed", "aborted transactions must never become rows"},
};

void check_owned_properties(const Properties& properties) {
  for (const auto& [key, value] : properties) {
    for (const auto& owned : k_owned) {
      if (key == owned.name && value != owned.value) {
        throw UsageError(std::string("-X ") + key + "=" + value + " is not allowed for a consumer: " + owned.why +
                         " (it is always " + owned.value + ")");
      }
    }
  }
}

} // namespace

Consumer::Consumer(const ClientSettings& settings, const std::string& group, RebalanceHandler& handler,
                   StatisticsHandler on_statistics)
    : m_settings(settings), m_handler(handler) {
  check_owned_properties(settings.properties);
  Properties defaults{{"group.id", group}};
  for (const auto& owned : k_owned) {
    defaults.emplace_back(owned.name, owned.value);
  }
  // A member that died hands its partitions on after 10 s rather than
  // librdkafka's 45 s; -X session.timeout.ms overrides.
  defaults.emplace_back("session.timeout.ms", "10000");
  defaults.emplace_back("heartbeat.interval.ms", "2000");
  // librdkafka pre-fetches up to 64 MB per consumer by default and the process
  // holds about three times what it queues. 4 MB (about 8000 orders, over one
  // batch) is enough because nudge_fetcher keeps it topped up. Measured in
  // docs/performance.md.
  defaults.emplace_back("queued.max.messages.kbytes", "4096");
  // 1 MB per partition by default: every fetch response then lands megabytes
  // at once, over the queue bound.
  defaults.emplace_back("max.partition.fetch.bytes", "262144");
  if (on_statistics) {
    defaults.emplace_back("statistics.interval.ms", std::to_string(k_statistics_interval.count()));
  }
  ConfPtr conf = make_conf(settings, defaults);
  m_events.attach(conf.get(), this);
  if (on_statistics) {
    m_events.attach_statistics(conf.get(), std::move(on_statistics));
  }
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::Callbacks::rebalance);
  m_handle = make_client(ClientKind::consumer, std::move(conf), "the consumer");
  // One queue for messages, rebalances and errors: everything arrives in poll().
  rd_kafka_poll_set_consumer(m_handle.get());
}

Consumer::~Consumer() {
  if (m_handle && !m_closed) {
    // Leaving the group promptly spares the others a session timeout.
    try {
      close();
    } catch (const std::exception& error) {
      log::warning("consumer", "leaving the group failed", {{"error", error.what()}});
    }
  }
  m_nudge_replies.reset(); // librdkafka wants its queues gone before the handle
  if (m_handle && m_close_abandoned) {
    // rd_kafka_destroy() would wait for the group again, with no limit.
    rd_kafka_destroy_flags(m_handle.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
}

// Called by librdkafka (C code): nothing may unwind through it. A handler's
// exception is kept for poll() to rethrow once librdkafka has returned.
void Consumer::Callbacks::rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* partitions, void* opaque) noexcept {
  auto* self = static_cast<Consumer*>(static_cast<ClientEvents*>(opaque)->owner());
  try {
    std::vector<std::int32_t> ids;
    ids.reserve(static_cast<std::size_t>(partitions->cnt));
    for (int i = 0; i < partitions->cnt; ++i) {
      ids.push_back(partitions->elems[i].partition);
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      log::info("consumer", "partitions assigned", {{"partitions", std::to_string(ids.size())}});
      if (!self->m_handler_error) {
        self->m_handler.on_assign(ids);
      }
      return;
    }
    log::info("consumer", "partitions revoked", {{"partitions", std::to_string(ids.size())}});
    self->m_handler.on_revoke(ids);
  } catch (...) {
    if (!self->m_handler_error) {
      self->m_handler_error = std::current_exception();
    }
  }
  if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(handle, nullptr);
  }
}

void Consumer::subscribe(const std::string& topic) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  check(rd_kafka_subscribe(m_handle.get(), list.get()), "cannot subscribe to " + topic);
}

Message Consumer::poll(std::chrono::milliseconds timeout) {
  Message message(rd_kafka_consumer_poll(m_handle.get(), static_cast<int>(timeout.count())));
  if (m_handler_error) {
    std::rethrow_exception(std::exchange(m_handler_error, nullptr));
  }
  std::array<char, 512> reason{};
  if (const auto code = rd_kafka_fatal_error(m_handle.get(), reason.data(), reason.size()); code) {
    throw KafkaError(std::string("fatal consumer error (") + rd_kafka_err2name(code) + "): " + reason.data(), code,
                     true);
  }
  return message;
}

void Consumer::assign(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets, bool hold) {
  const auto list = make_list(topic, offsets);
  check(rd_kafka_assign(m_handle.get(), list.get()), "cannot assign partitions of " + topic);
  // librdkafka keeps a partition's application pause across unassign and
  // assign: one paused before a rebalance (a batch rewound while it was being
  // revoked) would stay silent in the new assignment. Every partition's state
  // is set here.
  if (list->cnt > 0) {
    if (hold) {
      rd_kafka_pause_partitions(m_handle.get(), list.get());
    } else {
      rd_kafka_resume_partitions(m_handle.get(), list.get());
    }
  }
}

void Consumer::reassign(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets,
                        const std::vector<std::int32_t>& held) {
  const auto list = make_list(topic, offsets);
  check(rd_kafka_assign(m_handle.get(), list.get()), "cannot assign partitions of " + topic);
  std::vector<std::int32_t> running;
  for (const auto& [partition, offset] : offsets) {
    if (std::find(held.begin(), held.end(), partition) == held.end()) {
      running.push_back(partition);
    }
  }
  pause(topic, held);
  resume(topic, running);
}

void Consumer::pause(const std::string& topic, const std::vector<std::int32_t>& partitions) {
  if (!partitions.empty()) {
    rd_kafka_pause_partitions(m_handle.get(), make_list(topic, partitions).get());
  }
}

void Consumer::resume(const std::string& topic, const std::vector<std::int32_t>& partitions) {
  if (!partitions.empty()) {
    rd_kafka_resume_partitions(m_handle.get(), make_list(topic, partitions).get());
  }
}

void Consumer::nudge_fetcher() {
  if (!m_nudge_replies) {
    m_nudge_replies.reset(rd_kafka_queue_new(m_handle.get()));
  }
  while (EventPtr reply{rd_kafka_queue_poll(m_nudge_replies.get(), 0)}) {
    --m_nudges_in_flight;
  }
  if (m_nudges_in_flight >= 2) {
    return;
  }
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(m_handle.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS));
  std::array<char, 256> error{};
  rd_kafka_AdminOptions_set_request_timeout(options.get(), 5000, error.data(), error.size());
  rd_kafka_ListConsumerGroups(m_handle.get(), options.get(), m_nudge_replies.get());
  ++m_nudges_in_flight;
}

std::optional<std::pair<std::int64_t, std::int64_t>> Consumer::cached_watermarks(const std::string& topic,
                                                                                  std::int32_t partition) const {
  std::int64_t low = -1;
  std::int64_t high = -1;
  if (rd_kafka_get_watermark_offsets(m_handle.get(), topic.c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      low < 0 || high < 0) {
    return std::nullopt;
  }
  return std::make_pair(low, high);
}

std::optional<std::int64_t> Consumer::cached_log_end(const std::string& topic, std::int32_t partition) const {
  std::int64_t low = -1;
  std::int64_t high = -1;
  if (rd_kafka_get_watermark_offsets(m_handle.get(), topic.c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return std::nullopt;
  }
  return high;
}

Watermarks Consumer::query_watermarks(const std::string& topic, std::int32_t partition,
                                     std::chrono::milliseconds timeout) {
  return kafka::query_watermarks(m_handle.get(), topic, partition, timeout);
}

void Consumer::commit_async(const std::string& topic, const std::map<std::int32_t, std::int64_t>& next_offsets) {
  if (next_offsets.empty()) {
    return;
  }
  const auto list = make_list(topic, next_offsets);
  if (const auto err = rd_kafka_commit(m_handle.get(), list.get(), 1); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    log::debug("consumer", "offset commit to Kafka not sent", {{"error", rd_kafka_err2name(err)}});
  }
}

std::vector<std::int32_t> Consumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  std::vector<std::int32_t> result;
  if (rd_kafka_assignment(m_handle.get(), &raw) == RD_KAFKA_RESP_ERR_NO_ERROR && raw != nullptr) {
    const PartitionListPtr list(raw);
    for (int i = 0; i < list->cnt; ++i) {
      result.push_back(list->elems[i].partition);
    }
  }
  return result;
}

void Consumer::close() {
  if (m_closed) {
    return;
  }
  m_closed = true;
  // rd_kafka_consumer_close() waits, with no limit, for the coordinator to
  // confirm the leave; a coordinator that died mid-rebalance can stretch that
  // forever. The same close, served here with a deadline. Everything the
  // consumer queue still holds arrives here as an event: a rebalance runs the
  // callback (the revoke handler included), fetched messages and errors are
  // dropped (the consumer is leaving; what was not stored is read again).
  const QueuePtr queue(rd_kafka_queue_new(m_handle.get()));
  if (const ErrorPtr error(rd_kafka_consumer_close_queue(m_handle.get(), queue.get())); error) {
    throw make_error("leaving the consumer group", error.get());
  }
  const auto deadline = std::chrono::steady_clock::now() + k_close_timeout;
  while (rd_kafka_consumer_closed(m_handle.get()) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      m_close_abandoned = true;
      log::warning("consumer", "the group did not confirm the leave; leaving without it (its partitions move on "
                               "after the session timeout)",
                   {{"waited_ms", std::to_string(k_close_timeout.count())}});
      break;
    }
    const EventPtr event(rd_kafka_queue_poll(queue.get(), 100));
    if (event && rd_kafka_event_type(event.get()) == RD_KAFKA_EVENT_REBALANCE) {
      Callbacks::rebalance(m_handle.get(), rd_kafka_event_error(event.get()),
                           rd_kafka_event_topic_partition_list(event.get()), &m_events);
    }
  }
  if (m_handler_error) {
    std::rethrow_exception(std::exchange(m_handler_error, nullptr));
  }
}

} // namespace foodpipe::kafka
