#include "kafka/reader.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>

#include "kafka/error.hpp"

namespace foodpipe::kafka {

Reader::Reader(const ClientSettings& settings) : m_settings(settings) {
  // librdkafka 2.0 wants a group.id even for assign(); with assign and no
  // commits the group never reaches the broker.
  // fetch.wait.max.ms: at the end of a partition the broker answers an empty
  // fetch after this long, and that answer is what ends a range whose last
  // offsets hold no message.
  ConfPtr conf = make_conf(settings, {{"group.id", "foodpipe-reader"},
                                      {"enable.auto.commit", "false"},
                                      {"enable.auto.offset.store", "false"},
                                      {"fetch.wait.max.ms", "100"}});
  // What read() relies on, set after the user's -X properties so that none
  // can change it.
  for (const auto& [key, value] : Properties{{"enable.partition.eof", "true"},
                                             {"auto.offset.reset", "error"},
                                             {"isolation.level", "read_committed"}}) {
    std::array<char, 512> error{};
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw KafkaError("cannot configure a Kafka reader: " + std::string(error.data()), RD_KAFKA_RESP_ERR__INVALID_ARG);
    }
  }
  m_events.attach(conf.get(), this);
  m_handle = make_client(ClientKind::consumer, std::move(conf), "a Kafka reader");
}

Reader::~Reader() {
  if (m_handle) {
    rd_kafka_assign(m_handle.get(), nullptr);
  }
}

Watermarks query_watermarks(rd_kafka_t* handle, const std::string& topic, std::int32_t partition,
                            std::chrono::milliseconds timeout) {
  Watermarks marks;
  const auto err = rd_kafka_query_watermark_offsets(handle, topic.c_str(), partition, &marks.low, &marks.high,
                                                    static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError("cannot read the offsets of " + topic + "/" + std::to_string(partition) + ": " +
                         rd_kafka_err2str(err),
                     err);
  }
  return marks;
}

Watermarks Reader::watermarks(const std::string& topic, std::int32_t partition, std::chrono::milliseconds timeout) {
  m_events.await_usable_broker(m_handle.get(), m_settings.bootstrap_servers, timeout);
  try {
    return query_watermarks(m_handle.get(), topic, partition, timeout);
  } catch (const KafkaError& error) {
    if (error.code() == RD_KAFKA_RESP_ERR__TRANSPORT || error.code() == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), error.code(), false, true);
    }
    throw;
  }
}

std::optional<Watermarks> Reader::try_watermarks(const std::string& topic, std::int32_t partition,
                                                std::chrono::milliseconds timeout) {
  // rd_kafka_offsets_for_times, unlike rd_kafka_query_watermark_offsets in
  // librdkafka 2.0, keeps to its timeout; -2 and -1 ask for the earliest and
  // the latest offset.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Watermarks marks;
  for (const auto& [which, mark] : {std::pair{RD_KAFKA_OFFSET_BEGINNING, &marks.low},
                                    std::pair{RD_KAFKA_OFFSET_END, &marks.high}}) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = which;
    auto err = rd_kafka_offsets_for_times(m_handle.get(), list.get(), static_cast<int>(left.count()));
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
      return std::nullopt;
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      err = list->elems[0].err;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaError("cannot read the offsets of " + topic + "/" + std::to_string(partition) + ": " +
                           rd_kafka_err2str(err),
                       err);
    }
    *mark = list->elems[0].offset;
  }
  // As rd_kafka_query_watermark_offsets: an empty partition may report only its end.
  if (marks.low < 0 && marks.high >= 0) {
    marks.low = marks.high;
  }
  return marks;
}

std::map<std::int32_t, std::int64_t> Reader::offsets_for_times(const std::string& topic,
                                                             const std::map<std::int32_t, std::int64_t>& times,
                                                             std::chrono::milliseconds timeout) {
  std::map<std::int32_t, std::int64_t> offsets;
  if (times.empty()) {
    return offsets;
  }
  m_events.await_usable_broker(m_handle.get(), m_settings.bootstrap_servers, timeout);
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(times.size())));
  for (const auto& [partition, time] : times) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = time;
  }
  const auto err = rd_kafka_offsets_for_times(m_handle.get(), list.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), err, false, true);
    }
    throw KafkaError("cannot look up offsets by time in " + topic + ": " + rd_kafka_err2str(err), err);
  }
  for (int i = 0; i < list->cnt; ++i) {
    const auto& element = list->elems[i];
    if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw KafkaError("cannot look up offsets by time in " + topic + "/" + std::to_string(element.partition) + ": " +
                           rd_kafka_err2str(element.err),
                       element.err);
    }
    // -1 (OFFSET_END): no message at or after that time.
    offsets[element.partition] =
        element.offset >= 0 ? element.offset : watermarks(topic, element.partition, timeout).high;
  }
  return offsets;
}

