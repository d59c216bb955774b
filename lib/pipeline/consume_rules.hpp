#pragma once

// The consumer's pure decisions (pipeline/consume.cpp): when a batch is
// written, how long a poll may wait, and when --until-end is reached. No I/O
// and no clock of their own, so they are unit tested
// (test/unit/pipeline_consume_rules_test.cpp). The per-message ones are inline:
// they run on the consume hot path.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

namespace foodpipe::pipeline {

// Messages --max-messages still allows after `done` (all, without a limit).
[[nodiscard]] constexpr std::uint64_t remaining(const std::optional<std::uint64_t>& max, std::uint64_t done) noexcept {
  return max ? (*max > done ? *max - done : 0) : UINT64_MAX;
}

// Whether the batch in the making is written now. `pending`: it has messages
// or a moved offset; `age`: since its first message or offset move. Due when
// it holds batch_size messages, when --max-messages allows no more
// (`remaining`), or when it is batch_time old.
[[nodiscard]] constexpr bool batch_due(bool pending, std::size_t messages, std::size_t batch_size,
                                       std::uint64_t remaining, std::chrono::steady_clock::duration age,
                                       std::chrono::milliseconds batch_time) noexcept {
  if (!pending) {
    return false;
  }
  return messages >= batch_size || messages >= remaining || age >= batch_time;
}

// The longest wait of one poll: 100 ms, or less when a pending batch falls due
// sooner (never negative).
[[nodiscard]] constexpr std::chrono::milliseconds poll_wait(bool pending, std::chrono::steady_clock::duration age,
                                                            std::chrono::milliseconds batch_time) noexcept {
  using std::chrono::milliseconds;
  constexpr milliseconds k_longest{100};
  if (!pending) {
    return k_longest;
  }
  return std::clamp(std::chrono::duration_cast<milliseconds>(batch_time - age), milliseconds(0), k_longest);
}

using OffsetsByPartition = std::map<std::int32_t, std::int64_t>;

// Stored next offsets beyond the log end at start: the log was recreated or
// truncated under them, so those partitions are not caught up until re-read.
[[nodiscard]] OffsetsByPartition stale_offsets(const OffsetsByPartition& log_end, const OffsetsByPartition& stored);

// --until-end: every partition of the topic (whoever consumed it) has its
// stored offset at or past its log end as of start. A partition without a
// stored offset counts from its log start (an empty one is reached); one whose
// offset was stale at start is not reached while it is still that offset.
[[nodiscard]] bool reached_log_end(const OffsetsByPartition& log_end, const OffsetsByPartition& log_start,
                                   const OffsetsByPartition& stale_at_start, const OffsetsByPartition& stored);

} // namespace foodpipe::pipeline
