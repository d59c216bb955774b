#pragma once

// A group consumer over librdkafka's C API whose offsets live elsewhere (in
// PostgreSQL, for foodpipe): auto commit and auto offset store are off, and
// the owner decides where each assigned partition starts.
//
// It follows the log as the broker serves it. Offsets are not contiguous on
// real topics (transaction markers, aborted transactions, compaction), so
// poll() also returns, as messages with `err` set:
//   RD_KAFKA_RESP_ERR__PARTITION_EOF: the fetcher reached the end of what can
//     be read now; `offset` is its position, which is past any markers and
//     holes at the tail (the last stable offset under read_committed);
//   RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET: `offset` is not in the log any more
//     (retention moved the log start past it, or the log was truncated or
//     recreated below it). Fetching of that partition stops until the owner
//     reassign()s it: nothing is skipped behind its back.
// Only committed data is read (isolation.level=read_committed): records of
// aborted transactions never arrive, and an open transaction holds the
// partition back at its first offset until it ends.
//
// Rebalances (eager protocol) reach the owner's RebalanceHandler from inside
// poll(), on the polling thread:
//   on_assign(partitions): the owner calls assign() with a start offset for
//     each, now or, when it cannot know them yet, with hold=true and later
//     reassign();
//   on_revoke(partitions): the owner finishes or drops its work for them; the
//     consumer unassigns when the handler returns.
// An exception from a handler never unwinds through librdkafka: it is kept
// and rethrown by the poll() that ran the handler (after a failed on_assign
// nothing is fetched; after a failed on_revoke the partitions are unassigned
// all the same).
// Threading: one thread calls everything.

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "kafka/client_events.hpp"
#include "kafka/config.hpp"
#include "kafka/handles.hpp"
#include "kafka/message.hpp"
#include "kafka/reader.hpp"
#include "kafka/statistics.hpp"

namespace foodpipe::kafka {

class RebalanceHandler {
public:
  virtual ~RebalanceHandler() = default;
  virtual void on_assign(const std::vector<std::int32_t>& partitions) = 0;
  virtual void on_revoke(const std::vector<std::int32_t>& partitions) = 0;
};

// Logical start offsets librdkafka understands.
inline constexpr std::int64_t k_offset_beginning = -2; // RD_KAFKA_OFFSET_BEGINNING
inline constexpr std::int64_t k_offset_end = -1;       // RD_KAFKA_OFFSET_END

class Consumer {
public:
  // Throws UsageError for refused properties, among them -X settings that
  // would break the contract above (auto commit, offset store, partition EOF,
  // auto.offset.reset, isolation.level), and KafkaError when the client
  // cannot be created. on_statistics: when set, gets librdkafka's statistics
  // every k_statistics_interval, inside poll() (kafka/statistics.hpp).
  Consumer(const ClientSettings& settings, const std::string& group, RebalanceHandler& handler,
           StatisticsHandler on_statistics = {});
  // Leaves the group without committing (close() is the orderly way); never throws.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void subscribe(const std::string& topic);

  // The next message or event (nullptr after `timeout`). Messages with err set
  // are returned as they are (partition EOF, offset reset, errors). Rebalance
  // handlers run inside; what one threw is rethrown here. Throws KafkaError
  // when librdkafka raised a fatal error.
  Message poll(std::chrono::milliseconds timeout);

  // The low and high watermarks librdkafka last saw in a fetch response for
  // the partition, without asking the broker; nullopt when it has none yet.
  // Right after a message of the partition was polled, `low` is the log start
  // as of the fetch that brought it.
  [[nodiscard]] std::optional<std::pair<std::int64_t, std::int64_t>> cached_watermarks(const std::string& topic,
                                                                                        std::int32_t partition) const;

  // The high watermark alone, as cached_watermarks (a fetch response may
  // carry the end without the start).
  [[nodiscard]] std::optional<std::int64_t> cached_log_end(const std::string& topic, std::int32_t partition) const;

  // The low and high watermarks, asked of the partition's leader (once, at
  // start: librdkafka 2.0 may wait past `timeout` while a dead leader is
  // still in the metadata). Throws KafkaError.
  [[nodiscard]] Watermarks query_watermarks(const std::string& topic, std::int32_t partition,
                                           std::chrono::milliseconds timeout);

  // Sets the assignment (the whole of it, eager protocol) with each partition's
  // start offset. With hold=true the partitions are paused right away: the
  // owner reassign()s them once it knows where to start. Otherwise each one
  // fetches, even one that was paused when it was last assigned.
  void assign(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets, bool hold = false);

  // Sets the whole assignment again, outside a rebalance: each partition
  // (re)starts at its offset, those in `held` paused. The one way to make a
  // partition fetch again after RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET stopped
  // it (librdkafka 2.0 refuses to seek a stopped partition). Messages fetched
  // before are discarded.
  void reassign(const std::string& topic, const std::map<std::int32_t, std::int64_t>& offsets,
                const std::vector<std::int32_t>& held);

  void pause(const std::string& topic, const std::vector<std::int32_t>& partitions);
  void resume(const std::string& topic, const std::vector<std::int32_t>& partitions);

  // Makes the fetchers look at their pre-fetch queues now, after the
  // application has taken a batch out of them. librdkafka before 2.2 stops
  // fetching a partition while its queue is over queued.max.messages.kbytes
  // and looks again only when the broker's thread next wakes: up to a second
  // later, long enough for a fast consumer to drain a small queue and idle.
  // Any request to a broker wakes its thread; this sends one ListGroups to
  // every broker (librdkafka's asynchronous ListConsumerGroups), which reads
  // nothing the consumer depends on and moves no position (unlike a resume or
  // seek, which restart the fetch). Never blocks: the replies are collected
  // by later calls, and while two nudges are still unanswered (a broker in
  // trouble) it sends none.
  void nudge_fetcher();

  // Commits offsets to Kafka asynchronously (for Kafka's own tools to show lag);
  // failures are logged, never thrown.
  void commit_async(const std::string& topic, const std::map<std::int32_t, std::int64_t>& next_offsets);

  // The partitions currently assigned.
  [[nodiscard]] std::vector<std::int32_t> assignment() const;

  // Leaves the group (runs the revoke handler) and closes, waiting at most
  // k_close_timeout for the coordinator; may throw
  // KafkaError, or rethrow what the revoke handler threw.
  void close();
  static constexpr std::chrono::milliseconds k_close_timeout{15000};

  [[nodiscard]] const ClientEvents& events() const noexcept { return m_events; }
  [[nodiscard]] rd_kafka_t* handle() const noexcept { return m_handle.get(); }

private:
  struct Callbacks; // librdkafka's C callbacks (consumer.cpp)

  ClientSettings m_settings;
  ClientEvents m_events;
  RebalanceHandler& m_handler;
  HandlePtr m_handle;
  std::exception_ptr m_handler_error; // thrown by a rebalance handler, rethrown by poll()
  bool m_closed = false;
  bool m_close_abandoned = false; // the leave went unconfirmed: destroy without waiting again
  QueuePtr m_nudge_replies;     // where nudge_fetcher's requests answer
  int m_nudges_in_flight = 0;
};

} // namespace foodpipe::kafka
