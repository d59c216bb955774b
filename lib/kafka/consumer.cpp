#include "kafka/consumer.hpp"

#include <array>

#include "core/log.hpp"
#include "kafka/error.hpp"

namespace foodpipe::kafka {
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

} // namespace

Consumer::Consumer(const ClientSettings& settings, const std::string& group, const std::string& auto_offset_reset,
                   RebalanceHandler& handler)
    : m_settings(settings), m_handler(handler) {
  ConfPtr conf = make_conf(settings, {{"group.id", group},
                                      {"enable.auto.commit", "false"},
                                      {"enable.auto.offset.store", "false"},
                                      {"auto.offset.reset", auto_offset_reset},
                                      {"enable.partition.eof", "false"},
                                      // A member that died hands its partitions on after 10 s rather
                                      // than librdkafka's 45 s; -X session.timeout.ms overrides.
                                      {"session.timeout.ms", "10000"},
                                      {"heartbeat.interval.ms", "2000"},
                                      // librdkafka pre-fetches up to 64 MB per consumer by default and
                                      // the process holds about three times what it queues. 4 MB (about
                                      // 8000 orders, over one batch) is enough because nudge_fetcher
                                      // keeps it topped up. Measured in docs/performance.md.
                                      {"queued.max.messages.kbytes", "4096"},
                                      // 1 MB per partition by default: every fetch response then
                                      // lands megabytes at once, over the queue bound.
                                      {"max.partition.fetch.bytes", "262144"}});
  m_events.attach(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::rebalance_trampoline);
  std::array<char, 512> error{};
  m_handle.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size()));
  if (!m_handle) {
    throw KafkaError(std::string("cannot create the consumer: ") + error.data(), RD_KAFKA_RESP_ERR__INVALID_ARG);
  }
  (void)conf.release(); // owned by the rd_kafka_t now
  // One queue for messages, rebalances and errors: everything arrives in poll().
  rd_kafka_poll_set_consumer(m_handle.get());
}

Consumer::~Consumer() {
  if (m_handle && !m_closed) {
    // Leaving the group promptly spares the others a session timeout.
    rd_kafka_consumer_close(m_handle.get());
  }
}

void Consumer::rebalance_trampoline(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<Consumer*>(static_cast<ClientEvents*>(opaque)->owner());
  std::vector<std::int32_t> ids;
  for (int i = 0; i < partitions->cnt; ++i) {
    ids.push_back(partitions->elems[i].partition);
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    log::info("consumer", "partitions assigned", {{"partitions", std::to_string(ids.size())}});
    self->m_handler.on_assign(ids);
  } else {
    log::info("consumer", "partitions revoked", {{"partitions", std::to_string(ids.size())}});
    try {
      self->m_handler.on_revoke(ids);
    } catch (const std::exception& error) {
      log::error("consumer", "while giving up partitions", {{"error", error.what()}});
    }
    rd_kafka_assign(handle, nullptr);
  }
}

void Consumer::subscribe(const std::string& topic) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  check(rd_kafka_subscribe(m_handle.get(), list.get()), "cannot subscribe to " + topic);
}

MessagePtr Consumer::poll(std::chrono::milliseconds timeout) {
  MessagePtr message(rd_kafka_consumer_poll(m_handle.get(), static_cast<int>(timeout.count())));
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
  if (hold && list->cnt > 0) {
    rd_kafka_pause_partitions(m_handle.get(), list.get());
  }
}

void Consumer::seek_and_resume(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets) {
  if (offsets.empty()) {
    return;
  }
  const auto list = make_list(topic, offsets);
  if (ErrorPtr error(rd_kafka_seek_partitions(m_handle.get(), list.get(), 10'000)); error) {
    throw make_error("cannot seek " + topic, error.get());
  }
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaError("cannot seek " + topic + "/" + std::to_string(list->elems[i].partition) + ": " +
                           rd_kafka_err2str(list->elems[i].err),
                       list->elems[i].err);
    }
  }
  rd_kafka_resume_partitions(m_handle.get(), list.get());
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

void Consumer::nudge_fetcher(const std::string& topic, const std::vector<std::int32_t>& partitions) {
  if (partitions.empty()) {
    return;
  }
  const std::int32_t partition = partitions[m_next_nudge++ % partitions.size()];
  std::int64_t low = 0;
  std::int64_t high = 0;
  (void)rd_kafka_query_watermark_offsets(m_handle.get(), topic.c_str(), partition, &low, &high, 1000);
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
  check(rd_kafka_consumer_close(m_handle.get()), "leaving the consumer group");
}

} // namespace foodpipe::kafka
