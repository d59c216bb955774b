#pragma once

// Publishes a consumed batch's dead letters to <topic>.dlq while the batch's
// transaction is open, so that the database commits only letters that are on
// the topic too (at least once there, exactly once in the dead_letters table).
//
// Two promises:
//   - A letter is sent once per batch. When a publish fails part-way and the
//     batch is retried, the letters already delivered are not sent again and
//     those still in flight are waited for, not enqueued twice: the DLQ topic
//     gets no duplicates when it recovers. (A batch dropped and re-read later,
//     after a crash or a revocation, is published again: at least once.)
//   - Size never blocks a partition. A letter over the producer's or the
//     topic's limit (librdkafka's message.max.bytes, the topic's
//     max.message.bytes) goes out cut: its value shortened to the first
//     k_preview_bytes (or emptied, with the key, if even that is refused), with
//     headers payload-truncated=true, original-size and original-sha256 (of
//     the whole value). The dead_letters row keeps the whole payload.
//
// Headers of every letter: original-topic, original-partition,
// original-offset, original-timestamp, reason-code, reason-detail,
// consumer-group.
//
// Threading: one thread; delivery reports are served inside publish() and
// poll().

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "db/order_batch.hpp"
#include "kafka/config.hpp"

namespace foodpipe::kafka {
class Producer;
}

namespace foodpipe::pipeline {

class DeadLetterPublisher {
public:
  // A cut letter carries at most this much of its value.
  static constexpr std::size_t k_preview_bytes = 64 * 1024;

  enum class Outcome {
    delivered, // every letter is on the topic
    failed,    // some could not be delivered (topic missing, broker down): retry the batch later
    gave_up,   // keep_waiting() said stop: drop the batch
  };

  // (partition, offset) of a source message -> its timestamp (ms), for the
  // original-timestamp header.
  using Timestamps = std::map<std::pair<std::int32_t, std::int64_t>, std::int64_t>;

  // Throws UsageError for refused -X properties, KafkaError when the producer
  // cannot be created.
  DeadLetterPublisher(const kafka::ClientSettings& settings, const std::string& source_topic, std::string group);
  ~DeadLetterPublisher();
  DeadLetterPublisher(const DeadLetterPublisher&) = delete;
  DeadLetterPublisher& operator=(const DeadLetterPublisher&) = delete;

  // Sends each letter that is neither delivered nor in flight for the current
  // batch and waits, at most `wait`, for every letter's delivery report,
  // asking keep_waiting() about every 100 ms (false: give up). Throws
  // KafkaError on a fatal producer error.
  [[nodiscard]] Outcome publish(const std::vector<db::DeadLetter>& letters, const Timestamps& timestamps,
                                std::chrono::milliseconds wait, const std::function<bool()>& keep_waiting);

  // The batch is over (committed or dropped): the next publish() starts
  // afresh. Reports of letters still in flight are then ignored.
  void forget() noexcept;

  // Serves delivery reports without waiting.
  void poll();

  // Flushes for at most `timeout` and purges what is left.
  void close(std::chrono::milliseconds timeout);

  [[nodiscard]] const std::string& topic() const noexcept { return m_topic; }
  // Letters published cut since the start.
  [[nodiscard]] std::uint64_t truncated() const noexcept { return m_truncated; }

private:
  enum class State { in_flight, delivered, failed };
  struct Letter {
    State state = State::failed;
    int cut = 0;                   // 0 whole, 1 value cut to k_preview_bytes, 2 key and value emptied
    bool refused_for_size = false; // the broker said too large: send again, cut further, at once
  };
  using Position = std::pair<std::int32_t, std::int64_t>;

  void send(const db::DeadLetter& letter, Letter& state, const Timestamps& timestamps);
  void on_delivery(std::uint64_t id, bool delivered, bool too_large, const std::string& error);

  std::string m_topic;
  std::string m_group;
  std::unique_ptr<kafka::Producer> m_producer;
  std::map<Position, Letter> m_letters; // the current batch's
  std::map<std::uint64_t, Position> m_in_flight; // message id -> letter
  std::uint64_t m_next_id = 1;
  std::uint64_t m_truncated = 0;
};

} // namespace foodpipe::pipeline