std::vector<std::int32_t> Reader::partitions(const std::string& topic, std::chrono::milliseconds timeout) {
  m_events.await_usable_broker(m_handle.get(), m_settings.bootstrap_servers, timeout);
  rd_kafka_topic_t* handle = rd_kafka_topic_new(m_handle.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(m_handle.get(), 0, handle, &raw, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError(unreachable_message(m_settings.bootstrap_servers, m_events), err, false, true);
  }
  const MetadataPtr metadata(raw);
  std::vector<std::int32_t> ids;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const auto& info = metadata->topics[t];
    if (info.err != RD_KAFKA_RESP_ERR_NO_ERROR || info.partition_cnt == 0) {
      throw KafkaError("topic " + topic + " does not exist at " + m_settings.bootstrap_servers + "; check --topic",
                       info.err != RD_KAFKA_RESP_ERR_NO_ERROR ? info.err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                       true);
    }
    for (int p = 0; p < info.partition_cnt; ++p) {
      ids.push_back(info.partitions[p].id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::uint64_t RangeOutcome::gone_count() const noexcept {
  std::uint64_t count = 0;
  for (const auto& span : gone) {
    count += span.count();
  }
  return count;
}

std::uint64_t RangeOutcome::without_message() const noexcept {
  const auto covered = end > from ? static_cast<std::uint64_t>(end - from) : 0U;
  const auto accounted = messages + gone_count();
  return covered > accounted ? covered - accounted : 0U;
}

bool ReadResult::complete() const noexcept {
  return std::all_of(ranges.begin(), ranges.end(),
                     [](const RangeOutcome& range) { return range.ended == RangeEnd::complete; });
}

void Reader::assign(const std::string& topic, const std::vector<PartitionRange>& ranges) {
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size())));
  for (const auto& range : ranges) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), range.partition)->offset = range.from;
  }
  if (const auto err = rd_kafka_assign(m_handle.get(), assignment.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw KafkaError("cannot assign " + topic + ": " + rd_kafka_err2str(err), err);
  }
  // A pause outlives the assignment: undo those of an earlier read().
  (void)rd_kafka_resume_partitions(m_handle.get(), assignment.get());
}

// One read(): the ranges still open, each with its outcome and the next offset
// to visit, and what each kind of event from the fetcher does to them.
class Reader::RangeRead {
public:
  RangeRead(Reader& reader, const std::string& topic, const std::vector<PartitionRange>& ranges,
            const Visitor& visit, std::chrono::milliseconds idle_timeout)
      : m_reader(reader), m_topic(topic), m_visit(visit), m_idle_timeout(idle_timeout) {
    for (const auto& range : ranges) {
      if (range.to <= range.from) {
        continue;
      }
      if (!m_open.emplace(range.partition, Open{m_result.ranges.size(), range.from, 0}).second) {
        throw std::invalid_argument("Reader::read: two ranges for partition " + std::to_string(range.partition));
      }
      RangeOutcome outcome;
      outcome.partition = range.partition;
      outcome.from = range.from;
      outcome.to = range.to;
      outcome.end = range.from;
      m_result.ranges.push_back(outcome);
    }
  }

  ReadResult run() {
    if (m_open.empty()) {
      return std::move(m_result);
    }
    assign_open();
    auto last_progress = std::chrono::steady_clock::now();
    while (!m_open.empty()) {
      MessagePtr message(rd_kafka_consumer_poll(m_reader.m_handle.get(), 100));
      const auto now = std::chrono::steady_clock::now();
      if (!message) {
        if (now - last_progress > m_idle_timeout) {
          throw KafkaError("no progress reading " + m_topic + " for " +
                               std::to_string(m_idle_timeout.count() / 1000) + " s: " +
                               unreachable_message(m_reader.m_settings.bootstrap_servers, m_reader.m_events),
                           RD_KAFKA_RESP_ERR__TIMED_OUT);
        }
        continue;
      }
      const auto it = m_open.find(message->partition);
      if (it == m_open.end()) {
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && message->rkt == nullptr) {
          // Not about a partition: the client's own failure.
          throw KafkaError("reading " + m_topic + ": " + rd_kafka_message_errstr(message.get()), message->err);
        }
        continue; // a finished range's partition, before the pause took effect
      }
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        on_end_of_partition(it, message->offset);
      } else if (message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
        on_offset_reset(it, *message);
      } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw KafkaError("reading " + m_topic + "/" + std::to_string(message->partition) + ": " +
                             rd_kafka_message_errstr(message.get()),
                         message->err);
      } else {
        on_message(it, *message);
      }
      last_progress = now;
    }
    rd_kafka_assign(m_reader.m_handle.get(), nullptr);
    return std::move(m_result);
  }

