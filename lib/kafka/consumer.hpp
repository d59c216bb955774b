#pragma once

// A group consumer over librdkafka's C API whose offsets live elsewhere (in
// PostgreSQL, for foodpipe): auto commit and auto offset store are off, and
// the owner decides where each assigned partition starts.
//
// Rebalances (eager protocol) reach the owner's RebalanceHandler from inside
// poll(), on the polling thread:
//   on_assign(partitions): the owner calls assign() with a start offset for
//     each, now or, when it cannot know them yet, with hold=true and later
//     seek()+resume();
//   on_revoke(partitions): the owner finishes or drops its work for them; the
//     consumer unassigns when the handler returns.
// Threading: one thread calls everything.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kafka/client_events.hpp"
#include "kafka/config.hpp"
#include "kafka/handles.hpp"

namespace foodpipe::kafka {

class RebalanceHandler {
public:
  virtual ~RebalanceHandler() = default;
  virtual void on_assign(const std::vector<std::int32_t>& partitions) = 0;
  virtual void on_revoke(const std::vector<std::int32_t>& partitions) = 0;
};

// Logical start offsets librdkafka understands.
inline constexpr std::int64_t k_offset_beginning = RD_KAFKA_OFFSET_BEGINNING;
inline constexpr std::int64_t k_offset_end = RD_KAFKA_OFFSET_END;

class Consumer {
public:
  // `from`: where a partition starts when the owner has no offset and asks for
  // k_offset_beginning/k_offset_end; also auto.offset.reset ("earliest" or
  // "latest") for an offset outside the log. Throws UsageError for refused
  // properties, KafkaError when the client cannot be created.
  Consumer(const ClientSettings& settings, const std::string& group, const std::string& auto_offset_reset,
           RebalanceHandler& handler);
  // Leaves the group without committing (close() is the orderly way); never throws.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void subscribe(const std::string& topic);

  // The next message or event (nullptr after `timeout`). Messages with err set
  // are returned as they are (partition EOF, errors). Rebalance handlers run
  // inside. Throws KafkaError when librdkafka raised a fatal error.
  MessagePtr poll(std::chrono::milliseconds timeout);

  // Sets the assignment (the whole of it, eager protocol) with each partition's
  // start offset. With hold=true the partitions are paused right away: the
  // owner seeks and resumes them once it knows where to start.
  void assign(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets, bool hold = false);

  // Moves the fetch position (discarding anything already fetched) and resumes.
  void seek_and_resume(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets);

  void pause(const std::string& topic, const std::vector<std::int32_t>& partitions);
  void resume(const std::string& topic, const std::vector<std::int32_t>& partitions);

  // Makes the fetcher look at its pre-fetch queue now, after the application
  // has taken a batch out of it. librdkafka before 2.2 stops fetching while the
  // queue is over queued.max.messages.kbytes and looks again only when its
  // broker thread next wakes: up to a second later, long enough for a fast
  // consumer to drain a small queue and idle. A watermark query is a request
  // to the partition's leader whose reply wakes that thread; it reads
  // nothing the consumer depends on and moves no position (unlike a
  // resume or seek, which restart the fetch). Queries one partition per call,
  // in turn; waits at most a second for the reply (only a broker in trouble
  // takes that long). Errors are ignored: the fetcher then wakes on its own.
  void nudge_fetcher(const std::string& topic, const std::vector<std::int32_t>& partitions);

  // Commits offsets to Kafka asynchronously (for Kafka's own tools to show lag);
  // failures are logged, never thrown.
  void commit_async(const std::string& topic, const std::map<std::int32_t, std::int64_t>& next_offsets);

  // The partitions currently assigned.
  [[nodiscard]] std::vector<std::int32_t> assignment() const;

  // Leaves the group (runs the revoke handler) and closes; may throw KafkaError.
  void close();

  [[nodiscard]] const ClientEvents& events() const noexcept { return m_events; }
  [[nodiscard]] rd_kafka_t* handle() const noexcept { return m_handle.get(); }

private:
  static void rebalance_trampoline(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* partitions, void* opaque);

  ClientSettings m_settings;
  ClientEvents m_events;
  RebalanceHandler& m_handler;
  HandlePtr m_handle;
  bool m_closed = false;
  std::size_t m_next_nudge = 0; // nudge_fetcher's turn
};

} // namespace foodpipe::kafka
