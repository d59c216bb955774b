#pragma once

// The pure decisions of replay, inspect --verify and inspect messages: which
// offsets to read, worked out from a partition's log bounds and what was asked,
// and the time syntax of --from-time, --to-time and --to-datetime. No I/O, so
// they are unit tested (test/unit/pipeline_range_plan_test.cpp).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafka/reader.hpp"

namespace foodpipe::pipeline {

struct ReplayStart {
  enum class Kind { beginning, offset, time };
  Kind kind = Kind::beginning;
  std::int64_t offset = 0;  // Kind::offset
  std::int64_t time_ms = 0; // Kind::time, milliseconds since the epoch
};

struct ReplayEnd {
  enum class Kind { log_end, offset, time, count };
  Kind kind = Kind::log_end;
  std::int64_t offset = 0;  // Kind::offset: exclusive
  std::int64_t time_ms = 0; // Kind::time: exclusive (messages before this time)
  std::uint64_t count = 0;  // Kind::count: per partition
};

struct ReplayRange {
  std::int32_t partition = 0;
  std::int64_t from = 0;
  std::int64_t to = 0; // exclusive
  // Offsets in the range: an upper bound on its messages (some offsets may hold none).
  [[nodiscard]] std::uint64_t count() const noexcept {
    return to > from ? static_cast<std::uint64_t>(to - from) : 0U;
  }
};

// Offsets [from, to) of one partition.
struct ReplaySpan {
  std::int32_t partition = 0;
  std::int64_t from = 0;
  std::int64_t to = 0; // exclusive
};

// One partition's replay range and the offsets asked for that the log no
// longer holds.
struct ReplayPlan {
  ReplayRange range;
  std::optional<ReplaySpan> gone; // a start offset below the log start, up to what the end would include
};

// The range of `partition`, whose log holds [marks.low, marks.high). The
// start and end are clamped to the log; an end before the start reads
// nothing. `start_by_time` and `end_by_time` are the offsets of the first
// message at or after start.time_ms and end.time_ms (Kafka's offsets for
// times); they are used only for a start or end of Kind::time.
[[nodiscard]] ReplayPlan plan_replay_range(std::int32_t partition, const kafka::Watermarks& marks,
                                           const ReplayStart& start, const ReplayEnd& end,
                                           std::int64_t start_by_time = 0, std::int64_t end_by_time = 0);

// The partitions a replay reads: the ones asked for (all existing ones when
// none was), ascending, each once. Whether they exist is the caller's check.
[[nodiscard]] std::vector<std::int32_t> replay_partitions(const std::vector<std::int32_t>& existing,
                                                          const std::vector<std::int32_t>& requested);

// What inspect --verify reads of a partition whose group stored `next`: from
// the log start (or `next`, when the log starts past it) up to `next`.
[[nodiscard]] kafka::PartitionRange verify_range(std::int32_t partition, const kafka::Watermarks& marks,
                                                 std::int64_t next);

// What inspect messages reads: from `offset` (negative: that many offsets
// before the log end, as kcat -o -N), raised to the log start, up to the log
// end; nullopt when nothing is left to read there.
[[nodiscard]] std::optional<kafka::PartitionRange> messages_range(std::int32_t partition, std::int64_t offset,
                                                                  const kafka::Watermarks& marks);

// Parses --from-time/--to-time: an RFC 3339 time ("2026-12-01T10:00:00Z",
// "...+01:00"; without an offset it is UTC) or a time relative to `now`:
// "-1h", "-30m", "-45s", "-2d" (a number and one unit). nullopt when neither.
[[nodiscard]] std::optional<std::int64_t> parse_replay_time(const std::string& text,
                                                            std::chrono::system_clock::time_point now);

} // namespace foodpipe::pipeline