private:
  struct Open {
    std::size_t outcome = 0;
    std::int64_t position = 0;
    int resets = 0; // offset resets that did not move the position (see on_offset_reset)
  };
  using OpenRange = std::map<std::int32_t, Open>::iterator;

  void assign_open() {
    std::vector<PartitionRange> positions;
    for (const auto& [partition, state] : m_open) {
      positions.push_back({partition, state.position, m_result.ranges[state.outcome].to});
    }
    m_reader.assign(m_topic, positions);
  }

  // Ends a range; its partition is paused so that the fetcher stops reading it.
  void finish(OpenRange it, RangeEnd how, std::int64_t end) {
    auto& outcome = m_result.ranges[it->second.outcome];
    outcome.ended = how;
    outcome.end = how == RangeEnd::complete ? outcome.to : std::min(end, outcome.to);
    PartitionListPtr paused(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(paused.get(), m_topic.c_str(), it->first);
    (void)rd_kafka_pause_partitions(m_reader.m_handle.get(), paused.get());
    m_open.erase(it);
  }

  // The fetch position reached what the log holds (the last stable offset):
  // every message below it has been delivered.
  void on_end_of_partition(OpenRange it, std::int64_t offset) {
    const auto& outcome = m_result.ranges[it->second.outcome];
    finish(it, offset >= outcome.to ? RangeEnd::complete : RangeEnd::log_end,
           std::max(offset, it->second.position));
  }

  // The position is outside the log (auto.offset.reset=error stopped the
  // partition): below the log start the offsets are gone, past the end the
  // log is shorter than the range.
  void on_offset_reset(OpenRange it, const rd_kafka_message_t& message) {
    auto& state = it->second;
    auto& outcome = m_result.ranges[state.outcome];
    const auto marks =
        m_reader.watermarks(m_topic, it->first, std::max(m_idle_timeout, std::chrono::milliseconds(1000)));
    if (state.position < marks.low) {
      outcome.gone.push_back({state.position, std::min(marks.low, outcome.to)});
      if (marks.low >= outcome.to) {
        finish(it, RangeEnd::complete, outcome.to);
        return;
      }
      state.position = marks.low;
      state.resets = 0;
    } else if (state.position >= marks.high) {
      finish(it, RangeEnd::log_end, state.position);
      return;
    } else if (++state.resets > 3) {
      // Back inside the log by now, yet refused again and again.
      throw KafkaError("reading " + m_topic + "/" + std::to_string(it->first) + " at offset " +
                           std::to_string(state.position) + ": " + rd_kafka_message_errstr(&message),
                       message.err);
    }
    // The reset partition stays stopped until assigned again; assigning
    // every open range at its position reads nothing twice and loses nothing.
    assign_open();
  }

  void on_message(OpenRange it, rd_kafka_message_t& message) {
    auto& state = it->second;
    auto& outcome = m_result.ranges[state.outcome];
    if (message.offset < state.position) {
      return; // already visited (not expected from librdkafka; never visit twice)
    }
    if (message.offset >= outcome.to) {
      finish(it, RangeEnd::complete, outcome.to);
      return;
    }
    ++outcome.messages;
    ++m_result.visited;
    state.position = message.offset + 1;
    outcome.end = state.position;
    if (!m_visit(MessageView(message))) {
      stop_all();
      return;
    }
    if (state.position >= outcome.to) {
      finish(it, RangeEnd::complete, outcome.to);
    }
  }

  // The visitor said stop: every open range ends where it stands.
  void stop_all() {
    m_result.stopped = true;
    for (auto& [partition, left] : m_open) {
      auto& stopped = m_result.ranges[left.outcome];
      stopped.ended = RangeEnd::stopped;
      stopped.end = left.position;
    }
    m_open.clear();
  }

  Reader& m_reader;
  const std::string& m_topic;
  const Visitor& m_visit;
  std::chrono::milliseconds m_idle_timeout;
  ReadResult m_result;
  std::map<std::int32_t, Open> m_open;
};

ReadResult Reader::read(const std::string& topic, const std::vector<PartitionRange>& ranges, const Visitor& visit,
                        std::chrono::milliseconds idle_timeout) {
  return RangeRead(*this, topic, ranges, visit, idle_timeout).run();
}

} // namespace foodpipe::kafka
