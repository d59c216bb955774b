#pragma once

// Reads fixed offset ranges of a topic's partitions without a consumer group
// (assign, not subscribe): for audits, `inspect messages`, replays and tests.
// Nothing is committed anywhere. Not thread-safe.
//
// Offsets are not contiguous in a real topic, and the reader follows the log
// as the broker serves it:
//   - isolation.level=read_committed, always (a -X setting cannot change it):
//     records of aborted transactions are never visited, and reading stops at
//     the last stable offset, so an open transaction holds the rest back;
//   - transaction markers, aborted records and keys removed by compaction are
//     offsets without a message: they are passed over, never waited for;
//   - offsets below the log start (removed by retention or
//     kafka-delete-records) are reported as gone, and reading continues at
//     the log start.
// A range ends as soon as the log says it is done: a message at or past its
// end, or the end of the partition (librdkafka's PARTITION_EOF, whose offset
// is the fetch position, already past markers and holes) at or past its end.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kafka/client_events.hpp"
#include "kafka/config.hpp"
#include "kafka/handles.hpp"
#include "kafka/message.hpp"

namespace foodpipe::kafka {

struct Watermarks {
  std::int64_t low = 0;  // the first offset still in the log
  // The end of what can be read: the last stable offset (read_committed; an
  // open transaction holds it back), which is the offset the next message
  // will get when no transaction is open.
  std::int64_t high = 0;
};

// The watermarks of one partition as its leader reports them, asked through
// any client handle of lib/kafka's (rd_kafka_query_watermark_offsets).
// Throws KafkaError "cannot read the offsets of topic/partition: why".
[[nodiscard]] Watermarks query_watermarks(rd_kafka_t* handle, const std::string& topic, std::int32_t partition,
                                          std::chrono::milliseconds timeout);

struct PartitionRange {
  std::int32_t partition = 0;
  std::int64_t from = 0; // first offset to read
  std::int64_t to = 0;   // one past the last offset to read
};

// The offsets [from, to) of one partition.
struct OffsetSpan {
  std::int64_t from = 0;
  std::int64_t to = 0; // exclusive
  [[nodiscard]] std::uint64_t count() const noexcept {
    return to > from ? static_cast<std::uint64_t>(to - from) : 0U;
  }
  friend bool operator==(const OffsetSpan&, const OffsetSpan&) = default;
};

// How the read of one PartitionRange ended.
enum class RangeEnd {
  complete, // every offset of [from, to) was read, passed over or gone
  log_end,  // the log ended at `end` < to: the last stable offset (an open
            // transaction holds the rest back until it ends) or the log end
            // (a topic shorter than asked: recreated?). [end, to) was not read.
  stopped   // the visitor stopped the read; [end, to) was not read
};

struct RangeOutcome {
  std::int32_t partition = 0;
  std::int64_t from = 0; // as asked
  std::int64_t to = 0;   // as asked (exclusive)
  std::int64_t end = 0;  // where reading ended (exclusive): `to` when complete
  RangeEnd ended = RangeEnd::complete;
  std::uint64_t messages = 0; // visited
  // Offsets the log no longer held when the reader got there (retention or
  // kafka-delete-records moved the log start past them), ascending. Normally
  // one span starting at `from`; another when the log start overtakes a slow read.
  std::vector<OffsetSpan> gone;

  [[nodiscard]] std::uint64_t gone_count() const noexcept;
  // Offsets of [from, end) that were neither visited nor gone: transaction
  // markers, aborted records, keys removed by compaction.
  [[nodiscard]] std::uint64_t without_message() const noexcept;
};

struct ReadResult {
  std::vector<RangeOutcome> ranges; // one per non-empty range, in the order given
  std::uint64_t visited = 0;        // messages, over all ranges
  bool stopped = false;             // the visitor returned false

  // Every range complete (nothing left unread).
  [[nodiscard]] bool complete() const noexcept;
};

class Reader {
public:
  // Called per message; return false to stop reading.
  using Visitor = std::function<bool(MessageView)>;

  explicit Reader(const ClientSettings& settings);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Low and high watermark of one partition. Throws KafkaError.
  // Caution: librdkafka before 2.3.0 waits here past `timeout`, until the
  // broker returns, when the partition's leader has just gone away and the
  // metadata still names it (librdkafka issue #2588); see try_watermarks.
  [[nodiscard]] Watermarks watermarks(const std::string& topic, std::int32_t partition,
                                      std::chrono::milliseconds timeout);

  // The same (ListOffsets for the earliest and the latest offset, under
  // read_committed), but never longer than `timeout` whatever the brokers do:
  // nullopt when the leader did not answer in time (a broker that is down,
  // still named leader until the controller fences it). Throws KafkaError for
  // an error the leader reported or a partition without a leader.
  [[nodiscard]] std::optional<Watermarks> try_watermarks(const std::string& topic, std::int32_t partition,
                                                         std::chrono::milliseconds timeout);

  // For each partition (key) and time (value, milliseconds since the epoch):
  // the first offset whose message timestamp is >= the time, or the
  // partition's high watermark when no message is that late (a time in the
  // future). Throws KafkaError.
  [[nodiscard]] std::map<std::int32_t, std::int64_t> offsets_for_times(
      const std::string& topic, const std::map<std::int32_t, std::int64_t>& times, std::chrono::milliseconds timeout);

  // The partition ids of a topic, ascending. Throws KafkaError when the topic
  // does not exist or no broker answers within `timeout`.
  [[nodiscard]] std::vector<std::int32_t> partitions(const std::string& topic, std::chrono::milliseconds timeout);

  // Reads every range (empty ranges are skipped; at most one range per
  // partition, else std::invalid_argument), visiting each message in offset
  // order within its partition, and says how each range ended. What callers
  // do with the outcomes: count without_message() as offsets that hold no
  // message (never a problem); report `gone` as data removed before it could
  // be read; treat RangeEnd::log_end as "not readable yet" (run again once
  // the transaction ends) or, past the log end, as a topic that changed.
  // On a healthy broker a range never waits for `idle_timeout`: that is for
  // a partition making no progress at all (broker gone, leader lost), and
  // throws KafkaError; so does an error the broker reports for a partition.
  // A range should start at or below the last stable offset (watermarks().high),
  // as every range taken from watermarks() or from a consumer's offsets does.
  ReadResult read(const std::string& topic, const std::vector<PartitionRange>& ranges, const Visitor& visit,
                  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30));

private:
  class RangeRead; // one read()'s state (reader.cpp)

  void assign(const std::string& topic, const std::vector<PartitionRange>& ranges);

  ClientSettings m_settings;
  ClientEvents m_events;
  HandlePtr m_handle;
};

} // namespace foodpipe::kafka
